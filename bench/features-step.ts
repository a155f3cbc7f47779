// One measured step of bench:features, in its own process so that its peak RSS is its own: opens
// the warehouse, notes the idle footprint, runs the step, prints one JSON line.
// Steps: generate | scan | asof [METHOD] | spine [METHOD] | content (as-of, every content item)
// | redis URL | redis-get URL (after redis) | vectors (what the engine alone does of redis)
// | redis-floor URL and redis-restore-floor URL (after asof).
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  dataRange,
  ensureFeatureHistory,
  exportFeatures,
  dumpFields,
  getOnlineFeatures,
  materializeFeatures,
  parseRedisTarget,
  restoreCommands,
  restoreRowsSql,
  vectorRespSql,
} from '../features/index.ts';
import { selectFeatures } from '../features/catalogue.ts';
import { featureRegistryOf, prepareHistory } from '../features/export.ts';
import { ENTITIES_PER_PASS, entityRanges } from '../features/passes.ts';
import { asOfSpine } from '../features/spine.ts';
import { pointInTimeQuery } from '../features/sql.ts';
import { learningContentFeatures, learningFeatures } from '../packs/learning/features.ts';
import {
  ensureMirrorTable,
  migrate,
  openWarehouse,
  quoteIdentifier,
  quoteString,
  type Warehouse,
} from '../warehouse/index.ts';
import { percentile } from './percentile.ts';
import { redisCpu } from './redis-cpu.ts';
import { CONTENT, DAYS, FACTS, fullScan, generateMartsData, START, USERS } from './marts-data.ts';

export const PACK = 'learning';
export const SOURCE = 'bench';

const [step, root, extra] = process.argv.slice(2);
if (!step || !root) throw new Error('usage: features-step.ts STEP ROOT [ARG]');

/** `redis-get`: batches read, users a batch. */
const GET_BATCHES = 40;
const GET_BATCH_USERS = 1000;

const method = (name: string | undefined) => (name === 'tiles' ? 'tiles' : 'facts');

