// PostBook's MongoDB side (seed 001: UserProfile, Chat, PostFeed, Media and Notification services):
// every collection with the seed's indexes, and the top-level fields the warehouse mirrors as typed
// columns next to the whole document. The seed gives each service its own database; here they share
// one (`postbook`), since the capture names mirrors by collection and no two services share a name.
import type { Db } from 'mongodb';
import type { MongoCollectionSpec } from '../pack.ts';

export const POSTBOOK_MONGO_DATABASE = 'postbook';

const DAY_SECONDS = 86_400;

export const postbookCollections: MongoCollectionSpec[] = [
  // UserProfileServiceDB
  {
    name: 'user_profiles',
    indexes: [
      { key: { userId: 1 }, unique: true },
      { key: { username: 1 }, unique: true, collation: { locale: 'en', strength: 2 } },
      { key: { displayName: 'text', bio: 'text' } },
      { key: { friends: 1 } },
      { key: { followers: 1 } },
      { key: { following: 1 } },
      { key: { 'location.coordinates': '2dsphere' } },
      { key: { 'skills.name': 1 } },
      { key: { isDeleted: 1, isActive: 1 } },
      { key: { isOnline: 1, lastSeenAt: -1 } },
    ],
    fields: [
      { name: 'userId', type: 'string' },
      { name: 'username', type: 'string' },
      { name: 'displayName', type: 'string' },
      { name: 'avatarUrl', type: 'string' },
      { name: 'isDeleted', type: 'bool' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  {
    name: 'friend_requests',
    indexes: [
      { key: { senderId: 1, status: 1 } },
      { key: { receiverId: 1, status: 1 } },
      { key: { senderId: 1, receiverId: 1 }, unique: true },
      { key: { status: 1, sentAt: -1 } },
      { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
    ],
    fields: [
      { name: 'senderId', type: 'string' },
      { name: 'receiverId', type: 'string' },
      { name: 'status', type: 'string' },
      { name: 'sentAt', type: 'datetime' },
    ],
  },
  {
    // Also where the app records experiment exposures (activityType `ExperimentExposure`).
    name: 'user_activities',
    indexes: [
      { key: { userId: 1, createdAt: -1 } },
      { key: { activityType: 1, createdAt: -1 } },
      { key: { isPublic: 1, createdAt: -1 } },
      { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
    ],
    fields: [
      { name: 'userId', type: 'string' },
      { name: 'activityType', type: 'string' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  // ChatServiceDB
  {
    name: 'conversations',
    indexes: [
      { key: { 'participants.userId': 1 } },
      { key: { type: 1, updatedAt: -1 } },
      { key: { name: 'text', description: 'text' } },
      { key: { 'participants.userId': 1, 'participants.isActive': 1, updatedAt: -1 } },
      { key: { type: 1, 'participants.userId': 1 }, sparse: true },
    ],
    fields: [
      { name: 'type', type: 'string' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  {
    name: 'messages',
    indexes: [
      { key: { conversationId: 1, createdAt: -1 } },
      { key: { senderId: 1, createdAt: -1 } },
      { key: { content: 'text' } },
      { key: { conversationId: 1, 'readBy.userId': 1, createdAt: -1 } },
      { key: { 'mentions.userId': 1, createdAt: -1 } },
      { key: { 'replyTo.messageId': 1 } },
    ],
    fields: [
      { name: 'conversationId', type: 'string' },
      { name: 'senderId', type: 'string' },
      { name: 'messageType', type: 'string' },
      { name: 'isDeleted', type: 'bool' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  // PostFeedServiceDB
  {
    name: 'posts',
    indexes: [
      { key: { userId: 1, createdAt: -1 } },
      { key: { visibility: 1, createdAt: -1 } },
      { key: { hashtags: 1, createdAt: -1 } },
      { key: { 'mentions.userId': 1, createdAt: -1 } },
      { key: { content: 'text' } },
      { key: { 'location.coordinates': '2dsphere' } },
      { key: { likesCount: -1, commentsCount: -1, sharesCount: -1, createdAt: -1 } },
      { key: { isDeleted: 1, visibility: 1, createdAt: -1 } },
    ],
    fields: [
      { name: 'userId', type: 'string' },
      { name: 'postType', type: 'string' },
      { name: 'visibility', type: 'string' },
      { name: 'isDeleted', type: 'bool' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  {
    name: 'comments',
    indexes: [
      { key: { postId: 1, createdAt: -1 } },
      { key: { userId: 1, createdAt: -1 } },
      { key: { parentCommentId: 1, createdAt: -1 } },
      { key: { 'mentions.userId': 1, createdAt: -1 } },
      { key: { postId: 1, isDeleted: 1, createdAt: -1 } },
    ],
    fields: [
      { name: 'userId', type: 'string' },
      { name: 'isDeleted', type: 'bool' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  {
    name: 'likes',
    indexes: [
      { key: { entityId: 1, entityType: 1, createdAt: -1 } },
      { key: { userId: 1, createdAt: -1 } },
      { key: { entityId: 1, entityType: 1, userId: 1 }, unique: true },
      { key: { reactionType: 1 } },
    ],
    fields: [
      { name: 'entityType', type: 'string' },
      { name: 'userId', type: 'string' },
      { name: 'reactionType', type: 'string' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  {
    name: 'shares',
    indexes: [
      { key: { originalPostId: 1, createdAt: -1 } },
      { key: { userId: 1, createdAt: -1 } },
      { key: { sharedPostId: 1 } },
    ],
    fields: [
      { name: 'userId', type: 'string' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  {
    // Written by Tributary alone (count, lastUsed, trendScore): see writeback.ts.
    name: 'hashtags',
    indexes: [
      { key: { tag: 1 }, unique: true },
      { key: { trendScore: -1, count: -1 } },
      { key: { lastUsed: -1 } },
    ],
    fields: [{ name: 'tag', type: 'string' }],
  },
  // MediaServiceDB
  {
    name: 'media_files',
    indexes: [
      { key: { userId: 1, uploadedAt: -1 } },
      { key: { fileType: 1, uploadedAt: -1 } },
      { key: { category: 1, uploadedAt: -1 } },
      { key: { tags: 1 } },
      { key: { processingStatus: 1, processingStartedAt: 1 } },
      { key: { originalFileName: 'text', description: 'text', tags: 'text' } },
      { key: { isDeleted: 1, userId: 1, uploadedAt: -1 } },
      { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
    ],
    fields: [
      { name: 'userId', type: 'string' },
      { name: 'fileType', type: 'string' },
      { name: 'category', type: 'string' },
      { name: 'isDeleted', type: 'bool' },
      { name: 'uploadedAt', type: 'datetime' },
    ],
  },
  // NotificationServiceDB
  {
    name: 'notifications',
    indexes: [
      { key: { userId: 1, createdAt: -1 } },
      { key: { userId: 1, isRead: 1, createdAt: -1 } },
      { key: { type: 1, createdAt: -1 } },
      { key: { actorId: 1, createdAt: -1 } },
      { key: { groupKey: 1 } },
      { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
    ],
    fields: [
      { name: 'userId', type: 'string' },
      { name: 'type', type: 'string' },
      { name: 'actorId', type: 'string' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  {
    // Not in the seed: the experiments the simulator runs and their configured splits, which the
    // A/B transforms compare the observed assignment against.
    name: 'experiments',
    indexes: [{ key: { experimentName: 1 }, unique: true }],
    fields: [{ name: 'experimentName', type: 'string' }],
  },
];

/** Creates every collection's indexes (TTL, text, 2dsphere and case-insensitive unique included). */
export async function createPostbookCollections(db: Db): Promise<void> {
  for (const spec of postbookCollections) {
    const collection = db.collection(spec.name);
    for (const index of spec.indexes)
      await collection.createIndex(index.key, {
        ...(index.unique ? { unique: true } : {}),
        ...(index.sparse ? { sparse: true } : {}),
        ...(index.collation ? { collation: index.collation } : {}),
        ...(index.expireAfterSeconds !== undefined ? { expireAfterSeconds: index.expireAfterSeconds } : {}),
      });
  }
}

/** Notifications live 7 days, friend requests 30, activities 90 (the seed's `expiresAt`). */
export const NOTIFICATION_TTL_S = 7 * DAY_SECONDS;
export const FRIEND_REQUEST_TTL_S = 30 * DAY_SECONDS;
export const ACTIVITY_TTL_S = 90 * DAY_SECONDS;
