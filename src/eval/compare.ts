/**
 * Evaluation that decides: every model family side by side on one protocol — a validation split to
 * choose hyper-parameters (never the test side), then one or several test folds (sliding time
 * windows, or one random holdout) — with bootstrap 95% intervals over users, results by user
 * activity and by item popularity band, and the production ranking (a learned ranker over the
 * families' candidates, trained on the validation split) with its long-tail dial's trade-off curve.
 *
 * Per model: NDCG@10 and recall@50 (the candidate stage's job) with intervals, P@10, catalog
 * coverage, novelty (bits), long-tail share (outside the 80% head), fit seconds and model size.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalTable } from './suite.ts';
import type { Csr } from '../signals/index.ts';
import { bootstrapMean, type Interval, type ListScores, makeRecommender, paramsOf, dialLists, tailDepth, type ModelConfig, type RecLists, recommendLists, scoreLists, type Split, testUsers, trainPopularity } from '../cf/index.ts';
import { buildCandidates, candidateLabels, LearnedRanker, rankStats, type TrainTimes } from '../rank/index.ts';
import { mapValues } from './interactions.ts';
import { log } from '../log.ts';
import { Rng } from '../util/rng.ts';

export const K = 10;
export const DEPTH = 50;
/** Lists are read this deep (as the production model does for its tail quota at k = 10), then cut. */
const LIST_DEPTH = tailDepth(K, 0.1, Infinity);

/** How raw weights become model input; `decay` multiplies by 2^(−age / half-life) (needs times). */
export type Input = { kind: 'raw' } | { kind: 'binary' } | { kind: 'log'; alpha: number; epsilon: number } | { kind: 'decay'; halfLifeDays: number; of: Input };

/** A train/test split with, when the data has them, the training pairs' times and the cut ("now"). */
export interface Fold extends Split {
  label: string;
  times?: TrainTimes;
}

export interface Candidate {
  config: ModelConfig;
  input: Input;
}

/** One model family: a metric-key prefix and the candidates tried on validation. */
export interface Family {
  key: string;
  candidates: Candidate[];
}

export interface Protocol {
  title: string;
  /** Metric-key prefix (`time_`) or ''. */
  prefix: string;
  valid: Fold;
  folds: Fold[];
  /**
   * The same protocol one level down: a split of `valid.train` (a holdout of it, or the window
   * before the validation cut). With a ranker, the production choice scores a ranker trained here
   * ranking the validation candidates, the way the production ranker (trained on `valid`) ranks
   * each fold's: trained on lists from a smaller matrix, applied to lists from a larger one.
   */
  inner?: Fold;
}

export interface CompareOptions {
  seed: number;
  /** Add the learned ranker over every family's candidates, its β curve, and the production list's tail-quota curve at these shares. */
  ranker?: {
    betas: number[];
    tailShares?: number[];
    tailTemperature?: number;
    /**
     * The model whose lists also supply tail items to the production list's tail places, as the
     * production model fits it (cf.tailShare's tail source: item-kNN cosine on the ranking input;
     * src/cf/longtail.ts), fitted on every fold.
     */
    tailSource?: Candidate;
  };
  /**
   * Models made outside from the families' chosen candidates (e.g. src/eval/crossfit.ts), scored on
   * the folds beside them; without `ranker`, `production` names the model the caller chose on its
   * own validation (never on the folds' test sides), and `tables` are printed after the families'.
   */
  extra?: (chosen: ReadonlyMap<string, Candidate>) => Promise<ExtraModels>;
}

/** What {@link CompareOptions.extra} returns: each model's lists per fold (users of the fold's test side). */
export interface ExtraModels {
  models: { key: string; label: string; lists: RecLists[]; fitS: number | null }[];
  production?: { key: string; label: string };
  tables?: EvalTable[];
}

export function applyInput(m: Csr, input: Input, times?: TrainTimes): Csr {
  switch (input.kind) {
    case 'raw':
      return m;
    case 'binary':
      return mapValues(m, () => 1);
    case 'log':
      // Hu, Koren & Volinsky 2008, eq. 6: c = 1 + α·log(1 + w/ε)
      return mapValues(m, (w) => 1 + input.alpha * Math.log1p(w / input.epsilon));
    case 'decay': {
      const base = applyInput(m, input.of, times);
      if (!times) return base;
      const rate = Math.LN2 / (input.halfLifeDays * 86_400);
      return { ...base, data: base.data.map((v, p) => v * Math.exp(-rate * Math.max(0, times.now - times.time[p]))) };
    }
  }
}

