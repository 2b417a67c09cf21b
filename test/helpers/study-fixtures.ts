import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StudyRecord } from '../../src/dataset/record.js';
import { forEachRecord } from '../../src/dataset/shards.js';
import type { StudyManifest } from '../../src/study/manifest.js';

export async function tempDir(prefix = 'ar-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

const PEOPLE = [
  ['Ada Lovelace', 'London', 1815, 'the Analytical Engine', 'Charles Babbage'],
  ['Alan Turing', 'Maida Vale', 1912, 'the Bombe', 'Gordon Welchman'],
  ['Grace Hopper', 'New York City', 1906, 'the Harvard Mark I', 'Howard Aiken'],
  ['Edsger Dijkstra', 'Rotterdam', 1930, 'the THE operating system', 'Tony Hoare'],
  ['Barbara Liskov', 'Los Angeles', 1939, 'the CLU language', 'John Guttag'],
] as const;

function bio(i: number): { title: string; text: string } {
  const [name, city, year, work, colleague] = PEOPLE[i % PEOPLE.length] as (typeof PEOPLE)[number];
  const text = [
    `${name} was born in ${city} in ${year}. She or he became known for work on ${work}.`,
    `Early in the career, ${name.split(' ')[0]} worked with ${colleague} on several projects. The collaboration lasted many years and produced papers that are still cited.`,
    `Later, ${name.split(' ')[1]} received many honours. A building in ${city} carries the name today.`,
  ].join('\n\n');
  return { title: name, text };
}

/** A small mixed corpus: a .txt, a .md, and a .jsonl with two documents. */
export async function writeSmallCorpus(dir: string): Promise<string> {
  const corpus = path.join(dir, 'corpus');
  await fs.mkdir(corpus, { recursive: true });
  await fs.writeFile(path.join(corpus, 'ada-lovelace.txt'), bio(0).text);
  await fs.writeFile(path.join(corpus, 'turing.md'), `# Alan Turing\n\n${bio(1).text}`);
  const lines = [2, 3].map((i) => JSON.stringify({ title: bio(i).title, text: bio(i).text }));
  await fs.writeFile(path.join(corpus, 'more.jsonl'), `${lines.join('\n')}\n`);
  return corpus;
}

/** A JSONL corpus of `n` biographies (ids given), for larger runs. */
export async function writeJsonlCorpus(dir: string, n: number): Promise<string> {
  const file = path.join(dir, 'corpus.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const { title, text } = bio(i);
    lines.push(
      JSON.stringify({ id: `doc-${i}`, title: `${title} (${i})`, text: `${text}\n\nRecord number ${i}.` }),
    );
  }
  await fs.writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

export async function readRecords(runDir: string): Promise<StudyRecord[]> {
  const out: StudyRecord[] = [];
  await forEachRecord(path.join(runDir, 'study'), (r) => out.push(r));
  return out;
}

export async function readManifestFile(runDir: string): Promise<StudyManifest> {
  return JSON.parse(await fs.readFile(path.join(runDir, 'manifest.json'), 'utf8')) as StudyManifest;
}

export async function readJsonl<T>(file: string): Promise<T[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export function keyOf(r: StudyRecord): string {
  const m = r.metadata;
  return [m.method, m.doc_id, m.chunk_index, m.rep, m.strategy].join('|');
}

/** All file contents under a directory, concatenated (for secret scans). */
export async function readTree(dir: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else parts.push(await fs.readFile(p, 'utf8'));
    }
  };
  await walk(dir);
  return parts.join('\n');
}
