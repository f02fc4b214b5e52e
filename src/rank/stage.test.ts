import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainsRanking, loadRanked, RankedRecommender, saveStage, timeSplit, trainStage, worldSources, WorldTables, type ListenEvents, type RankWorld } from './index.ts';
import type { Csr } from '../signals/index.ts';
import { defaultConfidence } from '../signals/index.ts';
import type { Ranked, Recommender, RecommendOptions } from '../cf/index.ts';
import { IdMap, type TrackId, type UserId } from '../domain/ids.ts';
import { Catalog, LiveModel } from '../serving/index.ts';
import { Rng } from '../util/rng.ts';

// 10 artists × 8 tracks; listener u's favourite artist is u % 10. Before the cut they stream its
// tracks 0–3 and three tracks of other artists (days 1–14); in the last week they stream its tracks 4 and 5
// (new to them): an artist-familiarity world, where a model blind to artists misses every week.
const ARTISTS = 10;
const PER = 8;
const TRACKS = ARTISTS * PER;
const USERS = 90;
const DAY = 86_400_000;
const fav = (u: number) => u % ARTISTS;
const track = (a: number, j: number) => a * PER + j;

function events(): ListenEvents {
  const rng = new Rng(7);
  const e: { u: number; t: number; at: number }[] = [];
  for (let u = 0; u < USERS; u++) {
    for (let j = 0; j < 4; j++) e.push({ u, t: track(fav(u), j), at: (1 + rng.int(14)) * DAY });
    for (let j = 0; j < 3; j++) e.push({ u, t: track((fav(u) + 1 + rng.int(8)) % ARTISTS, j), at: (1 + rng.int(14)) * DAY });
    e.push({ u, t: track(fav(u), 4), at: 22 * DAY + u * 1000 }, { u, t: track(fav(u), 5), at: 25 * DAY + u * 1000 });
  }
  return { user: Int32Array.from(e, (x) => x.u), track: Int32Array.from(e, (x) => x.t), at: Float64Array.from(e, (x) => x.at), signal: new Int8Array(e.length).fill(1) };
}

/** A recommender proposing `pick(user)`'s unheard tracks in order (a stand-in for a CF model). */
class Fixed implements Recommender {
  readonly name = 'fixed';
  constructor(private readonly pick: (user: number) => number[]) {}
  async fit(): Promise<void> {}
  recommend(user: number, m: Csr, k: number, opts: RecommendOptions = {}): Ranked {
    const skip = new Set<number>(opts.filterItems ?? []);
    if (user < m.rows) for (let p = m.indptr[user]; p < m.indptr[user + 1]; p++) skip.add(m.indices[p]);
    const items = this.pick(user).filter((i) => !skip.has(i)).slice(0, k);
    return { items: Int32Array.from(items), scores: Float32Array.from(items, (_, j) => items.length - j) };
  }
  similarItems(): Ranked {
    return { items: new Int32Array(0), scores: new Float32Array(0) };
  }
  similarUsers(): Ranked {
    return this.similarItems();
  }
  async save(): Promise<void> {}
}

/** Blind to artists: the tracks of the artist three along. */
const blind = new Fixed((u) => Array.from({ length: PER }, (_, j) => track((fav(u) + 3) % ARTISTS, j)));
/** Knows the future: the listener's next two tracks first. */
const oracle = new Fixed((u) => [track(fav(u), 4), track(fav(u), 5)]);

const e = events();
const last = e.at.reduce((a, b) => Math.max(a, b), 0);
const split = timeSplit(e, USERS, TRACKS, last - 7 * DAY, defaultConfidence);
const base = { artistOf: Int32Array.from({ length: TRACKS }, (_, t) => Math.floor(t / PER)), albumOf: new Int32Array(TRACKS).fill(-1), releasedAt: new Float64Array(TRACKS).fill(0) };
const past: RankWorld = { ...base, matrix: split.matrix, lastAt: split.lastAt, now: split.now };
const opts = { seed: 3, depth: 20, size: 2, minTailShare: 0, rounds: 20 };

