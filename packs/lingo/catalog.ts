// The course content the lingo product ships with: courses from English into Spanish, French and
// German, each with sections → units → lessons → exercises (translation, multiple choice,
// listening with audio files), the lesson order as prerequisites, inserted once before the
// simulated period; and the content team's occasional edits during it.
import type { Random } from '../common/random.ts';
import { json, raw, type SqlFragment, type SqlScript } from '../common/sql-script.ts';
import { instant } from './local-time.ts';

export type ExerciseType = 'translation' | 'multiple_choice' | 'listening';

export interface CatalogExercise {
  id: string;
  type: ExerciseType;
  difficulty: number;
}

export interface CatalogLesson {
  id: string;
  courseId: string;
  xpReward: number;
  exercises: CatalogExercise[];
}

export interface CatalogCourse {
  id: string;
  /** Lessons in the order a learner takes them (each the prerequisite of the next). */
  lessons: CatalogLesson[];
}

export interface Catalog {
  courses: CatalogCourse[];
  lessons: Map<string, CatalogLesson>;
}

const COURSES = [
  { code: 'es', name: 'Spanish for English speakers', words: ['hola', 'gracias', 'el gato', 'la casa'] },
  { code: 'fr', name: 'French for English speakers', words: ['bonjour', 'merci', 'le chat', 'la maison'] },
  { code: 'de', name: 'German for English speakers', words: ['hallo', 'danke', 'die Katze', 'das Haus'] },
] as const;
const SECTIONS = [
  { name: 'Basics', cefr: 'A1' },
  { name: 'Everyday life', cefr: 'A2' },
] as const;
const UNITS_PER_SECTION = 3;
const LESSONS_PER_UNIT = 4;
const EXERCISES_PER_LESSON = 5;
const COLORS = ['#58CC02', '#1CB0F6', '#FF9600', '#CE82FF'];
const TYPES: readonly (readonly [ExerciseType, number])[] = [
  ['translation', 4],
  ['multiple_choice', 4],
  ['listening', 2],
];

const languageId = (code: string) => raw(`(SELECT id FROM languages WHERE code = '${code}')`);
const typeId = (type: ExerciseType) => raw(`(SELECT id FROM exercise_types WHERE name = '${type}')`);

/** Writes the catalog into `script` as of `at` (before the first learner arrives). */
export function createCatalog(random: Random, script: SqlScript, at: number): Catalog {
  const created = instant(at);
  const catalog: Catalog = { courses: [], lessons: new Map() };
  for (const [courseIndex, course] of COURSES.entries()) {
    const courseId = random.uuid();
    script.insert('courses', [
      {
        id: courseId,
        from_language_id: languageId('en'),
        to_language_id: languageId(course.code),
        name: course.name,
        description: `Learn ${course.name.split(' ')[0]} from scratch`,
        difficulty_level: 'beginner',
        sort_order: courseIndex + 1,
        created_at: created,
        updated_at: created,
      },
    ]);
    const lessons: CatalogLesson[] = [];
    for (const [sectionIndex, section] of SECTIONS.entries()) {
      const sectionId = random.uuid();
      script.insert('sections', [
        {
          id: sectionId,
          course_id: courseId,
          name: section.name,
          description: `${section.name} (${section.cefr})`,
          sort_order: sectionIndex + 1,
          cefr_level: section.cefr,
          created_at: created,
          updated_at: created,
        },
      ]);
      for (let unitIndex = 0; unitIndex < UNITS_PER_SECTION; unitIndex++) {
        const unitId = random.uuid();
        script.insert('units', [
          {
            id: unitId,
            section_id: sectionId,
            name: `Unit ${sectionIndex * UNITS_PER_SECTION + unitIndex + 1}`,
            description: null,
            sort_order: unitIndex + 1,
            icon_url: `https://cdn.example.com/units/${unitId}.svg`,
            color: random.pick(COLORS),
            created_at: created,
            updated_at: created,
          },
        ]);
        for (let lessonIndex = 0; lessonIndex < LESSONS_PER_UNIT; lessonIndex++) {
          // Later sections are harder: their exercises lean to higher difficulty levels.
          const level = sectionIndex * 2 + 1;
          const lesson = createLesson(
            random,
            script,
            courseId,
            unitId,
            lessonIndex,
            level,
            created,
            course.words,
          );
          const previous = lessons.at(-1);
          if (previous)
            script.insert('lesson_prerequisites', [
              {
                id: random.uuid(),
                lesson_id: lesson.id,
                prerequisite_lesson_id: previous.id,
                created_at: created,
              },
            ]);
          lessons.push(lesson);
          catalog.lessons.set(lesson.id, lesson);
        }
      }
    }
    catalog.courses.push({ id: courseId, lessons });
  }
  return catalog;
}

