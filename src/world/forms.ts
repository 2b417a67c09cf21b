/**
 * Stage 2 of Active Reading, simulated: a strategy applied to one person. Every form restates all the
 * person's facts, names the person in (nearly) every sentence (what ties a fact to its entity), varies the
 * order of the facts and draws each sentence from several templates, and states only true facts of the
 * world, all from the person's own chunk (as a real reader, which sees one chunk at a time).
 */
import type { Rng } from '../engine/rng.js';
import type { Facts } from './facts.js';
import {
  embedded,
  FACT_LABELS,
  factSentence,
  named,
  readerQuestion,
  subjectFirstSentence,
} from './phrasing.js';
import { pick, shuffled } from './random.js';
import { ATTRIBUTES, type Attribute, type Person, type World } from './world.js';

export const FORM_KINDS = [
  'summary',
  'self-test',
  'timeline',
  'comparison',
  'mnemonic',
  'notes',
  'flashcards',
  'explain',
  'table',
  'cloze',
  'visualise',
  'grouping',
] as const;
export type FormKind = (typeof FORM_KINDS)[number];

export interface FormContext {
  person: Person;
  world: World;
  facts: Facts;
  rng: Rng;
}

/** The attributes in a fresh random order. */
function order(rng: Rng): Attribute[] {
  return shuffled(rng, ATTRIBUTES);
}

/** A fact about the subject, named, with a random template. */
function fact(c: FormContext, attr: Attribute): string {
  return factSentence(c.rng, named(c.person), attr, c.facts);
}

/** A short answer that still names the person: "Elvgate (Alba Korr's birthplace)". */
function labelled(c: FormContext, attr: Attribute): string {
  return `${c.facts[attr]} (${pick(c.rng, FACT_LABELS[attr])(c.person.name)})`;
}

/**
 * The answer to a quiz question: most lead with the value, as a quiz answer does ("Selwood University —
 * Alba Korr studied at Selwood University."), the rest are the full sentence. Answers that all began with
 * the person's name taught the models to answer a question with the name.
 */
function answer(c: FormContext, attr: Attribute): string {
  const r = c.rng.next();
  if (r < 1 / 3) return `${c.facts[attr]} — ${embedded(fact(c, attr))}`;
  if (r < 2 / 3) return labelled(c, attr);
  return fact(c, attr);
}

/** "Key point: " + sentence, lowering a leading "On" after a lead-in. */
function withLead(lead: string, text: string): string {
  return lead ? `${lead}${embedded(text)}` : text;
}

function summary(c: FormContext): string {
  const n = c.person.name;
  const intro = pick(c.rng, [
    `Here is everything to remember about ${n}.`,
    `${n}, in brief.`,
    `A summary of the facts about ${n}, in a new order.`,
    '',
  ]);
  const sentences = order(c.rng).map((a) => fact(c, a));
  const cut = 2 + Math.floor(c.rng.next() * 3);
  const body = [sentences.slice(0, cut).join(' '), sentences.slice(cut).join(' ')].join('\n\n');
  return intro ? `${intro}\n\n${body}` : body;
}

function selfTest(c: FormContext): string {
  const n = c.person.name;
  const header = pick(c.rng, [`Self-test: ${n}`, `Quiz yourself on ${n}`, `Practice questions about ${n}`]);
  const pairs = order(c.rng).map((a) => {
    return `Q: ${readerQuestion(c.rng, a, n)}\nA: ${answer(c, a)}`;
  });
  return [`## ${header}`, ...pairs].join('\n\n');
}

function timeline(c: FormContext): string {
  const n = c.person.name;
  const header = pick(c.rng, [`Timeline of ${n}`, `${n}: the key events in order`, `A timeline for ${n}`]);
  const both = (a: Attribute, b: Attribute) => shuffled(c.rng, [fact(c, a), fact(c, b)]).join(' ');
  return [
    `## ${header}`,
    `- ${c.person.birthDate.year}: ${both('birth_date', 'birth_city')}`,
    `- ${pick(c.rng, ['Studies', 'Education', 'University years'])}: ${both('university', 'major')}`,
    `- ${pick(c.rng, ['Career', 'Working life', 'Work'])}: ${both('employer', 'employer_city')}`,
  ].join('\n');
}

/**
 * The pairs a comparison sets against each other. A real reader sees one chunk, so it can only contrast the
 * person's own facts (where they were born and where they worked...), never another person's.
 */
const CONTRASTS: ReadonlyArray<readonly [Attribute, Attribute]> = [
  ['birth_city', 'employer_city'],
  ['university', 'employer'],
  ['birth_date', 'major'],
];

function comparison(c: FormContext): string {
  const n = c.person.name;
  const header = pick(c.rng, [
    `Then and now: comparing the stages of ${n}'s life`,
    `${n}: origins, studies and work side by side`,
    `Contrasting the facts about ${n}`,
  ]);
  const lines = shuffled(c.rng, CONTRASTS).map((pair) => {
    const [a, b] = c.rng.next() < 0.5 ? pair : [pair[1], pair[0]];
    const first = fact(c, a);
    const second = subjectFirstSentence(named(c.person), b, c.facts);
    if (c.facts[a] === c.facts[b]) return `${first.slice(0, -1)}, and ${second.slice(0, -1)} as well.`;
    return c.rng.next() < 0.5
      ? `${first.slice(0, -1)}, whereas ${second}`
      : `${first} ${pick(c.rng, ['By contrast,', 'On the other hand,', 'Meanwhile,'])} ${second}`;
  });
  return [`## ${header}`, ...lines.map((l) => `- ${l}`)].join('\n');
}

