// What every simulated behaviour of the shop shares: the random source, the SQL being written to
// each service's database, the documents, the catalog, the shoppers' open orders and reviews, and
// the tallies that end up in the summary.
import type { Random } from '../common/random.ts';
import type { SqlScript } from '../common/sql-script.ts';
import type { DocumentBuffer } from './documents.ts';
import type { Assignment } from './experiments.ts';

export { Clock, DAY, HOUR, MINUTE, SECOND } from '../learning/context.ts';

/** The Postgres databases of the shop, one per service (seed 002's database distribution). */
export const SHOP_SERVICES = ['auth', 'user', 'order', 'payment'] as const;
export type ShopService = (typeof SHOP_SERVICES)[number];

export interface Tallies {
  usersCreated: number;
  usersDeleted: number;
  visits: number;
  productViews: number;
  cartAdds: number;
  ordersPlaced: number;
  ordersPaid: number;
  paymentsFailed: number;
  ordersCancelled: number;
  refunds: number;
  ordersDelivered: number;
  reviews: number;
  reviewsDeleted: number;
  productsCreated: number;
  productsDeleted: number;
}

export interface Category {
  id: string;
  name: string;
  slug: string;
  productCount: number;
}

export interface Product {
  id: string;
  name: string;
  slug: string;
  sku: string;
  category: Category;
  priceCents: number;
  stock: number;
  /** The aggregate's last event version (views and cart adds are events of its stream too). */
  version: number;
  /** 1–5: how good it is; drives ratings and returns. */
  quality: number;
  /** Relative weight among the products shoppers see. */
  popularity: number;
  live: boolean;
}

export interface Shopper {
  userId: string;
  profileId: string;
  email: string;
  name: string;
  signupDay: number;
  signedUpAt: number;
  /** Days after signup during which the shopper keeps coming; after that, rarely. */
  lifetimeDays: number;
  /** Chance of a visit on an ordinary day while engaged. */
  propensity: number;
  favoriteCategories: Category[];
  address: { street: string; city: string; state: string; zip: string; country: string };
  extraAddressIds: string[];
  refreshTokens: { id: string; expiresAt: number }[];
  unreadNotifications: string[];
  assignments: Assignment[];
  /** Experiment → first exposure (epoch ms). */
  exposures: Map<string, number>;
  /** The checkout experiment's outcome, decided at exposure. */
  plan: { kind: 'purchase'; day: number } | { kind: 'abstain'; untilDay: number } | null;
  deletionDay: number | null;
  deleted: boolean;
}

export type OrderStage = 'CONFIRMED' | 'PROCESSING' | 'SHIPPED' | 'DELIVERED';

export interface OpenOrder {
  id: string;
  paymentId: string;
  shopper: Shopper;
  totalCents: number;
  items: { product: Product; quantity: number }[];
  stage: OrderStage;
  /** When the next fulfilment step is due (epoch ms). */
  nextAt: number;
  version: number;
  /** Whether the customer will cancel before shipping, or return it after delivery. */
  cancels: boolean;
  returns: boolean;
  deliveredAt: number | null;
}

export interface Review {
  id: string;
  productId: string;
  shopper: Shopper;
  rating: number;
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
  helpful: number;
}

export interface ShopContext {
  readonly random: Random;
  readonly sql: Readonly<Record<ShopService, SqlScript>>;
  readonly documents: DocumentBuffer;
  readonly tallies: Tallies;
  readonly tenantIds: string[];
  /** Staff who manage the catalog and moderate reviews. */
  readonly staffIds: string[];
  readonly categories: Category[];
  readonly products: Product[];
  readonly openOrders: OpenOrder[];
  /** Reviews not yet moderated, and approved ones that may be edited, voted on or deleted. */
  readonly reviews: Review[];
  /** Deliveries a shopper will review: due time and what. */
  readonly reviewsDue: { at: number; shopper: Shopper; product: Product }[];
  orderSequence: number;
}

/** Cents as the seed's DECIMAL(10, 2) text. */
export function money(cents: number): string {
  return (cents / 100).toFixed(2);
}
