/**
 * The ranking stage's cost on a finished run: CPU ms per listener of the ranked model (src/rank,
 * loaded over the run's CF model as the playlists step loads it, its cf source answered by the
 * step's row search) over a seeded sample of the run's listeners, Discover Weekly per listener
 * with it, the model's load time, and (with `--step`) the rank step itself re-run on the run's
 * store (wall and CPU seconds, and the held-out hit rates it reports).
 *
 * The run: `--home DIR` (default: the home `npm run bench -- fleet-pipeline --worlds large --keep`
 * leaves, bench/out/fleet-pipeline/home-large-in-process) and `--run ID` (default: its newest run
 * with a rank stage). `--users N` (default 2,000) listeners are timed after 100 warm-up ones;
 * `--seed S` (default 7) picks them. `lists_sha256` hashes the ranked lists and their origins, so
 * two versions of the stage can be checked to give the same output for the same run.
 * `--step` needs the home's store (DuckDB: use a copy, the step opens it for writing); it writes
 * the stage into a scratch folder under the home's runs folder, never into the run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { Bench, BenchResult } from './bench.ts';
import { flag, numFlag, peakRssMb } from './bench.ts';
import { Rng } from '../src/util/rng.ts';
import { cpuSeconds } from '../src/util/cpu.ts';
import { loadSnapshot } from '../src/pipeline/persist.ts';
import { loadCfModel } from '../src/cf/index.ts';
import { rankedModelOf, runDirsOf } from '../src/pipeline/rank-load.ts';
import { runPlaylistInputs, stepProduct } from '../src/pipeline/playlists-step.ts';
import { explainsRanking } from '../src/rank/index.ts';
import { defaultConfig } from '../src/config/config.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const LARGE_HOME = join(here, 'out', 'fleet-pipeline', 'home-large-in-process');
const WARMUP = 100;
/** Discover Weekly's first request to its sources (2 × 30). */
const K = 60;

/** The newest run of `home` with a rank stage. */
function newestRankedRun(home: string): string {
  const runs = existsSync(join(home, 'runs')) ? readdirSync(join(home, 'runs')).filter((r) => existsSync(join(home, 'runs', r, 'rank', 'stage.json'))).sort() : [];
  if (!runs.length) throw new Error(`rank bench: no run with a rank stage under ${join(home, 'runs')} (run \`npm run bench -- fleet-pipeline --worlds large --modes in-process --no-bullmq --keep\` first, or pass --home)`);
  return runs[runs.length - 1];
}

/** `n` distinct rows of `0..m-1` (seeded; all of them when n ≥ m). */
function sample(m: number, n: number, rng: Rng): number[] {
  const all = Array.from({ length: m }, (_, i) => i);
  rng.shuffle(all);
  return all.slice(0, Math.min(n, m));
}

async function rankStepFigures(home: string, runId: string): Promise<Record<string, number>> {
  const { openStore } = await import('../src/store/open.ts');
  const { rankStep } = await import('../src/pipeline/rank-step.ts');
  const { log } = await import('../src/log.ts');
  const { FixedClock } = await import('../src/core/clock.ts');
  const runDir = join(home, 'runs', runId);
  const out = await mkdtemp(join(home, 'runs', '.rank-bench-'));
  const store = await openStore({ home });
  try {
    const config = { ...defaultConfig(), home };
    const t0 = performance.now();
    const c0 = cpuSeconds();
    const r = await rankStep.run({ runId, runDir, dir: out, dirOf: (s) => join(runDir, s), outputs: {}, config, store, clock: new FixedClock(new Date()), log: log('pipeline') });
    const m = r.metrics ?? {};
    return { rank_step_s: (performance.now() - t0) / 1000, rank_step_cpu_s: cpuSeconds() - c0, ...Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'cpu_seconds').map(([k, v]) => [`rank_step_${k}`, v])) };
  } finally {
    await store.close();
    await rm(out, { recursive: true, force: true });
  }
}

