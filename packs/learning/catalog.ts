// The platform's catalog — instructors, words, paragraphs, lessons with their paragraphs and
// activities, lesson series — written before the simulated period, and the editorial changes
// (lesson releases, paragraph revisions) made during it.
import {
  draftActivity,
  type ActivityDraft,
  type ActivityMaterial,
  type ActivityType,
} from './activity-builder.ts';
import { INSTRUCTORS, SERIES, TOPICS, type Topic, type TopicContent } from './content.ts';
import { DAY, HOUR, MINUTE, type SimulationContext } from './context.ts';
import type { Random } from '../common/random.ts';
import { array, json, timestamp, type SqlRow, type SqlScript } from '../common/sql-script.ts';
import { containsPhrase, wordCount } from './vietnamese-text.ts';
import { InvariantError } from '../../errors/index.ts';

export interface CatalogWord {
  id: string;
  text: string;
  english: string;
  topic: Topic;
}

export interface CatalogParagraph {
  id: string;
  topic: Topic;
  sentences: string[];
  words: CatalogWord[];
  /** How long a learner typically needs to read it. */
  readSeconds: number;
}

export interface CatalogActivity extends ActivityDraft {
  id: string;
}

export interface CatalogLesson {
  id: string;
  topic: Topic;
  difficulty: number;
  lessonType: LessonType;
  estimatedMinutes: number;
  paragraphs: CatalogParagraph[];
  activities: CatalogActivity[];
  maxScore: number;
  prerequisiteIds: string[];
  series: CatalogSeries[];
  /** Simulated day on which an unreleased lesson is published; null when published beforehand. */
  releaseDay: number | null;
}

export interface CatalogSeries {
  id: string;
  lessons: CatalogLesson[];
}

export interface Catalog {
  words: CatalogWord[];
  paragraphs: CatalogParagraph[];
  lessons: CatalogLesson[];
  series: CatalogSeries[];
}

const CDN = 'https://cdn.hoctiengviet.example';
const PARAGRAPHS_PER_TOPIC = 8;
const LESSONS_PER_TOPIC = 5;
/** Topics whose last lesson is still being written when the simulation starts. */
const TOPICS_WITH_UPCOMING_LESSON: readonly Topic[] = ['culture', 'business'];
type LessonType = 'reading' | 'listening' | 'speaking' | 'mixed';
const ACTIVITY_TYPES_BY_LESSON_TYPE: Record<LessonType, readonly ActivityType[]> = {
  reading: ['quiz', 'fill_blank', 'match'],
  listening: ['listening', 'quiz', 'fill_blank'],
  speaking: ['speaking', 'ordering', 'quiz'],
  mixed: ['quiz', 'fill_blank', 'match', 'listening', 'speaking', 'ordering'],
};
const PARAGRAPH_INSTRUCTIONS = [
  'Đọc to đoạn văn và gạch chân các từ mới.',
  'Nghe audio trước, sau đó đọc lại từng câu.',
  'Read once for meaning, then again for the tones.',
  null,
] as const;

interface Authoring {
  random: Random;
  script: SqlScript;
  periodStart: number;
  instructorIds: string[];
}

export function createCatalog(random: Random, script: SqlScript, periodStart: number, days: number): Catalog {
  const authoring: Authoring = { random, script, periodStart, instructorIds: [] };
  authoring.instructorIds = createInstructors(authoring);
  const words = createWords(authoring);
  const paragraphs = createParagraphs(authoring, words);
  const lessons = createLessons(authoring, paragraphs, words, days);
  const series = createSeries(authoring, lessons);
  return { words, paragraphs, lessons, series };
}

/** Publishes lessons whose release day has come. */
export function releaseLessons(context: SimulationContext, day: number, at: number): void {
  for (const lesson of context.catalog.lessons) {
    if (lesson.releaseDay !== day) continue;
    context.script.update('lessons', { is_published: true, updated_at: timestamp(at) }, { id: lesson.id });
  }
}

/** An editor swaps one sentence of a paragraph, which also recomputes its generated tsvector. */
export function reviseParagraph(context: SimulationContext, at: number): void {
  const { random, catalog } = context;
  const paragraph = random.pick(catalog.paragraphs);
  const topic = topicContent(paragraph.topic);
  const unused = topic.sentences.filter((sentence) => !paragraph.sentences.includes(sentence));
  if (unused.length === 0) return;
  paragraph.sentences[random.int(0, paragraph.sentences.length - 1)] = random.pick(unused);
  const content = paragraph.sentences.join(' ');
  paragraph.words = catalog.words.filter((word) => containsPhrase(content, word.text));
  context.script.update(
    'paragraphs',
    {
      content,
      word_count: wordCount(content),
      estimated_read_time: readSeconds(content),
      updated_at: timestamp(at),
    },
    { id: paragraph.id },
  );
}

