import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/engine/rng.js';
import { findLeakage } from '../../../src/eval/diagnostics/leakage.js';
import { TokenAutomaton } from '../../../src/eval/diagnostics/token-automaton.js';

describe('TokenAutomaton', () => {
  it('finds overlapping and nested patterns', () => {
    const ac = new TokenAutomaton();
    ac.add(['a', 'b', 'c'], 0);
    ac.add(['b', 'c'], 1);
    ac.add(['c'], 2);
    ac.add(['b', 'c', 'd'], 3);
    ac.add(['a', 'b', 'x'], 4);
    const found: [number, number][] = [];
    ac.search(['a', 'b', 'c', 'd', 'a', 'b', 'b', 'c', 'z', 'c'], (id, end) => found.push([id, end]));
    expect(found.sort((p, q) => p[1] - q[1] || p[0] - q[0])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
      [3, 3],
      [1, 7],
      [2, 7],
      [2, 9],
    ]);
  });
});

describe('findLeakage', () => {
  const items = [
    { id: 'q1', question: 'In what year was the Eiffel Tower completed?', answer: '1889' },
    { id: 'q2', question: 'Who designed the Statue of Liberty?', answer: 'Frédéric Auguste Bartholdi' },
    { id: 'q3', question: 'What is the capital of Australia?', answer: 'Canberra' },
  ];

  it('reports questions and long answers with the texts they are in', () => {
    const texts = [
      'Trivia night! In what year was the Eiffel Tower completed? Answer: 1889.',
      { id: 'doc-b', text: 'The sculptor Frederic Auguste Bartholdi designed it.' },
      'In what year was the Eiffel tower completed',
      'Canberra is the capital of Australia.',
      'Who designed the Statue of Liberty',
    ];
    const r = findLeakage(items, texts);
    expect(r.questions_checked).toBe(3);
    expect(r.answers_checked).toBe(1); // '1889' and 'canberra' are below the floor
    expect(r.answers_too_short).toBe(2);
    expect(r.texts_scanned).toBe(5);
    expect(r.questions_leaked).toBe(2);
    expect(r.answers_leaked).toBe(1);
    expect(r.hits).toEqual([
      {
        kind: 'question',
        item: 0,
        id: 'q1',
        normalized: 'in what year was eiffel tower completed',
        text_count: 2,
        texts: [{ index: 0 }, { index: 2 }],
        with_answer: true,
      },
      {
        kind: 'question',
        item: 1,
        id: 'q2',
        normalized: 'who designed statue of liberty',
        text_count: 1,
        texts: [{ index: 4 }],
        with_answer: false,
      },
      {
        kind: 'answer',
        item: 1,
        id: 'q2',
        normalized: 'frederic auguste bartholdi',
        text_count: 1,
        texts: [{ index: 1, id: 'doc-b' }],
      },
    ]);
  });

  it('respects the floor and the cap on text references', () => {
    const r = findLeakage([{ question: 'Capital of France?', answer: 'Paris' }], ['capital of france'], {
      minTokens: 4,
      minChars: 100,
    });
    expect(r.questions_checked).toBe(0);
    expect(r.hits).toEqual([]);
    const many = Array.from({ length: 30 }, () => 'who designed the statue of liberty');
    const capped = findLeakage(items, many, { maxTextsPerHit: 5 });
    expect(capped.hits[0]?.text_count).toBe(30);
    expect(capped.hits[0]?.texts).toHaveLength(5);
  });

  it('runs 5k questions against 20k texts in one pass', () => {
    const rng = new Rng(11);
    const vocab = Array.from({ length: 20000 }, (_, i) => `w${i.toString(36)}`);
    const word = () => vocab[Math.floor(rng.next() * vocab.length)] as string;
    const phrase = (n: number) => Array.from({ length: n }, word).join(' ');
    const qs = Array.from({ length: 5000 }, (_, i) => ({
      id: `q${i}`,
      question: `${phrase(8 + (i % 6))}?`,
      answer: i % 2 ? phrase(1) : phrase(3),
    }));
    const texts = Array.from({ length: 20000 }, () => phrase(150));
    // plant 40 questions (one with its answer beside it) and 25 answers at known places
    const planted = new Map<number, number>();
    for (let k = 0; k < 40; k++) {
      const t = k * 499;
      planted.set(k * 120, t);
      const extra = k === 0 ? ` ${qs[0]?.answer}` : '';
      texts[t] = `${phrase(20)} ${qs[k * 120]?.question}${extra} ${phrase(20)}`;
    }
    for (let k = 0; k < 25; k++)
      texts[k * 777 + 1] = `${phrase(30)} ${qs[k * 200 + 2]?.answer}. ${phrase(30)}`;

    const started = performance.now();
    const r = findLeakage(qs, texts);
    const ms = performance.now() - started;
    console.log(
      `leakage: ${qs.length} items x ${texts.length} texts (${150 * texts.length} tokens) in ${ms.toFixed(0)} ms`,
    );

    const questionHits = r.hits.filter((h) => h.kind === 'question');
    expect(questionHits.map((h) => [h.item, h.texts[0]?.index])).toEqual([...planted]);
    expect(questionHits.filter((h) => h.with_answer).map((h) => h.item)).toEqual([0]);
    const answerItems = new Set(r.hits.filter((h) => h.kind === 'answer').map((h) => h.item));
    for (let k = 0; k < 25; k++) expect(answerItems.has(k * 200 + 2)).toBe(true);
    expect(r.texts_scanned).toBe(20000);
  });
});
