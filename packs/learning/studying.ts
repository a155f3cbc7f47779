// Lesson-service behaviour of learners: choosing, starting, reading, practising and finishing
// lessons; activity results, reviews, bookmarks and series progress; the nightly lesson counters;
// and the cleanup a lesson service does when it hears that an account was deleted.
import {
  isAvailable,
  type CatalogActivity,
  type CatalogLesson,
  type CatalogParagraph,
  type CatalogSeries,
} from './catalog.ts';
import { MINUTE, type Clock, type SimulationContext } from './context.ts';
import { lessonContent } from './documents.ts';
import { inOnboardingWindow, type Learner, type LessonProgress } from './learner.ts';
import {
  appendTo,
  array,
  increment,
  json,
  literal,
  raw,
  timestamp,
  type SqlRow,
  type SqlValue,
} from '../common/sql-script.ts';

const MAX_LESSONS_PER_SESSION = 4;
const MAX_ATTEMPTS = 3;
const PASS_RATIO = 0.7;
const LESSON_SERVICE_TABLES = [
  'user_activity_results',
  'user_lesson_progress',
  'user_series_progress',
  'lesson_reviews',
  'user_lesson_bookmarks',
  'user_word_bookmarks',
] as const;
const REVIEW_TEXTS: Record<number, readonly string[]> = {
  1: ['Too hard for a beginner lesson.', 'Audio không rõ lắm.'],
  2: ['The exercises did not match the reading.', 'Hơi khó hiểu.'],
  3: ['Okay, but I wanted more speaking practice.', 'Bài học tạm được.'],
  4: ['Good lesson, clear explanations.', 'Bài học hay, dễ hiểu!', 'Nice vocabulary for daily life.'],
  5: [
    'Tuyệt vời! Cảm ơn cô giáo.',
    'Best lesson so far, the tones finally clicked.',
    'Rất hữu ích cho chuyến đi của tôi 🇻🇳',
  ],
};

/** One study session: lessons until the learner's time budget runs out, then some housekeeping. */
export function studySession(context: SimulationContext, learner: Learner, day: number, clock: Clock): void {
  const { random } = context;
  const budgetEnd = clock.now + learner.dailyGoalMinutes * random.between(0.5, 1.6) * MINUTE;
  for (let count = 0; count < MAX_LESSONS_PER_SESSION && clock.now < budgetEnd; count++) {
    const lesson = chooseLesson(context, learner, day);
    if (!lesson) break;
    studyLesson(context, learner, lesson, clock, budgetEnd);
    clock.advance(random.int(10, 90));
  }
  if (random.chance(0.03)) reviseReview(context, learner, clock);
  if (random.chance(0.15)) voteReviewHelpful(context, learner);
  tidyBookmarks(context, learner, clock);
}

/** Adds the day's views and recomputes ratings of lessons whose reviews changed. */
export function publishLessonStats(context: SimulationContext): void {
  for (const [lessonId, views] of context.lessonViews) {
    context.script.update('lessons', { view_count: increment('view_count', views) }, { id: lessonId });
  }
  for (const lessonId of context.lessonsToRerate) {
    const reviewsOfLesson = `FROM lesson_reviews WHERE lesson_id = ${literal(lessonId)}`;
    context.script.update(
      'lessons',
      {
        rating_average: raw(`COALESCE((SELECT round(avg(rating), 2) ${reviewsOfLesson}), 0)`),
        rating_count: raw(`(SELECT count(*) ${reviewsOfLesson})`),
      },
      { id: lessonId },
    );
  }
  context.lessonViews.clear();
  context.lessonsToRerate.clear();
}

/** The lesson tables hold user ids without foreign keys, so the service deletes them itself. */
export function deleteLessonData(context: SimulationContext, learner: Learner): void {
  for (const table of LESSON_SERVICE_TABLES) context.script.delete(table, { user_id: learner.id });
  for (const lessonId of learner.reviews.keys()) {
    context.lessonsToRerate.add(lessonId);
    const reviews = context.publicReviews.get(lessonId) ?? [];
    context.publicReviews.set(
      lessonId,
      reviews.filter((review) => review.userId !== learner.id),
    );
  }
}

