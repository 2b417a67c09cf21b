/**
 * Runs the demo's per-method jobs: one after the other in this process, or `parallel` at a time, each in a
 * child process of its own (method-worker.ts). Children are processes, not worker threads, because the native
 * kernels keep one thread pool (and OpenBLAS its buffers) per process. On the 2-core machine the demo took 488 s
 * with two methods side by side on one thread each, 586 s one after the other on two threads (the small GEMMs
 * of these models split poorly), with the same numbers; the TypeScript kernels use one thread anyway.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runMethodJob, type MethodIo, type MethodJob, type MethodOutcome } from './method-job.js';

export interface RunJobsOptions extends MethodIo {
  parallel: number;
}

/** Messages from a child (method-worker.ts). */
export type WorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'progress'; text: string }
  | { type: 'done'; outcome: MethodOutcome }
  | { type: 'error'; message: string };

/** Messages to a child. */
export type ParentMessage = { type: 'job'; job: MethodJob } | { type: 'abort' };

/** Outcomes in job order; after an interruption, the jobs not started have an empty outcome. */
export async function runMethodJobs(
  jobs: readonly MethodJob[],
  options: RunJobsOptions,
): Promise<MethodOutcome[]> {
  const outcomes: MethodOutcome[] = jobs.map(() => ({}));
  if (options.parallel <= 1 || jobs.length <= 1) {
    for (const [i, job] of jobs.entries()) {
      if (options.signal?.aborted) break;
      outcomes[i] = await runMethodJob(job, options);
      if (!outcomes[i]!.row) break;
    }
    return outcomes;
  }
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length && !options.signal?.aborted) {
      const i = next++;
      outcomes[i] = await runInChild(jobs[i]!, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel, jobs.length) }, lane));
  return outcomes;
}

/** The child's entry: the compiled .js beside this file, or the .ts source under tsx (tests, bench). */
function workerEntry(): { file: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  const fromSource = self.endsWith('.ts');
  return {
    file: self.replace(/run-method-jobs\.(ts|js)$/, `method-worker.${fromSource ? 'ts' : 'js'}`),
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  };
}

function runInChild(job: MethodJob, options: RunJobsOptions): Promise<MethodOutcome> {
  const { file, execArgv } = workerEntry();
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const prefix = `[${job.method}] `;
  return new Promise<MethodOutcome>((resolve, reject) => {
    let settled = false;
    const onAbort = () => child.connected && child.send({ type: 'abort' } satisfies ParentMessage);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (error: Error | undefined, outcome?: MethodOutcome) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (child.connected) child.disconnect();
      if (error) reject(error);
      else resolve(outcome ?? {});
    };
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'log') options.log(message.line);
      else if (message.type === 'progress')
        (options.progressStream ?? process.stderr).write(prefix + message.text);
      else if (message.type === 'done') finish(undefined, message.outcome);
      else finish(new Error(`demo ${job.stage}: ${message.message}`));
    });
    child.on('error', (error) => finish(new Error(`demo ${job.stage}: ${error.message}`)));
    child.on('exit', (code, signal) => {
      // Killed by the terminal's Ctrl-C with the parent: an interruption, resumable like any other.
      if (options.signal?.aborted) finish(undefined, {});
      else finish(new Error(`demo ${job.stage}: the worker process exited (${signal ?? `code ${code}`})`));
    });
    child.send({ type: 'job', job } satisfies ParentMessage);
    if (options.signal?.aborted) onAbort();
  });
}
