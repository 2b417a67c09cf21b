/**
 * The other baselines' answers, simulated: synthetic QA pairs (the `qa` prompt) and EntiGraph's entity
 * list and relation passages. All in the reader's own wordings, and only true facts of the world.
 */
import type { Rng } from '../engine/rng.js';
import type { Facts } from './facts.js';
import { factSentence, named, readerQuestion } from './phrasing.js';
import { pick, sample, shuffled } from './random.js';
import { ATTRIBUTES, type Attribute, type Person } from './world.js';

/** `Q: ... A: ...` pairs: every fact once, in a random order, then 0-2 extra wordings of random facts. */
export function writeQaPairs(rng: Rng, person: Person, facts: Facts): string {
  const attrs = [...shuffled(rng, ATTRIBUTES), ...sample(rng, ATTRIBUTES, Math.floor(rng.next() * 3))];
  return attrs.map((a) => `Q: ${readerQuestion(rng, a, person.name)}\nA: ${facts[a]}`).join('\n\n');
}

/** One entity per line: the person, then the facts as they are named in the document. */
export function writeEntities(person: Person, facts: Facts): string {
  return [person.name, ...new Set(ATTRIBUTES.map((a) => facts[a]))].join('\n');
}

/** The attributes of the person whose value is `entity` (a city can be both birth and work city). */
function attributesNamed(entity: string, facts: Facts): Attribute[] {
  const e = entity.trim().toLowerCase();
  return ATTRIBUTES.filter((a) => facts[a].toLowerCase() === e);
}

/** A passage relating two entities of the document, naming both, through the person they belong to. */
export function writeRelation(rng: Rng, person: Person, facts: Facts, a: string, b: string): string {
  const n = person.name;
  const isPerson = (e: string) => e.trim().toLowerCase() === n.toLowerCase();
  const about = (e: string) => (isPerson(e) ? [] : attributesNamed(e, facts));
  const say = (attr: Attribute) => factSentence(rng, named(person), attr, facts);
  const attrs = [...new Set([...about(a), ...about(b)])];
  if (attrs.length === 0) {
    // Neither is a fact of the person (an entity the list made up, or the person twice): summarise.
    return `${a} and ${b} both appear in the biography of ${n}. ${ATTRIBUTES.map(say).join(' ')}`;
  }
  const lines = attrs.map(say);
  if (attrs.includes('employer') && attrs.includes('employer_city')) {
    lines.push(`${facts.employer} is based in ${facts.employer_city}.`);
  }
  const opener =
    isPerson(a) || isPerson(b)
      ? pick(rng, [`${a} and ${b} are directly connected.`, `The link between ${a} and ${b} is simple.`])
      : pick(rng, [`${a} and ${b} are connected through ${n}.`, `What ties ${a} to ${b} is ${n}.`]);
  // The rest of the person's facts as context, so the passage is a short paragraph, not a single line.
  const context = ATTRIBUTES.filter((x) => !attrs.includes(x));
  const more = sample(rng, context, Math.min(2, context.length)).map(say);
  return [opener, ...lines, ...more].join(' ');
}