export function isAvailable(lesson: CatalogLesson, day: number): boolean {
  return lesson.releaseDay === null || lesson.releaseDay <= day;
}

function createInstructors({ random, script, periodStart }: Authoring): string[] {
  const joinedAt = periodStart - 150 * DAY + 9 * HOUR;
  const accounts = INSTRUCTORS.map((instructor) => ({ ...instructor, id: random.uuid() }));
  script.insert(
    'users',
    accounts.map((account) => ({
      id: account.id,
      username: account.username,
      email: `${account.username}@hoctiengviet.example`,
      full_name: account.fullName,
      avatar_url: `${CDN}/avatars/staff/${account.username}.jpg`,
      phone: null,
      email_verified: true,
      status: 'active',
      created_at: timestamp(joinedAt),
      updated_at: timestamp(joinedAt),
    })),
  );
  script.insert(
    'user_profiles',
    accounts.map((account) => ({
      user_id: account.id,
      gender: account.username.startsWith('co_') ? 'female' : 'male',
      birthday: null,
      bio: 'Giáo viên tiếng Việt tại Hà Nội, hơn mười năm kinh nghiệm dạy người nước ngoài.',
      country_code: 'VN',
      timezone: 'Asia/Ho_Chi_Minh',
      native_language: 'vi',
      target_languages: array(['en']),
      proficiency_level: 10,
      learning_goals: null,
      updated_at: timestamp(joinedAt),
    })),
  );
  return accounts.map((account) => account.id);
}

function createWords({ random, script, periodStart }: Authoring): CatalogWord[] {
  const entries = TOPICS.flatMap((topic, topicIndex) =>
    topic.vocabulary.map((entry) => ({
      topic,
      entry,
      id: random.uuid(),
      commonness: topicIndex * 12 + random.int(0, 30),
    })),
  );
  // Earlier (beginner) topics hold the commonest words.
  const rankById = new Map(
    [...entries].sort((a, b) => a.commonness - b.commonness).map((entry, rank) => [entry.id, rank + 1]),
  );
  const rows = entries.map(({ topic, entry, id }, index): SqlRow => {
    const related = entries
      .filter((other) => other.topic === topic && other.id !== id)
      .map((other) => other.id);
    const rank = rankById.get(id) ?? entries.length;
    const createdAt = periodStart - 120 * DAY + index * 7 * MINUTE;
    return {
      id,
      text: entry.text,
      language_code: 'vi',
      part_of_speech: entry.partOfSpeech,
      phonetic: entry.phonetic,
      difficulty_level: random.int(topic.difficulty[0], topic.difficulty[1]),
      frequency_rank: rank,
      is_common: rank <= 40,
      etymology: entry.etymology,
      related_words: random.chance(0.6) ? array(random.sample(related, random.int(1, 3))) : null,
      created_at: timestamp(createdAt),
      updated_at: timestamp(createdAt),
    };
  });
  script.insert('words', rows);
  return entries.map(({ topic, entry, id }) => ({
    id,
    text: entry.text,
    english: entry.english,
    topic: topic.topic,
  }));
}

function createParagraphs(authoring: Authoring, words: CatalogWord[]): CatalogParagraph[] {
  const { random, script, periodStart } = authoring;
  const paragraphs: CatalogParagraph[] = [];
  const rows: SqlRow[] = [];
  for (const topic of TOPICS) {
    for (let number = 1; number <= PARAGRAPHS_PER_TOPIC; number++) {
      const sentences = random.sample(topic.sentences, random.int(3, 4));
      const content = sentences.join(' ');
      const id = random.uuid();
      const createdAt = periodStart - 100 * DAY + rows.length * 3 * HOUR;
      paragraphs.push({
        id,
        topic: topic.topic,
        sentences,
        words: words.filter((word) => containsPhrase(content, word.text)),
        readSeconds: readSeconds(content),
      });
      rows.push({
        id,
        title: `${topic.titleVi} · Bài đọc ${number}`,
        content,
        language_code: 'vi',
        difficulty_level: random.int(topic.difficulty[0], topic.difficulty[1]),
        topic_category: topic.topic,
        estimated_read_time: readSeconds(content),
        word_count: wordCount(content),
        audio_url: random.chance(0.8) ? `${CDN}/audio/paragraphs/${id}.mp3` : null,
        author: random.pick(INSTRUCTORS).fullName,
        source: random.pick(['Original', 'VnExpress (adapted)', 'Tuổi Trẻ (adapted)']),
        is_published: true,
        created_at: timestamp(createdAt),
        updated_at: timestamp(createdAt),
      });
    }
  }
  script.insert('paragraphs', rows);
  return paragraphs;
}

