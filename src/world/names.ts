/**
 * Name pools of the fictional world. Every name is built from invented syllables (so no real, famous
 * person or organisation is named), and every word a pool produces is unique across pools, so a city
 * never shares its name with a surname or a company: a name found in a text identifies one entity.
 */
import type { Rng } from '../engine/rng.js';
import { pick, shuffled } from './random.js';

export type Gender = 'female' | 'male';

// prettier-ignore
const FIRST_STARTS = [
  'Al', 'Bren', 'Cal', 'Dor', 'Ed', 'Fal', 'Gar', 'Hal', 'Iv', 'Jor', 'Kel', 'Lor',
  'Mal', 'Nor', 'Os', 'Per', 'Rod', 'Sil', 'Tal', 'Ul', 'Var', 'Wen', 'Yan', 'Zed',
];
const MALE_ENDINGS = ['an', 'ric', 'ius', 'en', 'mar', 'dric', 'win', 'on', 'ard', 'ek'];
const FEMALE_ENDINGS = ['a', 'ina', 'elle', 'ia', 'ora', 'wyn', 'ise', 'etta', 'ene', 'ara'];

// prettier-ignore
const SURNAME_STARTS = [
  'Ash', 'Bel', 'Cor', 'Dun', 'Ever', 'Fen', 'Gold', 'Har', 'Ire', 'Lang', 'Mar', 'Nettle',
  'Oak', 'Pem', 'Quill', 'Rath', 'Sto', 'Thorn', 'Up', 'Wex', 'Yar', 'Brack', 'Crest', 'Dray',
  'Elm', 'Frost', 'Glen', 'Hollin', 'Mere', 'Tarn',
];
// prettier-ignore
const SURNAME_ENDINGS = [
  'by', 'worth', 'ford', 'wick', 'mont', 'stead', 'holt', 'ridge', 'wood', 'combe', 'vale', 'bury',
  'well', 'hurst', 'lowe', 'thwaite',
];

// prettier-ignore
const CITY_STARTS = [
  'Bel', 'Cor', 'Dal', 'Esk', 'Fair', 'Gal', 'Hav', 'Iron', 'Kel', 'Lun', 'Mor', 'Nor', 'Orl',
  'Pel', 'Quen', 'Ros', 'Sal', 'Tir', 'Ven', 'Wyr', 'Yst', 'Zar', 'Amb', 'Bram', 'Cald', 'Elv',
  'Grim', 'Hol', 'Lin', 'Tav',
];
// prettier-ignore
const CITY_ENDINGS = [
  'haven', 'port', 'mouth', 'burg', 'dale', 'stow', 'mere', 'crest', 'gate', 'hollow', 'field', 'ness',
];

// prettier-ignore
const UNIVERSITY_STARTS = [
  'Ald', 'Brin', 'Carr', 'Dew', 'Ester', 'Fox', 'Gwen', 'Hest', 'Ingle', 'Jas', 'Kirl', 'Lor',
  'Marl', 'Nev', 'Oster', 'Pryd', 'Rook', 'Sel', 'Tarr', 'Vel',
];
const UNIVERSITY_ENDINGS = ['ford', 'ham', 'ton', 'ley', 'wood', 'bridge', 'more', 'shaw'];
const UNIVERSITY_KINDS = ['University', 'Institute of Technology', 'College', 'Polytechnic'];

// prettier-ignore
const COMPANY_STARTS = [
  'Vex', 'Zen', 'Quor', 'Lum', 'Nex', 'Tri', 'Syn', 'Omni', 'Kry', 'Vol', 'Hel', 'Arc', 'Pyr',
  'Dyn', 'Ster', 'Ax', 'Bor', 'Cyr', 'Fel', 'Ot',
];
const COMPANY_ENDINGS = ['ora', 'ix', 'ara', 'ium', 'eon', 'ica', 'alis', 'etra', 'avo', 'undo'];
// prettier-ignore
const COMPANY_KINDS = [
  'Systems', 'Industries', 'Labs', 'Works', 'Dynamics', 'Logistics', 'Foods', 'Textiles', 'Media',
  'Instruments', 'Motors', 'Pharma',
];

/** Fields of study: ordinary words, none contained in another, none a word the reader's templates use. */
// prettier-ignore
export const MAJORS = [
  'Physics', 'Chemistry', 'Economics', 'Linguistics', 'Mathematics', 'Biology', 'Philosophy',
  'Architecture', 'Civil Engineering', 'Computer Science', 'Geology', 'Sociology', 'Astronomy',
  'Psychology', 'Statistics', 'Agronomy', 'Journalism', 'Accounting', 'Graphic Design', 'Anthropology',
];

function combos(starts: readonly string[], endings: readonly string[]): string[] {
  return starts.flatMap((s) => endings.map((e) => s + e));
}

export const FIRST_NAMES: Record<Gender, readonly string[]> = {
  male: combos(FIRST_STARTS, MALE_ENDINGS),
  female: combos(FIRST_STARTS, FEMALE_ENDINGS),
};
export const SURNAMES: readonly string[] = combos(SURNAME_STARTS, SURNAME_ENDINGS);

/** Takes `count` unused roots in random order, marking them used; throws when the pool is too small. */
function takeRoots(rng: Rng, roots: readonly string[], count: number, used: Set<string>, what: string) {
  const out: string[] = [];
  for (const root of shuffled(rng, roots)) {
    if (out.length === count) break;
    if (used.has(root)) continue;
    used.add(root);
    out.push(root);
  }
  if (out.length < count)
    throw new Error(`the world's ${what} pool has only ${out.length} names (${count} asked)`);
  return out;
}

export const POOL_CAPACITY = {
  cities: CITY_STARTS.length * CITY_ENDINGS.length,
  universities: UNIVERSITY_STARTS.length * UNIVERSITY_ENDINGS.length,
  companies: COMPANY_STARTS.length * COMPANY_ENDINGS.length,
} as const;

export function cityNames(rng: Rng, count: number, used: Set<string>): string[] {
  return takeRoots(rng, combos(CITY_STARTS, CITY_ENDINGS), count, used, 'city');
}

export function universityNames(rng: Rng, count: number, used: Set<string>): string[] {
  const roots = takeRoots(rng, combos(UNIVERSITY_STARTS, UNIVERSITY_ENDINGS), count, used, 'university');
  return roots.map((root) => `${root} ${pick(rng, UNIVERSITY_KINDS)}`);
}

export function companyNames(rng: Rng, count: number, used: Set<string>): string[] {
  const roots = takeRoots(rng, combos(COMPANY_STARTS, COMPANY_ENDINGS), count, used, 'company');
  return roots.map((root) => `${root} ${pick(rng, COMPANY_KINDS)}`);
}

/**
 * A full name not yet used, whose words are no entity's word (`reserved`). Random draws with a bounded
 * number of retries: the pools hold ~240 first names per gender and 480 surnames, far more than any world.
 */
export function personName(
  rng: Rng,
  gender: Gender,
  usedFullNames: Set<string>,
  reserved: Set<string>,
): { first: string; last: string } {
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const first = pick(rng, FIRST_NAMES[gender]);
    const last = pick(rng, SURNAMES);
    const full = `${first} ${last}`;
    if (usedFullNames.has(full) || reserved.has(first) || reserved.has(last)) continue;
    usedFullNames.add(full);
    return { first, last };
  }
  throw new Error('the name pools are exhausted: build a smaller world');
}
