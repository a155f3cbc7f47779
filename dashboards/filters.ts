// The filters every page and panel takes, as one zod schema: they travel in the URL (so a link can
// be shared) and reach ClickHouse only as bound parameters. Anything else in a query string is a 400.
import { z } from 'zod';

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a day is YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'not a calendar day')
  .refine((value) => value >= '2000-01-01' && value <= '2100-12-31', 'a day between 2000 and 2100');

/** Names of packs, experiments and content ids: short, plain identifiers. */
const name = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9_.:-]*$/, 'letters, digits, _ . : - only');

export const filtersSchema = z
  .object({
    pack: name(40).min(1).default('learning'),
    from: day.optional(),
    to: day.optional(),
    /** Segment: the user's country (ISO code as the pack stores it); empty is everyone. */
    country: z
      .string()
      .regex(/^[A-Za-z]{0,3}$/, 'a country code of letters')
      .default(''),
    /** Segment: the platform the user came from (dim_users.platform, as the pack names it); empty is everyone. */
    platform: z
      .string()
      .max(20)
      .regex(/^[A-Za-z0-9_-]*$/, 'a platform name of letters, digits, _ and -')
      .default(''),
    /** Segment: the signup cohort, as the month users signed up in (YYYY-MM); empty is everyone. */
    cohort: z
      .string()
      .regex(/^(\d{4}-(0[1-9]|1[0-2]))?$/, 'a signup month is YYYY-MM')
      .default(''),
    grain: z.enum(['day', 'week']).default('day'),
    kind: z.enum(['first_activity', 'signup']).default('first_activity'),
    curve: z.enum(['retained', 'unbounded']).default('retained'),
    experiment: name(100).default(''),
    content: name(100).default(''),
  })
  .strict()
  .refine((filters) => !filters.from || !filters.to || filters.from <= filters.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

export type Filters = z.infer<typeof filtersSchema>;

/** The filters with a resolved date range (defaults: the 30 days ending on the newest data). */
export type ResolvedFilters = Filters & { from: string; to: string };

/** The query string that reproduces these filters (defaults left out, so links stay short). */
export function toQueryString(filters: Partial<Filters>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters))
    if (value !== undefined && value !== '') params.set(key, String(value));
  return params.toString();
}

/** Zod's issues as one line a user can act on. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; ');
}