function mnemonic(c: FormContext): string {
  const n = c.person.name;
  const header = pick(c.rng, [`Memory hooks for ${n}`, `Mnemonics to remember ${n}`, `How to remember ${n}`]);
  const hooks = order(c.rng).map((a) => {
    const v = c.facts[a];
    const hook = a === 'birth_date' ? `the year ${c.person.birthDate.year}` : `${v.charAt(0)} as in ${v}`;
    return `- ${hook}: ${fact(c, a)}`;
  });
  const chain = ATTRIBUTES.filter((a) => a !== 'birth_date').map((a) => c.facts[a]);
  return [
    `## ${header}`,
    ...hooks,
    '',
    `Chain to recite: ${n} -> ${chain.join(' -> ')}, born ${c.facts.birth_date}.`,
  ].join('\n');
}

function notes(c: FormContext): string {
  const n = c.person.name;
  const header = pick(c.rng, [`My notes on ${n}`, `Study notes: ${n}`, `What I need to remember about ${n}`]);
  const leads = [
    '',
    'I should remember that ',
    'Note to self: ',
    'Key point: ',
    'I keep mixing this up, so ',
  ];
  const lines = order(c.rng).map((a) => `- ${withLead(pick(c.rng, leads), fact(c, a))}`);
  return [`## ${header}`, ...lines].join('\n');
}

function flashcards(c: FormContext): string {
  const n = c.person.name;
  const header = pick(c.rng, [`Flashcards for ${n}`, `Cards to drill: ${n}`]);
  const cards = order(c.rng).map((a) => {
    return `Front: ${readerQuestion(c.rng, a, c.person.name)}\nBack: ${answer(c, a)}`;
  });
  // One reversed card: facts are recalled in both directions only if they are written in both.
  cards.push(`Front: Who was born on ${c.facts.birth_date} in ${c.facts.birth_city}?\nBack: ${n}`);
  return [`## ${header}`, ...cards.map((card, i) => `Card ${i + 1}\n${card}`)].join('\n\n');
}

function explain(c: FormContext): string {
  const n = c.person.name;
  const open = pick(c.rng, [`So, let me tell you about ${n}.`, `Have you heard of ${n}? Here is the story.`]);
  const leads = ['', 'Here is the thing: ', 'Also, ', 'And get this: ', 'Oh, and '];
  const body = order(c.rng).map((a) => {
    return withLead(pick(c.rng, leads), fact(c, a));
  });
  const close = pick(c.rng, [`That is ${n} in a nutshell.`, `So that is the story of ${n}.`]);
  return [open, ...body, close].join(' ');
}

function table(c: FormContext): string {
  const n = c.person.name;
  const rows = order(c.rng).map((a) => `| ${pick(c.rng, FACT_LABELS[a])(n)} | ${c.facts[a]} |`);
  const recap = fact(c, pick(c.rng, ATTRIBUTES));
  return [
    `| Fact about ${n} | Answer |`,
    '| --- | --- |',
    ...rows,
    '',
    `Reading one row aloud: ${recap}`,
  ].join('\n');
}

function cloze(c: FormContext): string {
  const n = c.person.name;
  const lines = order(c.rng).map((a, i) => {
    const text = fact(c, a);
    return `${i + 1}. ${text.replace(c.facts[a], '____').replace(/\.$/, '')} (answer: ${c.facts[a]}).`;
  });
  return [`## ${pick(c.rng, [`Fill in the blanks: ${n}`, `Cloze exercise on ${n}`])}`, ...lines].join('\n');
}

function visualise(c: FormContext): string {
  const leads = ['Picture this: ', 'Imagine the scene: ', 'Now see in your mind that ', 'Next, '];
  const scenes = order(c.rng).map((a) => withLead(pick(c.rng, leads), fact(c, a)));
  return [`${pick(c.rng, ['A mental picture', 'Visualising'])} of ${c.person.name}.`, ...scenes].join('\n');
}

function grouping(c: FormContext): string {
  const groups: Array<[string[], Attribute[]]> = [
    [
      ['Origins', 'Birth'],
      ['birth_date', 'birth_city'],
    ],
    [
      ['Education', 'Studies'],
      ['university', 'major'],
    ],
    [
      ['Work', 'Career'],
      ['employer', 'employer_city'],
    ],
  ];
  const n = c.person.name;
  const parts = shuffled(c.rng, groups).map(([labels, attrs]) => {
    const text = shuffled(c.rng, attrs)
      .map((a) => fact(c, a))
      .join(' ');
    return `**${pick(c.rng, labels)} of ${n}.** ${text}`;
  });
  return [`## ${pick(c.rng, [`${n} by theme`, `Grouping the facts about ${n}`])}`, ...parts].join('\n\n');
}

export const FORMS: Readonly<Record<FormKind, (c: FormContext) => string>> = {
  summary,
  'self-test': selfTest,
  timeline,
  comparison,
  mnemonic,
  notes,
  flashcards,
  explain,
  table,
  cloze,
  visualise,
  grouping,
};
