/**
 * The fictional world: people with six attributes, and the cities, universities and companies they point
 * to. Built deterministically from a seed (same seed and size, same world on every machine). The
 * employer's city belongs to the company, so "where did X work" is a two-hop fact shared by colleagues.
 */
import { MAJORS, cityNames, companyNames, personName, universityNames, type Gender } from './names.js';
import { pick, randInt, rngFor } from './random.js';

export type { Gender } from './names.js';

/** The attributes, in the fixed order of the documents. */
export const ATTRIBUTES = [
  'birth_date',
  'birth_city',
  'university',
  'major',
  'employer',
  'employer_city',
] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

export interface BirthDate {
  day: number;
  /** 1-12. */
  month: number;
  year: number;
}

export interface Pronouns {
  subject: 'he' | 'she';
  object: 'him' | 'her';
  possessive: 'his' | 'her';
}

export interface Entity {
  id: string;
  name: string;
}

export interface Company extends Entity {
  cityId: string;
}

export interface Person {
  /** Also the document id of the person's biography. */
  id: string;
  name: string;
  firstName: string;
  lastName: string;
  gender: Gender;
  pronouns: Pronouns;
  birthDate: BirthDate;
  birthCityId: string;
  universityId: string;
  major: string;
  employerId: string;
}

export interface World {
  seed: number;
  people: Person[];
  cities: Entity[];
  universities: Entity[];
  companies: Company[];
  majors: string[];
}

export interface WorldOptions {
  people: number;
  seed: number;
  /** Pool sizes; the defaults let several people share each entity. */
  cities?: number;
  universities?: number;
  companies?: number;
  majors?: number;
}

export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const PRONOUNS: Record<Gender, Pronouns> = {
  female: { subject: 'she', object: 'her', possessive: 'her' },
  male: { subject: 'he', object: 'him', possessive: 'his' },
};

export function buildWorld(options: WorldOptions): World {
  const n = options.people;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`people must be a positive integer, got ${n}`);
  const { seed } = options;
  const size = (given: number | undefined, perEntity: number, cap: number) =>
    Math.min(cap, given ?? Math.max(3, Math.round(n / perEntity)));
  const used = new Set<string>();
  const cityList = cityNames(rngFor(seed, 'cities'), size(options.cities, 5, 200), used);
  const uniList = universityNames(rngFor(seed, 'universities'), size(options.universities, 8, 120), used);
  const companyList = companyNames(rngFor(seed, 'companies'), size(options.companies, 6, 150), used);
  const majors = MAJORS.slice(0, size(options.majors, 5, MAJORS.length));

  const cities = cityList.map((name, i) => ({ id: `city-${i + 1}`, name }));
  const universities = uniList.map((name, i) => ({ id: `university-${i + 1}`, name }));
  const placeRng = rngFor(seed, 'company-cities');
  const companies = companyList.map((name, i) => ({
    id: `company-${i + 1}`,
    name,
    cityId: pick(placeRng, cities).id,
  }));

  // Every word of an entity name is reserved, so no person shares a word with a place or company.
  const reserved = new Set([...cityList, ...uniList, ...companyList, ...majors].flatMap((s) => s.split(' ')));
  const rng = rngFor(seed, 'people');
  const fullNames = new Set<string>();
  const width = String(n).length;
  const people: Person[] = [];
  for (let i = 0; i < n; i++) {
    const gender: Gender = rng.next() < 0.5 ? 'female' : 'male';
    const { first, last } = personName(rng, gender, fullNames, reserved);
    people.push({
      id: `person-${String(i + 1).padStart(width, '0')}`,
      name: `${first} ${last}`,
      firstName: first,
      lastName: last,
      gender,
      pronouns: PRONOUNS[gender],
      birthDate: randomDate(rng),
      birthCityId: pick(rng, cities).id,
      universityId: pick(rng, universities).id,
      major: pick(rng, majors),
      employerId: pick(rng, companies).id,
    });
  }
  return { seed, people, cities, universities, companies, majors };
}

function randomDate(rng: ReturnType<typeof rngFor>): BirthDate {
  const year = randInt(rng, 1900, 2000);
  const month = randInt(rng, 1, 12);
  return { day: randInt(rng, 1, daysInMonth(year, month)), month, year };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The canonical date form of documents, answers and every reader output: "12 March 1954". */
export function formatDate(date: BirthDate): string {
  return `${date.day} ${MONTHS[date.month - 1]} ${date.year}`;
}
