/**
 * What a finished demo folder says about why its methods score as they do (the figures in bench/RESULTS.md):
 * per method, how densely its study data states the facts (mentions of a person's six values, and of their
 * name, per 1k cl100k tokens of their records), held-out accuracy by attribute, and how many wrong held-out
 * answers are the asked person's own name (a format failure, not a knowledge gap).
 *
 * Usage: npx tsx bench/demo-diagnostics.ts DEMO_OUT_DIR
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DemoSettings } from '../src/demo/demo-types.js';
import { tiktokenCounter } from '../src/models/tiktoken-counter.js';
import { factsOf } from '../src/world/facts.js';
import { buildWorld, type Person } from '../src/world/world.js';

async function jsonl<T>(file: string): Promise<T[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

const occurrences = (text: string, needle: string) => text.split(needle).length - 1;

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: demo-diagnostics.ts DEMO_OUT_DIR');
  const settings = JSON.parse(
    await fs.readFile(path.join(out, 'demo-settings.json'), 'utf8'),
  ) as DemoSettings;
  const world = buildWorld({ people: settings.size.people, seed: settings.seed });
  const people = new Map<string, Person>(world.people.map((p) => [p.id, p]));
  const counter = tiktokenCounter();
  for (const method of settings.methods) {
    const shardDir = path.join(out, 'study', method, 'study');
    let tokens = 0;
    let factMentions = 0;
    let nameMentions = 0;
    for (const shard of (await fs.readdir(shardDir)).filter((f) => f.endsWith('.jsonl'))) {
      type Row = { response: { text: string }; metadata: { doc_id: string } };
      for (const record of await jsonl<Row>(path.join(shardDir, shard))) {
        const person = people.get(record.metadata.doc_id);
        if (!person) throw new Error(`${shard}: doc_id ${record.metadata.doc_id} is no person of this world`);
        const text = record.response.text;
        tokens += counter.count(text);
        for (const value of Object.values(factsOf(person, world))) factMentions += occurrences(text, value);
        nameMentions += occurrences(text, person.name);
      }
    }
    const evalDir = path.join(out, 'eval', method, 'heldout');
    const answers = await jsonl<{ id: string; answer: string }>(path.join(evalDir, 'answers.jsonl'));
    const grades = new Map(
      (await jsonl<{ id: string; verdict: string }>(path.join(evalDir, 'grades.jsonl'))).map((g) => [
        g.id,
        g.verdict,
      ]),
    );
    const byAttribute = new Map<string, [number, number]>();
    let wrong = 0;
    let ownName = 0;
    for (const a of answers) {
      const [personId = '', attribute = ''] = a.id.split(':');
      const tally = byAttribute.get(attribute) ?? [0, 0];
      tally[1]++;
      if (grades.get(a.id) === 'correct') tally[0]++;
      else {
        wrong++;
        if (a.answer.trim() === people.get(personId)?.name) ownName++;
      }
      byAttribute.set(attribute, tally);
    }
    const per1k = (n: number) => ((1000 * n) / tokens).toFixed(1);
    console.log(
      `${method}: ${tokens} study tokens; per 1k tokens ${per1k(factMentions)} fact mentions, ${per1k(nameMentions)} name mentions`,
    );
    console.log(
      `  held-out % correct by attribute: ${[...byAttribute].map(([k, [c, n]]) => `${k} ${((100 * c) / n).toFixed(0)}`).join(', ')}`,
    );
    console.log(`  wrong held-out answers: ${wrong}, of which the asked person's own name: ${ownName}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
