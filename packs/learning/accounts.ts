// User-service behaviour of learners: signing up, logging in and out, editing profile, settings and
// security, streaks and achievements, going dormant, and deleting the account.
import { DAY, MINUTE, type Clock, type SimulationContext } from './context.ts';
import { sessionStart, type Learner } from './learner.ts';
import { pickBio, pickLearningGoals, sessionIp, userAgent } from './people.ts';
import type { Random } from '../common/random.ts';
import { array, date, json, raw, timestamp, type SqlRow } from '../common/sql-script.ts';

const CDN = 'https://cdn.hoctiengviet.example';
const SOCIAL_PROVIDERS = ['google', 'facebook', 'apple'] as const;
type SocialProvider = (typeof SOCIAL_PROVIDERS)[number];
/** No look-alike characters (0/o, 1/l/i), since people type recovery codes by hand. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

interface Achievement {
  type: string;
  reached(learner: Learner): boolean;
  data(learner: Learner): Record<string, unknown>;
}

const ACHIEVEMENTS: readonly Achievement[] = [
  {
    type: 'first_lesson',
    reached: (learner) => learner.completedLessons > 0,
    data: (learner) => ({ lessons: learner.completedLessons }),
  },
  ...milestones('lessons', [5, 10, 25], (learner) => learner.completedLessons),
  ...milestones('day_streak', [3, 7, 14, 30], (learner) => learner.streak.current),
  ...milestones('words', [10, 50], (learner) => learner.wordsSavedEver),
  {
    type: 'perfect_score',
    reached: (learner) => learner.perfectLessons > 0,
    data: (learner) => ({ perfect_lessons: learner.perfectLessons }),
  },
  {
    type: 'first_review',
    reached: (learner) => learner.reviews.size > 0,
    data: (learner) => ({ reviews: learner.reviews.size }),
  },
  {
    type: 'series_completed',
    reached: (learner) => learner.completedSeries > 0,
    data: (learner) => ({ series: learner.completedSeries }),
  },
];

/** Writes the sign-ups of one day, one multi-row INSERT per table. */
export function signUp(context: SimulationContext, learners: readonly Learner[], dayStart: number): void {
  if (learners.length === 0) return;
  const { random, script } = context;
  for (const learner of learners) learner.signedUpAt = sessionStart(random, learner, dayStart);
  const socialLogins = learners.flatMap((learner) =>
    random.chance(0.35) ? [{ learner, provider: random.pick(SOCIAL_PROVIDERS) }] : [],
  );
  // A social provider has already verified the address.
  for (const { learner } of socialLogins) learner.emailVerified = true;
  script.insert(
    'users',
    learners.map((learner) => userRow(random, learner)),
  );
  script.insert(
    'user_profiles',
    learners.map((learner) => profileRow(random, learner)),
  );
  script.insert(
    'user_settings',
    learners.map((learner) => settingsRow(random, learner)),
  );
  script.insert(
    'user_auth',
    learners.map((learner) => authRow(random, learner)),
  );
  script.insert(
    'user_social_logins',
    socialLogins.map(({ learner, provider }) => socialLoginRow(random, learner, provider)),
  );
  script.insert('user_streaks', learners.map(streakRow));
  for (const learner of learners) context.documents.preferencesCreated(learner, learner.signedUpAt);
  context.tallies.usersCreated += learners.length;
}

/** Logs the learner in (sometimes after mistyped passwords) and returns the session id. */
export function openSession(context: SimulationContext, learner: Learner, clock: Clock): string {
  const { random, script } = context;
  if (random.chance(0.04)) failLogins(context, learner, clock);
  const id = random.uuid();
  const version = appVersion(clock.now);
  const lifetime = learner.device.platform === 'web' ? 7 * DAY : 30 * DAY;
  script.insert('user_sessions', [
    {
      id,
      user_id: learner.id,
      session_token: random.base64url(32),
      device_info: json({
        platform: learner.device.platform,
        model: learner.device.model,
        os_version: learner.device.osVersion,
        app_version: version,
        locale: `${learner.identity.nativeLanguage}-${learner.identity.countryCode}`,
      }),
      ip_address: sessionIp(random, learner.device),
      user_agent: userAgent(learner.device, version),
      is_active: true,
      expires_at: timestamp(clock.now + lifetime),
      created_at: timestamp(clock.now),
    },
  ]);
  context.tallies.sessions += 1;
  if (!learner.emailVerified && random.chance(0.5)) {
    learner.emailVerified = true;
    script.update('users', { email_verified: true, updated_at: timestamp(clock.now) }, { id: learner.id });
  }
  if (learner.dormant) {
    learner.dormant = false;
    script.update('users', { status: 'active', updated_at: timestamp(clock.now) }, { id: learner.id });
  }
  learner.sessionId = id;
  context.documents.interaction(learner, clock.now, 'session_start', null);
  return id;
}

