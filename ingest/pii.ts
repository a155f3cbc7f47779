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
  // Tokens and their hashes, not the columns about them (`token_id`, a key; `token_expires_at`).
  '*token',
  '*token_hash',
  '*tokenHash',
  // A street address locates a person and answers no analytical question that the city, region,
  // postal code and country kept beside it do not.
  'street',
  '*_street',
  'street_address',
  'streetAddress',
  'address_line*',
  'addressLine*',
];
/**
 * Personal data analysts need to count and join on, never to read: contact details, people's names
 * and IP addresses (personal data under the GDPR) become a keyed hash, so distinct users, sessions
 * and devices still count right. Handles (`username`, `display_name`) are public in the products and
 * kept; `date_of_birth`/`birthday` are kept for age cohorts (add them here to hash them).
 */
export const DEFAULT_HASH_FIELDS = [
  'email',
  '*_email',
  'phone',
  '*_phone',
  'phone_number',
  'phoneNumber',
  'first_name',
  'last_name',
  'full_name',
  'legal_name',
  'firstName',
  'lastName',
  'fullName',
  'ip',
  'ip_address',
  'ipAddress',
  '*_ip',
  '*_ip_address',
];

export type FieldTreatment = 'keep' | 'drop' | 'hash';

export interface PiiPolicy {
  treatmentOf(fieldName: string): FieldTreatment;
  /** `<key id>:<HMAC-SHA256 hex>`: the key id makes a change of key visible in the stored values. */
  hash(value: unknown): unknown;
  /** Names the hashing key without revealing it: 8 hex digits of an HMAC of a fixed text. */
  readonly keyId: string;
  /**
   * What the policy did, as messages that went through it say (`hashed:<key id>`, or `kept` under
   * `--keep-pii`): a consumer does not apply a policy twice.
   */
  readonly mark: string;
}

export function createPiiPolicy(options: PiiPolicyOptions): PiiPolicy {
  const drop = options.dropFields.map(globToRegExp);
  const hashed = options.hashFields.map(globToRegExp);
  const cache = new Map<string, FieldTreatment>();
  const keyId = createHmac('sha256', options.hashKey)
    .update('tributary pii key id')
    .digest('hex')
    .slice(0, 8);
  return {
    keyId,
    mark: options.hashPii ? `hashed:${keyId}` : 'kept',
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
      const digest = createHmac('sha256', options.hashKey)
        .update(normalisePii(String(value)))
        .digest('hex');
      return `${keyId}:${digest}`;
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
