/**
 * The playlist archive on the artifact store: a flush writes one new object per week and listener
 * bucket and never rewrites one; a listener's list is read from their bucket's objects only; the
 * one-file days of older homes are still read; through S3, a node on another machine (another
 * home) reads the builder's weeks and keeps them in its local cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserId } from '../domain/ids.ts';
import { defaultConfig } from '../config/config.ts';
import { archiveBucket, PlaylistArchive, storedWeekly, type Playlist } from '../playlists/index.ts';
import { openPlaylistArchive } from './archive.ts';
import { startS3, S3_TEST_CREDENTIALS } from '../artifacts/testing/s3.ts';
import { openArtifactStore } from '../artifacts/index.ts';

const list = (user: string, key: string, n = 3): Playlist => ({
  kind: 'discover-weekly',
  id: `discover-weekly:${user}:${key}`,
  title: 'Discover Weekly',
  userId: UserId(user),
  key,
  createdAt: `${key}T00:00:00Z`,
  runId: 'r',
  tracks: Array.from({ length: n }, (_, i) => ({ trackId: `t${i}`, title: `T${i}`, artistIds: [], artistNames: [], score: 1 })) as unknown as Playlist['tracks'],
});

const users = Array.from({ length: 40 }, (_, i) => `u${i}`);

test('archive on the filesystem: one object per week and bucket per flush, none rewritten; the one-file days of older homes are read', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'dc-archive-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const a = await openPlaylistArchive(home, { writer: 'run-1' });
  for (const u of users.slice(0, 30)) await a.put('discover-weekly', '2026-11-23', u, list(u, '2026-11-23'));
  await a.flush();
  const week = join(home, 'playlists', 'discover-weekly', '2026-11-23');
  const buckets = readdirSync(week).sort();
  assert.deepEqual(buckets, [...new Set(users.slice(0, 30).map(archiveBucket))].sort());
  const first = Object.fromEntries(buckets.map((b) => [b, statSync(join(week, b, 'run-1.jsonl')).mtimeMs]));
  // a later run adds the newcomers' lists beside, without touching what is there
  const b = await openPlaylistArchive(home, { writer: 'run-2' });
  assert.equal((await b.get('discover-weekly', '2026-11-23', 'u3'))?.id, 'discover-weekly:u3:2026-11-23');
  for (const u of users.slice(30)) await b.put('discover-weekly', '2026-11-23', u, list(u, '2026-11-23'));
  await b.flush();
  for (const bk of buckets) assert.equal(statSync(join(week, bk, 'run-1.jsonl')).mtimeMs, first[bk], `${bk}: not rewritten`);
  const read = await openPlaylistArchive(home);
  for (const u of users) assert.equal((await read.get('discover-weekly', '2026-11-23', u))?.userId, u);
  assert.equal(await read.get('discover-weekly', '2026-11-23', 'nobody'), undefined);
  // holding almost nothing in memory: every read still right
  const tiny = new PlaylistArchive(await openArtifactStore(home), { maxHeldBytes: 1 });
  for (const u of [...users, ...users]) assert.equal((await tiny.get('discover-weekly', '2026-11-23', u))?.userId, u);
  // a day written as one file before this layout
  mkdirSync(join(home, 'playlists', 'discover-weekly'), { recursive: true });
  writeFileSync(join(home, 'playlists', 'discover-weekly', '2026-11-16.jsonl'), `${JSON.stringify(list('u1', '2026-11-16', 5))}\n`);
  assert.equal((await read.get('discover-weekly', '2026-11-16', 'u1'))?.tracks.length, 5);
  assert.deepEqual(await read.weeks('discover-weekly'), ['2026-11-23', '2026-11-16']);
  assert.equal((await storedWeekly(read, 'discover-weekly', 'u1', 'UTC', new Date('2026-11-25T12:00:00Z')))?.key, '2026-11-23');
  await assert.rejects(read.get('discover-weekly', '2026-13-1', 'u1'), /bad date/);
});

test('archive on S3: a node with another home reads the builder\'s weeks, then from its local cache', { timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dc-archive-s3-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const s3 = await startS3();
  t.after(() => s3.stop());
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey });
  const builder = { ...defaultConfig(), home: join(root, 'builder'), artifacts: { url: s3.url('fleet') } };
  const w = await openPlaylistArchive(builder, { writer: 'run-1' });
  for (const u of users) await w.put('discover-weekly', '2026-11-23', u, list(u, '2026-11-23'));
  await w.flush();
  await w.close();
  assert.equal(existsSync(join(builder.home, 'playlists')), false, 'nothing on the builder\'s disk');

  const node = { ...builder, home: join(root, 'node') };
  const r = await openPlaylistArchive(node);
  assert.deepEqual(await r.weeks('discover-weekly'), ['2026-11-23']);
  assert.equal((await r.get('discover-weekly', '2026-11-23', 'u7'))?.userId, 'u7');
  await r.close();
  const cached = readdirSync(join(node.home, 'cache', 'playlists'));
  assert.equal(cached.length, 1, 'the one bucket object read is cached');
  // objects are immutable: a fresh archive on this node reads the bucket from its cache, not from S3
  // (overwritten here behind its back to tell the two apart)
  const raw = await openArtifactStore(s3.url('fleet'));
  const key = `playlists/discover-weekly/2026-11-23/${archiveBucket('u7')}/run-1.jsonl`;
  await raw.put(key, { bytes: Buffer.from(`${JSON.stringify(list('u7', '2026-11-23', 9))}\n`) });
  await raw.close();
  const again = await openPlaylistArchive(node);
  assert.equal((await again.get('discover-weekly', '2026-11-23', 'u7'))?.tracks.length, 3, 'from the cache');
  await again.close();
  const other = await openPlaylistArchive({ ...builder, home: join(root, 'other') });
  assert.equal((await other.get('discover-weekly', '2026-11-23', 'u7'))?.tracks.length, 9, 'a node without it in its cache downloads it');
  await other.close();
});
