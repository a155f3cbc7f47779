import { describe, expect, it } from 'vitest';
import { databaseSource, getPack } from '../index.ts';
import { shopMirror } from './mapping.ts';

describe('the shop pack', () => {
  const pack = getPack('shop');

  it('declares one Postgres database per service of the seed, each with its own DDL', () => {
    expect(pack.postgres.map((database) => database.service)).toEqual(['auth', 'user', 'order', 'payment']);
    expect(pack.postgres.find((database) => database.service === 'order')?.schemaSql).toContain(
      'CREATE TABLE orders',
    );
  });

  it('reads the mirrors the captures write: raw.<databaseSource>_<table>, raw.<source>_<collection>', () => {
    for (const { service } of pack.postgres)
      expect(shopMirror('shop', 'users', service)).toBe(`raw.${databaseSource(pack, 'shop', service)}_users`);
    expect(shopMirror('shop', 'products')).toBe('raw.shop_products');
  });

  it('names its A/B metrics after the generic measures, the purchase within 7 days first', () => {
    expect(pack.mapping('shop').abMetrics).toEqual([
      { name: 'purchased_7d', measure: 'converted' },
      { name: 'revenue_7d', measure: 'value' },
      { name: 'active_days_7d', measure: 'active_days' },
    ]);
  });

  it('owns three marts and a headline over them', () => {
    expect(pack.marts?.map((mart) => mart.name)).toEqual([
      'mart_shop_daily_revenue',
      'mart_shop_funnel',
      'mart_shop_product_performance',
    ]);
    expect(pack.headline?.sql).toContain('mart_shop_daily_revenue');
  });
});
