import { describe, expect, it } from 'vitest';
import { carriable, carriableDeep, isCarriable, truncate } from '../../functions/core/text.ts';

describe('carriable text: only what no hop can carry is replaced, by U+FFFD', () => {
  const cases: Array<[string, string, string]> = [
    ['plain ASCII', 'Maria Lindqvist', 'Maria Lindqvist'],
    ['U+FFFE', 'Ma\uFFFEria', 'Ma\uFFFDria'],
    ['U+FFFF', 'Maria\uFFFF', 'Maria\uFFFD'],
    ['a lone high surrogate', 'A\uD83DB', 'A\uFFFDB'],
    ['a lone low surrogate', 'A\uDE00B', 'A\uFFFDB'],
    ['a high surrogate at the end', 'AB\uD83D', 'AB\uFFFD'],
    ['two high surrogates, then a pair', '\uD83D\uD83D\uDE00', '\uFFFD\uD83D\uDE00'],
    ['an astral character (emoji) is kept', 'Zoë 😀', 'Zoë 😀'],
    ['right-to-left and zero-width marks are kept', '\u202Eمريم\u200F\u200D\u200B', '\u202Eمريم\u200F\u200D\u200B'],
    ['CJK, Devanagari, Cyrillic are kept', '李小龍 देवनागरी Жанна', '李小龍 देवनागरी Жанна'],
    ['control characters are kept (JSON escapes them)', 'a\u0000b\u0007c', 'a\u0000b\u0007c'],
    ['U+FFFD itself is kept', '\uFFFD', '\uFFFD'],
  ];
  for (const [name, input, output] of cases) {
    it(name, () => {
      expect(carriable(input)).toBe(output);
      expect(isCarriable(output)).toBe(true);
      expect(isCarriable(input)).toBe(input === output);
    });
  }

  it('truncates without splitting a surrogate pair', () => {
    expect(truncate('ab😀', 3)).toBe('ab');
    expect(truncate('ab😀', 4)).toBe('ab😀');
    expect(truncate('abc', 5)).toBe('abc');
  });

  it('walks a JSON value, keys included, and keeps "__proto__" a plain key', () => {
    const value = JSON.parse('{"__proto__": {"x": "\\uffff"}, "list": ["\\ud800"]}') as Record<string, unknown>;
    const out = carriableDeep(value);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"x":"\uFFFD"},"list":["\uFFFD"]}');
  });
});
