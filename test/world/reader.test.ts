import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRequestError } from '../../src/models/errors.js';
import { tiktokenCounter } from '../../src/models/tiktoken-counter.js';
import type { ChatMessage } from '../../src/models/types.js';
import { PARAPHRASE_STYLES } from '../../src/study/methods.js';
import { parseStrategies } from '../../src/study/parse-strategies.js';
import { loadTemplates, renderTemplate, type TemplateName } from '../../src/study/templates.js';
import { renderDocument } from '../../src/world/documents.js';
import { factsOf, peopleNamedIn } from '../../src/world/facts.js';
import { FORM_KINDS } from '../../src/world/forms.js';
import { EVAL_QUESTION_TEMPLATES, evalQuestion } from '../../src/world/qa.js';
import { createSimulatedReader, SIMULATION_NOTICE } from '../../src/world/simulated-reader.js';
import { formOfStrategy } from '../../src/world/strategies.js';
import { ATTRIBUTES, buildWorld, type Person } from '../../src/world/world.js';
import { checkFacts } from './fact-check.js';

const world = buildWorld({ people: 12, seed: 11 });
const templates = loadTemplates();
const reader = createSimulatedReader(world, { seed: 3 });
const chunkOf = (p: Person) => `${p.name}\n${renderDocument(p, world).text}`;
const prompt = (name: TemplateName, vars: Record<string, string>): ChatMessage[] =>
  renderTemplate(templates[name], vars);
const ask = async (
  messages: ChatMessage[],
  seed = 1,
  extra: { temperature?: number; maxTokens?: number } = {},
) => reader.generate({ messages, seed, ...extra });

/** Every prompt the study engine sends for one person's document, with a few seeds each. */
async function allOutputs(person: Person): Promise<string[]> {
  const document = chunkOf(person);
  const facts = factsOf(person, world);
  const requests: ChatMessage[][] = [
    prompt('ar-strategies', { document }),
    prompt('ar-task-strategies', { document, task: 'a trivia competition' }),
    prompt('qa', { document }),
    prompt('entigraph-entities', { document }),
    prompt('entigraph-relation', { document, entity_a: person.name, entity_b: facts.university }),
    prompt('entigraph-relation', { document, entity_a: facts.employer, entity_b: facts.employer_city }),
    ...PARAPHRASE_STYLES.map((style) => prompt('paraphrase', { document, style })),
    ...FORM_KINDS.map((kind) => prompt('ar-apply', { document, strategy: `${kind}\nApply it.` })),
  ];
  const out: string[] = [];
  for (const messages of requests) {
    for (const seed of [1, 2, 3]) out.push((await ask(messages, seed)).text);
  }
  return out;
}

