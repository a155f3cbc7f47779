// A segment's DAU, WAU and MAU from agg_daily_segments' counts (returning_users) equal its distinct
// users over each window, counted here from the user-days themselves, for users whose gaps between
// active days fall on either side of the 7- and 28-day windows; and stay equal after a day in the
// middle changes and only the days it reaches are recomputed.
import { describe, expect, it } from 'vitest';
import { filtersSchema, panelById, shiftDay, type Row } from '../../dashboards/index.ts';
import { useScratchWarehouse } from '../../test/scratch-warehouse.ts';
import { recomputeDailySegments } from './daily-segments.ts';

const warehouse = useScratchWarehouse('daily-segments');
const PACK = 'segments';
const FIRST = '2026-03-01';
const DAYS = 75;
const USERS = 48;
/** Gaps between a user's active days, cycled per user: around 7 and 28 days, and more. */
const GAPS = [1, 2, 5, 6, 7, 8, 13, 20, 26, 27, 28, 29, 40];

function userDays(): { user: number; day: string }[] {
  const rows: { user: number; day: string }[] = [];
  for (let user = 1; user <= USERS; user++) {
    let offset = user % 9;
    for (let step = user; offset < DAYS; step++) {
      rows.push({ user, day: shiftDay(FIRST, offset) });
      offset += GAPS[step % GAPS.length] ?? 1;
    }
  }
  return rows;
}

/** The segment's distinct users per day and window, counted from mart_daily_user_metrics. */
async function expectedWindows(country: string): Promise<Row[]> {
  return warehouse().query<Row>(
    `SELECT toString(target) AS day,
       toUInt32(uniqExactIf(m.user_id, in_segment AND m.day = target)) AS dau,
       toUInt32(uniqExactIf(m.user_id, in_segment AND m.day > target - 7)) AS wau,
       toUInt32(uniqExactIf(m.user_id, in_segment)) AS mau,
       if(mau = 0, NULL, dau / mau) AS stickiness
     FROM (SELECT toDate({first:Date}) + number AS target FROM numbers({days:UInt32})) AS targets
     CROSS JOIN (SELECT day, user_id,
                   user_id IN (SELECT user_id FROM dim_users WHERE pack = {pack:String} AND country = {country:String}) AS in_segment
                 FROM mart_daily_user_metrics WHERE pack = {pack:String}) AS m
     -- Every day with anyone active in its window, as the panel (and mart_dau) lists days.
     WHERE m.day BETWEEN target - 27 AND target
     GROUP BY target ORDER BY target`,
    { pack: PACK, first: FIRST, days: DAYS, country },
  );
}

async function shown(country: string): Promise<Row[]> {
  const panel = panelById('overview.active');
  if (!panel) throw new Error('no active-users panel');
  return panel.query(warehouse(), {
    ...filtersSchema.parse({ pack: PACK, country }),
    from: FIRST,
    to: shiftDay(FIRST, DAYS - 1),
  });
}

/** The bitmaps the panel reads for its days, rebuilt from the user-days as the transforms do. */
async function rebuildActiveUsers(): Promise<void> {
  await warehouse().command(`TRUNCATE TABLE agg_daily_active_users`);
  await warehouse().command(
    `INSERT INTO agg_daily_active_users SETTINGS max_partitions_per_insert_block = 0
     SELECT pack, day, groupBitmapState(toUInt32(substring(user_id, 2))) FROM mart_daily_user_metrics
     WHERE pack = {pack:String} GROUP BY pack, day`,
    { pack: PACK },
  );
}

describe("a segment's active users from agg_daily_segments", () => {
  it('equal its distinct users per day, 7 and 28 days, with gaps around both windows, also after an incremental run', async () => {
    await warehouse().insert(
      'dim_users',
      Array.from({ length: USERS }, (_, index) => ({
        user_id: `u${index + 1}`,
        user_key: index + 1,
        pack: PACK,
        signup_at: `${FIRST} 00:00:00.000`,
        country: index % 3 === 0 ? 'B' : 'A',
      })),
    );
    const rows = userDays();
    await warehouse().insert(
      'mart_daily_user_metrics',
      rows.map(({ user, day }) => ({ pack: PACK, day, user_id: `u${user}`, events: 1 + (user % 4) })),
    );
    await rebuildActiveUsers();
    await recomputeDailySegments(warehouse(), PACK, 'all');
    for (const country of ['A', 'B']) expect(await shown(country)).toEqual(await expectedWindows(country));
    // Not vacuous: on some day the three windows differ.
    const a = await shown('A');
    expect(a.some((row) => Number(row.dau) < Number(row.wau) && Number(row.wau) < Number(row.mau))).toBe(
      true,
    );

    // A day in the middle changes: some users gain it, some lose it. The incremental run names that
    // day only; the 27 after it are the recompute's to find.
    const changed = shiftDay(FIRST, 30);
    await warehouse().command(
      `DELETE FROM mart_daily_user_metrics WHERE pack = {pack:String} AND day = {day:Date} AND user_id IN ('u3', 'u4', 'u5', 'u6')`,
      { pack: PACK, day: changed },
    );
    await warehouse().insert(
      'mart_daily_user_metrics',
      ['u10', 'u11', 'u12', 'u13', 'u14']
        .filter((user) => !rows.some((row) => `u${row.user}` === user && row.day === changed))
        .map((user) => ({ pack: PACK, day: changed, user_id: user, events: 2 })),
    );
    await rebuildActiveUsers();
    await recomputeDailySegments(warehouse(), PACK, [changed]);
    for (const country of ['A', 'B']) expect(await shown(country)).toEqual(await expectedWindows(country));
    const incremental = await segmentRows();
    await recomputeDailySegments(warehouse(), PACK, 'all');
    expect(incremental).toEqual(await segmentRows());
  });
});

const segmentRows = () =>
  warehouse().query<Row>(
    `SELECT toString(day) AS day, country, active_users, events, toString(returning_users) AS returning
     FROM agg_daily_segments WHERE pack = {pack:String} ORDER BY day, country`,
    { pack: PACK },
  );
