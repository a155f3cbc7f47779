// Secrets never leave the source and personal contact data is pseudonymised before it is stored:
// columns (and document fields) named like secrets are dropped, email/phone values become a keyed hash.
import { createHmac } from 'node:crypto';

export interface PiiPolicyOptions {
  /** Field-name patterns (case-insensitive globs, `*` = any run of characters) that are dropped. */
  dropFields: string[];
  /** Field-name patterns whose values are replaced by a keyed hash. */
  hashFields: string[];
  /** `false` (`--keep-pii`) stores hashed fields as they are. Secrets are dropped regardless. */
  hashPii: boolean;
  /** HMAC key: without it, a reader of the warehouse cannot confirm a guessed email. */
  hashKey: string;
}

export const DEFAULT_DROP_FIELDS = [
  'password',
  'password_hash',
  '*_password',
  'salt',
  '*_salt',
  'secret',
  '*_secret',
  'recovery_codes',
  '*token*',
];
export const DEFAULT_HASH_FIELDS = ['email', '*_email', 'phone', '*_phone', 'phone_number'];

export type FieldTreatment = 'keep' | 'drop' | 'hash';

export interface PiiPolicy {
  treatmentOf(fieldName: string): FieldTreatment;
  hash(value: unknown): unknown;
}

export function createPiiPolicy(options: PiiPolicyOptions): PiiPolicy {
  const drop = options.dropFields.map(globToRegExp);
  const hashed = options.hashFields.map(globToRegExp);
  const cache = new Map<string, FieldTreatment>();
  return {
    treatmentOf(fieldName) {
      let treatment = cache.get(fieldName);
      if (treatment === undefined) {
        if (drop.some((pattern) => pattern.test(fieldName))) treatment = 'drop';
        else if (options.hashPii && hashed.some((pattern) => pattern.test(fieldName))) treatment = 'hash';
        else treatment = 'keep';
        cache.set(fieldName, treatment);
      }
      return treatment;
    },
    hash(value) {
      if (value === null || value === undefined) return value;
      if (Array.isArray(value)) return value.map((item) => this.hash(item));
      return createHmac('sha256', options.hashKey)
        .update(normalisePii(String(value)))
        .digest('hex');
    },
  };
}

/** Case and surrounding spaces do not make a different person: hash the normalised form. */
function normalisePii(value: string): string {
  return value.trim().toLowerCase();
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}
