// `tributary run` over a MySQL product, as a user configures it: the courses pack's three databases
// as three `kind: mysql` sources of one config, captured, transformed and written back by the one
// service. `config check` tries each database's binlog settings and grants; a change made while the
// service runs streams in; the scheduled write-back keeps `course.rating`/`total_reviews` equal to
// the reviews; after SIGTERM every mirror equals its table with no (key, version) twice. The
// service holds the embedded warehouse, so the test reads it through the service's SQL endpoint
// until the service stops.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COURSES_DATABASES, coursesMirror, coursesPack } from '../packs/courses/index.ts';
import { databaseSource } from '../packs/index.ts';
import { findFreePort } from '../stack/index.ts';
import { exited } from '../test/child-process.ts';
import { expectNoDuplicateVersions } from '../test/mirror-equality.ts';
import { expectMysqlMirrorEqualsSource } from '../test/mysql-mirror-equality.ts';
import { createCoursesDatabases } from '../test/courses-warehouse.ts';
import { MYSQL_SERVER, startTestMysql, type TestMysql } from '../test/mysql.ts';
import { scratchDir } from '../test/scratch.ts';
import { waitFor } from '../test/wait.ts';
import { openWarehouse } from '../warehouse/index.ts';

const TRIBUTARY = new URL('../bin/tributary.js', import.meta.url).pathname;
const SOURCE = 'courses';
let server: TestMysql;
let dir: string;
const urls: Record<string, string> = {};

beforeAll(async () => {
  dir = await scratchDir('service-mysql');
  server = await startTestMysql();
  const { urls: databaseUrls, connections } = await createCoursesDatabases(server);
  Object.assign(urls, databaseUrls);
  try {
    await coursesPack.simulate({}, { users: 30, days: 4, seed: 5, mysql: connections });
  } finally {
    for (const connection of Object.values(connections)) await connection.end();
  }
}, 300_000);
afterAll(async () => {
  await server?.stop();
});

/** Courses whose written columns differ from their reviews (MySQL's own mean, rounded as DECIMAL(3,2)). */
const STALE_COURSES = `SELECT count(*) AS n FROM course AS c
  LEFT JOIN (SELECT course_id, count(*) AS reviews, ROUND(AVG(rating), 2) AS rating FROM course_review GROUP BY course_id) AS r
    ON r.course_id = c.id
  WHERE c.total_reviews <> coalesce(r.reviews, 0) OR c.rating <> coalesce(r.rating, 0)`;

