/**
 * A generated demo world as a serving process holds it after its first run: generated into
 * `<root>/world`, imported into a DuckDB store at `<root>/home`, run through the pipeline,
 * published and loaded as `deepcut serve` loads it. For the retrain test and benchmark; the caller
 * closes the store.
 */
import { join } from 'node:path';
import { generateWorld, type WorldSize } from '../../generate/index.ts';
import { importPath } from '../../ingest/index.ts';
import { openStore } from '../../store/index.ts';
import type { Store } from '../../store/index.ts';
import { defaultConfig, type Config } from '../../config/config.ts';
import { runPipeline, publish } from '../../pipeline/index.ts';
import { defaultSteps } from '../../pipeline/steps.ts';
import { FixedClock } from '../../core/clock.ts';
import { loadServingState } from '../../serving/index.ts';
import type { ServingState } from '../../serving/index.ts';

export interface ServedWorld {
  store: Store;
  config: Config;
  state: ServingState;
  clock: FixedClock;
  /** The first, published run. */
  runId: string;
}

/** `prepare`: change the generated world's files before they are imported (the web test adds audio). */
export async function servedWorld(root: string, o: { size: WorldSize; seed: number; audioClips: number; prepare?: (world: string) => void }): Promise<ServedWorld> {
  await generateWorld({ size: o.size, seed: o.seed, out: join(root, 'world'), audioClips: o.audioClips });
  o.prepare?.(join(root, 'world'));
  const config = { ...defaultConfig(), home: join(root, 'home') };
  const store = await openStore({ home: config.home });
  try {
    await importPath(store, 'jsonl', join(root, 'world'), {});
    const clock = new FixedClock('2026-11-23T06:00:00Z');
    const first = await runPipeline(defaultSteps(), { config, store, clock });
    await publish(defaultSteps(), config.home, first.runId, { tolerance: config.pipeline.regressionTolerance, clock, store });
    return { store, config, state: await loadServingState(store, config), clock, runId: first.runId };
  } catch (e) {
    await store.close();
    throw e;
  }
}
