import { describe, expect, it } from 'vitest';
import { blankOut, containsPhrase, syllables, wordCount } from './vietnamese-text.ts';

describe('syllables', () => {
  it('lower-cases and drops punctuation but keeps diacritics', () => {
    expect(syllables('Xin chào! Tôi tên là Lan.')).toEqual(['xin', 'chào', 'tôi', 'tên', 'là', 'lan']);
  });
});

describe('containsPhrase', () => {
  it.each([
    ['Người Việt thường ăn cơm với cá.', 'cá', true],
    ['Các bạn ăn cơm chưa?', 'cá', false],
    ['Tết Nguyên Đán là ngày lễ quan trọng.', 'Tết', true],
    ['Tôi đi làm bằng xe máy.', 'xe máy', true],
    ['Tôi đi làm bằng xe đạp.', 'xe máy', false],
  ])('finds %j in %j: %s', (text, phrase, expected) => {
    expect(containsPhrase(text, phrase)).toBe(expected);
  });
});

describe('blankOut', () => {
  it.each([
    ['Bạn khỏe không? Cảm ơn, tôi khỏe.', 'cảm ơn', 'Bạn khỏe không? ___, tôi khỏe.'],
    ['Các bạn ăn cá.', 'cá', 'Các bạn ăn ___.'],
    ['Các bạn ăn cơm.', 'cá', null],
  ])('blanks %j for %j', (sentence, phrase, expected) => {
    expect(blankOut(sentence, phrase)).toBe(expected);
  });
});

describe('wordCount', () => {
  it('counts space-separated syllables', () => {
    expect(wordCount('  Xin chào   bạn ')).toBe(3);
  });
});
