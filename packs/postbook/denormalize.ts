// Keeps PostBook's denormalized names in step (seed 001, "Cross-Service Data Synchronization"):
// every copy of a member's username, displayName and avatarUrl — in posts, comments, likes,
// shares, chat messages and conversations, notifications (as the actor) and friend requests — and
// the profile's own username, which Auth owns. There is no event bus in the apps: the changes come
// from Tributary's captures (a LandingSink that tees the captured changes here after they landed).
//
// Order: a username's truth is Auth's `users` row, versioned by its Postgres position; display
// name and avatar are the profile's, versioned by its MongoDB cluster time. Per member and per
// field group, `profile_sync` (Tributary's own collection) keeps the newest version applied; an
// older change (a replay, a redelivered batch) is dropped there, and every copy carries the
// version it was written at, so a copy is only ever overwritten by a newer one (conditional
// updates). Idempotent: applying a change twice writes nothing the second time.
//
// Crashes: a change is recorded, then its copies written, then its events published, then marked
// done (`<group>Done`). A change recorded but not done (the process died in between) is applied
// again when its batch is replayed: the copies' stamps make the rewrite a no-op where it landed,
// and its events are published then. An event is thus published at least once; one published just
// before a crash is published again, with the same message id for consumers to drop it by.
//
// `reconcile` is the periodic pass the seed asks for: it reads the truth (Auth's usernames, the
// profiles' names) and rewrites every copy that drifted, e.g. a document an app wrote from a
// stale cache after the last change had been propagated.
import { Long, MongoServerError, type Db, type Document, type Filter, type UpdateFilter } from 'mongodb';
import { parseExtendedJson } from '../../ingest/documents/extended-json.ts';
import type pg from 'pg';
import type { SourceChange } from '../../ingest/landing/types.ts';
import {
  createdAccountOf,
  userCreatedEvents,
  type DomainEvent,
  type EventPublisher,
} from './domain-events.ts';

/** Tributary's per-member record of the newest change applied (capture leaves it out). */
export const PROFILE_SYNC_COLLECTION = 'profile_sync';

type Group = 'username' | 'profile';

/** The newest version of the group recorded for a member, and the newest done (copies and events). */
const versionField = (group: Group) => `${group}Version`;
const doneField = (group: Group) => `${group}Done`;

/** The fields of one copy of a member's names in a collection, and the path of its version stamp. */
interface CopySpec {
  collection: string;
  /** The member's id field; inside an array, the array's path (see `array`). */
  idField: string;
  username: string;
  displayName?: string;
  avatarUrl?: string;
  /** Where the copy's versions are kept (`<stamp>.username`, `<stamp>.profile`). */
  stamp: string;
  /** The copy is an element of this array (e.g. conversation participants): one arrayFilter. */
  array?: string;
}

const author = (collection: string): CopySpec => ({
  collection,
  idField: 'userId',
  username: 'username',
  displayName: 'displayName',
  avatarUrl: 'avatarUrl',
  stamp: '_authorSync',
});
const prefixed = (collection: string, prefix: string): CopySpec => ({
  collection,
  idField: `${prefix}Id`,
  username: `${prefix}Username`,
  displayName: `${prefix}DisplayName`,
  avatarUrl: `${prefix}AvatarUrl`,
  stamp: `_${prefix}Sync`,
});

/** Every copy the seed names (Chat, PostFeed, Notification; friend requests in UserProfile). */
export const COPIES: readonly CopySpec[] = [
  author('posts'),
  author('comments'),
  author('likes'),
  author('shares'),
  prefixed('messages', 'sender'),
  prefixed('notifications', 'actor'),
  prefixed('friend_requests', 'sender'),
  prefixed('friend_requests', 'receiver'),
  {
    collection: 'conversations',
    array: 'participants',
    idField: 'userId',
    username: 'username',
    displayName: 'displayName',
    avatarUrl: 'avatarUrl',
    stamp: '_sync',
  },
  {
    collection: 'conversations',
    idField: 'lastMessage.senderId',
    username: 'lastMessage.senderUsername',
    stamp: '_lastMessageSync',
  },
  // The profile's username is itself a copy of Auth's.
  { collection: 'user_profiles', idField: 'userId', username: 'username', stamp: '_authSync' },
];

/** How many members' changes of a batch are applied at once. */
const PARALLEL_CHANGES = 32;

export interface NameChange {
  userId: string;
  group: Group;
  /** The source position of the change: Postgres LSN (username) or Mongo cluster time (profile). */
  version: bigint;
  values: { username?: string; displayName?: string; avatarUrl?: string };
}

export interface ApplyResult {
  /** Dropped: not newer than what was applied for the member. */
  stale: boolean;
  /** Copies rewritten. */
  modified: number;
}

