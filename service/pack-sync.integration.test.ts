// `tributary run` with the postbook sync enabled in its config (`sync` on the MongoDB source): a
// username changed in Auth (Postgres) and a display name and avatar changed in a profile (MongoDB)
// reach every denormalized copy — posts, comments, chat and notifications, read back with the
// driver — while the service runs; then a SIGTERM exits 0. MongoDB is the stand-in unless
// TRIBUTARY_MONGO_URL names a server.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ObjectId, type Db, type MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Denormalizer } from '../packs/postbook/denormalize.ts';
import { POSTBOOK_AUTH_SCHEMA_SQL } from '../packs/postbook/index.ts';
import { findFreePort } from '../stack/index.ts';
import { exited } from '../test/child-process.ts';
import { connectMongo, startTestMongo, uniqueDatabaseName, type TestMongo } from '../test/mongo.ts';
import { createTestDatabase, dropTestDatabase } from '../test/postgres.ts';
import { scratchDir } from '../test/scratch.ts';
import { waitFor } from '../test/wait.ts';

const TRIBUTARY = new URL('../bin/tributary.js', import.meta.url).pathname;
let dir: string;
let postgresUrl: string;
let postgres: pg.Client;
let mongo: TestMongo;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  dir = await scratchDir('pack-sync');
  postgresUrl = await createTestDatabase('packsync');
  postgres = new pg.Client({ connectionString: postgresUrl });
  await postgres.connect();
  await postgres.query(POSTBOOK_AUTH_SCHEMA_SQL);
  mongo = await startTestMongo();
  client = await connectMongo(mongo.url);
  db = client.db(uniqueDatabaseName('postbook'));
}, 300_000);
afterAll(async () => {
  await postgres?.end();
  if (postgresUrl) await dropTestDatabase(postgresUrl);
  await client?.close();
  await mongo?.stop();
});

describe('tributary run with the postbook sync', () => {
  it('keeps every denormalized copy in step with Auth and the profiles while it runs', async () => {
    const members = ['ana', 'ben', 'caz'].map((name, i) => ({
      userId: `00000000-0000-4000-8000-00000000000${i}`,
      username: `${name}_one`,
      displayName: `${name} One`,
      avatarUrl: `https://cdn.test/${name}-1.jpg`,
    }));
    for (const member of members) {
      await postgres.query(
        `INSERT INTO users (user_id, username, email, email_normalized, password_hash, first_name, last_name)
         VALUES ($1, $2, $3, $3, $4, 'F', 'L')`,
        [member.userId, member.username, `${member.username}@mail.test`, 'x'.repeat(60)],
      );
      await db.collection('user_profiles').insertOne({ _id: new ObjectId(), ...member });
      await db.collection('posts').insertOne({ ...member, content: 'hello' });
      await db.collection('comments').insertOne({ ...member, content: 'nice' });
    }
    const [ana, ben, caz] = members as [(typeof members)[0], (typeof members)[0], (typeof members)[0]];
    await db.collection('messages').insertOne({
      senderId: ana.userId,
      senderUsername: ana.username,
      senderDisplayName: ana.displayName,
      senderAvatarUrl: ana.avatarUrl,
      content: 'hi',
    });
    await db.collection('notifications').insertOne({
      userId: ana.userId,
      actorId: ben.userId,
      actorUsername: ben.username,
      actorDisplayName: ben.displayName,
      actorAvatarUrl: ben.avatarUrl,
      type: 'Like',
    });
    await db.collection('conversations').insertOne({
      participants: [
        {
          userId: ana.userId,
          username: ana.username,
          displayName: ana.displayName,
          avatarUrl: ana.avatarUrl,
        },
        {
          userId: caz.userId,
          username: caz.username,
          displayName: caz.displayName,
          avatarUrl: caz.avatarUrl,
        },
      ],
      lastMessage: { senderId: ana.userId, senderUsername: ana.username, content: 'hi' },
    });

    const port = await findFreePort();
    const config = join(dir, 'tributary.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        sources: [
          { kind: 'postgres', name: 'postbook', url: postgresUrl, pack: 'postbook' },
          {
            kind: 'mongo',
            name: 'postbook',
            url: mongo.url,
            database: db.databaseName,
            pack: 'postbook',
            sync: { reconcileEveryMinutes: 0 },
          },
        ],
        warehouse: { dir: 'warehouse' },
        service: { port, transformEverySeconds: 0, shutdownSeconds: 60 },
        pii: { keep: true, keyFile: 'pii.key' },
      }),
    );
    const child = spawn(process.execPath, [TRIBUTARY, 'run', '--config', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exit = exited(child);
    try {
      await waitFor('the service to be ready', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        return response.status === 200;
      });
      // The changes, made the way the apps make them, once the service runs.
      await postgres.query('UPDATE users SET username = $1 WHERE user_id = $2', ['ana_two', ana.userId]);
      await db
        .collection('user_profiles')
        .updateOne({ userId: ben.userId }, { $set: { displayName: 'Ben Two' } });
      await db
        .collection('user_profiles')
        .updateOne({ userId: caz.userId }, { $set: { avatarUrl: 'https://cdn.test/caz-2.jpg' } });

      const copies = async () => ({
        posts: await db
          .collection('posts')
          .find({}, { sort: { username: 1 } })
          .toArray(),
        comments: await db
          .collection('comments')
          .find({}, { sort: { username: 1 } })
          .toArray(),
        message: await db.collection('messages').findOne({}),
        notification: await db.collection('notifications').findOne({}),
        conversation: await db.collection('conversations').findOne({}),
        profile: await db.collection('user_profiles').findOne({ userId: ana.userId }),
      });
      await waitFor('the copies to follow the changes', async () => {
        const now = await copies();
        return (
          now.conversation?.lastMessage?.senderUsername === 'ana_two' &&
          now.notification?.actorDisplayName === 'Ben Two' &&
          now.posts.some((post) => post.avatarUrl === 'https://cdn.test/caz-2.jpg')
        );
      });
      const now = await copies();
      for (const collection of [now.posts, now.comments])
        expect(collection.map((copy) => [copy.username, copy.displayName, copy.avatarUrl])).toEqual([
          ['ana_two', 'ana One', 'https://cdn.test/ana-1.jpg'],
          ['ben_one', 'Ben Two', 'https://cdn.test/ben-1.jpg'],
          ['caz_one', 'caz One', 'https://cdn.test/caz-2.jpg'],
        ]);
      expect(now.message?.senderUsername).toBe('ana_two');
      expect(now.profile?.username).toBe('ana_two');
      expect(now.conversation?.participants).toMatchObject([
        { username: 'ana_two', displayName: 'ana One' },
        { username: 'caz_one', avatarUrl: 'https://cdn.test/caz-2.jpg' },
      ]);
      // The product's own check agrees: every copy of every member equals its names now.
      const verified = await new Denormalizer(db).verify(postgres);
      expect(verified.drifted).toEqual([]);
      expect(verified.checked).toBe(14);
    } finally {
      child.kill('SIGTERM');
    }
    const { code, stderr } = await exit;
    expect(code, stderr).toBe(0);
  });
});
