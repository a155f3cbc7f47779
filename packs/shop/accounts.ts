// The Auth and User services as the simulation plays them: tenants and staff before the period,
// shoppers signing up (auth user, role, profile, address, preferences), logging in (refresh
// tokens), editing their profile and addresses, and deleting their account (soft, as the seed's
// status and deleted_at columns say); expired refresh tokens are purged nightly.
import { array, raw, timestamp, date } from '../common/sql-script.ts';
import type { Random } from '../common/random.ts';
import { assignVariants } from './experiments.ts';
import { DAY, HOUR, MINUTE, type Category, type Shopper, type ShopContext } from './context.ts';

const FIRST_NAMES = [
  'John',
  'Maria',
  'Wei',
  'Aisha',
  'Lucas',
  'Emma',
  'Noah',
  'Sofia',
  'Liam',
  'Mia',
  'Arjun',
  'Yuki',
  'Omar',
  'Chloe',
  'Mateo',
  'Zoe',
];
const LAST_NAMES = [
  'Doe',
  'Garcia',
  'Chen',
  'Khan',
  'Silva',
  'Smith',
  'Müller',
  'Rossi',
  'Kim',
  'Nguyen',
  'Brown',
  'Dubois',
];
const PLACES = [
  { city: 'Austin', state: 'TX', country: 'US', timezone: 'America/Chicago', weight: 5 },
  { city: 'Seattle', state: 'WA', country: 'US', timezone: 'America/Los_Angeles', weight: 4 },
  { city: 'New York', state: 'NY', country: 'US', timezone: 'America/New_York', weight: 6 },
  { city: 'Toronto', state: 'ON', country: 'CA', timezone: 'America/Toronto', weight: 2 },
  { city: 'London', state: 'London', country: 'GB', timezone: 'Europe/London', weight: 2 },
  { city: 'Berlin', state: 'Berlin', country: 'DE', timezone: 'Europe/Berlin', weight: 1 },
] as const;
const REFRESH_TOKEN_DAYS = 7;
/** The seed's sample permissions. */
const PERMISSIONS = ['read:products', 'write:products', 'delete:products', 'read:orders', 'write:orders'];

/** Tenants (the storefront and a few B2B accounts) and the staff who run the catalog. */
export function createOrganisation(context: ShopContext, at: number): void {
  const { random, sql } = context;
  const tenants = [
    { name: 'Storefront', domain: 'shop.example.com', plan: 'ENTERPRISE', max_users: 1_000_000 },
    { name: 'Acme Corp', domain: 'acme.example.com', plan: 'PRO', max_users: 500 },
    { name: 'Globex', domain: 'globex.example.com', plan: 'BASIC', max_users: 50 },
  ];
  for (const tenant of tenants) {
    const id = random.uuid();
    context.tenantIds.push(id);
    sql.auth.insert('tenants', [
      { id, ...tenant, status: 'ACTIVE', created_at: timestamp(at), updated_at: timestamp(at) },
    ]);
  }
  // The seed's roles get permissions: admins and managers all, users and support read-only.
  const grants: [string, string[]][] = [
    ['ADMIN', PERMISSIONS],
    ['MANAGER', PERMISSIONS],
    ['USER', ['read:products', 'read:orders']],
    ['SUPPORT', ['read:products', 'read:orders']],
  ];
  sql.auth.insert(
    'role_permissions',
    grants.flatMap(([role, permissions]) =>
      permissions.map((permission) => ({
        role_id: roleId(role),
        permission_id: raw(`(SELECT id FROM permissions WHERE name = '${permission}')`),
      })),
    ),
  );
  for (const [index, role] of ['ADMIN', 'MANAGER', 'SUPPORT'].entries()) {
    const id = random.uuid();
    context.staffIds.push(id);
    sql.auth.insert('users', [
      {
        id,
        email: `staff${index + 1}@shop.example.com`,
        username: `staff${index + 1}`,
        password_hash: `$2a$12$${random.base64url(40)}`,
        first_name: random.pick(FIRST_NAMES),
        last_name: random.pick(LAST_NAMES),
        status: 'ACTIVE',
        email_verified: true,
        tfa_enabled: true,
        tfa_secret: random.hex(10),
        tenant_id: context.tenantIds[0] ?? '',
        created_at: timestamp(at),
        updated_at: timestamp(at),
      },
    ]);
    sql.auth.insert('user_roles', [{ user_id: id, role_id: roleId(role), assigned_at: timestamp(at) }]);
  }
}

/** The seed inserts its roles with generated ids: looked up by name. */
function roleId(name: string) {
  return raw(`(SELECT id FROM roles WHERE name = '${name}')`);
}

