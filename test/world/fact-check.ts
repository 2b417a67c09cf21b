/** Test helpers: split generated text into sentences and check every fact value in them against the world. */
import { factsOf, peopleNamedIn } from '../../src/world/facts.js';
import { MONTHS, type Person, type World } from '../../src/world/world.js';

/** Lines, then sentence ends within lines. */
export function sentencesOf(text: string): string[] {
  return text
    .split('\n')
    .flatMap((line) => line.split(/(?<=[.!?])\s+/))
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every entity name, date and bare year of the world's kinds found in a text. */
export function valueFinder(world: World): (text: string) => string[] {
  const names = [...world.cities, ...world.universities, ...world.companies]
    .map((e) => e.name)
    .concat(world.majors)
    .sort((a, b) => b.length - a.length);
  const entity = new RegExp(`\\b(?:${names.map(escapeRegExp).join('|')})\\b`, 'g');
  const date = new RegExp(`\\b\\d{1,2} (?:${MONTHS.join('|')}) \\d{4}\\b`, 'g');
  return (text) => {
    const dates = text.match(date) ?? [];
    const rest = text.replace(date, ' ');
    const years = rest.match(/\b(?:19|20)\d\d\b/g) ?? [];
    return [...(rest.match(entity) ?? []), ...dates, ...years];
  };
}

/** The values a person may be stated with: the six facts and the birth year. */
export function trueValues(person: Person, world: World): Set<string> {
  return new Set([...Object.values(factsOf(person, world)), String(person.birthDate.year)]);
}

export interface FactCheck {
  /** Sentences that state at least one value and are about the subject (name them, or nobody). */
  factSentences: number;
  /** Of those, the ones that name the subject. */
  namingSubject: number;
  /** "value (sentence)" for every value that belongs to none of the people the sentence is about. */
  falseValues: string[];
}

/**
 * A sentence is about the people it names, or the subject when it names nobody (a pronoun, an answer
 * line); each value found must be a fact of one of them.
 */
export function checkFacts(text: string, subject: Person, world: World): FactCheck {
  const find = valueFinder(world);
  const out: FactCheck = { factSentences: 0, namingSubject: 0, falseValues: [] };
  for (const s of sentencesOf(text)) {
    const values = find(s);
    if (values.length === 0) continue;
    const people = peopleNamedIn(world, s);
    const namesSubject = people.some((p) => p.id === subject.id);
    // A sentence about someone else (a comparison) is neither for nor against the subject's binding.
    if (namesSubject || people.length === 0) out.factSentences++;
    if (namesSubject) out.namingSubject++;
    const about = people.length > 0 ? people : [subject];
    const allowed = new Set(about.flatMap((p) => [...trueValues(p, world)]));
    for (const v of values) if (!allowed.has(v)) out.falseValues.push(`${v} (${s})`);
  }
  return out;
}
