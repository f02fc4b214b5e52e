/**
 * The production recommender: the run's ALS keeps the factor space (similar tracks and artists,
 * Daily Mixes, the text and audio maps, fold-in of new listens), while a second model — the family
 * chosen on the time-ordered validation split (EASE^R, item-kNN, or ALS itself), fed confidences
 * that decay with age — ranks each listener's recommendations, and the long-tail dial
 * ({@link tailQuota}) gives the tail its share of every list.
 *
 * Its `recommend` is not an inner product of the factors, so it declares `ranksByFactors: false`
 * and callers that would answer top-k from a factor index ask `recommend` instead
 * ({@link ranksByFactors}).
 */
import type { Csr } from '../signals/index.ts';
import type { Factorized, FitOptions, FoldIn, Ranked, Recommender, RecommendOptions } from './recommender.ts';
import { isFactorized } from './recommender.ts';
import { checkFitInput, checkHistory, checkK, checkRow, csrArrays, csrFromArrays } from './base.ts';
import { AlternatingLeastSquares, type AlsOptions } from './als.ts';
import { readArtifact, writeArtifact } from './artifact.ts';
import { tailDepth, tailQuota, tailSeed } from './longtail.ts';
import { popularityOf } from './metrics.ts';
import { EaseRecommender } from './ease.ts';
import { ItemKnnRecommender } from './itemknn.ts';
import { BlendRecommender } from './blend.ts';
import { DeepcutError } from '../errors.ts';

const KIND = 'production';
const VERSION = 1;

/** What ranks, and how: the family, the half-life of the confidence decay (0: none), the tail share. */
export interface ProductionSpec {
  family: 'als' | 'ease' | 'itemknn' | 'blend';
  /** Half-life in days of the confidence decay the ranking model was fitted with (0: no decay). */
  halfLifeDays: number;
  /** The long-tail dial: the share of every list prefix kept for long-tail items (0..1). */
  tailShare: number;
  /**
   * How the dial picks its tail items: 0 the best-ranked ones, τ > 0 a per-listener seeded draw
   * over the list's tail items with weight (rank + 1)^(−1/τ), which spreads them over the catalog
   * ({@link tailQuota}). Absent (models saved before it existed): 0.
   */
  tailTemperature?: number;
  /**
   * A second list the dial's tail places also draw from ({@link tailQuota}'s `tailSource`):
   * `itemknn` (cosine, {@link TAIL_SOURCE_NEIGHBOURS} neighbours, on the ranking input), whose
   * lists reach far deeper into the tail than ALS's or EASE^R's. Absent: the ranking's own list only
   * (models saved before it existed).
   */
  tailSource?: 'itemknn';
}

/** Neighbours of the dial's item-kNN tail source. */
export const TAIL_SOURCE_NEIGHBOURS = 100;
/** Neighbours of the item-kNN family (cosine): {@link makeRanking}'s; the validation's item-kNN candidate doubles as the dial's tail source when the two agree. */
export const ITEMKNN_NEIGHBOURS = 100;

/** What the production model is built from: the factor model's options and EASE^R's λ. */
export interface ProductionParts {
  als: AlsOptions;
  easeLambda: number;
}

/** Each pair's last time (ms, aligned with the fitted matrix's entries) and "now": what the decay needs. */
export interface PairTimes {
  time: Float64Array;
  now: number;
}

/** The ranking model and its factor space; see the module comment. */
export class ProductionRecommender implements Recommender, Factorized, FoldIn {
  readonly name: string;
  readonly ranksByFactors = false;
  head: Uint8Array = new Uint8Array(0);
  private space: AlternatingLeastSquares;
  private ranking: Recommender;
  /** The dial's tail source, when the spec has one and the ranking is not item-kNN already. */
  private tail: Recommender | undefined;
  /** The confidence matrix fitted on, and the ranking model's input made from it (decayed). */
  private raw: Csr = EMPTY;
  private input: Csr = EMPTY;
  private times: PairTimes | undefined;