const bench: Bench = {
  name: 'rank',
  description: "the ranking stage on a finished run (the large world's by default): CPU ms per listener of the ranked model and of Discover Weekly with it, over a seeded sample of listeners; with --step the rank step's time",
  async run(args: string[]): Promise<BenchResult> {
    const home = flag(args, 'home') ?? LARGE_HOME;
    const runId = flag(args, 'run') ?? newestRankedRun(home);
    const users = numFlag(args, 'users', 2000);
    const seed = numFlag(args, 'seed', 7);
    const runDir = join(home, 'runs', runId);
    const load0 = os.loadavg()[0];
    const s = await loadSnapshot(join(runDir, 'signals'));
    const cf = await loadCfModel(join(runDir, 'cf'), s, 1, { runId });
    const t0 = performance.now();
    const c0 = cpuSeconds();
    const model = await rankedModelOf(runDirsOf(runDir), s, cf, runId);
    const load = { wall: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 };
    if (!explainsRanking(model)) throw new Error(`rank bench: run ${runId}'s rank stage fell back (the CF model is used): nothing to time`);
    // the playlists step's product with the run's text and audio inputs: it answers the ranked model's cf source from its row search
    const product = stepProduct(s, model, await runPlaylistInputs(join(runDir, 'text'), join(runDir, 'audio'), s, model), defaultConfig().cf.seed);
    const rows = sample(s.histories.length, users + WARMUP, new Rng(seed)).filter((u) => u < s.userTracks.rows);
    const warm = rows.slice(0, WARMUP);
    const timed = rows.slice(WARMUP);
    for (const u of warm) model.recommendExplained(u, s.userTracks, K, { filterHeard: true });
    const hash = createHash('sha256');
    let c1 = cpuSeconds();
    let t1 = performance.now();
    for (const u of timed) {
      const r = model.recommendExplained(u, s.userTracks, K, { filterHeard: true });
      hash.update(Buffer.from(r.items.buffer, r.items.byteOffset, r.items.byteLength));
      hash.update(Buffer.from(r.scores.buffer, r.scores.byteOffset, r.scores.byteLength));
      hash.update(JSON.stringify(r.origins));
    }
    const ranked = { wall: performance.now() - t1, cpu: 1000 * (cpuSeconds() - c1) };
    for (const u of warm) product.discoverWeekly(s.histories[u]);
    const dwHash = createHash('sha256');
    c1 = cpuSeconds();
    t1 = performance.now();
    for (const u of timed) dwHash.update(JSON.stringify(product.discoverWeekly(s.histories[u])));
    const dw = { wall: performance.now() - t1, cpu: 1000 * (cpuSeconds() - c1) };
    const n = timed.length;
    const figures: Record<string, number | string> = {
      run: runId,
      listeners: s.histories.length,
      tracks: s.catalog.tracks.length,
      timed_listeners: n,
      model_load_s: load.wall,
      model_load_cpu_s: load.cpu,
      ranked_cpu_ms_per_listener: ranked.cpu / n,
      ranked_ms_per_listener: ranked.wall / n,
      dw_cpu_ms_per_listener: dw.cpu / n,
      dw_ms_per_listener: dw.wall / n,
      lists_sha256: hash.digest('hex').slice(0, 16),
      dw_sha256: dwHash.digest('hex').slice(0, 16),
    };
    if (args.includes('--step')) Object.assign(figures, await rankStepFigures(home, runId));
    figures.peak_rss_mb = peakRssMb();
    figures.load_1m_start = load0;
    figures.load_1m_end = os.loadavg()[0];
    return {
      figures,
      targets: { ranked_cpu_ms_per_listener: '≤ ~2 (issue 17: the whole playlists step ≤ ~2 ms per listener)' },
      notes: [
        'wall figures (`_s`, `_ms_per_listener` without cpu) are inflated by other work sharing the 2 cores (load_1m_*); the CPU figures (process CPU time, its helper threads included) are the fairer ones',
        `${n} listeners of run ${runId} (seed ${seed}) after ${WARMUP} warm-up ones; ranked: recommendExplained(k = ${K}) as Discover Weekly first asks; dw: the product's Discover Weekly as the playlists step makes it (ranked list, the run's text and audio sources, blend, caps, flow)`,
      ],
    };
  },
};
export default bench;
