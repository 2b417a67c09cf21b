/**
 * The evaluation set: one question per (person, attribute), in wordings used only here (and in the
 * train-split QA documents), never by the simulated reader, so a method cannot pass by having seen the
 * exact test question in its study data. People are split train / held-out by a seeded shuffle: as in
 * Physics of Language Models 3.1, QA of the train people is trained on, held-out people are evaluated.
 */
import type { QaItem } from '../eval/qa-sets/types.js';
import { factsOf } from './facts.js';
import { rngFor, shuffled } from './random.js';
import { ATTRIBUTES, type Attribute, type Person, type World } from './world.js';

/**
 * Eval-only question wordings, `{name}` for the person's full name. No two differ by a single word: with
 * "What is the birth city of X?" beside "What is the birth date of X?" the demo's 3-layer models answered the
 * birth date to the city question, even for train people whose exact QA they had trained on (3 of 40 right at
 * seed 1), so the eval measured telling two near-identical wordings apart rather than knowing the city.
 */
export const EVAL_QUESTION_TEMPLATES: Readonly<Record<Attribute, string>> = {
  birth_date: 'What is the birth date of {name}?',
  birth_city: 'What city does {name} come from?',
  university: 'Which university did {name} attend?',
  major: 'Which field did {name} study?',
  employer: 'Which company did {name} work for?',
  employer_city: 'In which city did {name} work?',
};

export type QaSplit = 'train' | 'heldout';

export interface WorldQaItem extends QaItem {
  doc_id: string;
  title: string;
  split: QaSplit;
  attribute: Attribute;
  /** The same split and attribute, for writers that keep only QaItem fields (writeQaJsonl). */
  metadata: { split: QaSplit; attribute: Attribute; person: string };
}

export interface QaSetOptions {
  /** Share of people held out (evaluated, their QA never trained on). Default 0.5. */
  heldOutShare?: number;
  /** Seed of the split; default: the world's seed. */
  seed?: number;
}

export function evalQuestion(attribute: Attribute, name: string): string {
  return EVAL_QUESTION_TEMPLATES[attribute].replace('{name}', name);
}

/** Which people are held out: the first round(n * share) of a seeded shuffle. */
export function heldOutPeople(world: World, options: QaSetOptions = {}): Set<string> {
  const share = options.heldOutShare ?? 0.5;
  if (!(share >= 0 && share <= 1)) throw new RangeError(`heldOutShare must be in [0, 1], got ${share}`);
  const order = shuffled(rngFor(options.seed ?? world.seed, 'qa-split'), world.people);
  return new Set(order.slice(0, Math.round(world.people.length * share)).map((p) => p.id));
}

/** Items in person order, then attribute order; ids `PERSON:ATTRIBUTE`. */
export function buildQaSet(world: World, options: QaSetOptions = {}): WorldQaItem[] {
  const heldOut = heldOutPeople(world, options);
  return world.people.flatMap((person: Person) => {
    const facts = factsOf(person, world);
    const split: QaSplit = heldOut.has(person.id) ? 'heldout' : 'train';
    return ATTRIBUTES.map((attribute) => ({
      id: `${person.id}:${attribute}`,
      question: evalQuestion(attribute, person.name),
      answer: facts[attribute],
      doc_id: person.id,
      title: person.name,
      source: 'world',
      split,
      attribute,
      metadata: { split, attribute, person: person.id },
    }));
  });
}

/** The train-split items as training documents, one per item: "Question: ...\nAnswer: ...". */
export function trainingQaText(items: readonly WorldQaItem[]): string[] {
  return items.filter((i) => i.split === 'train').map((i) => `Question: ${i.question}\nAnswer: ${i.answer}`);
}

/**
 * The accuracy on held-out people of guessing, for every question, the answer most common among the train
 * people for that attribute: what a model that learned no held-out fact can score. Attributes shared by many
 * people (a city, a university) make it well above zero, so results are read against it.
 */
export function guessingAccuracy(items: readonly WorldQaItem[]): number {
  const counts = new Map<Attribute, Map<string, number>>();
  for (const item of items) {
    if (item.split !== 'train') continue;
    const byAnswer = counts.get(item.attribute) ?? new Map<string, number>();
    byAnswer.set(item.answer, (byAnswer.get(item.answer) ?? 0) + 1);
    counts.set(item.attribute, byAnswer);
  }
  const guess = new Map<Attribute, string>();
  for (const [attribute, byAnswer] of counts) {
    // Ties go to the answer first seen, so the guess is a function of the set.
    const best = [...byAnswer].reduce((a, b) => (b[1] > a[1] ? b : a));
    guess.set(attribute, best[0]);
  }
  const heldout = items.filter((i) => i.split === 'heldout');
  const right = heldout.filter((i) => guess.get(i.attribute) === i.answer).length;
  return heldout.length === 0 ? 0 : right / heldout.length;
}
