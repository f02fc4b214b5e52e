/**
 * Collaborative-filtering evaluations on real data, every model side by side (popularity, item-kNN
 * cosine and BM25, ALS, EASE^R; on time splits also EASE^R with deepcut's confidence decay, its own
 * row, so that `ease` stays Steck's plain baseline) and the production ranking over their
 * candidates, each fed the input it does best with. Hyper-parameters are chosen on a validation split carved out of the training
 * side (never on test); figures carry bootstrap 95% intervals over users (src/eval/compare.ts).
 *
 *   cf-hetrec:    HetRec Last.fm 2k play counts, 20% per-user random holdout (seeded)
 *   cf-movielens: MovieLens latest-small, ratings ≥ 4 as positives; random holdout, and sliding time
 *                 windows (train on everything before a cut, test on the next 10% of pairs; three
 *                 cuts; validation is the window before the first cut)
 *   cf-ml100k:    MovieLens 100k with Microsoft Recommenders' protocol, beside their table's rows; the
 *                 production (EASE^R, ALS or their blend) chosen by 5-fold cross-fitting over train
 */
import { join } from 'node:path';
import type { EvalContext, EvalReport, EvalSuite, EvalTable } from '../suite.ts';
import type { Csr } from '../../signals/index.ts';
import { alsAvailable, randomHoldout, slidingTimeWindows, testUsers, timesOf } from '../../cf/index.ts';
import { loadHetrec, loadMovielens, loadMovielens100k, toMatrix, type InteractionMatrix } from '../interactions.ts';
import { applyInput, type Candidate, compareModels, DEPTH, type ExtraModels, type Family, type Fold, type Input, K, type Protocol } from '../compare.ts';
import { crossFit, loadMl100kSide, type SideInfo } from '../crossfit.ts';
import { type FamilyConfig, TAIL_SOURCE_NEIGHBOURS, TAIL_TEMPERATURE } from '../../cf/index.ts';

const log1: Input = { kind: 'log', alpha: 1, epsilon: 1 };
const bin: Input = { kind: 'binary' };

/** The deployed dial's tail source as the production model fits it (item-kNN, cosine, on the ranking input). */
const tailSource = (input: Input) => ({ config: { kind: 'itemknn' as const, weighting: 'cosine' as const, neighbours: TAIL_SOURCE_NEIGHBOURS }, input });

/** The long-tail dial's β values whose trade-off curve the suites print. */
export const DIAL_BETAS = [0, 0.1, 0.2, 0.3, 0.5, 1];
/** The deployed dial's (cf.tailShare) settings whose curve the suites print over the production list. */
export const TAIL_SHARES = [0, 0.1, 0.15, 0.2, 0.3];

/** The families compared on a data set; ALS only when src/cf/als.ts is present. */
interface Grid {
  quick: boolean;
  threads: number;
  seed: number;
  neighbours: number[];
  cosineInputs: Input[];
  bm25Inputs: Input[];
  /** ALS candidates: [factors, regularization, input]. */
  als: [number, number, Input][];
  /** EASE candidates: [λ, input]. */
  ease: [number, Input][];
  /** BPR candidates: [factors, epochs, regularization] (none: BPR left out). */
  bpr?: [number, number, number][];
  /** Blend candidates (src/cf/blend.ts: standardized scores of several families, weights chosen on validation). */
  blend?: Candidate[];
}

