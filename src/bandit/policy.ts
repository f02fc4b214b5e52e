/**
 * Bandit policies for the home page: given the candidates of one request (shelves or cards, each a
 * feature row), choose an ordered slate of k of them and say, for every choice, its propensity —
 * the probability that this policy puts that candidate at that slot. Propensities are logged with
 * each impression; off-policy evaluation (ope.ts) and counterfactual training divide by them.
 *
 * One small interface, three implementations:
 * - {@link UniformPolicy}: a uniformly random ordered k-subset; π(a, s) = 1/n exactly.
 * - {@link EpsilonGreedyPolicy}: with probability ε a uniformly random slate, otherwise the top k
 *   by the reward model's mean prediction; π(a, s) = ε/n + (1 − ε)·[a is greedy at s], exactly.
 * - {@link ThompsonPolicy}: one posterior draw of the reward model scores every candidate and the
 *   top k by that draw are shown (Thompson 1933; Chapelle & Li 2011). π(a, s) has no closed form;
 *   it is estimated by Monte Carlo: `samples` further independent draws are ranked the same way
 *   and π̂(a, s) = share of them with a at s. For the slate actually shown, the draw that made it is
 *   counted as one of the samples, so every logged propensity is ≥ 1/(samples + 1) > 0 (OPE needs
 *   μ > 0 where a card was shown). `marginals` uses `samples` fresh draws only, so it is an unbiased
 *   estimate of π (what IPS needs of a target policy).
 *
 * The slot's position effect is not a model feature: candidates are ranked by P(reward) and the best
 * goes to the first slot, which is optimal whenever examination falls with position.
 *
 * Model-based policies act uniformly until their model is fitted (cold start), with exact
 * propensities 1/n.
 */
import type { Rng } from '../util/rng.ts';
import { topK } from '../core/topk.ts';
import { canSample, type Dataset, type PosteriorSampling, type RewardModel } from './reward.ts';

/** One request's candidates: `n` rows of `dim` features (row-major, n × dim). */
export interface Decision {
  n: number;
  dim: number;
  x: Float64Array;
}

/** An ordered slate: `chosen[s]` is the candidate row shown at slot s, `propensity[s]` = π(chosen[s], s | x). */
export interface Slate {
  chosen: Int32Array;
  propensity: Float64Array;
}

export interface Policy {
  /** Short name for logs and tables, e.g. `uniform`, `egreedy(0.1):logistic`, `thompson:bart`. */
  readonly name: string;
  /** Choose min(k, n) candidates in slot order, each with its propensity. Seeded by `rng` only. */
  choose(d: Decision, k: number, rng: Rng): Slate;
  /**
   * π(a, s | x) for every candidate a and slot s < min(k, n), as an n × k' row-major array
   * (k' = min(k, n)); every column sums to 1. Exact where the policy allows, else estimated with `rng`.
   */
  marginals(d: Decision, k: number, rng: Rng): Float64Array;
  /** Refit from logged data (the caller builds `data`, e.g. with {@link trainingSet}). Uniform ignores it. */
  fit(data: Dataset, rng: Rng): void;
}

/** A uniformly random ordered k-subset of 0..n−1 (partial Fisher–Yates). */
function randomSlate(n: number, k: number, rng: Rng): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const kk = Math.min(k, n);
  for (let s = 0; s < kk; s++) {
    const j = s + rng.int(n - s);
    const t = idx[s];
    idx[s] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, kk);
}

function checkDecision(d: Decision, k: number, who: string): void {
  if (d.n < 1) throw new Error(`${who}: no candidates`);
  if (d.x.length !== d.n * d.dim) throw new Error(`${who}: x has ${d.x.length} values, expected n × dim = ${d.n * d.dim}`);
  if (!(k >= 1 && Number.isInteger(k))) throw new Error(`${who}: slate size must be a positive integer, got ${k}`);
}

/** Uniformly random slates: the exploration bucket, and the baseline every policy must beat. */
export class UniformPolicy implements Policy {
  readonly name = 'uniform';
  choose(d: Decision, k: number, rng: Rng): Slate {
    checkDecision(d, k, this.name);
    const chosen = randomSlate(d.n, k, rng);
    return { chosen, propensity: new Float64Array(chosen.length).fill(1 / d.n) };
  }
  marginals(d: Decision, k: number): Float64Array {
    checkDecision(d, k, this.name);
    return new Float64Array(d.n * Math.min(k, d.n)).fill(1 / d.n);
  }
  fit(): void {}
}

