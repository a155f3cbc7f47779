// The shop's four Postgres databases, one per service as seed 002 distributes them.
import { readFileSync } from 'node:fs';
import { SHOP_SERVICES } from './context.ts';

export const shopDatabases = SHOP_SERVICES.map((service) => ({
  service,
  schemaSql: readFileSync(new URL(`./${service}-schema.sql`, import.meta.url), 'utf8'),
}));
