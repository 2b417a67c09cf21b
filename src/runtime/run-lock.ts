import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One process per run directory: two writers appending to the same shards would duplicate records.
 * The lock file holds the owner's pid; a lock left by a process that no longer exists (kill -9, power
 * loss) is taken over, so a crash never blocks the resume.
 */
export class RunLock {
  private constructor(private readonly file: string) {}

  static acquire(runDir: string): RunLock {
    const file = path.join(runDir, '.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(
          fd,
          JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }),
        );
        closeSync(fd);
        return new RunLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = readOwner(file);
      if (owner && owner.host === os.hostname() && isAlive(owner.pid)) {
        throw new Error(
          `${runDir} is in use by another active-reading process (pid ${owner.pid}); wait for it to finish or stop it`,
        );
      }
      unlinkSync(file); // stale: its owner is gone
    }
    throw new Error(`could not lock ${runDir}`);
  }

  release(): void {
    try {
      unlinkSync(this.file);
    } catch {
      /* already gone */
    }
  }
}

function readOwner(file: string): { pid: number; host: string } | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; host?: unknown };
    return typeof owner.pid === 'number' && typeof owner.host === 'string'
      ? { pid: owner.pid, host: owner.host }
      : undefined;
  } catch {
    return undefined; // torn or foreign content: treat as stale
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
