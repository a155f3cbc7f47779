// Plays PostBook day by day: members sign up (Auth on Postgres, a profile on Mongo), log in, post
// with hashtags, comment, react, share, follow and befriend each other, chat, get notified, change
// their username, display name and avatar, lapse and delete their accounts. Everything is written
// with historical timestamps the way the services write it: SQL for Auth, documents for the rest
// (soft deletes where the seed has an isDeleted flag, hard deletes for unlikes, the TTL collections
// expired in simulated time). Visits follow a weekly rhythm (quieter weekends).
import { ObjectId, type Db, type Document } from 'mongodb';
import type pg from 'pg';
import type { SimulationOptions, SimulationSummary } from '../pack.ts';
import { Random } from '../common/random.ts';
import { SqlScript, increment, raw, timestamp } from '../common/sql-script.ts';
import { validateSimulationOptions } from '../common/simulation-options.ts';
import {
  ACTIVITY_TTL_S,
  createPostbookCollections,
  FRIEND_REQUEST_TTL_S,
  NOTIFICATION_TTL_S,
} from './collections.ts';
import { DocumentBuffer } from './document-buffer.ts';
import {
  COMPOSER_EXPERIMENT,
  COMPOSER_WINDOW_DAYS,
  composerConverts,
  experimentStartDay,
  POSTBOOK_EXPERIMENTS,
  variantOf,
} from './experiments.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const DEFAULT_END_DATE = new Date('2026-11-01T00:00:00Z');
const CHUNK_OPERATIONS = 2000;
/** Members present on day one; the rest arrive over the period. */
const FOUNDING_SHARE = 0.4;
const DELETED_ACCOUNT_SHARE = 0.04;
/** Visit chance multiplier by UTC weekday (Sunday first): quieter weekends. */
const WEEKDAY_FACTOR = [0.65, 1, 1.05, 1.05, 1, 0.95, 0.7];
const HASHTAGS = [
  'travel',
  'food',
  'music',
  'fitness',
  'photography',
  'coding',
  'football',
  'books',
  'art',
  'nature',
  'movies',
  'gaming',
  'fashion',
  'coffee',
  'startup',
  'design',
  'pets',
  'science',
  'running',
  'weekend',
] as const;
const REACTIONS = [
  ['Like', 10],
  ['Love', 4],
  ['Haha', 2],
  ['Wow', 1],
  ['Sad', 1],
  ['Angry', 0.5],
] as const;
const FIRST_NAMES = [
  'An',
  'Binh',
  'Chloe',
  'David',
  'Emma',
  'Felix',
  'Grace',
  'Hana',
  'Ivan',
  'Julia',
  'Kai',
  'Lena',
  'Minh',
  'Noah',
  'Olivia',
  'Pablo',
  'Quynh',
  'Ravi',
  'Sara',
  'Tom',
];
const LAST_NAMES = [
  'Nguyen',
  'Smith',
  'Garcia',
  'Kim',
  'Tran',
  'Muller',
  'Rossi',
  'Khan',
  'Silva',
  'Novak',
  'Le',
  'Brown',
];
const COUNTRIES = [
  ['US', 'America/New_York', 5],
  ['VN', 'Asia/Ho_Chi_Minh', 3],
  ['GB', 'Europe/London', 2],
  ['DE', 'Europe/Berlin', 2],
  ['BR', 'America/Sao_Paulo', 2],
  ['IN', 'Asia/Kolkata', 3],
] as const;

/** What the simulator counts as it plays. */
interface Tallies {
  usersCreated: number;
  usersDeleted: number;
  posts: number;
  comments: number;
  reactions: number;
  unlikes: number;
  shares: number;
  messages: number;
  notifications: number;
  follows: number;
  friendships: number;
  logins: number;
  profileUpdates: number;
  usernameChanges: number;
  postsDeleted: number;
  commentsDeleted: number;
  exposures: number;
}

export interface PostbookSimulationSummary extends SimulationSummary, Tallies {
  documentsWritten: number;
}

interface Member {
  userId: string;
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  displayName: string;
  avatarUrl: string;
  country: string;
  timezone: string;
  signupDay: number;
  signedUpAt: number;
  /** The day the member stops visiting (churn), or null. */
  lapseDay: number | null;
  deletionDay: number | null;
  deleted: boolean;
  /** Base chance of visiting on a weekday. */
  propensity: number;
  postiness: number;
  usernameChanges: number;
  following: Set<string>;
  friends: Set<string>;
  exposures: Map<string, number>;
  /** exp_composer_v2: the end of the 7-day window after exposure, and the planted outcome in it. */
  composerWindowEnd: number | null;
  composerConverts: boolean;
  postedInWindow: boolean;
}

interface PostRecord {
  id: ObjectId;
  authorId: string;
  createdAt: number;
  deleted: boolean;
  comments: ObjectId[];
}

