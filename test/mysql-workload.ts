// A seeded random workload over every MySQL column type the course seed uses plus the awkward ones
// (DECIMAL at full precision, unsigned BIGINT beyond 2^63, DATETIME vs TIMESTAMP with microseconds,
// zero dates, negative TIME, JSON, ENUM/SET, BIT, binary strings, utf8mb4 text): multi-row inserts,
// updates (some moving a row to another key), deletes, multi-statement transactions, and now and
// then a row of about a megabyte.
import mysql from 'mysql2/promise';

export const AWKWARD_DDL = `CREATE TABLE awkward (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  tiny TINYINT, flag TINYINT(1), small SMALLINT UNSIGNED, medium MEDIUMINT, i INT, big BIGINT, ubig BIGINT UNSIGNED,
  price DECIMAL(10,2), exact DECIMAL(38,12), f FLOAT, d DOUBLE,
  name VARCHAR(120) CHARACTER SET utf8mb4, note TEXT, bin VARBINARY(32), fixed BINARY(4), payload MEDIUMBLOB,
  doc JSON, status ENUM('new','active','it''s done'), tags SET('red','green','blue'),
  bits BIT(12), bit1 BIT(1), born DATE, at DATETIME(6), at0 DATETIME, ts TIMESTAMP(6) NULL DEFAULT NULL,
  dur TIME(3), yr YEAR, body LONGTEXT, email VARCHAR(100), password_hash VARCHAR(100)
) CHARACTER SET utf8mb4`;

/** A table without any key: rows are named by their values. */
export const KEYLESS_DDL = `CREATE TABLE keyless (label VARCHAR(40), amount DECIMAL(12,2), at DATETIME(3))`;

export class MysqlWorkload {
  private seed: number;
  private nextId = 1;
  private readonly live = new Set<number>();

  constructor(
    private readonly connection: mysql.Connection,
    seed: number,
    private readonly largeRows = true,
  ) {
    this.seed = seed;
  }

  /** `largeRows: false` leaves out the megabyte rows (for a test about something else). */
  static async connect(
    url: string,
    seed: number,
    options: { largeRows?: boolean } = {},
  ): Promise<MysqlWorkload> {
    const connection = await mysql.createConnection({
      uri: url,
      multipleStatements: true,
      supportBigNumbers: true,
    });
    await connection.query("SET time_zone = '+00:00', sql_mode = 'ERROR_FOR_DIVISION_BY_ZERO'");
    return new MysqlWorkload(connection, seed, options.largeRows ?? true);
  }

  get rows(): number {
    return this.live.size;
  }

  async close(): Promise<void> {
    await this.connection.end();
  }

  async run(steps: number): Promise<void> {
    for (let step = 0; step < steps; step++) await this.step();
  }

  /** One transaction of 1–4 statements (or one statement on its own). */
  async step(): Promise<void> {
    const statements = 1 + Math.floor(this.random() * 4);
    const transactional = statements > 1 || this.random() < 0.5;
    if (transactional) await this.connection.query('START TRANSACTION');
    for (let index = 0; index < statements; index++) await this.statement();
    if (transactional) {
      if (this.random() < 0.05) {
        await this.connection.query('ROLLBACK');
        await this.reloadIds();
      } else await this.connection.query('COMMIT');
    }
  }

  private async statement(): Promise<void> {
    const roll = this.random();
    const ids = [...this.live];
    if (roll < 0.45 || ids.length < 5) {
      const count = 1 + Math.floor(this.random() * 5);
      const rows = Array.from({ length: count }, () => this.row(this.nextId++));
      const columns = Object.keys(rows[0] as object);
      await this.connection.query(`INSERT INTO awkward (${columns.join(', ')}) VALUES ?`, [
        rows.map((row) => columns.map((column) => row[column])),
      ]);
      for (const row of rows) this.live.add(row.id as number);
      if (this.random() < 0.3)
        await this.connection.query('INSERT INTO keyless VALUES (?, ?, ?)', [
          this.pick(['a', 'b', 'ç', '🌊']),
          (this.random() * 1000).toFixed(2),
          this.datetime(3),
        ]);
    } else if (roll < 0.75) {
      const id = this.pick(ids);
      const row = this.row(id);
      delete row.id;
      const assignments = Object.keys(row).filter(() => this.random() < 0.4);
      if (assignments.length === 0) assignments.push('name');
      await this.connection.query(
        `UPDATE awkward SET ${assignments.map((column) => `${column} = ?`).join(', ')} WHERE id = ?`,
        [...assignments.map((column) => row[column]), id],
      );
    } else if (roll < 0.82) {
      // A key change: the row moves to a new id.
      const id = this.pick(ids);
      const next = this.nextId++;
      await this.connection.query('UPDATE awkward SET id = ?, i = i + 1 WHERE id = ?', [next, id]);
      this.live.delete(id);
      this.live.add(next);
    } else if (roll < 0.92) {
      const id = this.pick(ids);
      await this.connection.query('DELETE FROM awkward WHERE id = ?', [id]);
      this.live.delete(id);
    } else if (roll < 0.96) {
      await this.connection.query('UPDATE keyless SET amount = amount + 1 WHERE label = ?', [
        this.pick(['a', 'b']),
      ]);
      await this.connection.query('DELETE FROM keyless WHERE label = ? LIMIT 1', [this.pick(['ç', '🌊'])]);
    } else {
      // Many rows in one statement.
      await this.connection.query('UPDATE awkward SET tiny = IF(tiny IS NULL, 1, -tiny) WHERE id % 3 = ?', [
        Math.floor(this.random() * 3),
      ]);
    }
  }

