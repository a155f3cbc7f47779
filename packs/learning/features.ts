// The learning pack's features (issue 15). Of users: activity, study time, completions and scores
// over trailing windows, content mix, recency and streak, trends, experiment variants and the
// profile, settings and device attributes as they were at the timestamp. Of content (lessons,
// paragraphs, words): use, learners, completions, scores, ratings, recency and the lesson's own
// attributes. Declarations only: the feature engine (features/) computes them.
import type {
  ActivityFeature,
  ActivityFilter,
  ActivityMeasure,
  Entity,
  FeatureDefinition,
  FeatureRegistry,
  RatioFeature,
  Window,
} from '../../features/index.ts';
import { EXPERIMENTS } from './experiments.ts';

const user = 'user' as const;
const days = (n: number): Window => ({ days: n });
const suffix = (window: Window): string =>
  window === 'all' ? 'all' : window.offsetDays ? `prev${window.days}d` : `${window.days}d`;
const span = (window: Window, entity: Entity): string =>
  window === 'all'
    ? entity === user
      ? 'since signup'
      : 'since it was created'
    : window.offsetDays
      ? `in the ${window.days} days before the last ${window.offsetDays}`
      : `in the last ${window.days} day${window.days === 1 ? '' : 's'}`;

/** Declaration helpers for one entity's features. */
function declarations(entity: Entity) {
  const ratio = (
    name: string,
    description: string,
    numerator: string,
    denominator: string,
    denominatorScale?: number,
  ): RatioFeature => ({
    kind: 'ratio',
    name,
    entity,
    description,
    numerator,
    denominator,
    ...(denominatorScale ? { denominatorScale } : {}),
  });
  return {
    activity(
      stem: string,
      what: string,
      measure: ActivityMeasure,
      windows: Window[],
      where?: ActivityFilter,
    ): ActivityFeature[] {
      return windows.map((window) => ({
        kind: 'activity',
        name: `${stem}_${suffix(window)}`,
        entity,
        description: `${what} ${span(window, entity)}`,
        window,
        measure,
        ...(where ? { where } : {}),
      }));
    },
    ratio,
    /** A ratio whose numerator's facts belong to its denominator's: within [0, 1] (RatioFeature). */
    share: (name: string, description: string, numerator: string, denominator: string): RatioFeature => ({
      ...ratio(name, description, numerator, denominator),
      share: true,
    }),
  };
}

const { activity, ratio, share } = declarations(user);

const PASS_RATIO = 0.6;
const exercises: ActivityFilter = { eventTypes: ['exercise_attempt'], scored: true };
const previous21: Window = { days: 21, offsetDays: 7 };

