// Postgres `user_streaks`: the application owns the streak while a user is active (it extends the
// streak, spends a freeze on a one-day gap, tracks the longest); it writes nothing when a user
// stops coming, so a lapsed streak would stand forever. Tributary owns that lapse alone: as of the
// run's time, a user whose last activity (in their own time zone, from dim_users) is more than one
// local day back (two when they hold a freeze) gets current_streak = 0. Nothing else is written:
// longest_streak, last_activity_date and the freezes stay the application's.
// Where Tributary owns the whole streak (seed 004's user_courses), `streakOf` counts it from the
// activities, each in the time zone the user was in at the time.
import type pg from 'pg';
import { mirrorTableName } from '../../ingest/index.ts';
import { quoteTable } from '../../warehouse/index.ts';
import { dayIn } from '../schedule.ts';
import type { TargetRow, WritebackTarget, WriteResult } from './engine.ts';
import { InvariantError } from '../../errors/index.ts';

/** Whole days from `from` to `to` (`YYYY-MM-DD`). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The user's last active day and how many local days ago it was, as of `asOf`. */
export function localGap(lastActiveMs: number, timezone: string, asOf: Date): LocalGap {
  return localGapsAsOf(asOf)(lastActiveMs, timezone);
}

/** The span of the local-day cache's buckets (see localGapsAsOf). */
const BUCKET_MS = 15 * 60_000;

/**
 * localGap for many users as of one instant. The answer is kept per zone and UTC quarter hour of
 * the last activity, when the local day is the same at both ends of it: a local day changes at
 * midnights and time-zone transitions, hours apart, so it cannot change and change back within a
 * quarter hour. Most users then cost two map look-ups instead of a formatted date and two parsed
 * ones (~3.4 µs a row).
 */
export function localGapsAsOf(asOf: Date): (lastActiveMs: number, timezone: string) => LocalGap {
  const zones = new Map<string, { today: string; buckets: Map<number, LocalGap> }>();
  return (lastActiveMs, timezone) => {
    const zone = validZone(timezone);
    let known = zones.get(zone);
    if (known === undefined) {
      known = { today: dayIn(asOf, zone), buckets: new Map() };
      zones.set(zone, known);
    }
    const bucket = Math.floor(lastActiveMs / BUCKET_MS);
    const cached = known.buckets.get(bucket);
    if (cached !== undefined) return cached;
    const lastDay = dayIn(new Date(lastActiveMs), zone);
    const gap = { lastDay, gap: daysBetween(lastDay, known.today) };
    const start = bucket * BUCKET_MS;
    if (dayIn(new Date(start), zone) === lastDay && dayIn(new Date(start + BUCKET_MS - 1), zone) === lastDay)
      known.buckets.set(bucket, gap);
    return gap;
  };
}

interface LocalGap {
  lastDay: string;
  gap: number;
}

/** One XP-earning moment: when it happened and the time zone the user's device was in then. */
export interface ZonedActivity {
  ms: number;
  timezone: string;
}

/**
 * Local days from one activity to the next. Both instants are read in one zone — the earlier
 * activity's and the later one's in turn — and the smaller count wins, so a journey never costs a
 * day (flying east past midnight skips a local date) nor earns one (flying west repeats one).
 */
export function dayStep(previous: ZonedActivity, next: ZonedActivity): number {
  const at = new Date(next.ms);
  return Math.min(
    localGap(previous.ms, previous.timezone, at).gap,
    localGap(previous.ms, next.timezone, at).gap,
  );
}

export interface Streak {
  /** Consecutive local days up to the last activity, or 0 once more than a local day has passed. */
  current: number;
  longest: number;
}

/**
 * The streak of a user's activities (sorted by time) as of `asOf` (AC-12): a step of one local
 * day extends it, a step of two or more starts it again, and it lapses when the last activity is
 * more than one local day (in the zone the user was last in) before `asOf`. Activities after
 * `asOf` do not count yet.
 */
export function streakOf(activities: readonly ZonedActivity[], asOf: Date): Streak {
  let run = 0;
  let longest = 0;
  let last: ZonedActivity | undefined;
  for (const activity of activities) {
    if (activity.ms > asOf.getTime()) break;
    if (last !== undefined && activity.ms < last.ms)
      throw new InvariantError('streakOf needs activities sorted by time');
    const step = last === undefined ? 2 : dayStep(last, activity);
    run = step >= 2 ? 1 : run + step;
    longest = Math.max(longest, run);
    last = activity;
  }
  if (last === undefined) return { current: 0, longest: 0 };
  return { current: localGap(last.ms, last.timezone, asOf).gap <= 1 ? run : 0, longest };
}

const zones = new Map<string, string>();
function validZone(timezone: string): string {
  let zone = zones.get(timezone);
  if (zone === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone || 'UTC' });
      zone = timezone || 'UTC';
    } catch {
      zone = 'UTC';
    }
    zones.set(timezone, zone);
  }
  return zone;
}

