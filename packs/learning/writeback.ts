// The learning pack's write-back (seed 000): MongoDB `daily_user_metrics`, `content_performance`,
// `ab_test_results` and `system_analytics` in the seed's document shapes, filled from the marts;
// and Postgres `user_streaks`, where Tributary owns only the lapse of a streak (see streaks.ts).
import type { TargetRow, WritebackTarget } from '../../jobs/writeback/engine.ts';
import { mongoTarget } from '../../jobs/writeback/mongo-target.ts';
import { streaksTarget } from '../../jobs/writeback/streaks.ts';
import type { PackWritebackContext } from '../pack.ts';
import { LEARNING_AB_METRICS } from './mapping.ts';

/** The collections the learning write-back fills: left out of capture by default. */
export const LEARNING_WRITEBACK_COLLECTIONS = [
  'daily_user_metrics',
  'content_performance',
  'ab_test_results',
  'system_analytics',
] as const;

export const PRIMARY_AB_METRIC = LEARNING_AB_METRICS[0].name;

const dateOf = (day: unknown) => new Date(`${String(day)}T00:00:00Z`);
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

export function learningTargets(options: PackWritebackContext): WritebackTarget[] {
  const targets: WritebackTarget[] = [];
  const { mongo } = options;
  if (mongo) {
    targets.push(
      mongoTarget({
        collection: mongo.collection('daily_user_metrics'),
        sql: `SELECT concat(user_id, '|', toString(day)) AS natural_key, user_id, toString(day) AS day,
            round(active_seconds / 60, 2) AS total_study_time, completions AS lessons_completed,
            sessions AS study_sessions, if(score_count > 0, round(score_sum / score_count, 2), NULL) AS avg_lesson_score,
            content_views AS unique_content_pieces
          FROM mart_daily_user_metrics WHERE pack = {pack:String}`,
        valueColumns: [
          'total_study_time',
          'lessons_completed',
          'study_sessions',
          'avg_lesson_score',
          'unique_content_pieces',
        ],
        dayMart: { mart: 'mart_daily_user_metrics', dayColumn: 'day' },
        filter: (row) => ({ user_id: row.user_id, date: dateOf(row.day) }),
        scope: (row) => ({ date: dateOf(row.day) }),
        orderBy: 't.day',
        fields: (row) => ({
          'learning_metrics.total_study_time': num(row.total_study_time),
          'learning_metrics.lessons_completed': num(row.lessons_completed),
          'learning_metrics.study_sessions': num(row.study_sessions),
          'learning_metrics.avg_lesson_score': num(row.avg_lesson_score),
          'engagement_metrics.unique_content_pieces': num(row.unique_content_pieces),
        }),
        stampedField: 'computed_at',
        // The seed's two: the natural key's, and the date's that each run's read of a day uses.
        indexes: [{ key: { user_id: 1, date: -1 } }, { key: { date: -1 } }],
      }),
      mongoTarget({
        collection: mongo.collection('content_performance'),
        sql: `SELECT concat(content_type, '|', content_id, '|', toString(day)) AS natural_key, content_type, content_id,
            toString(day) AS day, unique_users, views, completions, completion_rate, avg_time_spent_s, bounce_rate,
            avg_score, pass_rate, rating_avg, rating_count
          FROM mart_content_performance WHERE pack = {pack:String}`,
        valueColumns: [
          'unique_users',
          'views',
          'completions',
          'completion_rate',
          'avg_time_spent_s',
          'bounce_rate',
          'avg_score',
          'pass_rate',
          'rating_avg',
          'rating_count',
        ],
        dayMart: { mart: 'mart_content_performance', dayColumn: 'day' },
        filter: (row) => ({
          content_type: row.content_type,
          content_id: row.content_id,
          date: dateOf(row.day),
        }),
        scope: (row) => ({ date: dateOf(row.day) }),
        orderBy: 't.day',
        indexes: [{ key: { content_id: 1, date: -1 } }],
        fields: (row) => ({
          'usage_stats.unique_users': num(row.unique_users),
          'usage_stats.total_views': num(row.views),
          'usage_stats.total_completions': num(row.completions),
          'usage_stats.avg_time_spent': num(row.avg_time_spent_s),
          'usage_stats.avg_completion_rate': num(row.completion_rate),
          'usage_stats.bounce_rate': num(row.bounce_rate),
          'learning_outcomes.avg_score': num(row.avg_score),
          'learning_outcomes.pass_rate': num(row.pass_rate),
          'user_feedback.avg_rating': num(row.rating_avg),
          'user_feedback.rating_count': num(row.rating_count),
        }),
      }),
      mongoTarget({
        collection: mongo.collection('ab_test_results'),
        // One document per experiment and variant; the metrics travel as one sorted array of tuples.
        sql: `SELECT concat(experiment, '|', variant) AS natural_key, experiment, variant,
            toString(max(computed_at)) AS analyzed_at,
            arraySort(groupArray(tuple(metric, n, mean, control_mean, rel_lift, ci_low, ci_high, p_value, decision))) AS metrics
          FROM mart_ab_results WHERE pack = {pack:String} GROUP BY experiment, variant`,
        valueColumns: ['analyzed_at', 'metrics'],
        filter: (row) => ({ experiment_name: row.experiment, variant_name: row.variant }),
        scope: (row) => ({ experiment_name: row.experiment }),
        indexes: [{ key: { experiment_name: 1, variant_name: 1 } }],
        fields: abResultFields,
      }),
      mongoTarget({
        collection: mongo.collection('system_analytics'),
        sql: `SELECT toString(d.day) AS natural_key, toString(d.day) AS day, d.dau AS total_active_users,
            ifNull(r.registrations, 0) AS new_registrations, ifNull(m.completions, 0) AS total_lessons_completed,
            c.avg_completion_rate AS avg_completion_rate, c.avg_rating AS avg_user_rating
          FROM (SELECT day, dau FROM mart_dau WHERE pack = {pack:String}) AS d
          LEFT JOIN (SELECT toDate(signup_at) AS day, count() AS registrations FROM dim_users
                     WHERE pack = {pack:String} GROUP BY day) AS r ON r.day = d.day
          LEFT JOIN (SELECT day, sum(completions) AS completions FROM mart_daily_user_metrics
                     WHERE pack = {pack:String} GROUP BY day) AS m ON m.day = d.day
          LEFT JOIN (SELECT day, avg(completion_rate) AS avg_completion_rate,
                       sum(rating_avg * rating_count) / nullIf(sum(rating_count), 0) AS avg_rating
                     FROM mart_content_performance WHERE pack = {pack:String} GROUP BY day) AS c ON c.day = d.day`,
        valueColumns: [
          'total_active_users',
          'new_registrations',
          'total_lessons_completed',
          'avg_completion_rate',
          'avg_user_rating',
        ],
        filter: (row) => ({ date: dateOf(row.day), metric_type: 'daily_summary' }),
        scope: () => ({ metric_type: 'daily_summary' }),
        indexes: [{ key: { date: -1, metric_type: 1 } }],
        fields: (row) => ({
          'user_metrics.total_active_users': num(row.total_active_users),
          'user_metrics.new_registrations': num(row.new_registrations),
          'content_metrics.total_lessons_completed': num(row.total_lessons_completed),
          'content_metrics.content_effectiveness.avg_completion_rate': num(row.avg_completion_rate),
          'content_metrics.content_effectiveness.avg_user_rating': num(row.avg_user_rating),
        }),
      }),
    );
  }
  if (options.postgres)
    targets.push(
      streaksTarget({
        client: options.postgres,
        pack: options.pack,
        source: options.source,
        asOf: options.asOf,
      }),
    );
  return targets;
}