const features: FeatureDefinition[] = [
  ...activity('activity_count', 'Learning actions', { fn: 'count' }, [
    days(1),
    days(7),
    days(28),
    days(90),
    'all',
  ]),
  ...activity('active_days', 'Distinct UTC days with activity', { fn: 'activeDays' }, [
    days(7),
    days(28),
    days(90),
  ]),
  ...activity('sessions', 'Distinct app sessions', { fn: 'distinct', column: 'session_id' }, [
    days(7),
    days(28),
    days(90),
  ]),
  ...activity(
    'study_seconds',
    'Seconds spent on exercises, audio and reading',
    { fn: 'sum', column: 'duration_s' },
    [days(7), days(28), days(90)],
  ),
  ...activity(
    'lesson_completions',
    'Lessons completed',
    { fn: 'count' },
    [days(7), days(28), days(90), 'all'],
    {
      completion: true,
    },
  ),
  ...activity('lesson_starts', 'Lessons started', { fn: 'count' }, [days(7), days(28), days(90)], {
    eventTypes: ['lesson_start'],
  }),
  share(
    'completion_rate_28d',
    'Lessons completed per lesson started, last 28 days',
    'lesson_completions_28d',
    'lesson_starts_28d',
  ),
  share(
    'completion_rate_90d',
    'Lessons completed per lesson started, last 90 days',
    'lesson_completions_90d',
    'lesson_starts_90d',
  ),
  ...activity('exercise_attempts', 'Exercises answered', { fn: 'count' }, [days(7), days(28)], exercises),
  ...activity(
    'avg_score_ratio',
    'Average exercise score as a share of the maximum',
    { fn: 'avg', column: 'score_ratio' },
    [days(28), days(90)],
    exercises,
  ),
  ...activity(
    'best_score_ratio',
    'Best exercise score as a share of the maximum',
    { fn: 'max', column: 'score_ratio' },
    [days(90)],
    exercises,
  ),
  ...activity(
    'passed_exercises',
    `Exercises scored at least ${PASS_RATIO * 100}% of the maximum`,
    { fn: 'count' },
    [days(28), days(90)],
    { ...exercises, passRatio: PASS_RATIO },
  ),
  share(
    'pass_rate_28d',
    'Passed exercises per exercise answered, last 28 days',
    'passed_exercises_28d',
    'exercise_attempts_28d',
  ),
  ...activity('exercise_attempts', 'Exercises answered', { fn: 'count' }, [days(90)], exercises),
  share(
    'pass_rate_90d',
    'Passed exercises per exercise answered, last 90 days',
    'passed_exercises_90d',
    'exercise_attempts_90d',
  ),
  ...activity(
    'distinct_lessons',
    'Distinct lessons touched',
    { fn: 'distinct', column: 'content_id' },
    [days(28)],
    {
      contentTypes: ['lesson'],
    },
  ),
  ...activity(
    'distinct_paragraphs',
    'Distinct paragraphs read',
    { fn: 'distinct', column: 'content_id' },
    [days(28)],
    {
      contentTypes: ['paragraph'],
    },
  ),
  ...activity(
    'distinct_words',
    'Distinct words looked up',
    { fn: 'distinct', column: 'content_id' },
    [days(28)],
    {
      contentTypes: ['word'],
    },
  ),
  ...activity(
    'distinct_content',
    'Distinct content items of any type',
    { fn: 'distinct', column: 'content_id' },
    [days(90)],
  ),
  ...activity('lesson_events', 'Actions on lessons', { fn: 'count' }, [days(28)], {
    contentTypes: ['lesson'],
  }),
  ...activity('paragraph_events', 'Actions on paragraphs', { fn: 'count' }, [days(28)], {
    contentTypes: ['paragraph'],
  }),
  ...activity('word_events', 'Actions on words', { fn: 'count' }, [days(28)], { contentTypes: ['word'] }),
  ratio(
    'share_lesson_28d',
    'Share of the last 28 days\u2019 actions that were on lessons',
    'lesson_events_28d',
    'activity_count_28d',
  ),
  ratio(
    'share_paragraph_28d',
    'Share of the last 28 days\u2019 actions that were on paragraphs',
    'paragraph_events_28d',
    'activity_count_28d',
  ),
  ratio(
    'share_word_28d',
    'Share of the last 28 days\u2019 actions that were on words',
    'word_events_28d',
    'activity_count_28d',
  ),
  ...activity('audio_plays', 'Audio clips played', { fn: 'count' }, [days(28)], {
    eventTypes: ['audio_play'],
  }),
  ...activity(
    'xp',
    'Experience points (exercise scores, 10 per completed lesson)',
    { fn: 'sum', column: 'value' },
    [days(28), 'all'],
  ),
  {
    kind: 'activity',
    name: 'days_since_last_activity',
    entity: user,
    description: 'Whole days since the last learning action (null: none yet)',
    window: 'all',
    measure: { fn: 'daysSinceLast' },
  },
  {
    kind: 'activity',
    name: 'current_streak',
    entity: user,
    description: 'Consecutive UTC days with activity, ending on the timestamp\u2019s day or the day before',
    window: 'all',
    measure: { fn: 'currentStreak' },
  },
  { kind: 'tenure', name: 'days_since_signup', entity: user, description: 'Whole days since signup' },
  ...activity('activity_count', 'Learning actions', { fn: 'count' }, [previous21]),
  ratio(
    'activity_trend_7v21',
    'Actions in the last 7 days per 7 days of the 21 before',
    'activity_count_7d',
    'activity_count_prev21d',
    7 / 21,
  ),
  ...activity('active_days', 'Distinct UTC days with activity', { fn: 'activeDays' }, [previous21]),
  ratio(
    'active_days_trend_7v21',
    'Active days in the last 7 days per 7 days of the 21 before',
    'active_days_7d',
    'active_days_prev21d',
    7 / 21,
  ),
  ...activity(
    'study_seconds',
    'Seconds spent on exercises, audio and reading',
    { fn: 'sum', column: 'duration_s' },
    [previous21],
  ),
  ratio(
    'study_time_trend_7v21',
    'Study time in the last 7 days per 7 days of the 21 before',
    'study_seconds_7d',
    'study_seconds_prev21d',
    7 / 21,
  ),
  {
    kind: 'rating',
    name: 'ratings_90d',
    entity: user,
    description: 'Lesson reviews written in the last 90 days (by day)',
    window: days(90),
    measure: 'count',
  },
  {
    kind: 'rating',
    name: 'avg_rating_90d',
    entity: user,
    description: 'Average lesson rating given in the last 90 days (by day)',
    window: days(90),
    measure: 'avg',
  },
  ...EXPERIMENTS.map((experiment): FeatureDefinition => ({
    kind: 'exposure',
    name: `variant_${experiment.experiment_name}`,
    entity: user,
    description: `Variant of ${experiment.experiment_name} first shown to the user (null: not exposed yet)`,
    experiment: experiment.experiment_name,
  })),
  {
    kind: 'attribute',
    name: 'country',
    entity: user,
    description: 'Country code on the profile',
    source: 'profile',
    column: 'country_code',
    type: 'string',
  },
  {
    kind: 'attribute',
    name: 'timezone',
    entity: user,
    description: 'Time zone on the profile',
    source: 'profile',
    column: 'timezone',
    type: 'string',
  },
  {
    kind: 'attribute',
    name: 'proficiency_level',
    entity: user,
    description: 'Self-reported proficiency (1\u201310)',
    source: 'profile',
    column: 'proficiency_level',
    type: 'int64',
  },
  {
    kind: 'attribute',
    name: 'account_status',
    entity: user,
    description: 'Account status (active, inactive, \u2026)',
    source: 'account',
    column: 'status',
    type: 'string',
  },
  {
    kind: 'attribute',
    name: 'learning_mode',
    entity: user,
    description: 'Learning mode setting (standard, intensive, casual)',
    source: 'settings',
    column: 'learning_mode',
    type: 'string',
  },
  {
    kind: 'attribute',
    name: 'daily_goal_minutes',
    entity: user,
    description: 'Daily goal setting, in minutes',
    source: 'settings',
    column: 'daily_goal_minutes',
    type: 'int64',
  },
  {
    kind: 'attribute',
    name: 'platform',
    entity: user,
    description: 'Platform of the latest session (ios, android, web)',
    source: 'session',
    column: 'device_info',
    jsonField: 'platform',
    type: 'string',
  },
];

