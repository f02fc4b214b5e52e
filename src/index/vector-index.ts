/**
 * Vector retrieval behind one small interface: exact search (the oracle and fallback, exact.ts), an
 * ANN graph (usearch HNSW, ann.ts) and an inverted file with ball bounds (ivf.ts, the fast path for
 * inner product over ALS item factors). Rows are dense 0..size-1 in insertion order (item rows of a model); ids are
 * mapped outside. Scores are always "higher is better": the inner product for `ip`, the cosine for
 * `cos`. Saved files are self-describing artifacts (src/cf/artifact.ts): kind, metric, shape, run.
 */
import type { Ranked } from '../cf/index.ts';
import { DeepcutError } from '../errors.ts';

export type Metric = 'ip' | 'cos';

export interface VectorIndex {
  readonly kind: string;
  readonly dims: number;
  readonly metric: Metric;
  /** Number of stored vectors. */
  readonly size: number;
  /** Append `vectors` (n × dims, row-major); they get rows size..size+n−1. */
  add(vectors: Float32Array): void;
  /** The k best rows for one query (length dims), best first. */
  search(query: Float32Array, k: number): Ranked;
  /** The k best rows for each of q queries (q × dims, row-major). */
  searchBatch(queries: Float32Array, k: number): Ranked[];
  /** Write a self-describing file. */
  save(path: string, meta: { runId: string }): Promise<void>;
}

/** Throw `invalid_input` unless `v` holds whole rows of `dims` finite values. */
export function checkVectors(v: Float32Array, dims: number, what = 'vectors'): void {
  if (v.length % dims !== 0) throw new DeepcutError('invalid_input', `${what}: length ${v.length} is not a multiple of ${dims} dimensions`);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new DeepcutError('invalid_input', `${what}: value ${i % dims} of row ${Math.floor(i / dims)} is ${v[i]}`);
}

/** Euclidean norm of row `r` of `v` (rows of `dims`). */
export function rowNorm(v: Float32Array, r: number, dims: number): number {
  let s = 0;
  for (let d = r * dims, e = d + dims; d < e; d++) s += v[d] * v[d];
  return Math.sqrt(s);
}

/**
 * recall@k of `approx` against `exact` results for the same queries: the mean share of the exact
 * top-k rows that the approximate list contains.
 */
export function recallAtK(approx: Ranked[], exact: Ranked[], k: number): number {
  let sum = 0;
  for (let q = 0; q < exact.length; q++) {
    const truth = new Set(exact[q].items.subarray(0, k));
    let hit = 0;
    for (const i of approx[q].items.subarray(0, k)) if (truth.has(i)) hit++;
    sum += truth.size ? hit / truth.size : 1;
  }
  return exact.length ? sum / exact.length : 1;
}
