// Feature vectors from the engine into Redis, a hash per entity: the engine writes a range's
// vectors out (RowBinary: each hash's key, the HSET fallback's RESP, its values) while this process
// encodes the range before as RESTORE commands and its fallbacks' bytes (see redis-dump.ts) and
// sends them, so the engine's threads and this one work at once. Reading a result through the
// embedded engine's client cost more than the file.
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteIdentifier as q, quoteString, type Warehouse } from '../warehouse/index.ts';
import { featureNullable, featureType, type FeatureDefinition } from './registry.ts';
import { restoreCommands, restoreRowsSql, type DumpField, type ListpackLimits } from './redis-dump.ts';
import type { RedisTarget } from './redis-target.ts';
import { RespWriter } from './resp-writer.ts';

/** A constant as RESP text, encoded here once (lengths in bytes, as RESP counts them). */
const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
/** Arguments of `concat` encoding the SQL String `value` as one RESP bulk string after `prefix`. */
const bulkArgs = (prefix: string, value: string) => [
  quoteString(`${prefix}$`),
  `toString(length(${value}))`,
  "'\\r\\n'",
  value,
  "'\\r\\n'",
];

/**
 * The Redis commands writing one vector, as one SQL expression over a row of the as-of query (its
 * `<entity>_id`, `timestamp` and feature columns): HSET of `_as_of` and the non-null features, HDEL
 * of the null ones, EXPIRE with a ttl. The engine encodes every row's RESP itself, in one `concat`
 * per row, so the vectors reach Redis as the engine's bytes with no JavaScript value per row or
 * field. `commands` counts the commands in each row's text (the replies to wait for). The
 * benchmark's floor sends the same bytes.
 */
export function vectorRespSql(
  keyPrefix: string,
  entityColumn: string,
  features: readonly FeatureDefinition[],
  ttlSeconds?: number,
): { resp: string; commands: string } {
  const key = `concat(${quoteString(keyPrefix)}, ${q(entityColumn)})`;
  const nullable = features.filter(featureNullable);
  const nulls =
    nullable.length === 0 ? '0' : `(${nullable.map((f) => `toUInt32(isNull(${q(f.name)}))`).join(' + ')})`;
  // Values as the engine prints them (toString), which is how a TabSeparated export shows them.
  const value = (feature: FeatureDefinition) => `toString(assumeNotNull(${q(feature.name)}))`;
  const hset = [
    "'*'",
    `toString(${4 + 2 * features.length} - 2 * ${nulls})`,
    quoteString(`\r\n${bulk('HSET')}`),
    ...bulkArgs('', key),
    ...bulkArgs(bulk('_as_of'), 'toString(timestamp)'),
    ...features.map((feature) =>
      featureNullable(feature)
        ? `if(isNull(${q(feature.name)}), '', concat(${bulkArgs(bulk(feature.name), value(feature)).join(', ')}))`
        : bulkArgs(bulk(feature.name), value(feature)).join(', '),
    ),
  ];
  const hdel =
    nullable.length === 0
      ? "''"
      : `if(${nulls} = 0, '', concat('*', toString(2 + ${nulls}), ${quoteString(`\r\n${bulk('HDEL')}`)}, ${bulkArgs('', key).join(', ')}, ${nullable
          .map((feature) => `if(isNull(${q(feature.name)}), ${quoteString(bulk(feature.name))}, '')`)
          .join(', ')}))`;
  const expire = ttlSeconds
    ? `concat(${quoteString(`*3\r\n${bulk('EXPIRE')}`)}, ${bulkArgs('', key).join(', ')}, ${quoteString(bulk(String(ttlSeconds)))})`
    : "''";
  return {
    resp: `concat(${[...hset, hdel, expire].join(', ')})`,
    commands: `toUInt64(1 + (${nulls} > 0) + ${ttlSeconds ? 1 : 0})`,
  };
}