export const learningFeatures: FeatureRegistry = {
  pack: 'learning',
  entity: user,
  attributeSources: [
    { name: 'profile', table: 'user_profiles', entityColumn: 'user_id', validFrom: 'updated_at' },
    { name: 'account', table: 'users', entityColumn: 'id', validFrom: 'updated_at' },
    { name: 'settings', table: 'user_settings', entityColumn: 'user_id', validFrom: 'updated_at' },
    { name: 'session', table: 'user_sessions', entityColumn: 'user_id', validFrom: 'created_at' },
  ],
  features,
  sets: {
    engagement: [
      'activity_count_7d',
      'active_days_28d',
      'sessions_28d',
      'study_seconds_28d',
      'days_since_last_activity',
      'current_streak',
      'activity_trend_7v21',
    ],
    profile: [
      'country',
      'timezone',
      'proficiency_level',
      'account_status',
      'learning_mode',
      'platform',
      'days_since_signup',
    ],
  },
  labels: [
    {
      name: 'churn_14d',
      description: 'No learning action in the 14 days from the timestamp',
      kind: 'noActivityWithin',
      days: 14,
    },
    {
      name: 'churn_7d',
      description: 'No learning action in the 7 days from the timestamp',
      kind: 'noActivityWithin',
      days: 7,
    },
  ],
};

const content = 'content' as const;
const onContent = declarations(content);

