import { describe, expect, it } from 'vitest';
import { learningFeatures } from '../packs/learning/features.ts';
import { catalogue } from './catalogue.ts';
import {
  FeatureDefinitionError,
  registryVersion,
  validateRegistry,
  type FeatureDefinition,
  type FeatureRegistry,
} from './registry.ts';

const base: FeatureRegistry = {
  pack: 't',
  entity: 'user',
  attributeSources: [],
  features: [],
  sets: {},
  labels: [],
};
const count = (name: string) =>
  ({
    kind: 'activity',
    name,
    entity: 'user',
    description: '',
    window: { days: 7 },
    measure: { fn: 'count' },
  }) as const;

describe('feature registry', () => {
  it('accepts the learning pack: at least 50 user features, every set and label resolvable', () => {
    expect(validateRegistry(learningFeatures).features.length).toBeGreaterThanOrEqual(50);
    const entries = catalogue(learningFeatures);
    expect(entries.filter((entry) => entry.role === 'label').map((entry) => entry.name)).toEqual([
      'label_churn_14d',
      'label_churn_7d',
    ]);
    expect(entries.find((entry) => entry.name === 'avg_score_ratio_28d')).toMatchObject({
      type: 'float64',
      nullable: true,
      window: '28d',
    });
    expect(entries.find((entry) => entry.name === 'activity_count_prev21d')?.window).toBe(
      '21d ending 7d before',
    );
  });

  const cases: [Partial<FeatureRegistry>, RegExp][] = [
    [{ features: [count('a'), count('a')] }, /declared twice/],
    [{ features: [count('Bad-Name')] }, /snake_case/],
    [
      {
        features: [
          { kind: 'ratio', name: 'r', entity: 'user', description: '', numerator: 'a', denominator: 'b' },
        ],
      },
      /refers to "a"/,
    ],
    [{ features: [count('a')], sets: { s: ['a', 'b'] } }, /set "s" names unknown feature "b"/],
    [
      {
        features: [
          {
            kind: 'attribute',
            name: 'x',
            entity: 'user',
            description: '',
            source: 'nope',
            column: 'c',
            type: 'string',
          },
        ],
      },
      /unknown source "nope"/,
    ],
  ];
  it.each(cases)('refuses a registry that is wrong (%#)', (change, message) => {
    expect(() => validateRegistry({ ...base, ...change })).toThrow(FeatureDefinitionError);
    expect(() => validateRegistry({ ...base, ...change })).toThrow(message);
  });

  it('versions the declarations: any change to a feature gives another version', () => {
    const one = { ...base, features: [count('a')] };
    const other = { ...base, features: [{ ...count('a'), window: { days: 28 } } as FeatureDefinition] };
    expect(registryVersion(one)).toBe(registryVersion({ ...one }));
    expect(registryVersion(one)).not.toBe(registryVersion(other));
  });
});
