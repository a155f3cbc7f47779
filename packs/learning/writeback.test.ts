import { describe, expect, it } from 'vitest';
import { abResultFields, significance } from './writeback.ts';
import { unflatten } from '../../jobs/writeback/mongo-target.ts';
import type { TargetRow } from '../../jobs/writeback/engine.ts';

const row = (metrics: unknown[]): TargetRow => ({
  natural_key: 'exp|treatment',
  content_hash: '1',
  change: 'insert',
  experiment: 'exp',
  variant: 'treatment',
  analyzed_at: '2026-10-31 12:00:00.000',
  metrics,
});

describe('ab_test_results document', () => {
  it('takes the primary metric, lifts in percent, secondaries with their significance', () => {
    const fields = abResultFields(
      row([
        ['active_days_7d', 500, 3.2, 3.0, 0.0667, -0.01, 0.14, 0.08, 'continue_testing'],
        ['completed_lesson_7d', 500, 0.46, 0.4, 0.15, 0.05, 0.25, 0.001, 'implement'],
        ['events_7d', 500, 40, 40.4, -0.0099, -0.05, 0.03, 0.6, 'continue_testing'],
      ]),
    );
    expect(fields['results.primary_metric']).toEqual({
      variant_value: 0.46,
      control_value: 0.4,
      lift: 15,
      p_value: 0.001,
      confidence_interval: { lower: 5, upper: 25 },
    });
    expect(fields['recommendations.decision']).toBe('implement');
    expect(fields['participant_data.is_significant']).toBe(true);
    expect(fields['results.secondary_metrics']).toEqual([
      {
        metric_name: 'active_days_7d',
        variant_value: 3.2,
        control_value: 3,
        lift: 6.67,
        significance: 'trending',
      },
      {
        metric_name: 'events_7d',
        variant_value: 40,
        control_value: 40.4,
        lift: -0.9900000000000001,
        significance: 'not_significant',
      },
    ]);
    expect(fields.analyzed_at).toEqual(new Date('2026-10-31T12:00:00.000Z'));
  });

  it('gives the control its own mean as the control value and no lift', () => {
    const fields = abResultFields(
      row([['completed_lesson_7d', 480, 0.4, null, null, null, null, null, 'continue_testing']]),
    );
    expect(fields['results.primary_metric']).toEqual({
      variant_value: 0.4,
      control_value: 0.4,
      lift: null,
      p_value: null,
      confidence_interval: { lower: null, upper: null },
    });
    expect(fields['participant_data.is_significant']).toBe(false);
  });

  it('speaks the seed’s significance vocabulary', () => {
    expect([0.01, 0.07, 0.5, null].map(significance)).toEqual([
      'significant',
      'trending',
      'not_significant',
      null,
    ]);
  });
});

describe('unflatten', () => {
  it('nests dotted paths for a new document', () => {
    expect(unflatten({ 'a.b': 1, 'a.c.d': 2, e: 3 })).toEqual({ a: { b: 1, c: { d: 2 } }, e: 3 });
  });
});
