/**
 * Seeded test data for the index tests: n rows of d dims around 16 cluster centres, scaled so
 * norms spread ~100× (like ALS item factors, where popular items have long vectors).
 */
import { Rng } from '../../util/rng.ts';

export function clusteredFactors(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 16 }, () => Float32Array.from({ length: d }, () => rng.normal()));
  const v = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(16)];
    const scale = Math.exp(rng.next() * Math.log(100));
    for (let j = 0; j < d; j++) v[i * d + j] = (c[j] + 0.7 * rng.normal()) * scale;
  }
  return v;
}