export async function simulatePostbook(
  client: pg.ClientBase | pg.Pool,
  options: SimulationOptions & { mongo?: Db },
): Promise<PostbookSimulationSummary> {
  validateSimulationOptions(options);
  return new Simulation(client, options).run();
}

class Simulation {
  private readonly random: Random;
  private readonly script = new SqlScript();
  private readonly documents = new DocumentBuffer();
  private readonly periodStart: number;
  private readonly members: Member[] = [];
  private readonly byId = new Map<string, Member>();
  private readonly posts: PostRecord[] = [];
  /** `${entityId}|${userId}` → the like's _id, for unlikes and the unique index. */
  private readonly likes = new Map<string, ObjectId>();
  /** Sorted pair of user ids → conversation _id. */
  private readonly conversations = new Map<string, ObjectId>();
  private readonly pendingRequests = new Map<string, { id: ObjectId; sender: string; sentAt: number }[]>();
  /** `${sender}|${receiver}` of every request made: the seed's unique index allows one per pair. */
  private readonly requested = new Set<string>();
  private readonly tallies: Tallies = {
    usersCreated: 0,
    usersDeleted: 0,
    posts: 0,
    comments: 0,
    reactions: 0,
    unlikes: 0,
    shares: 0,
    messages: 0,
    notifications: 0,
    follows: 0,
    friendships: 0,
    logins: 0,
    profileUpdates: 0,
    usernameChanges: 0,
    postsDeleted: 0,
    commentsDeleted: 0,
    exposures: 0,
  };

  constructor(
    private readonly client: pg.ClientBase | pg.Pool,
    private readonly options: SimulationOptions & { mongo?: Db },
  ) {
    this.random = new Random(options.seed);
    this.periodStart = (options.endDate ?? DEFAULT_END_DATE).getTime() - options.days * DAY;
    this.createMembers();
  }

  async run(): Promise<PostbookSimulationSummary> {
    const { mongo } = this.options;
    if (mongo) await createPostbookCollections(mongo);
    for (const experiment of POSTBOOK_EXPERIMENTS)
      this.documents.insert('experiments', {
        _id: this.objectId(),
        ...experiment,
        createdAt: new Date(this.periodStart),
      });
    for (let day = 0; day < this.options.days; day++) {
      await this.simulateDay(day);
      this.options.onProgress?.(day + 1, this.options.days);
    }
    await this.flush();
    const counts = this.script.statementCounts;
    return {
      statements: counts.insert + counts.update + counts.delete,
      ...this.tallies,
      documentsWritten: [...this.documents.written.values()].reduce((sum, n) => sum + n, 0),
    };
  }

  private createMembers(): void {
    const { random, options } = this;
    const takenUsernames = new Set<string>();
    for (let index = 0; index < options.users; index++) {
      const firstName = random.pick(FIRST_NAMES);
      const lastName = random.pick(LAST_NAMES);
      const username = uniqueUsername(`${firstName}_${lastName}`.toLowerCase(), takenUsernames, random);
      const [country, timezone] = random.weighted(COUNTRIES.map(([c, tz, w]) => [[c, tz] as const, w]));
      const signupDay = random.chance(FOUNDING_SHARE) ? 0 : random.int(0, options.days - 1);
      // Lifetimes are long-tailed: some members lapse within days, most outlast the period.
      const lifetime = Math.round(-Math.log(1 - random.next()) * options.days * 2.5);
      const userId = random.uuid();
      const member: Member = {
        userId,
        username,
        firstName,
        lastName,
        email: `${username}@${random.pick(['example.com', 'mail.test', 'postbook.test'])}`,
        displayName: `${firstName} ${lastName}`,
        avatarUrl: avatarUrl(random),
        country,
        timezone,
        signupDay,
        signedUpAt: this.periodStart + signupDay * DAY + random.int(7 * 60, 23 * 60) * MINUTE,
        lapseDay: signupDay + 2 + lifetime < options.days ? signupDay + 2 + lifetime : null,
        deletionDay: null,
        deleted: false,
        propensity: random.between(0.25, 0.9),
        postiness: random.between(0.1, 0.7),
        usernameChanges: 0,
        following: new Set(),
        friends: new Set(),
        exposures: new Map(),
        composerWindowEnd: null,
        composerConverts: composerConverts(userId),
        postedInWindow: false,
      };
      this.members.push(member);
      this.byId.set(userId, member);
    }
    const canLeave = this.members.filter((member) => member.signupDay < options.days - 1);
    const leaving = Math.min(
      canLeave.length,
      Math.max(1, Math.round(this.members.length * DELETED_ACCOUNT_SHARE)),
    );
    for (const member of random.sample(canLeave, leaving))
      member.deletionDay = random.int(member.signupDay + 1, options.days - 1);
  }

