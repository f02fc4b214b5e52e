/**
 * Choosing and fitting the production recommender on a time-ordered validation split, as a weekly
 * playlist is a prediction of the future: train on every pair last heard before the cut (the
 * (1 − validationShare) quantile of pair times), test on the streams of the period after it (users
 * with nothing before the cut dropped). The families (and then the half-life of the confidence
 * decay) are compared by NDCG@10 there; the winner is refitted on everything, beside the ALS
 * factor space the rest of the pipeline needs. The same split gives the promotion gate its metric.
 */
import type { Csr } from '../signals/index.ts';
import type { Factorized, FoldIn, Recommender } from './recommender.ts';
import { AlternatingLeastSquares, type AlsOptions } from './als.ts';
import { PopularityRecommender } from './popularity.ts';
import { timeHoldout } from './splits.ts';
import { type RecLists, recommendLists, sampleUsers, scoreLists, trainPopularity } from './evaluate.ts';
import { dialLists, TAIL_TEMPERATURE, tailDepth } from './longtail.ts';
import { decayConfidence, makeRanking, makeTailSource, ProductionRecommender, type ProductionSpec, ITEMKNN_NEIGHBOURS, TAIL_SOURCE_NEIGHBOURS } from './production.ts';
import { DeepcutError } from '../errors.ts';

export type ProductionFamily = ProductionSpec['family'];

export interface SelectOptions {
  /** A family, or `auto`: the best on validation among ALS, EASE^R and the EASE^R + item-kNN blend (when EASE^R fits `easeMaxSide`) and item-kNN. */
  model: 'auto' | ProductionFamily;
  /** Half-life of the confidence decay in days (0: none), or `auto`: the best on validation of 0 and `HALF_LIVES`. */
  halfLifeDays: 'auto' | number;
  /** The long-tail dial (share of each list kept for tail items). */
  tailShare: number;
  /** How the dial picks tail items (ProductionSpec.tailTemperature); default {@link TAIL_TEMPERATURE}. */
  tailTemperature?: number;
  /** The factor model's options (also the ALS family's). */
  als: AlsOptions;
  /** EASE^R's λ. */
  easeLambda: number;
  /** EASE^R is a candidate only when min(users, items) is at most this (its dense side is that squared). */
  easeMaxSide: number;
  /** Share of pairs (the latest) held out for validation; default 0.1. */
  validationShare?: number;
  /** Validation users sampled (seeded) for the figures; default 2000. */
  users?: number;
  seed: number;
  /** Progress: a line per candidate fitted. */
  onCandidate?: (c: { label: string; ndcg_at_10: number; seconds: number }) => void;
}

/** Half-lives (days) tried when `halfLifeDays` is `auto`, besides no decay. */
export const HALF_LIVES = [30];

/** The figures of the choice: each candidate's validation NDCG@10, and the production model's. */
export interface Selection {
  spec: ProductionSpec;
  candidates: { label: string; ndcg_at_10: number }[];
  /**
   * On the validation split: the chosen model's list with the dial (NDCG@10, P@10, recall@10,
   * long-tail share, coverage), the same model's NDCG@10 without the dial (`undialed_ndcg_at_10`),
   * and popularity's NDCG@10.
   */
  metrics: Record<string, number>;
  /** Validation pairs (test side), users scored, and the cut (ms). */
  split: { test_pairs: number; users: number; cutoff_ms: number };
  /** Why nothing was compared (too little history), when so. */
  skipped?: string;
}

export interface ProductionFit {
  /** ALS alone when it ranks with no decay and no dial; else the production model over it. */
  model: Recommender & Factorized & FoldIn;
  selection: Selection;
}

const K = 10;

/**
 * Choose on the time-ordered validation split and fit on everything: `raw` is the run's confidence
 * matrix, `time[p]` the last time (ms) of its pair p, `now` the latest listen (ms).
 */
export async function fitProduction(raw: Csr, time: Float64Array, now: number, o: SelectOptions): Promise<ProductionFit> {
  const selection = await selectProduction(raw, time, now, o);
  const { spec } = selection;
  if (spec.family === 'als' && spec.halfLifeDays === 0 && spec.tailShare === 0) {
    const als = new AlternatingLeastSquares(o.als);
    await als.fit(raw);
    return { model: als, selection };
  }
  const model = new ProductionRecommender(spec, { als: o.als, easeLambda: o.easeLambda }).withTimes({ time, now });
  await model.fit(raw);
  return { model, selection };
}

function makeFamily(f: ProductionFamily, o: SelectOptions): Recommender {
  return f === 'als' ? new AlternatingLeastSquares(o.als) : makeRanking(f, o.easeLambda, o.als.threads);
}

