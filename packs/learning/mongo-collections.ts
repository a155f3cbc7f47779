// The learning platform's MongoDB side (seed 000: Media, Analytics and Notification services): the
// collections with the seed's indexes, and the top-level fields the warehouse mirrors as typed
// columns next to the whole document.
import type { MongoCollectionSpec } from '../pack.ts';

export const LEARNING_MONGO_DATABASE = 'learning';

export const learningCollections: MongoCollectionSpec[] = [
  {
    name: 'user_interactions',
    indexes: [
      { key: { user_id: 1, timestamp: -1 } },
      { key: { event_type: 1, timestamp: -1 } },
      { key: { 'content_info.content_id': 1, timestamp: -1 } },
      { key: { session_id: 1 } },
      { key: { timestamp: 1 }, expireAfterSeconds: 7_776_000 },
    ],
    fields: [
      { name: 'user_id', type: 'string' },
      { name: 'session_id', type: 'string' },
      { name: 'event_type', type: 'string' },
      { name: 'event_category', type: 'string' },
      { name: 'timestamp', type: 'datetime' },
    ],
  },
  {
    name: 'media_files',
    indexes: [
      { key: { file_type: 1 } },
      { key: { 'references.reference_type': 1, 'references.reference_id': 1 } },
      { key: { tags: 1 } },
      { key: { uploaded_by: 1 } },
      { key: { created_at: -1 } },
      { key: { visibility: 1 } },
    ],
    fields: [
      { name: 'file_type', type: 'string' },
      { name: 'file_size', type: 'int' },
      { name: 'uploaded_by', type: 'string' },
      { name: 'created_at', type: 'datetime' },
    ],
  },
  {
    name: 'media_usage_analytics',
    indexes: [
      { key: { media_file_id: 1, timestamp: -1 } },
      { key: { user_id: 1, timestamp: -1 } },
      { key: { timestamp: 1 }, expireAfterSeconds: 7_776_000 },
    ],
    fields: [
      { name: 'user_id', type: 'string' },
      { name: 'session_id', type: 'string' },
      { name: 'event_type', type: 'string' },
      { name: 'timestamp', type: 'datetime' },
    ],
  },
  {
    name: 'notification_templates',
    indexes: [{ key: { template_code: 1 } }, { key: { status: 1 } }, { key: { category: 1 } }],
    fields: [
      { name: 'template_code', type: 'string' },
      { name: 'category', type: 'string' },
      { name: 'status', type: 'string' },
    ],
  },
  {
    name: 'notification_queue',
    indexes: [
      { key: { user_id: 1, scheduled_at: 1 } },
      { key: { status: 1, scheduled_at: 1 } },
      { key: { template_code: 1 } },
      { key: { created_at: 1 }, expireAfterSeconds: 2_592_000 },
    ],
    fields: [
      { name: 'user_id', type: 'string' },
      { name: 'template_code', type: 'string' },
      { name: 'status', type: 'string' },
      { name: 'created_at', type: 'datetime' },
    ],
  },
  {
    name: 'user_notification_preferences',
    indexes: [{ key: { user_id: 1 }, unique: true }],
    fields: [{ name: 'user_id', type: 'string' }],
  },
  {
    // The experiments the simulator runs, with their configured splits: what the A/B transforms
    // compare the observed assignment against.
    name: 'experiments',
    indexes: [{ key: { experiment_name: 1 }, unique: true }],
    fields: [
      { name: 'experiment_name', type: 'string' },
      { name: 'status', type: 'string' },
    ],
  },
];
