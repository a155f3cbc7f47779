// The dashboards' HTTP server (Fastify): the pages, the JSON API under /api/ that they read, CSV
// downloads, and the static assets (ECharts from its npm package: nothing from a CDN). Every query
// parameter is checked by filters.ts's zod schema (a 400 names the bad one) and reaches ClickHouse
// only as a bound parameter. With a token, every route but the login form needs it.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { bearerToken, isLoopback, tokenMatches } from '../access/index.ts';
import { InvariantError } from '../errors/index.ts';
import { DashboardsError } from './errors.ts';
import type { Warehouse } from '../warehouse/index.ts';
import { cacheKey, martsVersion, ResultCache } from './cache.ts';
import { toCsv } from './csv.ts';
import { describeIssues, filtersSchema, type Filters, type ResolvedFilters } from './filters.ts';
import { PAGES, renderLogin, renderPage, type FilterChoices } from './pages.ts';
import { panelById, shiftDay, type Column, type Row } from './panels.ts';

export const dashboardsOptionsSchema = z.object({
  warehouse: z.custom<Warehouse>(
    (value) => typeof value === 'object' && value !== null && 'query' in value,
    'warehouse must be an open Warehouse',
  ),
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(8080),
  token: z.string().min(8, 'the token must be 8 characters or more').optional(),
  /** Logs one line per request to stderr. */
  logRequests: z.boolean().default(false),
});

export type DashboardsOptions = z.input<typeof dashboardsOptionsSchema>;