function createLesson(
  random: Random,
  script: SqlScript,
  courseId: string,
  unitId: string,
  index: number,
  level: number,
  created: SqlFragment,
  words: readonly string[],
): CatalogLesson {
  const id = random.uuid();
  const xpReward = random.chance(0.2) ? 15 : 10;
  script.insert('lessons', [
    {
      id,
      unit_id: unitId,
      name: `Lesson ${index + 1}`,
      description: null,
      sort_order: index + 1,
      estimated_minutes: random.int(3, 7),
      xp_reward: xpReward,
      created_at: created,
      updated_at: created,
    },
  ]);
  const exercises: CatalogExercise[] = [];
  for (let position = 0; position < EXERCISES_PER_LESSON; position++) {
    const type = random.weighted(TYPES);
    const difficulty = Math.min(5, Math.max(1, level + random.int(-1, 1)));
    const exerciseId = random.uuid();
    const word = random.pick(words);
    script.insert('exercises', [
      {
        id: exerciseId,
        exercise_type_id: typeId(type),
        prompt: type === 'listening' ? 'Type what you hear' : `Translate: ${word}`,
        correct_answer: word,
        alternative_answers: json([word.toLowerCase()]),
        explanation: null,
        hint: random.chance(0.5) ? `Starts with "${word[0] ?? ''}"` : null,
        difficulty_level: difficulty,
        estimated_seconds: random.int(15, 45),
        audio_url: type === 'listening' ? `https://cdn.example.com/audio/${exerciseId}.mp3` : null,
        image_url: null,
        metadata: json({ tags: ['vocabulary'] }),
        created_at: created,
        updated_at: created,
      },
    ]);
    if (type === 'multiple_choice')
      script.insert(
        'exercise_options',
        random.shuffle(words).map((option, order) => ({
          id: random.uuid(),
          exercise_id: exerciseId,
          option_text: option,
          is_correct: option === word,
          sort_order: order + 1,
          created_at: created,
        })),
      );
    if (type === 'listening')
      script.insert(
        'audio_files',
        (['low', 'medium', 'high'] as const).map((quality, tier) => ({
          id: random.uuid(),
          exercise_id: exerciseId,
          file_path: `audio/${exerciseId}/${quality}.mp3`,
          file_format: 'mp3',
          quality_level: quality,
          file_size_bytes: 8000 * (tier + 1) * random.int(2, 6),
          duration_seconds: random.int(2, 6),
          sample_rate: 44_100,
          bit_rate: [64_000, 128_000, 192_000][tier] ?? 128_000,
          created_at: created,
          updated_at: created,
        })),
      );
    script.insert('lesson_exercises', [
      {
        id: random.uuid(),
        lesson_id: id,
        exercise_id: exerciseId,
        sort_order: position + 1,
        created_at: created,
      },
    ]);
    exercises.push({ id: exerciseId, type, difficulty });
  }
  return { id, courseId, xpReward, exercises };
}

/**
 * A content editor's change, with its audit record: a lesson's XP reward revised, or an exercise's
 * hint rewritten. Learners keep the XP they earned; new completions earn the new reward.
 */
export function editContent(random: Random, script: SqlScript, catalog: Catalog, at: number): void {
  const lesson = random.pick([...catalog.lessons.values()]);
  if (random.chance(0.5)) {
    const xpReward = lesson.xpReward === 10 ? 15 : 10;
    script.update('lessons', { xp_reward: xpReward }, { id: lesson.id });
    script.insert('system_audit_log', [
      {
        id: random.uuid(),
        admin_user_id: null,
        action: 'course_update',
        table_name: 'lessons',
        record_id: lesson.id,
        old_values: json({ xp_reward: lesson.xpReward }),
        new_values: json({ xp_reward: xpReward }),
        ip_address: '10.0.0.5',
        created_at: instant(at),
      },
    ]);
    lesson.xpReward = xpReward;
  } else {
    const exercise = random.pick(lesson.exercises);
    script.update('exercises', { hint: `Think of "${random.chars('aeioulmnrst', 4)}"` }, { id: exercise.id });
    script.insert('system_audit_log', [
      {
        id: random.uuid(),
        admin_user_id: null,
        action: 'exercise_update',
        table_name: 'exercises',
        record_id: exercise.id,
        old_values: null,
        new_values: json({ hint: 'revised' }),
        ip_address: '10.0.0.5',
        created_at: instant(at),
      },
    ]);
  }
}
