import { describe, expect, it } from 'vitest';
import { DEFAULT_DROP_FIELDS } from '../ingest/index.ts';
import { columnExcludeList, postgresConnector } from './connector-config.ts';

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
