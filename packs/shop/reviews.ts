// The Review Service as the simulation plays it: some deliveries are reviewed days later (PENDING),
// moderated the next night (APPROVED or REJECTED), then voted helpful, answered by the seller, now
// and then edited (a new rating) or deleted by their author.
import { Int32, ObjectId } from 'mongodb';
import { DAY, HOUR, type ShopContext } from './context.ts';

const TITLES = [
  'Amazing product!',
  'Does the job',
  'Not what I expected',
  'Great value',
  'Would buy again',
  'Disappointed',
];

/** Writes the reviews due before `until`. */
export function writeReviews(context: ShopContext, until: number): void {
  const { random } = context;
  const due = context.reviewsDue.filter((entry) => entry.at < until);
  if (due.length === 0) return;
  context.reviewsDue.splice(
    0,
    context.reviewsDue.length,
    ...context.reviewsDue.filter((entry) => entry.at >= until),
  );
  for (const { at, shopper, product } of due) {
    if (shopper.deleted) continue;
    const rating = Math.min(5, Math.max(1, Math.round(product.quality + random.between(-1.5, 1.5))));
    const id = new ObjectId(random.hex(12)).toHexString();
    context.reviews.push({ id, productId: product.id, shopper, rating, status: 'PENDING', helpful: 0 });
    context.documents.insert('reviews', {
      _id: new ObjectId(id),
      productId: product.id,
      userId: shopper.userId,
      userName: shopper.name,
      userAvatar: null,
      verifiedPurchase: true,
      rating: new Int32(rating),
      title: TITLES[Math.min(TITLES.length - 1, 5 - rating + random.int(0, 1))] ?? 'Review',
      comment: `${rating >= 4 ? 'Really happy with' : 'Not so sure about'} the ${product.name}.`,
      images: [],
      status: 'PENDING',
      moderatedBy: null,
      moderatedAt: null,
      moderationNote: null,
      helpfulCount: new Int32(0),
      unhelpfulCount: new Int32(0),
      reportedCount: new Int32(0),
      sellerResponse: null,
      createdAt: new Date(at),
      updatedAt: new Date(at),
    });
    context.tallies.reviews += 1;
  }
}

/** The nightly moderation and the life of approved reviews. */
export function moderateReviews(context: ShopContext, dayStart: number): void {
  const { random } = context;
  const at = dayStart + 22 * HOUR + random.int(0, 3600) * 1000;
  const kept = [];
  for (const review of context.reviews) {
    const filter = { _id: new ObjectId(review.id) };
    if (review.status === 'PENDING') {
      review.status = random.chance(0.92) ? 'APPROVED' : 'REJECTED';
      context.documents.update('reviews', filter, {
        $set: {
          status: review.status,
          moderatedBy: random.pick(context.staffIds),
          moderatedAt: new Date(at),
          moderationNote: review.status === 'REJECTED' ? 'Violates review guidelines' : null,
          updatedAt: new Date(at),
        },
      });
      if (review.status === 'REJECTED') continue;
    } else if (!review.shopper.deleted && random.chance(0.004)) {
      context.documents.delete('reviews', filter);
      context.tallies.reviewsDeleted += 1;
      continue;
    } else if (!review.shopper.deleted && random.chance(0.006)) {
      // The author comes back and changes the rating (and the review goes through moderation again).
      review.rating = Math.min(5, Math.max(1, review.rating + random.pick([-2, -1, 1])));
      review.status = 'PENDING';
      context.documents.update('reviews', filter, {
        $set: { rating: new Int32(review.rating), status: 'PENDING', updatedAt: new Date(at - HOUR) },
      });
    } else if (random.chance(0.05)) {
      review.helpful += random.int(1, 3);
      context.documents.update('reviews', filter, { $set: { helpfulCount: new Int32(review.helpful) } });
    } else if (random.chance(0.01))
      context.documents.update('reviews', filter, {
        $set: {
          sellerResponse: { message: 'Thank you for your review!', respondedAt: new Date(at + DAY / 2) },
        },
      });
    kept.push(review);
  }
  context.reviews.splice(0, context.reviews.length, ...kept);
}
