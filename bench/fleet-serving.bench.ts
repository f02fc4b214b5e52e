/**
 * Two API nodes (real `deepcut serve` processes, `--no-auth`) on one PostgreSQL schema, sharing a
 * home's runs folder, over loopback: recommendations at 1,000 req/s spread over both nodes (two
 * open-loop paced loads of 500 req/s, bench/paced.ts); publication to both nodes serving (from the
 * publish call's return to the first answer of each node naming the new run); cross-node listen
 * visibility (a listen posted to A until B's answer reflects it: the heard track leaves that
 * listener's recommendations); listen ingestion into PostgreSQL through both nodes (autocannon,
 * batches of 1,000). For the choice of the cross-node mechanism it also times the alternative, a
 * read of one listener's recent listens from PostgreSQL (what a per-request fold-in from the store
 * would add to every request). World: the API bench's synthetic one (default 2,000 users, 10,000
 * tracks, 200,000 listens), ALS 64 factors × 5 iterations, runs made by validate → signals → cf.
 * Args: `--seconds N` per load phase (default 10), `--listens N`, `--samples N` visibility samples (default 200).
 */
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import type { Bench } from './bench.ts';
import { numFlag } from './bench.ts';
import { Rng } from '../src/util/rng.ts';
import { paced } from './paced.ts';
import { ingestBodies, seedSyntheticWorld } from './synthetic-world.ts';
import { fleetWorld, until, type FleetNodeProcess } from '../src/server/testing/fleet.ts';
import { pgDown } from '../src/store/testing/postgres.ts';

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

async function runOf(n: FleetNodeProcess, user: string): Promise<{ run: string | null; top: string | undefined }> {
  const r = await fetch(`${n.url}/v1/users/${user}/recommendations?k=1`);
  const b = (await r.json()) as { items: { track_id: string }[] };
  return { run: r.headers.get('x-deepcut-run'), top: b.items[0]?.track_id };
}

