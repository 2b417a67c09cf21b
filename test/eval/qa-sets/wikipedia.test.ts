import { describe, expect, it } from 'vitest';
import {
  citesEnglishWikipedia,
  urlsIn,
  wikipediaTitle,
  wikipediaTitles,
} from '../../../src/eval/qa-sets/wikipedia.js';

describe('English Wikipedia references', () => {
  it('turns page URLs into titles', () => {
    expect(wikipediaTitle('https://en.wikipedia.org/wiki/Ada_Lovelace#Early_life')).toBe('Ada Lovelace');
    expect(wikipediaTitle('https://en.wikipedia.org/wiki/Caf%C3%A9_society')).toBe('Café society');
    expect(wikipediaTitle('https://en.wikipedia.org/wiki/Café_society')).toBe('Café society');
    expect(wikipediaTitle('https://en.wikipedia.org/wiki/AC/DC')).toBe('AC/DC');
    expect(wikipediaTitle('https://en.wikipedia.org/wiki/100%_(song)')).toBe('100% (song)');
    expect(wikipediaTitle('http://EN.wikipedia.org/wiki/Paris')).toBe('Paris');
    expect(wikipediaTitle('https://en.wikipedia.org/w/index.php?title=Emmett_Crawford&action=edit')).toBe(
      'Emmett Crawford',
    );
    expect(wikipediaTitle('https://en.wikipedia.org/')).toBeUndefined();
    expect(wikipediaTitle('https://en.m.wikipedia.org/wiki/Paris')).toBeUndefined();
    expect(wikipediaTitle('https://fr.wikipedia.org/wiki/Paris')).toBeUndefined();
    expect(wikipediaTitle('not a url')).toBeUndefined();
  });

  it('finds every URL in an entry that holds several, or one wrapped in quotes', () => {
    expect(urlsIn('Note:\nhttps://a.org/x\n\n- https://en.wikipedia.org/wiki/B_(c), then')).toEqual([
      'https://a.org/x',
      'https://en.wikipedia.org/wiki/B_(c)',
    ]);
    expect(urlsIn("'https://en.wikipedia.org/wiki/Ben_M._Bogard'")).toEqual([
      'https://en.wikipedia.org/wiki/Ben_M._Bogard',
    ]);
    expect(urlsIn('no link')).toEqual([]);
  });

  it('decides grounding and lists distinct titles in order', () => {
    const urls = [
      'https://example.com/a',
      'see https://en.wikipedia.org/wiki/Mr._Mackey and https://en.wikipedia.org/wiki/Mr._Hankey',
      'https://en.wikipedia.org/wiki/Mr._Mackey#Appearances',
    ];
    expect(citesEnglishWikipedia(urls)).toBe(true);
    expect(wikipediaTitles(urls)).toEqual(['Mr. Mackey', 'Mr. Hankey']);
    expect(
      citesEnglishWikipedia(['https://es.wikipedia.org/wiki/X', 'https://en.m.wikipedia.org/wiki/Y']),
    ).toBe(false);
  });
});
