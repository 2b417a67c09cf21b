import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/engine/rng.js';
import { bleuTokens, sentenceBleu } from '../../../src/eval/diagnostics/bleu.js';
import { selfBleu, selfBleuByDoc } from '../../../src/eval/diagnostics/self-bleu.js';

describe('sentence BLEU (NLTK, smoothing method 1)', () => {
  it('matches a hand computation', () => {
    // p1 = 5/6, p2 = 3/5, p3 = 1/4, p4 = 0 matches of 3 -> 0.1/3; equal lengths -> BP = 1
    const expected = Math.pow((5 / 6) * (3 / 5) * (1 / 4) * (0.1 / 3), 1 / 4);
    expect(sentenceBleu('the cat sat on the mat', ['the cat is on the mat'])).toBeCloseTo(expected, 12);
  });

  it('clips by the best single reference and penalises short hypotheses', () => {
    // 'the the the' against two refs holding 'the' once and twice: clipped to 2 of 3 unigrams
    const p = sentenceBleu('the the the', ['the cat', 'the the dog']);
    // lengths 2 and 3, hyp 3: closest is 3, BP = 1; p1 = 2/3, p2 = 1/2 ('the the' once), p3 = 0.1/1, p4 = 0.1/1
    expect(p).toBeCloseTo(Math.pow((2 / 3) * (1 / 2) * 0.1 * 0.1, 1 / 4), 12);
    const short = sentenceBleu('the cat', ['the cat sat on the mat']);
    expect(short).toBeCloseTo(Math.exp(1 - 6 / 2) * Math.pow(1 * 1 * 0.1 * 0.1, 1 / 4), 12);
  });

  it("keeps NLTK's treatment of texts under 4 tokens: a missing order counts as 0.1", () => {
    expect(sentenceBleu('three short words', ['three short words'])).toBeCloseTo(Math.pow(0.1, 1 / 4), 12);
  });

  it('is 0 without a shared unigram, and tokenises words and punctuation', () => {
    expect(sentenceBleu('alpha beta', ['gamma delta'])).toBe(0);
    expect(bleuTokens('Hello, World! It’s 3.5')).toEqual([
      'hello',
      ',',
      'world',
      '!',
      'it',
      '’',
      's',
      '3',
      '.',
      '5',
    ]);
  });
});

function randomText(rng: Rng, words: string[], length: number): string {
  return Array.from({ length }, () => words[Math.floor(rng.next() * words.length)]).join(' ');
}

describe('Self-BLEU', () => {
  it('is 1 for identical texts and 0 for disjoint ones', () => {
    const text = 'Marie Curie won two Nobel prizes, in physics and in chemistry.';
    expect(selfBleu([text, text, text])).toBeCloseTo(1, 12);
    expect(
      selfBleu(['one two three four five', 'six seven eight nine ten', 'red green blue cyan pink']),
    ).toBe(0);
  });

  it('equals the mean of each text against all the others (the linear clipping is exact)', () => {
    const rng = new Rng(3);
    const words = 'a b c d e f g h i j'.split(' ');
    const texts = Array.from({ length: 7 }, (_, i) => randomText(rng, words, 5 + 4 * i));
    texts.push(texts[2] as string); // a duplicate, so the largest count has a tie
    const brute =
      texts
        .map((t, i) =>
          sentenceBleu(
            t,
            texts.filter((_, j) => j !== i),
          ),
        )
        .reduce((a, b) => a + b, 0) / texts.length;
    expect(selfBleu(texts)).toBeCloseTo(brute, 12);
  });

  it('ranks paraphrase-like data above varied data', () => {
    const same = [
      'The Eiffel Tower is in Paris and was finished in 1889.',
      'The Eiffel Tower is in Paris and was completed in 1889.',
      'The Eiffel Tower, in Paris, was finished in 1889.',
    ];
    const varied = [
      'Timeline: 1887 construction starts; 1889 the tower opens for the World Fair.',
      'Think of Gustave Eiffel as an engineer who drew a giant iron letter A over Paris.',
      'Q: When was it finished? A: 1889, for the centenary of the Revolution.',
    ];
    expect(selfBleu(same) as number).toBeGreaterThan((selfBleu(varied) as number) + 0.3);
  });

  it('groups by document, with null for a single generation', () => {
    const report = selfBleuByDoc([
      { doc_id: 'x', text: 'the same four words' },
      { doc_id: 'y', text: 'alone' },
      { doc_id: 'x', text: 'the same four words' },
    ]);
    expect(report.docs).toEqual([
      { doc_id: 'x', generations: 2, self_bleu: expect.closeTo(1, 12) },
      { doc_id: 'y', generations: 1, self_bleu: null },
    ]);
    expect(report.mean).toBeCloseTo(1, 12);
    expect(selfBleuByDoc([]).mean).toBeNull();
  });
});
