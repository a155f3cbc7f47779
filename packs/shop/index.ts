// The "shop" source pack (seed 002): e-commerce microservices — auth, user, order and payment
// services each on their own Postgres database; products, their event stream, categories, reviews
// and notifications in MongoDB — and a simulator that plays its shoppers.
import type { SourcePack } from '../pack.ts';
import { shopMapping } from './mapping.ts';
import { shopHeadline, shopMarts } from './marts.ts';
import { SHOP_MONGO_DATABASE, shopCollections } from './mongo-collections.ts';
import { shopDatabases } from './schema.ts';
import { simulateShop } from './simulator.ts';
import { shopWriteback } from './writeback.ts';

export { simulateShop, type ShopSimulationSummary } from './simulator.ts';

export const shopPack: SourcePack = {
  name: 'shop',
  description:
    'E-commerce microservices: auth, user, order and payment services (one Postgres database each); products with their event stream, categories, reviews and notifications (MongoDB).',
  postgres: shopDatabases,
  mongo: { database: SHOP_MONGO_DATABASE, collections: shopCollections },
  mapping: shopMapping,
  marts: shopMarts,
  writeback: shopWriteback,
  headline: shopHeadline,
  simulate: simulateShop,
};