  constructor(
    readonly spec: ProductionSpec,
    private readonly parts: ProductionParts,
  ) {
    if (!(spec.tailShare >= 0 && spec.tailShare <= 1)) throw new DeepcutError('config', `production: tailShare must be in [0, 1], got ${spec.tailShare}`);
    if (!((spec.tailTemperature ?? 0) >= 0)) throw new DeepcutError('config', `production: tailTemperature must be ≥ 0, got ${spec.tailTemperature}`);
    if (!(spec.halfLifeDays >= 0)) throw new DeepcutError('config', `production: halfLifeDays must be ≥ 0, got ${spec.halfLifeDays}`);
    this.space = new AlternatingLeastSquares(parts.als);
    this.ranking = spec.family === 'als' ? this.space : makeRanking(spec.family, parts.easeLambda, parts.als.threads);
    if (spec.tailShare > 0 && spec.tailSource === 'itemknn' && spec.family !== 'itemknn') this.tail = makeTailSource(parts.als.threads);
    this.name = `${spec.family}${spec.halfLifeDays > 0 ? `, half-life ${spec.halfLifeDays} d` : ''}${spec.tailShare > 0 ? `, tail ${spec.tailShare}` : ''}`;
  }

  /** The pair times the next `fit` decays confidences by (without them, or with half-life 0, nothing decays). */
  withTimes(t: PairTimes): this {
    this.times = t;
    return this;
  }

  /**
   * Fit the factor model on `userItems` (or on the decayed input when ALS also ranks) and the
   * ranking model on the decayed input.
   */
  async fit(userItems: Csr, opts?: FitOptions): Promise<void> {
    checkFitInput(this.name, userItems);
    this.raw = userItems;
    this.input = this.times ? decayConfidence(userItems, this.times.time, this.times.now, this.spec.halfLifeDays) : userItems;
    await this.space.fit(this.spec.family === 'als' ? this.input : userItems, opts);
    if (this.ranking !== this.space) await this.ranking.fit(this.input);
    await this.tail?.fit(this.input);
    this.head = headOf(userItems);
  }

  /** The factor model (the run's ALS: its factors, fold-in and similar items). */
  get factorModel(): AlternatingLeastSquares {
    return this.space;
  }

  get factors(): number {
    return this.space.factors;
  }
  itemFactors(): Float32Array {
    return this.space.itemFactors();
  }
  userFactors(): Float32Array {
    return this.space.userFactors();
  }
  foldIn(user: number, items: Int32Array, confidence: Float32Array): void {
    this.space.foldIn(user, items, confidence);
  }

  recommend(user: number, userItems: Csr, k: number, opts: RecommendOptions = {}): Ranked {
    if (this.head.length === 0) throw new DeepcutError('invalid_input', `${this.name}: model is not fitted`);
    checkK(k);
    checkHistory(userItems, this.head.length);
    checkRow('user', user, userItems.rows);
    const depth = tailDepth(k, this.spec.tailShare, userItems.cols);
    const at = isFactorized(this.ranking) ? { m: userItems, row: user } : this.historyOf(user, userItems);
    const r = this.ranking.recommend(at.row, at.m, depth, opts);
    const t = this.spec.tailTemperature ?? 0;
    let source: Ranked | undefined;
    if (this.tail) {
      const h = isFactorized(this.ranking) ? this.historyOf(user, userItems) : at;
      source = this.tail.recommend(h.row, h.m, depth, opts);
    }
    return tailQuota(r, k, this.spec.tailShare, this.head, t > 0 ? { temperature: t, seed: tailSeed(0, user) } : undefined, source);
  }

