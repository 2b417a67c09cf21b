/**
 * vitest globalSetup: every test run gets one temporary root (TMPDIR, which os.tmpdir() and the child
 * processes of tests read), removed when the run ends, so temporary folders a test leaves behind (after a
 * failure, or a child process killed on purpose) do not pile up in the system's /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'active-reading-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