/** Resumes unfinished work first, then follows a series, then picks a fresh lesson near the learner's level. */
function chooseLesson(context: SimulationContext, learner: Learner, day: number): CatalogLesson | null {
  const { random } = context;
  const progress = [...learner.lessons.values()];
  const unfinished = progress.find((entry) => entry.status === 'in_progress');
  if (unfinished && random.chance(0.6)) return unfinished.lesson;
  const failed = progress.find((entry) => entry.status === 'failed');
  if (failed && random.chance(0.4)) return failed.lesson;
  const fresh = context.catalog.lessons.filter(
    (lesson) => isAvailable(lesson, day) && !learner.lessons.has(lesson.id),
  );
  const nextInSeries = fresh.find((lesson) => lesson.series.some((series) => learner.series.has(series.id)));
  if (nextInSeries && random.chance(0.7)) return nextInSeries;
  const ready = fresh.filter((lesson) => prerequisitesMet(learner, lesson));
  // Prerequisites are advice, not locks: some learners skip ahead.
  const candidates = ready.length > 0 && random.chance(0.9) ? ready : fresh;
  if (candidates.length === 0) return null;
  return random.weighted(
    candidates.map(
      (lesson) => [lesson, 1 / (1 + Math.abs(lesson.difficulty - learner.proficiencyLevel))] as const,
    ),
  );
}

function prerequisitesMet(learner: Learner, lesson: CatalogLesson): boolean {
  return lesson.prerequisiteIds.every((id) => learner.lessons.get(id)?.status === 'completed');
}

function studyLesson(
  context: SimulationContext,
  learner: Learner,
  lesson: CatalogLesson,
  clock: Clock,
  budgetEnd: number,
): void {
  const visitStart = clock.now;
  const progress = openLesson(context, learner, lesson, clock);
  context.documents.interaction(learner, clock.now, 'lesson_start', lessonContent(lesson));
  context.lessonViews.set(lesson.id, (context.lessonViews.get(lesson.id) ?? 0) + 1);
  const finished =
    readParagraphs(context, learner, progress, clock, budgetEnd) &&
    practise(context, learner, progress, clock, budgetEnd);
  if (finished) finishLesson(context, learner, progress, clock);
  const visitSeconds = Math.round((clock.now - visitStart) / 1000);
  for (const series of lesson.series)
    updateSeriesProgress(context, learner, series, progress, visitSeconds, clock);
  const justCompleted = finished && progress.status === 'completed';
  if (justCompleted && !learner.reviews.has(lesson.id) && context.random.chance(0.12))
    writeReview(context, learner, progress, clock);
}

/** Starts, retries (after a failure) or resumes the lesson. */
function openLesson(
  context: SimulationContext,
  learner: Learner,
  lesson: CatalogLesson,
  clock: Clock,
): LessonProgress {
  const existing = learner.lessons.get(lesson.id);
  if (!existing) return startLesson(context, learner, lesson, clock);
  const now = timestamp(clock.now);
  if (existing.status === 'failed') {
    existing.status = 'in_progress';
    existing.activitiesDone = 0;
    existing.score = 0;
    existing.attempts += 1;
    context.script.update(
      'user_lesson_progress',
      {
        status: 'in_progress',
        progress_percent: percentDone(existing),
        completed_activities: array([]),
        score: 0,
        attempts_count: existing.attempts,
        last_accessed_at: now,
        updated_at: now,
      },
      { id: existing.id },
    );
  } else {
    context.script.update(
      'user_lesson_progress',
      { last_accessed_at: now, updated_at: now },
      { id: existing.id },
    );
  }
  return existing;
}

function startLesson(
  context: SimulationContext,
  learner: Learner,
  lesson: CatalogLesson,
  clock: Clock,
): LessonProgress {
  const { random, script } = context;
  const progress: LessonProgress = {
    id: random.uuid(),
    lesson,
    status: 'in_progress',
    paragraphsDone: 0,
    activitiesDone: 0,
    score: 0,
    attempts: 1,
  };
  learner.lessons.set(lesson.id, progress);
  const now = timestamp(clock.now);
  script.insert('user_lesson_progress', [
    {
      id: progress.id,
      user_id: learner.id,
      lesson_id: lesson.id,
      status: 'in_progress',
      progress_percent: 0,
      current_paragraph_id: lesson.paragraphs[0]?.id ?? null,
      completed_paragraphs: array([]),
      completed_activities: array([]),
      total_time_spent: 0,
      score: 0,
      max_score: lesson.maxScore,
      attempts_count: 1,
      started_at: now,
      completed_at: null,
      last_accessed_at: now,
      created_at: now,
      updated_at: now,
    },
  ]);
  context.tallies.lessonsStarted += 1;
  for (const series of lesson.series) {
    if (!learner.series.has(series.id)) startSeries(context, learner, series, lesson, clock);
  }
  if (!learner.lessonBookmarks.has(lesson.id) && random.chance(0.08)) {
    learner.lessonBookmarks.add(lesson.id);
    script.insert('user_lesson_bookmarks', [{ user_id: learner.id, lesson_id: lesson.id, created_at: now }]);
  }
  return progress;
}

