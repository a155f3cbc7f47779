// Local services without Docker: what the demo and the tests start.
export { startEmbeddedPostgres } from './embedded-postgres.ts';
export type { EmbeddedPostgresOptions, RunningPostgres } from './embedded-postgres.ts';
export { findFreePort } from './free-port.ts';
