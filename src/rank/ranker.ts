/**
 * The learned ranker over candidates (src/rank/candidates.ts): gradient-boosted trees on the
 * logistic loss (the bandit stage's one implementation), trained on a time-ordered validation split
 * (candidates from models fitted on the past, labels from the period after it), then applied to
 * the candidates of the present.
 *
 * The long-tail dial is part of ranking: the final score of a candidate is
 *   log p(hit) − β · log(1 + users of the item),
 * i.e. p divided by (1 + popularity)^β: β = 0 is the ranker as trained; larger β trades accuracy
 * for the long tail (a calibrated popularity penalty, after Abdollahpouri et al. 2019).
 */
import { GradientBoostedTrees, LogisticRegression, type RewardModel } from '../bandit/index.ts';
import { loadRewardModel } from '../bandit/index.ts';
import type { RecLists } from '../cf/index.ts';
import { topK } from '../core/topk.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';
import type { Candidates, RankStats } from './candidates.ts';
import { FlatForest } from './forest.ts';

export interface RankerOptions {
  /** Boosting rounds (default 80), tree depth (3), learning rate (0.1). */
  rounds?: number;
  depth?: number;
  learningRate?: number;
  seed?: number;
  /** `gbt` (default) or `logistic` (a linear blend of the same features). */
  learner?: 'gbt' | 'logistic';
  /** Train on a seeded sample of whole users whose candidates total at most this many rows (default 60 000). */
  maxRows?: number;
}

/** A fitted ranker: feature width, the trees, and the names of the sources it was trained on. */
export class LearnedRanker {
  private model: RewardModel | undefined;
  /** The model's trees flattened for scoring (gbt; the same scores as the model's own predict). */
  private forest: FlatForest | undefined;
  private dim = 0;
  constructor(
    private readonly o: RankerOptions = {},
    /** Candidate sources, in the order their features are laid out. */
    readonly sources: readonly string[] = [],
  ) {}

  /** Fit on candidate rows `c` with labels `y` (1 = the user went on to play the item). */
  fit(c: Candidates, y: Float64Array): void {
    if (y.length !== c.items.length) throw new DeepcutError('invalid_input', `ranker: ${y.length} labels for ${c.items.length} candidates`);
    let pos = 0;
    for (const v of y) pos += v;
    if (pos === 0) throw new DeepcutError('invalid_input', `ranker: no positive among ${y.length} candidates; the validation period has nothing to learn from`);
    const rng = new Rng(this.o.seed ?? 0);
    this.fitRows(sampleRows(c, y, this.maxRows, rng), rng);
  }

  /** The most training rows {@link fit} keeps (a sample of whole users beyond it). */
  get maxRows(): number {
    return this.o.maxRows ?? 60_000;
  }

  /**
   * The order in which {@link fit} samples whole users when the candidates of `users` users hold
   * more than {@link maxRows} rows, with the generator as the fit continues from it: a caller that
   * makes candidates user by user in this order, stops as {@link fit} would, and passes the rows
   * kept (in user order) to {@link fitSample} fits the same model without making the others.
   */
  sampleOrder(users: number): { order: number[]; rng: Rng } {
    const rng = new Rng(this.o.seed ?? 0);
    const order = Array.from({ length: users }, (_, j) => j);
    rng.shuffle(order);
    return { order, rng };
  }

  /** Fit on rows already sampled through {@link sampleOrder} (`rng` as it returned it); at least one positive. */
  fitSample(d: { n: number; dim: number; x: Float64Array; y: Float64Array }, rng: Rng): void {
    if (!d.y.some((v) => v > 0)) throw new DeepcutError('invalid_input', `ranker: no positive among ${d.n} sampled candidates`);
    this.fitRows(d, rng);
  }

  private fitRows(d: { n: number; dim: number; x: Float64Array; y: Float64Array }, rng: Rng): void {
    const model = this.o.learner === 'logistic' ? new LogisticRegression() : new GradientBoostedTrees({ rounds: this.o.rounds ?? 80, depth: this.o.depth ?? 3, learningRate: this.o.learningRate ?? 0.1 });
    model.fit(d, rng);
    this.model = model;
    this.forest = FlatForest.of(model.toJSON());
    this.dim = d.dim;
  }

