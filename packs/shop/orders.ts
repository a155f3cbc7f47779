// The Order and Payment services as the simulation plays them: checkout places an order (PENDING)
// with its items and an order saga, the payment service charges it (COMPLETED, or FAILED and the
// order CANCELLED), and paid orders move through the seed's states CONFIRMED → PROCESSING →
// SHIPPED → DELIVERED. Customers cancel some orders before shipping (the payment REFUNDED) and
// return some after delivery (refunded, the order stays DELIVERED). Each step notifies the shopper.
import { ObjectId } from 'mongodb';
import { json, raw, timestamp } from '../common/sql-script.ts';
import { changeStock } from './catalog.ts';
import {
  DAY,
  HOUR,
  MINUTE,
  money,
  type OpenOrder,
  type Product,
  type Shopper,
  type ShopContext,
} from './context.ts';

const TAX_RATE = 0.08;
const FREE_SHIPPING_CENTS = 5000;
const SHIPPING_CENTS = 599;
const PAYMENT_FAILURE = 0.06;
const ABANDONED_BEFORE_PAYMENT = 0.04;
const CANCELLED_AFTER_PAYMENT = 0.03;
const RETURN_BASE = 0.02;
const NOTIFICATION_DAYS = 30;

export interface CartLine {
  product: Product;
  quantity: number;
}

/**
 * Checkout of `cart` at `at`. `mustPay`: the payment goes through (the checkout experiment's
 * planted outcome). Returns the time the shopper is done.
 */
