import { test } from 'node:test';
import { listInMemory } from '../store/testing/data.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityKind, EntityRow, Impression, Listen } from '../domain/schemas.ts';
import type { ListOptions, Store } from '../store/index.ts';
import type { StepContext } from './runner.ts';
import { Catalog } from '../serving/index.ts';
import type { Recommendations, TrackCard } from '../serving/index.ts';
import { BanditHome } from '../serving/index.ts';
import { UniformPolicy } from '../bandit/index.ts';
import { loadRewardModel } from '../bandit/index.ts';
import { defaultConfig } from '../config/config.ts';
import { FixedClock } from '../core/clock.ts';
import { log } from '../log.ts';
import { Rng } from '../util/rng.ts';
import { banditStep, MIN_REQUESTS } from './bandit-step.ts';
import { ImpressionLog, impressionLogDir } from '../bandit/index.ts';

const catalog = new Catalog();
catalog.addTracks(Array.from({ length: 60 }, (_, i) => ({ track_id: `t${i}`, title: `T${i}`, artist_ids: [`a${i % 6}`], release_date: '2020-01-01' })));
const card = (i: number): TrackCard => ({ track_id: `t${i}`, title: `T${i}`, artist_ids: [`a${i % 6}`], artist_names: [`A${i % 6}`], score: 1, reason: { kind: 'popular', text: 'popular' } });
const recs: Recommendations = {
  info: { kind: 'in-process', model: 'fake', runId: null, users: 50, tracks: 60, foldIn: false },
  heard: () => ['t0', 't1', 't2'],
  forUser: (_u, k) => Array.from({ length: Math.min(k, 50) }, (_, i) => card(10 + i)),
  similarTracks: (t, k) => Array.from({ length: k }, (_, i) => card((Number(t.slice(1)) + 3 * i + 7) % 60)),
  similarArtists: () => [],
  observe() {},
  played: (user) => new Set(recs.heard(user, 1000)),
  knows: (user) => user === 'u0',
  knownUsers: () => ['u0'],
};

/**
 * `requests` home pages served by a uniform policy over a day; listeners stream from the
 * "Made for you" shelf often (60%) and from any other shelf rarely (5%), and look less far down
 * the page (×0.5 per position), so which shelf comes first matters.
 */
async function loggedWorld(requests: number, seed: number): Promise<{ impressions: Impression[]; listens: Listen[] }> {
  const impressions: Impression[] = [];
  const listens: Listen[] = [];
  const rng = new Rng(seed);
  const store = { put: async (_k: string, r: readonly unknown[]) => (impressions.push(...(r as Impression[])), { inserted: r.length, duplicates: 0 }) };
  for (let q = 0; q < requests; q++) {
    const at = new Date(Date.UTC(2026, 10, 20, 0, 0) + q * 60_000);
    const h = new BanditHome({ policy: new UniformPolicy(), catalog, store, now: () => at, seed: seed + q });
    const user = `u${q % 50}`;
    const page = await h.home(user, recs);
    await h.flush();
    for (const [slot, s] of page.shelves.entries()) {
      const p = (s.id === 'made-for-you' ? 0.6 : 0.05) * 0.5 ** slot;
      if (rng.next() < p) {
        const t = s.cards[0].track_id;
        listens.push({ listen_id: `l${q}-${s.id}`, user_id: user, track_id: t, started_at: new Date(at.getTime() + 120_000).toISOString(), ms_played: 200_000, reason_end: 'trackdone', skipped: false, context: `home:${s.id}:${t}`, platform: 'web' });
      }
    }
  }
  return { impressions, listens };
}

function ctxFor(data: { impressions: Impression[]; listens: Listen[] }): StepContext {
  const home = mkdtempSync(join(tmpdir(), 'dc-bandit-step-'));
  const store = {
    async list<K extends EntityKind>(kind: K, o: ListOptions = {}): Promise<EntityRow<K>[]> {
      return listInMemory(kind, (data as unknown as Record<string, EntityRow<K>[]>)[kind] ?? [], o);
    },
    async bulkPut(_kind: 'impressions', batches: AsyncIterable<Impression[]>) {
      let n = 0;
      for await (const b of batches) (data.impressions.push(...b), (n += b.length));
      return { inserted: n, duplicates: 0 };
    },
    async quarantine() {},
    async getPublication() {
      return undefined;
    },
  } as unknown as Store;
  return { runId: 'r1', runDir: home, dir: home, dirOf: (s) => join(home, s), outputs: {}, config: { ...defaultConfig(), home }, store, clock: new FixedClock('2026-11-21T06:00:00Z'), log: log('test') };
}

test('bandit step: BART trained on uniform logs beats the uniform live policy off-policy and is promoted', async () => {
  const ctx = ctxFor(await loggedWorld(400, 3));
  const out = await banditStep.run(ctx);
  assert.equal(out.metrics?.logged_requests, 400);
  assert.equal(out.metrics?.promoted, 1, String(out.info?.reason));
  assert.ok(out.metrics!.candidate_value > out.metrics!.live_value, `candidate ${out.metrics!.candidate_value} vs live ${out.metrics!.live_value}`);
  const model = loadRewardModel(JSON.parse(readFileSync(join(ctx.dir, 'reward-model.json'), 'utf8')));
  assert.equal(model.name, 'bart');
  assert.match(readFileSync(join(ctx.dir, 'report.json'), 'utf8'), /"promoted": true/);
});

test('bandit step: loads the impression log serving wrote before it trains', async () => {
  const world = await loggedWorld(400, 3);
  const ctx = ctxFor({ impressions: [], listens: world.listens });
  const l = new ImpressionLog(impressionLogDir(ctx.config.home));
  l.append(world.impressions);
  await l.close();
  const out = await banditStep.run(ctx);
  assert.equal(out.metrics?.impressions_loaded, world.impressions.length);
  assert.equal(out.metrics?.logged_requests, 400);
  assert.equal(out.metrics?.promoted, 1, String(out.info?.reason));
  assert.deepEqual(readdirSync(impressionLogDir(ctx.config.home)), []);
});

test('bandit step: too few logged requests trains nothing, says why, and writes no model', async () => {
  const ctx = ctxFor(await loggedWorld(20, 4));
  const out = await banditStep.run(ctx);
  assert.equal(out.metrics?.promoted, 0);
  assert.match(String(out.info?.reason), new RegExp(`20 logged home requests in the last 28 days; at least ${MIN_REQUESTS} are needed to train`));
  assert.equal(existsSync(join(ctx.dir, 'reward-model.json')), false);
});
