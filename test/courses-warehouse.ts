// A captured courses dataset for the pack's tests: the simulator writes the product's three
// databases on a MariaDB of the test's own (or TRIBUTARY_MYSQL_URL's server), native MySQL capture
// lands each in a chDB warehouse, and the test gets connections on both sides. The databases carry
// the product's names (course_db, …), which are part of the mirrors' names: on a shared server they
// are dropped and created again.
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { WarehouseSink } from '../ingest/landing/warehouse-sink.ts';
import { runMysqlCapture } from '../ingest/mysql/capture.ts';
import { createPiiPolicy } from '../ingest/pii.ts';
import { databaseSource } from '../packs/index.ts';
import { COURSES_DATABASES, coursesPack } from '../packs/courses/index.ts';
import type { PackMysqlConnections } from '../packs/pack.ts';
import { openWarehouse, type Warehouse } from '../warehouse/index.ts';
import { execute, startTestMysql, withDatabase, type TestMysql } from './mysql.ts';
import { scratchDir } from './scratch.ts';

/** The captures' mirror prefix (`raw.courses_<service>_<database>_<table>`). */
export const SOURCE = 'courses';

export interface CoursesWarehouse {
  server: TestMysql;
  /** By service (`course`, `user`, `enrollment`); multiple statements allowed, time zone UTC. */
  mysql: PackMysqlConnections;
  warehouse: Warehouse;
  /** Lands every change made since the last call in the mirrors (all three databases, caught up). */
  capture(): Promise<void>;
  close(): Promise<void>;
}

const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'courses-test-key-0123',
});

/**
 * The product's three databases, empty with their DDL, on `server`; by service, their URLs and a
 * connection each (multiple statements allowed, time zone UTC).
 */
export async function createCoursesDatabases(
  server: TestMysql,
): Promise<{ urls: Record<string, string>; connections: Record<string, mysql.Connection> }> {
  const connections: Record<string, mysql.Connection> = {};
  const urls: Record<string, string> = {};
  for (const { service, database, schemaSql } of COURSES_DATABASES) {
    await execute(server.url, `DROP DATABASE IF EXISTS \`${database}\`; CREATE DATABASE \`${database}\``);
    urls[service] = withDatabase(server.url, database);
    const connection = await mysql.createConnection({
      uri: urls[service],
      multipleStatements: true,
      timezone: 'Z',
    });
    await connection.query(schemaSql);
    await connection.query("SET time_zone = '+00:00'");
    connections[service] = connection;
  }
  return { urls, connections };
}

export async function coursesWarehouse(options: {
  users: number;
  days: number;
  seed: number;
}): Promise<CoursesWarehouse> {
  const server = await startTestMysql();
  const { urls, connections } = await createCoursesDatabases(server);
  await coursesPack.simulate({}, { ...options, mysql: connections });
  const warehouse = await openWarehouse({
    kind: 'chdb',
    path: join(await scratchDir('courses'), 'warehouse'),
  });
  const capture = async () => {
    for (const { service } of COURSES_DATABASES)
      await runMysqlCapture({
        sourceUrl: urls[service] ?? '',
        sourceName: databaseSource(coursesPack, SOURCE, service),
        tables: { kind: 'all' },
        sink: new WarehouseSink(warehouse),
        pii,
        untilCaughtUp: true,
      });
  };
  await capture();
  return {
    server,
    mysql: connections,
    warehouse,
    capture,
    async close() {
      for (const connection of Object.values(connections)) await connection.end().catch(() => undefined);
      await warehouse.close();
      await server.stop();
    },
  };
}
