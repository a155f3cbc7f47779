// Plays learners on the Vietnamese-learning platform day by day and writes what they do as ordinary
// SQL with historical timestamps, so one short run leaves weeks of realistic change history.
import type pg from 'pg';
import type { MongoCollectionSpec, SimulationOptions, SimulationSummary } from '../pack.ts';
import {
  awardAchievements,
  closeSession,
  deleteAccount,
  editAccount,
  expireSessions,
  markDormant,
  openSession,
  recordStreak,
  signUp,
  updateProficiency,
} from './accounts.ts';
import { createCatalog, releaseLessons, reviseParagraph } from './catalog.ts';
import type { Db } from 'mongodb';
import { Clock, DAY, HOUR, MINUTE, type SimulationContext, type Tallies } from './context.ts';
import { DocumentLog } from './documents.ts';
import { exposedExperiments } from './experiments.ts';
import { learningCollections } from './mongo-collections.ts';
import { activityChance, createLearner, isLive, sessionStart, type Learner } from './learner.ts';
import { Random } from '../common/random.ts';
import { SqlScript } from '../common/sql-script.ts';
import { validateSimulationOptions } from '../common/simulation-options.ts';
import { deleteLessonData, publishLessonStats, studySession } from './studying.ts';

export interface LearningSimulationSummary extends SimulationSummary, Tallies {
  inserts: number;
  updates: number;
  deletes: number;
  rowsInserted: number;
  activeLearnerDays: number;
}

const DEFAULT_END_DATE = new Date('2026-11-01T00:00:00Z');
/** Statements per round trip and transaction: large enough to be fast, small enough to stay lean. */
const CHUNK_STATEMENTS = 2000;
const DELETED_ACCOUNT_SHARE = 0.03;
const DORMANT_AFTER_DAYS = 14;
const PARAGRAPH_REVISION_CHANCE = 0.2;

export async function simulateLearning(
  client: pg.ClientBase | pg.Pool,
  options: SimulationOptions & { mongo?: Db },
): Promise<LearningSimulationSummary> {
  validateSimulationOptions(options);
  return new Simulation(client, options).run();
}

class Simulation {
  private readonly context: SimulationContext;
  private readonly learners: Learner[];
  private readonly periodStart: number;
  private activeLearnerDays = 0;

  constructor(
    private readonly client: pg.ClientBase | pg.Pool,
    private readonly options: SimulationOptions & { mongo?: Db },
  ) {
    const random = new Random(options.seed);
    const script = new SqlScript();
    const documents = new DocumentLog(options.mongo !== undefined, options.seed);
    this.periodStart = (options.endDate ?? DEFAULT_END_DATE).getTime() - options.days * DAY;
    const catalog = createCatalog(random, script, this.periodStart, options.days);
    this.context = {
      random,
      script,
      documents,
      catalog,
      tallies: {
        usersCreated: 0,
        usersDeleted: 0,
        sessions: 0,
        lessonsStarted: 0,
        lessonsCompleted: 0,
        activityAttempts: 0,
        reviews: 0,
        achievements: 0,
      },
      lessonViews: new Map(),
      lessonsToRerate: new Set(),
      publicReviews: new Map(),
    };
    this.learners = this.createLearners();
  }

  async run(): Promise<LearningSimulationSummary> {
    if (this.options.mongo) await createCollections(this.options.mongo);
    this.context.documents.setUp(this.context.catalog.paragraphs, this.periodStart);
    await this.flush();
    for (let day = 0; day < this.options.days; day++) {
      await this.simulateDay(day);
      this.options.onProgress?.(day + 1, this.options.days);
    }
    return this.summary();
  }

  private createLearners(): Learner[] {
    const { random } = this.context;
    const takenPhones = new Set<string>();
    const learners = Array.from({ length: this.options.users }, (_, index) =>
      createLearner(random, index + 1, this.options.days, takenPhones),
    );
    // About 3% delete their account some day after signing up; at least one whenever that is possible.
    const canLeave = learners.filter((learner) => learner.signupDay < this.options.days - 1);
    const leaving = Math.min(
      canLeave.length,
      Math.max(1, Math.round(learners.length * DELETED_ACCOUNT_SHARE)),
    );
    for (const learner of random.sample(canLeave, leaving)) {
      learner.deletionDay = random.int(learner.signupDay + 1, this.options.days - 1);
    }
    return learners;
  }