  /**
   * The history the ranking model scores: the training row with its decayed input when `userItems`
   * still holds the run's row for `user`, else the live row as one row, each pair the run knew
   * weighted as in training and new ones at full weight (a fresh listen has not decayed).
   */
  private historyOf(user: number, userItems: Csr): { m: Csr; row: number } {
    const a = userItems.indptr[user];
    const b = userItems.indptr[user + 1];
    const raw = this.raw;
    if (user < raw.rows && raw.indptr[user + 1] - raw.indptr[user] === b - a) {
      let same = true;
      for (let p = a, q = raw.indptr[user]; p < b && same; p++, q++) same = userItems.indices[p] === raw.indices[q] && userItems.data[p] === raw.data[q];
      if (same) return { m: this.input, row: user };
    }
    const weight = new Map<number, number>();
    if (user < raw.rows) for (let q = raw.indptr[user]; q < raw.indptr[user + 1]; q++) weight.set(raw.indices[q], raw.data[q] !== 0 ? this.input.data[q] / raw.data[q] : 1);
    const indices = userItems.indices.slice(a, b);
    const data = Float32Array.from(indices, (i, j) => userItems.data[a + j] * (weight.get(i) ?? 1));
    return { m: { rows: 1, cols: userItems.cols, indptr: Int32Array.of(0, b - a), indices, data }, row: 0 };
  }

  /** Release the factor model's threads (ALS's scoring pool), when it has any. */
  async close(): Promise<void> {
    await (this.space as Partial<{ close(): Promise<void> }>).close?.();
  }

  similarItems(item: number, k: number): Ranked {
    return this.space.similarItems(item, k);
  }
  similarUsers(user: number, k: number): Ranked {
    return this.space.similarUsers(user, k);
  }

  /**
   * Write the spec, the fitted matrix and the ranking input to `path`, the factor model to
   * `<path>.factors.bin`, the ranking model (unless ALS ranks) to `<path>.rank.bin` and the dial's
   * tail source (when it has one) to `<path>.tail.bin`.
   */
  async save(path: string, meta: { runId: string }): Promise<void> {
    if (this.head.length === 0) throw new DeepcutError('invalid_input', `${this.name}: model is not fitted`);
    await this.space.save(partPath(path, 'factors'), meta);
    if (this.ranking !== this.space) await this.ranking.save(partPath(path, 'rank'), meta);
    if (this.tail) await this.tail.save(partPath(path, 'tail'), meta);
    await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: 'rank', params: { version: VERSION, ...this.spec, easeLambda: this.parts.easeLambda, users: this.raw.rows, items: this.raw.cols } }, [...csrArrays('raw', this.raw), { name: 'input', data: this.input.data, shape: [this.input.data.length] }]);
  }

  /**
   * Read a model written by {@link save}; `expect` pins the matrix's users and items and the run
   * (a mismatch is `invalid_input` naming it). `threads` sizes the factor model's scoring pool.
   */
  static async load(path: string, expect: { users?: number; items?: number; runId?: string } = {}, threads = 1): Promise<ProductionRecommender> {
    const a = await readArtifact(path, { kind: KIND, params: { version: VERSION }, ...(expect.runId ? { runId: expect.runId } : {}) });
    const p = a.header.params as unknown as Required<ProductionSpec> & { easeLambda: number; users: number; items: number };
    if ((expect.users !== undefined && p.users !== expect.users) || (expect.items !== undefined && p.items !== expect.items)) throw new DeepcutError('invalid_input', `${path}: fitted on ${p.users}×${p.items} but the run's matrix is ${expect.users}×${expect.items}`);
    const space = await AlternatingLeastSquares.load(partPath(path, 'factors'), { users: p.users, items: p.items, ...(expect.runId ? { runId: expect.runId } : {}) }, { threads });
    const m = new ProductionRecommender({ family: p.family, halfLifeDays: p.halfLifeDays, tailShare: p.tailShare, tailTemperature: p.tailTemperature ?? 0, ...(p.tailSource ? { tailSource: p.tailSource } : {}) }, { als: { threads }, easeLambda: p.easeLambda });
    m.space = space;
    const rank = partPath(path, 'rank');
    m.ranking = p.family === 'als' ? space : p.family === 'ease' ? await EaseRecommender.load(rank) : p.family === 'blend' ? await BlendRecommender.load(rank) : await ItemKnnRecommender.load(rank);
    if (m.tail) m.tail = await ItemKnnRecommender.load(partPath(path, 'tail'));
    m.raw = csrFromArrays(a.arrays, 'raw', p.users, p.items);
    m.input = { ...m.raw, data: a.arrays.input as Float32Array };
    m.head = headOf(m.raw);
    return m;
  }
}

