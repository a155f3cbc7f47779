// The document side of the simulation (seed 000's Media, Analytics and Notification services):
// what learners do becomes `user_interactions`, `media_usage_analytics` and notification documents,
// buffered like the SQL and written to MongoDB in order. It draws from its own random stream, so
// the Postgres history is identical with or without a MongoDB to write to.
import { Int32, ObjectId, type AnyBulkWriteOperation, type Db, type Document } from 'mongodb';
import type { CatalogLesson, CatalogParagraph } from './catalog.ts';
import { DAY } from './context.ts';
import { EXPERIMENTS } from './experiments.ts';
import type { Learner } from './learner.ts';
import { Random } from '../common/random.ts';

/** Raw interaction events are kept 90 days (the seed's TTL index). */
const INTERACTION_RETENTION_MS = 90 * DAY;

export type InteractionType =
  | 'session_start'
  | 'lesson_start'
  | 'paragraph_read'
  | 'audio_play'
  | 'word_click'
  | 'exercise_attempt'
  | 'lesson_complete'
  | 'lesson_fail';

const CATEGORY: Record<InteractionType, string> = {
  session_start: 'navigation',
  lesson_start: 'learning',
  paragraph_read: 'learning',
  audio_play: 'learning',
  word_click: 'learning',
  exercise_attempt: 'learning',
  lesson_complete: 'learning',
  lesson_fail: 'learning',
};

export interface InteractionContent {
  type: 'lesson' | 'paragraph' | 'word' | 'exercise';
  id: string;
  title: string;
  difficulty: number;
}

export interface InteractionData {
  duration?: number;
  completion_rate?: number;
  score?: number;
  attempts?: number;
  audio_plays?: number;
  hint_usage?: number;
}

export class DocumentLog {
  private readonly random: Random;
  private readonly pending = new Map<string, AnyBulkWriteOperation[]>();
  private count = 0;
  /** Audio file of each paragraph, created with the catalog. */
  private readonly paragraphAudio = new Map<string, ObjectId>();

  /** `enabled` false: nothing is built or kept (no MongoDB to write to). */
  constructor(
    readonly enabled: boolean,
    seed: number,
  ) {
    this.random = new Random(seed ^ 0x5eed_d0c5);
  }

  get pendingCount(): number {
    return this.count;
  }

  /** Experiment configs, templates and one audio file per paragraph: the platform before day one. */
  setUp(paragraphs: readonly CatalogParagraph[], at: number): void {
    if (!this.enabled) return;
    const now = new Date(at);
    for (const experiment of EXPERIMENTS)
      this.insert('experiments', { _id: this.objectId(), ...experiment, created_at: now });
    for (const [code, category, vi, en] of TEMPLATES)
      this.insert('notification_templates', {
        _id: this.objectId(),
        template_code: code,
        template_name: en,
        category,
        status: 'active',
        localizations: { vi: { title_template: vi }, en: { title_template: en } },
        variables: [{ name: 'username', type: 'string', required: true }],
        created_at: now,
      });
    for (const paragraph of paragraphs) {
      const id = this.objectId();
      this.paragraphAudio.set(paragraph.id, id);
      this.insert('media_files', {
        _id: id,
        file_name: `paragraph_${paragraph.id.slice(0, 8)}.mp3`,
        file_type: 'audio',
        mime_type: 'audio/mpeg',
        file_size: new Int32(this.random.int(40_000, 900_000)),
        storage_provider: 'aws_s3',
        storage_path: `/audio/paragraphs/${paragraph.id}.mp3`,
        metadata: { duration: paragraph.readSeconds, bitrate: new Int32(128), channels: new Int32(1) },
        references: [{ reference_type: 'paragraph', reference_id: paragraph.id }],
        tags: [paragraph.topic, 'tts'],
        uploaded_by: 'content-pipeline',
        visibility: 'public',
        created_at: now,
      });
    }
  }

  /** A `user_interactions` event, shaped as in seed 000, carrying the learner's experiments. */
  interaction(
    learner: Learner,
    at: number,
    type: InteractionType,
    content: InteractionContent | null,
    data: InteractionData = {},
  ): void {
    if (!this.enabled) return;
    const random = this.random;
    const timestamp = new Date(at);
    this.insert('user_interactions', {
      _id: this.objectId(),
      user_id: learner.id,
      session_id: learner.sessionId,
      event_type: type,
      event_category: CATEGORY[type],
      content_info: content && {
        content_type: content.type,
        content_id: content.id,
        content_title: content.title,
        language_code: 'vi',
        difficulty_level: new Int32(content.difficulty),
      },
      interaction_data: {
        ...data,
        loading_time: new Int32(random.int(80, 1400)),
        error_count: new Int32(random.chance(0.03) ? 1 : 0),
      },
      user_context: {
        device_type: learner.device.platform === 'web' ? 'desktop' : 'mobile',
        os: learner.device.platform,
        is_returning_user: learner.lastActiveDay !== null,
        days_since_registration: new Int32(Math.floor((at - learner.signedUpAt) / DAY)),
        current_streak: new Int32(learner.streak.current),
      },
      location_data: { country_code: learner.identity.countryCode },
      timestamp,
      server_timestamp: new Date(at + random.int(20, 900)),
      experiments: learner.experiments.flatMap((assignment) => {
        const exposedAt = learner.exposures.get(assignment.experiment_name);
        return exposedAt === undefined
          ? []
          : [
              {
                experiment_name: assignment.experiment_name,
                variant: assignment.variant,
                started_at: new Date(exposedAt),
              },
            ];
      }),
      is_bot: false,
      confidence_score: 0.97,
      expires_at: new Date(at + INTERACTION_RETENTION_MS),
    });
  }