/** The name changes a captured change carries (Auth `users` rows, `user_profiles` documents). */
export function nameChangesOf(change: SourceChange): NameChange[] {
  const { envelope } = change;
  if (envelope.op === 'd' || envelope.op === 't' || !envelope.after) return [];
  const table = envelope.source.table ?? envelope.source.collection;
  if (table === 'users' && typeof envelope.after === 'object') {
    const row = envelope.after;
    if (typeof row.user_id !== 'string' || typeof row.username !== 'string') return [];
    return [
      {
        userId: row.user_id,
        group: 'username',
        version: BigInt(change.version),
        values: { username: row.username },
      },
    ];
  }
  if (table === 'user_profiles' && typeof envelope.after === 'string') {
    const document = parseExtendedJson(envelope.after) as Document;
    if (typeof document.userId !== 'string') return [];
    const values: NameChange['values'] = {};
    if (typeof document.displayName === 'string') values.displayName = document.displayName;
    if (typeof document.avatarUrl === 'string') values.avatarUrl = document.avatarUrl;
    return [{ userId: document.userId, group: 'profile', version: BigInt(change.version), values }];
  }
  return [];
}

export class Denormalizer {
  private indexed = false;

  constructor(
    private readonly db: Db,
    /**
     * Where the seed's domain events go (Kafka, RabbitMQ), and Auth's database, which holds the
     * new accounts' personal values; no events by default.
     */
    private readonly events?: { publish: EventPublisher; auth: Pick<pg.ClientBase, 'query'> },
  ) {}

