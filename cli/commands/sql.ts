// `tributary sql`: serves the embedded warehouse over ClickHouse's HTTP protocol to SQL clients
// (curl, @clickhouse/client, JDBC/DBeaver, notebooks), and hashes passwords for its users file.
import { existsSync } from 'node:fs';
import { hashPassword, startSqlEndpoint, SqlEndpointError } from '../../sql/index.ts';
import { parseWarehouseTarget } from '../../warehouse/index.ts';
import { intFlag, parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary sql serve --warehouse DIR [--host 127.0.0.1] [--port 8123] [--users FILE] [--sessions-per-user N]
       tributary sql hash-password < password.txt

serve          answers ClickHouse's HTTP protocol on HOST:PORT from the embedded warehouse in DIR
               (chDB admits one process per directory: run it in the process that holds it, or
               alone). Without --users there is one user, "default", read-only, no password, and
               only 127.0.0.1 may be used; a users file (JSON) names users with password hashes,
               read-only unless "readonly": false, and their limits:
               {"users": [{"name": "analyst", "password_sha256_hex": "…",
                           "limits": {"max_result_rows": 1000000, "max_execution_time": 60}}]}
hash-password  prints the SHA-256 hex of the password read from stdin (for password_sha256_hex).`;

const spec = {
  usage,
  options: {
    warehouse: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    users: { type: 'string' },
    'sessions-per-user': { type: 'string' },
  },
} as const;

export const sqlCommand = {
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    const { values } = parseCommandArgs(rest, spec);
    if (values.help || action === '--help' || action === '-h') {
      console.log(usage);
      return 0;
    }
    if (action === 'hash-password') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const password = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
      if (password === '') throw new UsageError('give the password on stdin', usage);
      console.log(hashPassword(password));
      return 0;
    }
    if (action !== 'serve')
      throw new UsageError(
        action === undefined ? 'say serve or hash-password' : `unknown action "${action}"`,
        usage,
      );
    if (values.warehouse === undefined) throw new UsageError('--warehouse is required', usage);
    const port = intFlag('port', values.port, 8123, usage);
    if (port < 0 || port > 65535) throw new UsageError('--port must be 0-65535', usage);
    const sessionsPerUser = intFlag('sessions-per-user', values['sessions-per-user'], 2, usage);
    if (sessionsPerUser < 1) throw new UsageError('--sessions-per-user must be at least 1', usage);
    const target = parseWarehouseTarget(values.warehouse);
    if (target.kind === 'chdb' && !existsSync(target.path))
      throw new SqlEndpointError(
        `there is no warehouse at ${target.path}; give the directory the pipeline writes`,
      );
    const endpoint = await startSqlEndpoint({
      warehouse: target,
      host: values.host,
      port,
      users: values.users,
      sessionsPerUser,
    });
    console.log(`serving ${values.warehouse} on ${endpoint.url} (ClickHouse HTTP protocol); Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await endpoint.close();
    return 0;
  },
};
