import { describe, expect, it } from 'vitest';
import { describeIssues, filtersSchema, toQueryString } from './filters.ts';

describe('dashboard filters', () => {
  it('fills the defaults and keeps a valid query', () => {
    expect(filtersSchema.parse({ from: '2026-10-01', to: '2026-10-31', country: 'VN' })).toEqual({
      pack: 'learning',
      from: '2026-10-01',
      to: '2026-10-31',
      country: 'VN',
      platform: '',
      cohort: '',
      grain: 'day',
      kind: 'first_activity',
      curve: 'retained',
      experiment: '',
      content: '',
    });
  });

  it.each([
    [{ pack: "x' OR 1=1" }, 'pack'],
    [{ from: '2026-13-01' }, 'from'],
    [{ to: '1 UNION SELECT 1' }, 'to'],
    [{ country: 'VNM1' }, 'country'],
    [{ platform: "ios' OR 1=1" }, 'platform'],
    [{ platform: 'i'.repeat(21) }, 'platform'],
    [{ platform: ['ios', 'web'] }, 'platform'],
    [{ cohort: '2026-13' }, 'cohort'],
    [{ grain: 'month' }, 'grain'],
    [{ experiment: 'a'.repeat(101) }, 'experiment'],
    [{ pack: ['a', 'b'] }, 'pack'],
    [{ from: '2026-10-02', to: '2026-10-01' }, 'from'],
  ])('refuses %j, naming %s', (query, field) => {
    const result = filtersSchema.safeParse(query);
    expect(result.success).toBe(false);
    if (!result.success) expect(describeIssues(result.error)).toContain(field);
  });

  it('keeps a platform as the pack names it', () => {
    expect(filtersSchema.parse({ platform: 'android' }).platform).toBe('android');
    expect(filtersSchema.parse({ platform: 'Mobile' }).platform).toBe('Mobile');
    expect(toQueryString({ pack: 'learning', platform: 'ios' })).toBe('pack=learning&platform=ios');
  });

  it('refuses parameters it does not know', () => {
    expect(filtersSchema.safeParse({ limit: '10' }).success).toBe(false);
  });

  it('writes the URL a link can share, without empty values', () => {
    expect(toQueryString({ pack: 'learning', country: '', from: '2026-10-01' })).toBe(
      'pack=learning&from=2026-10-01',
    );
  });
});
