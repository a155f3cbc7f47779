// Plays the lingo product day by day and writes what it does as ordinary SQL with historical
// timestamps: learners arrive in several time zones (some travel or move, some days cross DST),
// open the app at local hours with a weekly rhythm and fading interest, start and complete lessons,
// answer exercises, lose hearts and regenerate them, earn XP and achievements, edit their accounts,
// and a few delete them (the seed's hard delete, FR-5). Tributary owns user_daily_xp and the streak
// columns of user_courses: the simulated application never writes them.
import type pg from 'pg';
import { DAY, HOUR, MINUTE, SECOND } from '../learning/context.ts';
import { Random } from '../common/random.ts';
import { increment, json, raw, SqlScript, type SqlValue } from '../common/sql-script.ts';
import { validateSimulationOptions } from '../common/simulation-options.ts';
import type { SimulationOptions, SimulationSummary } from '../pack.ts';
import { createCatalog, editContent, type Catalog, type CatalogLesson } from './catalog.ts';
import { experimentsRunning, variantOf, EXPERIMENT_NAMES } from './experiments.ts';
import { createLearners, inFirstWeek, WEEKDAY_FACTOR, zoneOn, type Learner } from './learner.ts';
import { instant, localInstant, weekday } from './local-time.ts';
import { InvariantError } from '../../errors/index.ts';

export interface LingoSimulationSummary extends SimulationSummary {
  inserts: number;
  updates: number;
  deletes: number;
  sessions: number;
  lessonsStarted: number;
  lessonsCompleted: number;
  lessonsQuit: number;
  exercisesAnswered: number;
  heartsLost: number;
  heartsRegenerated: number;
  timezoneChanges: number;
  heartsMismatchUsers: number;
}

/** What the simulator planted that a test must find again. */
export interface LingoTruths {
  /** Learners whose stored hearts the app changed without a user_hearts_log row (AC-11). */
  heartsMismatchUsers: string[];
}