export function streaksTarget(options: {
  client: pg.ClientBase;
  pack: string;
  source: string;
  asOf: Date;
}): WritebackTarget {
  const mirror = quoteTable(mirrorTableName(options.source, 'public', 'user_streaks'));
  return {
    name: 'postgres:user_streaks',
    // Candidates: streaks the application still shows as running (its mirror), with the user's
    // last activity and time zone.
    sql: `SELECT toString(s.user_id) AS natural_key, ifNull(u.timezone, '') AS timezone,
        toString(toUnixTimestamp64Milli(a.last_ts)) AS last_ms
      FROM (SELECT user_id FROM ${mirror} FINAL WHERE _is_deleted = 0 AND current_streak != 0) AS s
      INNER JOIN (SELECT user_id, max(ts) AS last_ts FROM fact_activity WHERE pack = {pack:String} GROUP BY user_id) AS a
        ON a.user_id = toString(s.user_id)
      LEFT JOIN (SELECT user_id, timezone FROM dim_users WHERE pack = {pack:String}) AS u ON u.user_id = a.user_id`,
    valueColumns: ['timezone', 'last_ms'],
    hashed: false,
    // A set-based UPDATE per batch: each statement has a fixed cost (bench:writeback, 1M lapsed rows:
    // 10k-row batches 0.47–0.49 of COPY's rate, 25k 0.51, 50k 0.60–0.63, 100k 0.67). 50k rows hold
    // their row locks for about 0.3 s, and they belong to users inactive for days, whose rows the
    // application is not writing.
    batchRows: 50_000,
    // The next batch's time zones are worked out here while Postgres runs the last one's UPDATE (the
    // client sends the statements one after the other); batches hold disjoint users.
    concurrentWrites: 2,
    async write(rows: TargetRow[]): Promise<WriteResult> {
      const lapsed = lapsedOf(rows, options.asOf);
      if (lapsed.count === 0) return { inserted: 0, updated: 0 };
      const result = await options.client.query(
        `UPDATE user_streaks AS s SET current_streak = 0, updated_at = now() FROM ${LAPSED}`,
        lapsed.params,
      );
      return { inserted: 0, updated: result.rowCount ?? 0 };
    },
    async plan(rows: TargetRow[]): Promise<WriteResult> {
      const lapsed = lapsedOf(rows, options.asOf);
      if (lapsed.count === 0) return { inserted: 0, updated: 0 };
      const result = await options.client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM user_streaks AS s, ${LAPSED}`,
        lapsed.params,
      );
      return { inserted: 0, updated: result.rows[0]?.n ?? 0 };
    },
    async diff(rows: TargetRow[]): Promise<string[]> {
      const lapsed = lapsedOf(rows, options.asOf);
      if (lapsed.count === 0) return [];
      const result = await options.client.query<{
        user_id: string;
        current_streak: number;
        streak_freeze_count: number;
      }>(
        `SELECT s.user_id, s.current_streak, s.streak_freeze_count FROM user_streaks AS s, ${LAPSED}
         ORDER BY s.user_id LIMIT 3`,
        lapsed.params,
      );
      return result.rows.map(
        (row) =>
          `update user_id=${row.user_id}: current_streak: ${row.current_streak} → 0 (freezes ${row.streak_freeze_count})`,
      );
    },
  };
}

/**
 * The live streaks a lapse resets, given each candidate's local gap and last active day ($1–$3):
 * one condition for the write, the dry run's count and its examples. The live row decides too: a
 * freeze it holds allows one more day, and an activity the application recorded after the one we
 * know of means the streak is alive. `s.user_id = ANY($1)` lets Postgres find the batch's rows by
 * their key: joined on the unnest alone, it hashed the whole table for every batch (10k-row
 * batches of a 1M-row table cost 3× the CPU of one UPDATE of every row; with it, about the same).
 */
const LAPSED = `unnest($1::uuid[], $2::int[], $3::date[]) AS v(user_id, gap, last_day)
  WHERE s.user_id = ANY($1::uuid[]) AND s.user_id = v.user_id AND s.current_streak <> 0
    AND v.gap > CASE WHEN s.streak_freeze_count > 0 THEN 2 ELSE 1 END
    AND (s.last_activity_date IS NULL OR s.last_activity_date <= v.last_day + 1)`;

function lapsedOf(rows: TargetRow[], asOf: Date): { count: number; params: [string, string, string] } {
  const ids: string[] = [];
  const gaps: number[] = [];
  const days: string[] = [];
  const gapOf = localGapsAsOf(asOf);
  for (const row of rows) {
    const { lastDay, gap } = gapOf(Number(row.last_ms), String(row.timezone));
    if (gap <= 1) continue;
    ids.push(row.natural_key);
    gaps.push(gap);
    days.push(lastDay);
  }
  return { count: ids.length, params: [arrayLiteral(ids), arrayLiteral(gaps), arrayLiteral(days)] };
}

/**
 * The array parameter as Postgres's text, built as the batch is prepared: the driver quotes and
 * escapes every element itself when it sends the statement (~0.1 s per 100k rows' three arrays),
 * while Postgres, done with the previous batch, waits. The values (uuids, integers, ISO days)
 * need no quoting; anything else is refused rather than sent.
 */
function arrayLiteral(values: readonly (string | number)[]): string {
  // Each value on its own: a comma inside one would make two elements of it.
  const unsafe = values.find((value) => !/^[\w.:-]+$/.test(String(value)));
  if (unsafe !== undefined)
    throw new InvariantError(
      `user_streaks: a value that is not a uuid, integer or day: ${String(unsafe).slice(0, 80)}`,
    );
  return `{${values.join(',')}}`;
}
