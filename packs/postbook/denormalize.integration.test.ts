// The denormalization sync, fed by Tributary's real captures (Postgres Auth, Mongo profiles):
// random profile and username changes interleaved with new posts, comments, likes, messages,
// conversations, notifications and friend requests by the same members; after the captures
// settle, every copy equals its member's names; a replay of older changes changes nothing; the
// reconciliation pass repairs copies written from a stale cache, and finds nothing the second time.
import { join } from 'node:path';
import { ObjectId, type Db, type MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseSink } from '../../ingest/landing/warehouse-sink.ts';
import { TeeSink } from '../../ingest/landing/tee-sink.ts';
import type { SourceChange } from '../../ingest/landing/types.ts';
import { runMongoCapture } from '../../ingest/mongo/capture.ts';
import { createPiiPolicy } from '../../ingest/pii.ts';
import { runPostgresCapture } from '../../ingest/postgres/capture.ts';
import {
  connectMongo,
  MONGO_SERVER,
  startTestMongo,
  uniqueDatabaseName,
  type TestMongo,
} from '../../test/mongo.ts';
import { createTestDatabase, dropTestDatabase } from '../../test/postgres.ts';
import { scratchDir } from '../../test/scratch.ts';
import { openWarehouse, type Warehouse } from '../../warehouse/index.ts';
import { Random } from '../common/random.ts';
import { COPIES, Denormalizer, PROFILE_SYNC_COLLECTION } from './denormalize.ts';
import type { DomainEvent } from './domain-events.ts';
import { POSTBOOK_AUTH_SCHEMA_SQL } from './index.ts';

const MEMBERS = 6;
const STEPS = 160;
const pii = createPiiPolicy({
  dropFields: [],
  hashFields: [],
  hashPii: false,
  hashKey: 'denormalize-test-key-01',
});

let postgresUrl: string;
let postgres: pg.Client;
let mongo: TestMongo;
let client: MongoClient;
let db: Db;
let warehouse: Warehouse;
let denormalizer: Denormalizer;
/** Every change the captures handed to the sync, in order. */
const seen: SourceChange[] = [];

beforeAll(async () => {
  postgresUrl = await createTestDatabase('denorm');
  postgres = new pg.Client({ connectionString: postgresUrl });
  await postgres.connect();
  await postgres.query(POSTBOOK_AUTH_SCHEMA_SQL);
  mongo = await startTestMongo();
  client = await connectMongo(mongo.url);
  db = client.db(uniqueDatabaseName('denorm'));
  warehouse = await openWarehouse({ kind: 'chdb', path: join(await scratchDir('denorm'), 'warehouse') });
  denormalizer = new Denormalizer(db);
}, 300_000);
afterAll(async () => {
  await postgres?.end();
  if (postgresUrl) await dropTestDatabase(postgresUrl);
  await client?.close();
  await mongo?.stop();
  await warehouse?.close();
});

/** Both captures to caught-up, every landed change followed by the sync. */
async function settle(): Promise<void> {
  const sink = () =>
    new TeeSink(new WarehouseSink(warehouse), async (changes) => {
      seen.push(...changes);
      await denormalizer.applyChanges(changes);
    });
  await runPostgresCapture({
    sourceUrl: postgresUrl,
    sourceName: 'pb',
    tables: { kind: 'list', tables: ['public.users'] },
    sink: sink(),
    pii,
    untilCaughtUp: true,
  });
  await runMongoCapture({
    sourceUrl: mongo.url,
    sourceName: 'pb',
    collections: { kind: 'list', collections: [`${db.databaseName}.user_profiles`] },
    sink: sink(),
    pii,
    untilCaughtUp: true,
  });
}

interface Member {
  userId: string;
  username: string;
  displayName: string;
  avatarUrl: string;
}

/** Each copy of every member's names that differs from the truth now (Auth usernames, profiles). */
async function driftedCopies(): Promise<string[]> {
  return (await denormalizer.verify(postgres)).drifted;
}

/** Every document of every copied collection and the sync's own records, as text. */
async function everything(): Promise<string> {
  const collections = [...new Set(COPIES.map((copy) => copy.collection)), PROFILE_SYNC_COLLECTION];
  const out: Record<string, unknown[]> = {};
  for (const name of collections)
    out[name] = await db
      .collection(name)
      .find({}, { sort: { _id: 1 } })
      .toArray();
  return JSON.stringify(out);
}

