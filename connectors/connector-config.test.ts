import { describe, expect, it } from 'vitest';
import { DEFAULT_DROP_FIELDS } from '../ingest/index.ts';
import { columnExcludeList, mysqlConnector, postgresConnector } from './connector-config.ts';

describe('Debezium Postgres connector definition', () => {
  const definition = postgresConnector({
    sourceUrl: 'postgres://app:s%40cret@127.0.0.1:5433/learning',
    sourceName: 'learning',
    tables: ['public.users'],
    dropFields: DEFAULT_DROP_FIELDS,
  });

  it('uses pgoutput, its own slot and publication, heartbeats, an initial snapshot and JSON with its Connect schemas', () => {
    expect(definition.name).toBe('learning-postgres');
    expect(definition.config).toMatchObject({
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'plugin.name': 'pgoutput',
      'slot.name': 'debezium_learning',
      'publication.name': 'debezium_learning',
      'snapshot.mode': 'initial',
      'heartbeat.interval.ms': '5000',
      'database.hostname': '127.0.0.1',
      'database.port': '5433',
      'database.password': 's@cret',
      'database.dbname': 'learning',
      'topic.prefix': 'learning',
      'value.converter.schemas.enable': 'true',
      'table.include.list': 'public\\.users,public\\.tributary_heartbeat',
    });
  });

  it('excludes the secret columns the native reader drops, in every table', () => {
    const pattern = new RegExp(`^${columnExcludeList(DEFAULT_DROP_FIELDS).replace('(?i)', '')}$`, 'i');
    for (const column of [
      'public.user_auth.password_hash',
      'public.user_auth.salt',
      'public.user_auth.two_factor_secret',
      'public.user_auth.recovery_codes',
      'public.user_sessions.session_token',
      'x.y.ACCESS_TOKEN_HASH',
    ]) {
      expect(pattern.test(column), column).toBe(true);
    }
    for (const column of [
      'public.users.email',
      'public.user_auth.last_password_change',
      'public.users.username',
    ]) {
      expect(pattern.test(column), column).toBe(false);
    }
  });
});

describe('Debezium MySQL connector definition', () => {
  const options = {
    sourceUrl: 'mysql://cdc:p%40ss@127.0.0.1:3307/shop.v2',
    sourceName: 'shop',
    dropFields: DEFAULT_DROP_FIELDS,
    bootstrapServers: '127.0.0.1:9092',
  };

  it('picks the connector by server flavor and keeps its schema history on a tributary topic', () => {
    const mariadb = mysqlConnector({ ...options, flavor: 'mariadb', tables: ['orders'] });
    expect(mariadb.name).toBe('shop-mariadb');
    expect(mariadb.config).toMatchObject({
      'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector',
      'database.hostname': '127.0.0.1',
      'database.port': '3307',
      'database.user': 'cdc',
      'database.password': 'p@ss',
      'database.include.list': 'shop\\.v2',
      'table.include.list': 'shop\\.v2\\.orders',
      'topic.prefix': 'shop',
      'schema.history.internal.kafka.bootstrap.servers': '127.0.0.1:9092',
      'schema.history.internal.kafka.topic': 'tributary.schema-history.shop',
      'provide.transaction.metadata': 'true',
      'decimal.handling.mode': 'string',
      'bigint.unsigned.handling.mode': 'precise',
      'value.converter.decimal.format': 'NUMERIC',
      'value.converter.schemas.enable': 'true',
    });
    const mysql = mysqlConnector({ ...options, flavor: 'mysql' });
    expect(mysql.config['connector.class']).toBe('io.debezium.connector.mysql.MySqlConnector');
    expect(mysql.config['table.include.list']).toBeUndefined();
  });

  it('takes a stable replica server id from the source name, apart from real replicas and the native capture', () => {
    const id = Number(mysqlConnector({ ...options, flavor: 'mysql' }).config['database.server.id']);
    expect(id).toBe(Number(mysqlConnector({ ...options, flavor: 'mariadb' }).config['database.server.id']));
    expect(id).toBeGreaterThanOrEqual(0x60000000);
    expect(id).toBeLessThan(0x70000000);
    const other = mysqlConnector({ ...options, flavor: 'mysql', sourceName: 'billing' });
    expect(other.config['database.server.id']).not.toBe(String(id));
  });
});
