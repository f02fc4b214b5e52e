import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { audioFeatureSource } from './load.ts';

test('audio features of a published run: scalar fields per track, distributions; none without the audio step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-serving-audio-'));
  assert.equal(await audioFeatureSource({ dir }), undefined);
  mkdirSync(join(dir, 'audio'));
  const row = (id: string, bpm: number) => JSON.stringify({ track_id: id, sha256: 'x', version: 2, duration_s: 15, tempo_bpm: bpm, tempo_confidence: 0.8, beats_s: [0.5, 1], downbeats_s: [0.5], time_signature: 4, time_signature_confidence: 0.9, key: 9, mode: 0, key_confidence: 0.7, loudness_lufs: null, mean_db: -14, energy: 0.6, danceability: 0.7 });
  writeFileSync(join(dir, 'audio', 'features.jsonl'), [row('t1', 120), row('t2', 90)].join('\n') + '\n');
  const src = await audioFeatureSource({ dir });
  assert.ok(src);
  const f = await src.get('t1');
  assert.equal(f?.tempo_bpm, 120);
  assert.equal(f?.key, 9);
  assert.equal(f?.loudness_lufs, undefined, 'a null loudness (silence) is left out, not shown as 0');
  assert.equal('beats_s' in (f ?? {}), false);
  assert.equal(await src.get('t3'), undefined);
  assert.deepEqual((await src.distributions()).tempo_bpm, [120, 90]);
});

test('itemRetrieval: the exact IVF index when it times faster than the model scan, else none; none for unfactorized models', async () => {
  const { itemRetrieval } = await import('./retrieval.ts');
  const { AlternatingLeastSquares } = await import('../cf/index.ts');
  const { PopularityRecommender } = await import('../cf/index.ts');
  const { csrFromCoo } = await import('../signals/index.ts');
  const rows: number[] = [], cols: number[] = [];
  for (let u = 0; u < 40; u++) for (let j = 0; j < 5; j++) (rows.push(u), cols.push((u * 7 + j * 3) % 60));
  const m = csrFromCoo(40, 60, Int32Array.from(rows), Int32Array.from(cols), new Float32Array(rows.length).fill(2));
  const pop = new PopularityRecommender();
  await pop.fit(m);
  assert.equal(itemRetrieval(pop, m), undefined);
  const als = new AlternatingLeastSquares({ factors: 8, iterations: 3, threads: 1, seed: 1 });
  await als.fit(m);
  // a clock that reads the IVF timing first (start, end), then the scan's
  const clock = (ticks: number[]) => () => ticks.shift()!;
  assert.equal(itemRetrieval(als, m, { now: clock([0, 5, 0, 1]) }), undefined, 'a slower IVF is not used');
  const idx = itemRetrieval(als, m, { now: clock([0, 1, 0, 5]) });
  assert.ok(idx, 'a faster IVF is used');
  // and it answers exactly like the model, heard tracks left out
  const f = 8;
  for (const u of [0, 13, 39]) {
    const r = idx.search(als.userFactors().subarray(u * f, (u + 1) * f), 5, { exclude: m.indices.subarray(m.indptr[u], m.indptr[u + 1]) });
    assert.deepEqual([...r.items], [...als.recommend(u, m, 5).items], `user ${u}`);
  }
});

test('a published run is served with the signal settings it was built with, not the current config', async () => {
  const { MemoryStore } = await import('../store/testing/memory.ts');
  const { artists, tracks, worldListens, play } = await import('../server/testing/world.ts');
  const { defaultConfig } = await import('../config/config.ts');
  const { runPipeline, publish } = await import('../pipeline/index.ts');
  const { validateStep, signalsStep, cfStep } = await import('../pipeline/steps.ts');
  const { FixedClock } = await import('../core/clock.ts');
  const { loadServingState } = await import('./load.ts');
  const store = new MemoryStore();
  await store.put('artists', artists);
  await store.put('tracks', tracks);
  await store.put('listens', worldListens());
  const built = defaultConfig();
  const config = { ...built, home: mkdtempSync(join(tmpdir(), 'dc-serving-run-')), cf: { ...built.cf, factors: 2, iterations: 3, threads: 1 } };
  const clock = new FixedClock('2026-11-23T06:00:00Z');
  const steps = [validateStep, signalsStep, cfStep];
  const run = await runPipeline(steps, { config, store, clock });
  await publish(steps, config.home, run.runId, { tolerance: 1, force: true, clock, store });
  // today's config calls a 20 s listen a stream; the run was built with streams ≥ 30 s
  const today = { ...config, signals: { ...config.signals, minStreamMs: 15_000 } };
  const state = await loadServingState(store, today);
  assert.equal(state.recs?.info.runId, run.runId);
  const before = state.recs!.heard('u0', 100);
  state.recs!.observe([play('u0', 'b3', 90, 20_000)]);
  assert.deepEqual(state.recs!.heard('u0', 100), before, 'a 20 s listen is neither a stream nor a skip under the run’s settings');
  state.recs!.observe([play('u0', 'b3', 91, 30_000)]);
  assert.ok(state.recs!.heard('u0', 100).includes('b3'));
  await state.home?.close?.();
});

test('Daily Mixes of a published run: read on the first request for them, by listener, ids with quotes and backslashes too', async () => {
  const { playlistSource } = await import('./load.ts');
  const { Catalog } = await import('./catalog.ts');
  const { IdMap } = await import('../domain/ids.ts');
  const dir = mkdtempSync(join(tmpdir(), 'dc-serving-mixes-'));
  mkdirSync(join(dir, 'playlists'));
  const users = ['u1', 'say "hi"\\', 'u2'];
  const mix = (user: string, i: number) => JSON.stringify({ kind: 'daily-mix', id: `daily-mix:${user}:2026-11-23/${i}`, title: `Daily Mix ${i}: "quoted" "userId":"u2"`, userId: user, key: `2026-11-23/${i}`, createdAt: '2026-11-23T06:00:00.000Z', runId: 'r1', tracks: [{ trackId: 't1', title: 'T', artists: ['A'], durationMs: 1, reason: 'r', source: 'favourites' }] });
  const file = join(dir, 'playlists', 'daily-mixes.jsonl');
  writeFileSync(file, [mix(users[0], 1), mix(users[1], 1), mix(users[0], 2)].join('\n') + '\n');
  const run = { runId: 'r1', dir, snapshot: { users: new IdMap(users), histories: users.map((id) => ({ id, timeZone: 'UTC' })) } } as unknown as Parameters<typeof playlistSource>[0];
  const src = await playlistSource(run, dir, new Catalog(), { get: async () => undefined });
  writeFileSync(file, [mix(users[0], 1), mix(users[1], 1), mix(users[0], 2), mix(users[2], 1)].join('\n')); // read when first asked for, not at load
  assert.deepEqual((await src.get('u1', 'daily-mixes'))?.map((p) => p.title), ['Daily Mix 1: "quoted" "userId":"u2"', 'Daily Mix 2: "quoted" "userId":"u2"']);
  assert.equal((await src.get(users[1], 'daily-mixes'))?.length, 1);
  assert.equal((await src.get('u2', 'daily-mixes'))?.length, 1, 'the last line, without a newline');
  assert.equal(await src.get('u3', 'daily-mixes'), undefined);
});