/** The choice alone (see the module comment). */
export async function selectProduction(raw: Csr, time: Float64Array, now: number, o: SelectOptions): Promise<Selection> {
  const split = timeHoldout(raw, time, o.validationShare ?? 0.1);
  const test = positives(split.test);
  const users = sampleUsers(test, o.users ?? 2000, o.seed);
  const fixed = o.halfLifeDays === 'auto' ? 0 : o.halfLifeDays;
  const splitFacts = { test_pairs: test.indices.length, users: users.length, cutoff_ms: split.cutoff };
  if (users.length === 0) {
    // too little history to hold a period out: the configured family (ALS for auto), no decay unless set, no figures to gate
    const skipped = 'the validation period holds no streams of listeners seen before it: nothing to choose on, so the configured family (ALS for auto) without figures';
    return { spec: { family: o.model === 'auto' ? 'als' : o.model, halfLifeDays: fixed, tailShare: o.tailShare, tailTemperature: o.tailTemperature ?? TAIL_TEMPERATURE, ...tailSourceOf(o.tailShare) }, candidates: [], metrics: {}, split: splitFacts, skipped };
  }
  const trainTime = timesOf(raw, split.train, time);
  const pop = trainPopularity(split.train);
  const easeFits = Math.min(raw.rows, raw.cols) <= o.easeMaxSide;
  const families: ProductionFamily[] = o.model !== 'auto' ? [o.model] : ['als', ...(easeFits ? (['ease'] as const) : []), 'itemknn', ...(easeFits ? (['blend'] as const) : [])];
  if ((o.model === 'ease' || o.model === 'blend') && !easeFits) throw new DeepcutError('config', `cf.model ${o.model}: the smaller side of the matrix (${Math.min(raw.rows, raw.cols)}) is over cf.easeMaxSide (${o.easeMaxSide}); EASE^R's dense ${Math.min(raw.rows, raw.cols)}² matrix would not fit`);
  const candidates: Selection['candidates'] = [];
  const depth = tailDepth(K, o.tailShare, raw.cols);
  const temperature = o.tailTemperature ?? TAIL_TEMPERATURE;
  const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / Math.max(1, x.length);
  /** Figures of lists cut to the top 10 with the tail share `share`. */
  const score = (lists: RecLists, share: number, source?: RecLists) => {
    const s = scoreLists(dialLists(lists, K, share, pop.head, temperature, 0, source), split.train, test, K, K, pop);
    return { ndcg_at_10: mean(s.ndcg), p_at_10: mean(s.precision), r_at_10: mean(s.recall), long_tail_share: s.longTailShare, coverage: s.coverage };
  };
  const lists = new Map<string, RecLists>();
  /** Fit a candidate on the validation train side and list its top `depth` per user; NDCG@10 without the dial. */
  const run = async (family: ProductionFamily, halfLifeDays: number) => {
    const t0 = performance.now();
    const input = decayConfidence(split.train, trainTime, now, halfLifeDays);
    const model = makeFamily(family, o);
    await model.fit(input);
    const l = await recommendLists(model, input, users, depth);
    await (model as Partial<{ close(): Promise<void> }>).close?.();
    lists.set(`${family} ${halfLifeDays}`, l);
    const ndcg = score(l, 0).ndcg_at_10;
    const label = `${family}${halfLifeDays ? ` half-life ${halfLifeDays} d` : ''}`;
    candidates.push({ label, ndcg_at_10: ndcg });
    o.onCandidate?.({ label, ndcg_at_10: ndcg, seconds: (performance.now() - t0) / 1000 });
    return ndcg;
  };
  let best = { family: families[0], halfLifeDays: fixed, ndcg: -Infinity };
  for (const f of families) {
    const ndcg = await run(f, fixed);
    if (ndcg > best.ndcg) best = { family: f, halfLifeDays: fixed, ndcg };
  }
  if (o.halfLifeDays === 'auto') {
    for (const h of HALF_LIVES) {
      const ndcg = await run(best.family, h);
      if (ndcg > best.ndcg) best = { ...best, halfLifeDays: h, ndcg };
    }
  }
  const spec: ProductionSpec = { family: best.family, halfLifeDays: best.halfLifeDays, tailShare: o.tailShare, tailTemperature: temperature, ...tailSourceOf(o.tailShare) };
  let source: RecLists | undefined;
  if (spec.tailSource && spec.family !== 'itemknn') {
    // the dial's tail source as the production model fits it: item-kNN on the same (decayed) input;
    // the item-kNN candidate is that very model when it ran at the chosen half-life
    source = ITEMKNN_NEIGHBOURS === TAIL_SOURCE_NEIGHBOURS ? lists.get(`itemknn ${spec.halfLifeDays}`) : undefined;
    if (!source) {
      const input = decayConfidence(split.train, trainTime, now, spec.halfLifeDays);
      const knn = makeTailSource(o.als.threads);
      await knn.fit(input);
      source = await recommendLists(knn, input, users, depth);
    }
  }
  const chosen = score(lists.get(`${spec.family} ${spec.halfLifeDays}`)!, spec.tailShare, source);
  const popModel = new PopularityRecommender();
  await popModel.fit(split.train);
  const popNdcg = scoreLists(await recommendLists(popModel, split.train, users, K), split.train, test, K, K, pop).ndcg;
  const metrics = { ...chosen, undialed_ndcg_at_10: best.ndcg, popularity_ndcg_at_10: mean(popNdcg) };
  return { spec, candidates, metrics, split: splitFacts };
}

/** The dial's tail source: item-kNN's list whenever the dial is on (ProductionSpec.tailSource). */
function tailSourceOf(tailShare: number): Pick<ProductionSpec, 'tailSource'> {
  return tailShare > 0 ? { tailSource: 'itemknn' } : {};
}

/** Keep only positive entries (streams), as the relevant items of a holdout. */
export function positives(m: Csr): Csr {
  const indptr = new Int32Array(m.rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      if (m.data[p] > 0) {
        idx.push(m.indices[p]);
        val.push(m.data[p]);
      }
    }
    indptr[r + 1] = idx.length;
  }
  return { rows: m.rows, cols: m.cols, indptr, indices: Int32Array.from(idx), data: Float32Array.from(val) };
}

/** Times of the pairs of `sub` (a sub-matrix of `m` with the same rows), aligned with `sub.data`. */
export function timesOf(m: Csr, sub: Csr, time: Float64Array): Float64Array {
  const out = new Float64Array(sub.indices.length);
  for (let r = 0; r < sub.rows; r++) {
    let q = m.indptr[r];
    for (let p = sub.indptr[r]; p < sub.indptr[r + 1]; p++) {
      while (m.indices[q] !== sub.indices[p]) q++;
      out[p] = time[q];
    }
  }
  return out;
}