describe(`denormalized names follow Auth and the profiles through the captures (${MONGO_SERVER})`, () => {
  it('random changes interleaved with new copies: settled, every copy equals its member; replays change nothing; reconciliation repairs stale writes', async () => {
    const random = new Random(20261203);
    const members: Member[] = [];
    let serial = 0;
    const newUsername = () => `member_${serial++}`;
    for (let i = 0; i < MEMBERS; i++) {
      const member = {
        userId: random.uuid(),
        username: newUsername(),
        displayName: `Member ${i}`,
        avatarUrl: `https://cdn.test/a/${i}-0.jpg`,
      };
      members.push(member);
      await postgres.query(
        `INSERT INTO users (user_id, username, email, email_normalized, password_hash, first_name, last_name)
         VALUES ($1, $2, $3, $3, $4, 'M', 'M')`,
        [member.userId, member.username, `${member.username}@mail.test`, 'x'.repeat(60)],
      );
      await db
        .collection('user_profiles')
        .insertOne({ _id: new ObjectId(), ...member, createdAt: new Date() });
    }
    const copyOf = (member: Member, prefix = '') =>
      prefix === ''
        ? {
            userId: member.userId,
            username: member.username,
            displayName: member.displayName,
            avatarUrl: member.avatarUrl,
          }
        : {
            [`${prefix}Id`]: member.userId,
            [`${prefix}Username`]: member.username,
            [`${prefix}DisplayName`]: member.displayName,
            [`${prefix}AvatarUrl`]: member.avatarUrl,
          };
    /** The app writes a new document with the member's names as it knows them now. */
    const write = async (member: Member) => {
      const other = random.pick(members.filter((m) => m !== member));
      const kind = random.int(0, 6);
      const now = new Date();
      if (kind === 0)
        await db.collection('posts').insertOne({ ...copyOf(member), content: 'hi', createdAt: now });
      if (kind === 1)
        await db.collection('comments').insertOne({ ...copyOf(member), content: 'yo', createdAt: now });
      if (kind === 2)
        await db.collection('likes').insertOne({ ...copyOf(member), reactionType: 'Like', createdAt: now });
      if (kind === 3)
        await db
          .collection('messages')
          .insertOne({ ...copyOf(member, 'sender'), content: 'hey', createdAt: now });
      if (kind === 4)
        await db
          .collection('notifications')
          .insertOne({ userId: other.userId, ...copyOf(member, 'actor'), type: 'Like' });
      if (kind === 5)
        await db
          .collection('friend_requests')
          .insertOne({ ...copyOf(member, 'sender'), ...copyOf(other, 'receiver') });
      if (kind === 6)
        await db.collection('conversations').insertOne({
          type: 'OneOnOne',
          participants: [copyOf(member), copyOf(other)],
          lastMessage: { senderId: member.userId, senderUsername: member.username, content: 'hey' },
        });
    };
    for (let step = 0; step < STEPS; step++) {
      const member = random.pick(members);
      const roll = random.next();
      if (roll < 0.2) {
        member.displayName = `${member.displayName.split(' ')[0] ?? 'M'} ${step}`;
        await db
          .collection('user_profiles')
          .updateOne({ userId: member.userId }, { $set: { displayName: member.displayName } });
      } else if (roll < 0.3) {
        member.avatarUrl = `https://cdn.test/a/${step}.jpg`;
        await db
          .collection('user_profiles')
          .updateOne({ userId: member.userId }, { $set: { avatarUrl: member.avatarUrl } });
      } else if (roll < 0.4) {
        member.username = newUsername();
        await postgres.query('UPDATE users SET username = $1 WHERE user_id = $2', [
          member.username,
          member.userId,
        ]);
      } else await write(member);
      if (step % 40 === 17) await settle();
    }
    // Copies the app wrote before a change carry the old names until the sync follows it…
    expect((await driftedCopies()).length).toBeGreaterThan(0);
    await settle();
    // …and once the captures settle, none drifts.
    expect(await driftedCopies()).toEqual([]);
    const nameChanges = seen.filter((change) => change.envelope.op === 'u');
    expect(nameChanges.length).toBeGreaterThan(10);

    // A replay: the first half of the changes again (older than what was applied), then all of them.
    const settled = await everything();
    const replay = await denormalizer.applyChanges(seen.slice(0, Math.floor(seen.length / 2)));
    expect(replay.length).toBeGreaterThan(0);
    expect(replay.filter((result) => !result.stale)).toEqual([]);
    await denormalizer.applyChanges(seen);
    expect(await everything()).toBe(settled);

    // An app writes from a stale cache after the last change: only the periodic pass can see it.
    const stale = { ...random.pick(members), displayName: 'Old Name', avatarUrl: 'https://cdn.test/old.jpg' };
    await db.collection('posts').insertOne({ ...copyOf(stale), content: 'cached', createdAt: new Date() });
    await db
      .collection('messages')
      .insertOne({ ...copyOf(stale, 'sender'), content: 'cached', createdAt: new Date() });
    expect((await driftedCopies()).length).toBe(4);
    expect(await denormalizer.reconcile(postgres)).toBe(2);
    expect(await driftedCopies()).toEqual([]);
    expect(await denormalizer.reconcile(postgres)).toBe(0);
  });

  it('a crash after the names were recorded, before the copies and events: the replay writes the copies and publishes the events once', async () => {
    const member = {
      userId: '5d1c0a9e-2b3f-4c4d-8e5f-6a7b8c9d0e1f',
      username: 'crash_member',
      displayName: 'Before',
      avatarUrl: 'https://cdn.test/before.jpg',
    };
    const copy = { userId: member.userId, username: 'crash_member', displayName: 'Before', avatarUrl: 'x' };
    await postgres.query(
      `INSERT INTO users (user_id, username, email, email_normalized, password_hash, first_name, last_name)
       VALUES ($1, $2, 'crash@mail.test', 'crash@mail.test', $3, 'Crash', 'Member')`,
      [member.userId, member.username, 'x'.repeat(60)],
    );
    await db.collection('user_profiles').insertOne({ _id: new ObjectId(), ...member });
    const from = seen.length;
    await settle();
    await db
      .collection('user_profiles')
      .updateOne({ userId: member.userId }, { $set: { displayName: 'After' } });
    await settle();
    const changes = seen.slice(from);

    // The same changes, followed by a second sync of its own database, whose publisher fails once.
    const crashDb = client.db(uniqueDatabaseName('crash'));
    await crashDb.collection('posts').insertOne({ ...copy, content: 'mine' });
    const published: DomainEvent[] = [];
    let brokerUp = false;
    const publish = async (events: readonly DomainEvent[]) => {
      if (!brokerUp) throw new Error('broker down');
      published.push(...events);
    };
    const sync = new Denormalizer(crashDb, { publish, auth: postgres });
    await expect(sync.applyChanges(changes)).rejects.toThrow('broker down');
    expect(published).toEqual([]);
    // As if the process had died before the copies too: the post back as it was.
    await crashDb.collection('posts').replaceOne({ userId: member.userId }, { ...copy, content: 'mine' });

    brokerUp = true;
    expect((await sync.applyChanges(changes)).some((result) => !result.stale)).toBe(true);
    expect(await crashDb.collection('posts').findOne({ userId: member.userId })).toMatchObject({
      username: 'crash_member',
      displayName: 'After',
      avatarUrl: 'https://cdn.test/before.jpg',
    });
    expect(published.map((event) => event.eventType).sort()).toEqual(['UserCreated', 'UserProfileUpdated']);
    expect(published.find((event) => event.eventType === 'UserCreated')).toMatchObject({
      email: 'crash@mail.test',
      firstName: 'Crash',
    });

    // Done now: a second replay writes nothing and publishes nothing.
    const after = await crashDb.collection('posts').find({}).toArray();
    expect((await sync.applyChanges(changes)).every((result) => result.stale)).toBe(true);
    expect(published).toHaveLength(2);
    expect(await crashDb.collection('posts').find({}).toArray()).toEqual(after);
    await crashDb.dropDatabase();
  });
});