async function families(o: Grid): Promise<{ list: Family[]; notes: string[] }> {
  const notes: string[] = [];
  const cross = <T>(xs: T[], ys: Input[], f: (x: T, i: Input) => Family['candidates'][number]) => xs.flatMap((x) => ys.map((i) => f(x, i)));
  const list: Family[] = [
    { key: 'popularity', candidates: [{ config: { kind: 'popularity' }, input: { kind: 'binary' } }] },
    { key: 'itemknn_cosine', candidates: cross(o.neighbours, o.cosineInputs, (n, input) => ({ config: { kind: 'itemknn', weighting: 'cosine', neighbours: n }, input })) },
    { key: 'itemknn_bm25', candidates: cross(o.neighbours, o.bm25Inputs, (n, input) => ({ config: { kind: 'itemknn', weighting: 'bm25', neighbours: n }, input })) },
  ];
  if (await alsAvailable()) {
    const grid = o.als.map(([factors, regularization, input]) => ({
      config: { kind: 'als' as const, factors, regularization, iterations: o.quick ? 8 : 15, threads: o.threads, seed: o.seed, computeLoss: false },
      input,
    }));
    list.push({ key: 'als', candidates: o.quick ? grid.slice(0, 1) : grid });
  } else notes.push('ALS skipped: src/cf/als.ts is not available yet');
  const ease = o.ease.map(([lambda, input]) => ({ config: { kind: 'ease' as const, lambda }, input }));
  list.push({ key: 'ease', candidates: o.quick ? ease.slice(0, 1) : ease });
  if (o.bpr?.length) {
    const bpr = o.bpr.map(([factors, epochs, regularization]) => ({ config: { kind: 'bpr' as const, factors, epochs: o.quick ? 5 : epochs, regularization, seed: o.seed }, input: bin }));
    list.push({ key: 'bpr', candidates: o.quick ? bpr.slice(0, 1) : bpr });
  }
  if (o.blend?.length) list.push({ key: 'blend', candidates: o.quick ? o.blend.slice(0, 1) : o.blend });
  return { list, notes };
}

/**
 * Blend candidates: `base` (read as the input) plus `other` at each weight in `weights`, for each
 * input in `inputs`; `view` is how `other` reads the input (e.g. binary, so item-kNN ignores a decay).
 */
function blends(base: FamilyConfig, other: FamilyConfig, view: { binary?: boolean; alpha?: number }, weights: number[], inputs: Input[]): Candidate[] {
  return inputs.flatMap((input) => weights.map((weight) => ({ config: { kind: 'blend' as const, parts: [{ config: base, weight: 1 }, { config: other, weight, ...view }] }, input })));
}

/** A per-user random holdout (test), the same holdout of its train side (validation), and of that (inner: trains the ranker whose validation score decides production). */
function randomProtocol(title: string, m: Csr, fraction: number, seed: number): Protocol {
  const split = randomHoldout(m, fraction, seed);
  const valid = randomHoldout(split.train, fraction, seed + 1);
  const inner = randomHoldout(valid.train, fraction, seed + 2);
  return {
    title,
    prefix: '',
    valid: { ...valid, label: `${fraction * 100}% per-user random holdout of train, seed ${seed + 1}` },
    inner: { ...inner, label: `a ${fraction * 100}% holdout of the validation train side, seed ${seed + 2}` },
    folds: [{ ...split, label: `seed ${seed}` }],
  };
}

const day = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);

/** The grid fields shared by the binary (MovieLens) data sets. */
function binaryGrid(ctx: EvalContext): Pick<Grid, 'quick' | 'threads' | 'seed' | 'neighbours' | 'cosineInputs' | 'bm25Inputs'> {
  return { quick: ctx.quick, threads: ctx.threads, seed: ctx.seed, neighbours: ctx.quick ? [100] : [50, 200], cosineInputs: [bin], bm25Inputs: [bin] };
}

/** Sliding time windows at `cuts` (quantiles of pair times); the first window is the inner split (trains the ranker whose validation score decides production), the second validation. */
function timeProtocol(title: string, data: InteractionMatrix, cuts: number[]): Protocol {
  const w = slidingTimeWindows(data.m, data.time, cuts);
  const folds: Fold[] = w.map((s, k) => ({
    train: s.train,
    test: s.test,
    label: `${day(s.cutoff)} → ${k + 1 < w.length ? day(w[k + 1].cutoff) : 'end'} (${s.coldUsers} cold users dropped)`,
    times: { time: timesOf(data.m, s.train, data.time), now: s.cutoff },
  }));
  return { title, prefix: 'time_', inner: folds[0], valid: folds[1], folds: folds.slice(2) };
}

function report(r: { tables: EvalTable[]; metrics: Record<string, number | string> }[], notes: string[]): EvalReport {
  return { metrics: Object.assign({}, ...r.map((x) => x.metrics)), tables: r.flatMap((x) => x.tables), notes };
}


