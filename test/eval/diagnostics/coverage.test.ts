import { describe, expect, it } from 'vitest';
import { answerCoverage } from '../../../src/eval/diagnostics/coverage.js';

describe('answer coverage', () => {
  const study = new Map<string, string[]>([
    [
      'curie',
      ['Marie Skłodowska-Curie was born in Warsaw in 1867.', 'Timeline: 1903, the Nobel Prize in Physics.'],
    ],
    ['tower', ['The tower is 330 metres tall and had 1,665 steps.']],
  ]);

  it('finds normalised gold answers as whole tokens in the document’s own texts', () => {
    const r = answerCoverage(
      [
        { doc_id: 'curie', gold: 'Warsaw' },
        { doc_id: 'curie', gold: 'the Nobel prize in physics' },
        { doc_id: 'curie', gold: '1867' },
        { doc_id: 'curie', gold: 'Paris' },
        { doc_id: 'tower', gold: '1665' },
        { doc_id: 'tower', gold: 'Warsaw' }, // in another document's data: does not count
        { doc_id: 'tower', gold: '33' }, // part of '330', not a token
        { doc_id: 'missing', gold: 'anything' },
      ],
      study,
    );
    expect(r.item_covered).toEqual([true, true, true, false, true, false, false, false]);
    expect(r.covered).toBe(4);
    expect(r.total).toBe(8);
    expect(r.share).toBe(0.5);
    expect(r.without_texts).toBe(1);
    expect(r.by_doc).toEqual({
      curie: { total: 4, covered: 3 },
      missing: { total: 1, covered: 0 },
      tower: { total: 3, covered: 1 },
    });
  });

  it('takes aliases and a plain object, and reports null share for no items', () => {
    const r = answerCoverage([{ doc_id: 'd', gold: ['Big Apple', 'New York City'] }], {
      d: ['I love new york city.'],
    });
    expect(r.share).toBe(1);
    expect(answerCoverage([], {}).share).toBeNull();
  });
});
