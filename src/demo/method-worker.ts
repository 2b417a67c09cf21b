/**
 * Child-process entry of a demo method job (run-method-jobs.ts): receives one job over IPC, runs it, and sends
 * back its log lines, its progress lines and its outcome. Ctrl-C in the terminal reaches this process too; it
 * then stops after the current step, like the parent.
 */
import { runMethodJob } from './method-job.js';
import type { ParentMessage, WorkerMessage } from './run-method-jobs.js';

const controller = new AbortController();
const send = (message: WorkerMessage) => {
  if (process.connected) process.send?.(message);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => controller.abort());

process.on('message', (message: ParentMessage) => {
  if (message.type === 'abort') {
    controller.abort();
    return;
  }
  runMethodJob(message.job, {
    signal: controller.signal,
    log: (line) => send({ type: 'log', line }),
    // Plain lines (not a redrawn bar): the parent prefixes each with the method.
    progressStream: { write: (text: string) => (send({ type: 'progress', text }), true), isTTY: false },
  })
    .then((outcome) => send({ type: 'done', outcome }))
    .catch((error: unknown) => send({ type: 'error', message: (error as Error).message ?? String(error) }))
    .finally(() => process.disconnect?.());
});
