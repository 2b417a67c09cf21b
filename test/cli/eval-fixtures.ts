/**
 * Fixtures for the eval, compare and qa CLI tests: a scripted model that answers the answer prompts from a
 * table and plays the SimpleQA judge from another, QA files, and helpers to run the built CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ChatCompletionRequestBody, ScriptedReply } from '../helpers/scripted-server.js';

/** The built CLI, exactly as users run it (npm test builds dist/ first). */
export const CLI = path.resolve('dist/cli/main.js');

export async function requireCli(): Promise<void> {
  await fs.access(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** For commands that make no request to a server living in this process. */
export function cliSync(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OPENAI_BASE_URL: '', OPENAI_API_KEY: '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the CLI asynchronously (the scripted server lives in this process, so spawnSync would deadlock). */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, OPENAI_BASE_URL: '', OPENAI_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export interface QaFixtureItem {
  id: string;
  question: string;
  answer: string;
  doc_id?: string;
  chunk_index?: number;
  title?: string;
}

export async function writeQaFile(file: string, items: readonly QaFixtureItem[]): Promise<string> {
  await fs.writeFile(file, items.map((i) => JSON.stringify(i)).join('\n') + '\n');
  return file;
}

export const JUDGE_MARK = 'Your job is to look at a question, a gold target, and a predicted answer';

/** The question of an answer prompt (the last "Question: ..." line before the final "Answer:"). */
export function askedQuestion(body: ChatCompletionRequestBody): string {
  const user = body.messages.map((m) => m.content ?? '').join('\n');
  return /Question: ([^\n]*)\nAnswer:\s*$/.exec(user)?.[1] ?? '';
}

/** The question, gold and predicted answer of a judge prompt. */
export function judgedItem(body: ChatCompletionRequestBody): {
  question: string;
  gold: string;
  predicted: string;
} {
  const user = body.messages.map((m) => m.content ?? '').join('\n');
  const m = /Question: ([^\n]*)\nGold target: ([^\n]*)\nPredicted answer: ([^\n]*)\n```/.exec(user);
  return { question: m?.[1] ?? '', gold: m?.[2] ?? '', predicted: m?.[3] ?? '' };
}

/**
 * A scripted model for eval: answer prompts get `answers[question]` (default: "I don't know"), judge prompts
 * get `verdicts[question]` (default: "A" when the predicted answer equals the gold, else "B").
 */
export function evalResponder(
  answers: Record<string, string>,
  verdicts: Record<string, string> = {},
): (body: ChatCompletionRequestBody) => ScriptedReply {
  return (body) => {
    const user = body.messages.map((m) => m.content ?? '').join('\n');
    if (user.includes(JUDGE_MARK)) {
      const { question, gold, predicted } = judgedItem(body);
      return { text: verdicts[question] ?? (predicted === gold ? 'A' : 'B'), completionTokens: 1 };
    }
    const question = askedQuestion(body);
    return { text: answers[question] ?? "I don't know", completionTokens: 4 };
  };
}

/** `n` made-up questions (answers not knowable without the fixture) over two documents. */
export function manyItems(n: number): QaFixtureItem[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `q${i}`,
    question: `What is the code name of project number ${i}?`,
    answer: `Falcon ${i}`,
    doc_id: i % 2 ? 'doc-odd' : 'doc-even',
  }));
}

/** Answers for `manyItems`: every third one wrong. */
export function manyAnswers(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    out[`What is the code name of project number ${i}?`] = i % 3 === 0 ? `Eagle ${i}` : `Falcon ${i}`;
  }
  return out;
}

export async function readJsonlFile<T>(file: string): Promise<T[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Polls a JSONL file until it holds `count` lines. */
export async function waitForLines(file: string, count: number, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (Date.now() > deadline) throw new Error(`${file} did not reach ${count} lines in ${timeoutMs} ms`);
    const lines = await fs.readFile(file, 'utf8').then(
      (t) => t.split('\n').length - 1,
      () => 0,
    );
    if (lines >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