export function inputLabel(i: Input): string {
  switch (i.kind) {
    case 'log':
      return `log α=${+i.alpha.toPrecision(3)} ε=${i.epsilon}`;
    case 'decay':
      return `${inputLabel(i.of)}, half-life ${i.halfLifeDays} d`;
    default:
      return i.kind;
  }
}

export function paramsLabel(c: Candidate): string {
  return [paramsOf(c.config), inputLabel(c.input)].filter((x) => x).join(' ');
}

/** Fit `c` on a fold's train side and list the top-`LIST_DEPTH` of its test users. */
async function fitLists(c: Candidate, fold: Fold, measure = false): Promise<{ lists: RecLists; train: Csr; fitS: number; modelMb?: number }> {
  const model = await makeRecommender(c.config);
  const train = applyInput(fold.train, c.input, fold.times);
  const t0 = performance.now();
  await model.fit(train);
  const fitS = (performance.now() - t0) / 1000;
  // heard items are filtered through the training matrix
  const lists = await recommendLists(model, train, testUsers(fold.test), LIST_DEPTH);
  let modelMb: number | undefined;
  if (measure) {
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-eval-model-'));
    try {
      await model.save(join(dir, 'm.bin'), { runId: 'eval' });
      modelMb = (await stat(join(dir, 'm.bin'))).size / 2 ** 20;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await (model as Partial<{ close(): Promise<void> }>).close?.();
  return { lists, train, fitS, modelMb };
}

const mean = (x: Float64Array) => (x.length ? x.reduce((a, b) => a + b, 0) / x.length : 0);

/** Activity bands of a user by training items. */
const BANDS: [string, (n: number) => boolean][] = [
  ['new', (n) => n < 10],
  ['light', (n) => n >= 10 && n < 50],
  ['heavy', (n) => n >= 50],
];

/** Figures of one model over every fold. */
interface Summary {
  ndcg: Interval;
  recall: Interval;
  precision: number;
  coverage: number;
  novelty: number;
  longTail: number;
  bands: Record<string, Interval & { users: number }>;
  headRecall: number;
  tailRecall: number;
}

function summarize(scores: ListScores[], seed: number): Summary {
  const bands: Summary['bands'] = {};
  for (const [name, inBand] of BANDS) {
    const strata = scores.map((s) => Float64Array.from(s.ndcg.filter((_, j) => inBand(s.activity[j]))));
    bands[name] = { ...bootstrapMean(strata, 1000, seed), users: strata.reduce((a, s) => a + s.length, 0) };
  }
  const sum = (f: (s: ListScores) => number) => scores.reduce((a, s) => a + f(s), 0);
  return {
    ndcg: bootstrapMean(scores.map((s) => s.ndcg), 1000, seed),
    recall: bootstrapMean(scores.map((s) => s.recallDeep), 1000, seed),
    precision: sum((s) => mean(s.precision)) / scores.length,
    coverage: sum((s) => s.coverage) / scores.length,
    novelty: sum((s) => s.novelty) / scores.length,
    longTail: sum((s) => s.longTailShare) / scores.length,
    bands,
    headRecall: sum((s) => s.headFound) / Math.max(1, sum((s) => s.headRelevant)),
    tailRecall: sum((s) => s.tailFound) / Math.max(1, sum((s) => s.tailRelevant)),
  };
}

const r4 = (x: number) => Number(x.toFixed(4));
const ci = (i: Interval) => `${i.mean.toFixed(4)} [${i.lo.toFixed(4)}, ${i.hi.toFixed(4)}]`;

function putMetrics(out: Record<string, number | string>, key: string, s: Summary): void {
  out[`${key}_ndcg_at_${K}`] = s.ndcg.mean;
  out[`${key}_ndcg_at_${K}_lo`] = s.ndcg.lo;
  out[`${key}_ndcg_at_${K}_hi`] = s.ndcg.hi;
  out[`${key}_recall_at_${DEPTH}`] = s.recall.mean;
  out[`${key}_recall_at_${DEPTH}_lo`] = s.recall.lo;
  out[`${key}_recall_at_${DEPTH}_hi`] = s.recall.hi;
  out[`${key}_p_at_${K}`] = s.precision;
  out[`${key}_coverage`] = s.coverage;
  out[`${key}_novelty`] = s.novelty;
  out[`${key}_long_tail_share`] = s.longTail;
  for (const [b, v] of Object.entries(s.bands)) out[`${key}_ndcg_at_${K}_${b}`] = v.mean;
  out[`${key}_recall_at_${DEPTH}_head`] = s.headRecall;
  out[`${key}_recall_at_${DEPTH}_tail`] = s.tailRecall;
}

/** One point of a dial's trade-off curve: its metrics under `key`, and its table row. */
function dialPoint(out: Record<string, number | string>, key: string, setting: number, s: Summary): (string | number | null)[] {
  out[`${key}_ndcg_at_${K}`] = s.ndcg.mean;
  out[`${key}_ndcg_at_${K}_lo`] = s.ndcg.lo;
  out[`${key}_ndcg_at_${K}_hi`] = s.ndcg.hi;
  out[`${key}_long_tail_share`] = s.longTail;
  out[`${key}_coverage`] = s.coverage;
  return [setting, ci(s.ndcg), r4(s.longTail), r4(s.coverage), r4(s.novelty), ci(s.recall)];
}

/**
 * Tune every family on `p.valid`, fit the chosen candidate on every fold, and score it; then (with
 * `o.ranker`) train the ranker on the validation split's candidates and rank each fold's. Returns the
 * tables and flat metrics `<prefix><model>_<metric>`.
 */
export async function compareModels(p: Protocol, families: Family[], o: CompareOptions): Promise<{ tables: EvalTable[]; metrics: Record<string, number | string>; summaries: Record<string, Summary> }> {
  const metrics: Record<string, number | string> = {};
  const tuning: (string | number | null)[][] = [];
  const rows: (string | number | null)[][] = [];
  const summaries: Record<string, Summary> = {};
  /** Each model's per-fold scores, for the production pick per fold (time windows). */
  const perFold: Record<string, ListScores[]> = {};
  const validLists: RecLists[] = [];
  const innerLists: RecLists[] = [];
  const foldLists: RecLists[][] = p.folds.map(() => []);
  const pops = p.folds.map((f) => trainPopularity(f.train));
  const chosen = new Map<string, Candidate>();
  const add = (key: string, label: string, scores: ListScores[], fitS: number | null, modelMb: number | null) => {
    perFold[key] = scores;
    const s = summarize(scores, o.seed);
    summaries[key] = s;
    rows.push([key, label, ci(s.ndcg), ci(s.recall), r4(s.precision), r4(s.coverage), r4(s.novelty), r4(s.longTail), fitS === null ? null : Number(fitS.toFixed(2)), modelMb === null ? null : Number(modelMb.toFixed(1))]);
    putMetrics(metrics, `${p.prefix}${key}`, s);
    if (fitS !== null) metrics[`${p.prefix}${key}_fit_s`] = fitS;
    if (modelMb !== null) metrics[`${p.prefix}${key}_model_mb`] = modelMb;
    metrics[`${p.prefix}${key}_params`] = label;
    // per fold (time windows): the figures the rolling-origin production pick reads
    if (scores.length > 1) scores.forEach((sc, k) => (metrics[`${p.prefix}${key}_ndcg_at_${K}_fold${k + 1}`] = mean(sc.ndcg)));
  };
  for (const f of families) {
    let best = f.candidates[0];
    let bestScore = -1;
    let bestValid: RecLists | undefined;
    for (const c of f.candidates) {
      if (f.candidates.length === 1 && !o.ranker) break;
      const v = await fitLists(c, p.valid);
      const s = mean(scoreLists(v.lists, v.train, p.valid.test, K, DEPTH).ndcg);
      if (f.candidates.length > 1) tuning.push([f.key, paramsLabel(c), r4(s)]);
      log('eval').debug({ family: f.key, params: paramsLabel(c), ndcg: s }, 'validation');
      if (s > bestScore) {
        bestScore = s;
        best = c;
        bestValid = v.lists;
      }
    }
    if (bestValid) validLists.push(bestValid);
    if (o.ranker && p.inner) innerLists.push((await fitLists(best, p.inner)).lists);
    const scores: ListScores[] = [];
    let fitS = 0;
    let modelMb = 0;
    for (let k = 0; k < p.folds.length; k++) {
      const r = await fitLists(best, p.folds[k], k === 0);
      fitS += r.fitS / p.folds.length;
      if (r.modelMb !== undefined) modelMb = r.modelMb;
      foldLists[k].push(r.lists);
      scores.push(scoreLists(r.lists, p.folds[k].train, p.folds[k].test, K, DEPTH, pops[k]));
    }
    add(f.key, paramsLabel(best), scores, fitS, modelMb);
    chosen.set(f.key, best);
  }
  const tables: EvalTable[] = [];
  const extra = await o.extra?.(chosen);
  for (const x of extra?.models ?? []) add(x.key, x.label, x.lists.map((l, k) => scoreLists(l, p.folds[k].train, p.folds[k].test, K, DEPTH, pops[k])), x.fitS, null);
  if (extra?.production && !o.ranker) {
    const pick = perFold[extra.production.key];
    if (!pick) throw new Error(`compareModels: production model ${extra.production.key} is not a model here`);
    add('production', extra.production.label, pick, null, null);
    metrics[`${p.prefix}production_model`] = extra.production.key;
  }
  const curve: (string | number | null)[][] = [];
  const quota: (string | number | null)[][] = [];
  if (o.ranker) {
    const t0 = performance.now();
    const vStats = rankStats(p.valid.train, p.valid.times);
    const vc = buildCandidates(validLists, vStats, DEPTH);
    const ranker = new LearnedRanker({ seed: o.seed }, families.map((f) => f.key));
    ranker.fit(vc, candidateLabels(vc, p.valid.test));
    const fitS = (performance.now() - t0) / 1000;
    const ranked = p.folds.map((fold, k) => {
      const stats = rankStats(fold.train, fold.times);
      const c = buildCandidates(foldLists[k], stats, DEPTH);
      return { c, stats, prob: ranker.predict(c) };
    });
    const rankedLists = (beta: number) => ranked.map(({ c, stats, prob }) => ranker.rank(c, stats, LIST_DEPTH, beta, prob));
    const rankedAt = (beta: number) => ranked.map(({ c, stats, prob }, k) => scoreLists(ranker.rank(c, stats, DEPTH, beta, prob), p.folds[k].train, p.folds[k].test, K, DEPTH, pops[k]));
    add('ranked', `GBT over ${families.map((f) => f.key).join(', ')} (top ${DEPTH} each), β = 0`, rankedAt(0), fitS, null);
    // The production model: the ranker or one family, whichever wins on validation. The ranker's
    // validation figure must come from users and labels it did not learn from, under the test's
    // conditions. 2-fold cross-fitting over validation users (a ranker fitted on each half ranks the
    // other) meets the first but not the second: it trains and ranks lists of the same matrix,
    // while the production ranker is trained on the validation matrix's lists and then ranks lists
    // of the larger fold matrix, whose scores and ranks it reads differently. With `p.inner` the
    // choice takes the nested figure (a ranker trained one level down ranks the validation lists);
    // the cross-fitted figure is printed beside it.
    const rng = new Rng(o.seed + 7);
    const side = Uint8Array.from(vc.users, () => (rng.next() < 0.5 ? 1 : 0));
    const half = (l: RecLists, h: number): RecLists => {
      const keep = [...l.users.keys()].filter((j) => side[j] === h);
      return { users: Int32Array.from(keep, (j) => l.users[j]), items: keep.map((j) => l.items[j]), scores: keep.map((j) => l.scores[j]) };
    };
    const crossRanked: RecLists[] = [0, 1].map((h) => {
      const fitOn = buildCandidates(validLists.map((l) => half(l, 1 - h)), vStats, DEPTH);
      const rankOn = buildCandidates(validLists.map((l) => half(l, h)), vStats, DEPTH);
      const probe = new LearnedRanker({ seed: o.seed });
      probe.fit(fitOn, candidateLabels(fitOn, p.valid.test));
      return probe.rank(rankOn, vStats, DEPTH);
    });
    let nestedRanked: RecLists | undefined;
    if (p.inner) {
      const ic = buildCandidates(innerLists, rankStats(p.inner.train, p.inner.times), DEPTH);
      const probe = new LearnedRanker({ seed: o.seed });
      probe.fit(ic, candidateLabels(ic, p.inner.test));
      nestedRanked = probe.rank(vc, vStats, DEPTH);
    }
    const validNdcg = (ls: RecLists[]) => {
      const all = ls.flatMap((l) => [...scoreLists(l, p.valid.train, p.valid.test, K, DEPTH).ndcg]);
      return all.reduce((a, b) => a + b, 0) / Math.max(1, all.length);
    };
    const choice: [string, number][] = families.map((f, k) => [f.key, validNdcg([validLists[k]])]);
    const crossNdcg = validNdcg(crossRanked);
    choice.push(['ranked', nestedRanked ? validNdcg([nestedRanked]) : crossNdcg]);
    const rankedHow = nestedRanked ? `nested: trained on ${p.inner?.label}, ranking the validation lists` : '2-fold cross-fitted over validation users';
    for (const [key, v] of choice) tuning.push(['production choice', `${key}${key === 'ranked' ? ` (${rankedHow})` : ''}`, r4(v)]);
    if (nestedRanked) tuning.push(['production choice', 'ranked (2-fold cross-fitted over validation users; not used: trains and ranks lists of one matrix)', r4(crossNdcg)]);
    // Rolling origin with an expanding window (time windows): each fold takes the model best on
    // everything seen before its cut, pooled over users: the validation window, then every earlier
    // test window (their pairs all precede the cut). The first fold's pick is the validation pick.
    // (One window alone holds 17-28 listeners here; a pick on it alone flipped between two models.)
    // The dial as deployed (cf.tailShare: the per-listener draw at τ, from the tail source's tail too)
    // is part of the pick: each candidate is a model at a tail share, scored with that dial.
    const t = o.ranker.tailTemperature ?? 0;
    const tailShares = o.ranker.tailShares ?? [];
    const tailSource = o.ranker.tailSource;
    const dialOn = tailShares.some((x) => x > 0);
    let sourceLists: RecLists[] | undefined;
    let validSource: RecLists | undefined;
    if (tailSource && dialOn) {
      sourceLists = [];
      for (const f of p.folds) sourceLists.push((await fitLists(tailSource, f)).lists);
      validSource = (await fitLists(tailSource, p.valid)).lists;
    }
    const validHead = trainPopularity(p.valid.train).head;
    const keys = [...families.map((f) => f.key), 'ranked'];
    const rankedTest = rankedLists(0);
    const validOf = (key: string) => (key === 'ranked' ? (nestedRanked ? [nestedRanked] : crossRanked) : [validLists[families.findIndex((f) => f.key === key)]]);
    const testOf = (key: string, k: number) => (key === 'ranked' ? rankedTest[k] : foldLists[k][families.findIndex((f) => f.key === key)]);
    type Pick = { key: string; share: number };
    const cands: Pick[] = keys.flatMap((key) => [0, ...tailShares.filter((x) => x > 0)].map((share) => ({ key, share })));
    const named = (c: Pick) => `${c.key}${c.share > 0 ? ` + dial ${c.share}` : ''}`;
    const validScores = new Map<string, Float64Array[]>(cands.map((c) => [named(c), validOf(c.key).map((l) => scoreLists(c.share > 0 ? dialLists(l, DEPTH, c.share, validHead, t, o.seed, validSource) : l, p.valid.train, p.valid.test, K, DEPTH).ndcg)]));
    const testScores = new Map<string, ListScores>();
    const testScore = (c: Pick, k: number): ListScores => {
      if (c.share === 0) return perFold[c.key][k];
      const id = `${named(c)} ${k}`;
      let sc = testScores.get(id);
      if (!sc) testScores.set(id, (sc = scoreLists(dialLists(testOf(c.key, k), DEPTH, c.share, pops[k].head, t, o.seed, sourceLists?.[k]), p.folds[k].train, p.folds[k].test, K, DEPTH, pops[k])));
      return sc;
    };
    const pooled = (c: Pick, k: number) => {
      const parts = [...validScores.get(named(c))!, ...p.folds.slice(0, k).map((_, j) => testScore(c, j).ndcg)];
      return parts.reduce((a, x) => a + x.reduce((b, y) => b + y, 0), 0) / Math.max(1, parts.reduce((a, x) => a + x.length, 0));
    };
    // the first fold's pick is the validation pick (pooled over validation alone)
    const picks = p.folds.map((_, k) => cands.reduce((a, b) => (pooled(b, k) > pooled(a, k) ? b : a)));
    for (const c of cands) if (c.share > 0 && c.key === picks[0].key) tuning.push(['production choice', `${named(c)} (the dial as deployed)`, r4(pooled(c, 0))]);
    const prodLists = picks.map((c, k) => testOf(c.key, k));
    summaries.production = summarize(picks.map((c, k) => testScore(c, k)), o.seed);
    const prod = summaries.production;
    const first = named(picks[0]);
    const pickLabel = picks.every((c) => named(c) === first) ? `= ${first} (best on validation${dialOn ? ', the dial as deployed among the candidates' : ''}; the ranker ${nestedRanked ? 'nested' : 'cross-fitted'})` : `per window, the best on every window before its cut (validation and earlier test windows, pooled over users): ${picks.map(named).join(', ')}`;
    rows.push(['production', pickLabel, ci(prod.ndcg), ci(prod.recall), r4(prod.precision), r4(prod.coverage), r4(prod.novelty), r4(prod.longTail), null, null]);
    putMetrics(metrics, `${p.prefix}production`, prod);
    metrics[`${p.prefix}production_model`] = picks.map(named).join(',');
    // the long-tail quota dial over the production pick's lists before the dial (what cf.tailShare does in the pipeline)
    // each share with the best-ranked tail pick, then (share > 0, when a τ is given) with the per-listener draw at τ,
    // then (with a tail source) the draw over the production list's and the source's tail items
    const sourceLabel = tailSource ? `${tailSource.config.kind} ${paramsLabel(tailSource)}` : '';
    const settings: [number, number, boolean][] = tailShares.flatMap((x) => (x > 0 && t > 0 ? [[x, 0, false], [x, t, false], ...(sourceLists ? ([[x, t, true]] as [number, number, boolean][]) : [])] : [[x, 0, false]]));
    for (const [share, temperature, withSource] of settings) {
      const s = summarize(
        prodLists.map((l, k) => scoreLists(dialLists(l, DEPTH, share, pops[k].head, temperature, o.seed, withSource ? sourceLists?.[k] : undefined), p.folds[k].train, p.folds[k].test, K, DEPTH, pops[k])),
        o.seed,
      );
      const key = `${p.prefix}production_tail_${String(share).replace('.', '_')}${temperature > 0 ? '_spread' : ''}${withSource ? '_source' : ''}`;
      quota.push([`${temperature > 0 ? `draw, τ = ${temperature}` : 'best-ranked'}${withSource ? ` + the tail of ${sourceLabel}` : ''}`, ...dialPoint(metrics, key, share, s)]);
    }
    for (const beta of o.ranker.betas) {
      const s = summarize(rankedAt(beta), o.seed);
      curve.push(dialPoint(metrics, `${p.prefix}ranked_beta_${String(beta).replace('.', '_')}`, beta, s));
      summaries[`ranked_beta_${beta}`] = s;
    }
  }
  const users = p.folds.map((f) => testUsers(f.test).length);
  metrics[`${p.prefix}users`] = users.reduce((a, b) => a + b, 0);
  tables.push({
    title: `${p.title}: test (${p.folds.length} fold${p.folds.length > 1 ? 's' : ''}: ${p.folds.map((f, k) => `${f.label}, ${users[k]} users`).join('; ')}), mean [95% bootstrap interval over users]`,
    columns: ['model', 'chosen on validation', `NDCG@${K}`, `recall@${DEPTH}`, `P@${K}`, 'coverage', 'novelty (bits)', 'long-tail share', 'fit s', 'model MB'],
    rows,
  });
  tables.push({
    title: `${p.title}: NDCG@${K} by listener activity (training items: new < 10, light 10–49, heavy ≥ 50) and recall@${DEPTH} by item popularity band (80% head / tail)`,
    columns: ['model', ...BANDS.map(([b]) => `${b} (users)`), `head recall@${DEPTH}`, `tail recall@${DEPTH}`],
    rows: Object.entries(summaries)
      .filter(([k]) => !k.startsWith('ranked_beta'))
      .map(([k, s]) => [k, ...BANDS.map(([b]) => `${ci(s.bands[b])} (${s.bands[b].users})`), r4(s.headRecall), r4(s.tailRecall)]),
  });
  if (quota.length) tables.push({ title: `${p.title}: the long-tail dial as deployed (cf.tailShare: every block of 10 places of the production list gives at least this share of them, its last ones, to items outside the 80% head)`, columns: ['tail pick', 'tail share', `NDCG@${K}`, 'long-tail share', 'coverage', 'novelty (bits)', `recall@${DEPTH}`], rows: quota });
  if (curve.length) tables.push({ title: `${p.title}: the long-tail dial (ranked, score log p − β·log(1 + item users))`, columns: ['β', `NDCG@${K}`, 'long-tail share', 'coverage', 'novelty (bits)', `recall@${DEPTH}`], rows: curve });
  if (tuning.length) tables.push({ title: `${p.title}: validation NDCG@${K} per candidate (${p.valid.label})`, columns: ['model', 'candidate', `NDCG@${K}`], rows: tuning });
  tables.push(...(extra?.tables ?? []));
  return { tables, metrics, summaries };
}
