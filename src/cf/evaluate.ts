/**
 * Offline evaluation of any {@link Recommender} (depends on the interface only, after implicit's
 * evaluation module): recommend k items to each test user from their training history, heard items
 * filtered, and average the ranking metrics; add catalog coverage, novelty and long-tail share.
 */
import { canRecommendBatch, type Ranked, type Recommender } from './recommender.ts';
import type { Csr } from '../signals/index.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';
import { catalogMetrics, popularityOf, rankMetrics, type Popularity } from './metrics.ts';

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

/** Top-`depth` lists of `users` (heard items of `train` left out), best first; −1 padding removed. */
export interface RecLists {
  users: Int32Array;
  items: Int32Array[];
  scores: Float32Array[];
}

/** Ask `model` for the top-`depth` of each of `users` (all at once when it has `recommendBatch`). */
export async function recommendLists(model: Recommender, train: Csr, users: Int32Array, depth: number): Promise<RecLists> {
  const items: Int32Array[] = [];
  const scores: Float32Array[] = [];
  const batch = canRecommendBatch(model) ? await model.recommendBatch(users, train, depth) : undefined;
  for (let j = 0; j < users.length; j++) {
    let r: Ranked = batch ? { items: batch.items.subarray(j * depth, (j + 1) * depth), scores: batch.scores.subarray(j * depth, (j + 1) * depth) } : model.recommend(users[j], train, depth);
    const end = r.items.indexOf(-1);
    if (end >= 0) r = { items: r.items.subarray(0, end), scores: r.scores.subarray(0, end) };
    items.push(r.items);
    scores.push(r.scores);
  }
  return { users, items, scores };
}

/** Per-user and catalog figures of lists against a test matrix ({@link scoreLists}). */
export interface ListScores {
  k: number;
  depth: number;
  users: Int32Array;
  /** Per user (aligned with `users`): NDCG@k, P@k, R@k, AP@k, recall@depth, training items. */
  ndcg: Float64Array;
  precision: Float64Array;
  recall: Float64Array;
  ap: Float64Array;
  recallDeep: Float64Array;
  activity: Float64Array;
  /** Over the top-k lists: coverage, novelty (bits), long-tail share (outside the 80% head). */
  coverage: number;
  novelty: number;
  longTailShare: number;
  /** Test positives in the training head / tail, and those found in the top-`depth`. */
  headRelevant: number;
  headFound: number;
  tailRelevant: number;
  tailFound: number;
}

/** Users per item in `train` and its 80% head. */
export function trainPopularity(train: Csr): Popularity {
  const counts = new Float64Array(train.cols);
  for (let p = 0; p < train.indices.length; p++) counts[train.indices[p]]++;
  return popularityOf(counts, train.rows);
}

/**
 * Score `lists` (at least `k` deep; recall is also taken at the full `depth`) against `test`:
 * ranking metrics per user, catalog metrics over the top-k, and recall by popularity band.
 */
export function scoreLists(lists: RecLists, train: Csr, test: Csr, k: number, depth: number, pop: Popularity = trainPopularity(train)): ListScores {
  const n = lists.users.length;
  const out: ListScores = {
    k, depth, users: lists.users,
    ndcg: new Float64Array(n), precision: new Float64Array(n), recall: new Float64Array(n), ap: new Float64Array(n), recallDeep: new Float64Array(n), activity: new Float64Array(n),
    coverage: 0, novelty: 0, longTailShare: 0, headRelevant: 0, headFound: 0, tailRelevant: 0, tailFound: 0,
  };
  const top: Int32Array[] = [];
  for (let j = 0; j < n; j++) {
    const u = lists.users[j];
    const rel = new Set(test.indices.subarray(test.indptr[u], test.indptr[u + 1]));
    const recs = lists.items[j];
    top.push(recs.subarray(0, k));
    const m = rankMetrics(recs, rel, k);
    out.ndcg[j] = m.ndcg;
    out.precision[j] = m.precision;
    out.recall[j] = m.recall;
    out.ap[j] = m.ap;
    const deep = new Set(recs.subarray(0, depth));
    let found = 0;
    for (const i of rel) {
      const hit = deep.has(i) ? 1 : 0;
      found += hit;
      if (pop.head[i]) (out.headRelevant++, (out.headFound += hit));
      else (out.tailRelevant++, (out.tailFound += hit));
    }
    out.recallDeep[j] = rel.size ? found / rel.size : 0;
    out.activity[j] = train.indptr[u + 1] - train.indptr[u];
  }
  const c = catalogMetrics(top, pop);
  out.coverage = c.coverage;
  out.novelty = c.novelty;
  out.longTailShare = c.longTailShare;
  return out;
}

/** Users of `test` with a positive, or a seeded sample of `count` of them. */
export function sampleUsers(test: Csr, count?: number, seed = 0): Int32Array {
  const users = testUsers(test);
  if (count === undefined || count >= users.length) return users;
  const all = [...users];
  new Rng(seed).shuffle(all);
  return Int32Array.from(all.slice(0, count).sort((a, b) => a - b));
}

/**
 * Evaluate a fitted `model` trained on `train` against held-out `test` (same shape). Returns the
 * mean per-user metrics at `k` and the catalog metrics over every list. Models with
 * `recommendBatch` are asked for all users at once.
 */
export async function evaluate(model: Recommender, train: Csr, test: Csr, opts: EvaluateOptions): Promise<EvalMetrics> {
  if (train.rows !== test.rows || train.cols !== test.cols) throw new DeepcutError('invalid_input', `train is ${train.rows}×${train.cols} but test is ${test.rows}×${test.cols}`);
  const { k } = opts;
  const users = opts.users instanceof Int32Array ? opts.users : sampleUsers(test, opts.users, opts.seed);
  const s = scoreLists(await recommendLists(model, train, users, k), train, test, k, k);
  const count = Math.max(1, users.length);
  const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / count;
  return {
    [`p_at_${k}`]: mean(s.precision),
    [`r_at_${k}`]: mean(s.recall),
    [`ndcg_at_${k}`]: mean(s.ndcg),
    [`map_at_${k}`]: mean(s.ap),
    coverage: s.coverage,
    novelty: s.novelty,
    long_tail_share: s.longTailShare,
    users: users.length,
  };
}
