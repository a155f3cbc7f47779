// Plays the shop day by day and writes what its services would write: the auth, user, order and
// payment databases through ordinary SQL with historical timestamps, and the product, review,
// notification and experiment documents in MongoDB. Shoppers arrive over the period, visit with a
// weekly rhythm until they drift away, browse, fill carts, check out and review; the checkout
// experiment's outcome is planted (experiments.ts).
import { ObjectId, type Db } from 'mongodb';
import { Random } from '../common/random.ts';
import { createCollections } from '../learning/simulator.ts';
import { SqlScript } from '../common/sql-script.ts';
import { SimulationOptionsError, validateSimulationOptions } from '../common/simulation-options.ts';
import type { PackClients, SimulationOptions, SimulationSummary } from '../pack.ts';
import {
  createApiKey,
  createOrganisation,
  createShopper,
  deleteAccount,
  editProfile,
  logIn,
  logOut,
  purgeTokens,
  signUp,
  visitHour,
} from './accounts.ts';
import {
  browseProduct,
  createCategories,
  createProduct,
  maintainCatalog,
  recordCartAdd,
  recordView,
} from './catalog.ts';
import {
  Clock,
  DAY,
  MINUTE,
  SHOP_SERVICES,
  type Shopper,
  type ShopContext,
  type Tallies,
} from './context.ts';
import { DocumentBuffer } from './documents.ts';
import {
  CHECKOUT_EXPERIMENT,
  convertsAfterExposure,
  EXPERIMENTS,
  experimentStartDay,
} from './experiments.ts';
import { shopCollections } from './mongo-collections.ts';
import { checkout, fulfilOrders, readNotifications, type CartLine } from './orders.ts';
import { moderateReviews, writeReviews } from './reviews.ts';

export interface ShopSimulationSummary extends SimulationSummary, Tallies {
  documentWrites: number;
}

const DEFAULT_END_DATE = new Date('2026-11-01T00:00:00Z');
/** Statements (SQL and documents) per flush. */
const CHUNK = 2000;
const DELETED_ACCOUNT_SHARE = 0.03;
/** Visits relative to an ordinary weekday, Sunday first: weekends shop more. */
const WEEKDAY_FACTOR = [1.3, 1.05, 0.95, 0.95, 1, 1.1, 1.35];
/** After their engaged lifetime, shoppers come back this much as often (churn). */
const CHURNED_FACTOR = 0.08;
const CART_CHANCE = 0.14;
const CHECKOUT_CHANCE = 0.5;

export async function simulateShop(
  postgres: PackClients,
  options: SimulationOptions & { mongo?: Db },
): Promise<ShopSimulationSummary> {
  validateSimulationOptions(options);
  for (const service of SHOP_SERVICES)
    if (!postgres[service])
      throw new SimulationOptionsError(`the shop simulator needs the ${service} database's client`);
  return new Simulation(postgres, options).run();
}

class Simulation {
  private readonly context: ShopContext;
  private readonly shoppers: Shopper[];
  private readonly periodStart: number;
  private readonly startDay: number;

