import { describe, expect, it } from 'vitest';
import {
  currentStateView,
  historyFeed,
  historyTable,
  layoutName,
  mirrorKey,
  mirrorTable,
  splitTable,
} from './layout.ts';
import { renamedDefinition } from './layout-move.ts';
import { quoteTable } from './sql.ts';

describe('table names by purpose', () => {
  it('puts a mirror, its current state and its history in raw', () => {
    const mirror = mirrorTable('learning', 'user-profiles');
    expect(mirror).toBe('raw.learning_user_profiles');
    expect(mirrorKey(mirror)).toBe('learning_user_profiles');
    expect(currentStateView(mirror)).toBe('raw.current_learning_user_profiles');
    expect(historyTable(mirror)).toBe('raw.hist_learning_user_profiles');
    expect(historyFeed(mirror)).toBe('raw.hist_learning_user_profiles_mv');
    expect(mirrorTable('shop', 'order', 'orders')).toBe('raw.shop_order_orders');
  });

  it('reads an unqualified name as one of analytics, the default database', () => {
    expect(splitTable('fact_activity')).toEqual({ database: 'analytics', name: 'fact_activity' });
    expect(splitTable('raw.x_y')).toEqual({ database: 'raw', name: 'x_y' });
    expect(() => mirrorKey('fact_activity')).toThrow(/not a mirror/);
  });

  it('quotes a qualified name part by part', () => {
    expect(quoteTable('raw.learning_users')).toBe('`raw`.`learning_users`');
    expect(quoteTable('fact_activity')).toBe('`fact_activity`');
  });

  it('says where each table of the old layout goes', () => {
    const bookkeeping = (name: string) => name === 'dead_letters';
    expect(
      [
        'raw_learning_users',
        'current_learning_users',
        'hist_learning_users_mv',
        'fact_activity',
        'mart_dau',
        'dead_letters',
      ].map((name) => layoutName(name, bookkeeping)),
    ).toEqual([
      'raw.learning_users',
      'raw.current_learning_users',
      'raw.hist_learning_users_mv',
      'analytics.fact_activity',
      'analytics.mart_dau',
      undefined,
    ]);
  });
});

describe('a moved view', () => {
  it('is made again with every moved name replaced, and nothing else', () => {
    const plan = [
      { from_name: 'raw_a_b', to_name: 'raw.a_b' },
      { from_name: 'current_a_b', to_name: 'raw.current_a_b' },
      { from_name: 'hist_a_b', to_name: 'raw.hist_a_b' },
      { from_name: 'hist_a_b_mv', to_name: 'raw.hist_a_b_mv' },
    ];
    expect(
      renamedDefinition(
        "CREATE VIEW default.current_a_b (`id` Int64) COMMENT 'read raw_a_b' AS SELECT id FROM default.raw_a_b FINAL JOIN default.`other` USING id",
        plan,
      ),
    ).toBe(
      "CREATE VIEW `raw`.`current_a_b` (`id` Int64) COMMENT 'read raw_a_b' AS SELECT id FROM `raw`.`a_b` FINAL JOIN default.`other` USING id",
    );
    expect(
      renamedDefinition(
        'CREATE MATERIALIZED VIEW default.hist_a_b_mv TO default.hist_a_b (`id` Int64) AS SELECT * FROM default.raw_a_b',
        plan,
      ),
    ).toBe(
      'CREATE MATERIALIZED VIEW `raw`.`hist_a_b_mv` TO `raw`.`hist_a_b` (`id` Int64) AS SELECT * FROM `raw`.`a_b`',
    );
  });
});