export interface EpsilonGreedyOptions {
  /** Probability of a uniformly random slate instead of the greedy one, in [0, 1]; default 0.1. */
  epsilon?: number;
}

/** ε-greedy over any reward model: exact propensities ε/n + (1 − ε)·[greedy]. */
export class EpsilonGreedyPolicy implements Policy {
  readonly name: string;
  readonly epsilon: number;
  private scores = new Float64Array(0);
  constructor(
    readonly model: RewardModel,
    o: EpsilonGreedyOptions = {},
  ) {
    this.epsilon = o.epsilon ?? 0.1;
    if (!(this.epsilon >= 0 && this.epsilon <= 1)) throw new Error(`egreedy: epsilon must be in [0, 1], got ${this.epsilon}`);
    this.name = `egreedy(${this.epsilon}):${model.name}`;
  }
  private greedy(d: Decision, k: number): Int32Array | undefined {
    if (!this.model.fitted) return undefined;
    if (this.scores.length < d.n) this.scores = new Float64Array(d.n);
    const sc = this.scores.subarray(0, d.n);
    this.model.predict(d.x, d.n, sc);
    return topK(sc, k).items;
  }
  choose(d: Decision, k: number, rng: Rng): Slate {
    checkDecision(d, k, this.name);
    const g = this.greedy(d, k);
    if (!g) return new UniformPolicy().choose(d, k, rng);
    const explore = rng.next() < this.epsilon;
    const chosen = explore ? randomSlate(d.n, k, rng) : g;
    const propensity = Float64Array.from(chosen, (a, s) => this.epsilon / d.n + (a === g[s] ? 1 - this.epsilon : 0));
    return { chosen, propensity };
  }
  marginals(d: Decision, k: number): Float64Array {
    checkDecision(d, k, this.name);
    const kk = Math.min(k, d.n);
    const g = this.greedy(d, k);
    if (!g) return new Float64Array(d.n * kk).fill(1 / d.n);
    const m = new Float64Array(d.n * kk).fill(this.epsilon / d.n);
    for (let s = 0; s < kk; s++) m[g[s] * kk + s] += 1 - this.epsilon;
    return m;
  }
  fit(data: Dataset, rng: Rng): void {
    this.model.fit(data, rng);
  }
}

export interface ThompsonOptions {
  /** Monte Carlo draws used to estimate propensities (default 64). */
  samples?: number;
  /**
   * How far a draw's scores stray from the posterior mean: score = mean + scale · (draw − mean)
   * (default 1, plain Thompson sampling). Exploration still scales with the posterior's width per
   * candidate (an unsure candidate's draws spread more), but by `scale` of it: below 1 the policy
   * exploits sooner once the posterior has seen enough.
   */
  scale?: number;
}

/** Thompson sampling over a reward model with a posterior (BART, or a bootstrap ensemble). */
export class ThompsonPolicy implements Policy {
  readonly name: string;
  readonly samples: number;
  private scores = new Float64Array(0);
  constructor(
    readonly model: RewardModel & PosteriorSampling,
    o: ThompsonOptions = {},
  ) {
    this.samples = o.samples ?? 64;
    this.scale = o.scale ?? 1;
    if (!(this.samples >= 1 && Number.isInteger(this.samples))) throw new Error(`thompson: samples must be a positive integer, got ${this.samples}`);
    if (!(this.scale > 0 && this.scale <= 1)) throw new Error(`thompson: scale must be in (0, 1], got ${this.scale}`);
    this.name = this.scale === 1 ? `thompson:${model.name}` : `thompson(${this.scale}):${model.name}`;
  }
  readonly scale: number;
  private mean = new Float64Array(0);
  /** The posterior mean of the decision's candidates, when draws are scaled towards it (else unused). */
  private meanFor(d: Decision): Float64Array | undefined {
    if (this.scale === 1) return undefined;
    if (this.mean.length < d.n) this.mean = new Float64Array(d.n);
    const m = this.mean.subarray(0, d.n);
    this.model.predict(d.x, d.n, m);
    return m;
  }
  private draw(d: Decision, k: number, rng: Rng, mean: Float64Array | undefined): Int32Array {
    if (this.scores.length < d.n) this.scores = new Float64Array(d.n);
    const sc = this.scores.subarray(0, d.n);
    this.model.sample(d.x, d.n, sc, rng);
    if (mean) for (let i = 0; i < d.n; i++) sc[i] = mean[i] + this.scale * (sc[i] - mean[i]);
    return topK(sc, k).items;
  }
  /** Counts of a at s over `samples` draws (n × k'), optionally plus one given slate. */
  private counts(d: Decision, k: number, rng: Rng, mean: Float64Array | undefined, plus?: Int32Array): Float64Array {
    const kk = Math.min(k, d.n);
    const c = new Float64Array(d.n * kk);
    for (let t = 0; t < this.samples; t++) {
      const sl = this.draw(d, k, rng, mean);
      for (let s = 0; s < kk; s++) c[sl[s] * kk + s]++;
    }
    if (plus) for (let s = 0; s < kk; s++) c[plus[s] * kk + s]++;
    return c;
  }
  choose(d: Decision, k: number, rng: Rng): Slate {
    checkDecision(d, k, this.name);
    if (!this.model.fitted) return new UniformPolicy().choose(d, k, rng);
    const mean = this.meanFor(d);
    const chosen = this.draw(d, k, rng, mean);
    const kk = chosen.length;
    const c = this.counts(d, k, rng, mean, chosen);
    return { chosen, propensity: Float64Array.from(chosen, (a, s) => c[a * kk + s] / (this.samples + 1)) };
  }
  marginals(d: Decision, k: number, rng: Rng): Float64Array {
    checkDecision(d, k, this.name);
    if (!this.model.fitted) return new UniformPolicy().marginals(d, k);
    const c = this.counts(d, k, rng, this.meanFor(d));
    for (let i = 0; i < c.length; i++) c[i] /= this.samples;
    return c;
  }
  fit(data: Dataset, rng: Rng): void {
    this.model.fit(data, rng);
  }
}

