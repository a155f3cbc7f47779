// The demo's MySQL side, for a pack whose product runs on MySQL: an embedded MariaDB, one database
// per service with its schema, connections for the simulator, and the native MySQL captures of
// every database, each as its own source (databaseSource), streaming until told to catch up.
import { rm } from 'node:fs/promises';
import mysql from 'mysql2/promise';
import { runMysqlCapture } from '../../ingest/index.ts';
import type { MysqlCaptureEvents } from '../../ingest/mysql/index.ts';
import type { LandingSink } from '../../ingest/landing/sink.ts';
import type { PiiPolicy } from '../../ingest/pii.ts';
import { databaseSource, type PackMysqlConnections, type SourcePack } from '../../packs/index.ts';
import { startMariaDb } from '../../stack/index.ts';

export interface DemoMysqlDatabase {
  service: string;
  /** The database's name on the server. */
  database: string;
  /** The capture source it lands as. */
  source: string;
  url: string;
  connection: mysql.Connection;
}

export interface DemoCaptureTotals {
  snapshotRows: number;
  streamedChanges: number;
  deadLetters: number;
}

export interface DemoMysqlCapture {
  /** Settles when the capture stops; rejects only on a failure before it was asked to stop. */
  result: Promise<unknown>;
  /** Stops streaming, then captures once more up to the binary log's current end. */
  catchUpAndStop(): Promise<DemoCaptureTotals>;
}

export interface DemoMysql {
  databases: DemoMysqlDatabase[];
  /** By service, for the simulator. */
  connections: PackMysqlConnections;
  startCaptures(options: {
    sink: () => LandingSink;
    pii: PiiPolicy;
    signal: AbortSignal;
    events: MysqlCaptureEvents;
  }): DemoMysqlCapture[];
  /** Rows of each table of a database, by name. */
  tableCounts(database: DemoMysqlDatabase): Promise<{ table: string; rows: number }[]>;
  stop(): Promise<void>;
}

export async function startDemoMysql(pack: SourcePack, dataDir: string): Promise<DemoMysql> {
  await rm(dataDir, { recursive: true, force: true });
  const server = await startMariaDb({ dataDir });
  const databases: DemoMysqlDatabase[] = [];
  try {
    for (const { service, database, schemaSql } of pack.mysql?.databases ?? []) {
      const url = await server.createDatabase(database);
      // Several statements per query: the simulator sends a day's statements together.
      const connection = await mysql.createConnection({ uri: url, multipleStatements: true, timezone: 'Z' });
      databases.push({
        service,
        database,
        source: databaseSource(pack, pack.name, service),
        url,
        connection,
      });
      await connection.query(schemaSql);
      await connection.query("SET time_zone = '+00:00'");
    }
  } catch (error) {
    await Promise.allSettled(databases.map((each) => each.connection.end()));
    await server.stop();
    throw error;
  }
  return {
    databases,
    connections: Object.fromEntries(databases.map((each) => [each.service, each.connection])),
    startCaptures({ sink, pii, signal, events }) {
      return databases.map(({ url, source }) => {
        const capture = (untilCaughtUp: boolean, stop?: AbortSignal) =>
          runMysqlCapture({
            sourceUrl: url,
            sourceName: source,
            tables: { kind: 'all' },
            sink: sink(),
            pii,
            untilCaughtUp,
            signal: stop,
            events,
          });
        const streaming = new AbortController();
        signal.addEventListener('abort', () => streaming.abort(), { once: true });
        let stopping = false;
        // Stopped on purpose, a capture may end with "stopped during a snapshot": the catch-up
        // run resumes from its checkpoints either way.
        const result = capture(false, streaming.signal).catch((error: unknown) => {
          if (!stopping) throw error;
          return undefined;
        });
        return {
          result,
          async catchUpAndStop() {
            stopping = true;
            streaming.abort();
            const streamed = await result;
            const last = await capture(true, signal);
            return {
              snapshotRows: (streamed?.snapshotRows ?? 0) + last.snapshotRows,
              streamedChanges: (streamed?.streamedChanges ?? 0) + last.streamedChanges,
              deadLetters: (streamed?.deadLetters ?? 0) + last.deadLetters,
            };
          },
        };
      });
    },
    async tableCounts({ connection, database }) {
      const [tables] = await connection.query<mysql.RowDataPacket[]>(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        [database],
      );
      const counts = [];
      for (const { name } of tables) {
        const [rows] = await connection.query<mysql.RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM \`${String(name)}\``,
        );
        counts.push({ table: String(name), rows: Number(rows[0]?.n ?? 0) });
      }
      return counts;
    },
    async stop() {
      await Promise.allSettled(databases.map((each) => each.connection.end()));
      await server.stop();
    },
  };
}
