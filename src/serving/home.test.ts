import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from '../serving/catalog.ts';
import type { Recommendations, TrackCard } from '../serving/recommendations.ts';
import type { Impression } from '../domain/schemas.ts';
import { BanditHome, shelfFeatures } from './home.ts';
import { cardKeys, Feedback, HomeEvidence, HomeWorld } from '../bandit/index.ts';
import { FEATURES } from '../bandit/index.ts';
import { GENRES } from '../generate/index.ts';
import { HOME_SHELF_KINDS, SHELF_FEATURES } from '../bandit/index.ts';
import { EpsilonGreedyPolicy, UniformPolicy } from '../bandit/index.ts';
import { LogisticRegression } from '../bandit/index.ts';
import { Rng } from '../util/rng.ts';
import { eventually } from '../util/poll.testkit.ts';

// 60 tracks t00..t59 by 6 artists (a0..a5, track i by artist i % 6); t50..t59 released last week.
const NOW = new Date('2026-11-20T21:30:00Z');
const catalog = new Catalog();
catalog.addArtists(Array.from({ length: 6 }, (_, a) => ({ artist_id: `a${a}`, name: `Artist ${a}` })));
const tid = (i: number) => `t${String(i).padStart(2, '0')}`;
catalog.addTracks(Array.from({ length: 60 }, (_, i) => ({ track_id: tid(i), title: `Track ${i}`, artist_ids: [`a${i % 6}`], release_date: i >= 50 ? '2026-11-13' : '2020-01-01' })));
const card = (i: number, score: number): TrackCard => ({ track_id: tid(i), title: `Track ${i}`, artist_ids: [`a${i % 6}`], artist_names: [`Artist ${i % 6}`], score, reason: { kind: 'similar_listeners', text: 'listeners like you' } });

/** u1 has heard t00..t04; u1's recommendations are the unheard tracks from t59 down; anyone else's (popular) t00..t29. */
const recs: Recommendations = {
  info: { kind: 'in-process', model: 'fake', runId: null, users: 1, tracks: 60, foldIn: false },
  heard: (user, k) => (user === 'u1' ? [0, 1, 2, 3, 4].map(tid) : []).slice(0, k),
  forUser(user, k) {
    if (user !== 'u1') return Array.from({ length: Math.min(k, 30) }, (_, i) => card(i, 60 - i));
    return Array.from({ length: 55 }, (_, i) => card(59 - i, 1 - i / 60)).slice(0, k);
  },
  similarTracks: (track, k) => Array.from({ length: k }, (_, i) => card((Number(track.slice(1)) + 6 * (i + 1) + 1) % 60, 0.5)),
  similarArtists: () => [],
  observe() {},
  played: (user) => new Set(recs.heard(user, 1000)),
  knows: (user) => user === 'u1',
  knownUsers: () => ['u1'],
};

function fakeStore() {
  const rows: Impression[] = [];
  return { rows, store: { put: async (_kind: string, r: readonly unknown[]) => (rows.push(...(r as Impression[])), { inserted: r.length, duplicates: 0 }) } };
}

test('candidate shelves: every kind that has cards, titled, no track twice, heard tracks only in Jump back in', async () => {
  const h = new BanditHome({ policy: new UniformPolicy(), catalog, now: () => NOW });
  const cands = await h.candidates('u1', recs, NOW);
  const kinds = cands.map((c) => c.kind);
  assert.deepEqual(kinds, ['jump-back-in', 'new-releases', 'because-you-listened', 'fans-also-like', 'hidden-gems', 'made-for-you', 'popular-now']);
  const titles = Object.fromEntries(cands.map((c) => [c.shelf.id, c.shelf.title]));
  assert.equal(titles['because-you-listened:a0'], 'Because you listened to Artist 0');
  assert.equal(titles['fans-also-like:a1'], 'Fans of Artist 1 also like');
  const all = cands.flatMap((c) => c.shelf.cards.map((x) => x.track_id));
  assert.equal(new Set(all).size, all.length);
  const heard = new Set([0, 1, 2, 3, 4].map(tid));
  for (const c of cands) for (const x of c.shelf.cards) assert.equal(heard.has(x.track_id), c.kind === 'jump-back-in', `${x.track_id} on ${c.shelf.id}`);
  for (const x of cands.find((c) => c.kind === 'fans-also-like')!.shelf.cards) assert.ok(!x.artist_ids.includes('a1'));
  assert.ok(HOME_SHELF_KINDS.every((k) => SHELF_FEATURES.includes(`shelf:${k}` as never)));
});