  private async simulateDay(day: number): Promise<void> {
    const dayStart = this.periodStart + day * DAY;
    const weekday = WEEKDAY_FACTOR[new Date(dayStart).getUTCDay()] ?? 1;
    for (const member of this.members.filter((m) => m.signupDay === day)) this.signUp(member);
    for (const member of this.members) {
      if (!this.isLive(member, day)) continue;
      const firstVisit = day === member.signupDay;
      if (!firstVisit && !this.random.chance(Math.min(1, member.propensity * weekday))) continue;
      const at = firstVisit
        ? member.signedUpAt + this.random.int(2, 20) * MINUTE
        : dayStart + this.random.int(7 * 60, 23 * 60 + 30) * MINUTE;
      this.visit(member, day, at);
      if (this.script.pendingCount + this.documents.pendingCount >= CHUNK_OPERATIONS) await this.flush();
    }
    this.closeDay(day, dayStart + DAY - MINUTE);
    await this.flush();
  }

  private isLive(member: Member, day: number): boolean {
    return !member.deleted && member.signupDay <= day && (member.lapseDay === null || day < member.lapseDay);
  }

  /** SQL first, then documents: a service writes its store after the user's action committed. */
  private async flush(): Promise<void> {
    await this.script.flush(this.client);
    await this.documents.flush(this.options.mongo);
  }

  /** Registration (what create_user does, at the simulated time), email verification, the profile. */
  private signUp(member: Member): void {
    const { random } = this;
    const at = member.signedUpAt;
    this.script.insert('users', [
      {
        user_id: member.userId,
        username: member.username,
        email: member.email,
        email_normalized: member.email.toLowerCase(),
        password_hash: `$2b$12$${random.chars(BCRYPT_ALPHABET, 53)}`,
        first_name: member.firstName,
        last_name: member.lastName,
        phone_number: random.chance(0.5) ? random.digits('+1 415-###-####') : null,
        profile_picture_url: member.avatarUrl,
        is_email_verified: false,
        role: 'User',
        account_status: 'Active',
        created_at: timestamp(at),
        updated_at: timestamp(at),
      },
    ]);
    const codeId = random.uuid();
    const code = String(random.int(100000, 999999));
    this.script.insert('verification_codes', [
      {
        verification_id: codeId,
        user_id: member.userId,
        code,
        code_hash: random.hex(32),
        code_type: 'Email',
        expires_at: timestamp(at + 15 * MINUTE),
        created_at: timestamp(at),
      },
    ]);
    // Most members verify within minutes; the rest never do, and the code expires unused.
    if (random.chance(0.85)) {
      const verifiedAt = at + random.int(1, 10) * MINUTE;
      this.script.update(
        'users',
        { is_email_verified: true, email_verified_at: timestamp(verifiedAt) },
        { user_id: member.userId },
      );
      this.script.update(
        'verification_codes',
        { is_used: true, used_at: timestamp(verifiedAt) },
        { verification_id: codeId },
      );
    }
    this.documents.insert('user_profiles', {
      _id: this.objectId(),
      userId: member.userId,
      username: member.username,
      displayName: member.displayName,
      firstName: member.firstName,
      lastName: member.lastName,
      email: member.email,
      bio: '',
      avatarUrl: member.avatarUrl,
      location: { country: member.country },
      friends: [],
      followers: [],
      following: [],
      blockedUsers: [],
      isOnline: false,
      lastSeenAt: new Date(at),
      privacySettings: { profileVisibility: 'Public', allowMessages: 'Everyone' },
      accountSettings: { language: 'en', timezone: member.timezone, theme: 'Auto' },
      statistics: {
        friendsCount: 0,
        followersCount: 0,
        followingCount: 0,
        postsCount: 0,
        photosCount: 0,
        videosCount: 0,
        profileViewsCount: 0,
      },
      isVerified: false,
      isActive: true,
      isPremium: random.chance(0.05),
      isDeleted: false,
      createdAt: new Date(at),
      updatedAt: new Date(at),
    });
    this.tallies.usersCreated++;
  }

  /** One visit: log in, see the experiments, then post, comment, react, follow, chat, edit. */
  private visit(member: Member, day: number, start: number): void {
    const { random } = this;
    let now = this.logIn(member, start);
    this.expose(member, day, now);
    const advance = (minutes: number) => (now += random.int(1, minutes) * MINUTE + random.int(0, 59_000));
    for (let n = this.postsToWrite(member, now); n > 0; n--) this.post(member, advance(6));
    for (let n = random.int(0, 2); n > 0; n--) {
      const post = this.feedPost(member);
      if (post) this.comment(member, post, advance(4));
    }
    for (let n = random.int(0, 4); n > 0; n--) {
      const post = this.feedPost(member);
      if (post) this.react(member, post, advance(2));
    }
    if (random.chance(0.05)) {
      const post = this.feedPost(member);
      if (post && post.authorId !== member.userId) this.share(member, post, advance(3));
    }
    if (random.chance(0.35)) this.follow(member, advance(2));
    this.answerFriendRequests(member, advance(2));
    if (random.chance(0.12)) this.requestFriendship(member, advance(2));
    if (random.chance(0.3)) this.chat(member, advance(3));
    if (random.chance(0.04)) this.editProfile(member, advance(3));
    if (random.chance(0.015) && member.usernameChanges < 2) this.changeUsername(member, advance(3));
    if (random.chance(0.03)) this.deleteOwnPost(member, advance(2));
    this.documents.update(
      'user_profiles',
      { userId: member.userId },
      { $set: { lastSeenAt: new Date(now), updatedAt: new Date(now) } },
    );
  }