  /** p(hit) per candidate row. */
  predict(c: Candidates): Float64Array {
    if (!this.model) throw new DeepcutError('invalid_input', 'ranker: not fitted');
    if (c.dim !== this.dim) throw new DeepcutError('invalid_input', `ranker: trained on ${this.dim} features, candidates have ${c.dim}`);
    const p = new Float64Array(c.items.length);
    this.predictRows(c.x, c.items.length, p);
    return p;
  }

  /** p(hit) of rows `0..n-1` of `x` (n × the trained width) into `out`: the scoring loop of {@link predict}. */
  predictRows(x: Float64Array, n: number, out: Float64Array): void {
    if (!this.model) throw new DeepcutError('invalid_input', 'ranker: not fitted');
    if (this.forest) this.forest.predict(x, n, out);
    else this.model.predict(x, n, out);
  }

  /** Per feature column, 1 when the fitted model may read it (every column for models other than trees). */
  usedFeatures(): Uint8Array {
    if (!this.model) throw new DeepcutError('invalid_input', 'ranker: not fitted');
    return this.forest ? this.forest.used : new Uint8Array(this.dim).fill(1);
  }

  /**
   * The top-`k` of every user's candidates by log p − β·popularity (see the module comment);
   * `p` from {@link predict} may be passed to try several β without predicting again.
   */
  rank(c: Candidates, stats: Pick<RankStats, 'popularity'>, k: number, beta = 0, p: Float64Array = this.predict(c)): RecLists {
    return rankCandidates(c, p, stats, k, beta);
  }

  toJSON(): { kind: 'deepcut-ranker'; version: 1; sources: string[]; dim: number; model: unknown } {
    if (!this.model) throw new DeepcutError('invalid_input', 'ranker: not fitted');
    return { kind: 'deepcut-ranker', version: 1, sources: [...this.sources], dim: this.dim, model: this.model.toJSON() };
  }

  static fromJSON(j: unknown): LearnedRanker {
    const f = j as Partial<ReturnType<LearnedRanker['toJSON']>>;
    if (f?.kind !== 'deepcut-ranker' || f.version !== 1) throw new DeepcutError('invalid_input', `not a deepcut ranker file (kind ${String(f?.kind)}, version ${String(f?.version)}; expected deepcut-ranker 1)`);
    const r = new LearnedRanker({}, f.sources ?? []);
    r.model = loadRewardModel(f.model);
    r.forest = FlatForest.of(f.model);
    r.dim = f.dim ?? 0;
    return r;
  }
}

/** Per user, the top-`k` candidate items by log p − β·popularity (scores are that value). */
export function rankCandidates(c: Candidates, p: Float64Array, stats: Pick<RankStats, 'popularity'>, k: number, beta: number): RecLists {
  const items: Int32Array[] = [];
  const scores: Float32Array[] = [];
  for (let j = 0; j < c.users.length; j++) {
    const a = c.offsets[j];
    const b = c.offsets[j + 1];
    const s = new Float64Array(b - a);
    for (let r = a; r < b; r++) s[r - a] = Math.log(Math.max(p[r], 1e-12)) - beta * stats.popularity[c.items[r]];
    const t = topK(s, k);
    items.push(Int32Array.from(t.items, (r) => c.items[a + r]));
    scores.push(t.scores);
  }
  return { users: c.users, items, scores };
}

/** The rows of a seeded sample of whole users, at most `maxRows` in all (at least one user). */
function sampleRows(c: Candidates, y: Float64Array, maxRows: number, rng: Rng): { n: number; dim: number; x: Float64Array; y: Float64Array } {
  if (c.items.length <= maxRows) return { n: c.items.length, dim: c.dim, x: c.x, y };
  const order = Array.from(c.users.keys());
  rng.shuffle(order);
  const keep: number[] = [];
  let n = 0;
  for (const j of order) {
    const len = c.offsets[j + 1] - c.offsets[j];
    if (n + len > maxRows && keep.length > 0) break;
    keep.push(j);
    n += len;
  }
  keep.sort((a, b) => a - b);
  const x = new Float64Array(n * c.dim);
  const yy = new Float64Array(n);
  let w = 0;
  for (const j of keep) {
    for (let r = c.offsets[j]; r < c.offsets[j + 1]; r++, w++) {
      x.set(c.x.subarray(r * c.dim, (r + 1) * c.dim), w * c.dim);
      yy[w] = y[r];
    }
  }
  return { n, dim: c.dim, x, y: yy };
}
