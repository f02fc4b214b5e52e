/**
 * Reward models: P(stream ≥ 30 s | user, card, explanation, slot) from features. One small
 * interface; Bayesian models add {@link PosteriorSampling} (Thompson sampling needs it). Every fit
 * is seeded; every model saves to a self-describing JSON document and {@link loadRewardModel}
 * reads any of them back.
 */
import type { Rng } from '../util/rng.ts';

/** Training rows: `x` is n × dim row-major, `y` in {0, 1}, `w` optional sample weights (IPS). */
export interface Dataset {
  n: number;
  dim: number;
  x: Float64Array;
  y: Float64Array;
  w?: Float64Array;
  /**
   * Optional examination probability of each row's slot, in (0, 1] (position-based click model:
   * P(y = 1) = exam · P(attractive | x)). A model that uses it (BART) learns the attractiveness,
   * the slot-free quantity candidates are ranked by; the others ignore it.
   */
  exam?: Float64Array;
}

export interface RewardModel {
  /** Short name for tables: `logistic`, `gbt`, `bart`, `mlp`, `bootstrap`. */
  readonly name: string;
  readonly fitted: boolean;
  /** Fit on `d` (replaces any earlier fit). Throws on NaN features or a dimension mismatch. */
  fit(d: Dataset, rng: Rng): void;
  /** P(reward = 1) for each of the `n` rows of `x` (n × dim), written into `out` (length ≥ n). */
  predict(x: Float64Array, n: number, out: Float64Array): void;
  /** A JSON-safe, self-describing document ({@link loadRewardModel} reads it back). */
  toJSON(): RewardModelFile;
}

/** Models with a posterior: one draw's reward probabilities (Thompson sampling). */
export interface PosteriorSampling {
  /** Like `predict`, but from one posterior draw chosen with `rng`. */
  sample(x: Float64Array, n: number, out: Float64Array, rng: Rng): void;
}

export function canSample(m: RewardModel): m is RewardModel & PosteriorSampling {
  return typeof (m as Partial<PosteriorSampling>).sample === 'function';
}

export interface RewardModelFile {
  magic: 'deepcut-reward-model';
  version: 1;
  kind: 'logistic' | 'gbt' | 'bart' | 'mlp' | 'bootstrap';
  dim: number;
  [k: string]: unknown;
}

/** Check a data set's shape and values; every model's fit calls this first. */
export function checkDataset(d: Dataset, dim: number | undefined, who: string): void {
  if (dim !== undefined && d.dim !== dim) throw new Error(`${who}: expected ${dim} features, got ${d.dim}`);
  if (d.x.length !== d.n * d.dim) throw new Error(`${who}: x has ${d.x.length} values, expected n × dim = ${d.n * d.dim}`);
  if (d.y.length !== d.n) throw new Error(`${who}: y has ${d.y.length} values, expected ${d.n}`);
  if (d.w && d.w.length !== d.n) throw new Error(`${who}: w has ${d.w.length} values, expected ${d.n}`);
  if (d.exam && d.exam.length !== d.n) throw new Error(`${who}: exam has ${d.exam.length} values, expected ${d.n}`);
  for (let i = 0; i < d.x.length; i++) if (!Number.isFinite(d.x[i])) throw new Error(`${who}: feature ${i % d.dim} of row ${Math.floor(i / d.dim)} is ${d.x[i]}`);
  for (let i = 0; i < d.n; i++) {
    if (d.y[i] !== 0 && d.y[i] !== 1) throw new Error(`${who}: labels must be 0 or 1, row ${i} is ${d.y[i]}`);
    if (d.w && !(d.w[i] >= 0 && Number.isFinite(d.w[i]))) throw new Error(`${who}: weight of row ${i} is ${d.w[i]}`);
    if (d.exam && !(d.exam[i] > 0 && d.exam[i] <= 1)) throw new Error(`${who}: examination of row ${i} must be in (0, 1], got ${d.exam[i]}`);
  }
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Standard normal CDF (via erfc, |error| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}