  /** create_user_session's steps, at the simulated time; now and then a mistyped password first. */
  private logIn(member: Member, at: number): number {
    const { random } = this;
    const device = random.weighted([
      ['Mobile', 6],
      ['Web', 3],
      ['Desktop', 1],
    ] as const);
    const ip = `${random.int(11, 223)}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`;
    if (random.chance(0.06)) {
      this.script.insert('user_login_history', [
        {
          user_id: member.userId,
          login_identifier: member.email,
          login_status: 'Failed',
          failure_reason: 'Invalid password',
          device_type: device,
          ip_address: ip,
          login_at: timestamp(at - 30_000),
        },
      ]);
      this.script.update(
        'users',
        { failed_login_attempts: increment('failed_login_attempts', 1) },
        { user_id: member.userId },
      );
    }
    const token = random.base64url(48);
    this.script.insert('user_sessions', [
      {
        session_id: random.uuid(),
        user_id: member.userId,
        refresh_token: token,
        refresh_token_hash: random.hex(32),
        device_type: device,
        device_info: device === 'Mobile' ? 'PostBook iOS 4.2' : 'Chrome 131',
        ip_address: ip,
        location: member.country,
        user_agent: device === 'Mobile' ? 'PostBook/4.2 (iPhone)' : 'Mozilla/5.0 Chrome/131.0',
        expires_at: timestamp(at + 7 * DAY),
        created_at: timestamp(at),
        last_activity_at: timestamp(at),
      },
    ]);
    this.script.update(
      'users',
      { last_login_at: timestamp(at), failed_login_attempts: 0, account_locked_until: null },
      { user_id: member.userId },
    );
    this.script.insert('user_login_history', [
      {
        user_id: member.userId,
        login_identifier: member.email,
        login_status: 'Success',
        failure_reason: null,
        device_type: device,
        ip_address: ip,
        login_at: timestamp(at),
      },
    ]);
    this.tallies.logins++;
    return at + random.int(5, 40) * 1000;
  }

  /** The first visit once an experiment runs is the exposure, recorded on the activity timeline. */
  private expose(member: Member, day: number, at: number): void {
    for (const experiment of POSTBOOK_EXPERIMENTS) {
      const name = experiment.experimentName;
      if (member.exposures.has(name) || day < experimentStartDay(name, this.options.days)) continue;
      member.exposures.set(name, at);
      if (name === COMPOSER_EXPERIMENT) member.composerWindowEnd = at + COMPOSER_WINDOW_DAYS * DAY;
      // No expiresAt: exposures are kept for analysis, unlike the 90-day activity timeline.
      this.documents.insert('user_activities', {
        _id: this.objectId(),
        userId: member.userId,
        activityType: 'ExperimentExposure',
        description: `Saw ${name}`,
        metadata: { experiment: name, variant: variantOf(name, member.userId) },
        isPublic: false,
        createdAt: new Date(at),
      });
      this.tallies.exposures++;
    }
  }

  /**
   * How many posts this visit writes. Inside the composer experiment's window the planted outcome
   * decides: a converting member posts at the first visit, the others not at all until it ends.
   */
  private postsToWrite(member: Member, now: number): number {
    if (member.composerWindowEnd !== null && now < member.composerWindowEnd + DAY) {
      if (!member.composerConverts || member.postedInWindow) return 0;
      member.postedInWindow = true;
      return 1;
    }
    if (!this.random.chance(member.postiness)) return 0;
    return this.random.chance(0.25) ? 2 : 1;
  }

