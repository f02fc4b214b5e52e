import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServingSlot } from './slot.ts';
import { Catalog, type ServingState } from '../serving/index.ts';
import type { Recommendations } from '../serving/index.ts';

type Seen = { user_id: string; track_id: string; ms_played: number; skipped: boolean }[];

/** A state whose model records what it observed, serving run `runId`. */
function state(runId: string, seen: Seen = []): ServingState & { seen: Seen; closed: boolean } {
  const recs = { info: { kind: 'published-run', model: 'm', runId, users: 0, tracks: 0, foldIn: true }, observe: (rows: Seen) => void seen.push(...rows) } as unknown as Recommendations;
  const s = { recs, catalog: new Catalog(), seen, closed: false };
  return Object.assign(s, { home: { home: async () => ({ user_id: '', source: '', shelves: [] }), close: async () => void (s.closed = true) } });
}
const listen = (user: string) => ({ user_id: user, track_id: 't', ms_played: 60_000, skipped: false });

test('a run loads beside the current one: listens during the load reach both, then one swap; the old home page is closed', async () => {
  const old = state('r1');
  const slot = new ServingSlot(old);
  const next = state('r2');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const loading = slot.load('r2', async () => (await gate, next), 1000);
  assert.equal(slot.loading, 'r2');
  slot.observe([listen('during')]);
  await slot.load('r2', async () => assert.fail('a second load of the same run while one runs'));
  assert.equal(slot.current, old, 'the old run serves until the new one is loaded');
  release();
  await loading;
  assert.equal(slot.current, next);
  assert.equal(slot.runId, 'r2');
  assert.equal(slot.swaps, 1);
  assert.equal(slot.publishedAt, 1000);
  assert.deepEqual(old.seen.map((l) => l.user_id), ['during']);
  assert.deepEqual(next.seen.map((l) => l.user_id), ['during'], 'listens accepted during the load are folded into the new run');
  await new Promise((r) => setImmediate(r));
  assert.equal(old.closed, true);
  slot.observe([listen('after')]);
  assert.deepEqual(next.seen.map((l) => l.user_id), ['during', 'after']);
  assert.deepEqual(old.seen.map((l) => l.user_id), ['during']);
});

test('a failed load keeps the current run serving and says why', async () => {
  const old = state('r1');
  const slot = new ServingSlot(old);
  await assert.rejects(slot.load('r2', async () => Promise.reject(new Error('snapshot checksum mismatch'))), /checksum/);
  assert.equal(slot.current, old);
  assert.equal(slot.swaps, 0);
  assert.equal(slot.failure, 'run r2: snapshot checksum mismatch');
  await assert.rejects(slot.load('r3', async () => state('r2')), /loading run r3 gave r2/);
  assert.equal(slot.runId, 'r1');
});
