/** Lookups over a world: a person's facts as text, entities by id, people by name. Indexed once per world. */
import { formatDate, type Attribute, type Company, type Entity, type Person, type World } from './world.js';

export type Facts = Record<Attribute, string>;

interface WorldIndex {
  entities: Map<string, Entity | Company>;
  byName: Map<string, Person>;
  facts: Map<string, Facts>;
}

const indexes = new WeakMap<World, WorldIndex>();

function indexOf(world: World): WorldIndex {
  let index = indexes.get(world);
  if (!index) {
    const entities = new Map<string, Entity | Company>();
    for (const e of [...world.cities, ...world.universities, ...world.companies]) entities.set(e.id, e);
    index = { entities, byName: new Map(world.people.map((p) => [p.name, p])), facts: new Map() };
    indexes.set(world, index);
  }
  return index;
}

function entity(world: World, id: string): Entity | Company {
  const found = indexOf(world).entities.get(id);
  if (!found) throw new Error(`world ${world.seed}: no entity ${id}`);
  return found;
}

/** The employer of a person. */
export function employerOf(person: Person, world: World): Company {
  return entity(world, person.employerId) as Company;
}

/** Every attribute of a person as its canonical answer text (dates as "12 March 1954", else the name). */
export function factsOf(person: Person, world: World): Facts {
  const index = indexOf(world);
  let facts = index.facts.get(person.id);
  if (!facts) {
    const employer = employerOf(person, world);
    facts = {
      birth_date: formatDate(person.birthDate),
      birth_city: entity(world, person.birthCityId).name,
      university: entity(world, person.universityId).name,
      major: person.major,
      employer: employer.name,
      employer_city: entity(world, employer.cityId).name,
    };
    index.facts.set(person.id, facts);
  }
  return facts;
}

export function personByName(world: World, name: string): Person | undefined {
  return indexOf(world).byName.get(name);
}

/** Every person whose full name appears in `text`, in order of first appearance. */
export function peopleNamedIn(world: World, text: string): Person[] {
  const found: Array<{ at: number; person: Person }> = [];
  const seen = new Set<string>();
  // Full names are two capitalised words: look each adjacent pair up instead of scanning every person.
  const words = [...text.matchAll(/\p{Lu}\p{Ll}+/gu)];
  for (let i = 0; i + 1 < words.length; i++) {
    const a = words[i] as RegExpMatchArray;
    const b = words[i + 1] as RegExpMatchArray;
    const start = a.index ?? 0;
    if ((b.index ?? 0) !== start + a[0].length + 1 || text[start + a[0].length] !== ' ') continue;
    const person = personByName(world, `${a[0]} ${b[0]}`);
    if (person && !seen.has(person.id)) {
      seen.add(person.id);
      found.push({ at: start, person });
    }
  }
  return found.sort((x, y) => x.at - y.at).map((f) => f.person);
}