type MetricTuple = [
  string,
  number,
  number,
  number | null,
  number | null,
  number | null,
  number | null,
  number | null,
  string,
];

/** Percent, as the seed's `lift` ("percentage improvement"); null stays null. */
const percent = (value: number | null) => (value === null ? null : value * 100);

/** `significant` below 0.05, `trending` below 0.1: the seed's vocabulary. */
export function significance(pValue: number | null): string | null {
  if (pValue === null) return null;
  return pValue < 0.05 ? 'significant' : pValue < 0.1 ? 'trending' : 'not_significant';
}

export function abResultFields(row: TargetRow): Record<string, unknown> {
  const metrics = (row.metrics as MetricTuple[]).map(
    ([metric, n, mean, controlMean, relLift, ciLow, ciHigh, pValue, decision]) => ({
      metric,
      n: Number(n),
      mean: Number(mean),
      // The control's own row has no control_mean: its control value is its own mean.
      control: controlMean === null ? Number(mean) : Number(controlMean),
      relLift: num(relLift),
      ciLow: num(ciLow),
      ciHigh: num(ciHigh),
      pValue: num(pValue),
      decision,
    }),
  );
  const primary = metrics.find((metric) => metric.metric === PRIMARY_AB_METRIC) ?? metrics[0];
  return {
    'experiment_config.target_metric': primary?.metric ?? null,
    'experiment_config.confidence_level': 0.95,
    'participant_data.total_users': primary?.n ?? 0,
    'participant_data.sample_size': primary?.n ?? 0,
    'participant_data.is_significant':
      primary?.pValue !== null && primary?.pValue !== undefined ? primary.pValue < 0.05 : false,
    'results.primary_metric': {
      variant_value: primary?.mean ?? null,
      control_value: primary?.control ?? null,
      lift: percent(primary?.relLift ?? null),
      p_value: primary?.pValue ?? null,
      confidence_interval: {
        lower: percent(primary?.ciLow ?? null),
        upper: percent(primary?.ciHigh ?? null),
      },
    },
    'results.secondary_metrics': metrics
      .filter((metric) => metric !== primary)
      .map((metric) => ({
        metric_name: metric.metric,
        variant_value: metric.mean,
        control_value: metric.control,
        lift: percent(metric.relLift),
        significance: significance(metric.pValue),
      })),
    'recommendations.decision': primary?.decision ?? 'continue_testing',
    analyzed_at: new Date(`${String(row.analyzed_at).replace(' ', 'T')}Z`),
  };
}