  constructor(
    private readonly postgres: PackClients,
    private readonly options: SimulationOptions & { mongo?: Db },
  ) {
    const random = new Random(options.seed);
    this.periodStart = (options.endDate ?? DEFAULT_END_DATE).getTime() - options.days * DAY;
    this.startDay = experimentStartDay(options.days);
    this.context = {
      random,
      sql: { auth: new SqlScript(), user: new SqlScript(), order: new SqlScript(), payment: new SqlScript() },
      documents: new DocumentBuffer(options.mongo !== undefined),
      tallies: {
        usersCreated: 0,
        usersDeleted: 0,
        visits: 0,
        productViews: 0,
        cartAdds: 0,
        ordersPlaced: 0,
        ordersPaid: 0,
        paymentsFailed: 0,
        ordersCancelled: 0,
        refunds: 0,
        ordersDelivered: 0,
        reviews: 0,
        reviewsDeleted: 0,
        productsCreated: 0,
        productsDeleted: 0,
      },
      tenantIds: [],
      staffIds: [],
      categories: [],
      products: [],
      openOrders: [],
      reviews: [],
      reviewsDue: [],
      orderSequence: 0,
    };
    const setUpAt = this.periodStart - 30 * DAY;
    createOrganisation(this.context, setUpAt);
    createCategories(this.context, setUpAt);
    this.shoppers = Array.from({ length: options.users }, (_, index) =>
      createShopper(random, index + 1, options.days, this.periodStart, this.context.categories),
    );
    for (let i = 0; i < Math.max(30, Math.round(options.users / 8)); i++)
      createProduct(this.context, setUpAt + random.int(0, 29) * DAY);
    const canLeave = this.shoppers.filter((shopper) => shopper.signupDay < options.days - 1);
    const leaving = Math.min(
      canLeave.length,
      Math.max(1, Math.round(this.shoppers.length * DELETED_ACCOUNT_SHARE)),
    );
    for (const shopper of random.sample(canLeave, leaving))
      shopper.deletionDay = random.int(shopper.signupDay + 1, options.days - 1);
  }

  async run(): Promise<ShopSimulationSummary> {
    if (this.options.mongo) await createCollections(this.options.mongo, shopCollections);
    for (const experiment of EXPERIMENTS)
      this.context.documents.insert('experiments', {
        _id: new ObjectId(this.context.random.hex(12)),
        name: experiment.name,
        description: experiment.description,
        variants: experiment.variants,
        analysisWindowDays: experiment.analysisWindowDays,
        primaryMetric: experiment.primaryMetric,
        status: experiment.status,
        startedAt: new Date(this.periodStart + this.startDay * DAY),
      });
    await this.flush();
    for (let day = 0; day < this.options.days; day++) {
      await this.simulateDay(day);
      this.options.onProgress?.(day + 1, this.options.days);
    }
    return this.summary();
  }

  private async simulateDay(day: number): Promise<void> {
    const { random } = this.context;
    const dayStart = this.periodStart + day * DAY;
    const weekday = WEEKDAY_FACTOR[new Date(dayStart).getUTCDay()] ?? 1;
    for (const shopper of this.shoppers) {
      if (shopper.signupDay === day) signUp(this.context, shopper);
      if (shopper.signupDay > day || shopper.deleted) continue;
      const planned = shopper.plan?.kind === 'purchase' && shopper.plan.day === day;
      const engaged = day - shopper.signupDay <= shopper.lifetimeDays ? 1 : CHURNED_FACTOR;
      const visits =
        planned || day === shopper.signupDay || random.chance(shopper.propensity * weekday * engaged);
      if (visits) this.visit(shopper, day, dayStart);
      if (this.pendingCount() >= CHUNK) await this.flush();
    }
    this.closeDay(day, dayStart);
    await this.flush();
  }