describe('rank stage (production)', () => {
  it('splits listens by time with Discover Weekly\'s label: new streams after the cut', () => {
    assert.equal(split.matrix.indices.length, USERS * 7);
    assert.deepEqual([...split.future.get(11)!].sort((a, b) => a - b), [track(1, 4), track(1, 5)]);
    assert.equal(split.now < last - 7 * DAY, true);
  });

  it('learns artist familiarity, beats a model blind to artists, and trains the same bytes twice', () => {
    const t = new WorldTables(past);
    const a = trainStage(t, worldSources(t, { cf: blind }), split.future, opts);
    assert.equal(a.report.use, true, JSON.stringify(a.report));
    assert.equal(a.report.plain.hit_rate, 0);
    assert.equal(a.report.ranked.hit_rate, 1);
    assert.deepEqual(a.report.sources, ['cf', 'artist', 'recent']);
    assert.ok(a.report.features.includes('artist_share'));
    const b = trainStage(new WorldTables(past), worldSources(t, { cf: blind }), split.future, opts);
    assert.equal(JSON.stringify(b.ranker.toJSON()), JSON.stringify(a.ranker.toJSON()));
    assert.deepEqual(b.report, a.report);
  });

  it('falls back, saying why, when the ranker does not beat the plain model', () => {
    const t = new WorldTables(past);
    const r = trainStage(t, worldSources(t, { cf: oracle }), split.future, opts);
    assert.equal(r.report.plain.hit_rate, 1);
    assert.equal(r.report.use, false);
    assert.match(r.report.fallback!, /does not beat the plain model's \(1\.0000\): recommendations stay the plain model's/);
    assert.throws(() => trainStage(t, worldSources(t, { cf: blind }), new Map([[1, new Set([3])]]), opts), /1 listener\(s\) with a new stream after the validation cut; the stage needs at least 3/);
  });

  it('is loaded over the CF model from the run folder, and the API keeps each recommendation\'s reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-rank-'));
    try {
      const t = new WorldTables(past);
      const trained = trainStage(t, worldSources(t, { cf: blind }), split.future, opts);
      const write = (use: boolean) => saveStage(dir, { runId: 'r1', depth: 20, recentDays: 14, report: { ...trained.report, use, cut: 0 }, ranker: trained.ranker.toJSON() }, undefined);
      await write(true);
      const first = await readFile(join(dir, 'stage.json'));
      await write(true);
      assert.ok(first.equals(await readFile(join(dir, 'stage.json'))), 'the same stage writes the same bytes');
      const model = await loadRanked(dir, blind, past, { runId: 'r1' });
      assert.ok(model instanceof RankedRecommender && explainsRanking(model));
      const r = model.recommendExplained(11, split.matrix, 2);
      assert.deepEqual([...r.items].sort((a, b) => a - b), [track(1, 4), track(1, 5)]);
      assert.deepEqual(r.origins.map((o) => o.source), ['artist', 'artist']);
      await assert.rejects(loadRanked(dir, blind, past, { runId: 'r2' }), /stage\.json: made by run r1, not r2/);

      // the API: reasons name the artist the listener plays
      const catalog = new Catalog();
      catalog.addArtists(Array.from({ length: ARTISTS }, (_, a) => ({ artist_id: `a${a}`, name: `Artist ${a}` })));
      catalog.addTracks(Array.from({ length: TRACKS }, (_, i) => ({ track_id: `t${i}`, title: `Track ${i}`, artist_ids: [`a${Math.floor(i / PER)}`], release_date: '2026-01-01', duration_ms: 1 })));
      const live = new LiveModel({ recommender: model, users: new IdMap(Array.from({ length: USERS }, (_, u) => `u${u}` as UserId)), tracks: new IdMap(Array.from({ length: TRACKS }, (_, i) => `t${i}` as TrackId)), userItems: split.matrix, catalog, kind: 'in-process', artistIdOf: (a) => `a${a}` });
      const cards = live.forUser('u11', 2);
      assert.deepEqual(cards.map((c) => c.track_id).sort(), ['t12', 't13']);
      assert.deepEqual(cards.map((c) => c.reason), [0, 1].map(() => ({ kind: 'because_you_listen', text: 'because you listen to Artist 1', artist_id: 'a1' })));

      await write(false);
      assert.equal(await loadRanked(dir, blind, past), blind, 'a stage that fell back loads as the CF model');
      assert.equal(await loadRanked(dir, blind, () => Promise.reject(new Error('the world was built'))), blind, 'and never builds the world it would rank over');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
