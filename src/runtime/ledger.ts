/** Prices in US dollars per million tokens. */
export interface TokenPrices {
  inputPerMillion: number;
  outputPerMillion: number;
}

export interface LedgerEntry {
  requests: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  /** Present only when prices were given. Cache hits cost nothing. */
  costUsd?: number;
}

/**
 * Tokens (and cost) per method. Only real requests are billed; cache hits are counted separately so a
 * resumed or repeated run shows what it actually paid.
 */
export class TokenLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  constructor(
    private readonly prices?: TokenPrices,
    initial?: Record<string, LedgerEntry>,
  ) {
    for (const [method, entry] of Object.entries(initial ?? {})) this.entries.set(method, { ...entry });
  }

  private entry(method: string): LedgerEntry {
    let entry = this.entries.get(method);
    if (!entry) {
      entry = { requests: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0 };
      if (this.prices) entry.costUsd = 0;
      this.entries.set(method, entry);
    }
    return entry;
  }

  recordRequest(method: string, promptTokens: number, completionTokens: number): void {
    const entry = this.entry(method);
    entry.requests++;
    entry.promptTokens += promptTokens;
    entry.completionTokens += completionTokens;
    if (this.prices) {
      entry.costUsd =
        (entry.costUsd ?? 0) +
        (promptTokens * this.prices.inputPerMillion + completionTokens * this.prices.outputPerMillion) / 1e6;
    }
  }

  recordCacheHit(method: string): void {
    this.entry(method).cacheHits++;
  }

  get totalRequests(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.requests;
    return n;
  }

  toJSON(): Record<string, LedgerEntry> {
    return Object.fromEntries([...this.entries].sort(([a], [b]) => a.localeCompare(b)));
  }
}
