/**
 * Listens posted since the published run survive a restart: a new serving state loaded on the same
 * store (DuckDB, and PostgreSQL holding the same world) folds them in at start, so recommendations
 * still reflect them before the next run; at most `server.startFoldInMax`, the newest.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgDown, pgSchema } from '../store/testing/postgres.ts';
import { servedWorld, type ServedWorld } from '../server/testing/served-world.ts';
import { buildServer } from '../server/index.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import type { Config } from '../config/config.ts';
import { importPath } from '../ingest/index.ts';
import { openPublished } from '../pipeline/published.ts';
import { loadServingState } from './load.ts';
import type { ServingState } from './state.ts';

let root: string;
let w: ServedWorld;
/** Start of a listen after the run's latest one. */
let after0: number;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'dc-restart-'));
  w = await servedWorld(root, { size: 'small', seed: 7, audioClips: 0 });
  const run = await openPublished(w.config.home);
  after0 = run.snapshot.lastListenAt + 60_000;
  await run.close();
  await w.state.home?.close?.();
});

after(async () => {
  await w?.store.close();
  rmSync(root, { recursive: true, force: true });
});

const at = (minutes: number) => new Date(after0 + minutes * 60_000).toISOString();

/** Post listens over HTTP to a server on `store` and `state`. */
async function post(store: Store, state: ServingState, config: Config, listens: { id: string; user: string; track: string; minute: number }[]): Promise<void> {
  const app = await buildServer({ store, state, config, auth: false });
  try {
    const r = await app.inject({ method: 'POST', url: '/v1/listens', payload: listens.map((l) => ({ listen_id: l.id, user_id: l.user, track_id: l.track, started_at: at(l.minute), ms_played: 200_000 })) });
    assert.equal(r.statusCode, 200, r.body);
  } finally {
    await app.close();
  }
}

/** A fresh serving state on `store`, as a restarted server loads it. */
async function restart(store: Store, config: Config): Promise<ServingState> {
  const s = await loadServingState(store, config);
  await s.home?.close?.();
  return s;
}

/**
 * Serve `store`, post a newcomer's listens and an unheard track of a listener the run saw, restart
 * (`reopen` closes the store and opens it again) and check both are in the new serving state:
 * heard, not recommended again, recommendations explained by them.
 */
async function survivesRestart(store: Store, reopen: () => Promise<Store>, config: Config, prefix: string): Promise<void> {
  const state = await restart(store, config);
  const recs = state.recs!;
  const known = recs.knownUsers(1)[0];
  const [a, b] = recs.forUser(`${prefix}-newcomer`, 2).map((c) => c.track_id);
  const unheard = recs.forUser(known, 1)[0].track_id;
  await post(store, state, config, [
    { id: `${prefix}-1`, user: `${prefix}-newcomer`, track: a, minute: 1 },
    { id: `${prefix}-2`, user: `${prefix}-newcomer`, track: b, minute: 2 },
    { id: `${prefix}-3`, user: known, track: unheard, minute: 3 },
  ]);
  const restarted = await restart(await reopen(), config);
  const next = restarted.recs!;
  assert.equal(next.info.kind, 'published-run');
  const scanned = next.forUser(known, 20);
  restarted.warmUp?.(); // the item index, built once the server answers: the same answers
  assert.deepEqual(next.forUser(known, 20), scanned);
  assert.deepEqual(new Set(next.heard(`${prefix}-newcomer`, 10)), new Set([a, b]), 'the newcomer’s listens are folded in after the restart');
  assert.ok(next.heard(known, 10_000).includes(unheard), 'a known listener’s new listen is folded in after the restart');
  assert.ok(!next.forUser(known, 50).some((c) => c.track_id === unheard), 'and not recommended again');
  const forNew = next.forUser(`${prefix}-newcomer`, 10);
  assert.ok(forNew.some((c) => c.reason.kind === 'because_you_played'), `recommended from the listens: ${forNew.map((c) => c.reason.kind).join(',')}`);
}

test('DuckDB: listens posted since the run are still in the recommendations after a restart', async () => {
  await survivesRestart(w.store, async () => {
    await w.store.close(); // the server stops; the restarted one opens the store again
    return (w.store = await openStore({ home: w.config.home }));
  }, w.config, 'duck');
});

test('server.startFoldInMax: at start only the newest listens are folded in; 0 folds in none', async () => {
  const state = await restart(w.store, w.config);
  const [a, b] = state.recs!.forUser('capped', 2).map((c) => c.track_id);
  await post(w.store, state, w.config, [
    { id: 'cap-1', user: 'capped', track: a, minute: 10 },
    { id: 'cap-2', user: 'capped', track: b, minute: 11 },
  ]);
  const all = await restart(w.store, w.config);
  assert.deepEqual(new Set(all.recs!.heard('capped', 10)), new Set([a, b]));
  const one = await restart(w.store, { ...w.config, server: { ...w.config.server, startFoldInMax: 1 } });
  assert.deepEqual(one.recs!.heard('capped', 10), [b], 'the newest listen');
  const none = await restart(w.store, { ...w.config, server: { ...w.config.server, startFoldInMax: 0 } });
  assert.deepEqual(none.recs!.heard('capped', 10), []);
});

const down = await pgDown();
test('PostgreSQL: listens posted since the run are still in the recommendations after a restart', { skip: down && process.env.CI !== 'true' ? down : false }, async () => {
  // the same world imported into its own schema, served from the run the DuckDB store made
  const { databaseUrl, drop } = await pgSchema('deepcut_restart');
  const config: Config = { ...w.config, databaseUrl };
  try {
    let store = await openStore({ home: config.home, databaseUrl });
    try {
      await importPath(store, 'jsonl', join(root, 'world'), {});
      await survivesRestart(store, async () => {
        await store.close();
        return (store = await openStore({ home: config.home, databaseUrl }));
      }, config, 'pg');
    } finally {
      await store.close();
    }
  } finally {
    await drop();
  }
});
