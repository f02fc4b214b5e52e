/**
 * A listener the published run has not seen is a first-class case in serving: one who posts a
 * first listen after the run, and one with no listens at all. Every listener route answers (no
 * 5xx): recommendations and home from the folded-in vector, playlists empty with the reason.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { servedWorld, type ServedWorld } from '../server/testing/served-world.ts';
import { buildServer } from '../server/index.ts';
import { timeZoneOf } from './load.ts';
import { openPublished } from '../pipeline/published.ts';
import { DeepcutError } from '../errors.ts';

let root: string;
let w: ServedWorld;
let app: FastifyInstance;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'dc-newcomer-'));
  w = await servedWorld(root, { size: 'small', seed: 5, audioClips: 0 });
  app = await buildServer({ store: w.store, state: w.state, config: w.config, auth: false });
});

after(async () => {
  await app?.close();
  await w?.state.home?.close?.();
  await w?.store.close();
  rmSync(root, { recursive: true, force: true });
});

const USER_ROUTES = ['recommendations', 'home', 'playlists/discover-weekly', 'playlists/release-radar', 'playlists/daily-mixes'];

/** GET every listener route of `user`: all 200, as JSON by route. */
async function everyRoute(user: string): Promise<Record<string, any>> {
  const out: Record<string, any> = {};
  for (const r of USER_ROUTES) {
    const res = await app.inject(`/v1/users/${encodeURIComponent(user)}/${r}`);
    assert.equal(res.statusCode, 200, `GET /v1/users/${user}/${r}: ${res.body}`);
    out[r] = res.json();
  }
  return out;
}

function assertNoPlaylistsYet(answers: Record<string, any>, user: string): void {
  for (const kind of ['discover-weekly', 'release-radar', 'daily-mixes']) {
    const a = answers[`playlists/${kind}`];
    assert.deepEqual(a.playlists, [], kind);
    assert.match(a.reason, new RegExp(`for ${user} yet: the published run \\S+ was made before their first listen; the next pipeline run makes it`), kind);
  }
}

test('a listener new since the run: one listen posted over HTTP, then every listener route answers from the folded-in vector', async () => {
  const user = 'newcomer-1';
  const track = w.state.recs!.forUser('someone-else', 1)[0].track_id;
  const post = await app.inject({ method: 'POST', url: '/v1/listens', payload: [{ listen_id: 'nc-1', user_id: user, track_id: track, started_at: '2026-11-23T07:00:00Z', ms_played: 200_000 }] });
  assert.equal(post.statusCode, 200, post.body);
  const a = await everyRoute(user);
  const recs = a.recommendations.items as { track_id: string; reason: { kind: string } }[];
  assert.ok(recs.length > 0);
  assert.ok(!recs.some((c) => c.track_id === track), 'the heard track is not recommended');
  assert.ok(recs.some((c) => c.reason.kind === 'because_you_played'), `recommended from the listen, not cold start: ${recs.map((c) => c.reason.kind).join(',')}`);
  const shelves = a.home.shelves as { id: string; cards: { track_id: string }[] }[];
  assert.deepEqual(shelves.find((s) => s.id === 'jump-back-in')?.cards.map((c) => c.track_id), [track]);
  assertNoPlaylistsYet(a, user);
  const users = await app.inject('/v1/users?limit=1000');
  assert.ok((users.json().users as string[]).includes(user));
});

test('an id that is no listener: every listener route is a 404 naming it', async () => {
  for (const r of USER_ROUTES) {
    const res = await app.inject(`/v1/users/mistyped-id/${r}`);
    assert.equal(res.statusCode, 404, r);
    assert.match(res.json().error.message, /unknown user mistyped-id/);
  }
});

test('a listener with no listens at all: every listener route answers, playlists none yet with the reason', async () => {
  assert.equal((await app.inject({ method: 'POST', url: '/v1/users', payload: [{ user_id: 'nobody-yet', time_zone: 'UTC' }] })).statusCode, 200);
  const a = await everyRoute('nobody-yet');
  assert.ok(a.recommendations.items.length > 0, 'cold start: popular tracks');
  assert.ok((a.home.shelves as unknown[]).length > 0);
  assertNoPlaylistsYet(a, 'nobody-yet');
});

test('a listener who joined after the run with a time zone, then listened: no 5xx, their time zone is read from the store', async () => {
  const user = 'newcomer-tz';
  const put = await app.inject({ method: 'POST', url: '/v1/users', payload: [{ user_id: user, time_zone: 'Pacific/Kiritimati' }] });
  assert.equal(put.statusCode, 200, put.body);
  const track = w.state.recs!.forUser('someone-else', 2)[1].track_id;
  assert.equal((await app.inject({ method: 'POST', url: '/v1/listens', payload: [{ listen_id: 'nc-tz-1', user_id: user, track_id: track, started_at: '2026-11-23T07:00:00Z', ms_played: 200_000 }] })).statusCode, 200);
  assertNoPlaylistsYet(await everyRoute(user), user);
  const run = await openPublished(w.config.home);
  try {
    const seen = run.snapshot.histories[0];
    assert.equal(await timeZoneOf(run, w.store, seen.id), seen.timeZone, 'a listener the run saw: the run’s time zone');
    assert.equal(await timeZoneOf(run, w.store, user), 'Pacific/Kiritimati', 'joined after the run: the users row');
    assert.equal(await timeZoneOf(run, w.store, 'no-row'), 'UTC');
    const failing = { get: async () => Promise.reject(new Error('connection reset')) };
    await assert.rejects(timeZoneOf(run, failing, user), (e: unknown) => e instanceof DeepcutError && e.code === 'unavailable' && /connection reset/.test(e.message));
  } finally {
    await run.close();
  }
});