const bench: Bench = {
  name: 'fleet-serving',
  description: 'Two API nodes (`deepcut serve` processes) on one PostgreSQL: recommendations p99 at 1,000 req/s over both, publication to both serving, cross-node listen visibility, listen ingestion into PostgreSQL through the API',
  async run(args) {
    const down = await pgDown();
    if (down) throw new Error(`fleet-serving needs PostgreSQL: ${down}`);
    const seconds = Math.min(60, numFlag(args, 'seconds', 10));
    const samples = numFlag(args, 'samples', 200);
    const users = 2_000;
    const t0 = performance.now();
    const w = await fleetWorld((s) => seedSyntheticWorld(s, { users, tracks: 10_000, listens: numFlag(args, 'listens', 200_000), seed: 7 }), { cf: { factors: 64, iterations: 5, threads: 2 } });
    try {
      const seedS = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const run1 = await w.runAndPublish();
      const runS = (performance.now() - t1) / 1000;
      const run2 = await w.run();
      const env = { DEEPCUT_SERVER_RATE_LIMIT_PER_MINUTE: '100000000', DEEPCUT_SERVER_BODY_LIMIT_BYTES: String(50 * 1024 * 1024), DEEPCUT_LOG_LEVEL: 'warn' };
      const [a, b] = await Promise.all([w.node(env), w.node(env)]);
      for (const n of [a, b]) await until('node ready', 120_000, async () => ((await fetch(`${n.url}/readyz`)).status === 200 ? true : undefined), 200);

      // 1. recommendations at 1,000 req/s, half to each node
      const rng = new Rng(11);
      const path = () => `/v1/users/u${rng.int(users)}/recommendations?k=20`;
      const load = loadavg()[0];
      const [ra, rb] = await Promise.all([paced({ url: a.url, rate: 500, seconds, path }), paced({ url: b.url, rate: 500, seconds, path })]);

      // 2. publication → both nodes serving it
      const tp = performance.now();
      await w.publish(run2);
      const published = performance.now();
      const served: number[] = [];
      await Promise.all(
        [a, b].map(async (n) => {
          await until('node serves the new run', 60_000, async () => ((await runOf(n, 'u1')).run === run2 ? true : undefined), 20);
          served.push(performance.now() - published);
        }),
      );
      const publishCallMs = published - tp;

      // 3. cross-node listen visibility: a newcomer's top track, posted as heard to A, until B no longer recommends it
      const lat: number[] = [];
      for (let i = 0; i < samples; i++) {
        const user = `vis-${i}`;
        // a listener joins through A (unknown ids are 404 on every node); B reads them from the shared store
        const joined = await fetch(`${a.url}/v1/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ user_id: user, time_zone: 'UTC' }]) });
        if (joined.status !== 200) throw new Error(`user refused: ${joined.status} ${await joined.text()}`);
        const { top } = await runOf(b, user);
        if (!top) throw new Error(`node B recommends nothing to ${user}`);
        const listen = { listen_id: `vis-${i}`, user_id: user, track_id: top, started_at: new Date(Date.UTC(2024, 6, 1) + i * 1000).toISOString(), ms_played: 120_000 };
        const r = await fetch(`${a.url}/v1/listens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([listen]) });
        if (r.status !== 200) throw new Error(`listen refused: ${r.status} ${await r.text()}`);
        const acked = performance.now();
        await until('B reflects the listen', 10_000, async () => ((await runOf(b, user)).top !== top ? true : undefined), 0);
        lat.push(performance.now() - acked);
      }

      // 4. the alternative: one listener's listens since the run, read from PostgreSQL per request
      const c = new pg.Client({ connectionString: w.databaseUrl });
      await c.connect();
      const reads: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const s = performance.now();
        await c.query('SELECT track_id, ms_played, skipped FROM listens WHERE user_id = $1 AND started_at > $2', [`u${rng.int(users)}`, '2024-06-01T00:00:00Z']);
        reads.push(performance.now() - s);
      }
      await c.end();

      // 5. ingestion through both nodes
      const bodies = ingestBodies(300, { users, tracks: 10_000, prefix: 'ing', rng });
      let bi = 0;
      const headers = { 'content-type': 'application/json' };
      const ing = (url: string) => run({ url, connections: 3, duration: seconds, method: 'POST', headers, requests: [{ method: 'POST', setupRequest: (r) => ({ ...r, path: '/v1/listens', body: bodies[bi++ % bodies.length] }) }] });
      const before = await w.store.count('listens');
      const [ia, ib] = await Promise.all([ing(a.url), ing(b.url)]);
      const stored = (await w.store.count('listens')) - before;
      const lagText = await (await fetch(`${b.url}/metrics`)).text();
      const lagCount = Number(/deepcut_fleet_listen_lag_seconds_count (\d+)/.exec(lagText)?.[1] ?? 0);
      const lagSum = Number(/deepcut_fleet_listen_lag_seconds_sum ([\d.e-]+)/.exec(lagText)?.[1] ?? 0);
      return {
        figures: {
          machine_load_1m: load,
          seed_store_s: seedS,
          run_and_publish_s: runS,
          rec_rate_per_s: ra.rate + rb.rate,
          rec_p50_ms: Math.max(ra.p50_ms, rb.p50_ms),
          rec_p99_ms: Math.max(ra.p99_ms, rb.p99_ms),
          rec_p99_node_a_ms: ra.p99_ms,
          rec_p99_node_b_ms: rb.p99_ms,
          rec_errors: ra.errors + rb.errors,
          publish_call_ms: publishCallMs,
          publish_to_both_serving_s: Math.max(...served) / 1000,
          listen_visible_p50_ms: pct(lat, 0.5),
          listen_visible_p99_ms: pct(lat, 0.99),
          listen_lag_mean_ms: lagCount ? (lagSum / lagCount) * 1000 : 0,
          store_read_per_request_p50_ms: pct(reads, 0.5),
          store_read_per_request_p99_ms: pct(reads, 0.99),
          ingest_listens_per_s: ((ia['2xx'] + ib['2xx']) * 1000) / seconds,
          ingest_stored_per_s: stored / seconds,
          ingest_batch_p99_ms: Math.max(ia.latency.p99, ib.latency.p99),
          ingest_errors: ia.non2xx + ia.errors + ib.non2xx + ib.errors,
        },
        targets: { rec_p99_ms: '<= 10 at 1,000 req/s', publish_to_both_serving_s: '<= 5', listen_visible_p99_ms: '<= 1000', ingest_listens_per_s: '>= 20,000' },
        notes: [
          `run ${run1} published first, then ${run2}; both nodes and the load generator and PostgreSQL share the 2 cores.`,
          'rec_*: two open-loop paced loads of 500 req/s, one per node, measured together; rec_p50/p99_ms are the worse node\'s.',
          'listen_visible_*: from the 200 of POST /v1/listens on node A to the first answer of node B without the posted track (B polled back to back); listen_lag_mean_ms: node B\'s own measure (deepcut_fleet_listen_lag_seconds) over every listen it heard, ingestion included.',
          'store_read_per_request_*: one listener\'s listens since the run read from PostgreSQL (indexed by user): what a per-request fold-in from the store would add to every answer.',
          `ingest: batches of 1,000 listens over 3 connections per node for ${seconds} s (300 distinct batches cycled: repeats are acknowledged duplicates, counted in ingest_listens_per_s; ingest_stored_per_s counts new rows).`,
        ],
      };
    } finally {
      await w.cleanup();
    }
  },
};

export default bench;
