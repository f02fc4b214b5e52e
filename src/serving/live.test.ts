import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlternatingLeastSquares } from '../cf/index.ts';
import { listenConfidence } from '../signals/index.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { seedWorld, play } from '../server/testing/world.ts';
import { Catalog } from './catalog.ts';
import { LiveModel } from './live.ts';

test('with real ALS, listens observed move the user to the other taste group at the next answer (fold-in, no retrain)', async () => {
  const store = new MemoryStore();
  await seedWorld(store);
  // every user also plays track 4 of their group once, so ALS knows a4 and b4
  await store.put('listens', [play('u3', 'a4', 200), play('u7', 'b4', 201)]);
  const l = await store.readListens();
  const m = listenConfidence(l);
  const als = new AlternatingLeastSquares({ factors: 2, iterations: 15, regularization: 0.01, threads: 1, seed: 3, kernels: 'ts' });
  await als.fit(m);
  const live = new LiveModel({ recommender: als, users: l.users, tracks: l.tracks, userItems: m, catalog: await Catalog.load(store), kind: 'in-process' });
  const before = live.forUser('u0', 1);
  assert.equal(before[0].track_id, 'a4', JSON.stringify(before));
  const moved = [0, 1, 2, 3, 4].flatMap((rep) => [0, 1, 2, 3].map((i) => play('u0', `b${i}`, 300 + rep * 4 + i)));
  live.observe(moved);
  const after = live.forUser('u0', 2);
  assert.equal(after[0].track_id, 'b4', JSON.stringify(after));
  assert.equal(after[0].reason.kind, 'because_you_played');
  // a brand-new user is folded in (the user table grows) and gets their group
  live.observe([play('fresh', 'b1', 1), play('fresh', 'b2', 2)]);
  assert.equal(live.forUser('fresh', 1)[0].track_id[0], 'b');
  assert.deepEqual(live.heard('fresh', 5).sort(), ['b1', 'b2']);
});

test('an exact item index (IVF) gives the same answers as the model\'s own recommend, filters included', async () => {
  const { IvfIndex } = await import('../index/index.ts');
  const store = new MemoryStore();
  await seedWorld(store);
  await store.put('listens', [play('u3', 'a4', 200), play('u7', 'b4', 201)]);
  const l = await store.readListens();
  const m = listenConfidence(l);
  const als = new AlternatingLeastSquares({ factors: 4, iterations: 15, regularization: 0.01, threads: 1, seed: 3 });
  await als.fit(m);
  const index = new IvfIndex(4, 'ip');
  index.add(als.itemFactors());
  const catalog = await Catalog.load(store);
  const parts = { recommender: als, users: l.users, tracks: l.tracks, userItems: m, catalog, kind: 'in-process' as const };
  const plain = new LiveModel(parts);
  const indexed = new LiveModel({ ...parts, itemIndex: index });
  const ids = (cards: { track_id: string }[]) => cards.map((c) => c.track_id);
  for (const u of ['u0', 'u3', 'u7']) assert.deepEqual(ids(indexed.forUser(u, 3)), ids(plain.forUser(u, 3)), u);
  // filtered items stay out
  assert.ok(!ids(indexed.forUser('u0', 3, { exclude: ['a4'] })).includes('a4'));
});

test('similar tracks of a factorized model are kept per seed: the same answer again, as a fresh array', async () => {
  const store = new MemoryStore();
  await seedWorld(store);
  const l = await store.readListens();
  const m = listenConfidence(l);
  const als = new AlternatingLeastSquares({ factors: 4, iterations: 5, threads: 1, seed: 3 });
  await als.fit(m);
  const live = new LiveModel({ recommender: als, users: l.users, tracks: l.tracks, userItems: m, catalog: await Catalog.load(store), kind: 'in-process' });
  const first = live.similarTracks('a1', 3)!;
  first.pop();
  const again = live.similarTracks('a1', 3)!;
  assert.equal(again.length, 3);
  assert.deepEqual(again.slice(0, 2), first);
  assert.equal(live.similarTracks('nope', 3), undefined);
});
