/**
 * Cold start from text, on dense rows: fit the ridge map (see `ridge.ts`) from subjects' LSA
 * vectors to their CF factor vectors on the subjects that have both, and report how much of the
 * factors' variance the map explains on a held-out validation share. Used by the pipeline's text
 * step and by the `text-hetrec` evaluation, so both fit the map the same way.
 */
import { selectRidge, type RidgeMap } from './ridge.ts';

/** Rows of `x` (row-major, `dim` wide) listed in `rows`, packed: rows.length × dim. */
export function gatherRows(x: Float32Array, dim: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i] * dim, rows[i] * dim + dim), i * dim);
  return out;
}

/** Mean squared deviation from the column means, per coordinate, of n × f row-major `y`. */
export function coordinateVariance(y: Float32Array, n: number, f: number): number {
  let v = 0;
  for (let b = 0; b < f; b++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i * f + b];
    mean /= n;
    for (let i = 0; i < n; i++) v += (y[i * f + b] - mean) ** 2;
  }
  return v / (n * f);
}

export interface TextToFactors {
  map: RidgeMap;
  /** 1 − validation MSE / target variance of the chosen λ (0: no better than the mean vector). */
  validationR2: number;
}

/**
 * Fit text → factors on paired rows: `x` (n × d, LSA rows) and `y` (n × f, factor rows), λ chosen
 * from ridge's default grid on a seeded 20% validation split, then refitted on all n rows.
 * Needs n ≥ 2 (ridge throws `invalid_input` otherwise).
 */
export function fitTextToFactors(x: Float32Array, y: Float32Array, n: number, d: number, f: number, seed: number): TextToFactors {
  const sel = selectRidge(x, n, d, y, f, { seed });
  const best = Math.min(...sel.validation.map((v) => v.mse));
  const variance = coordinateVariance(y, n, f);
  return { map: sel.map, validationR2: variance > 0 ? 1 - best / variance : 0 };
}