  private post(member: Member, at: number): void {
    const { random } = this;
    const id = this.objectId();
    const postType = random.weighted([
      ['Text', 6],
      ['Photo', 3],
      ['Video', 1],
    ] as const);
    const hashtags = random.sample(
      HASHTAGS,
      random.weighted([
        [0, 3],
        [1, 4],
        [2, 2],
        [3, 1],
      ] as const),
    );
    const mediaUrls: string[] = [];
    if (postType !== 'Text') {
      const fileType = postType === 'Photo' ? 'Image' : 'Video';
      const url = `https://cdn.postbook.test/${fileType.toLowerCase()}/${random.hex(8)}`;
      mediaUrls.push(url);
      this.documents.insert('media_files', {
        _id: this.objectId(),
        userId: member.userId,
        fileName: `${random.hex(8)}.${fileType === 'Image' ? 'jpg' : 'mp4'}`,
        originalFileName: fileType === 'Image' ? 'IMG_0001.jpg' : 'clip.mp4',
        fileType,
        mimeType: fileType === 'Image' ? 'image/jpeg' : 'video/mp4',
        fileSize: random.int(80_000, fileType === 'Image' ? 8_000_000 : 90_000_000),
        storageProvider: 'S3',
        storagePath: `/uploads/${member.userId}/${random.hex(6)}`,
        url,
        category: 'post',
        tags: hashtags,
        processingStatus: 'Completed',
        usageCount: 1,
        usedIn: [{ entityType: 'Post', entityId: id.toHexString() }],
        isPublic: true,
        isDeleted: false,
        uploadedAt: new Date(at - 20_000),
        updatedAt: new Date(at - 20_000),
      });
    }
    this.documents.insert('posts', {
      _id: id,
      userId: member.userId,
      username: member.username,
      displayName: member.displayName,
      avatarUrl: member.avatarUrl,
      content: `${random.pick(POST_OPENERS)} ${hashtags.map((tag) => `#${tag}`).join(' ')}`.trim(),
      mediaUrls,
      postType,
      visibility: random.weighted([
        ['Public', 7],
        ['Friends', 3],
      ] as const),
      hashtags,
      mentions: [],
      likesCount: 0,
      commentsCount: 0,
      sharesCount: 0,
      viewsCount: 0,
      isPinned: false,
      isArchived: false,
      isDeleted: false,
      createdAt: new Date(at),
      updatedAt: new Date(at),
    });
    this.posts.push({ id, authorId: member.userId, createdAt: at, deleted: false, comments: [] });
    this.activity(member, 'PostCreated', at, { postId: id.toHexString() });
    this.tallies.posts++;
  }

  /** A recent live post, mostly from someone the member follows. */
  private feedPost(member: Member): PostRecord | undefined {
    const recent = this.posts.slice(-300).filter((post) => !post.deleted);
    if (recent.length === 0) return undefined;
    const followed = recent.filter((post) => member.following.has(post.authorId));
    return this.random.pick(followed.length > 0 && this.random.chance(0.7) ? followed : recent);
  }

  private comment(member: Member, post: PostRecord, at: number): void {
    const { random } = this;
    const id = this.objectId();
    const parent = post.comments.length > 0 && random.chance(0.25) ? random.pick(post.comments) : null;
    this.documents.insert('comments', {
      _id: id,
      postId: post.id,
      userId: member.userId,
      username: member.username,
      displayName: member.displayName,
      avatarUrl: member.avatarUrl,
      content: random.pick(COMMENTS),
      mentions: [],
      parentCommentId: parent,
      likesCount: 0,
      repliesCount: 0,
      isEdited: false,
      isDeleted: false,
      createdAt: new Date(at),
      updatedAt: new Date(at),
    });
    if (parent) this.documents.update('comments', { _id: parent }, { $inc: { repliesCount: 1 } });
    this.documents.update(
      'posts',
      { _id: post.id },
      { $inc: { commentsCount: 1 }, $set: { updatedAt: new Date(at) } },
    );
    post.comments.push(id);
    this.notify(post.authorId, member, 'Comment', at, post.id.toHexString(), 'Post');
    this.tallies.comments++;
    // Now and then a member takes a comment back (a soft delete, as the seed's isDeleted says).
    if (random.chance(0.03)) {
      this.documents.update(
        'comments',
        { _id: id },
        {
          $set: {
            isDeleted: true,
            deletedAt: new Date(at + 5 * MINUTE),
            updatedAt: new Date(at + 5 * MINUTE),
          },
        },
      );
      this.documents.update('posts', { _id: post.id }, { $inc: { commentsCount: -1 } });
      post.comments.pop();
      this.tallies.commentsDeleted++;
    }
  }

  /** A reaction on the post or one of its comments; reacting again to the same entity is an unlike. */
  private react(member: Member, post: PostRecord, at: number): void {
    const { random } = this;
    const onComment = post.comments.length > 0 && random.chance(0.2);
    const entityId = onComment ? random.pick(post.comments) : post.id;
    const entityType = onComment ? 'Comment' : 'Post';
    const collection = onComment ? 'comments' : 'posts';
    const key = `${entityId.toHexString()}|${member.userId}`;
    const existing = this.likes.get(key);
    if (existing) {
      // The unique index allows one like per user and entity; a second tap, now and then, removes it.
      if (!random.chance(0.3)) return;
      this.documents.delete('likes', { _id: existing });
      this.documents.update(collection, { _id: entityId }, { $inc: { likesCount: -1 } });
      this.likes.delete(key);
      this.tallies.unlikes++;
      return;
    }
    const id = this.objectId();
    this.documents.insert('likes', {
      _id: id,
      entityId,
      entityType,
      userId: member.userId,
      username: member.username,
      displayName: member.displayName,
      avatarUrl: member.avatarUrl,
      reactionType: random.weighted(REACTIONS),
      createdAt: new Date(at),
    });
    this.documents.update(collection, { _id: entityId }, { $inc: { likesCount: 1 } });
    this.likes.set(key, id);
    if (!onComment) this.notify(post.authorId, member, 'Like', at, post.id.toHexString(), 'Post');
    this.tallies.reactions++;
  }

