/// <reference lib="dom" />
// Reports over a captured learning warehouse: the HTML opens in Chromium with its charts drawn,
// each CSV equals its mart query, a second run on unchanged data gives the same files but for the
// generation line, e-mail reaches a local SMTP server (smtp-server, started here) with the
// attachments, and a failing webhook is retried and every attempt recorded.
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, testOutputDir } from '../test/chromium.ts';
import { learningWarehouse, SOURCE, type LearningWarehouse } from '../test/learning-warehouse.ts';
import { scratchDir } from '../test/scratch.ts';
import { learningPack } from '../packs/learning/index.ts';
import { runTransforms } from '../transforms/index.ts';
import { runReport, type ReportResult } from './index.ts';

let data: LearningWarehouse;
let out: string;
let report: ReportResult;
let asOf: string;

beforeAll(async () => {
  data = await learningWarehouse({ users: 120, days: 22, seed: 7 });
  await runTransforms({
    warehouse: data.warehouse,
    pack: 'learning',
    mapping: learningPack.mapping(SOURCE),
    full: true,
  });
  out = await scratchDir('reports');
  const [row] = await data.warehouse.query<{ day: string }>(
    `SELECT toString(max(day)) AS day FROM fact_activity WHERE pack = 'learning'`,
  );
  asOf = row?.day ?? '';
  report = await runReport({
    warehouse: data.warehouse,
    pack: 'learning',
    period: 'weekly',
    asOf,
    outDir: join(out, 'first'),
    now: () => new Date('2030-01-01T00:00:00Z'),
  });
}, 600_000);

afterAll(async () => {
  await data?.close();
});

function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      index++;
    } else cell += char;
  }
  const [header = [], ...body] = rows;
  return body.map((cells) => Object.fromEntries(header.map((name, index) => [name, cells[index] ?? ''])));
}

const csv = async (name: string) => parseCsv(await readFile(join(report.dir, name), 'utf8'));