export function createShopper(
  random: Random,
  index: number,
  days: number,
  periodStart: number,
  categories: readonly Category[],
): Shopper {
  // Arrivals grow over the period (marketing ramps up); a fifth were customers before it began.
  const signupDay = random.chance(0.2) ? 0 : Math.min(days - 1, Math.floor(days * Math.sqrt(random.next())));
  const first = random.pick(FIRST_NAMES);
  const last = random.pick(LAST_NAMES);
  const place = random.weighted(PLACES.map((entry) => [entry, entry.weight] as const));
  const userId = random.uuid();
  return {
    userId,
    profileId: random.uuid(),
    email: `${first.toLowerCase()}.${last.toLowerCase().replace(/[^a-z]/g, '')}${index}@example.com`,
    name: `${first} ${last}`,
    signupDay,
    signedUpAt: periodStart + signupDay * DAY + random.int(7 * 60, 22 * 60) * MINUTE,
    lifetimeDays: 3 + -Math.log(1 - random.next()) * 25,
    propensity: random.between(0.08, 0.45),
    favoriteCategories: random.sample(categories, random.int(1, 3)),
    address: {
      street: `${random.int(1, 999)} ${random.pick(['Main', 'Oak', 'Pine', 'Maple', 'Cedar'])} St`,
      city: place.city,
      state: place.state,
      zip: random.digits('#####'),
      country: place.country,
    },
    extraAddressIds: [],
    refreshTokens: [],
    unreadNotifications: [],
    assignments: assignVariants(userId),
    exposures: new Map(),
    plan: null,
    deletionDay: null,
    deleted: false,
  };
}

/** Registration: the auth user and its role, then the user service's profile, address and preferences. */
export function signUp(context: ShopContext, shopper: Shopper): void {
  const { random, sql } = context;
  const at = shopper.signedUpAt;
  const [first, last] = shopper.name.split(' ');
  const provider = random.weighted([
    ['LOCAL', 6],
    ['GOOGLE', 3],
    ['GITHUB', 0.5],
    ['FACEBOOK', 1],
  ] as const);
  sql.auth.insert('users', [
    {
      id: shopper.userId,
      email: shopper.email,
      username: shopper.email.split('@')[0] ?? shopper.userId,
      password_hash: `$2a$12$${random.base64url(40)}`,
      first_name: first ?? null,
      last_name: last ?? null,
      auth_provider: provider,
      provider_id: provider === 'LOCAL' ? null : random.digits('##########'),
      status: 'ACTIVE',
      email_verified: provider !== 'LOCAL',
      tenant_id: random.chance(0.95) ? (context.tenantIds[0] ?? '') : random.pick(context.tenantIds),
      created_at: timestamp(at),
      updated_at: timestamp(at),
    },
  ]);
  sql.auth.insert('user_roles', [
    { user_id: shopper.userId, role_id: roleId('USER'), assigned_at: timestamp(at) },
  ]);
  sql.user.insert('user_profiles', [
    {
      id: shopper.profileId,
      user_id: shopper.userId,
      email: shopper.email,
      first_name: first ?? null,
      last_name: last ?? null,
      phone: random.chance(0.6) ? random.digits('+1 ###-###-####') : null,
      date_of_birth: random.chance(0.5)
        ? date(Date.UTC(random.int(1955, 2006), random.int(0, 11), random.int(1, 28)))
        : null,
      gender: random.chance(0.7) ? random.pick(['MALE', 'FEMALE', 'OTHER', 'PREFER_NOT_TO_SAY']) : null,
      avatar_url: null,
      bio: null,
      created_at: timestamp(at),
      updated_at: timestamp(at),
    },
  ]);
  sql.user.insert('addresses', [
    {
      id: random.uuid(),
      user_profile_id: shopper.profileId,
      type: 'BOTH',
      street: shopper.address.street,
      apartment: random.chance(0.3) ? `Apt ${random.int(1, 40)}` : null,
      city: shopper.address.city,
      state: shopper.address.state,
      zip_code: shopper.address.zip,
      country: shopper.address.country,
      is_default: true,
      created_at: timestamp(at),
      updated_at: timestamp(at),
    },
  ]);
  const place = PLACES.find((entry) => entry.city === shopper.address.city);
  sql.user.insert('user_preferences', [
    {
      id: random.uuid(),
      user_profile_id: shopper.profileId,
      newsletter_subscribed: random.chance(0.3),
      marketing_emails: random.chance(0.2),
      language: shopper.address.country === 'DE' ? 'de' : 'en',
      // The store sells in dollars; the preference is kept, not used for prices (see README).
      currency: 'USD',
      timezone: place?.timezone ?? 'UTC',
      created_at: timestamp(at),
      updated_at: timestamp(at),
    },
  ]);
  context.tallies.usersCreated += 1;
}

