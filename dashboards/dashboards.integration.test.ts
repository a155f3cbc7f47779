/// <reference lib="dom" />
// The dashboards in a real browser (Debian's Chromium through playwright-core) over a captured
// learning warehouse: every page loads without a console error and draws real marks, displayed
// numbers equal the warehouse's, a filter changes them to the filtered query's, axe-core finds no
// serious violation, and a screenshot of each page is kept under test-output/dashboards/. The API:
// fuzzed parameters are 400s and never reach a statement (a spy on the warehouse client records
// every statement and its parameters), every route is a 401 without the token, and a non-loopback
// bind without a token refuses to start.
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Document } from 'mongodb';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, testOutputDir, type TestBrowser } from '../test/chromium.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { learningPack } from '../packs/learning/index.ts';
import { runTransforms } from '../transforms/index.ts';
import type { QueryParams, Warehouse } from '../warehouse/index.ts';
import { DashboardsError, startDashboards, type RunningDashboards } from './index.ts';
import { PAGES } from './pages.ts';
import { PANELS } from './panels.ts';

const TOKEN = 'test-token-0123456789';
const OUTPUT = testOutputDir('dashboards');

let data: LearningWarehouse;
let server: RunningDashboards;
let browser: TestBrowser;
const statements: { sql: string; params: QueryParams | undefined }[] = [];

/** The warehouse client, recording every statement the server sends and its bound parameters. */
function spied(warehouse: Warehouse): Warehouse {
  return new Proxy(warehouse, {
    get(target, property, receiver) {
      if (property === 'query' || property === 'command' || property === 'queryBytes')
        return (sql: string, ...rest: unknown[]) => {
          const params = (property === 'queryBytes' ? rest[1] : rest[0]) as QueryParams | undefined;
          statements.push({ sql, params });
          return (target[property] as (...args: unknown[]) => unknown).call(target, sql, ...rest);
        };
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

beforeAll(async () => {
  data = await learningWarehouse({ users: 150, days: 24, seed: 11 });
  await runTransforms({
    warehouse: data.warehouse,
    pack: 'learning',
    mapping: learningPack.mapping(SOURCE),
    full: true,
  });
  server = await startDashboards({
    warehouse: spied(data.warehouse),
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
  });
  browser = await launchChromium();
  await mkdir(OUTPUT, { recursive: true });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await data?.close();
});

const bearer = { authorization: `Bearer ${TOKEN}` };
const api = (path: string, headers: Record<string, string> = bearer) =>
  fetch(`${server.url}${path}`, { headers });

async function signIn(page: Page): Promise<void> {
  await page.goto(`${server.url}/login`);
  await page.fill('#token', TOKEN);
  await Promise.all([page.waitForURL(/\/overview/), page.click('button[type=submit]')]);
}

/** Waits until every panel left its loading state; returns their states. */
async function settled(page: Page): Promise<Record<string, string>> {
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('section.panel')].every(
        (el) => (el as HTMLElement).dataset.state !== 'loading',
      ),
    undefined,
    { timeout: 60_000 },
  );
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('section.panel')].map((el) => [
        (el as HTMLElement).dataset.panel ?? '',
        (el as HTMLElement).dataset.state ?? '',
      ]),
    ),
  );
}

async function lastDay(): Promise<string> {
  const [row] = await data.warehouse.query<{ day: string }>(
    `SELECT toString(max(day)) AS day FROM fact_activity WHERE pack = 'learning'`,
  );
  return row?.day ?? '';
}

/** The text of a panel's table cell: the row whose `keyColumn` cell reads `key`. */
async function cell(
  page: Page,
  panel: string,
  keyColumn: string,
  key: string,
  column: string,
): Promise<string> {
  return page.evaluate(
    ([panel, keyColumn, key, column]) => {
      const rows = [...document.querySelectorAll(`section[data-panel="${panel}"] tbody tr`)];
      const row = rows.find((tr) => tr.querySelector(`td[data-column="${keyColumn}"]`)?.textContent === key);
      return row?.querySelector(`td[data-column="${column}"]`)?.textContent ?? '(missing)';
    },
    [panel, keyColumn, key, column] as const,
  );
}