/**
 * The serving policy for a (loaded) reward model: Thompson sampling when the model has a posterior
 * (BART), ε-greedy otherwise, uniform when there is no model yet.
 * @example policyFor(loadRewardModel(JSON.parse(readFileSync(file, 'utf8'))), { epsilon: 0.05 })
 */
export function policyFor(model: RewardModel | undefined, o: EpsilonGreedyOptions & ThompsonOptions = {}): Policy {
  if (!model) return new UniformPolicy();
  return canSample(model) ? new ThompsonPolicy(model, o) : new EpsilonGreedyPolicy(model, o);
}

/** One logged card: its features, the reward it got and the logging propensity of its slot. */
export interface LoggedChoice {
  x: Float64Array;
  reward: 0 | 1;
  propensity: number;
  /** The slot it was shown at (0 = first), when known: {@link TrainingOptions.examination} needs it. */
  slot?: number;
}

export interface TrainingOptions {
  /** Importance weights min(1/μ, clip) (default 20), rescaled to mean 1; `clip: 1` turns weighting off. */
  clip?: number;
  /** Keep only the most recent rows (default: all). */
  maxRows?: number;
  /**
   * Examination probability per slot (ê(s), first = 1; later slots count as the last): each row
   * with a `slot` gets `exam` = ê(slot) in the data set (position-based click model, see
   * {@link Dataset.exam}). Default: none.
   */
  examination?: ArrayLike<number>;
}

/**
 * A counterfactual training set from logged choices: each row weighted by its inverse logging
 * propensity (clipped, then rescaled to mean 1 so the total evidence equals the row count), which
 * corrects the reward model for what the logging policy preferred to show (Strehl et al. 2010;
 * Swaminathan & Joachims 2015 for clipping).
 */
export function trainingSet(logs: readonly LoggedChoice[], dim: number, o: TrainingOptions = {}): Dataset {
  const clip = o.clip ?? 20;
  const rows = o.maxRows !== undefined && logs.length > o.maxRows ? logs.slice(logs.length - o.maxRows) : logs;
  const n = rows.length;
  const x = new Float64Array(n * dim), y = new Float64Array(n), w = new Float64Array(n);
  const ex = o.examination;
  const exam = ex && ex.length > 0 ? new Float64Array(n).fill(1) : undefined;
  let sw = 0;
  rows.forEach((r, i) => {
    if (r.x.length !== dim) throw new Error(`trainingSet: row ${i} has ${r.x.length} features, expected ${dim}`);
    if (!(r.propensity > 0 && r.propensity <= 1)) throw new Error(`trainingSet: propensity of row ${i} must be in (0, 1], got ${r.propensity}`);
    x.set(r.x, i * dim);
    y[i] = r.reward;
    w[i] = Math.min(clip, 1 / r.propensity);
    sw += w[i];
    if (exam && r.slot !== undefined) exam[i] = Math.min(1, Math.max(0.05, ex![Math.min(r.slot, ex!.length - 1)]));
  });
  for (let i = 0; i < n; i++) w[i] *= n / sw;
  return exam ? { n, dim, x, y, w, exam } : { n, dim, x, y, w };
}