/** The hash of a vector (a row of the as-of query) as RESTORE writes it: the same fields and texts as HSET. */
export function dumpFields(features: readonly FeatureDefinition[]): DumpField[] {
  return [
    { name: '_as_of', sql: 'toString(timestamp)', integer: false, nullable: false },
    ...features.map((feature) => {
      const integer = featureType(feature) === 'int64';
      return {
        name: feature.name,
        sql: integer ? q(feature.name) : `toString(${q(feature.name)})`,
        integer,
        nullable: featureNullable(feature),
      };
    }),
  ];
}

export interface VectorSenderOptions {
  target: RedisTarget;
  /** Each hash's key: the prefix, then the entity's id. */
  keyPrefix: string;
  entityColumn: string;
  features: readonly FeatureDefinition[];
  /** Seconds each written hash lives; unset: until overwritten. */
  ttlSeconds?: number;
  /** The server's listpack limits; undefined: every hash by HSET. */
  limits: ListpackLimits | undefined;
  /** A directory for the rows written out, one range at a time. */
  dir: string;
}

/** Sends tables of vectors (rows of the as-of query: the entity's id, `timestamp`, the features). */
export class VectorSender {
  /** Of the time so far: the engine writing the rows out, then this process sending them. */
  encodeSeconds = 0;
  sendSeconds = 0;
  private readonly fields: DumpField[];
  private readonly vector: { resp: string; commands: string };
  private sending: Promise<void> = Promise.resolve();
  private writer: RespWriter | undefined;
  private ranges = 0;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly options: VectorSenderOptions,
  ) {
    this.fields = dumpFields(options.features);
    this.vector = vectorRespSql(
      options.keyPrefix,
      options.entityColumn,
      options.features,
      options.ttlSeconds,
    );
  }

  /**
   * Writes out the rows of `from` (a table or table function), and sends them once the range
   * before has been sent; returns how many there are. A failed send surfaces at the next `add` of
   * rows (once they are written out) or at `finish`.
   */
  async add(from: string): Promise<number> {
    // Hashes that fit the server's listpack limits go whole by RESTORE, the others by HSET.
    const restore = restoreRowsSql({
      from,
      key: `concat(${quoteString(this.options.keyPrefix)}, ${q(this.options.entityColumn)})`,
      fields: this.fields,
      fallback: this.vector.resp,
      limits: this.options.limits,
    });
    const [counts] = await this.warehouse.query<{ n: string; commands: string }>(
      `SELECT toString(count()) AS n, toString(sum(if(${restore.fits}, 1, ${this.vector.commands}))) AS commands
       FROM ${from}`,
    );
    const rows = Number(counts?.n ?? 0);
    if (rows === 0) return 0;
    const file = join(this.options.dir, `vectors-${this.ranges++}.bin`);
    const encodeStart = performance.now();
    await this.warehouse.exportToFile(restore.sql, 'RowBinary', file);
    this.encodeSeconds += (performance.now() - encodeStart) / 1000;
    await this.sending;
    this.writer ??= await RespWriter.connect(this.options.target);
    const writer = this.writer;
    const ttlMs = (this.options.ttlSeconds ?? 0) * 1000;
    this.sending = (async () => {
      const sendStart = performance.now();
      await writer.sendEncoded(
        restoreCommands(createReadStream(file, { highWaterMark: 1 << 20 }), this.fields, ttlMs),
        Number(counts?.commands),
      );
      await writer.flush();
      this.sendSeconds += (performance.now() - sendStart) / 1000;
      await rm(file, { force: true });
    })();
    // Its failure surfaces where it is awaited.
    this.sending.catch(() => undefined);
    return rows;
  }

  /** Waits until Redis has answered every command sent. */
  async finish(): Promise<void> {
    await this.sending;
  }

  /** Ends the connection once a send under way has ended, sent or failed. */
  async close(): Promise<void> {
    await this.sending.catch(() => undefined);
    this.writer?.close();
  }
}