  private share(member: Member, post: PostRecord, at: number): void {
    const sharedId = this.objectId();
    const caption = this.random.pick(COMMENTS);
    this.documents.insert('posts', {
      _id: sharedId,
      userId: member.userId,
      username: member.username,
      displayName: member.displayName,
      avatarUrl: member.avatarUrl,
      content: caption,
      mediaUrls: [],
      postType: 'Link',
      visibility: 'Public',
      hashtags: [],
      mentions: [],
      likesCount: 0,
      commentsCount: 0,
      sharesCount: 0,
      viewsCount: 0,
      isPinned: false,
      isArchived: false,
      isDeleted: false,
      createdAt: new Date(at),
      updatedAt: new Date(at),
      originalPostId: post.id,
      shareCaption: caption,
    });
    this.documents.insert('shares', {
      _id: this.objectId(),
      originalPostId: post.id,
      sharedPostId: sharedId,
      userId: member.userId,
      username: member.username,
      displayName: member.displayName,
      avatarUrl: member.avatarUrl,
      caption,
      visibility: 'Public',
      createdAt: new Date(at),
    });
    this.documents.update('posts', { _id: post.id }, { $inc: { sharesCount: 1 } });
    this.notify(post.authorId, member, 'Share', at, post.id.toHexString(), 'Post');
    this.tallies.shares++;
  }

  private follow(member: Member, at: number): void {
    const candidates = this.members.filter(
      (other) =>
        other !== member &&
        !other.deleted &&
        other.signupDay <= this.dayOf(at) &&
        !member.following.has(other.userId),
    );
    if (candidates.length === 0) return;
    const target = this.random.pick(candidates);
    member.following.add(target.userId);
    this.documents.update(
      'user_profiles',
      { userId: member.userId },
      { $addToSet: { following: target.userId } },
    );
    this.documents.update(
      'user_profiles',
      { userId: target.userId },
      { $addToSet: { followers: member.userId } },
    );
    this.notify(target.userId, member, 'Follow', at, member.userId, 'User');
    this.tallies.follows++;
  }

  private requestFriendship(member: Member, at: number): void {
    const candidates = [...member.following].filter(
      (id) =>
        !member.friends.has(id) &&
        !this.byId.get(id)?.deleted &&
        !this.requested.has(`${member.userId}|${id}`) &&
        !this.requested.has(`${id}|${member.userId}`),
    );
    if (candidates.length === 0) return;
    const receiver = this.byId.get(this.random.pick(candidates));
    if (!receiver) return;
    const id = this.objectId();
    this.requested.add(`${member.userId}|${receiver.userId}`);
    this.documents.insert('friend_requests', {
      _id: id,
      senderId: member.userId,
      senderUsername: member.username,
      senderDisplayName: member.displayName,
      senderAvatarUrl: member.avatarUrl,
      receiverId: receiver.userId,
      receiverUsername: receiver.username,
      receiverDisplayName: receiver.displayName,
      receiverAvatarUrl: receiver.avatarUrl,
      message: 'Hi!',
      status: 'Pending',
      sentAt: new Date(at),
      expiresAt: new Date(at + FRIEND_REQUEST_TTL_S * 1000),
      createdAt: new Date(at),
      updatedAt: new Date(at),
    });
    const queue = this.pendingRequests.get(receiver.userId) ?? [];
    queue.push({ id, sender: member.userId, sentAt: at });
    this.pendingRequests.set(receiver.userId, queue);
    this.notify(receiver.userId, member, 'FriendRequest', at, id.toHexString(), 'FriendRequest');
  }

  private answerFriendRequests(member: Member, at: number): void {
    const queue = this.pendingRequests.get(member.userId);
    if (!queue) return;
    this.pendingRequests.delete(member.userId);
    for (const request of queue) {
      const sender = this.byId.get(request.sender);
      const accepted = sender !== undefined && !sender.deleted && this.random.chance(0.8);
      this.documents.update(
        'friend_requests',
        { _id: request.id },
        {
          $set: {
            status: accepted ? 'Accepted' : 'Rejected',
            respondedAt: new Date(at),
            updatedAt: new Date(at),
          },
        },
      );
      if (!accepted || !sender) continue;
      member.friends.add(sender.userId);
      sender.friends.add(member.userId);
      this.documents.update(
        'user_profiles',
        { userId: member.userId },
        { $addToSet: { friends: sender.userId } },
      );
      this.documents.update(
        'user_profiles',
        { userId: sender.userId },
        { $addToSet: { friends: member.userId } },
      );
      this.notify(sender.userId, member, 'FriendAccepted', at, request.id.toHexString(), 'FriendRequest');
      this.activity(member, 'FriendAdded', at, { friendId: sender.userId, friendUsername: sender.username });
      this.tallies.friendships++;
    }
  }