describe(`tributary run with MySQL sources (${MYSQL_SERVER})`, () => {
  it('checks, captures three databases, transforms, writes back, and stops with every mirror equal to its table', async () => {
    const [port, sqlPort] = [await findFreePort(), await findFreePort()];
    const config = join(dir, 'tributary.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        sources: COURSES_DATABASES.map(({ service }) => ({
          kind: 'mysql',
          name: databaseSource(coursesPack, SOURCE, service),
          url: urls[service],
          pack: 'courses',
        })),
        warehouse: { dir: 'warehouse' },
        packs: [{ name: 'courses', source: SOURCE }],
        jobs: [
          // Its MySQL store is found by the capture's name (courses_course): no option needed.
          {
            name: 'writeback',
            cron: '*/3 * * * * *',
            kind: 'writeback',
            catchUp: 'latest',
            options: { pack: 'courses' },
          },
        ],
        service: { port, transformEverySeconds: 1, shutdownSeconds: 60 },
        sql: { port: sqlPort },
        pii: { keep: true, keyFile: 'pii.key' },
      }),
    );

    const check = spawnSync(process.execPath, [TRIBUTARY, 'config', 'check', '--config', config], {
      encoding: 'utf8',
    });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    for (const { service } of COURSES_DATABASES)
      expect(check.stdout).toContain(`source ${databaseSource(coursesPack, SOURCE, service)} (mysql, `);

    const child = spawn(process.execPath, [TRIBUTARY, 'run', '--config', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exit = exited(child);
    const course = await mysql.createConnection({ uri: urls.course, timezone: 'Z' });
    try {
      const sql = async (query: string): Promise<string> => {
        const response = await fetch(`http://127.0.0.1:${sqlPort}/?query=${encodeURIComponent(query)}`);
        if (response.status !== 200) throw new Error(await response.text());
        return (await response.text()).trim();
      };
      await waitFor(
        'the service to be ready',
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
      );
      // A review written while the service streams: it must reach the mirror and the write-back.
      const [[target]] = (await course.query(
        'SELECT c.id FROM course AS c WHERE NOT EXISTS (SELECT 1 FROM course_review AS r WHERE r.course_id = c.id AND r.user_id = 999999) LIMIT 1',
      )) as unknown as [{ id: number }[]];
      expect(target).toBeDefined();
      await course.query(
        'INSERT INTO course_review (course_id, user_id, rating, review_text) VALUES (?, 999999, 1, ?)',
        [target?.id, 'written while the service ran'],
      );
      const reviewsMirror = coursesMirror(SOURCE, 'course', 'course_review');
      await waitFor(
        'the streamed review in its mirror',
        async () =>
          Number(
            await sql(
              `SELECT count() FROM ${reviewsMirror} FINAL WHERE _is_deleted = 0 AND user_id = 999999`,
            ),
          ) === 1,
      );
      await waitFor(
        'the pack marts',
        async () => Number(await sql("SELECT count() FROM mart_courses_reviews WHERE pack = 'courses'")) > 0,
      );
      await waitFor(
        'the write-back to settle every course',
        async () => {
          const [[row]] = (await course.query(STALE_COURSES)) as unknown as [{ n: number }[]];
          return Number(row?.n) === 0;
        },
        180_000,
      );
      const [[written]] = (await course.query(
        'SELECT count(*) AS n FROM course WHERE total_reviews > 0',
      )) as unknown as [{ n: number }[]];
      expect(Number(written?.n)).toBeGreaterThan(0);
    } finally {
      await course.end();
      child.kill('SIGTERM');
    }
    const stopped = await exit;
    expect(stopped.code, stopped.stderr).toBe(0);

    const warehouse = await openWarehouse({ kind: 'chdb', path: join(dir, 'warehouse') });
    try {
      for (const { service, database } of COURSES_DATABASES) {
        const connection = await mysql.createConnection({ uri: urls[service] });
        const [keys] = (await connection.query(
          `SELECT TABLE_NAME AS name, GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) AS \`key\`
           FROM information_schema.KEY_COLUMN_USAGE
           WHERE TABLE_SCHEMA = ? AND CONSTRAINT_NAME = 'PRIMARY' GROUP BY TABLE_NAME`,
          [database],
        )) as unknown as [{ name: string; key: string }[]];
        expect(keys.length).toBeGreaterThan(0);
        for (const { name, key } of keys) {
          const mirror = coursesMirror(SOURCE, service as 'course' | 'user' | 'enrollment', name);
          // Dropped secrets (tokens, password hashes) have no mirror column.
          const mirrored = new Set(
            (
              await warehouse.query<{ name: string }>(
                `SELECT name FROM system.columns WHERE concat(database, '.', table) = {t:String}`,
                { t: mirror },
              )
            ).map((column) => column.name),
          );
          const [columns] = (await connection.query(
            'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
            [database, name],
          )) as unknown as [{ name: string }[]];
          const exclude = columns.map((column) => column.name).filter((column) => !mirrored.has(column));
          await expectMysqlMirrorEqualsSource({
            url: urls[service] ?? '',
            database,
            table: name,
            warehouse,
            mirror,
            exclude,
          });
          await expectNoDuplicateVersions(warehouse, mirror, key.split(','));
        }
        await connection.end();
      }
    } finally {
      await warehouse.close();
    }
  });
});
