// The service's HTTP endpoints: /healthz (the process answers), /readyz (every source and the
// warehouse reachable; 503 with the failing checks otherwise) and /metrics (Prometheus text).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TributaryError } from '../errors/index.ts';
import type { ServiceMetrics } from './metrics.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface ServiceHttp {
  url: string;
  close(): Promise<void>;
}

export async function startServiceHttp(options: {
  host: string;
  port: number;
  metrics: ServiceMetrics;
  checks: () => ReadinessCheck[];
}): Promise<ServiceHttp> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      void readiness(options.checks()).then((result) => {
        response
          .writeHead(result.ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(`${JSON.stringify(result)}\n`);
      });
      return;
    }
    if (path === '/metrics') {
      options.metrics.text().then(
        (text) => response.writeHead(200, { 'content-type': options.metrics.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
      return;
    }
    response
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Runs every check with a 5 s bound; ready only when all pass. */
export async function readiness(
  checks: ReadinessCheck[],
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) =>
            setTimeout(
              () => reject(new TributaryError('no answer within 5 s', { retriable: true })),
              5000,
            ).unref(),
          ),
        ]);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, (error as Error).message] as const;
      }
    }),
  );
  return { ready: results.every(([, state]) => state === 'ok'), checks: Object.fromEntries(results) };
}