/** Reads the remaining paragraphs; returns false when the learner stops part-way. */
function readParagraphs(
  context: SimulationContext,
  learner: Learner,
  progress: LessonProgress,
  clock: Clock,
  budgetEnd: number,
): boolean {
  const { random, script } = context;
  const { paragraphs } = progress.lesson;
  for (
    let paragraph = paragraphs[progress.paragraphsDone];
    paragraph;
    paragraph = paragraphs[progress.paragraphsDone]
  ) {
    const seconds = Math.round(paragraph.readSeconds * random.between(0.8, 2.5) + random.int(10, 60));
    clock.advance(seconds);
    context.documents.paragraphRead(learner, clock.now, progress.lesson, paragraph, seconds);
    if (random.chance(0.15)) saveWord(context, learner, paragraph, progress.lesson, clock);
    progress.paragraphsDone += 1;
    const now = timestamp(clock.now);
    script.update(
      'user_lesson_progress',
      {
        completed_paragraphs: appendTo('completed_paragraphs', paragraph.id),
        current_paragraph_id: paragraphs[progress.paragraphsDone]?.id ?? null,
        progress_percent: percentDone(progress),
        total_time_spent: increment('total_time_spent', seconds),
        last_accessed_at: now,
        updated_at: now,
      },
      { id: progress.id },
    );
    if (stopsHere(context, learner, clock, budgetEnd)) return false;
  }
  return true;
}

/** Works through the remaining activities; returns false when the learner stops part-way. */
function practise(
  context: SimulationContext,
  learner: Learner,
  progress: LessonProgress,
  clock: Clock,
  budgetEnd: number,
): boolean {
  const { activities } = progress.lesson;
  for (
    let activity = activities[progress.activitiesDone];
    activity;
    activity = activities[progress.activitiesDone]
  ) {
    const started = clock.now;
    const score = attemptActivity(context, learner, progress.lesson, activity, clock);
    progress.activitiesDone += 1;
    progress.score += score;
    const now = timestamp(clock.now);
    context.script.update(
      'user_lesson_progress',
      {
        completed_activities: appendTo('completed_activities', activity.id),
        score: progress.score,
        progress_percent: percentDone(progress),
        total_time_spent: increment('total_time_spent', Math.round((clock.now - started) / 1000)),
        last_accessed_at: now,
        updated_at: now,
      },
      { id: progress.id },
    );
    if (stopsHere(context, learner, clock, budgetEnd)) return false;
  }
  return true;
}

/** Attempts an activity up to three times and records every attempt; returns the best score. */
function attemptActivity(
  context: SimulationContext,
  learner: Learner,
  lesson: CatalogLesson,
  activity: CatalogActivity,
  clock: Clock,
): number {
  const { random } = context;
  const rows: SqlRow[] = [];
  let best = 0;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const attemptNumber = (learner.activityAttempts.get(activity.id) ?? 0) + 1;
    learner.activityAttempts.set(activity.id, attemptNumber);
    const passChance =
      learner.skill - (lesson.difficulty - learner.proficiencyLevel) * 0.05 + (attempt - 1) * 0.1;
    const passed = random.chance(Math.min(0.98, Math.max(0.05, passChance)));
    const score = passed
      ? Math.round(activity.points * (random.chance(0.55) ? 1 : random.between(0.6, 0.95)))
      : Math.round(activity.points * random.between(0, 0.5));
    const timeTaken = activity.timeLimitSeconds
      ? random.int(Math.ceil(activity.timeLimitSeconds / 5), activity.timeLimitSeconds)
      : random.int(8, 40);
    clock.advance(timeTaken);
    context.documents.interaction(
      learner,
      clock.now,
      'exercise_attempt',
      { type: 'exercise', id: activity.id, title: activity.title, difficulty: lesson.difficulty },
      { duration: timeTaken, score, attempts: attemptNumber, hint_usage: passed ? 0 : 1 },
    );
    rows.push({
      id: random.uuid(),
      user_id: learner.id,
      lesson_id: lesson.id,
      activity_id: activity.id,
      attempt_number: attemptNumber,
      user_answers: json(passed ? activity.correctAnswer : activity.wrongAnswer),
      correct_answers: json(activity.correctAnswer),
      score,
      max_score: activity.points,
      time_taken: timeTaken,
      is_passed: passed,
      feedback: passed
        ? random.pick(['Chính xác!', 'Tuyệt vời!', 'Great job!', null])
        : random.pick(['Chưa đúng, thử lại nhé.', 'Check the tone marks.', 'Almost, listen again.']),
      completed_at: timestamp(clock.now),
      created_at: timestamp(clock.now),
    });
    best = Math.max(best, score);
    if (passed || !random.chance(0.6)) break;
  }
  learner.skill = Math.min(0.95, learner.skill + 0.004);
  context.script.insert('user_activity_results', rows);
  context.tallies.activityAttempts += rows.length;
  return best;
}