  /** A few messages to a friend (or someone followed) in their one-on-one conversation. */
  private chat(member: Member, start: number): void {
    const { random } = this;
    const contacts = [...(member.friends.size > 0 ? member.friends : member.following)].filter(
      (id) => !this.byId.get(id)?.deleted,
    );
    if (contacts.length === 0) return;
    const other = this.byId.get(random.pick(contacts));
    if (!other) return;
    const pair = [member.userId, other.userId].sort().join('|');
    let conversationId = this.conversations.get(pair);
    if (!conversationId) {
      conversationId = this.objectId();
      this.conversations.set(pair, conversationId);
      this.documents.insert('conversations', {
        _id: conversationId,
        type: 'OneOnOne',
        participants: [member, other].map((person) => ({
          userId: person.userId,
          username: person.username,
          displayName: person.displayName,
          avatarUrl: person.avatarUrl,
          role: 'Member',
          joinedAt: new Date(start),
          isMuted: false,
          isActive: true,
        })),
        participantsCount: 2,
        messagesCount: 0,
        isArchived: false,
        createdAt: new Date(start),
        updatedAt: new Date(start),
      });
    }
    let at = start;
    for (let n = random.int(1, 4); n > 0; n--) {
      at += random.int(5, 90) * 1000;
      const id = this.objectId();
      const content = random.pick(MESSAGES);
      this.documents.insert('messages', {
        _id: id,
        conversationId: conversationId.toHexString(),
        senderId: member.userId,
        senderUsername: member.username,
        senderDisplayName: member.displayName,
        senderAvatarUrl: member.avatarUrl,
        content,
        messageType: 'Text',
        mediaUrls: [],
        readBy: [],
        deliveredTo: [{ userId: other.userId, username: other.username, deliveredAt: new Date(at + 1000) }],
        reactions: [],
        mentions: [],
        isEdited: false,
        isDeleted: false,
        deletedFor: [],
        createdAt: new Date(at),
        updatedAt: new Date(at),
      });
      this.documents.update(
        'conversations',
        { _id: conversationId },
        {
          $set: {
            lastMessage: {
              messageId: id.toHexString(),
              content,
              senderId: member.userId,
              senderUsername: member.username,
              messageType: 'Text',
              sentAt: new Date(at),
            },
            updatedAt: new Date(at),
          },
          $inc: { messagesCount: 1 },
        },
      );
      this.tallies.messages++;
    }
    this.notify(other.userId, member, 'Message', at, conversationId.toHexString(), 'Conversation');
  }

  /**
   * A new display name or avatar, made in the UserProfile service (a new avatar also reaches Auth's
   * profile_picture_url, as update_user_profile does). The copies in posts, comments, chat and
   * notifications are not touched here: keeping them in step is Tributary's job (denormalize.ts).
   */
  private editProfile(member: Member, at: number): void {
    const { random } = this;
    const set: Document = { updatedAt: new Date(at) };
    const fields: string[] = [];
    if (random.chance(0.5)) {
      member.displayName = random.chance(0.5)
        ? `${member.firstName} ${member.lastName.slice(0, 1)}.`
        : `${member.firstName} ${random.pick(['✨', 'the Great', 'from ' + member.country, random.pick(LAST_NAMES)])}`;
      set.displayName = member.displayName;
      fields.push('displayName');
    }
    if (fields.length === 0 || random.chance(0.5)) {
      member.avatarUrl = avatarUrl(random);
      set.avatarUrl = member.avatarUrl;
      fields.push('avatar');
      this.script.update(
        'users',
        { profile_picture_url: member.avatarUrl, updated_at: timestamp(at) },
        { user_id: member.userId },
      );
    }
    this.documents.update('user_profiles', { userId: member.userId }, { $set: set });
    this.activity(member, 'ProfileUpdated', at, { fields });
    this.tallies.profileUpdates++;
  }

  /** A username change happens in Auth (Postgres) alone; the seed syncs it to UserProfile from there. */
  private changeUsername(member: Member, at: number): void {
    const taken = new Set(this.members.map((other) => other.username.toLowerCase()));
    member.username = uniqueUsername(
      `${member.firstName.toLowerCase()}_${this.random.hex(2)}`,
      taken,
      this.random,
    );
    member.usernameChanges++;
    this.script.update(
      'users',
      { username: member.username, updated_at: timestamp(at) },
      { user_id: member.userId },
    );
    this.tallies.usernameChanges++;
  }

  /** A soft delete, as the PostFeed service makes it: the post stays, flagged. */
  private deleteOwnPost(member: Member, at: number): void {
    // Only posts older than the composer experiment's window: its planted outcome stays exact.
    const own = this.posts.filter(
      (post) =>
        post.authorId === member.userId &&
        !post.deleted &&
        post.createdAt < at - (COMPOSER_WINDOW_DAYS + 1) * DAY,
    );
    if (own.length === 0) return;
    const post = this.random.pick(own);
    post.deleted = true;
    this.documents.update(
      'posts',
      { _id: post.id },
      { $set: { isDeleted: true, deletedAt: new Date(at), updatedAt: new Date(at) } },
    );
    this.tallies.postsDeleted++;
  }