const users = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 2 });

describe('dashboards in Chromium', () => {
  it('every page loads with no console error, draws real marks and passes axe with no serious violation', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await signIn(page);
    const axe = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const experiment = (
      await data.warehouse.query<{ experiment: string }>(
        `SELECT any(experiment) AS experiment FROM mart_ab_results`,
      )
    )[0]?.experiment;
    const content = (
      await data.warehouse.query<{ id: string }>(
        `SELECT content_id AS id FROM mart_content_performance WHERE pack = 'learning' ORDER BY unique_users DESC LIMIT 1`,
      )
    )[0]?.id;
    for (const entry of PAGES) {
      const query = entry.path === '/content/item' ? `?content=${content}` : '';
      await page.goto(`${server.url}${entry.path}${query}`);
      const states = await settled(page);
      for (const id of entry.panels)
        expect(states[id], `${entry.path} ${id}`).toMatch(
          id === 'health.dead_letters' ? /ready|empty/ : /ready/,
        );
      // Real marks: each drawn chart's SVG holds paths (lines, bars, heatmap cells).
      const marks = await page.evaluate(() =>
        [...document.querySelectorAll('section.panel[data-state="ready"] .chart')].map(
          (el) => el.querySelectorAll('svg path, svg rect').length,
        ),
      );
      expect(marks.length, entry.path).toBeGreaterThan(0);
      for (const count of marks) expect(count, entry.path).toBeGreaterThan(5);
      await page.screenshot({
        path: join(OUTPUT, `${entry.path.slice(1).replace('/', '-')}.png`),
        fullPage: true,
      });
      await page.addScriptTag({ content: axe });
      const violations = await page.evaluate(async () => {
        const result = await (
          window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }
        ).axe.run();
        return result.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => v.id);
      });
      expect(violations, entry.path).toEqual([]);
    }
    expect(experiment).toBeDefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows the warehouse's own numbers: the last day's DAU and a variant's n", async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    const day = await lastDay();
    const [dau] = await data.warehouse.query<{ dau: string }>(
      `SELECT uniqExact(user_id) AS dau FROM fact_activity WHERE pack = 'learning' AND day = {day:Date}`,
      { day },
    );
    await page.goto(`${server.url}/overview`);
    await settled(page);
    expect(await cell(page, 'overview.active', 'day', day, 'dau')).toBe(users(Number(dau?.dau)));

    const [variant] = await data.warehouse.query<{
      experiment: string;
      metric: string;
      variant: string;
      n: string;
    }>(
      `SELECT experiment, metric, variant, toString(n) AS n FROM mart_ab_results
       WHERE pack = 'learning' AND variant = 'treatment' ORDER BY experiment, metric LIMIT 1`,
    );
    expect(variant).toBeDefined();
    await page.goto(`${server.url}/experiments?experiment=${variant?.experiment}`);
    await settled(page);
    const shown = await page.evaluate(
      ([metric]) =>
        [...document.querySelectorAll('section[data-panel="experiments.results"] tbody tr')]
          .filter(
            (tr) =>
              tr.querySelector('td[data-column="metric"]')?.textContent === metric &&
              tr.querySelector('td[data-column="variant"]')?.textContent === 'treatment',
          )
          .map((tr) => tr.querySelector('td[data-column="n"]')?.textContent),
      [variant?.metric] as const,
    );
    expect(shown).toEqual([users(Number(variant?.n))]);
    await page.close();
  });

  it("changing the country filter changes the numbers to the filtered query's", async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    const day = await lastDay();
    const [country] = await data.warehouse.query<{ country: string }>(
      `SELECT u.country AS country FROM fact_activity AS f JOIN dim_users AS u ON u.user_id = f.user_id AND u.pack = f.pack
       WHERE f.pack = 'learning' AND u.country != '' AND f.day = {day:Date}
       GROUP BY u.country ORDER BY uniqExact(f.user_id) DESC LIMIT 1`,
      { day },
    );
    expect(country).toBeDefined();
    // Independent of the bitmaps the panel reads: distinct users from the facts, joined to the users.
    const [expected] = await data.warehouse.query<{ dau: string; mau: string; all: string }>(
      `SELECT uniqExactIf(f.user_id, f.day = {day:Date}) AS dau, uniqExact(f.user_id) AS mau,
         (SELECT uniqExact(user_id) FROM fact_activity WHERE pack = 'learning' AND day = {day:Date}) AS all
       FROM fact_activity AS f JOIN dim_users AS u ON u.user_id = f.user_id AND u.pack = f.pack
       WHERE f.pack = 'learning' AND u.country = {country:String} AND f.day BETWEEN toDate({day:Date}) - 27 AND {day:Date}`,
      { day, country: country?.country },
    );
    await page.goto(`${server.url}/overview`);
    await settled(page);
    await page.selectOption('#f-country', country?.country ?? '');
    await Promise.all([page.waitForURL(/country=/), page.click('form.filters button[type=submit]')]);
    await settled(page);
    expect(page.url()).toContain(`country=${country?.country}`);
    expect(await cell(page, 'overview.active', 'day', day, 'dau')).toBe(users(Number(expected?.dau)));
    expect(await cell(page, 'overview.active', 'day', day, 'mau')).toBe(users(Number(expected?.mau)));
    // Not vacuous: the filter narrowed the day's users.
    expect(Number(expected?.dau)).toBeLessThan(Number(expected?.all));
    await page.close();
  });
  it("the signup-cohort filter narrows daily signup retention to the filtered query's; other pages say it does not apply", async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    const [range] = await data.warehouse.query<{ first: string; last: string; months: string[] }>(
      `SELECT toString(min(cohort_start)) AS first, toString(max(cohort_start)) AS last,
         arraySort(groupUniqArray(formatDateTime(cohort_start, '%Y-%m'))) AS months
       FROM mart_retention WHERE pack = 'learning' AND cohort_kind = 'signup' AND grain = 'day' AND cohort_size > 0`,
    );
    // Not vacuous: the cohorts span more than one month, so the filter leaves some out.
    expect(range?.months.length).toBeGreaterThan(1);
    const month = range?.months.at(-1) ?? '';
    // Independent of the mart: users who signed up in the month, and those of them active the next day.
    const dayOne = (filtered: boolean) =>
      data.warehouse.query<{ users: string; retained: string }>(
        `SELECT count() AS users,
           countIf((user_id, toDate(signup_at) + 1) IN (SELECT user_id, day FROM fact_activity WHERE pack = 'learning')) AS retained
         FROM dim_users WHERE pack = 'learning' AND toDate(signup_at) BETWEEN {first:Date} AND {last:Date}
           AND toDate(signup_at) + 1 <= (SELECT max(day) FROM fact_activity WHERE pack = 'learning')
           AND (NOT {filtered:Bool} OR formatDateTime(signup_at, '%Y-%m') = {month:String})`,
        { first: range?.first, last: range?.last, month, filtered },
      );
    const [all] = await dayOne(false);
    const [expected] = await dayOne(true);
    await page.goto(`${server.url}/retention?kind=signup&grain=day&from=${range?.first}&to=${range?.last}`);
    await settled(page);
    expect(await cell(page, 'retention.curve', 'period', '1', 'users')).toBe(users(Number(all?.users)));
    await page.selectOption('#f-cohort', month);
    await Promise.all([page.waitForURL(/cohort=/), page.click('form.filters button[type=submit]')]);
    await settled(page);
    expect(page.url()).toContain(`cohort=${month}`);
    expect(await cell(page, 'retention.curve', 'period', '1', 'users')).toBe(users(Number(expected?.users)));
    expect(await cell(page, 'retention.curve', 'period', '1', 'rate')).toBe(
      `${((Number(expected?.retained) / Number(expected?.users)) * 100).toFixed(1)}%`,
    );
    expect(Number(expected?.users)).toBeLessThan(Number(all?.users));
    expect(await page.locator('section[data-panel="retention.curve"] .note').count()).toBe(0);
    // Weekly cohorts straddle months: the page says the filter does not narrow them.
    await page.goto(`${server.url}/retention?kind=signup&grain=week&cohort=${month}`);
    await settled(page);
    expect(await page.locator('section[data-panel="retention.curve"] .note').textContent()).toBe(
      'The signup cohort filter does not narrow this panel.',
    );
    // The other way round: the daily cohorts narrow by signup month but not by country or platform.
    await page.goto(`${server.url}/retention?kind=signup&grain=day&cohort=${month}&country=VN&platform=ios`);
    await settled(page);
    expect(await page.locator('section[data-panel="retention.curve"] .note').textContent()).toBe(
      'The country and platform filters do not narrow this panel.',
    );
    // The Content page narrows by every segment: no note.
    await page.goto(`${server.url}/content?cohort=${month}&country=VN&platform=ios`);
    await settled(page);
    expect(await page.locator('section[data-panel="content.leaderboard"] .note').count()).toBe(0);
    await page.close();
  });

  it("the platform filter: a select of the warehouse's platforms, and the Content leaderboard and item narrowed to the filtered query's", async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    const [range] = await data.warehouse.query<{ first: string; last: string }>(
      `SELECT toString(min(day)) AS first, toString(max(day)) AS last FROM fact_activity WHERE pack = 'learning'`,
    );
    const platforms = (
      await data.warehouse.query<{ platform: string }>(
        `SELECT DISTINCT platform FROM dim_users WHERE pack = 'learning' AND platform != '' ORDER BY platform`,
      )
    ).map((row) => row.platform);
    // Not vacuous: there is a choice to make.
    expect(platforms.length).toBeGreaterThan(1);
    await page.goto(`${server.url}/content?from=${range?.first}&to=${range?.last}`);
    await settled(page);
    expect(
      await page
        .locator('#f-platform option')
        .evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value)),
    ).toEqual(['', ...platforms]);
    // The platform's most used item: user-days (distinct users per day) straight from the facts,
    // not from the per-day user arrays the panel builds.
    const platform = platforms[0] ?? '';
    const itemUserDays = (filtered: boolean) =>
      data.warehouse.query<{ content_id: string; user_days: string }>(
        `SELECT f.content_id AS content_id, toString(uniqExact(f.user_id, f.day)) AS user_days
         FROM fact_activity AS f LEFT JOIN (SELECT user_id, platform FROM dim_users WHERE pack = 'learning') AS u
           ON u.user_id = f.user_id
         WHERE f.pack = 'learning' AND f.content_id != '' AND (NOT {filtered:Bool} OR u.platform = {platform:String})
         GROUP BY content_id ORDER BY uniqExact(f.user_id, f.day) DESC, content_id LIMIT 1`,
        { platform, filtered },
      );
    const [top] = await itemUserDays(true);
    expect(top).toBeDefined();
    const item = top?.content_id ?? '';
    const [everyone] = await data.warehouse.query<{ user_days: string }>(
      `SELECT toString(uniqExact(user_id, day)) AS user_days FROM fact_activity
       WHERE pack = 'learning' AND content_id = {item:String}`,
      { item },
    );
    await page.selectOption('#f-platform', platform);
    await Promise.all([page.waitForURL(/platform=/), page.click('form.filters button[type=submit]')]);
    await settled(page);
    expect(page.url()).toContain(`platform=${platform}`);
    expect(await cell(page, 'content.leaderboard', 'content_id', item, 'user_days')).toBe(
      users(Number(top?.user_days)),
    );
    // Not vacuous: the item's other platforms' users are left out.
    expect(Number(top?.user_days)).toBeLessThan(Number(everyone?.user_days));
    // The links keep the filter: the Overview narrows to the platform too.
    expect(await page.locator('nav a[href^="/overview"]').getAttribute('href')).toContain(
      `platform=${platform}`,
    );
    // The item's own page: each day's users of the platform.
    const daily = await data.warehouse.query<{ day: string; users: string }>(
      `SELECT toString(f.day) AS day, toString(uniqExact(f.user_id)) AS users
       FROM fact_activity AS f JOIN dim_users AS u ON u.user_id = f.user_id AND u.pack = f.pack
       WHERE f.pack = 'learning' AND f.content_id = {item:String} AND u.platform = {platform:String}
       GROUP BY f.day ORDER BY f.day`,
      { item, platform },
    );
    await page.goto(
      `${server.url}/content/item?content=${item}&platform=${platform}&from=${range?.first}&to=${range?.last}`,
    );
    await settled(page);
    expect(await page.locator('#f-platform').inputValue()).toBe(platform);
    expect(daily.length).toBeGreaterThan(0);
    for (const { day, users: count } of daily)
      expect(await cell(page, 'content.trend', 'day', day, 'unique_users'), day).toBe(users(Number(count)));
    await page.screenshot({ path: join(OUTPUT, 'content-platform.png'), fullPage: true });
    await page.close();
  });
});

