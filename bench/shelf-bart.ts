/**
 * A BART reward model over the home page's shelf features, fitted on seeded synthetic shelf
 * impressions (the reward depends on the shelf kind and the hour), so the benches can put
 * Thompson sampling over BART in the loop as serving does once a run has learnt one.
 */
import { HOME_SHELF_KINDS, SHELF_FEATURES } from '../src/bandit/shelves.ts';
import { Bart } from '../src/bandit/bart.ts';
import { Rng } from '../src/util/rng.ts';

/** 50 trees, 50 posterior draws, fitted on `n` synthetic impressions. */
export function syntheticShelfBart(seed: number, n = 4000): Bart {
  const rng = new Rng(seed);
  const dim = SHELF_FEATURES.length;
  const x = new Float64Array(n * dim), y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const h = rng.next() * 2 * Math.PI;
    x[r * dim] = Math.sin(h);
    x[r * dim + 1] = Math.cos(h);
    x[r * dim + 4] = rng.next();
    const kind = rng.int(HOME_SHELF_KINDS.length);
    x[r * dim + 5 + kind] = 1;
    y[r] = rng.next() < 0.1 + 0.05 * kind * (x[r * dim] > 0 ? 1 : 0.3) ? 1 : 0;
  }
  const bart = new Bart({ trees: 50, burn: 100, draws: 50, thin: 2 });
  bart.fit({ n, dim, x, y }, new Rng(seed + 1));
  return bart;
}