test('a weekly list that cannot be read (the archive unreachable) leaves its shelf out; the page still answers', async () => {
  const weekly = { title: 'Discover Weekly', tracks: [0, 1].map((i) => ({ track_id: tid(20 + i), title: 't', artist_ids: [`z${i}`], artist_names: ['z'], score: 1, reason: { kind: 'because_you_played' as const, text: 'x', track_id: tid(0) } })) };
  const playlists = (fail: boolean) => ({ get: async (_u: string, kind: string) => (fail && kind === 'discover-weekly' ? Promise.reject(new Error('store unavailable')) : kind === 'release-radar' ? [{ title: 'Release Radar', tracks: weekly.tracks.map((c, i) => ({ ...c, track_id: tid(22 + i) })) }] : [weekly]) }) as never;
  const kinds = async (fail: boolean) => (await new BanditHome({ policy: new UniformPolicy(), catalog, now: () => NOW, playlists: playlists(fail) }).candidates('u1', recs, NOW)).map((c) => c.kind);
  assert.ok((await kinds(false)).includes('discover-weekly'));
  const without = await kinds(true);
  assert.ok(!without.includes('discover-weekly') && without.includes('release-radar') && without.includes('made-for-you'), without.join());
});

test('deferred impressions are logged only for the shelves reported seen, each once, for the user who saw them', async () => {
  const { rows, store } = fakeStore();
  const h = new BanditHome({ policy: new UniformPolicy(), catalog, now: () => NOW, store, seed: 3 });
  const a = await h.home('u1', recs, { deferImpressions: true });
  await h.flush();
  assert.equal(rows.length, 0, 'nothing logged for a page view');
  const [s0, s1] = a.shelves;
  assert.equal(await h.viewed('u2', a.request_id, [s0.id]), 0, 'another user');
  assert.equal(await h.viewed('u1', a.request_id, [s0.id, 'no-such-shelf']), s0.cards.length);
  assert.equal(await h.viewed('u1', a.request_id, [s0.id]), 0, 'once');
  assert.equal(await h.viewed('u1', 'home-unknown', [s1.id]), 0);
  await h.flush();
  assert.deepEqual(rows.map((r) => r.shelf), s0.cards.map(() => s0.id));
  assert.equal(rows[0].propensity, a.propensities[0]);
});

test('shelves leave out what the listener streamed or skipped, and hold at most 2 cards of one artist', async () => {
  const skipped = [59, 58, 6, 7].map(tid); // skipped (net plays below zero): not in heard(), still played
  const r2: Recommendations = { ...recs, played: (u) => new Set([...recs.heard(u, 1000), ...(u === 'u1' ? skipped : [])]) };
  const cands = await new BanditHome({ policy: new UniformPolicy(), catalog, now: () => NOW }).candidates('u1', r2, NOW);
  assert.ok(cands.some((c) => c.kind === 'popular-now') && cands.some((c) => c.kind === 'made-for-you'));
  for (const c of cands) {
    if (c.kind !== 'jump-back-in') for (const x of c.shelf.cards) assert.ok(!r2.played('u1').has(x.track_id), `${x.track_id} on ${c.shelf.id} was played`);
    const per = new Map<string, number>();
    for (const x of c.shelf.cards) per.set(x.artist_ids[0], (per.get(x.artist_ids[0]) ?? 0) + 1);
    assert.ok(Math.max(...per.values()) <= 2, `${c.shelf.id}: ${JSON.stringify([...per])}`);
  }
});

test('home: shelves ordered by the policy with propensities, every card logged as an impression', async () => {
  const { rows, store } = fakeStore();
  const h = new BanditHome({ policy: new UniformPolicy(), catalog, now: () => NOW, store, seed: 3 });
  const a = await h.home('u1', recs);
  assert.equal(a.shelves.length, 7);
  assert.deepEqual(a.propensities, new Array(7).fill(1 / 7));
  assert.equal(a.policy, 'uniform');
  assert.match(a.source, /^bandit:uniform:in-process:fake$/);
  await h.flush();
  assert.equal(rows.length, a.shelves.reduce((s, sh) => s + sh.cards.length, 0));
  assert.deepEqual(rows[0], { request_id: a.request_id, user_id: 'u1', shelf: a.shelves[0].id, card: a.shelves[0].cards[0].track_id, slot: 0, policy: 'uniform', propensity: 1 / 7, shown_at: NOW.toISOString() });
  assert.equal(new Set(rows.map((r) => r.slot)).size, rows.length);
  // the same seed gives the same page; a second request gets a new id
  const b = await new BanditHome({ policy: new UniformPolicy(), catalog, now: () => NOW, seed: 3 }).home('u1', recs);
  assert.deepEqual(b.shelves.map((s) => s.id), a.shelves.map((s) => s.id));
  assert.notEqual((await h.home('u1', recs)).request_id, a.request_id);
});

