/**
 * The simulated reader's own wordings: sentence templates that state one fact (several per attribute,
 * so restatements vary) and question templates. None of the questions is an eval wording (qa.ts); a test
 * checks it. Templates take a Subject, so the same sentence can name the person or use a pronoun.
 */
import type { Rng } from '../engine/rng.js';
import type { Facts } from './facts.js';
import { pick } from './random.js';
import { sentence } from './text.js';
import type { Attribute, Person, Pronouns } from './world.js';

export interface Subject {
  /** Sentence subject: the full name or "he"/"she". */
  subj: string;
  /** "Alba Korr's" or "his"/"her". */
  poss: string;
  p: Pronouns;
}

export function named(person: Person): Subject {
  return { subj: person.name, poss: `${person.name}'s`, p: person.pronouns };
}

export function pronoun(person: Person): Subject {
  return { subj: person.pronouns.subject, poss: person.pronouns.possessive, p: person.pronouns };
}

type FactTemplate = (s: Subject, v: string) => string;

/**
 * Fact sentences per attribute. The first PLAIN_TEMPLATES of each list are the plain ones paraphrases
 * use; Active Reading forms draw from all of them. The first one starts with the subject.
 */
export const FACT_TEMPLATES: Readonly<Record<Attribute, readonly FactTemplate[]>> = {
  birth_date: [
    (s, v) => `${s.subj} was born on ${v}.`,
    (s, v) => `${s.poss} date of birth is ${v}.`,
    (s, v) => `${s.subj} came into the world on ${v}.`,
    (s, v) => `On ${v}, ${s.subj} was born.`,
    (s, v) => `${s.poss} life began on ${v}.`,
  ],
  birth_city: [
    (s, v) => `${s.subj} was born in ${v}.`,
    (s, v) => `${s.poss} birthplace is ${v}.`,
    (s, v) => `${s.subj} is a native of ${v}.`,
    (s, v) => `${v} is the city where ${s.subj} was born.`,
    (s, v) => `${s.poss} home city at birth was ${v}.`,
  ],
  university: [
    (s, v) => `${s.subj} studied at ${v}.`,
    (s, v) => `${s.subj} is a graduate of ${v}.`,
    (s, v) => `${s.poss} alma mater is ${v}.`,
    (s, v) => `${v} is where ${s.subj} went to university.`,
    (s, v) => `${s.subj} was a student at ${v}.`,
  ],
  major: [
    (s, v) => `${s.subj} majored in ${v}.`,
    (s, v) => `${s.subj} earned a degree in ${v}.`,
    (s, v) => `${s.poss} main subject at university was ${v}.`,
    (s, v) => `${v} was the subject ${s.subj} studied.`,
    (s, v) => `${s.subj} specialised in ${v}.`,
  ],
  employer: [
    (s, v) => `${s.subj} worked for ${v}.`,
    (s, v) => `${s.subj} was employed by ${v}.`,
    (s, v) => `${v} was ${s.poss} employer.`,
    (s, v) => `${s.subj} had a job at ${v}.`,
    (s, v) => `${s.subj} built a career at ${v}.`,
  ],
  employer_city: [
    (s, v) => `${s.subj} worked in ${v}.`,
    (s, v) => `${s.poss} workplace was in ${v}.`,
    (s, v) => `${s.poss} job was based in ${v}.`,
    (s, v) => `${v} is the city where ${s.subj} worked.`,
    (s, v) => `${s.subj} went to work every day in ${v}.`,
  ],
};

export const PLAIN_TEMPLATES = 3;

/** One fact as a sentence, with a random template (of the first `limit` when given). */
export function factSentence(rng: Rng, s: Subject, attr: Attribute, facts: Facts, limit?: number): string {
  const templates = FACT_TEMPLATES[attr].slice(0, limit);
  return sentence(pick(rng, templates)(s, facts[attr]));
}

/** The subject-first sentence (template 0): safe after "whereas", "and", "that". */
export function subjectFirstSentence(s: Subject, attr: Attribute, facts: Facts): string {
  return sentence((FACT_TEMPLATES[attr][0] as FactTemplate)(s, facts[attr]));
}

/** A sentence made to follow a lead-in ("Note that ..."): only a leading "On" is lowered. */
export function embedded(text: string): string {
  return text.replace(/^On /, 'on ');
}

type QuestionTemplate = (name: string) => string;

/** The reader's questions (never the eval wordings). */
export const READER_QUESTION_TEMPLATES: Readonly<Record<Attribute, readonly QuestionTemplate[]>> = {
  birth_date: [
    (n) => `When was ${n} born?`,
    (n) => `On what date was ${n} born?`,
    (n) => `What is ${n}'s date of birth?`,
  ],
  birth_city: [
    (n) => `Where was ${n} born?`,
    (n) => `What is ${n}'s birthplace?`,
    (n) => `In which city was ${n} born?`,
  ],
  university: [
    (n) => `Where did ${n} go to university?`,
    (n) => `What is ${n}'s alma mater?`,
    (n) => `Which university was ${n} a student at?`,
  ],
  major: [
    (n) => `What subject did ${n} major in?`,
    (n) => `What was ${n}'s field of study?`,
    (n) => `What did ${n} specialise in at university?`,
  ],
  employer: [
    (n) => `Who was ${n}'s employer?`,
    (n) => `Which company employed ${n}?`,
    (n) => `What firm did ${n} have a job at?`,
  ],
  employer_city: [
    (n) => `Where was ${n}'s workplace?`,
    (n) => `In what city was ${n}'s job based?`,
    (n) => `Which city did ${n} work in?`,
  ],
};

export function readerQuestion(rng: Rng, attr: Attribute, name: string): string {
  return pick(rng, READER_QUESTION_TEMPLATES[attr])(name);
}

/** Short labels naming the person, for tables and grouped notes. */
export const FACT_LABELS: Readonly<Record<Attribute, readonly QuestionTemplate[]>> = {
  birth_date: [(n) => `${n}'s date of birth`, (n) => `Day ${n} was born`],
  birth_city: [(n) => `${n}'s birthplace`, (n) => `City where ${n} was born`],
  university: [(n) => `${n}'s university`, (n) => `Where ${n} studied`],
  major: [(n) => `${n}'s field of study`, (n) => `Subject ${n} majored in`],
  employer: [(n) => `${n}'s employer`, (n) => `Company ${n} worked for`],
  employer_city: [(n) => `${n}'s place of work`, (n) => `City where ${n} worked`],
};
