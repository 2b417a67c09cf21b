import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestCorpus } from '../../src/corpus/ingest.js';
import { importQaJsonl } from '../../src/eval/qa-sets/plain-jsonl.js';
import { writeQaJsonl } from '../../src/eval/qa-sets/write.js';
import { factsOf } from '../../src/world/facts.js';
import { renderDocument, writeWorldCorpus } from '../../src/world/documents.js';
import {
  buildQaSet,
  EVAL_QUESTION_TEMPLATES,
  guessingAccuracy,
  trainingQaText,
  type WorldQaItem,
} from '../../src/world/qa.js';
import { ATTRIBUTES, buildWorld } from '../../src/world/world.js';

const count = (text: string, word: string) => (text.match(new RegExp(`\\b${word}\\b`, 'g')) ?? []).length;

describe('buildWorld', () => {
  it('is a function of the seed', () => {
    const a = buildWorld({ people: 200, seed: 7 });
    expect(buildWorld({ people: 200, seed: 7 })).toEqual(a);
    const b = buildWorld({ people: 200, seed: 8 });
    expect(b.people.map((p) => p.name)).not.toEqual(a.people.map((p) => p.name));
  });

  it('gives unique, two-word names that share no word with any entity', () => {
    const world = buildWorld({ people: 2000, seed: 3 });
    const names = world.people.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    const entityWords = new Set(
      [...world.cities, ...world.universities, ...world.companies].flatMap((e) => e.name.split(' ')),
    );
    for (const p of world.people) {
      expect(p.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(entityWords.has(p.firstName) || entityWords.has(p.lastName)).toBe(false);
    }
    const entityNames = [...world.cities, ...world.universities, ...world.companies].map((e) => e.name);
    expect(new Set(entityNames).size).toBe(entityNames.length);
  });

  it('has shared entities, valid dates and a pronoun per person', () => {
    const world = buildWorld({ people: 120, seed: 1 });
    expect(world.cities.length).toBeLessThan(world.people.length / 3);
    expect(world.companies.length).toBeLessThan(world.people.length / 3);
    const employers = new Set(world.people.map((p) => p.employerId));
    expect(employers.size).toBeLessThan(world.people.length);
    for (const p of world.people) {
      const { day, month, year } = p.birthDate;
      expect(year).toBeGreaterThanOrEqual(1900);
      expect(year).toBeLessThanOrEqual(2000);
      expect(new Date(Date.UTC(year, month - 1, day)).getUTCDate()).toBe(day);
      expect(p.pronouns.subject).toBe(p.gender === 'female' ? 'she' : 'he');
    }
    expect(new Set(world.people.map((p) => p.gender)).size).toBe(2);
  });

  it('makes the employer city a property of the company', () => {
    const world = buildWorld({ people: 100, seed: 2 });
    const cityOf = new Map<string, string>();
    for (const p of world.people) {
      const f = factsOf(p, world);
      expect(cityOf.get(f.employer) ?? f.employer_city).toBe(f.employer_city);
      cityOf.set(f.employer, f.employer_city);
    }
  });
});

describe('documents', () => {
  const world = buildWorld({ people: 50, seed: 4 });

  it('name the subject exactly once, then pronouns, and state every fact', () => {
    for (const person of world.people) {
      const doc = renderDocument(person, world);
      expect(doc.doc_id).toBe(person.id);
      expect(doc.title).toBe(person.name);
      expect(doc.text.startsWith(person.name)).toBe(true);
      expect(count(doc.text, person.name)).toBe(1);
      expect(count(doc.text, person.firstName)).toBe(1);
      expect(count(doc.text, person.lastName)).toBe(1);
      for (const value of Object.values(factsOf(person, world))) expect(doc.text).toContain(value);
    }
  });

  it('use fixed templates: two people differ only in names, facts and pronouns', () => {
    const skeleton = (i: number) => {
      const person = world.people[i]!;
      let text = renderDocument(person, world).text.replace(person.name, 'NAME');
      for (const v of Object.values(factsOf(person, world))) text = text.replace(v, 'X');
      return text.replace(/\b(She|He|Her|His)\b/g, 'P');
    };
    expect(skeleton(1)).toBe(skeleton(0));
  });

  it('form a JSONL corpus whose chunks carry the person id and name, one chunk each', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'world-corpus-'));
    const file = await writeWorldCorpus(dir, world);
    const { chunks } = ingestCorpus(file);
    const got = [];
    for await (const chunk of chunks) got.push(chunk);
    expect(got.map((c) => c.doc_id)).toEqual(world.people.map((p) => p.id));
    for (const [i, c] of got.entries()) {
      const person = world.people[i]!;
      expect(c.title).toBe(person.name);
      expect(c.total_chunks).toBe(1);
      expect(c.text).toBe(`${person.name}\n${renderDocument(person, world).text}`);
    }
  });
});

