import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** A fresh temporary directory for each test: `path` names a file in it, `file` writes one there. */
export function useTempDir() {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qa-sets-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const path = (name: string) => join(dir, name);
  const file = async (name: string, content: string | Uint8Array) => {
    await writeFile(path(name), content);
    return path(name);
  };
  return { path, file };
}

export function jsonl(records: unknown[]): string {
  return records.map((record) => JSON.stringify(record)).join('\n') + '\n';
}