function finishLesson(
  context: SimulationContext,
  learner: Learner,
  progress: LessonProgress,
  clock: Clock,
): void {
  const passed =
    plantedOnboardingOutcome(learner, clock.now) ?? progress.score >= PASS_RATIO * progress.lesson.maxScore;
  progress.status = passed ? 'completed' : 'failed';
  context.documents.interaction(
    learner,
    clock.now,
    passed ? 'lesson_complete' : 'lesson_fail',
    lessonContent(progress.lesson),
    { score: progress.score, completion_rate: 1 },
  );
  const now = timestamp(clock.now);
  context.script.update(
    'user_lesson_progress',
    {
      status: progress.status,
      progress_percent: 100,
      current_paragraph_id: null,
      completed_at: passed ? now : null,
      last_accessed_at: now,
      updated_at: now,
    },
    { id: progress.id },
  );
  if (!passed) return;
  learner.completedLessons += 1;
  if (progress.score === progress.lesson.maxScore) learner.perfectLessons += 1;
  context.tallies.lessonsCompleted += 1;
}

function startSeries(
  context: SimulationContext,
  learner: Learner,
  series: CatalogSeries,
  lesson: CatalogLesson,
  clock: Clock,
): void {
  const entry = { id: context.random.uuid(), series, completedLessonIds: [] };
  learner.series.set(series.id, entry);
  const now = timestamp(clock.now);
  context.script.insert('user_series_progress', [
    {
      id: entry.id,
      user_id: learner.id,
      series_id: series.id,
      status: 'in_progress',
      progress_percent: 0,
      current_lesson_id: lesson.id,
      completed_lessons: array([]),
      total_time_spent: 0,
      started_at: now,
      completed_at: null,
      last_accessed_at: now,
      created_at: now,
      updated_at: now,
    },
  ]);
}

function updateSeriesProgress(
  context: SimulationContext,
  learner: Learner,
  series: CatalogSeries,
  progress: LessonProgress,
  visitSeconds: number,
  clock: Clock,
): void {
  const entry = learner.series.get(series.id);
  if (!entry) return;
  const now = timestamp(clock.now);
  const set: Record<string, SqlValue> = {
    total_time_spent: increment('total_time_spent', visitSeconds),
    last_accessed_at: now,
    updated_at: now,
  };
  const justCompleted =
    progress.status === 'completed' && !entry.completedLessonIds.includes(progress.lesson.id);
  if (justCompleted) {
    entry.completedLessonIds.push(progress.lesson.id);
    const remaining = series.lessons.filter((lesson) => !entry.completedLessonIds.includes(lesson.id));
    Object.assign(set, {
      completed_lessons: appendTo('completed_lessons', progress.lesson.id),
      progress_percent: Math.round((100 * entry.completedLessonIds.length) / series.lessons.length),
      current_lesson_id: remaining[0]?.id ?? null,
      status: remaining.length === 0 ? 'completed' : 'in_progress',
      completed_at: remaining.length === 0 ? now : null,
    });
    if (remaining.length === 0) learner.completedSeries += 1;
  }
  context.script.update('user_series_progress', set, { id: entry.id });
}

function writeReview(
  context: SimulationContext,
  learner: Learner,
  progress: LessonProgress,
  clock: Clock,
): void {
  const { random } = context;
  const lessonId = progress.lesson.id;
  const scoreRatio = progress.score / progress.lesson.maxScore;
  const rating = clampRating(3.6 + (scoreRatio - 0.75) * 4 + random.between(-1.2, 1.2));
  const id = random.uuid();
  const isPublic = random.chance(0.9);
  const now = timestamp(clock.now);
  context.script.insert('lesson_reviews', [
    {
      id,
      user_id: learner.id,
      lesson_id: lessonId,
      rating,
      review_text: random.chance(0.6) ? random.pick(REVIEW_TEXTS[rating] ?? []) : null,
      is_public: isPublic,
      helpful_count: 0,
      created_at: now,
      updated_at: now,
    },
  ]);
  learner.reviews.set(lessonId, { id, rating });
  if (isPublic)
    context.publicReviews.set(lessonId, [
      ...(context.publicReviews.get(lessonId) ?? []),
      { id, userId: learner.id },
    ]);
  context.lessonsToRerate.add(lessonId);
  context.tallies.reviews += 1;
}