  private notify(
    recipientId: string,
    actor: Member,
    type: string,
    at: number,
    entityId: string,
    entityType: string,
  ): void {
    if (recipientId === actor.userId) return;
    this.documents.insert('notifications', {
      _id: this.objectId(),
      userId: recipientId,
      type,
      title: NOTIFICATION_TITLES[type] ?? type,
      message: `${actor.displayName} ${(NOTIFICATION_TITLES[type] ?? type).toLowerCase()}`,
      actorId: actor.userId,
      actorUsername: actor.username,
      actorDisplayName: actor.displayName,
      actorAvatarUrl: actor.avatarUrl,
      relatedEntityId: entityId,
      relatedEntityType: entityType,
      actionUrl: `/${entityType.toLowerCase()}/${entityId}`,
      isRead: false,
      deliveryStatus: 'Sent',
      channels: ['InApp', 'Push'],
      sentVia: ['InApp'],
      groupKey: `${recipientId}:${type}:${entityId}`,
      groupCount: 1,
      expiresAt: new Date(at + NOTIFICATION_TTL_S * 1000),
      createdAt: new Date(at),
      updatedAt: new Date(at),
    });
    this.tallies.notifications++;
  }

  private activity(member: Member, activityType: string, at: number, metadata: Document): void {
    this.documents.insert('user_activities', {
      _id: this.objectId(),
      userId: member.userId,
      activityType,
      description: activityType,
      metadata,
      isPublic: activityType !== 'ProfileUpdated',
      createdAt: new Date(at),
      expiresAt: new Date(at + ACTIVITY_TTL_S * 1000),
    });
  }

  /**
   * Account deletions (soft_delete_user's steps, and the profile flagged), then the nightly jobs:
   * cleanup_old_data's deletes and the TTL indexes' expiries, in simulated time.
   */
  private closeDay(day: number, night: number): void {
    for (const member of this.members) {
      if (member.deleted || member.deletionDay !== day) continue;
      member.deleted = true;
      this.script.update(
        'users',
        { is_deleted: true, deleted_at: timestamp(night), account_status: 'Deleted' },
        { user_id: member.userId },
      );
      this.script.update('user_sessions', { is_active: false }, { user_id: member.userId });
      this.documents.update(
        'user_profiles',
        { userId: member.userId },
        {
          $set: { isDeleted: true, isActive: false, deletedAt: new Date(night), updatedAt: new Date(night) },
        },
      );
      this.tallies.usersDeleted++;
    }
    this.script.delete('user_sessions', raw(`expires_at < ${timestamp(night).sql}`));
    this.script.delete('verification_codes', raw(`expires_at < ${timestamp(night).sql} AND is_used = FALSE`));
    this.script.delete('user_login_history', raw(`login_at < ${timestamp(night - 90 * DAY).sql}`));
    for (const collection of ['notifications', 'friend_requests', 'user_activities'])
      this.documents.deleteMany(collection, { expiresAt: { $lt: new Date(night) } });
  }

  private dayOf(at: number): number {
    return Math.floor((at - this.periodStart) / DAY);
  }

  /** Reproducible ids: the same seed writes the same documents. */
  private objectId(): ObjectId {
    return new ObjectId(this.random.hex(12));
  }
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const POST_OPENERS = [
  'What a day!',
  'Just finished a long run.',
  'Trying a new recipe tonight.',
  'Anyone else watching the game?',
  'New blog post is up.',
  'Sunset from my balcony.',
  'Reading a great book right now.',
  'Big news coming soon.',
];
const COMMENTS = [
  'Love this!',
  'So true',
  'Congrats!',
  'Haha nice',
  'Where is this?',
  'Great shot',
  '👏👏',
  'Agreed.',
];
const MESSAGES = [
  'Hey!',
  'How are you?',
  'See you tomorrow',
  'Did you see my post?',
  'lol',
  'Thanks!',
  'On my way',
];
const NOTIFICATION_TITLES: Record<string, string> = {
  Comment: 'Commented on your post',
  Like: 'Liked your post',
  Share: 'Shared your post',
  Follow: 'Started following you',
  FriendRequest: 'Sent you a friend request',
  FriendAccepted: 'Accepted your friend request',
  Message: 'Sent you a message',
};

function avatarUrl(random: Random): string {
  return `https://cdn.postbook.test/avatars/${random.hex(8)}.jpg`;
}

function uniqueUsername(base: string, taken: Set<string>, random: Random): string {
  let name = base.replace(/[^a-z0-9_]/g, '').slice(0, 40);
  while (taken.has(name.toLowerCase())) name = `${base.slice(0, 40)}${random.int(1, 9999)}`;
  taken.add(name.toLowerCase());
  return name;
}