/** Web users tend to log out; app sessions are left to expire. */
export function closeSession(context: SimulationContext, learner: Learner, sessionId: string): void {
  const logoutChance = learner.device.platform === 'web' ? 0.6 : 0.15;
  if (context.random.chance(logoutChance)) {
    context.script.update('user_sessions', { is_active: false }, { id: sessionId });
  }
}

/** The nightly job that deactivates expired sessions, as one set-based UPDATE. */
export function expireSessions(context: SimulationContext, at: number): void {
  context.script.update(
    'user_sessions',
    { is_active: false },
    raw(`is_active AND expires_at < ${timestamp(at).sql}`),
  );
}

/** Occasional profile, settings and security changes. */
export function editAccount(context: SimulationContext, learner: Learner, clock: Clock): void {
  const { random } = context;
  if (random.chance(0.02)) changeAvatar(context, learner, clock);
  if (random.chance(0.02)) editProfile(context, learner, clock);
  if (random.chance(0.02)) {
    changeSettings(context, learner, clock);
    context.documents.preferencesChanged(learner, clock.now);
  }
  if (random.chance(0.006)) changePassword(context, learner, clock);
  if (!learner.twoFactorEnabled && random.chance(0.01)) enableTwoFactor(context, learner, clock);
}

/** Every four completed lessons raise the self-reported proficiency by one level. */
export function updateProficiency(context: SimulationContext, learner: Learner, clock: Clock): void {
  const level = Math.min(
    10,
    Math.max(learner.proficiencyLevel, 1 + Math.floor(learner.completedLessons / 4)),
  );
  if (level === learner.proficiencyLevel) return;
  learner.proficiencyLevel = level;
  context.script.update(
    'user_profiles',
    { proficiency_level: level, updated_at: timestamp(clock.now) },
    { user_id: learner.id },
  );
}

/** Extends, keeps (with a freeze) or restarts the streak; each full week earns a freeze, up to two. */
export function recordStreak(
  context: SimulationContext,
  learner: Learner,
  day: number,
  dayStart: number,
  at: number,
): void {
  const streak = learner.streak;
  const gap = streak.lastActiveDay === null ? Infinity : day - streak.lastActiveDay;
  if (gap === 0) return;
  if (gap === 1) streak.current += 1;
  else if (gap === 2 && streak.freezes > 0) {
    streak.current += 1;
    streak.freezes -= 1;
  } else streak.current = 1;
  if (streak.current % 7 === 0 && streak.freezes < 2) streak.freezes += 1;
  streak.longest = Math.max(streak.longest, streak.current);
  streak.lastActiveDay = day;
  if (streak.current % 7 === 0) context.documents.notify(learner, at, 'streak_milestone');
  context.script.update(
    'user_streaks',
    {
      current_streak: streak.current,
      longest_streak: streak.longest,
      last_activity_date: date(dayStart),
      streak_freeze_count: streak.freezes,
      updated_at: timestamp(at),
    },
    { user_id: learner.id },
  );
}

export function awardAchievements(context: SimulationContext, learner: Learner, at: number): void {
  const earned = ACHIEVEMENTS.filter(
    (achievement) => !learner.achievements.has(achievement.type) && achievement.reached(learner),
  );
  if (earned.length === 0) return;
  for (const achievement of earned) learner.achievements.add(achievement.type);
  context.script.insert(
    'user_achievements',
    earned.map((achievement) => ({
      id: context.random.uuid(),
      user_id: learner.id,
      achievement_type: achievement.type,
      achievement_data: json(achievement.data(learner)),
      earned_at: timestamp(at),
    })),
  );
  context.tallies.achievements += earned.length;
}