describe('panel states', () => {
  it('an item without data shows the empty state; a failing API call shows the error state', async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    await page.goto(`${server.url}/content/item?content=no-such-item`);
    expect(await settled(page)).toEqual({ 'content.trend': 'empty' });
    expect(await page.textContent('section[data-panel="content.trend"] .status')).toBe(
      'No data for these filters.',
    );
    // The browser sees a server error for one panel; the others still draw.
    await page.route('**/api/panels/overview.active?*', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: '{"error":"internal","message":"engine gone"}',
      }),
    );
    await page.goto(`${server.url}/overview?pack=learning`);
    const states = await settled(page);
    expect(states['overview.active']).toBe('error');
    expect(states['overview.summary']).toBe('ready');
    expect(await page.textContent('section[data-panel="overview.active"] .status')).toContain('engine gone');
    await page.close();
  });
});

describe('dashboards API', () => {
  it("a panel's CSV holds exactly the rows its JSON shows", async () => {
    for (const panel of ['overview.active', 'content.leaderboard', 'experiments.results']) {
      const json = (await (await api(`/api/panels/${panel}`)).json()) as {
        rows: Record<string, unknown>[];
        panel: { columns: { name: string }[] };
      };
      const csv = await (await api(`/api/panels/${panel}/csv`)).text();
      const lines = csv.trimEnd().split('\r\n');
      expect(lines[0]).toBe(json.panel.columns.map((column) => column.name).join(','));
      expect(lines.length - 1).toBe(json.rows.length);
      expect(json.rows.length).toBeGreaterThan(0);
      const firstNumber = json.panel.columns.find(
        (column) => typeof json.rows[0]?.[column.name] === 'number',
      );
      if (firstNumber) {
        const index = json.panel.columns.indexOf(firstNumber);
        expect(Number(parseCsvLine(lines[1] ?? '')[index])).toBe(json.rows[0]?.[firstNumber.name]);
      }
    }
  });

  it("new users per day are dim_users' signups, whole and narrowed to a country (the panel reads agg_daily_segments)", async () => {
    const [range] = await data.warehouse.query<{ from: string; to: string; country: string }>(
      `SELECT toString(min(toDate(signup_at))) AS from, toString(max(toDate(signup_at))) AS to,
         (SELECT country FROM dim_users WHERE pack = 'learning' AND country != ''
          GROUP BY country ORDER BY count() DESC, country LIMIT 1) AS country
       FROM dim_users WHERE pack = 'learning'`,
    );
    for (const country of ['', range?.country ?? '']) {
      const expected = await data.warehouse.query<{ day: string; users: string }>(
        `SELECT toString(toDate(signup_at)) AS day, count() AS users FROM dim_users
         WHERE pack = 'learning' AND ({country:String} = '' OR country = {country:String})
         GROUP BY day ORDER BY day`,
        { country },
      );
      const query = new URLSearchParams({ from: range?.from ?? '', to: range?.to ?? '', country });
      const json = (await (await api(`/api/panels/overview.new_users?${query.toString()}`)).json()) as {
        rows: { day: string; new_users: number }[];
      };
      expect(json.rows.filter((row) => row.new_users > 0)).toEqual(
        expected.map((row) => ({ day: row.day, new_users: Number(row.users) })),
      );
    }
  });

  it("the experiments narrowed to a country: each variant's n is that country's users whose window is over", async () => {
    const [country] = await data.warehouse.query<{ country: string }>(
      `SELECT u.country AS country FROM fact_exposures AS e JOIN dim_users AS u ON u.user_id = e.user_id AND u.pack = e.pack
       WHERE e.pack = 'learning' AND u.country != '' GROUP BY u.country ORDER BY count() DESC, country LIMIT 1`,
    );
    expect(country).toBeDefined();
    // Counted from the exposures and the users, not from the per-user aggregate the panel reads.
    const expected = await data.warehouse.query<{ experiment: string; variant: string; n: string }>(
      `WITH (SELECT max(ts) FROM fact_activity WHERE pack = 'learning') AS end
       SELECT e.experiment AS experiment, e.variant AS variant, toString(uniqExact(e.user_id)) AS n
       FROM fact_exposures AS e JOIN dim_users AS u ON u.user_id = e.user_id AND u.pack = e.pack
       WHERE e.pack = 'learning' AND u.country = {country:String} AND e.first_exposed_at + INTERVAL 7 DAY <= end
       GROUP BY experiment, variant ORDER BY experiment, variant`,
      { country: country?.country ?? '' },
    );
    const narrowed = (await (
      await api(`/api/panels/experiments.results?country=${country?.country}`)
    ).json()) as { rows: { experiment: string; variant: string; metric: string; n: number }[] };
    const everyone = (await (await api('/api/panels/experiments.results')).json()) as {
      rows: { n: number }[];
    };
    const firstMetric = narrowed.rows[0]?.metric;
    const byVariant = (
      a: { experiment: string; variant: string },
      b: { experiment: string; variant: string },
    ) => `${a.experiment}|${a.variant}`.localeCompare(`${b.experiment}|${b.variant}`);
    expect(
      narrowed.rows
        .filter((row) => row.metric === firstMetric)
        .map((row) => ({ experiment: row.experiment, variant: row.variant, n: String(row.n) }))
        .sort(byVariant),
    ).toEqual(expected.sort(byVariant));
    const total = (rows: { n: number }[]) => rows.reduce((sum, row) => sum + Number(row.n), 0);
    expect(total(narrowed.rows)).toBeLessThan(total(everyone.rows));
  });

  it('fuzzed parameters are 400s with the reason, and no statement is built from them', async () => {
    const hostile = [
      "' OR 1=1 --",
      "learning'); DROP TABLE mart_dau; --",
      '{pack:String}',
      '`system`.`users`',
      '1 UNION SELECT * FROM system.users',
      '\\\u0000\u202e',
      'é'.repeat(300),
      'x'.repeat(6000),
      '<script>alert(1)</script>',
    ];
    const parameters = [
      'pack',
      'from',
      'to',
      'country',
      'platform',
      'cohort',
      'grain',
      'kind',
      'curve',
      'experiment',
      'content',
    ];
    statements.length = 0;
    let requests = 0;
    for (const parameter of parameters)
      for (const value of hostile) {
        for (const panel of ['overview.active', 'experiments.results']) {
          const response = await api(`/api/panels/${panel}?${parameter}=${encodeURIComponent(value)}`);
          requests++;
          expect(response.status, `${parameter}=${value.slice(0, 40)}`).toBe(400);
          expect(((await response.json()) as { message: string }).message).toContain(parameter);
        }
      }
    // Wrong types: a repeated parameter is an array; an unknown one is refused too; impossible days.
    for (const query of [
      'from=2024-13-45',
      'to=99999-01-01',
      'from=-1',
      'grain=NaN',
      'kind=1',
      'pack=a&pack=b',
      'from=2024-01-01&from=2024-01-02',
      'limit=10',
      'pack[]=x',
      'from=2024-02-01&to=2024-01-01',
    ]) {
      const response = await api(`/api/panels/overview.active?${query}`);
      requests++;
      expect(response.status, query).toBe(400);
    }
    expect(requests).toBeGreaterThan(150);
    const leaked = statements.filter(({ sql, params }) =>
      hostile.some(
        (value) =>
          value.length > 3 &&
          (sql.includes(value) || JSON.stringify(params ?? {}).includes(JSON.stringify(value).slice(1, -1))),
      ),
    );
    expect(leaked).toEqual([]);
    // The spy sees statements at all: a valid request reaches the warehouse with bound parameters.
    statements.length = 0;
    expect((await api('/api/panels/overview.active?country=ZZ&from=2020-01-01&to=2020-01-02')).status).toBe(
      200,
    );
    expect(statements.some(({ params }) => params?.country === 'ZZ')).toBe(true);
    expect(statements.every(({ sql }) => !sql.includes("'ZZ'"))).toBe(true);
  });

  it('every route is a 401 without the token (or with a wrong one)', async () => {
    const routes = [
      '/',
      ...PAGES.map((page) => page.path),
      ...PANELS.flatMap((panel) => [`/api/panels/${panel.id}`, `/api/panels/${panel.id}/csv`]),
      '/api/filters',
      '/assets/echarts.js',
      '/assets/app.js',
      '/healthz',
    ];
    for (const route of routes) {
      expect((await api(route, {})).status, route).toBe(401);
      expect((await api(route, { authorization: 'Bearer wrong-token-000' })).status, route).toBe(401);
      expect((await api(route, { cookie: 'tributary_token=wrong-token-000' })).status, route).toBe(401);
    }
    expect((await api('/api/panels/overview.active')).status).toBe(200);
  });

  it('refuses a non-loopback bind without a token, with a one-line reason', async () => {
    const attempt = startDashboards({ warehouse: data.warehouse, host: '0.0.0.0', port: 0 });
    await expect(attempt).rejects.toBeInstanceOf(DashboardsError);
    await expect(attempt).rejects.toThrow(
      /^dashboards: refusing to listen on 0\.0\.0\.0 without a token[^\n]*$/,
    );
  });
});