describe('buildQaSet', () => {
  const world = buildWorld({ people: 40, seed: 5 });

  it('asks one question per person and attribute, answered with the world facts', () => {
    const items = buildQaSet(world, { seed: 1 });
    expect(items).toHaveLength(40 * ATTRIBUTES.length);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    for (const item of items) {
      const person = world.people.find((p) => p.id === item.doc_id)!;
      expect(item.answer).toBe(factsOf(person, world)[item.attribute]);
      expect(item.question).toBe(EVAL_QUESTION_TEMPLATES[item.attribute].replace('{name}', person.name));
      expect(item.metadata).toEqual({ split: item.split, attribute: item.attribute, person: person.id });
    }
    const date = items.find((i) => i.attribute === 'birth_date')!.answer;
    expect(date).toMatch(/^\d{1,2} [A-Z][a-z]+ \d{4}$/);
  });

  it('words the questions of different attributes apart by more than one word', () => {
    const words = (t: string) => t.toLowerCase().replace(/[?]/g, '').split(/\s+/);
    const templates = Object.values(EVAL_QUESTION_TEMPLATES).map(words);
    for (const [i, a] of templates.entries()) {
      for (const b of templates.slice(i + 1)) {
        if (a.length !== b.length) continue;
        expect(a.filter((w, k) => w !== b[k]).length, `${a.join(' ')} / ${b.join(' ')}`).toBeGreaterThan(1);
      }
    }
  });

  it('scores guessing the most common train answer per attribute on the held-out people', () => {
    const item = (split: 'train' | 'heldout', attribute: 'birth_city' | 'major', answer: string) =>
      ({ split, attribute, answer }) as WorldQaItem;
    const items = [
      item('train', 'birth_city', 'Elvgate'),
      item('train', 'birth_city', 'Elvgate'),
      item('train', 'birth_city', 'Tirburg'),
      item('train', 'major', 'Physics'),
      item('heldout', 'birth_city', 'Elvgate'), // guessed right
      item('heldout', 'birth_city', 'Tirburg'),
      item('heldout', 'major', 'Physics'), // guessed right
      item('heldout', 'major', 'Geology'),
      item('heldout', 'birth_city', 'Physics'), // another attribute's guess does not count
    ];
    expect(guessingAccuracy(items)).toBeCloseTo(2 / 5);
    const real = guessingAccuracy(buildQaSet(world, { seed: 1 }));
    expect(real).toBeGreaterThan(0);
    expect(real).toBeLessThan(0.5);
  });

  it('splits people (not questions) by a seeded shuffle', () => {
    const items = buildQaSet(world, { seed: 1 });
    const split = new Map<string, string>();
    for (const i of items) {
      expect(split.get(i.doc_id) ?? i.split).toBe(i.split);
      split.set(i.doc_id, i.split);
    }
    expect([...split.values()].filter((s) => s === 'heldout')).toHaveLength(20);
    expect(buildQaSet(world, { seed: 1 })).toEqual(items);
    expect(buildQaSet(world, { seed: 2 }).map((i) => i.split)).not.toEqual(items.map((i) => i.split));
    const quarter = buildQaSet(world, { seed: 1, heldOutShare: 0.25 });
    expect(quarter.filter((i) => i.split === 'heldout')).toHaveLength(10 * ATTRIBUTES.length);
  });

  it('renders the train split as training text and survives the QA JSONL format', async () => {
    const items = buildQaSet(world, { seed: 1 });
    const texts = trainingQaText(items);
    expect(texts).toHaveLength(20 * ATTRIBUTES.length);
    const first = items.find((i) => i.split === 'train')!;
    expect(texts[0]).toBe(`Question: ${first.question}\nAnswer: ${first.answer}`);
    for (const i of items.filter((x) => x.split === 'heldout')) {
      expect(texts.some((t) => t.includes(i.question))).toBe(false);
    }
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'world-qa-')), 'qa.jsonl');
    await writeQaJsonl(file, items);
    const back = await importQaJsonl(file);
    expect(back.problems).toEqual([]);
    expect(back.items[0]?.metadata).toEqual(items[0]?.metadata);
  });
});