describe('reports', () => {
  it('writes report.html and a CSV per table under DIR/<pack>/<period>/', async () => {
    expect(report.dir).toBe(join(out, 'first', 'learning', `weekly-${report.period.first}_${asOf}`));
    const files = (await readdir(report.dir)).sort();
    expect(files).toEqual([...report.files].sort());
    expect(files).toContain('report.html');
    expect(files.filter((file) => file.endsWith('.csv')).length).toBeGreaterThanOrEqual(7);
    const html = await readFile(join(report.dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });

  it('opens in Chromium with every chart drawn', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      // No network: the report must stand alone.
      await page.route('**/*', (route) =>
        route.request().url().startsWith('file:') ? route.continue() : route.abort(),
      );
      await page.goto(pathToFileURL(join(report.dir, 'report.html')).toString());
      const marks = await page.evaluate(() =>
        [...document.querySelectorAll('figure svg')].map((svg) => ({
          paths: svg.querySelectorAll('path').length,
          width: svg.getBoundingClientRect().width,
        })),
      );
      expect(marks.length).toBeGreaterThanOrEqual(3);
      for (const chart of marks) {
        expect(chart.paths).toBeGreaterThan(5);
        expect(chart.width).toBeGreaterThan(100);
      }
      const output = testOutputDir('reports');
      await mkdir(output, { recursive: true });
      await page.screenshot({ path: join(output, 'weekly-report.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('each CSV equals its mart query', async () => {
    const active = await csv('overview-active.csv');
    const dau = await data.warehouse.query<Record<string, string | number>>(
      `SELECT toString(day) AS d, dau, wau, mau, stickiness FROM mart_dau
       WHERE pack = 'learning' AND day BETWEEN toDate({asOf:Date}) - 27 AND {asOf:Date} ORDER BY d`,
      { asOf },
    );
    expect(
      active.map((row) => [
        row.day,
        Number(row.dau),
        Number(row.wau),
        Number(row.mau),
        Number(row.stickiness),
      ]),
    ).toEqual(
      dau.map((row) => [row.d, Number(row.dau), Number(row.wau), Number(row.mau), Number(row.stickiness)]),
    );
    expect(active.length).toBeGreaterThan(7);

    const experiments = await csv('experiments-results.csv');
    const ab = await data.warehouse.query<Record<string, string | number | null>>(
      `SELECT experiment, metric, variant, n, mean, p_value, msprt_p_value, decision FROM mart_ab_results
       WHERE pack = 'learning' ORDER BY experiment, metric, variant = 'control' DESC, variant`,
    );
    expect(
      experiments.map((row) => [
        row.experiment,
        row.metric,
        row.variant,
        Number(row.n),
        Number(row.mean),
        row.p_value,
        row.decision,
      ]),
    ).toEqual(
      ab.map((row) => [
        row.experiment,
        row.metric,
        row.variant,
        Number(row.n),
        Number(row.mean),
        row.p_value === null ? '' : String(row.p_value),
        row.decision,
      ]),
    );
    expect(experiments.length).toBeGreaterThan(0);

    // Top content: user-days and the completion rate from the mart's own counts over the period.
    const [top] = await csv('content-top.csv');
    const [expected] = await data.warehouse.query<{ user_days: string; completion_rate: number | null }>(
      `SELECT sum(unique_users) AS user_days, sum(completers) / sum(starters) AS completion_rate
       FROM mart_content_performance WHERE pack = 'learning' AND content_id = {id:String}
         AND day BETWEEN {first:Date} AND {last:Date}`,
      { id: top?.content_id, first: report.period.first, last: asOf },
    );
    expect(Number(top?.user_days)).toBe(Number(expected?.user_days));
    expect(Number(top?.completion_rate)).toBeCloseTo(Number(expected?.completion_rate), 12);

    for (const file of report.files.filter((name) => name.endsWith('.csv'))) {
      const text = await readFile(join(report.dir, file), 'utf8');
      expect(text.endsWith('\r\n'), file).toBe(true);
      const rows = parseCsv(text);
      const width = text.split('\r\n')[0]?.split(',').length;
      for (const row of rows) expect(Object.keys(row).length, file).toBe(width);
    }
  });

  it('is reproducible: a second run on unchanged data differs only in the generation line', async () => {
    const again = await runReport({
      warehouse: data.warehouse,
      pack: 'learning',
      period: 'weekly',
      asOf,
      outDir: join(out, 'second'),
      now: () => new Date('2031-06-15T12:00:00Z'),
    });
    for (const file of report.files) {
      const [first, second] = await Promise.all([
        readFile(join(report.dir, file), 'utf8'),
        readFile(join(again.dir, file), 'utf8'),
      ]);
      const withoutHeader = (text: string) => text.replace(/^.*data-generated.*$/m, '');
      expect(withoutHeader(second), file).toBe(withoutHeader(first));
      if (file === 'report.html') expect(second).not.toBe(first);
    }
  });

  it('e-mails the report with its attachments through a local SMTP server', async () => {
    const received: { from: string; to: string[]; raw: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((entry) => entry.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = smtp.server.address() as AddressInfo;
      const result = await runReport({
        warehouse: data.warehouse,
        pack: 'learning',
        period: 'daily',
        asOf,
        outDir: join(out, 'mail'),
        email: {
          smtpUrl: `smtp://127.0.0.1:${port}`,
          from: 'reports@tributary.test',
          to: ['pm@tributary.test', 'lead@tributary.test'],
          retry: { attempts: 2, backoffMs: 10 },
        },
      });
      expect(result.deliveries).toMatchObject([{ channel: 'email', delivered: true }]);
      expect(received).toHaveLength(1);
      expect(received[0]?.to.sort()).toEqual(['lead@tributary.test', 'pm@tributary.test']);
      const raw = received[0]?.raw ?? '';
      for (const file of result.files)
        expect(raw, file).toMatch(
          new RegExp(`Content-Disposition: attachment;\\s+filename=${file.replace('.', '\\.')}`),
        );
      expect(raw).toContain(`Subject: learning daily report ${asOf}`);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });

  it('retries a failing webhook, records every attempt, and never loses the report files', async () => {
    const bodies: unknown[] = [];
    let calls = 0;
    const server: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        calls++;
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        response.writeHead(calls <= 2 ? 503 : 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const flaky = await runReport({
        warehouse: data.warehouse,
        pack: 'learning',
        period: 'daily',
        asOf,
        outDir: join(out, 'webhook'),
        webhook: { url: `http://127.0.0.1:${port}/hook`, retry: { attempts: 4, backoffMs: 10 } },
        dashboardsUrl: 'http://127.0.0.1:8080',
      });
      expect(flaky.deliveries[0]?.attempts.map((attempt) => attempt.ok)).toEqual([false, false, true]);
      expect(flaky.deliveries[0]?.attempts[0]?.error).toContain('503');
      expect(bodies[2]).toMatchObject({
        pack: 'learning',
        period: 'daily',
        last: asOf,
        links: { dashboards: expect.stringContaining('/overview') },
      });

      // A webhook that never answers: every attempt fails, the files are there all the same.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const failing = await runReport({
        warehouse: data.warehouse,
        pack: 'learning',
        period: 'weekly',
        asOf,
        outDir: join(out, 'webhook-down'),
        webhook: { url: `http://127.0.0.1:${port}/hook`, retry: { attempts: 3, backoffMs: 10 } },
      });
      expect(failing.deliveries[0]?.delivered).toBe(false);
      expect(failing.deliveries[0]?.attempts).toHaveLength(3);
      for (const file of failing.files)
        expect((await stat(join(failing.dir, file))).size, file).toBeGreaterThan(0);

      const recorded = await data.warehouse.query<{ period: string; attempt: number; ok: number }>(
        `SELECT period, attempt, ok FROM tributary.report_deliveries WHERE channel = 'webhook' ORDER BY period, attempt`,
      );
      expect(recorded.map((row) => [row.period, Number(row.attempt), Number(row.ok)])).toEqual([
        ['daily', 1, 0],
        ['daily', 2, 0],
        ['daily', 3, 1],
        ['weekly', 1, 0],
        ['weekly', 2, 0],
        ['weekly', 3, 0],
      ]);
    } finally {
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