export function checkout(
  context: ShopContext,
  shopper: Shopper,
  cart: CartLine[],
  at: number,
  mustPay: boolean,
): number {
  const { random, sql } = context;
  const orderId = random.uuid();
  context.orderSequence += 1;
  const orderNumber = `ORD-${new Date(at).getUTCFullYear()}-${String(context.orderSequence).padStart(6, '0')}`;
  const subtotal = cart.reduce((sum, line) => sum + line.product.priceCents * line.quantity, 0);
  const discount = random.chance(0.1) ? Math.round(subtotal * 0.1) : 0;
  const tax = Math.round((subtotal - discount) * TAX_RATE);
  const shipping = subtotal >= FREE_SHIPPING_CENTS ? 0 : SHIPPING_CENTS;
  const total = subtotal - discount + tax + shipping;
  const method = random.weighted([
    ['CREDIT_CARD', 6],
    ['PAYPAL', 3],
    ['APPLE_PAY', 1],
  ] as const);
  const { address } = shopper;
  sql.order.insert('orders', [
    {
      id: orderId,
      order_number: orderNumber,
      user_id: shopper.userId,
      status: 'PENDING',
      payment_status: 'PENDING',
      payment_method: method,
      subtotal: raw(money(subtotal)),
      tax: raw(money(tax)),
      shipping: raw(money(shipping)),
      discount: raw(money(discount)),
      total: raw(money(total)),
      currency: 'USD',
      shipping_street: address.street,
      shipping_city: address.city,
      shipping_state: address.state,
      shipping_zip_code: address.zip,
      shipping_country: address.country,
      created_at: timestamp(at),
      updated_at: timestamp(at),
      completed_at: null,
      cancelled_at: null,
      version: 0,
    },
  ]);
  sql.order.insert(
    'order_items',
    cart.map((line) => ({
      id: random.uuid(),
      order_id: orderId,
      product_id: line.product.id,
      product_name: line.product.name,
      product_sku: line.product.sku,
      quantity: line.quantity,
      unit_price: raw(money(line.product.priceCents)),
      total_price: raw(money(line.product.priceCents * line.quantity)),
      created_at: timestamp(at),
    })),
  );
  const sagaId = random.uuid();
  sql.order.insert('saga_executions', [
    {
      id: sagaId,
      saga_type: 'CREATE_ORDER',
      aggregate_id: orderId,
      status: 'STARTED',
      current_step: 0,
      total_steps: 3,
      context: json({
        orderId,
        userId: shopper.userId,
        steps: ['RESERVE_STOCK', 'CHARGE_PAYMENT', 'CONFIRM_ORDER'],
      }),
      created_at: timestamp(at),
      updated_at: timestamp(at),
    },
  ]);
  context.tallies.ordersPlaced += 1;
  const later = at + random.int(20, 300) * 1000;
  if (!mustPay && random.chance(ABANDONED_BEFORE_PAYMENT)) {
    // The shopper backs out on the payment page: the saga compensates the stock reservation.
    cancelUnpaid(context, orderId, sagaId, later, 'Cancelled by customer before payment');
    return later;
  }
  const paymentId = random.uuid();
  sql.payment.insert('payments', [
    {
      id: paymentId,
      order_id: orderId,
      user_id: shopper.userId,
      amount: raw(money(total)),
      currency: 'USD',
      payment_method: method,
      payment_provider: method === 'PAYPAL' ? 'PAYPAL' : 'STRIPE',
      transaction_type: 'CHARGE',
      status: 'PENDING',
      idempotency_key: `${orderId}:charge`,
      created_at: timestamp(later),
      updated_at: timestamp(later),
    },
  ]);
  const settled = later + random.int(1, 8) * 1000;
  if (!mustPay && random.chance(PAYMENT_FAILURE)) {
    sql.payment.update(
      'payments',
      {
        status: 'FAILED',
        error_code: 'card_declined',
        error_message: 'Your card was declined.',
        gateway_response: '{"outcome":"declined"}',
        updated_at: timestamp(settled),
      },
      { id: paymentId },
    );
    sql.order.update(
      'orders',
      { payment_status: 'FAILED', updated_at: timestamp(settled), version: 1 },
      { id: orderId },
    );
    cancelUnpaid(context, orderId, sagaId, settled, 'Payment failed: card_declined');
    notify(
      context,
      shopper,
      'PAYMENT_FAILED',
      'Payment failed',
      `We could not charge your payment for order #${orderNumber}.`,
      settled,
      { orderNumber, orderId },
    );
    context.tallies.paymentsFailed += 1;
    return settled;
  }
  sql.payment.update(
    'payments',
    {
      status: 'COMPLETED',
      gateway_transaction_id: `txn_${random.hex(12)}`,
      gateway_response: '{"outcome":"authorized"}',
      updated_at: timestamp(settled),
      completed_at: timestamp(settled),
    },
    { id: paymentId },
  );
  sql.order.update(
    'orders',
    { status: 'CONFIRMED', payment_status: 'COMPLETED', updated_at: timestamp(settled), version: 1 },
    { id: orderId },
  );
  sql.order.update(
    'saga_executions',
    {
      status: 'COMPLETED',
      current_step: 3,
      updated_at: timestamp(settled),
      completed_at: timestamp(settled),
    },
    { id: sagaId },
  );
  for (const line of cart) changeStock(context, line.product, -line.quantity, shopper.userId, settled);
  notify(
    context,
    shopper,
    'ORDER_CONFIRMATION',
    'Order Confirmed',
    `Your order #${orderNumber} has been confirmed and is being processed.`,
    settled,
    {
      orderNumber,
      total: total / 100,
      orderId,
    },
  );
  const meanQuality = cart.reduce((sum, line) => sum + line.product.quality, 0) / cart.length;
  context.openOrders.push({
    id: orderId,
    paymentId,
    shopper,
    totalCents: total,
    items: cart,
    stage: 'CONFIRMED',
    nextAt: settled + random.int(4, 20) * HOUR,
    version: 1,
    cancels: random.chance(CANCELLED_AFTER_PAYMENT),
    // Worse products come back more often.
    returns: random.chance(RETURN_BASE + (5 - meanQuality) * 0.02),
    deliveredAt: null,
  });
  context.tallies.ordersPaid += 1;
  return settled;
}

function cancelUnpaid(
  context: ShopContext,
  orderId: string,
  sagaId: string,
  at: number,
  reason: string,
): void {
  const { sql } = context;
  sql.order.update(
    'orders',
    { status: 'CANCELLED', cancelled_at: timestamp(at), updated_at: timestamp(at), version: 2 },
    { id: orderId },
  );
  sql.order.update(
    'saga_executions',
    {
      status: 'COMPENSATED',
      current_step: 1,
      error_message: reason,
      updated_at: timestamp(at),
      completed_at: timestamp(at),
    },
    { id: sagaId },
  );
  context.tallies.ordersCancelled += 1;
}

