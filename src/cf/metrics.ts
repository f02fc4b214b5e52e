/**
 * Ranking metrics with binary relevance, per user, and catalog-level figures over all lists.
 * Conventions (as the synthetic-cf-100k reference): P@k = hits / k; R@k = hits / |relevant|;
 * NDCG@k = DCG / ideal DCG over min(k, |relevant|) with gain 1/log2(rank + 1), rank from 1;
 * AP@k = Σ over hits of P@rank, divided by min(k, |relevant|).
 */
import { Rng } from '../util/rng.ts';

/** Per-user figures for one recommendation list `recs` (best first) against `relevant`. */
export function rankMetrics(recs: ArrayLike<number>, relevant: ReadonlySet<number>, k: number): { precision: number; recall: number; ndcg: number; ap: number } {
  const n = Math.min(k, recs.length);
  let hits = 0;
  let dcg = 0;
  let apSum = 0;
  for (let r = 0; r < n; r++) {
    if (relevant.has(recs[r])) {
      hits++;
      dcg += 1 / Math.log2(r + 2);
      apSum += hits / (r + 1);
    }
  }
  const ideal = Math.min(k, relevant.size);
  let idcg = 0;
  for (let r = 0; r < ideal; r++) idcg += 1 / Math.log2(r + 2);
  return {
    precision: hits / k,
    recall: relevant.size ? hits / relevant.size : 0,
    ndcg: idcg ? dcg / idcg : 0,
    ap: ideal ? apSum / ideal : 0,
  };
}

/** Popularity facts of a training matrix used by the catalog metrics. */
export interface Popularity {
  /** Users per item. */
  counts: Float64Array;
  users: number;
  /** 1 for items in the head: the most popular items that together hold 80% of interactions. */
  head: Uint8Array;
}

/** Users per item and the 80% head of `counts` (items sorted by count, ties by row). */
export function popularityOf(counts: Float64Array, users: number, headShare = 0.8): Popularity {
  const order = [...counts.keys()].sort((a, b) => counts[b] - counts[a] || a - b);
  const total = counts.reduce((a, b) => a + b, 0);
  const head = new Uint8Array(counts.length);
  let cum = 0;
  for (const i of order) {
    if (cum >= headShare * total) break;
    head[i] = 1;
    cum += counts[i];
  }
  return { counts, users, head };
}

/**
 * Catalog figures over all recommendation lists: coverage = distinct recommended items / catalog
 * size; novelty = mean over recommended slots of −log2(p_i), p_i = users of item i / users (an item
 * nobody had counts as one user); long-tail share = share of slots outside the 80% head.
 */
export function catalogMetrics(lists: ArrayLike<number>[], pop: Popularity): { coverage: number; novelty: number; longTailShare: number } {
  const seen = new Uint8Array(pop.counts.length);
  let distinct = 0;
  let slots = 0;
  let info = 0;
  let tail = 0;
  for (const l of lists) {
    for (let r = 0; r < l.length; r++) {
      const i = l[r];
      if (!seen[i]) {
        seen[i] = 1;
        distinct++;
      }
      slots++;
      info += -Math.log2(Math.max(1, pop.counts[i]) / pop.users);
      if (!pop.head[i]) tail++;
    }
  }
  return { coverage: distinct / pop.counts.length, novelty: slots ? info / slots : 0, longTailShare: slots ? tail / slots : 0 };
}

/** A mean with its 95% interval. */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
}

/**
 * Mean over strata (e.g. time windows) of the per-user means, with a percentile bootstrap 95%
 * interval (Efron & Tibshirani 1993, ch. 13): each of `rounds` resamples draws every stratum's users
 * with replacement (seeded), so the interval reflects which users happened to be tested.
 * Empty strata are ignored. Example: bootstrapMean([Float64Array.of(0, 1)]).mean = 0.5.
 */
export function bootstrapMean(strata: Float64Array[], rounds = 1000, seed = 0): Interval {
  const used = strata.filter((s) => s.length > 0);
  if (used.length === 0) return { mean: 0, lo: 0, hi: 0 };
  const mean = used.reduce((a, s) => a + s.reduce((x, y) => x + y, 0) / s.length, 0) / used.length;
  const rng = new Rng(seed);
  const draws = new Float64Array(rounds);
  for (let b = 0; b < rounds; b++) {
    let m = 0;
    for (const s of used) {
      let t = 0;
      for (let j = 0; j < s.length; j++) t += s[rng.int(s.length)];
      m += t / s.length;
    }
    draws[b] = m / used.length;
  }
  draws.sort();
  return { mean, lo: draws[Math.floor(0.025 * (rounds - 1))], hi: draws[Math.ceil(0.975 * (rounds - 1))] };
}
