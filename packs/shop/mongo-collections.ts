// The shop's MongoDB side (seed 002 §5–7: Product, Review and Notification services): the
// collections with the seed's indexes, and the top-level fields the warehouse mirrors as typed
// columns next to the whole document. Two collections are not in the seed: `experiments` (the
// configured splits) and `experiment_assignments` (first exposures), because the seed has no
// experimentation store and the pack plants experiments.
import type { MongoCollectionSpec } from '../pack.ts';

export const SHOP_MONGO_DATABASE = 'shop';

export const shopCollections: MongoCollectionSpec[] = [
  {
    name: 'products',
    indexes: [
      { key: { slug: 1 }, unique: true },
      { key: { 'category.id': 1 } },
      { key: { status: 1, published: 1 } },
      { key: { price: 1 } },
      { key: { createdAt: -1 } },
      // The seed's "Database Performance" compound index (its text index is left out: the
      // MongoDB stand-in has no text search).
      { key: { 'category.id': 1, price: 1, status: 1 } },
    ],
    fields: [
      { name: 'name', type: 'string' },
      { name: 'sku', type: 'string' },
      { name: 'price', type: 'float' },
      { name: 'currency', type: 'string' },
      { name: 'status', type: 'string' },
      { name: 'published', type: 'bool' },
      { name: 'createdAt', type: 'datetime' },
      { name: 'updatedAt', type: 'datetime' },
    ],
  },
  {
    name: 'product_events',
    indexes: [
      { key: { aggregateId: 1, version: 1 }, unique: true },
      { key: { eventType: 1 } },
      { key: { timestamp: -1 } },
    ],
    fields: [
      { name: 'eventType', type: 'string' },
      { name: 'aggregateId', type: 'string' },
      { name: 'version', type: 'int' },
      { name: 'userId', type: 'string' },
      { name: 'timestamp', type: 'datetime' },
    ],
  },
  {
    name: 'categories',
    indexes: [{ key: { slug: 1 }, unique: true }, { key: { parentId: 1 } }, { key: { path: 1 } }],
    fields: [
      { name: 'name', type: 'string' },
      { name: 'slug', type: 'string' },
      { name: 'level', type: 'int' },
      { name: 'active', type: 'bool' },
    ],
  },
  {
    name: 'reviews',
    indexes: [
      { key: { productId: 1 } },
      { key: { userId: 1 } },
      { key: { status: 1 } },
      { key: { rating: 1 } },
      { key: { createdAt: -1 } },
    ],
    fields: [
      { name: 'productId', type: 'string' },
      { name: 'userId', type: 'string' },
      { name: 'rating', type: 'int' },
      { name: 'status', type: 'string' },
      { name: 'createdAt', type: 'datetime' },
      { name: 'updatedAt', type: 'datetime' },
    ],
  },
  {
    name: 'notifications',
    indexes: [
      { key: { userId: 1, createdAt: -1 } },
      { key: { read: 1 } },
      { key: { type: 1 } },
      { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
    ],
    fields: [
      { name: 'userId', type: 'string' },
      { name: 'type', type: 'string' },
      { name: 'read', type: 'bool' },
      { name: 'createdAt', type: 'datetime' },
    ],
  },
  {
    name: 'experiments',
    indexes: [{ key: { name: 1 }, unique: true }],
    fields: [
      { name: 'name', type: 'string' },
      { name: 'status', type: 'string' },
    ],
  },
  {
    name: 'experiment_assignments',
    indexes: [{ key: { experiment: 1, userId: 1 }, unique: true }],
    fields: [
      { name: 'experiment', type: 'string' },
      { name: 'variant', type: 'string' },
      { name: 'userId', type: 'string' },
      { name: 'exposedAt', type: 'datetime' },
    ],
  },
];