function createLessons(
  authoring: Authoring,
  paragraphs: CatalogParagraph[],
  words: CatalogWord[],
  days: number,
): CatalogLesson[] {
  const lessons: CatalogLesson[] = [];
  const lessonRows: SqlRow[] = [];
  const paragraphRows: SqlRow[] = [];
  const activityRows: SqlRow[] = [];
  for (const topic of TOPICS) {
    const topicParagraphs = paragraphs.filter((paragraph) => paragraph.topic === topic.topic);
    let previous: CatalogLesson | undefined;
    for (let index = 0; index < LESSONS_PER_TOPIC; index++) {
      const createdAt = authoring.periodStart - 80 * DAY + lessons.length * 26 * HOUR;
      const lesson = draftLesson(authoring, topic, index, topicParagraphs, words, days);
      lesson.prerequisiteIds = prerequisitesOf(topic, previous, lessons);
      lessons.push(lesson);
      lessonRows.push(lessonRow(authoring, topic, index, lesson, createdAt));
      paragraphRows.push(...lessonParagraphRows(authoring.random, lesson, createdAt));
      activityRows.push(...lessonActivityRows(lesson, createdAt));
      previous = lesson;
    }
  }
  authoring.script.insert('lessons', lessonRows);
  authoring.script.insert('lesson_paragraphs', paragraphRows);
  authoring.script.insert('lesson_activities', activityRows);
  return lessons;
}

function draftLesson(
  { random }: Authoring,
  topic: TopicContent,
  index: number,
  topicParagraphs: CatalogParagraph[],
  words: CatalogWord[],
  days: number,
): CatalogLesson {
  const [easiest, hardest] = topic.difficulty;
  const lessonParagraphs = random.sample(topicParagraphs, random.int(2, 3));
  const sentences = lessonParagraphs.flatMap((paragraph) => paragraph.sentences);
  const taught = [...new Set(lessonParagraphs.flatMap((paragraph) => paragraph.words))];
  const topicWords = words.filter((word) => word.topic === topic.topic);
  const material: ActivityMaterial = {
    words: taught.length >= 4 ? taught : [...taught, ...random.sample(topicWords, 4)],
    sentences,
    distractors: words,
    otherSentences: TOPICS.flatMap((other) => other.sentences).filter(
      (sentence) => !sentences.includes(sentence),
    ),
  };
  const lessonType = random.weighted<LessonType>([
    ['reading', 4],
    ['listening', 2],
    ['speaking', 2],
    ['mixed', 2],
  ]);
  const activities = Array.from({ length: random.int(3, 5) }, () => ({
    id: random.uuid(),
    ...draftActivity(random, random.pick(ACTIVITY_TYPES_BY_LESSON_TYPE[lessonType]), material),
  }));
  const readingMinutes = lessonParagraphs.reduce((sum, paragraph) => sum + paragraph.readSeconds, 0) / 30;
  const isUpcoming =
    index === LESSONS_PER_TOPIC - 1 && TOPICS_WITH_UPCOMING_LESSON.includes(topic.topic) && days >= 4;
  return {
    id: random.uuid(),
    topic: topic.topic,
    difficulty: Math.round(easiest + ((hardest - easiest) * index) / (LESSONS_PER_TOPIC - 1)),
    lessonType,
    estimatedMinutes: Math.max(5, Math.round(readingMinutes + activities.length)),
    paragraphs: lessonParagraphs,
    activities,
    maxScore: activities.reduce((sum, activity) => sum + activity.points, 0),
    prerequisiteIds: [],
    series: [],
    releaseDay: isUpcoming ? random.int(Math.floor(days / 4), Math.floor((3 * days) / 4)) : null,
  };
}

/** The previous lesson of the topic; harder topics also expect the greetings course. */
function prerequisitesOf(
  topic: TopicContent,
  previous: CatalogLesson | undefined,
  earlier: CatalogLesson[],
): string[] {
  if (previous) return [previous.id];
  const lastGreeting = earlier.filter((lesson) => lesson.topic === 'greetings').at(-1);
  return topic.difficulty[0] >= 4 && lastGreeting ? [lastGreeting.id] : [];
}