const contentFeatures: FeatureDefinition[] = [
  ...onContent.activity('interactions', 'Learning actions on the item', { fn: 'count' }, [
    days(7),
    days(28),
    'all',
  ]),
  ...onContent.activity(
    'learners',
    'Distinct users acting on the item',
    { fn: 'distinct', column: 'user_id' },
    [days(7), days(28), days(90)],
  ),
  ...onContent.activity('active_days', 'Distinct UTC days the item was used', { fn: 'activeDays' }, [
    days(28),
  ]),
  ...onContent.activity(
    'study_seconds',
    'Seconds users spent on the item',
    { fn: 'sum', column: 'duration_s' },
    [days(28)],
  ),
  ...onContent.activity(
    'completions',
    'Completions of the lesson',
    { fn: 'count' },
    [days(7), days(28), 'all'],
    {
      completion: true,
    },
  ),
  ...onContent.activity('starts', 'Starts of the lesson', { fn: 'count' }, [days(28)], {
    eventTypes: ['lesson_start'],
  }),
  onContent.share(
    'completion_rate_28d',
    'Completions per start of the lesson, last 28 days',
    'completions_28d',
    'starts_28d',
  ),
  ...onContent.activity(
    'exercise_attempts',
    'Exercises answered on the item',
    { fn: 'count' },
    [days(28)],
    exercises,
  ),
  ...onContent.activity(
    'passed_exercises',
    `Exercises on the item scored at least ${PASS_RATIO * 100}% of the maximum`,
    { fn: 'count' },
    [days(28)],
    { ...exercises, passRatio: PASS_RATIO },
  ),
  onContent.share(
    'pass_rate_28d',
    'Passed exercises per exercise answered on the item, last 28 days',
    'passed_exercises_28d',
    'exercise_attempts_28d',
  ),
  ...onContent.activity(
    'avg_score_ratio',
    'Average exercise score on the item as a share of the maximum',
    { fn: 'avg', column: 'score_ratio' },
    [days(28), days(90)],
    exercises,
  ),
  {
    kind: 'activity',
    name: 'days_since_last_activity',
    entity: content,
    description: 'Whole days since the last learning action on the item (null: none yet)',
    window: 'all',
    measure: { fn: 'daysSinceLast' },
  },
  ...onContent.activity('interactions', 'Learning actions on the item', { fn: 'count' }, [previous21]),
  onContent.ratio(
    'interactions_trend_7v21',
    'Actions on the item in the last 7 days per 7 days of the 21 before',
    'interactions_7d',
    'interactions_prev21d',
    7 / 21,
  ),
  ...(['count', 'avg'] as const).flatMap((measure) =>
    ([days(90), 'all'] as Window[]).map((window): FeatureDefinition => ({
      kind: 'rating',
      name: `${measure === 'count' ? 'ratings' : 'avg_rating'}_${suffix(window)}`,
      entity: content,
      description: `${measure === 'count' ? 'Reviews of the lesson' : 'Average rating of the lesson'} ${span(window, content)} (by day)`,
      window,
      measure,
    })),
  ),
  {
    kind: 'tenure',
    name: 'days_since_created',
    entity: content,
    description: 'Whole days since the item was created',
  },
  {
    kind: 'attribute',
    name: 'difficulty_level',
    entity: content,
    description: 'The lesson\u2019s difficulty (1\u201310; null for paragraphs and words)',
    source: 'lesson',
    column: 'difficulty_level',
    type: 'int64',
  },
  {
    kind: 'attribute',
    name: 'lesson_type',
    entity: content,
    description: 'The lesson\u2019s type (reading, listening, speaking, mixed)',
    source: 'lesson',
    column: 'lesson_type',
    type: 'string',
  },
  {
    kind: 'attribute',
    name: 'topic_category',
    entity: content,
    description: 'The lesson\u2019s topic',
    source: 'lesson',
    column: 'topic_category',
    type: 'string',
  },
];

export const learningContentFeatures: FeatureRegistry = {
  pack: 'learning',
  entity: content,
  attributeSources: [{ name: 'lesson', table: 'lessons', entityColumn: 'id', validFrom: 'updated_at' }],
  features: contentFeatures,
  sets: {
    performance: [
      'interactions_28d',
      'learners_28d',
      'completion_rate_28d',
      'pass_rate_28d',
      'avg_rating_90d',
      'days_since_last_activity',
    ],
  },
  labels: [
    {
      name: 'idle_14d',
      description: 'No learning action on the item in the 14 days from the timestamp',
      kind: 'noActivityWithin',
      days: 14,
    },
  ],
};