/** A learner comes back and changes their mind about a lesson. */
function reviseReview(context: SimulationContext, learner: Learner, clock: Clock): void {
  const { random } = context;
  const reviewed = [...learner.reviews.entries()];
  if (reviewed.length === 0) return;
  const [lessonId, review] = random.pick(reviewed);
  review.rating = clampRating(review.rating + random.pick([-1, 1]));
  context.script.update(
    'lesson_reviews',
    {
      rating: review.rating,
      review_text: random.pick(REVIEW_TEXTS[review.rating] ?? []),
      updated_at: timestamp(clock.now),
    },
    { id: review.id },
  );
  context.lessonsToRerate.add(lessonId);
}

function voteReviewHelpful(context: SimulationContext, learner: Learner): void {
  const { random } = context;
  const studied = [...learner.lessons.keys()];
  if (studied.length === 0) return;
  const others = (context.publicReviews.get(random.pick(studied)) ?? []).filter(
    (review) => review.userId !== learner.id,
  );
  if (others.length === 0) return;
  context.script.update(
    'lesson_reviews',
    { helpful_count: increment('helpful_count', 1) },
    { id: random.pick(others).id },
  );
}

function saveWord(
  context: SimulationContext,
  learner: Learner,
  paragraph: CatalogParagraph,
  lesson: CatalogLesson,
  clock: Clock,
): void {
  const { random } = context;
  const unsaved = paragraph.words.filter((word) => !learner.wordBookmarks.has(word.id));
  if (unsaved.length === 0) return;
  const word = random.pick(unsaved);
  learner.wordBookmarks.add(word.id);
  learner.wordsSavedEver += 1;
  context.documents.interaction(learner, clock.now, 'word_click', {
    type: 'word',
    id: word.id,
    title: word.text,
    difficulty: lesson.difficulty,
  });
  context.script.insert('user_word_bookmarks', [
    {
      user_id: learner.id,
      word_id: word.id,
      lesson_context_id: lesson.id,
      notes: random.chance(0.4)
        ? random.pick([word.english, `nghĩa: ${word.english}`, `hỏi cô giáo về "${word.text}"`])
        : null,
      created_at: timestamp(clock.now),
    },
  ]);
}

/** Some saved lessons and words get removed again, and some notes rewritten. */
function tidyBookmarks(context: SimulationContext, learner: Learner, clock: Clock): void {
  const { random, script } = context;
  if (learner.lessonBookmarks.size > 0 && random.chance(0.03)) {
    const lessonId = random.pick([...learner.lessonBookmarks]);
    learner.lessonBookmarks.delete(lessonId);
    script.delete('user_lesson_bookmarks', { user_id: learner.id, lesson_id: lessonId });
  }
  if (learner.wordBookmarks.size > 0 && random.chance(0.04)) {
    const wordId = random.pick([...learner.wordBookmarks]);
    learner.wordBookmarks.delete(wordId);
    script.delete('user_word_bookmarks', { user_id: learner.id, word_id: wordId });
  }
  if (learner.wordBookmarks.size > 0 && random.chance(0.03)) {
    const wordId = random.pick([...learner.wordBookmarks]);
    script.update(
      'user_word_bookmarks',
      { notes: `ôn lại ngày ${new Date(clock.now).toISOString().slice(0, 10)}` },
      { user_id: learner.id, word_id: wordId },
    );
  }
}

/** Only the learner's decision to stop is random; running over the time budget makes it likely. */
function stopsHere(context: SimulationContext, learner: Learner, clock: Clock, budgetEnd: number): boolean {
  // A learner planted to complete a lesson in the onboarding window does not stop before it.
  if (plantedOnboardingOutcome(learner, clock.now) === true) return false;
  return context.random.chance(clock.now > budgetEnd ? 0.5 : 0.06);
}

/**
 * exp_onboarding_v2's planted truth: within 7 days of exposure, a learner drawn to complete a lesson
 * passes their first one, and one drawn not to fails every lesson. Undefined outside the window.
 */
function plantedOnboardingOutcome(learner: Learner, at: number): boolean | undefined {
  if (!inOnboardingWindow(learner, at)) return undefined;
  if (!learner.completesOnboarding) return false;
  return learner.completedLessons === 0 ? true : undefined;
}

function percentDone(progress: LessonProgress): number {
  const steps = progress.lesson.paragraphs.length + progress.lesson.activities.length;
  return Math.min(100, Math.round((100 * (progress.paragraphsDone + progress.activitiesDone)) / steps));
}

function clampRating(value: number): number {
  return Math.min(5, Math.max(1, Math.round(value)));
}