  private async reloadIds(): Promise<void> {
    const [rows] = (await this.connection.query('SELECT id FROM awkward')) as unknown as [{ id: number }[]];
    this.live.clear();
    for (const row of rows) this.live.add(Number(row.id));
  }

  private row(id: number): Record<string, unknown> {
    const maybe = <T>(value: () => T): T | null => (this.random() < 0.12 ? null : value());
    const large = this.random() < 0.02 && this.largeRows;
    return {
      id,
      tiny: maybe(() => this.int(-128, 127)),
      flag: maybe(() => this.int(0, 1)),
      small: maybe(() => this.int(0, 65535)),
      medium: maybe(() => this.int(-8388608, 8388607)),
      i: maybe(() => this.int(-2147483648, 2147483647)),
      big: maybe(() =>
        this.pick([
          '-9223372036854775808',
          '9223372036854775807',
          '9007199254740993',
          String(this.int(-1e9, 1e9)),
        ]),
      ),
      ubig: maybe(() =>
        this.pick(['18446744073709551615', '9223372036854775808', '0', String(this.int(0, 1e12))]),
      ),
      price: maybe(() => (this.int(-9999999, 9999999) / 100).toFixed(2)),
      exact: maybe(() =>
        this.pick(['12345678901234567890123456.123456789012', '-0.000000000001', '0.5', '1']),
      ),
      f: maybe(() => this.pick([1.1, -3.25, 0, 3.4e38, 1e-10])),
      d: maybe(() => this.pick([0.1 + 0.2, -1e300, 2 ** 53 + 2, Math.PI])),
      name: maybe(() =>
        this.pick(['Nguyễn Thị Minh Khai', 'plain', '🌊 wave', "quote ' and \\ back", '', 'trailing  ']),
      ),
      note: maybe(() => this.pick(['short', 'a'.repeat(3000), 'Tiếng Việt có dấu'])),
      bin: maybe(() => Buffer.from(Array.from({ length: this.int(0, 32) }, () => this.int(0, 255)))),
      fixed: maybe(() =>
        this.pick([Buffer.from([1, 2, 3, 4]), Buffer.from([0, 0, 0, 0]), Buffer.from([255, 0])]),
      ),
      payload: large ? Buffer.alloc(900_000, this.int(0, 255)) : maybe(() => Buffer.from('blob-' + id)),
      doc: maybe(() =>
        this.pick([
          '{"a": 1, "b": [true, null, "x"]}',
          '[]',
          '{"nested": {"deep": 12345678901234567890}}',
          '"text"',
        ]),
      ),
      status: maybe(() => this.pick(['new', 'active', "it's done"])),
      tags: maybe(() => this.pick(['', 'red', 'red,blue', 'red,green,blue'])),
      bits: maybe(() => this.int(0, 4095)),
      bit1: maybe(() => this.int(0, 1)),
      born: maybe(() => this.pick(['0000-00-00', '1970-01-01', '2024-02-29', '1900-01-01', '2299-12-31'])),
      at: maybe(() => this.datetime(6)),
      at0: maybe(() => this.pick(['0000-00-00 00:00:00', this.datetime(0)])),
      ts: maybe(() =>
        this.pick(['1970-01-01 00:00:01.000001', '2038-01-19 03:14:07.999999', this.datetime(6)]),
      ),
      dur: maybe(() =>
        this.pick(['-838:59:59.000', '00:00:00.000', '12:34:56.789', '-00:00:01.500', '100:00:00.001']),
      ),
      yr: maybe(() => this.pick([1901, 2155, 2024])),
      body: large ? 'Đ'.repeat(400_000) : maybe(() => 'body ' + id),
      email: maybe(() => `User${id}@Example.com`),
      password_hash: maybe(() => `secret-${id}`),
    };
  }

  private datetime(digits: number): string {
    const millis = Date.UTC(2000, 0, 1) + Math.floor(this.random() * 30 * 365 * 86_400_000);
    const base = new Date(millis).toISOString().slice(0, 19).replace('T', ' ');
    if (digits === 0) return base;
    return `${base}.${String(this.int(0, 10 ** digits - 1)).padStart(digits, '0')}`;
  }

  private int(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low + 1));
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private random(): number {
    this.seed = (this.seed * 16807) % 2147483647;
    return this.seed / 2147483647;
  }
}
