// Worker crash safety and group behaviour on a real broker: a worker SIGKILLed twenty times
// under load, then restarted, leaves the mirror equal to what was sent and no (key, _version) twice;
// two workers share the partitions, and the survivor takes over when one is killed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { AssignerProtocol, Kafka, logLevel, type Producer } from 'kafkajs';
import { idempotentProducer } from './producer.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type RunningKafka } from '../../stack/index.ts';
import { expectNoDuplicateVersions } from '../../test/mirror-equality.ts';
import { openWarehouse } from '../../warehouse/index.ts';
import type { SourceTable } from '../source-table.ts';
import { publishTableSchemas } from './schema-topic.ts';
import { scratchDir } from '../../test/scratch.ts';

const CLI = new URL('../../bin/tributary.js', import.meta.url).pathname;
const PARTITIONS = 4;

const scores = (source: string): SourceTable => ({
  source,
  schema: 'public',
  table: 'scores',
  key: ['id'],
  columns: [
    { name: 'id', clickhouseType: 'Int32', encoding: 'plain', isArray: false, sourceType: 'int4' },
    { name: 'score', clickhouseType: 'Int32', encoding: 'plain', isArray: false, sourceType: 'int4' },
    { name: 'note', clickhouseType: 'String', encoding: 'plain', isArray: false, sourceType: 'text' },
  ],
});

/** Sends changes to `<source>.public.scores` and remembers the state they leave behind. */
class Load {
  readonly expected = new Map<number, { score: number; note: string } | null>();
  private lsn = 1000;

  constructor(
    private readonly producer: Producer,
    private readonly source: string,
  ) {}

  async send(count: number): Promise<void> {
    const messages = [];
    for (let index = 0; index < count; index++) {
      const id = 1 + Math.floor(Math.random() * 20_000);
      const lsn = (this.lsn += 8);
      const remove = this.expected.get(id) && Math.random() < 0.05;
      const row = { id, score: Math.floor(Math.random() * 100), note: `n${lsn}` };
      const op = remove ? 'd' : this.expected.get(id) ? 'u' : 'c';
      this.expected.set(id, remove ? null : { score: row.score, note: row.note });
      const source = {
        version: 'tributary',
        connector: 'postgresql',
        name: this.source,
        db: 'app',
        schema: 'public',
        table: 'scores',
        lsn,
        ts_ms: 1,
      };
      messages.push({
        key: JSON.stringify({ id }),
        value: JSON.stringify({
          before: remove ? { id } : null,
          after: remove ? null : row,
          source,
          op,
          ts_ms: 1,
        }),
      });
    }
    await this.producer.send({ topic: `${this.source}.public.scores`, messages });
  }

  live(): { id: number; score: number; note: string }[] {
    return [...this.expected]
      .flatMap(([id, row]) => (row ? [{ id, ...row }] : []))
      .sort((a, b) => a.id - b.id);
  }
}

function worker(
  bootstrap: string,
  group: string,
  source: string,
  warehouseDir: string,
  extra: string[] = [],
): { child: ChildProcess; exit: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'ingest',
      '--brokers',
      bootstrap,
      '--group',
      group,
      '--topics',
      `^${source}\\.`,
      '--warehouse',
      warehouseDir,
      ...extra,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TRIBUTARY_PII_KEY: 'worker-crash-key-0123456789' },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    child,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr }))),
  };
}

let kafka: RunningKafka;
let client: Kafka;
let producer: Producer;
let root: string;

beforeAll(async () => {
  root = await scratchDir('worker-crash');
  kafka = await startKafka({ dataDir: join(root, 'kafka') });
  client = new Kafka({ clientId: 'test', brokers: [kafka.bootstrapServers], logLevel: logLevel.NOTHING });
  producer = idempotentProducer(client);
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await kafka?.stop();
});

async function prepare(source: string): Promise<Load> {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: `${source}.public.scores`, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  await publishTableSchemas(producer, [scores(source)]);
  return new Load(producer, source);
}

async function expectMirror(warehouseDir: string, source: string, load: Load): Promise<void> {
  const warehouse = await openWarehouse({ kind: 'chdb', path: warehouseDir });
  try {
    await expectNoDuplicateVersions(warehouse, `raw.${source}_scores`, ['id']);
    const rows = await warehouse.query(
      `SELECT id, score, note FROM raw.${source}_scores FINAL WHERE _is_deleted = 0 ORDER BY id`,
    );
    expect(rows.length).toBe(load.live().length);
    expect(rows).toEqual(load.live());
  } finally {
    await warehouse.close();
  }
}