export const cfHetrec: EvalSuite = {
  name: 'cf-hetrec',
  description: 'popularity, item-kNN, ALS, EASE^R and the ranked production list on HetRec Last.fm 2k play counts, 20% per-user holdout, with intervals and the long-tail dial',
  needs: ['hetrec2011-lastfm-2k'],
  async run(ctx): Promise<EvalReport> {
    const data = toMatrix(await loadHetrec(join(ctx.dataDir, 'hetrec2011-lastfm-2k/user_artists.dat')));
    const p = randomProtocol('hetrec-lastfm-2k, 20% per-user random holdout', data.m, 0.2, ctx.seed);
    // A first pass (factors 32/64/128, regularization 0.1/1/5, α 1–3) put 32 factors, λ = 1 on top
    // of validation; ALS's grid searches around it. EASE's λ is searched on the log input.
    const { list, notes } = await families({
      quick: ctx.quick,
      threads: ctx.threads,
      seed: ctx.seed,
      neighbours: ctx.quick ? [100] : [100, 300],
      cosineInputs: ctx.quick ? [log1] : [bin, log1],
      bm25Inputs: ctx.quick ? [log1] : [log1, { kind: 'raw' }],
      als: [
        [32, 1, log1],
        [48, 1, log1],
        [32, 5, log1],
      ],
      ease: [
        [200, log1],
        [50, log1],
        [800, log1],
      ],
    });
    const r = await compareModels(p, list, { seed: ctx.seed, ranker: { betas: DIAL_BETAS, tailShares: TAIL_SHARES, tailTemperature: TAIL_TEMPERATURE, tailSource: tailSource(log1) } });
    notes.push(`split: seed ${ctx.seed}, ${p.folds[0].train.indices.length} train / ${p.folds[0].test.indices.length} test pairs; hyper-parameters and the ranker chosen on a further 20% per-user holdout of train (seed ${ctx.seed + 1}); the ranker's validation score from a ranker trained on a 20% holdout of that (seed ${ctx.seed + 2})`);
    return report([r], notes);
  },
};