const EMPTY: Csr = { rows: 0, cols: 0, indptr: new Int32Array(1), indices: new Int32Array(0), data: new Float32Array(0) };

/** The 80% head of a confidence matrix by listeners with a positive entry per item. */
function headOf(m: Csr): Uint8Array {
  const counts = new Float64Array(m.cols);
  for (let p = 0; p < m.indices.length; p++) if (m.data[p] > 0) counts[m.indices[p]]++;
  return popularityOf(counts, m.rows).head;
}

/**
 * Item-kNN's weight in the `blend` family (EASE^R on the decayed confidences at weight 1, item-kNN
 * cosine over 200 neighbours on presence): the best of 0.3 / 0.6 / 1 on MovieLens' time-window
 * validation (`npm run eval -- --only cf-movielens`).
 */
export const BLEND_KNN_WEIGHT = 0.6;

/** The dial's tail source as the production model fits it: item-kNN, cosine, {@link TAIL_SOURCE_NEIGHBOURS} neighbours, on `threads`. */
export function makeTailSource(threads = 1): ItemKnnRecommender {
  return new ItemKnnRecommender({ weighting: 'cosine', neighbours: TAIL_SOURCE_NEIGHBOURS, threads });
}

/** The ranking model of a family other than ALS (ALS ranks with the factor model itself); item-kNN fits on `threads`. */
export function makeRanking(family: Exclude<ProductionSpec['family'], 'als'>, easeLambda: number, threads = 1): Recommender {
  switch (family) {
    case 'ease':
      return new EaseRecommender({ lambda: easeLambda });
    case 'itemknn':
      return new ItemKnnRecommender({ weighting: 'cosine', neighbours: ITEMKNN_NEIGHBOURS, threads });
    case 'blend':
      return new BlendRecommender([
        { model: new EaseRecommender({ lambda: easeLambda }), weight: 1 },
        { model: new ItemKnnRecommender({ weighting: 'cosine', neighbours: 200, threads }), weight: BLEND_KNN_WEIGHT, binary: true },
      ]);
  }
}

/** Where {@link ProductionRecommender.save} puts a part: `x.bin` → `x.<part>.bin`. */
export const partPath = (path: string, part: 'factors' | 'rank' | 'tail'): string => `${path.replace(/\.bin$/, '')}.${part}.bin`;


/**
 * Whether `model.recommend` ranks by the inner product of its user and item factors, so a factor
 * index (IVF, the playlists' row search) may answer its top-k instead: true for ALS, false for the
 * production model (another family ranks, or the dial re-ranks).
 */
export function ranksByFactors(model: Recommender): model is Recommender & Factorized {
  return isFactorized(model) && (model as { ranksByFactors?: boolean }).ranksByFactors !== false;
}

/**
 * The list a CF model gives before the long-tail dial: the factor model itself when the production
 * model only adds the dial to ALS (ALS ranks, no decay), else the model. The ranking stage's `cf`
 * source reads it: its ranker is trained on plain ALS lists and applies its own tail quota, and the
 * factor model's top-k comes from the factor index instead of a scan of every track.
 */
export function undialed(model: Recommender): Recommender {
  return model instanceof ProductionRecommender && model.spec.family === 'als' && model.spec.halfLifeDays === 0 ? model.factorModel : model;
}

/**
 * Confidences multiplied by 2^(−age / half-life): `time[p]` is the last time (ms) of pair p of
 * `m`, `now` the run's latest listen (ms). Half-life 0 returns `m` itself.
 */
export function decayConfidence(m: Csr, time: Float64Array, now: number, halfLifeDays: number): Csr {
  if (halfLifeDays <= 0) return m;
  if (time.length !== m.data.length) throw new DeepcutError('invalid_input', `decay: ${time.length} times for ${m.data.length} pairs`);
  const rate = Math.LN2 / (halfLifeDays * 86_400_000);
  return { ...m, data: m.data.map((v, p) => v * Math.exp(-rate * Math.max(0, now - time[p]))) };
}