const DEFAULT_END_DATE = new Date('2026-11-01T00:00:00Z');
/** Statements per round trip and transaction. */
const CHUNK_STATEMENTS = 2000;
const MAX_HEARTS = 5;
const HEART_REGEN_MS = 4 * HOUR;
const CONTENT_EDIT_CHANCE = 0.15;
const PLATFORMS = [
  ['ios', 'Lingo/4.2 (iPhone; iOS 18.1)'],
  ['android', 'Lingo/4.2 (Linux; Android 15)'],
  ['web', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15'],
] as const;

export async function simulateLingo(
  client: pg.ClientBase | pg.Pool,
  options: SimulationOptions,
): Promise<LingoSimulationSummary> {
  return (await simulateLingoWithTruths(client, options)).summary;
}

export async function simulateLingoWithTruths(
  client: pg.ClientBase | pg.Pool,
  options: SimulationOptions,
): Promise<{ summary: LingoSimulationSummary; truths: LingoTruths }> {
  validateSimulationOptions(options);
  return new Simulation(client, options).run();
}

class Simulation {
  private readonly random: Random;
  private readonly script = new SqlScript();
  private readonly learners: Learner[];
  private readonly catalog: Catalog;
  private readonly periodStart: number;
  private readonly end: number;
  private readonly tallies = {
    usersCreated: 0,
    usersDeleted: 0,
    sessions: 0,
    lessonsStarted: 0,
    lessonsCompleted: 0,
    lessonsQuit: 0,
    exercisesAnswered: 0,
    heartsLost: 0,
    heartsRegenerated: 0,
    timezoneChanges: 0,
  };

  constructor(
    private readonly client: pg.ClientBase | pg.Pool,
    private readonly options: SimulationOptions,
  ) {
    this.random = new Random(options.seed);
    this.end = (options.endDate ?? DEFAULT_END_DATE).getTime();
    // Whole UTC days, so that day d is one calendar date everywhere in the loop.
    this.periodStart = Math.floor(this.end / DAY) * DAY - options.days * DAY;
    this.catalog = createCatalog(this.random, this.script, this.periodStart - 30 * DAY);
    for (const name of EXPERIMENT_NAMES)
      this.script.insert(
        'experiment_variants',
        (['control', 'treatment'] as const).map((variant) => ({
          experiment: name,
          variant,
          configured_share: 0.5,
          created_at: instant(this.periodStart - DAY),
        })),
      );
    this.learners = createLearners(this.random, options.users, options.days);
  }

  async run(): Promise<{ summary: LingoSimulationSummary; truths: LingoTruths }> {
    await this.script.flush(this.client);
    for (let day = 0; day < this.options.days; day++) {
      await this.simulateDay(day);
      await this.script.flush(this.client);
      this.options.onProgress?.(day + 1, this.options.days);
    }
    const heartsMismatchUsers = this.learners
      .filter((learner) => learner.heartsBug === 'done' && !learner.deleted)
      .map((learner) => learner.id)
      .sort();
    const counts = this.script.statementCounts;
    return {
      summary: {
        statements: counts.insert + counts.update + counts.delete,
        inserts: counts.insert,
        updates: counts.update,
        deletes: counts.delete,
        heartsMismatchUsers: heartsMismatchUsers.length,
        ...this.tallies,
      },
      truths: { heartsMismatchUsers },
    };
  }

  private async simulateDay(day: number): Promise<void> {
    const date = new Date(this.periodStart + day * DAY).toISOString().slice(0, 10);
    for (const learner of this.learners) {
      if (learner.deleted || day < learner.signupDay) continue;
      const zone = zoneOn(learner, day);
      if (this.script.pendingCount >= CHUNK_STATEMENTS) await this.script.flush(this.client);
      if (day === learner.signupDay) {
        const at = this.sessionStart(learner, zone, date);
        if (at === null) continue;
        this.signUp(learner, at);
        this.session(learner, zone, at, day);
        continue;
      }
      if (day >= learner.churnDay) continue;
      const fading = 0.55 + 0.45 * Math.exp(-(day - learner.signupDay) / 25);
      const chance = learner.habit * fading * (WEEKDAY_FACTOR[weekday(date)] ?? 1);
      if (!this.random.chance(chance)) continue;
      const at = this.sessionStart(learner, zone, date);
      if (at !== null) this.session(learner, zone, at, day);
      // Some come back in the evening for a second go.
      if (this.random.chance(0.15)) {
        const again = this.sessionStart(learner, zone, date, 19 * 60);
        if (again !== null) this.session(learner, zone, again, day);
      }
    }
    this.closeDay(day);
  }

  /**
   * A local time on `date` in the device's zone: mornings, lunch breaks and (mostly) evenings, some
   * right before midnight. Never before the learner's last action (a flight west can turn the
   * clock back) and never after the simulated period.
   */
  private sessionStart(learner: Learner, zone: string, date: string, earliestMinute = 0): number | null {
    const { random } = this;
    const hour = random.weighted([
      [7, 2],
      [8, 2],
      [12, 2],
      [18, 2],
      [19, 3],
      [20, 4],
      [21, 4],
      [22, 3],
      [23, 2],
    ] as const);
    const minute = Math.max(earliestMinute, hour * 60 + random.int(0, 59));
    const at = Math.max(localInstant(zone, date, minute), learner.lastEventAt + 30 * MINUTE);
    return at > this.end - HOUR ? null : at;
  }

  private signUp(learner: Learner, at: number): void {
    const { random, script } = this;
    const created = instant(at - 2 * MINUTE);
    script.insert('users', [
      {
        id: learner.id,
        email: `learner${learner.index}.${random.hex(3)}@example.com`,
        password_hash: learner.provider === 'email' ? `$2b$12$${random.base64url(40).slice(0, 53)}` : null,
        name: `Learner ${learner.index}`,
        avatar_url: random.chance(0.3) ? `https://cdn.example.com/avatars/${learner.id}.png` : null,
        is_email_verified: learner.provider !== 'email',
        email_verification_token: learner.provider === 'email' ? random.hex(16) : null,
        daily_xp_goal: learner.dailyGoal,
        timezone: learner.homeZone,
        created_at: created,
        updated_at: created,
      },
    ]);
    learner.emailVerified = learner.provider !== 'email';
    if (learner.provider !== 'email') {
      learner.oauthId = random.uuid();
      script.insert('oauth_providers', [
        {
          id: learner.oauthId,
          user_id: learner.id,
          provider: learner.provider,
          provider_user_id: random.digits('##################'),
          access_token: random.base64url(48),
          refresh_token: random.base64url(48),
          token_expires_at: instant(at + HOUR),
          created_at: created,
          updated_at: created,
        },
      ]);
    }
    this.enroll(learner, random.pick(this.catalog.courses).id, at - MINUTE);
    this.tallies.usersCreated += 1;
  }

  private enroll(learner: Learner, courseId: string, at: number): void {
    const id = this.random.uuid();
    this.script.insert('user_courses', [
      {
        id,
        user_id: learner.id,
        course_id: courseId,
        enrolled_at: instant(at),
        last_active_at: instant(at),
        total_xp: 0,
        // Hearts belong to the learner: a new enrollment starts with the ones they have.
        hearts: learner.hearts,
        hearts_last_full_at: learner.hearts === MAX_HEARTS ? instant(at) : null,
        created_at: instant(at),
        updated_at: instant(at),
      },
    ]);
    learner.courses.push({ id, courseId, nextLesson: 0 });
  }

  /** One app open: login, hearts refilled by time, experiments shown, lessons, account chores. */
  private session(learner: Learner, zone: string, start: number, day: number): void {
    const { random, script } = this;
    const sessionId = random.uuid();
    let now = start;
    const [platform, userAgent] = random.pick(PLATFORMS);
    this.log(learner, 'login', { session_id: sessionId, timezone: zone, platform }, now, userAgent);
    learner.firstOpenAt ??= now;
    this.tallies.sessions += 1;
    if (zone !== learner.profileZone) {
      // The app keeps the profile's zone in step with the device's.
      script.update('users', { timezone: zone }, { id: learner.id });
      learner.profileZone = zone;
      this.tallies.timezoneChanges += 1;
    }
    this.regenerateHearts(learner, now);
    for (const experiment of experimentsRunning(day, this.options.days)) {
      if (learner.exposures.has(experiment)) continue;
      learner.exposures.add(experiment);
      script.insert('experiment_exposures', [
        {
          id: random.uuid(),
          user_id: learner.id,
          experiment,
          variant: variantOf(experiment, learner.id),
          exposed_at: instant(now),
        },
      ]);
    }
    // exp_lesson_preview's planted outcome decides the first week: those who will not complete a
    // lesson start one and give up; those who will complete their very first lesson.
    const firstWeek = inFirstWeek(learner, now);
    const struggling = firstWeek && !learner.completesFirstWeek;
    const mustFinish = firstWeek && learner.completesFirstWeek && learner.totalXp === 0;
    const lessons = struggling
      ? 1
      : Math.max(1, Math.round(learner.dailyGoal / 15 + random.between(-0.5, 1)));
    for (let count = 0; count < lessons; count++) {
      // Out of hearts, the app offers no lesson until they come back.
      if (learner.hearts === 0) break;
      const course = random.pick(learner.courses);
      const lesson = this.chooseLesson(learner, course.courseId, course.nextLesson);
      now = this.playLesson(learner, course.id, lesson, sessionId, now, {
        quitAfter: struggling ? random.int(1, 3) : null,
        mustFinish: mustFinish && count === 0,
      });
      now += random.int(20, 120) * SECOND;
    }
    this.accountChores(learner, now);
    learner.lastEventAt = now;
  }

  private chooseLesson(learner: Learner, courseId: string, next: number): CatalogLesson {
    const course = this.catalog.courses.find((candidate) => candidate.id === courseId);
    if (!course) throw new InvariantError(`unknown course ${courseId}`);
    const done = course.lessons.slice(0, next);
    const practise = next >= course.lessons.length || (done.length > 0 && this.random.chance(0.2));
    const lesson = practise ? this.random.pick(done) : course.lessons[next];
    if (!lesson) throw new InvariantError(`course ${courseId} has no lesson ${next}`);
    return lesson;
  }

  /** One lesson: its exercises in order, mistakes asked again at the end, hearts lost for each. */
  private playLesson(
    learner: Learner,
    enrollmentId: string,
    lesson: CatalogLesson,
    sessionId: string,
    start: number,
    rules: { quitAfter: number | null; mustFinish: boolean },
  ): number {
    const { random, script } = this;
    let now = start;
    this.log(learner, 'lesson_start', { session_id: sessionId, lesson_id: lesson.id }, now);
    this.tallies.lessonsStarted += 1;
    let record = learner.lessons.get(lesson.id);
    if (!record) {
      record = { id: random.uuid(), completed: false, bestScore: 0 };
      learner.lessons.set(lesson.id, record);
      script.insert('user_lesson_progress', [
        {
          id: record.id,
          user_id: learner.id,
          lesson_id: lesson.id,
          status: 'in_progress',
          total_attempts: 1,
          created_at: instant(now),
          updated_at: instant(now),
        },
      ]);
    } else
      script.update(
        'user_lesson_progress',
        {
          status: record.completed ? 'completed' : 'in_progress',
          total_attempts: increment('total_attempts', 1),
        },
        { id: record.id },
      );
    const queue = lesson.exercises.map((exercise) => ({ exercise, attempt: 1 }));
    const rows: Record<string, SqlValue>[] = [];
    let firstTryRight = 0;
    let xp = 0;
    let seconds = 0;
    let heartsLost = 0;
    let quit = false;
    for (let answered = 0; answered < queue.length; answered++) {
      const item = queue[answered];
      if (!item) break;
      if (rules.quitAfter !== null && answered >= rules.quitAfter) {
        quit = true;
        break;
      }
      const { exercise, attempt } = item;
      const spent = random.int(4, 12) + exercise.difficulty * random.int(2, 6);
      now += spent * SECOND;
      seconds += spent;
      const chance =
        learner.skill + 0.12 - 0.07 * (exercise.difficulty - 1) - (exercise.type === 'listening' ? 0.12 : 0);
      const correct =
        random.chance(Math.min(0.98, Math.max(0.2, chance))) || (rules.mustFinish && learner.hearts <= 1);
      const lost = !correct && learner.hearts > 0 ? 1 : 0;
      if (correct && attempt === 1) firstTryRight += 1;
      if (correct) xp += 1;
      rows.push({
        id: random.uuid(),
        user_id: learner.id,
        exercise_id: exercise.id,
        lesson_id: lesson.id,
        user_answer: correct ? 'correct answer' : random.chars('abcdefghij ', random.int(3, 12)),
        is_correct: correct,
        attempt_number: attempt,
        time_spent_seconds: spent,
        hints_used: random.chance(0.1) ? 1 : 0,
        hearts_lost: lost,
        xp_earned: correct ? 1 : 0,
        interaction_at: instant(now),
        created_at: instant(now),
      });
      this.tallies.exercisesAnswered += 1;
      if (!correct) {
        if (lost) {
          heartsLost += 1;
          this.changeHearts(learner, learner.hearts - 1, 'lost', 'incorrect_answer', now);
          this.maybeHeartsBug(learner, now);
        }
        if (learner.hearts === 0) {
          quit = true;
          break;
        }
        if (attempt < 3) queue.push({ exercise, attempt: attempt + 1 });
      }
    }
    script.insert('user_exercise_interactions', rows);
    const completed = !quit;
    const bonus = completed ? lesson.xpReward : 0;
    const score = Math.round((100 * firstTryRight) / lesson.exercises.length);
    if (completed) {
      this.log(
        learner,
        'lesson_complete',
        { session_id: sessionId, lesson_id: lesson.id, xp_earned: bonus, score },
        now,
      );
      this.tallies.lessonsCompleted += 1;
      record.bestScore = Math.max(record.bestScore, score);
      const firstTime = !record.completed;
      record.completed = true;
      script.update(
        'user_lesson_progress',
        {
          status: 'completed',
          completion_count: increment('completion_count', 1),
          best_score: record.bestScore,
          total_time_seconds: increment('total_time_seconds', seconds),
          xp_earned: increment('xp_earned', xp + bonus),
          hearts_lost: increment('hearts_lost', heartsLost),
          first_completed_at: raw(`coalesce(first_completed_at, ${instant(now).sql})`),
          last_completed_at: instant(now),
        },
        { id: record.id },
      );
      const enrollment = learner.courses.find((candidate) => candidate.id === enrollmentId);
      const course = this.catalog.courses.find((candidate) => candidate.id === lesson.courseId);
      if (firstTime && enrollment && course && course.lessons[enrollment.nextLesson]?.id === lesson.id)
        enrollment.nextLesson += 1;
      this.award(learner, 'First Lesson', now);
      if (score === 100) this.award(learner, 'Perfect Practice', now);
    } else {
      this.log(
        learner,
        'lesson_quit',
        { session_id: sessionId, lesson_id: lesson.id, answered: rows.length },
        now,
      );
      this.tallies.lessonsQuit += 1;
      script.update(
        'user_lesson_progress',
        {
          total_time_seconds: increment('total_time_seconds', seconds),
          xp_earned: increment('xp_earned', xp),
          hearts_lost: increment('hearts_lost', heartsLost),
        },
        { id: record.id },
      );
    }
    learner.totalXp += xp + bonus;
    script.update(
      'user_courses',
      { total_xp: increment('total_xp', xp + bonus), last_active_at: instant(now) },
      { id: enrollmentId },
    );
    if (learner.totalXp >= 50) this.award(learner, 'XP Collector', now);
    return now;
  }

  /** Hearts come back one per 4 hours since the first loss; the app applies it when opened. */
  private regenerateHearts(learner: Learner, now: number): void {
    if (learner.hearts >= MAX_HEARTS || learner.regenFrom === null) return;
    const earned = Math.floor((now - learner.regenFrom) / HEART_REGEN_MS);
    if (earned <= 0) return;
    const after = Math.min(MAX_HEARTS, learner.hearts + earned);
    this.tallies.heartsRegenerated += after - learner.hearts;
    this.changeHearts(learner, after, 'regenerated', 'time_regeneration', now);
    learner.regenFrom = after === MAX_HEARTS ? null : learner.regenFrom + earned * HEART_REGEN_MS;
  }

  /** Stored hearts (on every enrollment: they are the learner's) and their log row, together. */
  private changeHearts(learner: Learner, after: number, action: string, reason: string, now: number): void {
    const before = learner.hearts;
    if (action === 'lost') this.tallies.heartsLost += before - after;
    if (before === MAX_HEARTS && after < MAX_HEARTS) learner.regenFrom = now;
    learner.hearts = after;
    this.script.insert('user_hearts_log', [
      {
        id: this.random.uuid(),
        user_id: learner.id,
        action,
        hearts_before: before,
        hearts_after: after,
        reason,
        created_at: instant(now),
      },
    ]);
    this.script.update(
      'user_courses',
      after === MAX_HEARTS ? { hearts: after, hearts_last_full_at: instant(now) } : { hearts: after },
      { user_id: learner.id },
    );
  }

  /** Planted (AC-11): a refill path that writes the hearts but forgets their log row. */
  private maybeHeartsBug(learner: Learner, now: number): void {
    if (learner.heartsBug !== 'pending' || learner.hearts >= MAX_HEARTS) return;
    learner.heartsBug = 'done';
    learner.hearts = MAX_HEARTS;
    learner.regenFrom = null;
    this.script.update(
      'user_courses',
      { hearts: MAX_HEARTS, hearts_last_full_at: instant(now) },
      { user_id: learner.id },
    );
  }

  private award(learner: Learner, achievement: string, now: number): void {
    if (learner.achievements.has(achievement)) return;
    learner.achievements.add(achievement);
    this.script.insert('user_achievements', [
      {
        id: this.random.uuid(),
        user_id: learner.id,
        achievement_id: raw(`(SELECT id FROM achievements WHERE name = '${achievement}')`),
        earned_at: instant(now),
        created_at: instant(now),
      },
    ]);
  }

  /** What else a visit changes: goal, avatar, email verification, password resets, tokens, a second course. */
  private accountChores(learner: Learner, now: number): void {
    const { random, script } = this;
    if (random.chance(0.04))
      script.update('users', { daily_xp_goal: random.pick([10, 20, 30, 50]) }, { id: learner.id });
    if (random.chance(0.02))
      script.update(
        'users',
        { avatar_url: `https://cdn.example.com/avatars/${random.hex(8)}.png` },
        { id: learner.id },
      );
    if (!learner.emailVerified && random.chance(0.5)) {
      learner.emailVerified = true;
      script.update('users', { is_email_verified: true, email_verification_token: null }, { id: learner.id });
    }
    if (learner.resetPending) {
      learner.resetPending = false;
      script.update(
        'users',
        {
          password_hash: `$2b$12$${random.base64url(40).slice(0, 53)}`,
          password_reset_token: null,
          password_reset_expires_at: null,
        },
        { id: learner.id },
      );
    } else if (learner.provider === 'email' && random.chance(0.01)) {
      learner.resetPending = true;
      script.update(
        'users',
        { password_reset_token: random.hex(16), password_reset_expires_at: instant(now + HOUR) },
        { id: learner.id },
      );
    }
    if (learner.oauthId && random.chance(0.3))
      script.update(
        'oauth_providers',
        { access_token: random.base64url(48), token_expires_at: instant(now + HOUR) },
        { id: learner.oauthId },
      );
    if (learner.courses.length === 1 && random.chance(0.02)) {
      const other = this.catalog.courses.filter((course) => course.id !== learner.courses[0]?.courseId);
      this.enroll(learner, random.pick(other).id, now);
    }
  }

  /** Account deletions (hard, cascading), then the content team's edits. */
  private closeDay(day: number): void {
    const night = this.periodStart + (day + 1) * DAY - MINUTE;
    for (const learner of this.learners) {
      if (learner.deleted || learner.deletionDay !== day) continue;
      learner.deleted = true;
      this.script.insert('system_audit_log', [
        {
          id: this.random.uuid(),
          admin_user_id: null,
          action: 'user_delete',
          table_name: 'users',
          record_id: learner.id,
          old_values: json({ reason: 'user_request' }),
          new_values: null,
          ip_address: '10.0.0.7',
          created_at: instant(Math.max(night, learner.lastEventAt + MINUTE)),
        },
      ]);
      this.script.delete('users', { id: learner.id });
      this.tallies.usersDeleted += 1;
    }
    if (this.random.chance(CONTENT_EDIT_CHANCE))
      editContent(this.random, this.script, this.catalog, this.periodStart + day * DAY + 10 * HOUR);
  }

  private log(
    learner: Learner,
    type: string,
    data: Record<string, unknown>,
    at: number,
    userAgent: string | null = null,
  ): void {
    this.script.insert('user_activity_log', [
      {
        id: this.random.uuid(),
        user_id: learner.id,
        activity_type: type,
        activity_data: json(data),
        ip_address: `203.0.113.${(learner.index % 250) + 1}`,
        user_agent: userAgent,
        created_at: instant(at),
      },
    ]);
  }
}
