/**
 * Worker for bench/api.bench.ts: seeds a DuckDB store with a synthetic world (users with genre
 * tastes), fits ALS on it, and serves it on 127.0.0.1 with a random port, so autocannon in the
 * main thread does not share an event loop with the server.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../src/store/open.ts';
import { defaultConfig } from '../src/config/config.ts';
import { listenConfidence } from '../src/signals/confidence.ts';
import { AlternatingLeastSquares } from '../src/cf/als.ts';
import { Catalog } from '../src/serving/catalog.ts';
import { LiveModel } from '../src/serving/live.ts';
import { buildServer } from '../src/server/app.ts';
import { createKey } from '../src/server/auth.ts';
import { itemRetrieval } from '../src/serving/retrieval.ts';
import { BanditHome } from '../src/serving/home.ts';
import { policyFor } from '../src/bandit/policy.ts';
import { syntheticShelfBart } from './shelf-bart.ts';
import { ImpressionLog, impressionLogDir } from '../src/bandit/impression-log.ts';
import { seedSyntheticWorld } from './synthetic-world.ts';

const { home, users, tracks, listens, seed } = workerData as { home: string; users: number; tracks: number; listens: number; seed: number };
const store = await openStore({ home });
const t0 = performance.now();
await seedSyntheticWorld(store, { users, tracks, listens, seed });
const seedS = (performance.now() - t0) / 1000;
const t1 = performance.now();
const l = await store.readListens();
const m = listenConfidence(l);
const als = new AlternatingLeastSquares({ factors: 64, iterations: 5, threads: 1, computeLoss: false, seed });
await als.fit(m);
const fitS = (performance.now() - t1) / 1000;
const catalog = await Catalog.load(store);
// as serving does (src/serving/load.ts): exact retrieval (IVF or the SIMD scan, whichever measures faster), the bandit home page logging every card
const itemIndex = itemRetrieval(als, m);
const recs = new LiveModel({ recommender: als, users: l.users, tracks: l.tracks, userItems: m, catalog, kind: 'in-process', itemIndex });
// Thompson sampling over a BART reward model, as serving runs once a pipeline run has learnt one; impressions to the log
const homePage = new BanditHome({ policy: policyFor(syntheticShelfBart(seed)), catalog, log: new ImpressionLog(impressionLogDir(home)) });
const config = defaultConfig();
config.home = home;
config.server.rateLimitPerMinute = 10_000_000;
config.server.bodyLimitBytes = 50 * 1024 * 1024;
const { key } = await createKey(store, { scopes: ['read', 'ingest'] });
const app = await buildServer({ store, state: { recs, catalog, home: homePage }, config });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
parentPort!.postMessage({ url, key, seedS, fitS, users: l.users.size, tracks: l.tracks.size, nnz: m.indices.length });
parentPort!.on('message', async (msg) => {
  if (msg === 'stop') {
    await app.close();
    await store.close();
    parentPort!.postMessage('stopped');
  }
});
