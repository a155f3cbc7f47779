import { describe, expect, it } from 'vitest';
import { getPack, packs } from './index.ts';

describe('pack registry', () => {
  it('finds the learning pack by name', () => {
    expect(getPack('learning')).toBe(packs.learning);
    expect(getPack('learning').postgres[0]?.schemaSql).toContain('CREATE TABLE user_lesson_progress');
  });

  it('lists the known packs when a name is unknown', () => {
    expect(() => getPack('nosuch')).toThrow(
      `unknown source pack "nosuch"; known packs: ${Object.keys(packs).join(', ')}`,
    );
  });
});