function lessonRow(
  { random, instructorIds }: Authoring,
  topic: TopicContent,
  index: number,
  lesson: CatalogLesson,
  createdAt: number,
): SqlRow {
  const headline = topic.lessonHeadlines[index] ?? topic.titleVi;
  return {
    id: lesson.id,
    title: `${topic.titleEn} ${index + 1}: ${headline}`,
    description: `Read ${lesson.paragraphs.length} short texts about ${topic.titleEn.toLowerCase()} and practise with ${lesson.activities.length} exercises.`,
    language_code: 'vi',
    target_language: 'en',
    difficulty_level: lesson.difficulty,
    estimated_duration: lesson.estimatedMinutes,
    lesson_type: lesson.lessonType,
    topic_category: topic.topic,
    prerequisite_lessons: array(lesson.prerequisiteIds),
    learning_objectives: array(random.sample(topic.objectives, random.int(2, 3))),
    thumbnail_url: `${CDN}/thumbnails/lessons/${topic.topic}-${index + 1}.jpg`,
    is_published: lesson.releaseDay === null,
    is_premium: index >= 3 || topic.topic === 'business',
    view_count: 0,
    rating_average: 0,
    rating_count: 0,
    created_by: random.pick(instructorIds),
    created_at: timestamp(createdAt),
    updated_at: timestamp(createdAt),
  };
}

function lessonParagraphRows(random: Random, lesson: CatalogLesson, createdAt: number): SqlRow[] {
  return lesson.paragraphs.map((paragraph, index) => ({
    id: random.uuid(),
    lesson_id: lesson.id,
    paragraph_id: paragraph.id,
    position: index + 1,
    is_required: index < 2 || random.chance(0.7),
    instruction_text: random.pick(PARAGRAPH_INSTRUCTIONS),
    created_at: timestamp(createdAt),
  }));
}

function lessonActivityRows(lesson: CatalogLesson, createdAt: number): SqlRow[] {
  return lesson.activities.map((activity, index) => ({
    id: activity.id,
    lesson_id: lesson.id,
    activity_type: activity.type,
    title: activity.title,
    instruction: activity.instruction,
    content: json(activity.content),
    position: index + 1,
    // Speaking needs a microphone, so apps let learners skip it.
    is_required: activity.type !== 'speaking',
    points: activity.points,
    time_limit: activity.timeLimitSeconds,
    created_at: timestamp(createdAt),
  }));
}

function createSeries(
  { random, script, periodStart, instructorIds }: Authoring,
  lessons: CatalogLesson[],
): CatalogSeries[] {
  const seriesRows: SqlRow[] = [];
  const memberRows: SqlRow[] = [];
  const series = SERIES.map((outline, index) => {
    const members = outline.parts.flatMap(([topic, count]) =>
      lessons.filter((lesson) => lesson.topic === topic).slice(0, count),
    );
    const entry: CatalogSeries = { id: random.uuid(), lessons: members };
    const createdAt = periodStart - 30 * DAY + index * DAY;
    seriesRows.push({
      id: entry.id,
      title: outline.title,
      description: outline.description,
      language_code: 'vi',
      target_language: 'en',
      difficulty_level: Math.max(...members.map((lesson) => lesson.difficulty)),
      total_lessons: members.length,
      estimated_duration: members.reduce((sum, lesson) => sum + lesson.estimatedMinutes, 0),
      thumbnail_url: `${CDN}/thumbnails/series/${index + 1}.jpg`,
      is_published: true,
      is_premium: outline.parts.some(([topic]) => topic === 'business'),
      created_by: random.pick(instructorIds),
      created_at: timestamp(createdAt),
      updated_at: timestamp(createdAt),
    });
    members.forEach((lesson, position) => {
      lesson.series.push(entry);
      const previous = members[position - 1];
      memberRows.push({
        series_id: entry.id,
        lesson_id: lesson.id,
        position: position + 1,
        is_optional: lesson.releaseDay !== null,
        unlock_criteria: previous ? json({ requires_lesson_id: previous.id, min_score_percent: 60 }) : null,
        created_at: timestamp(createdAt),
      });
    });
    return entry;
  });
  script.insert('lesson_series', seriesRows);
  script.insert('series_lessons', memberRows);
  return series;
}

function topicContent(topic: Topic): TopicContent {
  const content = TOPICS.find((candidate) => candidate.topic === topic);
  if (!content) throw new InvariantError(`unknown topic ${topic}`);
  return content;
}

/** Learners read about one syllable every two seconds. */
function readSeconds(content: string): number {
  return wordCount(content) * 2;
}
