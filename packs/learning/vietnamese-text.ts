// Syllable-level text matching for Vietnamese, where a "word" is one or more space-separated
// syllables and a plain substring test would find "cá" inside "các".

/** Lower-case syllables without punctuation: `"Xin chào! Tôi"` → `['xin', 'chào', 'tôi']`. */
export function syllables(text: string): string[] {
  return text
    .normalize('NFC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((syllable) => syllable.length > 0);
}

export function containsPhrase(text: string, phrase: string): boolean {
  return ` ${syllables(text).join(' ')} `.includes(` ${syllables(phrase).join(' ')} `);
}

/** Replaces the first whole-syllable occurrence of `phrase` with `___`; `null` if it is absent. */
export function blankOut(sentence: string, phrase: string): string | null {
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])${escapeRegExp(phrase.normalize('NFC'))}(?![\\p{L}\\p{N}])`,
    'iu',
  );
  const blanked = sentence.normalize('NFC').replace(pattern, '___');
  return blanked.includes('___') ? blanked : null;
}

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((token) => token.length > 0).length;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
