/**
 * The daily retrain inside a serving process (src/server/retrain.ts): on the default demo world
 * with `--clips N` audio clips (default 120), after a first run is published and loaded as
 * `deepcut serve` loads it, how long the retrain takes and how long the event loop (what answers
 * HTTP requests) waits at most, per pipeline step, sampled every 5 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench } from './bench.ts';
import { numFlag } from './bench.ts';
import { defaultSteps } from '../src/pipeline/steps.ts';
import { servedWorld } from '../src/server/testing/served-world.ts';
import { retrain } from '../src/server/retrain.ts';

const bench: Bench = {
  name: 'retrain',
  description: 'the daily retrain inside a serving process on the default demo world: its duration and the longest event-loop wait per pipeline step',
  async run(args) {
    const clips = numFlag(args, 'clips', 120);
    const root = await mkdtemp(join(tmpdir(), 'deepcut-bench-retrain-'));
    try {
      const { store, config, state, clock } = await servedWorld(root, { size: 'default', seed: 5, audioClips: clips });
      try {
        // the step running now ('load' = publishing and loading the new run), and the longest wait seen in each
        let step = 'flush';
        const worst: Record<string, number> = {};
        const steps = defaultSteps().map((s) => ({
          ...s,
          run: async (ctx: Parameters<typeof s.run>[0]) => {
            step = s.name;
            try {
              return await s.run(ctx);
            } finally {
              step = 'load';
            }
          },
        }));
        let last = performance.now();
        const sampler = setInterval(() => {
          const now = performance.now();
          worst[step] = Math.max(worst[step] ?? 0, now - last - 5);
          last = now;
        }, 5);
        const t0 = performance.now();
        await retrain(store, config, state, { clock, steps });
        const seconds = (performance.now() - t0) / 1000;
        clearInterval(sampler);
        await state.home?.close?.();
        const waits = Object.fromEntries(Object.entries(worst).map(([k, v]) => [`max_wait_ms_${k}`, Math.round(Math.max(0, v))]));
        return {
          figures: { audio_clips: clips, retrain_s: seconds, max_wait_ms: Math.max(...Object.values(waits)), ...waits },
          notes: ['max_wait_ms_<step>: the longest gap between two 5 ms timer ticks while that step ran, minus the 5 ms; "load" covers publishing and loading the new run'],
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