  /**
   * Applies the captured changes in order (their order is their source's, per member), then
   * publishes the batch's events: UserCreated for new accounts, UserProfileUpdated for each
   * change applied (a stale one publishes nothing), with the member's names as they now stand.
   */
  async applyChanges(changes: readonly SourceChange[]): Promise<ApplyResult[]> {
    await this.ensureIndex();
    const results: ApplyResult[] = [];
    const events = this.events ? await this.createdEvents(changes, this.events.auth) : [];
    // Within a batch only a member's newest change per field group matters: the older ones would be
    // overwritten by it at once, so they are not written (their names are in the newest image).
    const newest = new Map<string, { name: NameChange; change: SourceChange }>();
    for (const change of changes) {
      for (const name of nameChangesOf(change)) {
        const key = `${name.userId}|${name.group}`;
        const known = newest.get(key);
        if (!known || known.name.version < name.version) newest.set(key, { name, change });
      }
    }
    // What is left is one change per member and group: independent of each other, so applied side
    // by side (a batch's changes one after another fell behind 100 updates/s).
    const pending = [...newest.values()];
    const updated: (DomainEvent | undefined)[] = [];
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < pending.length; index = next++) {
        const { name, change } = pending[index] as { name: NameChange; change: SourceChange };
        const result = await this.apply(name);
        results[index] = result;
        if (this.events && !result.stale && change.envelope.op === 'u')
          updated[index] = await this.profileUpdated(name, change);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_CHANGES, pending.length) }, worker));
    events.push(...updated.filter((event): event is DomainEvent => event !== undefined));
    if (this.events && events.length > 0) await this.events.publish(events);
    await this.markDone(pending.filter((_, index) => !results[index]?.stale).map(({ name }) => name));
    return results;
  }

  /**
   * UserCreated for the accounts the changes created, unless an earlier run got as far as marking
   * the account's username change done (its events went out then).
   */
  private async createdEvents(
    changes: readonly SourceChange[],
    auth: Pick<pg.ClientBase, 'query'>,
  ): Promise<DomainEvent[]> {
    const created = changes.flatMap((change) => createdAccountOf(change) ?? []);
    if (created.length === 0) return [];
    const done = new Map<string, bigint>();
    const records = this.db
      .collection(PROFILE_SYNC_COLLECTION)
      .find(
        { userId: { $in: created.map((account) => account.userId) } },
        { projection: { userId: 1, [doneField('username')]: 1 } },
      );
    for await (const record of records) {
      const version: unknown = record[doneField('username')];
      if (version instanceof Long) done.set(String(record.userId), version.toBigInt());
    }
    const unpublished = created.filter((account) => (done.get(account.userId) ?? -1n) < account.version);
    return userCreatedEvents(unpublished, auth);
  }

  /** Marks the changes applied and their events published: a replay of them is then stale. */
  private async markDone(changes: readonly NameChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.db.collection(PROFILE_SYNC_COLLECTION).bulkWrite(
      changes.map((change) => {
        const version = Long.fromBigInt(change.version);
        const field = doneField(change.group);
        return {
          updateOne: {
            filter: { userId: change.userId, [field]: { $not: { $gte: version } } },
            update: { $set: { [field]: version } },
          },
        };
      }),
      { ordered: false },
    );
  }

  private async profileUpdated(name: NameChange, change: SourceChange): Promise<DomainEvent> {
    const state = await this.db.collection(PROFILE_SYNC_COLLECTION).findOne({ userId: name.userId });
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    return {
      eventType: 'UserProfileUpdated',
      userId: name.userId,
      username: text(state?.username),
      displayName: text(state?.displayName),
      avatarUrl: text(state?.avatarUrl),
      timestamp: new Date(change.envelope.source.ts_ms).toISOString(),
    };
  }

  /** One change: recorded if newer than the member's last, then written to every older copy. */
  async apply(change: NameChange): Promise<ApplyResult> {
    await this.ensureIndex();
    const version = Long.fromBigInt(change.version);
    const values = Object.fromEntries(
      Object.entries(change.values).filter(([, value]) => value !== undefined),
    ) as Record<string, string>;
    if (!(await this.record(change.userId, change.group, version, values)))
      return { stale: true, modified: 0 };
    // The copies live in different collections: written side by side.
    const modified = await Promise.all(COPIES.map((copy) => this.writeCopy(copy, change, version, values)));
    return { stale: false, modified: modified.reduce((sum, n) => sum + n, 0) };
  }

  /** Records the change as the member's newest of its group; false when it is not newer. */
  private async record(
    userId: string,
    group: Group,
    version: Long,
    values: Record<string, string>,
  ): Promise<boolean> {
    const state = this.db.collection(PROFILE_SYNC_COLLECTION);
    // Two tries: the captures of Auth and of the profiles follow side by side, so the member's
    // record may be created by the other group's change between this one's match and insert.
    for (let attempt = 1; ; attempt++)
      try {
        // Newer than the record, or the recorded change itself when it was not done (see above).
        const recorded = await state.updateOne(
          {
            userId,
            $or: [
              { [versionField(group)]: { $not: { $gte: version } } },
              { [versionField(group)]: version, [doneField(group)]: { $not: { $gte: version } } },
            ],
          },
          { $set: { [versionField(group)]: version, ...values } },
          { upsert: true },
        );
        return recorded.matchedCount > 0 || recorded.upsertedCount > 0;
      } catch (error) {
        // The upsert's duplicate key: the record exists, and (on the second try) with a newer
        // version. (The stand-in reports the write error's code in the message only.)
        const duplicate =
          error instanceof MongoServerError && (error.code === 11000 || error.message.startsWith('E11000'));
        if (!duplicate) throw error;
        if (attempt === 2) return false;
      }
  }

  /**
   * Rewrites every copy whose values differ from the truth now: usernames from Auth, display
   * names and avatars from the profiles. Returns the copies it fixed.
   */
  async reconcile(auth: pg.ClientBase | pg.Pool): Promise<number> {
    const { rows } = await auth.query<{ user_id: string; username: string }>(
      'SELECT user_id::text AS user_id, username FROM users',
    );
    const usernames = new Map(rows.map((row) => [row.user_id, row.username]));
    let fixed = 0;
    for await (const profile of this.db.collection('user_profiles').find({})) {
      const userId = String(profile.userId);
      const truth: Record<string, string | undefined> = {
        username: usernames.get(userId),
        displayName: typeof profile.displayName === 'string' ? profile.displayName : undefined,
        avatarUrl: typeof profile.avatarUrl === 'string' ? profile.avatarUrl : undefined,
      };
      for (const copy of COPIES) fixed += await this.fixDrift(copy, userId, truth);
    }
    return fixed;
  }

  private async writeCopy(
    copy: CopySpec,
    change: NameChange,
    version: Long,
    values: Record<string, string>,
  ): Promise<number> {
    const fields = this.fieldsOf(copy, values);
    if (Object.keys(fields).length === 0) return 0;
    const collection = this.db.collection(copy.collection);
    if (copy.array) {
      // One element per member in the array: matched by id, and only where its stamp is older.
      const stamp = `p.${copy.stamp}.${change.group}`;
      const set = Object.fromEntries(
        Object.entries(fields).map(([field, value]) => [`${copy.array}.$[p].${field}`, value]),
      );
      const result = await collection.updateMany(
        { [`${copy.array}.${copy.idField}`]: change.userId },
        { $set: { ...set, [`${copy.array}.$[p].${copy.stamp}.${change.group}`]: version } },
        { arrayFilters: [{ [`p.${copy.idField}`]: change.userId, [stamp]: { $not: { $gte: version } } }] },
      );
      return result.modifiedCount;
    }
    const stamp = `${copy.stamp}.${change.group}`;
    const filter: Filter<Document> = { [copy.idField]: change.userId, [stamp]: { $not: { $gte: version } } };
    const update: UpdateFilter<Document> = { $set: { ...fields, [stamp]: version } };
    const result = await collection.updateMany(filter, update);
    return result.modifiedCount;
  }

  private async fixDrift(
    copy: CopySpec,
    userId: string,
    truth: Record<string, string | undefined>,
  ): Promise<number> {
    const fields = this.fieldsOf(
      copy,
      Object.fromEntries(Object.entries(truth).filter(([, value]) => value !== undefined)) as Record<
        string,
        string
      >,
    );
    if (Object.keys(fields).length === 0) return 0;
    const collection = this.db.collection(copy.collection);
    if (copy.array) {
      // The documents whose element for the member drifted, that element rewritten.
      const drifted = Object.entries(fields).map(([field, value]) => ({ [field]: { $ne: value } }));
      const set = Object.fromEntries(
        Object.entries(fields).map(([field, value]) => [`${copy.array}.$[p].${field}`, value]),
      );
      const result = await collection.updateMany(
        { [copy.array]: { $elemMatch: { [copy.idField]: userId, $or: drifted } } },
        { $set: set },
        { arrayFilters: [{ [`p.${copy.idField}`]: userId }] },
      );
      return result.modifiedCount;
    }
    const drifted = Object.entries(fields).map(([field, value]) => ({ [field]: { $ne: value } }));
    const result = await collection.updateMany({ [copy.idField]: userId, $or: drifted }, { $set: fields });
    return result.modifiedCount;
  }

  /** The copy's field paths with the change's values (a copy may keep only some of the names). */
  private fieldsOf(copy: CopySpec, values: Record<string, string>): Record<string, string> {
    const fields: Record<string, string> = {};
    if (values.username !== undefined) fields[copy.username] = values.username;
    if (values.displayName !== undefined && copy.displayName) fields[copy.displayName] = values.displayName;
    if (values.avatarUrl !== undefined && copy.avatarUrl) fields[copy.avatarUrl] = values.avatarUrl;
    return fields;
  }

  /**
   * Compares every copy with the truth now (Auth's usernames, the profiles' names): the copies
   * checked, and one line per copy field that differs. Copies of members without a profile are
   * not checked (nothing to compare them with).
   */
  async verify(auth: pg.ClientBase | pg.Pool): Promise<{ checked: number; drifted: string[] }> {
    const { rows } = await auth.query<{ user_id: string; username: string }>(
      'SELECT user_id::text AS user_id, username FROM users',
    );
    const usernames = new Map(rows.map((row) => [row.user_id, row.username]));
    const truth = new Map<string, Record<string, unknown>>();
    const profiles = this.db
      .collection('user_profiles')
      .find({}, { projection: { userId: 1, displayName: 1, avatarUrl: 1 } });
    for await (const profile of profiles)
      truth.set(String(profile.userId), {
        username: usernames.get(String(profile.userId)),
        displayName: profile.displayName,
        avatarUrl: profile.avatarUrl,
      });
    const at = (document: Document, path: string): unknown =>
      path.split('.').reduce<unknown>((value, part) => (value as Document | undefined)?.[part], document);
    let checked = 0;
    const drifted: string[] = [];
    for (const copy of COPIES) {
      const fields = [copy.idField, copy.username, copy.displayName, copy.avatarUrl].filter(
        (field): field is string => field !== undefined,
      );
      // Top-level fields only: the stand-in projects no dotted paths.
      const projection = Object.fromEntries(
        (copy.array ? [copy.array] : fields).map((field) => [field.split('.')[0] ?? field, 1]),
      );
      for await (const document of this.db.collection(copy.collection).find({}, { projection })) {
        const holders = copy.array ? ((document[copy.array] as Document[] | undefined) ?? []) : [document];
        for (const holder of holders) {
          const userId = String(at(holder, copy.idField));
          const want = truth.get(userId);
          if (!want) continue;
          checked++;
          const pairs: [string | undefined, unknown][] = [
            [copy.username, want.username],
            [copy.displayName, want.displayName],
            [copy.avatarUrl, want.avatarUrl],
          ];
          for (const [field, value] of pairs)
            if (field && at(holder, field) !== value)
              drifted.push(
                `${copy.collection}.${field} of ${userId}: ${String(at(holder, field))} ≠ ${String(value)}`,
              );
        }
      }
    }
    return { checked, drifted };
  }

  private async ensureIndex(): Promise<void> {
    if (this.indexed) return;
    await this.db.collection(PROFILE_SYNC_COLLECTION).createIndex({ userId: 1 }, { unique: true });
    this.indexed = true;
  }
}
