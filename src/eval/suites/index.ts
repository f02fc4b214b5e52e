/** Every evaluation `deepcut eval` runs, in order. Add one line per suite. */
import type { EvalSuite } from '../suite.ts';
import { datasets } from './datasets.ts';

export const suites: EvalSuite[] = [datasets];