export const cfMovielens: EvalSuite = {
  name: 'cf-movielens',
  description: 'popularity, item-kNN, ALS, EASE^R and the ranked production list on MovieLens latest-small, ratings ≥ 4 as positives; random split and sliding time windows, with intervals',
  needs: ['movielens-latest-small'],
  async run(ctx): Promise<EvalReport> {
    const data = toMatrix(await loadMovielens(join(ctx.dataDir, 'movielens-latest-small/ratings.csv'), 4));
    // ratings ≥ 4 are binary positives: confidence is 1 + α (the log form of a weight of 1 is the same)
    const lin = (alpha: number): Input => ({ kind: 'log', alpha: alpha / Math.LN2, epsilon: 1 });
    const grid = async (time: boolean) => {
      const f = await families({
        ...binaryGrid(ctx),
        als: [
          [64, 1, lin(3)],
          [32, 1, lin(3)],
          [64, 5, lin(10)],
          ...(time ? ([[64, 1, { kind: 'decay', halfLifeDays: 365, of: lin(3) }]] as [number, number, Input][]) : []),
        ],
        // Steck's EASE^R (the baseline): no decay
        ease: [[300, bin], [100, bin], [1000, bin]],
        // EASE^R (on the input, decayed on the time split) + item-kNN on presence, weight chosen on validation
        blend: blends({ kind: 'ease', lambda: 300 }, { kind: 'itemknn', weighting: 'cosine', neighbours: 200 }, { binary: true }, [0.3, 0.6, 1], time ? [{ kind: 'decay', halfLifeDays: 365, of: bin }, { kind: 'decay', halfLifeDays: 1095, of: bin }] : [bin]),
      });
      // time split: EASE^R with deepcut's confidence decay (half-life 1 or 3 years, chosen on validation), a candidate of its own beside the baseline
      if (time) f.list.push({ key: 'ease_halflife', candidates: [365, 1095].map((halfLifeDays) => ({ config: { kind: 'ease' as const, lambda: 300 }, input: { kind: 'decay' as const, halfLifeDays, of: bin } })) });
      return f;
    };
    const a = await grid(false);
    const out = [await compareModels(randomProtocol('movielens ≥4, 20% per-user random holdout', data.m, 0.2, ctx.seed), a.list, { seed: ctx.seed, ranker: { betas: DIAL_BETAS, tailShares: TAIL_SHARES, tailTemperature: TAIL_TEMPERATURE, tailSource: tailSource(bin) } })];
    const notes = a.notes;
    if (!ctx.quick) {
      const b = await grid(true);
      const tp = timeProtocol('movielens ≥4, sliding time windows (10% of pairs each)', data, [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
      out.push(await compareModels(tp, b.list, { seed: ctx.seed, ranker: { betas: DIAL_BETAS, tailShares: TAIL_SHARES, tailTemperature: TAIL_TEMPERATURE, tailSource: tailSource(bin) } }));
      notes.push(`time windows: cuts at the 50/60/70/80/90% quantiles of pair times; validation (hyper-parameters, half-life, ranker) trains before the 50% cut and tests on ${tp.valid.label}; the ranker whose validation score decides production trains on the window before (${tp.inner?.label}); each test fold trains on everything before its cut`);
    }
    return report(out, notes);
  },
};

/**
 * ML-100k's production pick by 5-fold cross-fitting over the training part (src/eval/crossfit.ts):
 * EASE^R and ALS as chosen on validation and their z-blends (ALS at weight 1, 1.5, 2), each scored
 * on every fold; the best mean is production, and the best blend is the `blend` row. The ranker with
 * side information is scored beside them (its fold figure overstated its test figure: it is not a
 * production candidate; docs/recommendations.md). Test is never read.
 */
async function kFoldPick(chosen: ReadonlyMap<string, Candidate>, fold: Fold, time: Float64Array, side: SideInfo, ctx: EvalContext): Promise<ExtraModels> {
  const ease = chosen.get('ease');
  const als = chosen.get('als');
  if (ease?.config.kind !== 'ease' || ease.input.kind !== 'binary' || als?.config.kind !== 'als') throw new Error('cf-ml100k: the K-fold pick needs EASE^R on presence and ALS among the families');
  const { kind: _, ...alsOptions } = als.config;
  const one: Csr = { rows: 1, cols: 1, indptr: Int32Array.of(0, 1), indices: Int32Array.of(0), data: Float32Array.of(1) };
  const cf = await crossFit(fold.train, time, side, testUsers(fold.test), K, DEPTH, {
    folds: 5,
    seed: ctx.seed + 3,
    easeLambda: ease.config.lambda ?? 200,
    als: alsOptions,
    alsConfidence: applyInput(one, als.input).data[0],
    blendWeights: ctx.quick ? [1] : [1, 1.5, 2],
    ranker: { rounds: ctx.quick ? 10 : 60, depth: 3, maxRows: 60_000 },
  });
  const cfModels = cf.figures.filter((f) => f.key !== 'ranked_side');
  const best = cfModels.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
  const blend = cfModels.filter((f) => f.key.startsWith('blend_')).reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
  const key = best.key.startsWith('blend_') ? 'blend' : best.key;
  return {
    models: [
      { key: 'blend', label: `${blend.label}, weight the best of ${cf.figures.filter((f) => f.key.startsWith('blend_')).length} on the 5 folds`, lists: [cf.lists.get(blend.key)!], fitS: null },
      { key: 'ranked_side', label: cf.labels.get('ranked_side') ?? '', lists: [cf.lists.get('ranked_side')!], fitS: cf.fitS },
    ],
    production: { key, label: `= ${key} (${best.label}; best mean NDCG@${K} over the 5 folds of train among EASE^R, ALS and their blends)` },
    tables: [{ title: `movielens-100k: 5-fold cross-fitted validation over the training part (each user's training pairs dealt into 5 folds, seed ${ctx.seed + 3}; sources fitted on the other 4; the ranker's figure on a fold from a ranker trained on the other folds' rows, not a production candidate) — the production pick`, columns: ['model', 'candidate', `NDCG@${K} (mean)`, ...cf.figures[0].perFold.map((_, q) => `fold ${q + 1}`)], rows: cf.figures.map((f) => [f.key, f.label, Number(f.ndcg.toFixed(4)), ...f.perFold.map((v) => Number(v.toFixed(4)))]) }],
  };
}

/** Microsoft Recommenders' MovieLens 100k rows (README benchmark table: MAP, nDCG@10, P@10, R@10). */
const MS_TABLE: [string, number, number, number, number][] = [
  ['BiVAE', 0.146126, 0.475077, 0.411771, 0.219145],
  ['BPR (cornac)', 0.132478, 0.441997, 0.388229, 0.212522],
  ['LightGCN', 0.088526, 0.419846, 0.379626, 0.144336],
  ['NCF', 0.10772, 0.396118, 0.347296, 0.180775],
  ['SAR', 0.110591, 0.382461, 0.330753, 0.176385],
  ['FastAI', 0.025503, 0.147866, 0.130329, 0.053824],
  ['SVD', 0.012873, 0.09593, 0.091198, 0.032783],
  ['Spark ALS (explicit)', 0.004732, 0.044239, 0.048462, 0.017796],
];

export const cfMl100k: EvalSuite = {
  name: 'cf-ml100k',
  description: 'MovieLens 100k with Microsoft Recommenders\' protocol (75/25 stratified split, k = 10, every rating a positive), every model beside their table; production picked by 5-fold cross-fitting over train, a ranker with side information beside it',
  needs: ['movielens-100k'],
  async run(ctx): Promise<EvalReport> {
    const x = await loadMovielens100k(join(ctx.dataDir, 'movielens-100k/u.data'));
    const data = toMatrix(x);
    const p = randomProtocol('movielens-100k, 75/25 per-user stratified random split', data.m, 0.25, ctx.seed);
    const { list, notes } = await families({
      ...binaryGrid(ctx),
      als: [
        [64, 1, { kind: 'log', alpha: 3 / Math.LN2, epsilon: 1 }],
        [32, 5, { kind: 'log', alpha: 10 / Math.LN2, epsilon: 1 }],
        // many factors need a strong ridge here: 128 factors at λ 30, α 3 scored validation NDCG@10 0.272 (λ 10, α 10: 0.188; 256 at λ 50: 0.255)
        [128, 30, { kind: 'log', alpha: 3 / Math.LN2, epsilon: 1 }],
      ],
      ease: [[300, bin], [100, bin], [1000, bin], [500, bin]],
      bpr: [
        [64, 40, 0.001],
        [128, 40, 0.01],
      ],
    });
    const sideInfo = loadMl100kSide(join(ctx.dataDir, 'movielens-100k'), x.items, x.users);
    const fold = p.folds[0];
    const r = await compareModels(p, list, { seed: ctx.seed, extra: (chosen) => kFoldPick(chosen, fold, timesOf(data.m, fold.train, data.time), sideInfo, ctx) });
    const ours = ['popularity', 'itemknn_cosine', 'itemknn_bm25', 'als', 'ease', 'bpr', 'blend', 'ranked_side', 'production'].filter((m) => `${m}_ndcg_at_${K}` in r.metrics);
    const side: EvalTable = {
      title: `movielens-100k beside Microsoft Recommenders' table (their rows: README benchmark, same protocol; their MAP divides by all relevant items, ours by min(10, relevant))`,
      columns: ['model', 'source', 'MAP', `nDCG@${K}`, `P@${K}`, `R@${K}`],
      rows: [
        ...ours.map((m) => [m, 'deepcut (this run)', null, Number((r.metrics[`${m}_ndcg_at_${K}`] as number).toFixed(4)), Number((r.metrics[`${m}_p_at_${K}`] as number).toFixed(4)), null]),
        ...MS_TABLE.map(([n, map, ndcg, pk, rk]) => [n, 'Microsoft Recommenders', map, ndcg, pk, rk]),
      ],
    };
    notes.push(`split: randomHoldout(…, 0.25, seed ${ctx.seed}) — each user's ratings shuffled by the seeded generator and round(25%) held out (Recommenders' python_stratified_split draws differently, so figures are comparable in kind, not the same draw); every rating is a positive (value 1); items rated in train are filtered; each family's hyper-parameters chosen on a 25% holdout of train (seed ${ctx.seed + 1}); the production (EASE^R, ALS or their blend) and the blend's weight by 5-fold cross-fitting over train (seed ${ctx.seed + 3})`);
    return { metrics: r.metrics, tables: [side, ...r.tables], notes };
  },
};
