/**
 * The paraphrase baseline, simulated: the biography rewritten in a requested style, with varied sentence
 * templates and order but still document-like (the name once or twice, then pronouns; in every bullet when
 * the style asks for it). Weaker than Active
 * Reading by design, as in the paper: a rewrite keeps the document's shape, so facts stay tied to a
 * pronoun rather than to the name.
 */
import type { Rng } from '../engine/rng.js';
import type { Facts } from './facts.js';
import { factSentence, named, PLAIN_TEMPLATES, pronoun } from './phrasing.js';
import { pick, shuffled } from './random.js';
import { ATTRIBUTES, type Attribute, type Person } from './world.js';

export type ParaphraseStyle = 'encyclopedia' | 'plain' | 'bullets' | 'narrative';

/** Reads the style from the prompt's {{style}} text (the built-in styles, or keywords of a custom one). */
export function styleOf(text: string): ParaphraseStyle {
  if (/bullet|notes/i.test(text)) return 'bullets';
  if (/narrative|story|teacher|walks? through/i.test(text)) return 'narrative';
  if (/plain|simple|student|child/i.test(text)) return 'plain';
  return 'encyclopedia';
}

/**
 * Sentences for the facts in `attrs` order: the first names the person, one later sentence (half the
 * time) names them again, the others use the pronoun; plain templates only.
 */
function sentences(rng: Rng, person: Person, facts: Facts, attrs: Attribute[]): string[] {
  const again = rng.next() < 0.5 ? 2 + Math.floor(rng.next() * (attrs.length - 2)) : -1;
  return attrs.map((a, i) =>
    factSentence(rng, i === 0 || i === again ? named(person) : pronoun(person), a, facts, PLAIN_TEMPLATES),
  );
}

/** The birth first (a biography opens with it), then the other facts in a random order. */
function looseOrder(rng: Rng): Attribute[] {
  const [first, ...rest] = ATTRIBUTES;
  return [first as Attribute, ...shuffled(rng, rest)];
}

export function writeParaphrase(
  rng: Rng,
  style: ParaphraseStyle,
  person: Person,
  facts: Facts,
  styleText = '',
): string {
  switch (style) {
    case 'encyclopedia':
      return sentences(rng, person, facts, looseOrder(rng)).join(' ');
    case 'plain': {
      const s = sentences(rng, person, facts, shuffled(rng, ATTRIBUTES));
      return [s.slice(0, 3).join(' '), s.slice(3).join(' ')].join('\n\n');
    }
    case 'bullets': {
      // The built-in bullet style asks for the subject in every bullet, and an LLM would comply.
      const everyBullet = /every bullet|each bullet/i.test(styleText);
      const s = everyBullet
        ? looseOrder(rng).map((a) => factSentence(rng, named(person), a, facts, PLAIN_TEMPLATES))
        : sentences(rng, person, facts, looseOrder(rng));
      return [
        pick(rng, [`Notes: ${person.name}`, `${person.name}: key facts`]),
        ...s.map((x) => `- ${x}`),
      ].join('\n');
    }
    case 'narrative': {
      const links = ['', 'Next, ', 'Moving on, ', 'Then, ', 'After that, ', 'Finally, '];
      const s = sentences(rng, person, facts, [...ATTRIBUTES]);
      return s
        .map(
          (x, i) =>
            `${links[i] ?? ''}${links[i] ? x.replace(/^(He|She|His|Her)\b/, (w) => w.toLowerCase()) : x}`,
        )
        .join(' ');
    }
  }
}
