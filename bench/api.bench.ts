/**
 * HTTP API under load (autocannon, loopback only): recommendations at a fixed 1,000 requests/s,
 * home at a fixed 300 requests/s, and listen ingestion in batches of 1,000 as fast as the server
 * acknowledges. The server runs in a worker thread over a seeded DuckDB store (default 2,000 users,
 * 10,000 tracks, 200,000 listens) with ALS (64 factors, 5 iterations), exact IVF retrieval and the
 * bandit home page (uniform policy, every card logged to the store), as `deepcut serve` runs, auth on.
 * Args: `--seconds N` per phase (default 10), `--listens N`.
 */
import { Worker } from 'node:worker_threads';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { Bench } from './bench.ts';
import { numFlag } from './bench.ts';
import { Rng } from '../src/util/rng.ts';

interface Ready {
  url: string;
  key: string;
  seedS: number;
  fitS: number;
  users: number;
  tracks: number;
  nnz: number;
}


function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const bench: Bench = {
  name: 'api',
  description: 'HTTP API: recommendations p99 at 1,000 req/s, home p99, listen ingestion rate (autocannon, loopback, server in a worker thread)',
  async run(args) {
    const seconds = Math.min(60, numFlag(args, 'seconds', 10));
    const users = 2_000;
    const home = await mkdtemp(join(tmpdir(), 'deepcut-api-bench-'));
    // The worker registers tsx itself (workers do not inherit the --import loader hooks).
    const entry = new URL('./api-server.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: { home, users, tracks: 10_000, listens: numFlag(args, 'listens', 200_000), seed: 7 } });
    const ready = await new Promise<Ready>((res, rej) => {
      worker.once('message', res);
      worker.once('error', rej);
    });
    const headers = { authorization: `Bearer ${ready.key}`, 'content-type': 'application/json' };
    const rng = new Rng(11);
    const userPath = (suffix: string) => () => `/v1/users/u${rng.int(users)}${suffix}`;
    try {
      const recPath = userPath('/recommendations?k=20');
      // warm up JIT and caches
      await run({ url: ready.url, connections: 10, duration: 2, headers, requests: [{ setupRequest: (r) => ({ ...r, path: recPath() }) }] });
      const rec = await run({ url: ready.url, connections: 20, overallRate: 1000, duration: seconds, headers, requests: [{ setupRequest: (r) => ({ ...r, path: recPath() }) }] });
      const homePath = userPath('/home');
      const home_ = await run({ url: ready.url, connections: 10, overallRate: 300, duration: seconds, headers, requests: [{ setupRequest: (r) => ({ ...r, path: homePath() }) }] });
      let seq = 0;
      const batch = () => {
        const b = [];
        for (let i = 0; i < 1000; i++) {
          const id = seq++;
          b.push({ listen_id: `bench-${id}`, user_id: `u${rng.int(users)}`, track_id: `tr${rng.int(10_000)}`, started_at: new Date(Date.UTC(2024, 5, 1) + id * 1000).toISOString(), ms_played: 120_000 });
        }
        return JSON.stringify(b);
      };
      const bodies = Array.from({ length: 400 }, batch);
      let bi = 0;
      const ing = await run({ url: ready.url, connections: 4, duration: seconds, method: 'POST', headers, requests: [{ method: 'POST', setupRequest: (r) => ({ ...r, path: '/v1/listens', body: bodies[bi++ % bodies.length] }) }] });
      const okIngest = ing['2xx'];
      const errors = (r: autocannon.Result) => r.non2xx + r.errors + r.timeouts;
      return {
        figures: {
          seed_store_s: ready.seedS,
          fit_als_s: ready.fitS,
          users: ready.users,
          tracks: ready.tracks,
          listens_nnz: ready.nnz,
          rec_rate_per_s: rec.requests.average,
          rec_p50_ms: rec.latency.p50,
          rec_p99_ms: rec.latency.p99,
          rec_errors: errors(rec),
          home_rate_per_s: home_.requests.average,
          home_p50_ms: home_.latency.p50,
          home_p99_ms: home_.latency.p99,
          home_errors: errors(home_),
          ingest_listens_per_s: (okIngest * 1000) / seconds,
          ingest_batch_p99_ms: ing.latency.p99,
          ingest_errors: errors(ing),
        },
        targets: { rec_p99_ms: '<= 10 at 1,000 req/s', home_p99_ms: '<= 25', ingest_listens_per_s: '>= 20,000' },
        notes: [`${seconds} s per phase; ingestion batches of 1,000 listens over 4 connections (bodies cycle through 400 distinct batches; repeats are acknowledged duplicates, counted in the rate)`, 'server and autocannon share the 2 cores'],
      };
    } finally {
      worker.postMessage('stop');
      await new Promise((r) => worker.once('message', r));
      await worker.terminate();
      await rm(home, { recursive: true, force: true });
    }
  },
};

export default bench;
