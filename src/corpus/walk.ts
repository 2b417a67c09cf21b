import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeReadError, type ReportIssue } from './issues.js';

/**
 * Lists the files of a corpus: `root` itself when it is a file, else every file below it, depth first,
 * entries of each directory sorted by name (UTF-16 code units, independent of locale), so the order is
 * the same on every machine. Names starting with "." are skipped below the root. Symbolic links are
 * followed (directory cycles are cut); a broken link is yielded like a file, so its reader reports it.
 * Unreadable directories and special files (FIFOs, sockets, devices) are reported and skipped.
 *
 * Throws when `root` itself does not exist or cannot be accessed: that is a usage error, not bad data.
 */
export async function* walkCorpus(root: string, report: ReportIssue): AsyncGenerator<string> {
  let st: Stats;
  try {
    st = await stat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`Corpus path does not exist: ${root}`);
    throw new Error(`Cannot access corpus path ${root}: ${(err as Error).message}`);
  }
  if (st.isDirectory()) {
    yield* walkDirectory(root, report, [dirKey(st)]);
  } else if (st.isFile()) {
    yield root;
  } else {
    report({ source: root, reason: 'not a regular file or directory' });
  }
}

function dirKey(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** `ancestors`: the directories on the current path, to stop symlink cycles. */
async function* walkDirectory(dir: string, report: ReportIssue, ancestors: string[]): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const reason = (await describeReadError(dir, err)).replace('cannot read', 'cannot read directory');
    report({ source: dir, reason });
    return;
  }
  entries.sort(byName);
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isFile()) {
      yield path;
      continue;
    }
    if (!entry.isDirectory() && !entry.isSymbolicLink()) {
      report({ source: path, reason: 'not a regular file' });
      continue;
    }
    let st: Stats;
    try {
      st = await stat(path);
    } catch {
      yield path; // broken link or vanished entry: the reader reports why it cannot be read
      continue;
    }
    if (st.isDirectory()) {
      const key = dirKey(st);
      if (ancestors.includes(key)) {
        report({ source: path, reason: 'symbolic link cycle: directory already being read' });
        continue;
      }
      yield* walkDirectory(path, report, [...ancestors, key]);
    } else if (st.isFile()) {
      yield path;
    } else {
      report({ source: path, reason: 'not a regular file' });
    }
  }
}
