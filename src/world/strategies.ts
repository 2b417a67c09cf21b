/**
 * Stage 1 of Active Reading, simulated: a markdown list of learning strategies (`## Name` + description,
 * the format parse-strategies.ts reads), 4-8 drawn from a varied pool and tailored to the person, so
 * stage 2 can tell from a strategy's heading which form to write.
 */
import type { Rng } from '../engine/rng.js';
import type { Facts } from './facts.js';
import { FORM_KINDS, type FormKind } from './forms.js';
import { readerQuestion } from './phrasing.js';
import { pick, randInt, sample } from './random.js';
import { ATTRIBUTES, type Person } from './world.js';

interface StrategySpec {
  headings: readonly string[];
  describe: (name: string, f: Facts) => string;
  /** Words that identify the kind in a heading a user edited. */
  keywords: RegExp;
}

const SPECS: Readonly<Record<FormKind, StrategySpec>> = {
  summary: {
    headings: ['Reordered Summary', 'Rewrite in a New Order'],
    describe: (n) =>
      `Restate every fact about ${n} in a different order than the document, naming ${n} in each sentence, so each fact is tied to the name rather than to its position.`,
    keywords: /summar|reorder|rewrite|restat/i,
  },
  'self-test': {
    headings: ['Question-and-Answer Self-Test', 'Quiz Yourself'],
    describe: (n) =>
      `Write questions about ${n} (birth, studies, work) and answer each one from memory, then check against the document.`,
    keywords: /quiz|self-test|question/i,
  },
  timeline: {
    headings: ['Timeline of Life Events', 'Chronological Timeline'],
    describe: (n, f) =>
      `Place the events of ${n}'s life on a timeline, starting with the birth on ${f.birth_date}, then the studies, then the working life.`,
    keywords: /timeline|chronolog/i,
  },
  comparison: {
    headings: ['Compare the Stages of a Life', 'Contrast Origins and Career'],
    describe: (n) =>
      `Set the facts about ${n} against each other: where ${n} was born and where ${n} worked, what ${n} studied and who employed ${n}. Contrasts and coincidences are both memorable.`,
    keywords: /compar|contrast/i,
  },
  mnemonic: {
    headings: ['Mnemonic Hooks', 'Memory Chain'],
    describe: (n, f) =>
      `Attach each fact about ${n} to a memorable hook (a first letter, the year ${f.birth_date.slice(-4)}) and recite the chain of places and organisations.`,
    keywords: /mnemonic|memory|hook|chain/i,
  },
  notes: {
    headings: ['First-Person Study Notes', 'Personal Notes'],
    describe: (n) =>
      `Write your own notes on ${n} as if preparing for an exam, one fact per line, in your words.`,
    keywords: /notes?\b/i,
  },
  flashcards: {
    headings: ['Flashcards', 'Two-Sided Flashcards'],
    describe: (n) =>
      `Make one card per fact about ${n}, question on the front and answer on the back, plus a reversed card from the facts to the name.`,
    keywords: /flash ?card|card/i,
  },
  explain: {
    headings: ['Explain It to a Friend', 'Teach It Back'],
    describe: (n) => `Tell the story of ${n} to a friend in conversational language, covering every fact.`,
    keywords: /explain|teach|friend/i,
  },
  table: {
    headings: ['Fact Table', 'Structured Fact Sheet'],
    describe: (n) => `Put the facts about ${n} in a two-column table: what the fact is, and its value.`,
    keywords: /table|sheet/i,
  },
  cloze: {
    headings: ['Fill in the Blanks', 'Cloze Practice'],
    describe: (n) =>
      `Write each fact about ${n} as a sentence with the key detail blanked out, and fill it in.`,
    keywords: /blank|cloze/i,
  },
  visualise: {
    headings: ['Visualisation', 'Mental Imagery'],
    describe: (n, f) =>
      `Picture a scene for each fact: ${n} as a child in ${f.birth_city}, at university, at work in ${f.employer_city}.`,
    keywords: /visuali|imag|picture/i,
  },
  grouping: {
    headings: ['Group by Theme', 'Chunking into Categories'],
    describe: (n) =>
      `Group the facts about ${n} into origins, education and work, and learn each group as a unit.`,
    keywords: /group|categor|theme|chunk/i,
  },
};

const PREAMBLES = [
  (n: string) => `Here are strategies tailored to this biography of ${n}.`,
  (n: string) =>
    `The document packs many names, places and a date about ${n} into a few sentences. Strategies:`,
  () => '',
];

function strategyBlock(rng: Rng, kind: FormKind, person: Person, facts: Facts): string {
  const spec = SPECS[kind];
  return `## ${pick(rng, spec.headings)}\n${spec.describe(person.name, facts)}`;
}

/** The `ar-strategies` answer: 4-8 strategies, varying with the request seed. */
export function writeStrategies(rng: Rng, person: Person, facts: Facts): string {
  const kinds = sample(rng, FORM_KINDS, randInt(rng, 4, 8));
  const preamble = pick(rng, PREAMBLES)(person.name);
  const blocks = kinds.map((k) => strategyBlock(rng, k, person, facts));
  return [preamble, ...blocks].filter(Boolean).join('\n\n');
}

/** The `ar-task-strategies` answer: one question per fact, the delimiter, one strategy per question. */
export function writeTaskStrategies(rng: Rng, person: Person, facts: Facts): string {
  const questions = ATTRIBUTES.map((a) => readerQuestion(rng, a, person.name));
  const kinds = sample(rng, FORM_KINDS, questions.length);
  const blocks = kinds.map((k) => strategyBlock(rng, k, person, facts));
  return [questions.join('\n'), '<start_strategies>', ...blocks].join('\n\n');
}

/**
 * Which form a strategy asks for: its heading (first line) against the pool's headings, then keywords
 * anywhere in it (a strategy a user edited or wrote), else a reordered summary.
 */
export function formOfStrategy(strategy: string): FormKind {
  const heading = (strategy.trim().split('\n')[0] ?? '')
    .replace(/^#+\s*/, '')
    .trim()
    .toLowerCase();
  for (const kind of FORM_KINDS) {
    if (SPECS[kind].headings.some((h) => h.toLowerCase() === heading)) return kind;
  }
  for (const text of [heading, strategy]) {
    for (const kind of FORM_KINDS) if (SPECS[kind].keywords.test(text)) return kind;
  }
  return 'summary';
}
