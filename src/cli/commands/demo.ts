import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { emit, table } from '../output.ts';
import type { WorldSize } from '../../generate/index.ts';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({
  ...(await import('../context.ts')),
  ...(await import('../../generate/index.ts')),
  ...(await import('../../ingest/index.ts')),
  ...(await import('../../pipeline/index.ts')),
  ...(await import('../../pipeline/steps.ts')),
  ...(await import('../../core/clock.ts')),
});

const say = (s: string) => process.stderr.write(`demo: ${s}\n`);

/**
 * `deepcut demo`: the main job. Generates the seeded demo world (once, into `<home>/demo-world`),
 * imports it through the same validation as real data (idempotent: a second demo imports
 * nothing), runs the pipeline and publishes it, then serves the API and the web page on
 * 127.0.0.1 with auth off.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('build the demo world, import it, run the pipeline and serve the web page (http://127.0.0.1:8080)')
    .option('--size <size>', 'small | default | large', 'default')
    .option('--seed <n>', 'seed of the world', '1')
    .option('--port <n>', 'port to serve on', '8080')
    .option('--no-serve', 'stop after the pipeline')
    .action(async (o: { size: string; seed: string; port: string; serve: boolean }, c: Command) => {
      if (!['small', 'default', 'large'].includes(o.size)) throw new DeepcutError('invalid_input', `--size must be small, default or large, got "${o.size}"`, { field: '--size' });
      const seed = Number(o.seed);
      if (!Number.isInteger(seed)) throw new DeepcutError('invalid_input', `--seed must be an integer, got "${o.seed}"`, { field: '--seed' });
      const port = Number(o.port);
      const { configFrom, globals, withStore, generateWorld, importPath, runPipeline, publish, defaultSteps, ShiftedClock } = await load();
      const config = configFrom(c);
      const world = resolve(join(config.home, `demo-world-${o.size}-${seed}`));
      const t0 = performance.now();
      const stages: { stage: string; seconds: number; detail: string }[] = [];
      const stage = async <T>(name: string, f: () => Promise<T>, detail: (r: T) => string): Promise<T> => {
        say(`${name} …`);
        const t = performance.now();
        const r = await f();
        const s = { stage: name, seconds: (performance.now() - t) / 1000, detail: detail(r) };
        stages.push(s);
        say(`${name}: ${s.detail} (${s.seconds.toFixed(1)} s)`);
        return r;
      };
      if (existsSync(join(world, 'listens.jsonl'))) stages.push({ stage: 'generate', seconds: 0, detail: `reusing ${world}` });
      else await stage('generate', () => generateWorld({ size: o.size as WorldSize, seed, out: world }), (r) => `${r.counts.users} listeners, ${r.counts.tracks} tracks, ${r.counts.listens} listens, ${r.counts.audio_clips} audio clips in ${world}`);
      // the demo lives on its world's day: the world's listens end at its clock, so the pipeline and
      // the server run on a clock that starts there (Release Radar has that week's releases, whatever today is)
      const worldClock = (JSON.parse(readFileSync(join(world, 'truth', 'world.json'), 'utf8')) as { clock: string }).clock;
      const clock = new ShiftedClock(worldClock);
      const today = demoToday(worldClock);
      say(`today for the demo is ${today} (the demo world's clock: its listens end there, its playlists are for that week)`);
      const run = await withStore(config, async (store) => {
        await stage('import', () => importPath(store, 'jsonl', world, { validation: config.validation }), (r) => `${r.rows_read} rows read, ${Object.values(r.totals).reduce((a, t) => a + (t?.imported ?? 0), 0)} new${r.blocked ? ', BLOCKED by validation' : ''}`);
        const steps = defaultSteps();
        const m = await stage('pipeline', () => runPipeline(steps, { config, store, clock, onStep: (n, r) => r.status !== 'running' && say(`  ${n} ${r.status} (${r.seconds?.toFixed(1)} s)`) }), (m) => `run ${m.runId}: NDCG@10 ${(m.steps.cf?.output?.metrics?.ndcg_at_10 ?? 0).toFixed(3)} (popularity ${(m.steps.cf?.output?.metrics?.popularity_ndcg_at_10 ?? 0).toFixed(3)})`);
        await stage('publish', () => publish(steps, config.home, m.runId, { tolerance: config.pipeline.regressionTolerance, clock, store }), () => `published ${m.runId}`);
        return m;
      });
      const result = { home: config.home, world, today: worldClock, run: run.runId, seconds: (performance.now() - t0) / 1000, stages };
      emit(globals(c), result, (r) => table(['stage', 'seconds', 'result'], r.stages.map((s) => [s.stage, Number(s.seconds.toFixed(1)), s.detail]), 1));
      if (!o.serve) return;
      const { runServer } = await import('../../server/index.ts');
      await runServer(config, {
        port,
        host: '127.0.0.1',
        auth: false,
        clock,
        onListening: (url) => process.stdout.write(`\nOpen ${url}/ for the listener app, ${url}/admin for the dashboard (Ctrl-C stops). Today for the demo is ${today}.\n`),
      });
    });
}

/** The demo's day in words: `Friday 2026-11-20, 12:00 UTC`. */
export function demoToday(iso: string): string {
  const d = new Date(iso);
  return `${d.toLocaleDateString('en-GB', { weekday: 'long', timeZone: 'UTC' })} ${d.toISOString().slice(0, 10)}, ${d.toISOString().slice(11, 16)} UTC`;
}