/** A login: the auth user's last login, and a refresh token for the session. */
export function logIn(context: ShopContext, shopper: Shopper, at: number): void {
  const { random, sql } = context;
  sql.auth.update(
    'users',
    { last_login_at: timestamp(at), failed_login_attempts: 0 },
    { id: shopper.userId },
  );
  const id = random.uuid();
  const expiresAt = at + REFRESH_TOKEN_DAYS * DAY;
  shopper.refreshTokens.push({ id, expiresAt });
  sql.auth.insert('refresh_tokens', [
    {
      id,
      token: random.base64url(48),
      user_id: shopper.userId,
      expires_at: timestamp(expiresAt),
      revoked: false,
      created_at: timestamp(at),
    },
  ]);
}

/** Logging out revokes the session's token (now and then; most sessions just lapse). */
export function logOut(context: ShopContext, shopper: Shopper): void {
  const token = shopper.refreshTokens.at(-1);
  if (token && context.random.chance(0.3))
    context.sql.auth.update('refresh_tokens', { revoked: true }, { id: token.id });
}

/** Now and then a shopper edits the profile: a phone number, an extra address, preferences. */
export function editProfile(context: ShopContext, shopper: Shopper, at: number): void {
  const { random, sql } = context;
  if (!random.chance(0.05)) return;
  const kind = random.weighted([
    ['phone', 2],
    ['address', 2],
    ['drop-address', 1],
    ['preferences', 2],
  ] as const);
  if (kind === 'phone')
    sql.user.update(
      'user_profiles',
      { phone: random.digits('+1 ###-###-####'), updated_at: timestamp(at) },
      { id: shopper.profileId },
    );
  else if (kind === 'address') {
    const id = random.uuid();
    shopper.extraAddressIds.push(id);
    sql.user.insert('addresses', [
      {
        id,
        user_profile_id: shopper.profileId,
        type: random.pick(['SHIPPING', 'BILLING']),
        street: `${random.int(1, 999)} ${random.pick(['Elm', 'Birch', 'Lake', 'Hill'])} Ave`,
        apartment: null,
        city: shopper.address.city,
        state: shopper.address.state,
        zip_code: random.digits('#####'),
        country: shopper.address.country,
        is_default: false,
        created_at: timestamp(at),
        updated_at: timestamp(at),
      },
    ]);
  } else if (kind === 'drop-address') {
    const id = shopper.extraAddressIds.pop();
    if (id) sql.user.delete('addresses', { id });
  } else
    sql.user.update(
      'user_preferences',
      {
        newsletter_subscribed: random.chance(0.4),
        push_notifications: random.chance(0.7),
        updated_at: timestamp(at),
      },
      { user_profile_id: shopper.profileId },
    );
}

/** Account deletion: soft in both services, sessions ended (their tokens deleted). */
export function deleteAccount(context: ShopContext, shopper: Shopper, at: number): void {
  const { sql } = context;
  shopper.deleted = true;
  sql.auth.update(
    'users',
    { status: 'DELETED', deleted_at: timestamp(at), updated_at: timestamp(at) },
    { id: shopper.userId },
  );
  sql.auth.delete('refresh_tokens', { user_id: shopper.userId });
  shopper.refreshTokens = [];
  sql.user.update(
    'user_profiles',
    { deleted_at: timestamp(at), updated_at: timestamp(at), phone: null },
    { id: shopper.profileId },
  );
  context.tallies.usersDeleted += 1;
}

/** The nightly purge of expired refresh tokens (hard deletes, as a token store does). */
export function purgeTokens(context: ShopContext, shoppers: readonly Shopper[], now: number): void {
  for (const shopper of shoppers) {
    const expired = shopper.refreshTokens.filter((token) => token.expiresAt <= now);
    if (expired.length === 0) continue;
    shopper.refreshTokens = shopper.refreshTokens.filter((token) => token.expiresAt > now);
    context.sql.auth.delete(
      'refresh_tokens',
      raw(`id IN (${expired.map((token) => `'${token.id}'`).join(', ')})`),
    );
  }
}

/**
 * The hour a shopper visits: evenings most, mornings least. A visit starts by 22:59, so even the
 * longest (about 50 minutes) ends on its day, and nothing happens after the simulated period.
 */
export function visitHour(random: Random): number {
  return (
    random.weighted([
      [8, 1],
      [10, 2],
      [12, 3],
      [14, 2],
      [17, 3],
      [19, 5],
      [21, 4],
      [23, 1],
    ] as const) * HOUR
  );
}

/** A few power users create an API key (to export their orders). */
export function createApiKey(context: ShopContext, shopper: Shopper, at: number): void {
  const { random } = context;
  context.sql.auth.insert('api_keys', [
    {
      id: random.uuid(),
      key_value: `sk_live_${random.hex(24)}`,
      name: 'Order export',
      user_id: shopper.userId,
      scopes: array(['read:orders', 'read:products']),
      revoked: false,
      expires_at: timestamp(at + 365 * DAY),
      created_at: timestamp(at),
      updated_at: timestamp(at),
    },
  ]);
}