/** Feeds RESP (a file, or bytes) through `redis-cli --pipe`; returns the replies it counted. */
async function pipeToRedis(port: number, input: string | Buffer): Promise<number> {
  const child = spawn('redis-cli', ['-p', String(port), '--pipe'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (typeof input === 'string') await pipeline(createReadStream(input), child.stdin);
  else child.stdin.end(input);
  const code = await exited;
  const match = /errors: (\d+), replies: (\d+)/.exec(output);
  if (code !== 0 || !match || match[1] !== '0') throw new Error(`redis-cli --pipe failed: ${output}`);
  return Number(match[2]);
}

/** The dimension sources the learning features read, with a history of a few versions per user. */
async function generateDimensions(warehouse: Warehouse): Promise<void> {
  const time = "Nullable(DateTime64(6, 'UTC'))";
  const tables = [
    {
      name: `raw.${SOURCE}_users`,
      key: ['id'],
      columns: [
        { name: 'id', type: 'String' },
        { name: 'status', type: 'Nullable(String)' },
        { name: 'updated_at', type: time },
      ],
    },
    {
      name: `raw.${SOURCE}_user_profiles`,
      key: ['user_id'],
      columns: [
        { name: 'user_id', type: 'String' },
        { name: 'country_code', type: 'Nullable(String)' },
        { name: 'timezone', type: 'Nullable(String)' },
        { name: 'proficiency_level', type: 'Nullable(Int32)' },
        { name: 'updated_at', type: time },
      ],
    },
    {
      name: `raw.${SOURCE}_user_settings`,
      key: ['user_id'],
      columns: [
        { name: 'user_id', type: 'String' },
        { name: 'learning_mode', type: 'Nullable(String)' },
        { name: 'daily_goal_minutes', type: 'Nullable(Int32)' },
        { name: 'updated_at', type: time },
      ],
    },
    {
      name: `raw.${SOURCE}_user_sessions`,
      key: ['id'],
      columns: [
        { name: 'id', type: 'String' },
        { name: 'user_id', type: 'Nullable(String)' },
        { name: 'device_info', type: 'Nullable(String)' },
        { name: 'created_at', type: time },
      ],
    },
    {
      name: `raw.${SOURCE}_lessons`,
      key: ['id'],
      columns: [
        { name: 'id', type: 'String' },
        { name: 'difficulty_level', type: 'Nullable(Int32)' },
        { name: 'lesson_type', type: 'Nullable(String)' },
        { name: 'topic_category', type: 'Nullable(String)' },
        { name: 'updated_at', type: time },
      ],
    },
  ];
  for (const table of tables) await ensureMirrorTable(warehouse, table);
  // History first, so the versions below go through the view as captured changes would.
  await ensureFeatureHistory(warehouse, learningFeatures, SOURCE);
  await ensureFeatureHistory(warehouse, learningContentFeatures, SOURCE);
  // Every item the facts name, created at the data's start; a tenth of them lessons with attributes.
  await warehouse.command(`INSERT INTO dim_content (content_id, pack, content_type, title, created_at)
    SELECT concat('c', toString(number)), '${PACK}', 'lesson', '', toDateTime64('${START}', 3, 'UTC') FROM numbers(${CONTENT})`);
  await warehouse.command(`INSERT INTO raw.${SOURCE}_lessons (id, difficulty_level, lesson_type, topic_category, updated_at, _version, _is_deleted)
    SELECT concat('c', toString(number)), toInt32(1 + number % 10), ['reading', 'listening', 'speaking'][1 + number % 3], 'topic',
      toDateTime64('${START}', 6, 'UTC'), 1, 0 FROM numbers(${CONTENT}) WHERE number % 10 = 0`);
  const signup = (n: string) =>
    `toDateTime64(toDateTime('${START}', 'UTC') + toIntervalSecond(intHash32(${n} * 23) % (${DAYS} * 86400)), 6, 'UTC')`;
  const later = (n: string, salt: number) =>
    `${signup(n)} + toIntervalSecond(intHash32(${n} * ${salt}) % (${DAYS} * 86400 - intHash32(${n} * 23) % (${DAYS} * 86400)))`;
  await warehouse.command(`INSERT INTO raw.${SOURCE}_users (id, status, updated_at, _version, _is_deleted)
    SELECT concat('u', toString(number)), 'active', ${signup('number')}, 1, 0 FROM numbers(${USERS})`);
  await warehouse.command(`INSERT INTO raw.${SOURCE}_users (id, status, updated_at, _version, _is_deleted)
    SELECT concat('u', toString(number)), 'inactive', ${later('number', 29)}, 2, 0 FROM numbers(${USERS}) WHERE number % 5 = 0`);
  await warehouse.command(`INSERT INTO raw.${SOURCE}_user_profiles (user_id, country_code, timezone, proficiency_level, updated_at, _version, _is_deleted)
    SELECT concat('u', toString(number)), ['VN', 'US', 'JP', 'FR', 'DE'][1 + number % 5], 'UTC', toInt32(1 + number % 3), ${signup('number')}, 1, 0
    FROM numbers(${USERS})`);
  await warehouse.command(`INSERT INTO raw.${SOURCE}_user_profiles (user_id, country_code, timezone, proficiency_level, updated_at, _version, _is_deleted)
    SELECT concat('u', toString(number)), ['VN', 'US', 'JP', 'FR', 'DE'][1 + number % 5], 'UTC', toInt32(4 + number % 3), ${later('number', 31)}, 2, 0
    FROM numbers(${USERS}) WHERE number % 2 = 0`);
  await warehouse.command(`INSERT INTO raw.${SOURCE}_user_settings (user_id, learning_mode, daily_goal_minutes, updated_at, _version, _is_deleted)
    SELECT concat('u', toString(number)), ['standard', 'intensive', 'casual'][1 + number % 3], toInt32(10 * (1 + number % 6)), ${signup('number')}, 1, 0
    FROM numbers(${USERS})`);
  await warehouse.command(`INSERT INTO raw.${SOURCE}_user_sessions (id, user_id, device_info, created_at, _version, _is_deleted)
    SELECT concat('s', toString(number)), concat('u', toString(number % ${USERS})),
      concat('{"platform":"', ['ios', 'android', 'web'][1 + intHash32(number) % 3], '"}'), ${later(`(number % ${USERS})`, 37)}, 1, 0
    FROM numbers(${USERS * 3})`);
}

/**
 * The floor of (c) end to end: the engine alone computing every user's vector and its digest as the
 * online store does (the same passes, as of the warehouse's clock), into a table that keeps nothing.
 */
async function computeVectors(warehouse: Warehouse): Promise<number> {
  const registry = featureRegistryOf(PACK, 'user');
  const selection = selectFeatures(registry, {});
  await migrate(warehouse);
  const sourceKeys = await prepareHistory(warehouse, registry, SOURCE, selection);
  const [now] = await warehouse.query<{ now: string }>("SELECT toString(now64(3, 'UTC')) AS now");
  const spine = await asOfSpine(warehouse, PACK, now?.now as string, 'user');
  try {
    const columns = selection.features.map((feature) => quoteIdentifier(feature.name)).join(', ');
    for (const entities of await entityRanges(warehouse, spine, ENTITIES_PER_PASS.asOf)) {
      const query = pointInTimeQuery({
        registry,
        features: selection.features,
        labels: [],
        pack: PACK,
        sourceName: SOURCE,
        sourceKeys,
        spineTable: spine.table,
        asOf: now?.now as string,
        entities,
      });
      await warehouse.command(
        `CREATE OR REPLACE TABLE bench_vectors ENGINE = Null AS
         SELECT *, cityHash64(tuple(${columns})) AS digest FROM (${query.sql})`,
        query.params,
        query.settings,
      );
    }
    return spine.rows;
  } finally {
    await spine.drop();
  }
}

/** A spine of USERS rows: random users at random instants after their signup, within the data. */
async function writeSpine(warehouse: Warehouse, path: string): Promise<void> {
  const range = await dataRange(warehouse, PACK);
  await warehouse.command(
    `INSERT INTO FUNCTION file(${quoteString(path)}, 'Parquet')
     SELECT DISTINCT entity_id, timestamp FROM (
       SELECT concat('u', toString(u)) AS entity_id,
         toDateTime64(greatest(signup + 1, first) + (intHash32(number * 41) % 1000000) / 1000000 * (last - greatest(signup + 1, first)), 3, 'UTC') AS timestamp
       FROM (SELECT number, intHash32(number * 43) % ${USERS} AS u,
               toUnixTimestamp(toDateTime('${START}', 'UTC')) + intHash32(u * 23) % (${DAYS} * 86400) AS signup,
               toUnixTimestamp(toDateTime64({first:String}, 3, 'UTC')) AS first,
               toUnixTimestamp(toDateTime64({last:String}, 3, 'UTC')) - 1 AS last
             FROM numbers(${USERS})))`,
    range,
    { engine_file_truncate_on_insert: 1 },
  );
}

const warehouse = await openWarehouse({ kind: 'chdb', path: join(root, 'warehouse') });
try {
  await warehouse.query('SELECT 1');
  const idle = process.memoryUsage().rss;
  const startedAt = performance.now();
  let detail: Record<string, unknown> = {};
  switch (step) {
    case 'generate':
      await migrate(warehouse);
      await generateMartsData(warehouse, PACK);
      await generateDimensions(warehouse);
      await writeSpine(warehouse, join(root, 'spine.parquet'));
      detail = { facts: FACTS, users: USERS };
      break;
    case 'scan':
      await fullScan(warehouse, PACK);
      break;
    case 'asof': {
      const range = await dataRange(warehouse, PACK);
      const result = await exportFeatures(warehouse, {
        pack: PACK,
        sourceName: SOURCE,
        asOf: `${range.last.replace(' ', 'T')}Z`,
        format: 'parquet',
        out: join(root, 'asof.parquet'),
        method: method(extra),
      });
      detail = { rows: result.rows, features: result.features };
      break;
    }
    case 'content': {
      const range = await dataRange(warehouse, PACK);
      const result = await exportFeatures(warehouse, {
        pack: PACK,
        entity: 'content',
        sourceName: SOURCE,
        asOf: `${range.last.replace(' ', 'T')}Z`,
        format: 'parquet',
        out: join(root, 'content.parquet'),
      });
      detail = { rows: result.rows, features: result.features };
      break;
    }
    case 'spine': {
      const result = await exportFeatures(warehouse, {
        pack: PACK,
        sourceName: SOURCE,
        spine: join(root, 'spine.parquet'),
        format: 'parquet',
        out: join(root, 'spine-features.parquet'),
        method: method(extra),
      });
      detail = { rows: result.rows, features: result.features };
      break;
    }
    case 'redis': {
      const cpuBefore = await redisCpu(extra as string);
      const result = await materializeFeatures(warehouse, {
        pack: PACK,
        sourceName: SOURCE,
        to: extra as string,
        full: true,
      });
      detail = {
        rows: result.written,
        features: learningFeatures.features.length,
        encodeSeconds: result.encodeSeconds,
        sendSeconds: result.sendSeconds,
        redisCpuSeconds: (await redisCpu(extra as string)) - cpuBefore,
      };
      break;
    }
    case 'vectors':
      detail = { rows: await computeVectors(warehouse), features: learningFeatures.features.length };
      break;
    case 'redis-get': {
      // Serving: batches of random users read back as `features get` reads them (one call each,
      // every feature), after (c) wrote them all.
      const batches: number[] = [];
      let found = 0;
      const cpuBefore = await redisCpu(extra as string);
      for (let batch = 0; batch < GET_BATCHES; batch++) {
        const ids = Array.from({ length: GET_BATCH_USERS }, () => `u${Math.floor(Math.random() * USERS)}`);
        const started = performance.now();
        const vectors = await getOnlineFeatures({ pack: PACK, from: extra as string, ids });
        batches.push(performance.now() - started);
        found += vectors.filter((vector) => vector !== undefined).length;
      }
      detail = {
        rows: found,
        batchUsers: GET_BATCH_USERS,
        batchP50Ms: percentile(batches, 0.5),
        batchP95Ms: percentile(batches, 0.95),
        redisCpuSeconds: (await redisCpu(extra as string)) - cpuBefore,
      };
      break;
    }
    case 'redis-floor':
    case 'redis-restore-floor': {
      // The same commands as (c) (HSET, or RESTORE of the same payloads), encoded the same way from
      // the as-of export's rows, written by redis-cli --pipe alone into an emptied database: what
      // Redis itself takes for them.
      const asOfRows = `file(${quoteString(join(root, 'asof.parquet'))}, 'Parquet')`;
      const vector = vectorRespSql(`${PACK}:user:`, 'user_id', learningFeatures.features);
      const path = join(root, 'floor.resp');
      let commands: string;
      if (step === 'redis-floor') {
        await warehouse.command(
          `INSERT INTO FUNCTION file(${quoteString(path)}, 'RawBLOB') SELECT ${vector.resp} FROM ${asOfRows}`,
          {},
          { engine_file_truncate_on_insert: 1 },
        );
        commands = `sum(${vector.commands})`;
      } else {
        const fields = dumpFields(learningFeatures.features);
        const rows = restoreRowsSql({
          from: asOfRows,
          key: `concat('${PACK}:user:', user_id)`,
          fields,
          fallback: vector.resp,
          limits: { entries: 128, value: 64 },
        });
        const binary = join(root, 'floor.bin');
        await warehouse.exportToFile(rows.sql, 'RowBinary', binary);
        await pipeline(
          restoreCommands(createReadStream(binary, { highWaterMark: 1 << 20 }), fields, 0),
          createWriteStream(path),
        );
        commands = `sum(if(${rows.fits}, 1, ${vector.commands}))`;
      }
      const [counted] = await warehouse.query<{ users: string; commands: string }>(
        `SELECT toString(count()) AS users, toString(${commands}) AS commands FROM ${asOfRows}`,
      );
      const target = parseRedisTarget(extra as string);
      await pipeToRedis(target.port, Buffer.from('*1\r\n$7\r\nFLUSHDB\r\n'));
      const cpuBefore = await redisCpu(extra as string);
      const started = performance.now();
      const replies = await pipeToRedis(target.port, path);
      const seconds = (performance.now() - started) / 1000;
      if (replies !== Number(counted?.commands))
        throw new Error(`redis-cli --pipe: ${replies} replies for ${counted?.commands} commands`);
      detail = {
        rows: Number(counted?.users),
        seconds,
        redisCpuSeconds: (await redisCpu(extra as string)) - cpuBefore,
      };
      break;
    }
    default:
      throw new Error(`unknown step ${step}`);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const usage = process.resourceUsage();
  const peak = usage.maxRSS * 1024;
  // CPU time of the process (the engine's threads included), less noisy than wall time on a loaded machine.
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  console.log(
    JSON.stringify({ step, seconds, cpuSeconds, idleMb: idle / 2 ** 20, peakMb: peak / 2 ** 20, ...detail }),
  );
} finally {
  await warehouse.close();
}