  /** A paragraph read, and about a third of the time its audio played first. */
  paragraphRead(
    learner: Learner,
    at: number,
    lesson: CatalogLesson,
    paragraph: CatalogParagraph,
    seconds: number,
  ): void {
    if (!this.enabled) return;
    if (this.random.chance(0.35)) this.audioPlay(learner, at - seconds * 1000, lesson, paragraph);
    this.interaction(learner, at, 'paragraph_read', paragraphContent(lesson, paragraph), {
      duration: seconds,
      completion_rate: 1,
      audio_plays: 0,
    });
  }

  private audioPlay(learner: Learner, at: number, lesson: CatalogLesson, paragraph: CatalogParagraph): void {
    const media = this.paragraphAudio.get(paragraph.id);
    this.interaction(learner, at, 'audio_play', paragraphContent(lesson, paragraph), {
      audio_plays: 1,
    });
    if (!media) return;
    this.insert('media_usage_analytics', {
      _id: this.objectId(),
      media_file_id: media,
      user_id: learner.id,
      event_type: 'play',
      event_data: { duration_watched: this.random.int(3, paragraph.readSeconds + 5) },
      context: { reference_type: 'paragraph', reference_id: paragraph.id },
      timestamp: new Date(at),
      session_id: learner.sessionId,
    });
  }

  preferencesCreated(learner: Learner, at: number): void {
    if (!this.enabled) return;
    this.insert('user_notification_preferences', {
      _id: this.objectId(),
      user_id: learner.id,
      global_settings: {
        notifications_enabled: true,
        push_notifications: learner.device.platform !== 'web',
        email_notifications: this.random.chance(0.6),
        quiet_hours: { enabled: this.random.chance(0.3), start_time: '22:00', end_time: '07:00' },
        max_notifications_per_day: new Int32(3),
      },
      category_preferences: { learning_reminders: { enabled: true, channels: ['push'], frequency: 'daily' } },
      created_at: new Date(at),
      updated_at: new Date(at),
    });
  }

  preferencesChanged(learner: Learner, at: number): void {
    if (!this.enabled) return;
    this.update(
      'user_notification_preferences',
      { user_id: learner.id },
      {
        $set: {
          'global_settings.email_notifications': this.random.chance(0.5),
          updated_at: new Date(at),
        },
      },
    );
  }

  /** A reminder or milestone notification, queued as pending; `sendPending` delivers it tonight. */
  notify(learner: Learner, at: number, templateCode: string): void {
    if (!this.enabled) return;
    this.insert('notification_queue', {
      _id: this.objectId(),
      user_id: learner.id,
      template_code: templateCode,
      content: { title: templateCode.replaceAll('_', ' '), action_url: '/learn' },
      delivery: { channels: ['push'], priority: 'normal', scheduled_at: new Date(at) },
      status: 'pending',
      created_at: new Date(at),
    });
  }

  sendPending(at: number): void {
    if (!this.enabled) return;
    this.updateMany(
      'notification_queue',
      { status: 'pending' },
      { $set: { status: 'sent', sent_at: new Date(at) } },
    );
  }

  /** An account deletion removes the user's notification settings and queue. */
  userDeleted(learner: Learner): void {
    if (!this.enabled) return;
    this.push('user_notification_preferences', { deleteMany: { filter: { user_id: learner.id } } });
    this.push('notification_queue', { deleteMany: { filter: { user_id: learner.id } } });
  }

  /** Writes what is buffered, collection by collection, each in order. */
  async flush(db: Db | undefined): Promise<void> {
    if (db)
      for (const [collection, operations] of this.pending)
        if (operations.length > 0) await db.collection(collection).bulkWrite(operations, { ordered: true });
    this.pending.clear();
    this.count = 0;
  }

  private insert(collection: string, document: Document): void {
    this.push(collection, { insertOne: { document } });
  }

  private update(collection: string, filter: Document, update: Document): void {
    this.push(collection, { updateOne: { filter, update } });
  }

  private updateMany(collection: string, filter: Document, update: Document): void {
    this.push(collection, { updateMany: { filter, update } });
  }

  private push(collection: string, operation: AnyBulkWriteOperation): void {
    let operations = this.pending.get(collection);
    if (!operations) this.pending.set(collection, (operations = []));
    operations.push(operation);
    this.count++;
  }

  /** Reproducible ids: the same seed writes the same documents. */
  private objectId(): ObjectId {
    return new ObjectId(this.random.hex(12));
  }
}

export function lessonContent(lesson: CatalogLesson): InteractionContent {
  return { type: 'lesson', id: lesson.id, title: `${lesson.topic} lesson`, difficulty: lesson.difficulty };
}

export function paragraphContent(lesson: CatalogLesson, paragraph: CatalogParagraph): InteractionContent {
  return {
    type: 'paragraph',
    id: paragraph.id,
    title: paragraph.sentences[0]?.slice(0, 60) ?? '',
    difficulty: lesson.difficulty,
  };
}

const TEMPLATES: readonly (readonly [string, string, string, string])[] = [
  ['lesson_reminder', 'learning', 'Đến giờ học rồi, {{username}}!', 'Time for a lesson, {{username}}!'],
  ['streak_milestone', 'achievement', 'Chuỗi {{days}} ngày! Tuyệt vời!', '{{days}}-day streak! Amazing!'],
  ['come_back', 'engagement', 'Chúng tôi nhớ bạn!', 'We miss you!'],
];
