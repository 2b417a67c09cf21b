/**
 * The raw material: one short encyclopedic biography per person. It reads like a real one on purpose:
 * the subject is named once (first sentence), then only pronouns, the facts always in the same order
 * and the same sentences. A bio that repeats the name in every sentence is already an augmentation
 * (it ties each fact to the name) and would hide the effect the study methods are measured on.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { factsOf } from './facts.js';
import { capitalize } from './text.js';
import type { Person, World } from './world.js';

export interface WorldDocument {
  /** The person's id. */
  doc_id: string;
  /** The person's full name. */
  title: string;
  text: string;
}

export function renderDocument(person: Person, world: World): WorldDocument {
  const f = factsOf(person, world);
  const { subject: he, possessive: his } = person.pronouns;
  const text = [
    `${person.name} was born on ${f.birth_date}.`,
    `${capitalize(he)} was born in the city of ${f.birth_city}.`,
    `${capitalize(he)} attended ${f.university}.`,
    `${capitalize(his)} field of study was ${f.major}.`,
    `${capitalize(he)} worked for ${f.employer}.`,
    `${capitalize(he)} worked in ${f.employer_city}, where the company is based.`,
  ].join(' ');
  return { doc_id: person.id, title: person.name, text };
}

/** The corpus file `writeWorldCorpus` writes inside its folder. */
export const WORLD_CORPUS_FILE = 'people.jsonl';

/**
 * Writes the world's documents as one JSONL corpus, `DIR/people.jsonl`, one line per person
 * `{"id": person id, "title": full name, "text": biography}`: JSONL is the reader format that keeps the
 * given id, so `study --corpus` chunks carry doc_id = person id and title = name (a .md/.txt file would get
 * a content hash as id). Each biography is ~70 tokens: one chunk at the default 512. Returns the file.
 */
export async function writeWorldCorpus(dir: string, world: World): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const lines = world.people.map((p) => {
    const { doc_id, title, text } = renderDocument(p, world);
    return JSON.stringify({ id: doc_id, title, text });
  });
  const file = path.join(dir, WORLD_CORPUS_FILE);
  await fs.writeFile(file, `${lines.join('\n')}\n`);
  return file;
}