  private async simulateDay(day: number): Promise<void> {
    const { random, script } = this.context;
    const dayStart = this.periodStart + day * DAY;
    const isWeekend = [0, 6].includes(new Date(dayStart).getUTCDay());
    releaseLessons(this.context, day, dayStart + 6 * HOUR);
    signUp(
      this.context,
      this.learners.filter((learner) => learner.signupDay === day),
      dayStart,
    );
    for (const learner of this.learners) {
      if (!isLive(learner, day) || !random.chance(activityChance(learner, day, isWeekend))) continue;
      this.studyDay(learner, day, dayStart);
      if (script.pendingCount + this.context.documents.pendingCount >= CHUNK_STATEMENTS) await this.flush();
    }
    this.closeDay(day, dayStart);
    await this.flush();
  }

  /** SQL first, then documents: a service writes its own store after the user's action committed. */
  private async flush(): Promise<void> {
    await this.context.script.flush(this.client);
    await this.context.documents.flush(this.options.mongo);
  }

  /** One learner's visit: log in, study, tweak the account, collect streak and badges, leave. */
  private studyDay(learner: Learner, day: number, dayStart: number): void {
    const { random } = this.context;
    const firstVisit = day === learner.signupDay;
    const clock = new Clock(
      firstVisit ? learner.signedUpAt + random.int(1, 5) * MINUTE : sessionStart(random, learner, dayStart),
    );
    // Experiments are shown when the app opens: the first time counts as the exposure.
    for (const { experiment_name } of exposedExperiments(learner.experiments, day, this.options.days))
      if (!learner.exposures.has(experiment_name)) learner.exposures.set(experiment_name, clock.now);
    const sessionId = openSession(this.context, learner, clock);
    studySession(this.context, learner, day, clock);
    editAccount(this.context, learner, clock);
    updateProficiency(this.context, learner, clock);
    recordStreak(this.context, learner, day, dayStart, clock.now);
    awardAchievements(this.context, learner, clock.now);
    closeSession(this.context, learner, sessionId);
    learner.sessionId = null;
    learner.lastActiveDay = day;
    this.activeLearnerDays += 1;
  }

  /** Account deletions, then the nightly jobs: dormancy, session expiry, lesson counters, editing. */
  private closeDay(day: number, dayStart: number): void {
    const { random } = this.context;
    const night = dayStart + DAY - MINUTE;
    for (const learner of this.learners) {
      if (learner.deleted || learner.deletionDay !== day) continue;
      deleteAccount(this.context, learner);
      deleteLessonData(this.context, learner);
    }
    for (const learner of this.learners) {
      const lapsed = learner.lastActiveDay !== null && day - learner.lastActiveDay === DORMANT_AFTER_DAYS;
      if (isLive(learner, day) && lapsed && !learner.dormant) markDormant(this.context, learner, night);
    }
    expireSessions(this.context, night);
    this.context.documents.sendPending(night);
    publishLessonStats(this.context);
    if (random.chance(PARAGRAPH_REVISION_CHANCE)) reviseParagraph(this.context, dayStart + 10 * HOUR);
  }

  private summary(): LearningSimulationSummary {
    const { script, tallies } = this.context;
    const counts = script.statementCounts;
    return {
      statements: counts.insert + counts.update + counts.delete,
      inserts: counts.insert,
      updates: counts.update,
      deletes: counts.delete,
      rowsInserted: script.rowsInserted,
      activeLearnerDays: this.activeLearnerDays,
      ...tallies,
    };
  }
}

/** The pack's collections with the seed's indexes (a TTL index included), before any document. */
export async function createCollections(
  db: Db,
  specs: readonly MongoCollectionSpec[] = learningCollections,
): Promise<void> {
  for (const spec of specs) {
    const collection = db.collection(spec.name);
    for (const index of spec.indexes)
      await collection.createIndex(index.key, {
        ...(index.unique ? { unique: true } : {}),
        ...(index.expireAfterSeconds !== undefined ? { expireAfterSeconds: index.expireAfterSeconds } : {}),
      });
  }
}