export function markDormant(context: SimulationContext, learner: Learner, at: number): void {
  learner.dormant = true;
  context.script.update('users', { status: 'inactive', updated_at: timestamp(at) }, { id: learner.id });
  context.documents.notify(learner, at, 'come_back');
}

/** ON DELETE CASCADE removes the profile, settings, auth, social logins, sessions, streak and achievements. */
export function deleteAccount(context: SimulationContext, learner: Learner): void {
  learner.deleted = true;
  context.script.delete('users', { id: learner.id });
  context.documents.userDeleted(learner);
  context.tallies.usersDeleted += 1;
}

/** A new app release every two weeks, so device_info and user agents change over time. */
function appVersion(at: number): string {
  const release = Math.floor(at / (14 * DAY));
  return `3.${release % 40}.${Math.floor(at / DAY) % 3}`;
}

function userRow(random: Random, learner: Learner): SqlRow {
  const { identity } = learner;
  return {
    id: learner.id,
    username: identity.username,
    email: identity.email,
    full_name: identity.fullName,
    avatar_url: random.chance(0.3) ? avatarUrl(random) : null,
    phone: identity.phone,
    email_verified: learner.emailVerified,
    status: 'active',
    created_at: timestamp(learner.signedUpAt),
    updated_at: timestamp(learner.signedUpAt),
  };
}

function profileRow(random: Random, learner: Learner): SqlRow {
  const { identity } = learner;
  return {
    user_id: learner.id,
    gender: identity.gender,
    birthday: identity.birthday,
    bio: random.chance(0.5) ? pickBio(random) : null,
    country_code: identity.countryCode,
    timezone: identity.timezone,
    native_language: identity.nativeLanguage,
    target_languages: array(
      random.weighted([
        [['vi'], 88],
        [['vi', 'zh'], 8],
        [['vi', 'th'], 4],
      ]),
    ),
    proficiency_level: learner.proficiencyLevel,
    learning_goals: array(pickLearningGoals(random)),
    updated_at: timestamp(learner.signedUpAt),
  };
}

function settingsRow(random: Random, learner: Learner): SqlRow {
  return {
    user_id: learner.id,
    language_preference: learner.identity.nativeLanguage,
    theme_mode: random.weighted([
      ['light', 5],
      ['dark', 4],
      ['system', 2],
    ]),
    learning_mode: learner.learningMode,
    notification_enabled: random.chance(0.9),
    email_notifications: random.chance(0.7),
    push_notifications: learner.device.platform !== 'web' && random.chance(0.85),
    sound_enabled: random.chance(0.8),
    auto_play_audio: random.chance(0.3),
    daily_goal_minutes: learner.dailyGoalMinutes,
    reminder_time: reminderTime(random, learner.usualLocalHour),
    updated_at: timestamp(learner.signedUpAt),
  };
}

function authRow(random: Random, learner: Learner): SqlRow {
  return {
    user_id: learner.id,
    password_hash: passwordHash(random),
    salt: random.base64url(16),
    last_password_change: timestamp(learner.signedUpAt),
    failed_login_attempts: 0,
    locked_until: null,
    two_factor_enabled: false,
    two_factor_secret: null,
    recovery_codes: null,
    updated_at: timestamp(learner.signedUpAt),
  };
}

function socialLoginRow(random: Random, learner: Learner, provider: SocialProvider): SqlRow {
  const relayEmail = `${random.chars('abcdefghijklmnopqrstuvwxyz0123456789', 10)}@privaterelay.appleid.com`;
  return {
    id: random.uuid(),
    user_id: learner.id,
    provider,
    provider_user_id: providerUserId(random, provider),
    provider_email: provider === 'apple' && random.chance(0.5) ? relayEmail : learner.identity.email,
    access_token_hash: random.hex(32),
    // Apple hands out no refresh token to web sign-ins.
    refresh_token_hash: provider === 'apple' ? null : random.hex(32),
    created_at: timestamp(learner.signedUpAt),
  };
}