  /** One visit: log in, see the experiments, browse, maybe check out, maybe edit the profile. */
  private visit(shopper: Shopper, day: number, dayStart: number): void {
    const { random, documents } = this.context;
    this.context.tallies.visits += 1;
    const clock = new Clock(
      day === shopper.signupDay
        ? shopper.signedUpAt + random.int(1, 5) * MINUTE
        : dayStart + visitHour(random) + random.int(0, 59) * MINUTE,
    );
    logIn(this.context, shopper, clock.now);
    if (day >= this.startDay)
      for (const { experiment, variant } of shopper.assignments) {
        if (shopper.exposures.has(experiment)) continue;
        shopper.exposures.set(experiment, clock.now);
        documents.insert('experiment_assignments', {
          _id: new ObjectId(random.hex(12)),
          experiment,
          variant,
          userId: shopper.userId,
          exposedAt: new Date(clock.now),
        });
        if (experiment === CHECKOUT_EXPERIMENT)
          shopper.plan = convertsAfterExposure(shopper.userId, shopper.assignments)
            ? { kind: 'purchase', day: day + random.int(0, 6) }
            : { kind: 'abstain', untilDay: day + 7 };
      }
    readNotifications(this.context, shopper, clock.advance(5));
    const sessionId = random.uuid();
    const live = this.context.products.filter((product) => product.live && product.stock > 0);
    const favorites = shopper.favoriteCategories.map((category) => category.id);
    const cart: CartLine[] = [];
    const pages = Math.min(12, 1 + Math.floor(-Math.log(1 - random.next()) * 3));
    for (let page = 0; page < pages && live.length > 0; page++) {
      const product = browseProduct(random, live, favorites);
      const seconds = random.int(5, 180);
      recordView(this.context, product, shopper.userId, sessionId, clock.now, seconds);
      clock.advance(seconds);
      if (random.chance(CART_CHANCE * Math.min(2, product.quality / 3.5))) {
        const quantity = random.chance(0.85) ? 1 : random.int(2, 3);
        if (product.stock < quantity) continue;
        recordCartAdd(this.context, product, shopper.userId, sessionId, clock.now, quantity);
        cart.push({ product, quantity });
        clock.advance(random.int(3, 20));
      }
    }
    const plan = shopper.plan;
    const mustPay = plan?.kind === 'purchase' && plan.day === day;
    const abstains = plan?.kind === 'abstain' && day <= plan.untilDay;
    if (mustPay && cart.length === 0 && live.length > 0) {
      const product = browseProduct(random, live, favorites);
      recordView(this.context, product, shopper.userId, sessionId, clock.now, 40);
      recordCartAdd(this.context, product, shopper.userId, sessionId, clock.advance(40), 1);
      cart.push({ product, quantity: 1 });
    }
    if (cart.length > 0 && (mustPay || (!abstains && random.chance(CHECKOUT_CHANCE)))) {
      clock.now = checkout(this.context, shopper, cart, clock.advance(random.int(30, 240)), mustPay);
      if (mustPay) shopper.plan = null;
    }
    editProfile(this.context, shopper, clock.advance(30));
    if (random.chance(0.002)) createApiKey(this.context, shopper, clock.now);
    logOut(this.context, shopper);
  }

  /** Deletions, then the nightly jobs: fulfilment, reviews and moderation, tokens, the catalog. */
  private closeDay(day: number, dayStart: number): void {
    const night = dayStart + DAY - MINUTE;
    for (const shopper of this.shoppers) {
      if (shopper.deleted || shopper.deletionDay !== day) continue;
      // A shopper with a planted purchase still ahead leaves only after it.
      if (shopper.plan?.kind === 'purchase' && shopper.plan.day >= day)
        shopper.deletionDay = shopper.plan.day + 1;
      else deleteAccount(this.context, shopper, dayStart + 20 * 3600 * 1000);
    }
    fulfilOrders(this.context, dayStart + DAY);
    writeReviews(this.context, dayStart + DAY);
    moderateReviews(this.context, dayStart);
    purgeTokens(this.context, this.shoppers, night);
    const newProducts = this.context.random.chance(0.5) ? Math.ceil(this.context.products.length * 0.01) : 0;
    maintainCatalog(this.context, dayStart, newProducts);
  }

  private pendingCount(): number {
    return (
      SHOP_SERVICES.reduce((sum, service) => sum + this.context.sql[service].pendingCount, 0) +
      this.context.documents.pendingCount
    );
  }

  /** SQL first, then documents: a service writes its own store after the user's action committed. */
  private async flush(): Promise<void> {
    for (const service of SHOP_SERVICES) {
      const client = this.postgres[service];
      if (client) await this.context.sql[service].flush(client);
    }
    await this.context.documents.flush(this.options.mongo);
  }

  private summary(): ShopSimulationSummary {
    const sqlStatements = SHOP_SERVICES.reduce((sum, service) => {
      const counts = this.context.sql[service].statementCounts;
      return sum + counts.insert + counts.update + counts.delete;
    }, 0);
    return {
      statements: sqlStatements + this.context.documents.written,
      documentWrites: this.context.documents.written,
      ...this.context.tallies,
    };
  }
}
