/**
 * The home page with the bandit in the loop, in process: a DuckDB store with 2,000 users, 10,000
 * tracks and 200,000 listens (users listen mostly inside one of 20 taste clusters), ALS fitted on
 * it and served by `LiveModel`; then home pages for random users from `composeHome` (no bandit),
 * and from `BanditHome` with uniform shelves and with Thompson sampling over BART (50 trees × 50
 * draws, fitted on synthetic shelf impressions; 64 Monte Carlo draws for the propensities), every
 * impression written to the store. Latency per page: p50 and p99 over `--requests` pages.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench } from './bench.ts';
import type { Listen } from '../src/domain/schemas.ts';
import { Rng } from '../src/util/rng.ts';
import { openStore } from '../src/store/open.ts';
import { listenConfidence } from '../src/signals/confidence.ts';
import { AlternatingLeastSquares } from '../src/cf/als.ts';
import { Catalog } from '../src/serving/catalog.ts';
import { LiveModel } from '../src/serving/live.ts';
import { composeHome, type HomeSource } from '../src/serving/state.ts';
import { BanditHome } from '../src/serving/home.ts';
import { ThompsonPolicy, UniformPolicy } from '../src/bandit/policy.ts';
import { syntheticShelfBart } from './shelf-bart.ts';

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const bench: Bench = {
  name: 'home-bandit',
  description: 'home page latency with the bandit in the loop (in process, ALS over 2k users × 10k tracks): composeHome vs BanditHome with uniform and Thompson+BART shelf ordering, impressions logged',
  async run(args) {
    const i = args.indexOf('--requests');
    const requests = i >= 0 ? Number(args[i + 1]) : 2000;
    const home = await mkdtemp(join(tmpdir(), 'deepcut-home-bench-'));
    const store = await openStore({ home });
    try {
      const rng = new Rng(5);
      const users = 2000, tracks = 10_000, listens = 200_000, clusters = 20;
      await store.bulkPut('artists', [Array.from({ length: 500 }, (_, a) => ({ artist_id: `ar${a}`, name: `Artist ${a}`, genres: [] }))]);
      await store.bulkPut('tracks', [Array.from({ length: tracks }, (_, t) => ({ track_id: `tr${t}`, title: `Track ${t}`, artist_ids: [`ar${t % 500}`], duration_ms: 200_000, release_date: t % 50 === 0 ? '2026-11-13' : '2023-05-05' }))]);
      const rows: Listen[] = [];
      for (let k = 0; k < listens; k++) {
        const u = rng.int(users);
        const t = rng.next() < 0.8 ? (u % clusters) + clusters * rng.int(tracks / clusters) : rng.int(tracks);
        rows.push({ listen_id: `l${k}`, user_id: `u${u}`, track_id: `tr${t}`, started_at: new Date(Date.UTC(2026, 9, 1) + k * 20_000).toISOString(), ms_played: 150_000, reason_end: 'trackdone', skipped: false, context: 'unknown', platform: 'bench' });
      }
      await store.bulkPut('listens', [rows]);
      const l = await store.readListens();
      const m = listenConfidence(l);
      const als = new AlternatingLeastSquares({ factors: 64, iterations: 5, threads: 1, computeLoss: false, seed: 1 });
      await als.fit(m);
      const catalog = await Catalog.load(store);
      const recs = new LiveModel({ recommender: als, users: l.users, tracks: l.tracks, userItems: m, catalog, kind: 'in-process' });
      // BART on synthetic shelf impressions (reward depends on shelf kind and hour)
      const bart = syntheticShelfBart(rng.int(1 << 30));
      const now = () => new Date('2026-11-20T20:00:00Z');
      const sources: [string, HomeSource | undefined][] = [
        ['compose', undefined],
        ['bandit_uniform', new BanditHome({ policy: new UniformPolicy(), catalog, store, now })],
        ['bandit_thompson_bart', new BanditHome({ policy: new ThompsonPolicy(bart, { samples: 64 }), catalog, store, now })],
        ['bandit_thompson_bart_unlogged', new BanditHome({ policy: new ThompsonPolicy(bart, { samples: 64 }), catalog, now })],
      ];
      const figures: Record<string, number> = {};
      for (const [name, src] of sources) {
        const lat: number[] = [];
        const pick = new Rng(9);
        for (let q = 0; q < requests + 200; q++) {
          const user = `u${pick.int(users)}`;
          const t0 = performance.now();
          if (src) await src.home(user, recs);
          else composeHome(user, recs);
          if (q >= 200) lat.push(performance.now() - t0); // the first 200 warm up the JIT
        }
        figures[`${name}_p50_ms`] = quantile(lat, 0.5);
        figures[`${name}_p99_ms`] = quantile(lat, 0.99);
      }
      for (const [, src] of sources) if (src instanceof BanditHome) await src.flush();
      figures.impressions_logged = await store.count('impressions');
      return { figures, targets: { bandit_thompson_bart_p99_ms: '<= 25' }, notes: [`${requests} pages per source, sequential, one thread`] };
    } finally {
      await store.close();
      await rm(home, { recursive: true, force: true });
    }
  },
};
export default bench;