describe('the simulated reader', () => {
  it('never writes an eval question wording', async () => {
    const prefixes = Object.values(EVAL_QUESTION_TEMPLATES).map((t) => t.split('{name}')[0]!.toLowerCase());
    for (const person of world.people) {
      const questions = world.people.flatMap((p) => ATTRIBUTES.map((a) => evalQuestion(a, p.name)));
      for (const text of await allOutputs(person)) {
        const lower = text.toLowerCase();
        for (const q of questions) expect(text).not.toContain(q);
        for (const prefix of prefixes) expect(lower).not.toContain(prefix);
      }
    }
  });

  it('states only true facts in every output', async () => {
    for (const person of world.people.slice(0, 4)) {
      for (const text of await allOutputs(person))
        expect(checkFacts(text, person, world).falseValues).toEqual([]);
    }
  });

  it('writes 4-8 parseable strategies that vary with the request seed', async () => {
    const messages = prompt('ar-strategies', { document: chunkOf(world.people[0]!) });
    const sets = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const { strategies } = parseStrategies((await ask(messages, seed)).text);
      expect(strategies.length).toBeGreaterThanOrEqual(4);
      expect(strategies.length).toBeLessThanOrEqual(8);
      sets.add(strategies.map((s) => formOfStrategy(s)).join(','));
    }
    expect(sets.size).toBeGreaterThan(5);
    const task = await ask(
      prompt('ar-task-strategies', { document: chunkOf(world.people[0]!), task: 'a quiz' }),
    );
    const parsed = parseStrategies(task.text, { delimiter: true });
    expect(parsed.delimiterFound).toBe(true);
    expect(parsed.questions).toHaveLength(ATTRIBUTES.length);
    expect(parsed.strategies).toHaveLength(ATTRIBUTES.length);
  });

  it('recognises edited strategies by heading or keywords', () => {
    expect(formOfStrategy('Chronological Timeline\nPut events in order.')).toBe('timeline');
    expect(formOfStrategy('## My own flash-card drill\nCards.')).toBe('flashcards');
    expect(formOfStrategy('Something else entirely')).toBe('summary');
  });

  it('applies every strategy form with all facts, naming the person in most fact sentences and nobody else', async () => {
    for (const person of world.people.slice(0, 3)) {
      const facts = factsOf(person, world);
      for (const kind of FORM_KINDS) {
        const { text } = await ask(prompt('ar-apply', { document: chunkOf(person), strategy: kind }));
        for (const a of ATTRIBUTES) expect(text, `${kind}: ${a}`).toContain(facts[a]);
        const check = checkFacts(text, person, world);
        expect(check.namingSubject / check.factSentences, kind).toBeGreaterThanOrEqual(0.7);
        // A real reader sees one chunk: nothing it writes can come from another person's document.
        expect(
          peopleNamedIn(world, text).map((p) => p.id),
          kind,
        ).toEqual([person.id]);
      }
    }
  });

  it('answers its own quiz questions mostly with the value first, not the name', async () => {
    // Answers that all began with the person's name taught the demo models to answer with the name.
    let answers = 0;
    let valueFirst = 0;
    for (const person of world.people.slice(0, 8)) {
      const values = Object.values(factsOf(person, world));
      for (const kind of ['self-test', 'flashcards'] as const) {
        const { text } = await ask(prompt('ar-apply', { document: chunkOf(person), strategy: kind }));
        for (const line of text.split('\n')) {
          const answer = /^(?:A|Back): (.*)$/.exec(line)?.[1];
          if (answer === undefined || answer === person.name) continue;
          answers++;
          if (values.some((v) => answer.startsWith(v))) valueFirst++;
        }
      }
    }
    expect(answers).toBeGreaterThanOrEqual(8 * 2 * ATTRIBUTES.length);
    expect(valueFirst / answers).toBeGreaterThan(0.5);
  });

  it('paraphrases like a document: the name once or twice (every bullet when asked), every fact kept', async () => {
    const person = world.people[1]!;
    for (const style of PARAPHRASE_STYLES) {
      for (const seed of [1, 2, 3]) {
        const { text } = await ask(prompt('paraphrase', { document: chunkOf(person), style }), seed);
        const names = text.split(person.name).length - 1;
        expect(names).toBeGreaterThanOrEqual(1);
        if (/every bullet/.test(style)) {
          const bullets = text.split('\n').filter((l) => l.startsWith('- '));
          expect(bullets).toHaveLength(6);
          for (const b of bullets) expect(b).toContain(person.name);
        } else expect(names).toBeLessThanOrEqual(3);
        for (const v of Object.values(factsOf(person, world))) expect(text).toContain(v);
      }
    }
  });

  it('answers qa with Q/A pairs covering every fact', async () => {
    const person = world.people[2]!;
    const { text } = await ask(prompt('qa', { document: chunkOf(person) }));
    const answers = [...text.matchAll(/^A: (.*)$/gm)].map((m) => m[1]);
    expect(text.match(/^Q: .*\?$/gm)?.length).toBe(answers.length);
    for (const v of Object.values(factsOf(person, world))) expect(answers).toContain(v);
  });

  it('is deterministic in (messages, seed, reader seed); temperature 0 ignores the seed', async () => {
    const messages = prompt('ar-apply', { document: chunkOf(world.people[0]!), strategy: 'summary' });
    const a = await ask(messages, 5);
    expect(await ask(messages, 5)).toEqual(a);
    expect((await ask(messages, 6)).text).not.toBe(a.text);
    const other = createSimulatedReader(world, { seed: 4 });
    expect((await other.generate({ messages, seed: 5 })).text).not.toBe(a.text);
    expect(other.cacheIdentity).not.toBe(reader.cacheIdentity);
    const greedy = await ask(messages, 5, { temperature: 0 });
    expect(await ask(messages, 9, { temperature: 0 })).toEqual(greedy);
  });

  it('counts tokens like tiktoken and honours maxTokens', async () => {
    const messages = prompt('ar-apply', { document: chunkOf(world.people[0]!), strategy: 'flashcards' });
    const full = await ask(messages);
    const counter = tiktokenCounter();
    expect(full.completionTokens).toBe(counter.count(full.text));
    expect(full.promptTokens).toBeGreaterThan(counter.count(messages.at(-1)!.content));
    expect(full.finishReason).toBe('stop');
    const cut = await ask(messages, 1, { maxTokens: 20 });
    expect(cut.finishReason).toBe('length');
    expect(cut.completionTokens).toBeLessThanOrEqual(20);
    expect(full.text.startsWith(cut.text)).toBe(true);
    expect(await reader.countTokens('hello world')).toBe(counter.count('hello world'));
  });

  it('says it is a simulation', () => {
    expect(reader.id).toMatch(/^simulated-reader:/);
    expect(reader.cacheIdentity).toMatch(/^simulated-reader@/);
    expect(SIMULATION_NOTICE).toMatch(/simulat/i);
  });

  it('refuses unknown prompts and documents with a clear, non-retryable error', async () => {
    const unknown = ask([{ role: 'user', content: 'Write a poem about the sea.' }]);
    await expect(unknown).rejects.toThrow(/unrecognised prompt "Write a poem about the sea\./);
    await expect(unknown).rejects.toBeInstanceOf(ModelRequestError);
    await expect(ask(prompt('qa', { document: 'Nobody\nA text about no one.' }))).rejects.toThrow(
      /names no person of world 11/,
    );
  });

  it('recognises the templates of a --prompts override folder', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'world-prompts-'));
    await fs.writeFile(
      path.join(dir, 'qa.txt'),
      '[user]\nTurn the text below into quiz questions.\n\n<document>\n{{document}}\n</document>\n',
    );
    const custom = loadTemplates(dir);
    const overridden = createSimulatedReader(world, { promptsDir: dir });
    const messages = renderTemplate(custom.qa, { document: chunkOf(world.people[0]!) });
    expect((await overridden.generate({ messages, seed: 1 })).text).toMatch(/^Q: /);
    await expect(ask(messages)).rejects.toThrow(/unrecognised prompt/);
  });
});
