/** Test helper: run the pipeline on `<home>` at clock `<iso>` (the crash tests kill it mid-step). */
import { openStore } from '../../store/index.ts';
import { defaultConfig } from '../../config/config.ts';
import { runPipeline } from '../runner.ts';
import { defaultSteps } from '../steps.ts';
import { FixedClock } from '../../core/clock.ts';

const [home, iso] = process.argv.slice(2);
const store = await openStore({ home });
await runPipeline(defaultSteps(), { config: { ...defaultConfig(), home }, store, clock: new FixedClock(iso) });
await store.close();