export interface RunningDashboards {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

const COOKIE = 'tributary_token';

/** Starts the server; refuses a non-loopback address without a token. */
export async function startDashboards(input: DashboardsOptions): Promise<RunningDashboards> {
  const parsed = dashboardsOptionsSchema.safeParse(input);
  if (!parsed.success)
    throw new DashboardsError(`dashboards: ${describeIssues(parsed.error)}`, { retriable: false });
  const options = parsed.data;
  if (!isLoopback(options.host) && options.token === undefined)
    throw new DashboardsError(
      `dashboards: refusing to listen on ${options.host} without a token: anyone who can reach it would read the warehouse; pass --token (or bind 127.0.0.1)`,
      { retriable: false },
    );
  const app = buildDashboards(options);
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close();
    throw new DashboardsError(
      `dashboards: cannot listen on ${options.host}:${options.port}: ${(error as Error).message}; choose another --port`,
      { retriable: false, cause: error },
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}`, app, close: () => app.close() };
}

export function buildDashboards(options: z.output<typeof dashboardsOptionsSchema>): FastifyInstance {
  const { warehouse, token } = options;
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, routerOptions: { maxParamLength: 200 } });
  const version = martsVersion(warehouse);
  const cache = new ResultCache<unknown>();
  const require = createRequire(import.meta.url);
  const assets = new Map<string, { path: string; type: string }>([
    ['echarts.js', { path: require.resolve('echarts/dist/echarts.min.js'), type: 'text/javascript' }],
    ['app.js', { path: new URL('./assets/app.js', import.meta.url).pathname, type: 'text/javascript' }],
    ['app.css', { path: new URL('./assets/app.css', import.meta.url).pathname, type: 'text/css' }],
  ]);

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  if (options.logRequests)
    app.addHook('onResponse', async (request, reply) => {
      process.stderr.write(`${request.method} ${request.url} ${reply.statusCode}\n`);
    });

  const accepted = (presented: string | undefined) => tokenMatches(token, presented);

  app.addHook('onRequest', async (request, reply) => {
    if (token === undefined || request.url === '/login' || request.url.startsWith('/login?')) return;
    if (
      accepted(bearerToken(request.headers.authorization)) ||
      accepted(readCookie(request.headers.cookie, COOKIE))
    )
      return;
    if (request.url.startsWith('/api/') || request.url.startsWith('/assets/'))
      return reply
        .code(401)
        .send({ error: 'unauthorized', message: 'a token is needed (Authorization: Bearer …)' });
    return reply.code(401).type('text/html').send(renderLogin(request.url, false));
  });

  app.get('/login', async (request, reply) => {
    const next = safeNext((request.query as Record<string, unknown>).next);
    return reply.type('text/html').send(renderLogin(next, false));
  });
  app.post('/login', async (request, reply) => {
    const body = z
      .object({ token: z.string().max(1000), next: z.string().max(2000).optional() })
      .safeParse(request.body);
    if (!body.success) return reply.code(400).type('text/html').send(renderLogin('/', true));
    const next = safeNext(body.data.next);
    if (!accepted(body.data.token)) return reply.code(401).type('text/html').send(renderLogin(next, true));
    return reply
      .header(
        'set-cookie',
        `${COOKIE}=${encodeURIComponent(body.data.token)}; HttpOnly; SameSite=Strict; Path=/`,
      )
      .redirect(next, 303);
  });

  app.get('/assets/:name', async (request, reply) => {
    const asset = assets.get((request.params as { name: string }).name);
    if (!asset) return reply.code(404).send({ error: 'not found' });
    return reply
      .type(asset.type)
      .header('cache-control', 'max-age=3600')
      .send(await readFile(asset.path));
  });

  const choices = async (pack: string): Promise<FilterChoices> =>
    (await cache.get(cacheKey('choices', { pack }), await version(), async () => {
      const list = async (sql: string) =>
        (await warehouse.query<{ value: string }>(sql, { pack })).map((row) => row.value);
      return {
        packs: await list(`SELECT DISTINCT pack AS value FROM mart_dau ORDER BY value`),
        countries: await list(
          `SELECT DISTINCT country AS value FROM dim_users WHERE pack = {pack:String} AND country != '' ORDER BY value`,
        ),
        platforms: await list(
          `SELECT DISTINCT platform AS value FROM dim_users WHERE pack = {pack:String} AND platform != '' ORDER BY value`,
        ),
        cohorts: await list(
          `SELECT DISTINCT formatDateTime(signup_at, '%Y-%m') AS value FROM dim_users WHERE pack = {pack:String} ORDER BY value`,
        ),
        experiments: await list(
          `SELECT DISTINCT experiment AS value FROM mart_ab_results WHERE pack = {pack:String} ORDER BY value`,
        ),
      };
    })) as FilterChoices;

  const resolve = async (filters: Filters): Promise<ResolvedFilters> => {
    if (filters.from && filters.to) return { ...filters, from: filters.from, to: filters.to };
    const range = (await cache.get(cacheKey('range', { pack: filters.pack }), await version(), () =>
      warehouse.query<{ last: string }>(
        `SELECT toString(if(count() = 0, today(), max(day))) AS last FROM mart_dau WHERE pack = {pack:String}`,
        { pack: filters.pack },
      ),
    )) as { last: string }[];
    const last = range[0]?.last ?? new Date().toISOString().slice(0, 10);
    const to = filters.to ?? last;
    const from = filters.from ?? shiftDay(to, -29);
    return { ...filters, from, to };
  };

  const parseFilters = (request: FastifyRequest, reply: FastifyReply): Filters | undefined => {
    const parsed = filtersSchema.safeParse(request.query);
    if (parsed.success) return parsed.data;
    void reply.code(400).send({ error: 'bad request', message: describeIssues(parsed.error) });
    return undefined;
  };

  const panelRows = async (id: string, filters: ResolvedFilters): Promise<Row[]> => {
    const panel = panelById(id);
    if (!panel) throw new InvariantError(`no panel ${id}`);
    return (await cache.get(cacheKey(id, filters), await version(), async () =>
      numbersAsNumbers(panel.columns, await panel.query(warehouse, filters)),
    )) as Row[];
  };

  app.get('/api/panels/:id', async (request, reply) => {
    const panel = panelById((request.params as { id: string }).id);
    if (!panel) return reply.code(404).send({ error: 'not found', message: 'no such panel' });
    const filters = parseFilters(request, reply);
    if (!filters) return reply;
    const resolved = await resolve(filters);
    const rows = await panelRows(panel.id, resolved);
    return {
      panel: { id: panel.id, title: panel.title, description: panel.description, columns: panel.columns },
      filters: resolved,
      rows,
      chart: panel.chart && rows.length > 0 ? panel.chart(rows, resolved) : null,
    };
  });

  app.get('/api/panels/:id/csv', async (request, reply) => {
    const panel = panelById((request.params as { id: string }).id);
    if (!panel) return reply.code(404).send({ error: 'not found', message: 'no such panel' });
    const filters = parseFilters(request, reply);
    if (!filters) return reply;
    const resolved = await resolve(filters);
    const rows = await panelRows(panel.id, resolved);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${panel.id}_${resolved.from}_${resolved.to}.csv"`)
      .send(toCsv(panel.columns, rows));
  });

  app.get('/api/filters', async (request, reply) => {
    const filters = parseFilters(request, reply);
    if (!filters) return reply;
    return choices(filters.pack);
  });

  app.get('/', async (request, reply) => reply.redirect('/overview', 302));
  for (const page of PAGES)
    app.get(page.path, async (request, reply) => {
      const parsed = filtersSchema.safeParse(request.query);
      if (!parsed.success)
        return reply
          .code(400)
          .type('text/plain')
          .send(`Bad filter: ${describeIssues(parsed.error)}`);
      const filters = await resolve(parsed.data);
      return reply.type('text/html').send(renderPage(page, filters, await choices(filters.pack)));
    });

  app.get('/healthz', async () => ({ ok: true }));

  app.setErrorHandler(async (error, _request, reply) => {
    // A failing query is a 500 with one line: the page's panel shows it in its error state.
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return reply.code(500).send({ error: 'internal', message });
  });
  return app;
}

/** ClickHouse's JSON quotes 64-bit integers; a column with a numeric unit is a number. */
function numbersAsNumbers(columns: readonly Column[], rows: Row[]): Row[] {
  const numeric = columns.filter((column) => column.unit !== 'text' && column.unit !== 'day');
  for (const row of rows)
    for (const column of numeric) {
      const value = row[column.name];
      if (typeof value === 'string' && value !== '') row[column.name] = Number(value);
    }
  return rows;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      try {
        return decodeURIComponent(rest.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Only a same-site path: never another origin (`//host`) after signing in. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && value.length < 2000
    ? value
    : '/overview';
}