describe('ingest workers under failure', () => {
  it('SIGKILL 20 times at seeded random moments under load: the mirror equals what was sent, no duplicate (key, _version)', async () => {
    const load = await prepare('crash');
    const warehouseDir = join(root, 'crash-warehouse');
    for (let round = 0; round < 10; round++) await load.send(10_000);
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    // From 0.5 s to 5 s after start: while joining the group, fetching, landing and committing.
    for (let kill = 0; kill < 20; kill++) {
      const { child, exit } = worker(kafka.bootstrapServers, 'crash-group', 'crash', warehouseDir);
      await load.send(2_000);
      await new Promise((resolve) => setTimeout(resolve, 500 + random() * 4500));
      child.kill('SIGKILL');
      expect((await exit).signal).toBe('SIGKILL');
    }
    const final = worker(kafka.bootstrapServers, 'crash-group', 'crash', warehouseDir, ['--until-idle', '5']);
    const { code, stderr } = await final.exit;
    expect(code, stderr).toBe(0);
    await expectMirror(warehouseDir, 'crash', load);
  });

  it('two workers in one group split the partitions; killing one hands its partitions to the other', async () => {
    const load = await prepare('pair');
    const warehouseA = join(root, 'pair-a');
    const warehouseB = join(root, 'pair-b');
    await load.send(20_000);
    // chDB binds a directory to one process: each worker has its own warehouse here, so the
    // survivor's warehouse must end up with everything, including what it took over.
    const a = worker(kafka.bootstrapServers, 'pair-group', 'pair', warehouseA);
    const b = worker(kafka.bootstrapServers, 'pair-group', 'pair', warehouseB);
    const admin = client.admin();
    await admin.connect();
    try {
      const assignment = async () => {
        const [group] = (await admin.describeGroups(['pair-group'])).groups;
        return (group?.members ?? []).map((member) => {
          const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
          return Object.values(decoded?.assignment ?? {}).flat().length;
        });
      };
      // Both members hold partitions, and between them all of them.
      const shared = async () => {
        const split = await assignment();
        return (
          split.length === 2 &&
          split.every((partitions) => partitions > 0) &&
          split.reduce((sum, partitions) => sum + partitions, 0) === PARTITIONS
        );
      };
      await expect.poll(shared, { timeout: 60_000, interval: 500 }).toBe(true);
      // Kill A once both members have landed part of the backlog.
      await expect
        .poll(
          async () =>
            (
              await admin.fetchOffsets({ groupId: 'pair-group', topics: ['pair.public.scores'] })
            )[0]?.partitions.every((partition) => Number(partition.offset) > 0),
          {
            timeout: 60_000,
            interval: 250,
          },
        )
        .toBe(true);
      await load.send(10_000);
      a.child.kill('SIGKILL');
      await a.exit;
      await load.send(10_000);
      await expect.poll(assignment, { timeout: 60_000, interval: 500 }).toEqual([PARTITIONS]);
      await expect
        .poll(
          async () => {
            const committed = await admin.fetchOffsets({
              groupId: 'pair-group',
              topics: ['pair.public.scores'],
            });
            const ends = await admin.fetchTopicOffsets('pair.public.scores');
            return ends.every(
              (end) =>
                committed[0]?.partitions.find((partition) => partition.partition === end.partition)
                  ?.offset === end.high,
            );
          },
          { timeout: 120_000, interval: 1000 },
        )
        .toBe(true);
    } finally {
      await admin.disconnect();
    }
    b.child.kill('SIGTERM');
    const { code, stderr } = await b.exit;
    expect(code, stderr).toBe(0);
    // chDB binds a directory to one process, so each worker had its own warehouse: together they
    // must hold every change, each version once, and the latest version of every key must match.
    const latest = new Map<
      number,
      { version: number; row: { id: number; score: number; note: string } | null }
    >();
    for (const dir of [warehouseA, warehouseB]) {
      const dump = spawnSync(
        process.execPath,
        [
          CLI,
          'query',
          '--warehouse',
          dir,
          '--format',
          'JSONEachRow',
          'SELECT id, score, note, _version, _is_deleted FROM raw.pair_scores',
        ],
        { encoding: 'utf8', maxBuffer: 1 << 28 },
      );
      expect(dump.status, dump.stderr).toBe(0);
      const rows = dump.stdout
        .split('\n')
        .filter(Boolean)
        .map(
          (line) =>
            JSON.parse(line) as {
              id: number;
              score: number;
              note: string;
              _version: string;
              _is_deleted: number;
            },
        );
      expect(new Set(rows.map((row) => `${row.id}:${row._version}`)).size).toBe(rows.length);
      for (const { _version, _is_deleted, ...row } of rows) {
        const version = Number(_version);
        if ((latest.get(row.id)?.version ?? -1) < version)
          latest.set(row.id, { version, row: _is_deleted ? null : row });
      }
    }
    const merged = [...latest.values()].flatMap(({ row }) => (row ? [row] : [])).sort((x, y) => x.id - y.id);
    expect(merged.length).toBe(load.live().length);
    expect(merged).toEqual(load.live());
  });
});
