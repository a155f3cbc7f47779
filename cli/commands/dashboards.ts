// `tributary dashboards`: serves the dashboards over a warehouse until SIGINT/SIGTERM. In embedded
// mode chDB admits one process per data directory, so nothing else may have the warehouse open.
import { dashboardsToken } from '../../config/index.ts';
import { startDashboards } from '../../dashboards/index.ts';
import { migrate, openWarehouse, parseWarehouseTarget } from '../../warehouse/index.ts';
import { intFlag, parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary dashboards --warehouse DIR|http(s)://URL [--host 127.0.0.1] [--port 8080] [--token T]

Serves the product dashboards (overview, retention, content, experiments, pipeline health) and
their JSON API (/api/panels/<panel>?filters) until Ctrl-C.

Options:
  --warehouse DIR|URL   the embedded ClickHouse directory (no other process may have it open),
                        or a ClickHouse HTTP URL (use a read-only user: readonly=2)
  --host ADDRESS        where to listen (default 127.0.0.1); any other than loopback needs --token
  --port N              the port (default 8080; 0 picks a free one)
  --token T             required on every page and API call (login form, or Authorization: Bearer);
                        TRIBUTARY_DASHBOARDS_TOKEN is read when the flag is absent`;

const spec = {
  usage,
  options: {
    warehouse: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    token: { type: 'string' },
  },
} as const;

export const dashboardsCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (values.warehouse === undefined) throw new UsageError('--warehouse is required', usage);
    const port = intFlag('port', values.port, 8080, usage);
    if (port < 0 || port > 65_535) throw new UsageError('--port must be 0…65535', usage);
    const warehouse = await openWarehouse(parseWarehouseTarget(values.warehouse));
    try {
      await migrate(warehouse);
      const server = await startDashboards({
        warehouse,
        host: values.host ?? '127.0.0.1',
        port,
        token: values.token ?? dashboardsToken(),
      });
      console.log(`Dashboards: ${server.url}/overview`);
      await untilSignalled();
      await server.close();
      return 0;
    } finally {
      await warehouse.close();
    }
  },
};

export function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
