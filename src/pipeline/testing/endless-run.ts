/**
 * Test helper (a child process): run a two-step pipeline on `<home>` whose second step never
 * ends, so a test can look at a live run from outside and then kill its process.
 */
import { defaultConfig } from '../../config/config.ts';
import { runPipeline } from '../runner.ts';
import { FixedClock } from '../../core/clock.ts';
import type { Store } from '../../store/index.ts';

const [home] = process.argv.slice(2);
await runPipeline(
  [
    { name: 'first', after: [], run: async () => ({}) },
    { name: 'forever', after: ['first'], run: () => new Promise(() => setInterval(() => undefined, 1_000)) },
  ],
  { config: { ...defaultConfig(), home }, store: {} as Store, clock: new FixedClock('2026-11-23T03:00:00Z') },
);
