// The SQL endpoint seam: the embedded warehouse over ClickHouse's HTTP protocol, and its users.
export { startSqlEndpoint, contentType } from './server.ts';
export type { SqlEndpoint, SqlEndpointOptions } from './server.ts';
export { hashPassword, loadUsersFile, parseUsers, sqlUsersSchema } from './users.ts';
export type { SqlUser, SqlUserInput, SqlUserLimits } from './users.ts';
export { SqlEndpointError } from './errors.ts';
