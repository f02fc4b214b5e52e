/**
 * The whole daily pipeline on the default demo world (2,000 listeners, 10,000 tracks, ~500k
 * listens, 400 audio clips): generate (not timed as part of the pipeline), import through
 * validation, then every default step with the clock at the world's clock. Figures per step, wall
 * and process CPU. Args: `--size small|default`, `--audio N` (audio clips, default the size's).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench } from './bench.ts';
import { flag, peakRssMb, cpuSince as cpuS } from './bench.ts';
import { generateWorld, DEFAULT_CLOCK, SIZES, type WorldSize } from '../src/generate/world.ts';
import { importPath } from '../src/ingest/import.ts';
import { openStore } from '../src/store/open.ts';
import { defaultConfig } from '../src/config/config.ts';
import { runPipeline } from '../src/pipeline/runner.ts';
import { defaultSteps } from '../src/pipeline/steps.ts';
import { FixedClock } from '../src/core/clock.ts';



const bench: Bench = {
  name: 'pipeline',
  description: 'the whole pipeline (validate → signals → cf → text, audio → playlists) on the default demo world, after generating and importing it',
  async run(args) {
    const size = (flag(args, 'size') ?? 'default') as WorldSize;
    const audio = Number(flag(args, 'audio') ?? SIZES[size].audioClips);
    const root = await mkdtemp(join(tmpdir(), 'deepcut-pipeline-bench-'));
    try {
      const world = join(root, 'world');
      const home = join(root, 'home');
      let t = performance.now();
      const g = await generateWorld({ size, seed: 42, out: world, audioClips: audio });
      const generateS = (performance.now() - t) / 1000;
      const store = await openStore({ home });
      try {
        t = performance.now();
        let c = process.cpuUsage();
        await importPath(store, 'jsonl', world, {});
        const importS = (performance.now() - t) / 1000;
        const importCpu = cpuS(c);
        t = performance.now();
        c = process.cpuUsage();
        const config = { ...defaultConfig(), home };
        const m = await runPipeline(defaultSteps(), { config, store, clock: new FixedClock(DEFAULT_CLOCK) });
        const pipelineS = (performance.now() - t) / 1000;
        const pipelineCpu = cpuS(c);
        if (m.status !== 'succeeded') throw new Error(`pipeline ${m.status}: ${JSON.stringify(Object.fromEntries(Object.entries(m.steps).map(([k, v]) => [k, v.error])))}`);
        const figures: Record<string, number | string> = {
          size,
          users: g.counts.users,
          tracks: g.counts.tracks,
          listens: g.counts.listens,
          audio_clips: g.counts.audio_clips,
          generate_s: generateS,
          import_s: importS,
          import_cpu_s: importCpu,
          pipeline_s: pipelineS,
          pipeline_cpu_s: pipelineCpu,
        };
        for (const name of m.order) figures[`step_${name}_s`] = m.steps[name].seconds ?? 0;
        figures.peak_rss_mb = peakRssMb();
        return {
          figures,
          targets: { pipeline_s: '<= 180 (default world)' },
          notes: ['pipeline_s counts every step after import; generate and import are shown apart', 'cpu_s is this process\'s CPU time (all threads): the fairer figure when other work shares the 2 cores'],
        };
      } finally {
        await store.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};

export default bench;
