// The Product Service as the simulation plays it: categories and products in MongoDB, every change
// of a product also appended to its event stream (`product_events`, the seed's event sourcing),
// and what shoppers do on a product page (views, cart adds) recorded in the same stream. Only
// state-changing events change the product document; every event takes the stream's next version.
import { Double, Int32, ObjectId } from 'mongodb';
import type { Random } from '../common/random.ts';
import { DAY, HOUR, type Category, type Product, type ShopContext } from './context.ts';

const CATEGORY_NAMES = [
  ['Electronics', ['Headphones', 'Phones', 'Laptops']],
  ['Home & Kitchen', ['Cookware', 'Furniture']],
  ['Fashion', ['Shoes', 'Outerwear']],
  ['Sports & Outdoors', ['Camping', 'Fitness']],
  ['Books', []],
  ['Toys & Games', []],
  ['Beauty', []],
] as const;

const ADJECTIVES = [
  'Wireless',
  'Classic',
  'Ultra',
  'Compact',
  'Premium',
  'Eco',
  'Smart',
  'Vintage',
  'Pro',
  'Lite',
];
const NOUNS = [
  'Headphones',
  'Kettle',
  'Backpack',
  'Sneakers',
  'Lamp',
  'Jacket',
  'Novel',
  'Puzzle',
  'Blender',
  'Tent',
  'Watch',
  'Serum',
  'Speaker',
  'Mat',
  'Chair',
];
const BRANDS = ['AudioTech', 'HomePro', 'NorthPeak', 'Lumen', 'Stride', 'Verde', 'Orbit', 'Kinetic'];

/** Categories (top level and children, as the seed's hierarchy) created before the period. */
export function createCategories(context: ShopContext, at: number): void {
  let order = 0;
  for (const [name, children] of CATEGORY_NAMES) {
    const parent = addCategory(context, name, null, 0, at, (order += 1));
    for (const child of children) addCategory(context, child, parent, 1, at, (order += 1));
  }
}

function addCategory(
  context: ShopContext,
  name: string,
  parent: Category | null,
  level: number,
  at: number,
  displayOrder: number,
): Category {
  const slug = name.toLowerCase().replace(/[^a-z]+/g, '-');
  const category: Category = { id: context.random.uuid(), name, slug, productCount: 0 };
  context.categories.push(category);
  context.documents.insert('categories', {
    _id: category.id,
    name,
    slug,
    description: `Browse our selection of ${name.toLowerCase()}`,
    parentId: parent?.id ?? null,
    level: new Int32(level),
    path: parent ? `${parent.slug}/${slug}` : slug,
    imageUrl: `https://cdn.example.com/categories/${slug}.jpg`,
    displayOrder: new Int32(displayOrder),
    metaTitle: `${name} - Shop Online`,
    metaDescription: `Browse our wide selection of ${name.toLowerCase()}`,
    active: true,
    productCount: new Int32(0),
    createdAt: new Date(at),
    updatedAt: new Date(at),
  });
  return category;
}

/** A new product, created by staff: its document and its ProductCreatedEvent. */
export function createProduct(context: ShopContext, at: number): Product {
  const { random } = context;
  const category = random.pick(context.categories);
  const brand = random.pick(BRANDS);
  const name = `${brand} ${random.pick(ADJECTIVES)} ${random.pick(NOUNS)}`;
  const number = context.products.length + 1;
  const product: Product = {
    id: random.uuid(),
    name,
    slug: `${name.toLowerCase().replace(/[^a-z]+/g, '-')}-${number}`,
    sku: `${brand.slice(0, 3).toUpperCase()}-${String(number).padStart(5, '0')}`,
    category,
    priceCents: Math.round(random.between(5, 400)) * 100 - 1,
    stock: random.int(20, 200),
    version: 1,
    quality: random.between(2.5, 5),
    popularity: random.between(0.2, 3),
    live: true,
  };
  context.products.push(product);
  category.productCount += 1;
  context.tallies.productsCreated += 1;
  const price = product.priceCents / 100;
  context.documents.insert('products', {
    _id: product.id,
    name,
    description: `${name}: ${random.pick(['built to last', 'our best seller', 'new this season', 'customer favourite'])}.`,
    slug: product.slug,
    price: new Double(price),
    currency: 'USD',
    compareAtPrice: new Double(Math.round(price * 1.15 * 100) / 100),
    stockQuantity: new Int32(product.stock),
    sku: product.sku,
    category: { id: category.id, name: category.name, slug: category.slug },
    images: [
      { url: `https://cdn.example.com/${product.slug}-1.jpg`, alt: 'Front view', isPrimary: true },
      { url: `https://cdn.example.com/${product.slug}-2.jpg`, alt: 'Side view', isPrimary: false },
    ],
    specifications: { brand, color: random.pick(['Black', 'White', 'Blue', 'Red', 'Green']) },
    metaTitle: `${name} - ${category.name}`,
    metaDescription: `Shop ${name} online`,
    metaKeywords: name.toLowerCase().split(' '),
    status: 'ACTIVE',
    published: true,
    // Tributary's write-back maintains these from the reviews (DESIGN §6).
    averageRating: new Double(0),
    reviewCount: new Int32(0),
    version: new Int32(1),
    createdAt: new Date(at),
    updatedAt: new Date(at),
    deletedAt: null,
  });
  appendEvent(context, product, 'ProductCreatedEvent', random.pick(context.staffIds), at, {
    name,
    price: new Double(price),
    stockQuantity: new Int32(product.stock),
  });
  return product;
}