// Last: it changes an experiment's configured split, so it runs after every test of the data as built.
describe('sample-ratio mismatch', () => {
  it('an experiment whose exposures are off its configured split shows the red SRM banner', async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    const [experiment] = await data.warehouse.query<{ experiment: string; flagged: number }>(
      `SELECT experiment, max(srm_flag) AS flagged FROM mart_ab_results WHERE pack = 'learning'
       GROUP BY experiment ORDER BY experiment LIMIT 1`,
    );
    expect(Number(experiment?.flagged)).toBe(0);
    const name = experiment?.experiment ?? '';
    await page.goto(`${server.url}/experiments?experiment=${name}`);
    await settled(page);
    expect(await page.locator('.banner').isHidden()).toBe(true);
    // The users were split evenly; the configuration now says 90% control.
    const configs = data.mongoClient.db(data.mongoDatabase).collection<Document>('experiments');
    const config = await configs.findOne({ experiment_name: name });
    const variants = (config?.variants as Document[]).map((variant) => ({
      ...variant,
      configured_share:
        variant.name === 'control' ? 0.9 : 0.1 / ((config?.variants as Document[]).length - 1),
    }));
    await configs.updateOne({ _id: config?._id }, { $set: { variants } });
    await data.capture();
    await runTransforms({
      warehouse: data.warehouse,
      pack: 'learning',
      mapping: learningPack.mapping(SOURCE),
    });
    const [after] = await data.warehouse.query<{ flagged: number; p: number }>(
      `SELECT max(srm_flag) AS flagged, min(srm_p_value) AS p FROM mart_ab_results
       WHERE pack = 'learning' AND experiment = {name:String}`,
      { name },
    );
    expect(Number(after?.flagged)).toBe(1);
    await page.goto(`${server.url}/experiments?experiment=${name}`);
    await settled(page);
    const banner = page.locator('.banner[role=alert]');
    expect(await banner.isVisible()).toBe(true);
    expect(await banner.textContent()).toContain(`Sample-ratio mismatch in ${name}`);
    // Red (#a40000), white text.
    expect(
      await banner.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]),
    ).toEqual(['rgb(164, 0, 0)', 'rgb(255, 255, 255)']);
    await page.screenshot({ path: join(OUTPUT, 'experiments-srm.png'), fullPage: true });
    await page.close();
  });
});

function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        current += '"';
        index++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      cells.push(current);
      current = '';
    } else current += char;
  }
  cells.push(current);
  return cells;
}