/** Moves every open order through what is due before `until`: fulfilment, cancellations, returns. */
export function fulfilOrders(context: ShopContext, until: number): void {
  const { random, sql } = context;
  const remaining: OpenOrder[] = [];
  for (const order of context.openOrders) {
    let open = true;
    while (open && order.nextAt < until) {
      const at = order.nextAt;
      order.version += 1;
      if (order.cancels && (order.stage === 'CONFIRMED' || order.stage === 'PROCESSING')) {
        sql.order.update(
          'orders',
          {
            status: 'CANCELLED',
            payment_status: 'REFUNDED',
            cancelled_at: timestamp(at),
            updated_at: timestamp(at),
            version: order.version,
          },
          { id: order.id },
        );
        refund(context, order, at);
        context.tallies.ordersCancelled += 1;
        open = false;
      } else if (order.stage === 'DELIVERED') {
        // Only a return brings a delivered order back here.
        sql.order.update(
          'orders',
          { payment_status: 'REFUNDED', updated_at: timestamp(at), version: order.version },
          { id: order.id },
        );
        refund(context, order, at);
        open = false;
      } else {
        const next =
          order.stage === 'CONFIRMED' ? 'PROCESSING' : order.stage === 'PROCESSING' ? 'SHIPPED' : 'DELIVERED';
        order.stage = next;
        sql.order.update(
          'orders',
          {
            status: next,
            updated_at: timestamp(at),
            version: order.version,
            ...(next === 'DELIVERED' ? { completed_at: timestamp(at) } : {}),
          },
          { id: order.id },
        );
        if (next === 'SHIPPED')
          notify(context, order.shopper, 'ORDER_SHIPPED', 'Order Shipped', 'Your order is on its way.', at, {
            orderId: order.id,
          });
        if (next === 'DELIVERED') {
          notify(
            context,
            order.shopper,
            'ORDER_DELIVERED',
            'Order Delivered',
            'Your order has been delivered.',
            at,
            { orderId: order.id },
          );
          order.deliveredAt = at;
          context.tallies.ordersDelivered += 1;
          for (const { product } of order.items)
            if (random.chance(0.3))
              context.reviewsDue.push({
                at: at + random.int(1, 6 * 24) * HOUR,
                shopper: order.shopper,
                product,
              });
          if (order.returns) order.nextAt = at + random.int(2, 10) * DAY;
          else open = false;
        } else
          order.nextAt =
            at + random.int(next === 'PROCESSING' ? 8 : 30, next === 'PROCESSING' ? 30 : 90) * HOUR;
      }
    }
    if (open) remaining.push(order);
  }
  context.openOrders.splice(0, context.openOrders.length, ...remaining);
}

function refund(context: ShopContext, order: OpenOrder, at: number): void {
  context.sql.payment.update(
    'payments',
    { status: 'REFUNDED', updated_at: timestamp(at) },
    { id: order.paymentId },
  );
  notify(
    context,
    order.shopper,
    'REFUND_PROCESSED',
    'Refund processed',
    `We refunded $${money(order.totalCents)} to your original payment method.`,
    at + 2 * MINUTE,
    {
      orderId: order.id,
      total: order.totalCents / 100,
    },
  );
  context.tallies.refunds += 1;
}

export function notify(
  context: ShopContext,
  shopper: Shopper,
  type: string,
  title: string,
  message: string,
  at: number,
  data: Record<string, unknown>,
): void {
  const { random } = context;
  const id = new ObjectId(random.hex(12));
  const channels = random.chance(0.6) ? ['EMAIL', 'PUSH'] : ['EMAIL'];
  const sent = { status: 'SENT', sentAt: new Date(at + 60_000), error: null };
  context.documents.insert('notifications', {
    _id: id,
    userId: shopper.userId,
    type,
    title,
    message,
    channels,
    channelStatus: Object.fromEntries(channels.map((channel) => [channel, sent])),
    data,
    actionUrl: typeof data.orderId === 'string' ? `/orders/${data.orderId}` : null,
    actionText: 'View Order',
    priority: type === 'PAYMENT_FAILED' ? 'HIGH' : 'NORMAL',
    read: false,
    readAt: null,
    createdAt: new Date(at),
    expiresAt: new Date(at + NOTIFICATION_DAYS * DAY),
  });
  shopper.unreadNotifications.push(id.toHexString());
}

/** On a visit the shopper opens most unread notifications. */
export function readNotifications(context: ShopContext, shopper: Shopper, at: number): void {
  const unread: string[] = [];
  for (const id of shopper.unreadNotifications) {
    if (context.random.chance(0.6))
      context.documents.update(
        'notifications',
        { _id: new ObjectId(id) },
        { $set: { read: true, readAt: new Date(at) } },
      );
    else unread.push(id);
  }
  shopper.unreadNotifications = unread;
}