/** A shopper's look at a product page, `seconds` long. */
export function recordView(
  context: ShopContext,
  product: Product,
  userId: string,
  sessionId: string,
  at: number,
  seconds: number,
): void {
  context.tallies.productViews += 1;
  appendEvent(
    context,
    product,
    'ProductViewedEvent',
    userId,
    at,
    {
      sessionId,
      durationSeconds: new Int32(seconds),
    },
    sessionId,
  );
}

export function recordCartAdd(
  context: ShopContext,
  product: Product,
  userId: string,
  sessionId: string,
  at: number,
  quantity: number,
): void {
  context.tallies.cartAdds += 1;
  appendEvent(
    context,
    product,
    'ProductAddedToCartEvent',
    userId,
    at,
    {
      sessionId,
      quantity: new Int32(quantity),
      unitPrice: new Double(product.priceCents / 100),
    },
    sessionId,
  );
}

/** Stock after a sale or a restock: the document's field set, and a StockChangedEvent. */
export function changeStock(
  context: ShopContext,
  product: Product,
  by: number,
  userId: string,
  at: number,
): void {
  product.stock += by;
  appendEvent(context, product, 'StockChangedEvent', userId, at, {
    stockQuantity: new Int32(product.stock),
    change: new Int32(by),
  });
  updateProduct(context, product, at, { stockQuantity: new Int32(product.stock) });
}

/** The nightly catalog work: new products, price changes, restocks, a rare removal, counters. */
export function maintainCatalog(context: ShopContext, dayStart: number, newProducts: number): void {
  const { random } = context;
  const at = dayStart + 9 * HOUR + random.int(0, 8 * 3600) * 1000;
  const staff = random.pick(context.staffIds);
  for (let i = 0; i < newProducts; i++) createProduct(context, at);
  const live = context.products.filter((product) => product.live);
  for (const product of live) {
    if (random.chance(0.03)) {
      const old = product.priceCents;
      product.priceCents = Math.max(99, Math.round((old * random.between(0.8, 1.15)) / 100) * 100 - 1);
      if (product.priceCents === old) continue;
      appendEvent(context, product, 'PriceChangedEvent', staff, at, {
        oldPrice: new Double(old / 100),
        newPrice: new Double(product.priceCents / 100),
      });
      updateProduct(context, product, at, { price: new Double(product.priceCents / 100) });
    } else if (product.stock < 10) changeStock(context, product, random.int(50, 150), staff, at);
  }
  // About one product in 400 is withdrawn a day: soft-deleted, as the seed's deletedAt says.
  const withdrawn = live.filter(() => random.chance(0.0025));
  for (const product of withdrawn) {
    product.live = false;
    product.category.productCount -= 1;
    context.tallies.productsDeleted += 1;
    appendEvent(context, product, 'ProductDeletedEvent', staff, at, { reason: 'discontinued' });
    updateProduct(context, product, at, { status: 'DELETED', published: false, deletedAt: new Date(at) });
  }
  for (const category of context.categories)
    context.documents.update(
      'categories',
      { _id: category.id },
      {
        $set: {
          productCount: new Int32(category.productCount),
          updatedAt: new Date(dayStart + DAY - 60_000),
        },
      },
    );
}

/** A product shoppers are likely to look at: by popularity, in a favourite category most times. */
export function browseProduct(
  random: Random,
  live: readonly Product[],
  favorites: readonly string[],
): Product {
  const inFavorites = live.filter((product) => favorites.includes(product.category.id));
  const pool = inFavorites.length > 0 && random.chance(0.7) ? inFavorites : live;
  return random.weighted(pool.map((product) => [product, product.popularity] as const));
}

function updateProduct(
  context: ShopContext,
  product: Product,
  at: number,
  set: Record<string, unknown>,
): void {
  context.documents.update(
    'products',
    { _id: product.id },
    { $set: { ...set, version: new Int32(product.version), updatedAt: new Date(at) } },
  );
}

function appendEvent(
  context: ShopContext,
  product: Product,
  eventType: string,
  userId: string,
  at: number,
  data: Record<string, unknown>,
  correlationId?: string,
): void {
  const { random } = context;
  if (eventType !== 'ProductCreatedEvent') product.version += 1;
  context.documents.insert('product_events', {
    _id: new ObjectId(random.hex(12)),
    eventId: random.uuid(),
    eventType,
    aggregateId: product.id,
    version: new Int32(product.version),
    data,
    userId,
    timestamp: new Date(at),
    correlationId: correlationId ?? random.uuid(),
    causationId: null,
  });
}
