import { describe, expect, it } from 'vitest';
import { unescapeTsv } from './resp-writer.ts';

describe('TabSeparated fields', () => {
  it.each([
    ['\\N', null],
    ['plain', 'plain'],
    ['a\\tb\\nc\\\\d', 'a\tb\nc\\d'],
    ["it\\'s", "it's"],
    ['', ''],
  ])('%s reads as %s', (field, value) => {
    expect(unescapeTsv(field)).toBe(value);
  });
});
