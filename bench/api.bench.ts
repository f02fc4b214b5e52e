/**
 * HTTP API under load (loopback only): recommendations at 1,000 requests/s and home at 300
 * requests/s, each paced open-loop (bench/paced.ts: evenly spaced, latency from each request's
 * due time) and, for comparison, with autocannon's rate mode (which sends bursts; see paced.ts);
 * then listen ingestion in batches of 1,000 as fast as the server acknowledges (autocannon). The server runs in a worker thread over a seeded DuckDB store (default 2,000 users,
 * 10,000 tracks, 200,000 listens) with ALS (64 factors, 5 iterations), exact IVF retrieval and the
 * bandit home page (Thompson sampling over BART, every card logged to the store), as `deepcut serve` runs, auth on.
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
import { paced, type PacedResult } from './paced.ts';
import { ingestBodies } from './synthetic-world.ts';

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
  description: 'HTTP API, server in a worker thread over loopback: recommendations at 1,000 req/s and home (Thompson + BART, impression log) at 300 req/s, paced open-loop (and autocannon bursts for comparison); listen ingestion rate (autocannon)',
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
      const homePath = userPath('/home');
      const rec = await paced({ url: ready.url, rate: 1000, seconds, headers, path: recPath });
      const home_ = await paced({ url: ready.url, rate: 300, seconds, headers, path: homePath });
      const recBurst = await run({ url: ready.url, connections: 20, overallRate: 1000, duration: seconds, headers, requests: [{ setupRequest: (r) => ({ ...r, path: recPath() }) }] });
      const homeBurst = await run({ url: ready.url, connections: 10, overallRate: 300, duration: seconds, headers, requests: [{ setupRequest: (r) => ({ ...r, path: homePath() }) }] });
      const bodies = ingestBodies(400, { users, tracks: 10_000, prefix: 'bench', rng });
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
          ...pacedFigures('rec', rec),
          ...pacedFigures('home', home_),
          rec_autocannon_burst_p99_ms: recBurst.latency.p99,
          home_autocannon_burst_p99_ms: homeBurst.latency.p99,
          autocannon_burst_errors: errors(recBurst) + errors(homeBurst),
          ingest_listens_per_s: (okIngest * 1000) / seconds,
          ingest_batch_p99_ms: ing.latency.p99,
          ingest_errors: errors(ing),
        },
        targets: { rec_p99_ms: '<= 10 at 1,000 req/s', home_p99_ms: '<= 25', ingest_listens_per_s: '>= 20,000' },
        notes: [
          `rec_* and home_*: open-loop, evenly paced (bench/paced.ts), latency from each request's due time; ${seconds} s measured per phase after 2 s of the same load unmeasured (sockets opened, code compiled).`,
          '*_autocannon_burst_p99_ms: autocannon overallRate over 20 (rec) and 10 (home) connections; each connection sends back to back until its share of the second is used, so requests arrive in bursts at the start of each second.',
          `${seconds} s per phase; ingestion batches of 1,000 listens over 4 connections (bodies cycle through 400 distinct batches; repeats are acknowledged duplicates, counted in the rate)`, 'the server (a worker thread, with DuckDB\'s threads) and the load generator share the 2 cores',
        ],
      };
    } finally {
      worker.postMessage('stop');
      await new Promise((r) => worker.once('message', r));
      await worker.terminate();
      await rm(home, { recursive: true, force: true });
    }
  },
};

function pacedFigures(name: string, r: PacedResult): Record<string, number> {
  return { [`${name}_rate_per_s`]: r.rate, [`${name}_p50_ms`]: r.p50_ms, [`${name}_p90_ms`]: r.p90_ms, [`${name}_p99_ms`]: r.p99_ms, [`${name}_max_ms`]: r.max_ms, [`${name}_errors`]: r.errors };
}

export default bench;