test('impressions are written in full batches at once, and what is left within writeDelayMs, without flush', async () => {
  const writes: number[] = [];
  const store = { put: async (_kind: string, r: readonly unknown[]) => (writes.push(r.length), { inserted: r.length, duplicates: 0 }) };
  const h = new BanditHome({ policy: new UniformPolicy(), catalog, now: () => NOW, store, writeDelayMs: 200 });
  const perPage = (await h.home('u1', recs)).shelves.reduce((s, sh) => s + sh.cards.length, 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, [], 'one page waits for more rows');
  await eventually(() => writes.length > 0, 'the write once the delay passed');
  assert.deepEqual(writes, [perPage]);
  // enough pages for two full batches: those go out without waiting, the rest waits (here: for flush)
  writes.length = 0;
  const patient = new BanditHome({ policy: new UniformPolicy(), catalog, now: () => NOW, store, writeDelayMs: 60_000 });
  const pages = Math.ceil(2000 / perPage) + 1;
  for (let i = 0; i < pages; i++) await patient.home('u1', recs);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, [1000, 1000]);
  await patient.flush();
  assert.deepEqual(writes, [1000, 1000, pages * perPage - 2000]);
});

test('home: a fitted ε-greedy policy puts the shelf its model prefers first; maxShelves cuts the page', async () => {
  // a model that has learned "Popular now" streams at night and nothing else does
  const dim = SHELF_FEATURES.length;
  const pop = SHELF_FEATURES.indexOf('shelf:popular-now');
  const n = 200, x = new Float64Array(n * dim), y = new Float64Array(n);
  const rng = new Rng(1);
  for (let i = 0; i < n; i++) {
    const isPop = i % 2;
    x[i * dim + pop] = isPop;
    x[i * dim + SHELF_FEATURES.indexOf('shelf:made-for-you')] = 1 - isPop;
    y[i] = rng.next() < (isPop ? 0.8 : 0.1) ? 1 : 0;
  }
  const m = new LogisticRegression();
  m.fit({ n, dim, x, y }, rng);
  const h = new BanditHome({ policy: new EpsilonGreedyPolicy(m, { epsilon: 0 }), catalog, now: () => NOW, maxShelves: 3 });
  const a = await h.home('u1', recs);
  assert.equal(a.shelves.length, 3);
  assert.equal(a.shelves[0].id, 'popular-now');
  assert.deepEqual(a.propensities, [1, 1, 1]);
  // a user with no history still gets a page (made for you and popular now)
  const cold = await h.home('nobody', recs);
  assert.ok(cold.shelves.length >= 1);
});

test('evidence features: serving computes for a shelf the vector the simulator computes for the same card and logs', async () => {
  const world = new HomeWorld({ seed: 3, users: 20, tracks: 300, listensPerUser: 30 });
  // the simulator's world as serving's catalog: track, artist and genre ids of the same rows
  const cat = new Catalog();
  cat.addArtists(world.cat.artists.map((_, a) => ({ artist_id: String(a), name: `A${a}`, genres: [GENRES[world.cat.artistGenre[a]].name] })));
  cat.addTracks(world.cat.tracks.map((_, t) => ({ track_id: String(t), title: `T${t}`, artist_ids: [String(world.cat.trackArtist[t])], release_date: '2020-01-01' })));
  const fb = new Feedback(world, 6);
  const served = new HomeEvidence(HOME_SHELF_KINDS.length);
  const rng = new Rng(7);
  // the same impressions logged on both sides: 40 pages, 6 random cards each, some streamed
  for (let r = 0; r < 40; r++) {
    const q = world.request(0, r);
    const n = q.decision.n;
    const shown = rng.shuffle(Array.from({ length: n }, (_, a) => a)).slice(0, 6);
    shown.forEach((a, s) => {
      const reward = rng.next() < 0.3 ? 1 : 0;
      fb.add(q, a, reward, s, 1 / n);
      served.add({ ...cardKeys(String(q.user), q.shelves[a], String(q.tracks[a]), cat), slot: s, propensity: 1 / n, candidates: n, reward });
    });
  }
  const q = world.request(1, 0);
  const sim = fb.decision(q);
  const simEvidence = FEATURES.indexOf('card_rate');
  const evidence = SHELF_FEATURES.indexOf('card_rate');
  const width = SHELF_FEATURES.length - evidence;
  let informative = 0;
  for (let a = 0; a < q.decision.n; a++) {
    const track = String(q.tracks[a]);
    const cand = { kind: q.shelves[a], shelf: { id: q.shelves[a], title: q.shelves[a], cards: [card(0, 1)].map((c) => ({ ...c, track_id: track })) } };
    const row = shelfFeatures([cand], { user: String(q.user), at: NOW, heardCount: 0, perShelf: 12, catalog: cat, evidence: served }).x;
    assert.deepEqual(row.subarray(evidence, evidence + width), sim.x.subarray(a * sim.dim + simEvidence, a * sim.dim + simEvidence + width), `card ${a}`);
    if (row[SHELF_FEATURES.indexOf('card_seen')] > 0) informative++;
  }
  assert.ok(informative > 0, 'some candidate has been shown before: the check compares real evidence, not only the priors');
});