function streakRow(learner: Learner): SqlRow {
  return {
    user_id: learner.id,
    current_streak: 0,
    longest_streak: 0,
    last_activity_date: null,
    streak_freeze_count: 0,
    created_at: timestamp(learner.signedUpAt),
    updated_at: timestamp(learner.signedUpAt),
  };
}

function failLogins(context: SimulationContext, learner: Learner, clock: Clock): void {
  const failures = context.random.int(1, 5);
  const locked = failures >= 5;
  context.script.update(
    'user_auth',
    {
      failed_login_attempts: failures,
      locked_until: locked ? timestamp(clock.now + 15 * MINUTE) : null,
      updated_at: timestamp(clock.now),
    },
    { user_id: learner.id },
  );
  clock.advance(locked ? 16 * 60 : context.random.int(20, 120));
  context.script.update(
    'user_auth',
    { failed_login_attempts: 0, locked_until: null, updated_at: timestamp(clock.now) },
    { user_id: learner.id },
  );
}

function changeAvatar(context: SimulationContext, learner: Learner, clock: Clock): void {
  context.script.update(
    'users',
    { avatar_url: avatarUrl(context.random), updated_at: timestamp(clock.now) },
    { id: learner.id },
  );
}

function editProfile(context: SimulationContext, learner: Learner, clock: Clock): void {
  const { random } = context;
  context.script.update(
    'user_profiles',
    {
      bio: pickBio(random),
      learning_goals: array(pickLearningGoals(random)),
      updated_at: timestamp(clock.now),
    },
    { user_id: learner.id },
  );
}

function changeSettings(context: SimulationContext, learner: Learner, clock: Clock): void {
  const { random } = context;
  learner.dailyGoalMinutes = random.pick([5, 10, 15, 20, 30, 45, 60]);
  context.script.update(
    'user_settings',
    {
      daily_goal_minutes: learner.dailyGoalMinutes,
      theme_mode: random.pick(['light', 'dark', 'system']),
      reminder_time: reminderTime(random, learner.usualLocalHour),
      push_notifications: random.chance(0.7),
      updated_at: timestamp(clock.now),
    },
    { user_id: learner.id },
  );
}

function changePassword(context: SimulationContext, learner: Learner, clock: Clock): void {
  const { random } = context;
  context.script.update(
    'user_auth',
    {
      password_hash: passwordHash(random),
      salt: random.base64url(16),
      last_password_change: timestamp(clock.now),
      updated_at: timestamp(clock.now),
    },
    { user_id: learner.id },
  );
}

function enableTwoFactor(context: SimulationContext, learner: Learner, clock: Clock): void {
  const { random } = context;
  learner.twoFactorEnabled = true;
  const recoveryCodes = Array.from(
    { length: 8 },
    () => `${random.chars(RECOVERY_ALPHABET, 4)}-${random.chars(RECOVERY_ALPHABET, 4)}`,
  );
  context.script.update(
    'user_auth',
    {
      two_factor_enabled: true,
      two_factor_secret: random.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 32),
      recovery_codes: array(recoveryCodes),
      updated_at: timestamp(clock.now),
    },
    { user_id: learner.id },
  );
}

function providerUserId(random: Random, provider: SocialProvider): string {
  switch (provider) {
    case 'google':
      return random.digits('1####################');
    case 'facebook':
      return random.digits('10##############');
    case 'apple':
      return `${random.digits('00####')}.${random.hex(16)}.${random.digits('####')}`;
  }
}

function passwordHash(random: Random): string {
  return `pbkdf2_sha256$600000$${random.base64url(32)}`;
}

function avatarUrl(random: Random): string {
  return `${CDN}/avatars/${random.hex(12)}.webp`;
}

/** A reminder shortly before the learner's usual study hour, in their local time. */
function reminderTime(random: Random, usualLocalHour: number): string {
  const hour = (usualLocalHour + 23) % 24;
  return `${String(hour).padStart(2, '0')}:${random.pick(['00', '15', '30', '45'])}:00`;
}

function milestones(
  name: string,
  thresholds: readonly number[],
  count: (learner: Learner) => number,
): Achievement[] {
  return thresholds.map((threshold) => ({
    type: `${threshold}_${name}`,
    reached: (learner) => count(learner) >= threshold,
    data: (learner) => ({ [name]: count(learner) }),
  }));
}
