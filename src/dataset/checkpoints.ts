import { forEachRecord } from './shards.js';

export interface TokenCheckpoint {
  /** Generated (training) tokens of this method up to here, in file order. */
  tokens: number;
  /** How many of this method's records (in file order) hold those tokens: train on the first `records`. */
  records: number;
}

/**
 * Checkpoints for accuracy-vs-tokens curves, derived from the records themselves (so they are right even
 * after kill -9): for each method, the record count at which the running token total first reaches each
 * of `steps` evenly spaced thresholds of `target` (the budget, or the final total when there is none).
 */
export async function computeCheckpoints(
  studyDir: string,
  targets: Map<string, number | undefined>,
  steps = 10,
): Promise<Record<string, TokenCheckpoint[]>> {
  const running = new Map<
    string,
    { tokens: number; records: number; next: number; out: TokenCheckpoint[] }
  >();
  const totals = new Map<string, number>();
  await forEachRecord(studyDir, (r) => {
    totals.set(r.metadata.method, (totals.get(r.metadata.method) ?? 0) + r.stats.completion_tokens);
  });
  const thresholdsOf = (method: string) => {
    const target = targets.get(method) ?? totals.get(method) ?? 0;
    return Array.from({ length: steps }, (_, i) => Math.ceil((target * (i + 1)) / steps));
  };
  const thresholds = new Map([...totals.keys()].map((m) => [m, thresholdsOf(m)]));
  await forEachRecord(studyDir, (r) => {
    const method = r.metadata.method;
    const state = running.get(method) ?? { tokens: 0, records: 0, next: 0, out: [] };
    running.set(method, state);
    state.tokens += r.stats.completion_tokens;
    state.records++;
    const marks = thresholds.get(method) ?? [];
    while (state.next < marks.length && state.tokens >= (marks[state.next] as number)) {
      state.out.push({ tokens: state.tokens, records: state.records });
      state.next++;
    }
  });
  const result: Record<string, TokenCheckpoint[]> = {};
  for (const [method, state] of [...running].sort(([a], [b]) => a.localeCompare(b))) {
    const last = state.out.at(-1);
    // Always end with the full total, even when the budget was not reached.
    if (!last || last.records !== state.records)
      state.out.push({ tokens: state.tokens, records: state.records });
    result[method] = dedupe(state.out);
  }
  return result;
}

function dedupe(points: TokenCheckpoint[]): TokenCheckpoint[] {
  return points.filter((p, i) => i === 0 || p.records !== points[i - 1]?.records);
}
