import type { Command } from 'commander';
import { existsSync } from 'node:fs';
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
      const { configFrom, globals, withStore, generateWorld, importPath, runPipeline, publish, defaultSteps, systemClock } = await load();
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
      const run = await withStore(config, async (store) => {
        await stage('import', () => importPath(store, 'jsonl', world, { validation: config.validation }), (r) => `${r.rows_read} rows read, ${Object.values(r.totals).reduce((a, t) => a + (t?.imported ?? 0), 0)} new${r.blocked ? ', BLOCKED by validation' : ''}`);
        const steps = defaultSteps();
        const m = await stage('pipeline', () => runPipeline(steps, { config, store, clock: systemClock, onStep: (n, r) => r.status !== 'running' && say(`  ${n} ${r.status} (${r.seconds?.toFixed(1)} s)`) }), (m) => `run ${m.runId}: NDCG@10 ${(m.steps.cf?.output?.metrics?.ndcg_at_10 ?? 0).toFixed(3)} (popularity ${(m.steps.cf?.output?.metrics?.popularity_ndcg_at_10 ?? 0).toFixed(3)})`);
        await stage('publish', () => publish(steps, config.home, m.runId, { tolerance: config.pipeline.regressionTolerance, clock: systemClock, store }), () => `published ${m.runId}`);
        return m;
      });
      const result = { home: config.home, world, run: run.runId, seconds: (performance.now() - t0) / 1000, stages };
      emit(globals(c), result, (r) => table(['stage', 'seconds', 'result'], r.stages.map((s) => [s.stage, Number(s.seconds.toFixed(1)), s.detail]), 1));
      if (!o.serve) return;
      const { runServer } = await import('../../server/index.ts');
      await runServer(config, {
        port,
        host: '127.0.0.1',
        auth: false,
        onListening: (url) => process.stdout.write(`\nOpen ${url}/ for the listener view, ${url}/admin for runs and metrics (Ctrl-C stops).\n`),
      });
    });
}
