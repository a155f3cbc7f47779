import { describe, expect, it } from 'vitest';
import {
  parsePipelineConfig,
  PipelineConfigError,
  substituteEnvironment,
  warehouseTargetOf,
} from './pipeline.ts';

const minimal = {
  sources: [{ kind: 'postgres', name: 'app', url: 'postgres://u:${PG_PASSWORD}@127.0.0.1:5432/app' }],
  warehouse: { dir: '.data/warehouse' },
};

function problemsOf(document: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parsePipelineConfig(document, env);
  } catch (error) {
    if (error instanceof PipelineConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('pipeline config', () => {
  it('fills defaults and substitutes the environment', () => {
    const config = parsePipelineConfig(minimal, { PG_PASSWORD: 's3cret' });
    expect(config.sources[0]).toEqual({
      kind: 'postgres',
      name: 'app',
      url: 'postgres://u:s3cret@127.0.0.1:5432/app',
      tables: 'all',
    });
    expect(config.transport).toEqual({ kind: 'direct' });
    expect(config.service).toEqual({
      host: '127.0.0.1',
      port: 9464,
      shutdownSeconds: 30,
      transformEverySeconds: 5,
    });
    expect(config.jobs).toEqual([]);
    expect(config.pii.keep).toBe(false);
  });

  it('names every wrong field by its path, one problem each', () => {
    const problems = problemsOf({
      sources: [
        { kind: 'postgres', name: 'App', url: 'mysql://x' },
        { kind: 'mongo', name: 'docs', url: 'mongodb://h:1' },
      ],
      warehouse: { dir: '' },
      jobs: [
        { name: 'nightly', cron: '0 3 * * *', kind: 'transform', timezone: 'Mars/Olympus', catchUp: 'some' },
      ],
      colour: 'blue',
    });
    expect(problems).toEqual([
      'sources[0].name: must start with a letter and use only a-z, 0-9 and _ (it names mirrors, slots and jobs)',
      'sources[0].url: must be a URL like postgres://USER:PASSWORD@HOST:PORT/DATABASE',
      'sources[1].collections: needs either collections or database (one of them)',
      'warehouse.dir: is required',
      'jobs[0].timezone: must be an IANA time zone such as UTC or Asia/Ho_Chi_Minh',
      'jobs[0].catchUp: Invalid option: expected one of "all"|"latest"|"none"',
      '(top): unknown field(s) colour',
    ]);
  });

  it('takes a MySQL source (one database per source) and names what is wrong with one', () => {
    const config = parsePipelineConfig({
      ...minimal,
      sources: [{ kind: 'mysql', name: 'courses_course', url: 'mysql://u:p@127.0.0.1:3306/course_db' }],
    });
    expect(config.sources[0]).toEqual({
      kind: 'mysql',
      name: 'courses_course',
      url: 'mysql://u:p@127.0.0.1:3306/course_db',
      tables: 'all',
    });
    expect(
      problemsOf({
        ...minimal,
        sources: [{ kind: 'mysql', name: 'shop', url: 'mysql://u:p@127.0.0.1:3306/', tables: ['a b'] }],
      }),
    ).toEqual([
      'sources[0].url: must be a URL like mysql://USER:PASSWORD@HOST:PORT/DATABASE',
      'sources[0].tables[0]: must be table or database.table',
    ]);
  });

  it('reports an unset environment variable at the field that uses it', () => {
    expect(problemsOf(minimal, {})).toEqual([
      'sources[0].url: the environment variable PG_PASSWORD is not set',
    ]);
  });

  it('keeps escaped references and applies defaults', () => {
    const problems: string[] = [];
    expect(substituteEnvironment({ a: ['$${HOME}', '${MISSING:-fallback}'] }, {}, problems)).toEqual({
      a: ['${HOME}', 'fallback'],
    });
    expect(problems).toEqual([]);
  });

  it('refuses two sources of one kind with the same name and two jobs with the same name', () => {
    const problems = problemsOf(
      {
        ...minimal,
        sources: [minimal.sources[0], minimal.sources[0]],
        jobs: [
          { name: 'a', cron: '* * * * *', kind: 'transform' },
          { name: 'a', cron: '* * * * *', kind: 'transform' },
        ],
      },
      { PG_PASSWORD: 'x' },
    );
    expect(problems).toEqual([
      'sources[1].name: repeats the postgres source "app"',
      'jobs[1].name: repeats "a"',
    ]);
  });

  it('takes a pack sync on a MongoDB source of one database, with an AMQP URL and a reconciliation period', () => {
    const mongo = { kind: 'mongo', name: 'postbook', url: 'mongodb://127.0.0.1:27017', pack: 'postbook' };
    const config = parsePipelineConfig(
      {
        ...minimal,
        sources: [{ ...mongo, database: 'postbook', sync: { amqpUrl: 'amqp://127.0.0.1:5672' } }],
      },
      {},
    );
    expect(config.sources[0]).toMatchObject({
      sync: { amqpUrl: 'amqp://127.0.0.1:5672', reconcileEveryMinutes: 60 },
    });
    expect(
      problemsOf({
        ...minimal,
        sources: [{ ...mongo, database: 'postbook', sync: { amqpUrl: 'http://x', every: 1 } }],
      }),
    ).toEqual([
      'sources[0].sync.amqpUrl: must be an amqp:// or amqps:// URL',
      'sources[0].sync: unknown field(s) every',
    ]);
    expect(
      problemsOf({ ...minimal, sources: [{ ...mongo, collections: ['postbook.posts'], sync: {} }] }),
    ).toEqual(['sources[0].sync: needs database: the sync writes the documents of one database']);
  });

  it('serves dashboards and the SQL endpoint on loopback by default, the endpoint only over an embedded warehouse', () => {
    const config = parsePipelineConfig(
      { ...minimal, dashboards: {}, sql: { port: 0 } },
      { PG_PASSWORD: 'x' },
    );
    expect(config.dashboards).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.sql).toEqual({ host: '127.0.0.1', port: 0 });
    expect(
      problemsOf(
        { ...minimal, warehouse: { url: 'http://127.0.0.1:8123' }, dashboards: { token: 'short' }, sql: {} },
        { PG_PASSWORD: 'x' },
      ),
    ).toEqual([
      'dashboards.token: must be 8 characters or more',
      'sql: serves the embedded warehouse (warehouse.dir) only; a ClickHouse server speaks this protocol itself',
    ]);
  });

  it('keeps an online store and serves it on loopback by default; beyond loopback only with a token', () => {
    const config = parsePipelineConfig(
      { ...minimal, features: { onlineStore: 'redis://127.0.0.1:6379/2', serve: {} } },
      { PG_PASSWORD: 'x' },
    );
    expect(config.features).toEqual({
      onlineStore: 'redis://127.0.0.1:6379/2',
      refreshSeconds: 3600,
      serve: { host: '127.0.0.1', port: 6566 },
    });
    expect(
      problemsOf(
        {
          ...minimal,
          features: { onlineStore: 'http://cache:6379', refreshSeconds: 0, serve: { host: '0.0.0.0' } },
          dashboards: { host: '10.0.0.5' },
        },
        { PG_PASSWORD: 'x' },
      ),
    ).toEqual([
      'features.onlineStore: has the scheme "http"; expected redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]',
      'features.refreshSeconds: Too small: expected number to be >0',
      'dashboards.token: is required to listen on 10.0.0.5 (beyond loopback)',
      'features.serve.token: is required to listen on 0.0.0.0 (beyond loopback)',
    ]);
    expect(
      problemsOf(
        {
          ...minimal,
          features: { onlineStore: 'redis://127.0.0.1:6379' },
          service: { transformEverySeconds: 0 },
        },
        { PG_PASSWORD: 'x' },
      ),
    ).toEqual([
      "features.onlineStore: is kept fresh by the service's transform loop: set service.transformEverySeconds above 0",
    ]);
  });

  it('puts warehouse credentials into the URL', () => {
    expect(warehouseTargetOf({ url: 'https://ch.example:8443', user: 'etl', password: 'p@ss' })).toEqual({
      kind: 'http',
      url: 'https://etl:p%40ss@ch.example:8443/',
    });
  });
});
