import { describe, expect, it } from 'vitest';
import { createPiiPolicy, DEFAULT_DROP_FIELDS, DEFAULT_HASH_FIELDS } from './pii.ts';

const policy = (hashPii = true) =>
  createPiiPolicy({
    dropFields: DEFAULT_DROP_FIELDS,
    hashFields: DEFAULT_HASH_FIELDS,
    hashPii,
    hashKey: 'k'.repeat(32),
  });

describe('PII policy', () => {
  it.each([
    ['password_hash', 'drop'],
    ['salt', 'drop'],
    ['two_factor_secret', 'drop'],
    ['recovery_codes', 'drop'],
    ['session_token', 'drop'],
    ['access_token_hash', 'drop'],
    ['refresh_token', 'drop'],
    ['resetToken', 'drop'],
    ['token', 'drop'],
    ['token_id', 'keep'],
    ['token_expires_at', 'keep'],
    ['email', 'hash'],
    ['provider_email', 'hash'],
    ['phone', 'hash'],
    ['full_name', 'hash'],
    ['firstName', 'hash'],
    ['ip_address', 'hash'],
    ['source_ip', 'hash'],
    ['shipping_street', 'drop'],
    ['address_line1', 'drop'],
    ['city', 'keep'],
    ['zip_code', 'keep'],
    ['display_name', 'keep'],
    ['birthday', 'keep'],
    ['ship_to', 'keep'],
    ['last_password_change', 'keep'],
    ['email_verified', 'keep'],
    ['username', 'keep'],
  ])('%s → %s', (field, treatment) => {
    expect(policy().treatmentOf(field)).toBe(treatment);
  });

  it('keeps PII when asked, but never secrets', () => {
    expect(policy(false).treatmentOf('email')).toBe('keep');
    expect(policy(false).treatmentOf('password_hash')).toBe('drop');
  });

  it('hashes with the key, ignoring case and surrounding spaces, and leaves NULL alone', () => {
    const hashed = policy().hash('Lan@Example.vn');
    expect(hashed).toMatch(/^[0-9a-f]{8}:[0-9a-f]{64}$/);
    expect(hashed).toMatch(new RegExp(`^${policy().keyId}:`));
    expect(policy().hash(' lan@example.vn ')).toBe(hashed);
    expect(
      createPiiPolicy({ dropFields: [], hashFields: [], hashPii: true, hashKey: 'another key......' }).hash(
        'lan@example.vn',
      ),
    ).not.toBe(hashed);
    expect(policy().hash(null)).toBeNull();
  });

  it('names its key by an id that differs between keys and does not reveal them', () => {
    const other = createPiiPolicy({
      dropFields: [],
      hashFields: [],
      hashPii: true,
      hashKey: 'another key......',
    });
    expect(policy().keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(other.keyId).not.toBe(policy().keyId);
    expect(policy().keyId).not.toContain('kkkk');
  });
});
