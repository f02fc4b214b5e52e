/**
 * Offline evaluation of any {@link Recommender} (depends on the interface only, after implicit's
 * evaluation module): recommend k items to each test user from their training history, heard items
 * filtered, and average the ranking metrics; add catalog coverage, novelty and long-tail share.
 */
import { canRecommendBatch, type Recommender } from './recommender.ts';
import type { Csr } from '../signals/index.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';
import { catalogMetrics, popularityOf, rankMetrics } from './metrics.ts';

export interface EvaluateOptions {
  k: number;
  /** Evaluate these user rows, or a seeded sample of this many test users; default every test user. */
  users?: Int32Array | number;
  seed?: number;
}

/** Figures keyed as `p_at_10`, `r_at_10`, `ndcg_at_10`, `map_at_10`, `coverage`, `novelty`, `long_tail_share`, `users`. */
export type EvalMetrics = Record<string, number>;

/** Users with at least one test item. */
export function testUsers(test: Csr): Int32Array {
  const out: number[] = [];
  for (let r = 0; r < test.rows; r++) if (test.indptr[r + 1] > test.indptr[r]) out.push(r);
  return Int32Array.from(out);
}

/**
 * Evaluate a fitted `model` trained on `train` against held-out `test` (same shape). Returns the
 * mean per-user metrics at `k` and the catalog metrics over every list. Models with
 * `recommendBatch` are asked for all users at once.
 */
export async function evaluate(model: Recommender, train: Csr, test: Csr, opts: EvaluateOptions): Promise<EvalMetrics> {
  if (train.rows !== test.rows || train.cols !== test.cols) throw new DeepcutError('invalid_input', `train is ${train.rows}×${train.cols} but test is ${test.rows}×${test.cols}`);
  const { k } = opts;
  let users = opts.users instanceof Int32Array ? opts.users : testUsers(test);
  if (typeof opts.users === 'number' && opts.users < users.length) {
    const all = [...users];
    new Rng(opts.seed ?? 0).shuffle(all);
    users = Int32Array.from(all.slice(0, opts.users).sort((a, b) => a - b));
  }
  const counts = new Float64Array(train.cols);
  for (let p = 0; p < train.indices.length; p++) counts[train.indices[p]]++;
  const pop = popularityOf(counts, train.rows);
  let p = 0;
  let r = 0;
  let n = 0;
  let ap = 0;
  const lists: Int32Array[] = [];
  const batch = canRecommendBatch(model) ? (await model.recommendBatch(users, train, k)).items : undefined;
  for (let j = 0; j < users.length; j++) {
    const u = users[j];
    const rel = new Set(test.indices.subarray(test.indptr[u], test.indptr[u + 1]));
    let recs = batch ? batch.subarray(j * k, (j + 1) * k) : model.recommend(u, train, k).items;
    const end = recs.indexOf(-1);
    if (end >= 0) recs = recs.subarray(0, end);
    lists.push(recs);
    const m = rankMetrics(recs, rel, k);
    p += m.precision;
    r += m.recall;
    n += m.ndcg;
    ap += m.ap;
  }
  const c = catalogMetrics(lists, pop);
  const count = Math.max(1, users.length);
  return {
    [`p_at_${k}`]: p / count,
    [`r_at_${k}`]: r / count,
    [`ndcg_at_${k}`]: n / count,
    [`map_at_${k}`]: ap / count,
    coverage: c.coverage,
    novelty: c.novelty,
    long_tail_share: c.longTailShare,
    users: users.length,
  };
}
