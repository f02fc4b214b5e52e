/**
 * The non-Bayesian reward models compared with BART (as Spotify compared logistic regression,
 * boosted trees and deep nets): L2-regularized logistic regression fitted by IRLS (Newton),
 * gradient-boosted trees on the logistic loss (second-order leaf values, quantile-binned splits),
 * and a one-hidden-layer MLP trained with Adam, plus a Bayesian-bootstrap ensemble that gives any of
 * them a posterior for Thompson sampling. All take sample weights (IPS) and a seeded Rng.
 * {@link makeRewardModel} builds any of them (and BART) from a tagged config; {@link loadRewardModel}
 * reads a saved one.
 */
import type { Rng } from '../util/rng.ts';
import { checkDataset, sigmoid, type Dataset, type PosteriorSampling, type RewardModel, type RewardModelFile } from './reward.ts';
import { Bart, type BartOptions } from './bart.ts';
import { choleskySolve } from '../core/linalg.ts';
import { quantileBins } from '../core/binning.ts';

export interface LogisticOptions {
  /** L2 penalty on the weights (not the intercept), default 1. */
  l2?: number;
  iterations?: number;
}

/** Logistic regression: IRLS / Newton steps on the weighted, L2-penalized log-likelihood. */
export class LogisticRegression implements RewardModel {
  readonly name = 'logistic';
  private coef: Float64Array | undefined;
  private dim = 0;
  constructor(private readonly o: LogisticOptions = {}) {}
  get fitted() {
    return this.coef !== undefined;
  }
  fit(d: Dataset, _rng: Rng): void {
    checkDataset(d, undefined, 'logistic');
    const p = d.dim + 1; // last = intercept
    const l2 = this.o.l2 ?? 1;
    const beta = new Float64Array(p);
    const H = new Float64Array(p * p);
    const g = new Float64Array(p);
    const row = new Float64Array(p);
    for (let it = 0; it < (this.o.iterations ?? 25); it++) {
      H.fill(0);
      g.fill(0);
      for (let i = 0; i < d.n; i++) {
        for (let f = 0; f < d.dim; f++) row[f] = d.x[i * d.dim + f];
        row[d.dim] = 1;
        let z = 0;
        for (let f = 0; f < p; f++) z += beta[f] * row[f];
        const mu = sigmoid(z);
        const wi = d.w ? d.w[i] : 1;
        const h = wi * Math.max(mu * (1 - mu), 1e-6);
        const r = wi * (d.y[i] - mu);
        for (let a = 0; a < p; a++) {
          g[a] += r * row[a];
          const ha = h * row[a];
          for (let b = 0; b <= a; b++) H[a * p + b] += ha * row[b];
        }
      }
      for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) H[b * p + a] = H[a * p + b];
      for (let a = 0; a < d.dim; a++) {
        H[a * p + a] += l2;
        g[a] -= l2 * beta[a];
      }
      H[p * p - 1] += 1e-6;
      const step = choleskySolve(H, p, g);
      let change = 0;
      for (let a = 0; a < p; a++) {
        beta[a] += step[a];
        change = Math.max(change, Math.abs(step[a]));
      }
      if (change < 1e-6) break;
    }
    this.coef = beta;
    this.dim = d.dim;
  }
  predict(x: Float64Array, n: number, out: Float64Array): void {
    const b = this.need();
    for (let i = 0; i < n; i++) {
      let z = b[this.dim];
      for (let f = 0; f < this.dim; f++) z += b[f] * x[i * this.dim + f];
      out[i] = sigmoid(z);
    }
  }
  /** Weights then intercept (length dim + 1). */
  coefficients(): Float64Array {
    return this.need().slice();
  }
  toJSON(): RewardModelFile {
    return { magic: 'deepcut-reward-model', version: 1, kind: 'logistic', dim: this.dim, coef: Array.from(this.need()) };
  }
  static fromJSON(j: RewardModelFile): LogisticRegression {
    const m = new LogisticRegression();
    m.coef = Float64Array.from(j.coef as number[]);
    m.dim = j.dim;
    return m;
  }
  private need(): Float64Array {
    if (!this.coef) throw new Error('logistic: not fitted');
    return this.coef;
  }
}

export interface GbtOptions {
  rounds?: number;
  depth?: number;
  learningRate?: number;
  /** L2 on leaf values (XGBoost's λ), default 1. */
  lambda?: number;
  /** Quantile bins per feature, default 32. */
  bins?: number;
  minChildWeight?: number;
}

/** Gradient-boosted regression trees on the logistic loss (Friedman 2001; Newton leaves as in XGBoost). */
export class GradientBoostedTrees implements RewardModel {
  readonly name = 'gbt';
  private trees: { feat: Int32Array; thr: Float64Array; left: Int32Array; right: Int32Array; value: Float64Array }[] = [];
  private base = 0;
  private dim = 0;
  private done = false;
  constructor(private readonly o: GbtOptions = {}) {}
  get fitted() {
    return this.done;
  }
  fit(d: Dataset, _rng: Rng): void {
    checkDataset(d, undefined, 'gbt');
    const { rounds = 60, depth = 3, learningRate = 0.15, lambda = 1, bins: nb = 32, minChildWeight = 1 } = this.o;
    const { n, dim } = d;
    this.dim = dim;
    const w = d.w ?? new Float64Array(n).fill(1);
    const { cuts, bins: bin } = quantileBins(d.x, n, dim, nb - 1, { distinctWhenFew: false });
    let sy = 0, sw = 0;
    for (let i = 0; i < n; i++) {
      sy += w[i] * d.y[i];
      sw += w[i];
    }
    const mean = Math.min(0.999, Math.max(0.001, sy / sw));
    this.base = Math.log(mean / (1 - mean));
    const F = new Float64Array(n).fill(this.base);
    const grad = new Float64Array(n), hess = new Float64Array(n);
    this.trees = [];
    const G = new Float64Array(256), Hh = new Float64Array(256);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < n; i++) {
        const p = sigmoid(F[i]);
        grad[i] = w[i] * (p - d.y[i]);
        hess[i] = w[i] * Math.max(p * (1 - p), 1e-6);
      }
      const feat: number[] = [], thr: number[] = [], left: number[] = [], right: number[] = [], value: number[] = [];
      const build = (rows: Int32Array, lvl: number): number => {
        const idx = feat.length;
        feat.push(-1);
        thr.push(0);
        left.push(-1);
        right.push(-1);
        value.push(0);
        let gs = 0, hs = 0;
        for (const i of rows) {
          gs += grad[i];
          hs += hess[i];
        }
        value[idx] = (-gs / (hs + lambda)) * learningRate;
        if (lvl >= depth || rows.length < 2) return idx;
        let best = 0, bf = -1, bc = -1;
        const parent = (gs * gs) / (hs + lambda);
        for (let f = 0; f < dim; f++) {
          const nc = cuts[f].length;
          if (nc === 0) continue;
          G.fill(0, 0, nc + 1);
          Hh.fill(0, 0, nc + 1);
          for (const i of rows) {
            const b = bin[i * dim + f];
            G[b] += grad[i];
            Hh[b] += hess[i];
          }
          let gl = 0, hl = 0;
          for (let c = 0; c < nc; c++) {
            gl += G[c];
            hl += Hh[c];
            const gr = gs - gl, hr = hs - hl;
            if (hl < minChildWeight * 1e-3 || hr < minChildWeight * 1e-3) continue;
            const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
            if (gain > best) {
              best = gain;
              bf = f;
              bc = c;
            }
          }
        }
        if (bf < 0) return idx;
        const l: number[] = [], rr: number[] = [];
        for (const i of rows) (bin[i * dim + bf] <= bc ? l : rr).push(i);
        feat[idx] = bf;
        thr[idx] = cuts[bf][bc];
        value[idx] = 0;
        const li = build(Int32Array.from(l), lvl + 1);
        const ri = build(Int32Array.from(rr), lvl + 1);
        left[idx] = li;
        right[idx] = ri;
        return idx;
      };
      build(Int32Array.from({ length: n }, (_, i) => i), 0);
      const t = { feat: Int32Array.from(feat), thr: Float64Array.from(thr), left: Int32Array.from(left), right: Int32Array.from(right), value: Float64Array.from(value) };
      this.trees.push(t);
      for (let i = 0; i < n; i++) F[i] += walk(t, d.x, i * dim);
    }
    this.done = true;
  }
  predict(x: Float64Array, n: number, out: Float64Array): void {
    if (!this.done) throw new Error('gbt: not fitted');
    for (let i = 0; i < n; i++) {
      let s = this.base;
      for (const t of this.trees) s += walk(t, x, i * this.dim);
      out[i] = sigmoid(s);
    }
  }
  toJSON(): RewardModelFile {
    if (!this.done) throw new Error('gbt: not fitted');
    return { magic: 'deepcut-reward-model', version: 1, kind: 'gbt', dim: this.dim, base: this.base, trees: this.trees.map((t) => ({ feat: Array.from(t.feat), thr: Array.from(t.thr), left: Array.from(t.left), right: Array.from(t.right), value: Array.from(t.value) })) };
  }
  static fromJSON(j: RewardModelFile): GradientBoostedTrees {
    const m = new GradientBoostedTrees();
    m.dim = j.dim;
    m.base = j.base as number;
    m.trees = (j.trees as Record<string, number[]>[]).map((t) => ({ feat: Int32Array.from(t.feat), thr: Float64Array.from(t.thr), left: Int32Array.from(t.left), right: Int32Array.from(t.right), value: Float64Array.from(t.value) }));
    m.done = true;
    return m;
  }
}

function walk(t: { feat: Int32Array; thr: Float64Array; left: Int32Array; right: Int32Array; value: Float64Array }, x: Float64Array, base: number): number {
  let nd = 0;
  while (t.feat[nd] >= 0) nd = x[base + t.feat[nd]] <= t.thr[nd] ? t.left[nd] : t.right[nd];
  return t.value[nd];
}

export interface MlpOptions {
  hidden?: number;
  epochs?: number;
  learningRate?: number;
  batch?: number;
  l2?: number;
}

/** A small neural net: dim → hidden (tanh) → 1 (sigmoid), weighted cross-entropy, Adam, seeded init and shuffles. */
export class Mlp implements RewardModel {
  readonly name = 'mlp';
  private W1: Float64Array | undefined;
  private b1 = new Float64Array(0);
  private W2 = new Float64Array(0);
  private b2 = 0;
  private dim = 0;
  private h = 0;
  constructor(private readonly o: MlpOptions = {}) {}
  get fitted() {
    return this.W1 !== undefined;
  }
  fit(d: Dataset, rng: Rng): void {
    checkDataset(d, undefined, 'mlp');
    const { hidden = 16, epochs = 30, learningRate = 0.01, batch = 64, l2 = 1e-4 } = this.o;
    const { n, dim } = d;
    this.dim = dim;
    this.h = hidden;
    const P = hidden * dim + hidden + hidden + 1;
    const theta = new Float64Array(P);
    const scale = 1 / Math.sqrt(dim);
    for (let i = 0; i < hidden * dim; i++) theta[i] = rng.normal() * scale;
    for (let i = 0; i < hidden; i++) theta[hidden * dim + hidden + i] = rng.normal() / Math.sqrt(hidden);
    const m1 = new Float64Array(P), m2 = new Float64Array(P), grad = new Float64Array(P);
    const a = new Float64Array(hidden);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    let wsum = 0;
    for (let i = 0; i < n; i++) wsum += d.w ? d.w[i] : 1;
    const wnorm = n / Math.max(wsum, 1e-12);
    let t = 0;
    const oB1 = hidden * dim, oW2 = oB1 + hidden, oB2 = oW2 + hidden;
    for (let e = 0; e < epochs; e++) {
      rng.shuffle(order as unknown as number[]);
      for (let s = 0; s < n; s += batch) {
        grad.fill(0);
        const end = Math.min(n, s + batch);
        for (let q = s; q < end; q++) {
          const i = order[q];
          let z = theta[oB2];
          for (let k = 0; k < hidden; k++) {
            let u = theta[oB1 + k];
            for (let f = 0; f < dim; f++) u += theta[k * dim + f] * d.x[i * dim + f];
            a[k] = Math.tanh(u);
            z += theta[oW2 + k] * a[k];
          }
          const err = (sigmoid(z) - d.y[i]) * (d.w ? d.w[i] * wnorm : 1);
          grad[oB2] += err;
          for (let k = 0; k < hidden; k++) {
            grad[oW2 + k] += err * a[k];
            const da = err * theta[oW2 + k] * (1 - a[k] * a[k]);
            grad[oB1 + k] += da;
            for (let f = 0; f < dim; f++) grad[k * dim + f] += da * d.x[i * dim + f];
          }
        }
        t++;
        const bs = end - s;
        for (let p = 0; p < P; p++) {
          const g = grad[p] / bs + l2 * theta[p];
          m1[p] = 0.9 * m1[p] + 0.1 * g;
          m2[p] = 0.999 * m2[p] + 0.001 * g * g;
          theta[p] -= (learningRate * (m1[p] / (1 - 0.9 ** t))) / (Math.sqrt(m2[p] / (1 - 0.999 ** t)) + 1e-8);
        }
      }
    }
    this.W1 = theta.slice(0, oB1);
    this.b1 = theta.slice(oB1, oW2);
    this.W2 = theta.slice(oW2, oB2);
    this.b2 = theta[oB2];
  }
  predict(x: Float64Array, n: number, out: Float64Array): void {
    const W1 = this.W1;
    if (!W1) throw new Error('mlp: not fitted');
    for (let i = 0; i < n; i++) {
      let z = this.b2;
      for (let k = 0; k < this.h; k++) {
        let u = this.b1[k];
        for (let f = 0; f < this.dim; f++) u += W1[k * this.dim + f] * x[i * this.dim + f];
        z += this.W2[k] * Math.tanh(u);
      }
      out[i] = sigmoid(z);
    }
  }
  toJSON(): RewardModelFile {
    if (!this.W1) throw new Error('mlp: not fitted');
    return { magic: 'deepcut-reward-model', version: 1, kind: 'mlp', dim: this.dim, hidden: this.h, W1: Array.from(this.W1), b1: Array.from(this.b1), W2: Array.from(this.W2), b2: this.b2 };
  }
  static fromJSON(j: RewardModelFile): Mlp {
    const m = new Mlp();
    m.dim = j.dim;
    m.h = j.hidden as number;
    m.W1 = Float64Array.from(j.W1 as number[]);
    m.b1 = Float64Array.from(j.b1 as number[]);
    m.W2 = Float64Array.from(j.W2 as number[]);
    m.b2 = j.b2 as number;
    return m;
  }
}

export interface BootstrapOptions {
  /** The model each member is (any config but another bootstrap). */
  member: Exclude<RewardModelConfig, { kind: 'bootstrap' }>;
  /** Number of members, default 8. */
  members?: number;
}

/**
 * A posterior for any reward model by the Bayesian bootstrap (Rubin 1981): each member is fitted
 * on the data with every row's weight multiplied by an Exp(1) draw; a posterior draw is one member
 * (Thompson sampling via bootstrap, Eckles & Kaptein 2014), the mean prediction the members' average.
 */
export class BootstrapEnsemble implements RewardModel, PosteriorSampling {
  readonly name = 'bootstrap';
  private members: RewardModel[] = [];
  private dim = 0;
  constructor(private readonly o: BootstrapOptions) {}
  get fitted() {
    return this.members.length > 0;
  }
  fit(d: Dataset, rng: Rng): void {
    checkDataset(d, undefined, 'bootstrap');
    const B = this.o.members ?? 8;
    const members: RewardModel[] = [];
    for (let b = 0; b < B; b++) {
      const w = new Float64Array(d.n);
      for (let i = 0; i < d.n; i++) w[i] = (d.w ? d.w[i] : 1) * -Math.log(1 - rng.next());
      const m = makeRewardModel(this.o.member);
      m.fit({ ...d, w }, rng);
      members.push(m);
    }
    this.members = members;
    this.dim = d.dim;
  }
  predict(x: Float64Array, n: number, out: Float64Array): void {
    const ms = this.need();
    const tmp = new Float64Array(n);
    out.fill(0, 0, n);
    for (const m of ms) {
      m.predict(x, n, tmp);
      for (let i = 0; i < n; i++) out[i] += tmp[i] / ms.length;
    }
  }
  sample(x: Float64Array, n: number, out: Float64Array, rng: Rng): void {
    const ms = this.need();
    ms[rng.int(ms.length)].predict(x, n, out);
  }
  toJSON(): RewardModelFile {
    return { magic: 'deepcut-reward-model', version: 1, kind: 'bootstrap', dim: this.dim, options: this.o, members: this.need().map((m) => m.toJSON()) };
  }
  static fromJSON(j: RewardModelFile): BootstrapEnsemble {
    const e = new BootstrapEnsemble(j.options as BootstrapOptions);
    e.dim = j.dim;
    e.members = (j.members as unknown[]).map((m) => loadRewardModel(m));
    return e;
  }
  private need(): RewardModel[] {
    if (!this.members.length) throw new Error('bootstrap: not fitted');
    return this.members;
  }
}

/** A reward model config, tagged by kind. */
export type RewardModelConfig =
  | ({ kind: 'logistic' } & LogisticOptions)
  | ({ kind: 'gbt' } & GbtOptions)
  | ({ kind: 'bart' } & BartOptions)
  | ({ kind: 'mlp' } & MlpOptions)
  | ({ kind: 'bootstrap' } & BootstrapOptions);

/**
 * The home bandit's production reward model, as the pipeline's bandit step fits it and
 * `eval bandit-sim` measures it: BART of 30 trees, 60 burn-in sweeps, 30 kept draws. (BART's own
 * defaults, 50 trees × 100 × 50 thinned by 2, explored more and did worse in the simulator, at 4×
 * the fitting cost: docs/bandit.md.)
 */
export const PRODUCTION_BART = { kind: 'bart', trees: 30, burn: 60, draws: 30, thin: 1 } as const satisfies RewardModelConfig;

/** A fresh, unfitted reward model. */
export function makeRewardModel(c: RewardModelConfig): RewardModel {
  switch (c.kind) {
    case 'logistic':
      return new LogisticRegression(c);
    case 'gbt':
      return new GradientBoostedTrees(c);
    case 'bart':
      return new Bart(c);
    case 'mlp':
      return new Mlp(c);
    case 'bootstrap':
      return new BootstrapEnsemble(c);
  }
}

/** Read a saved model document back; names the mismatch when it is not one. */
export function loadRewardModel(j: unknown): RewardModel {
  const f = j as Partial<RewardModelFile>;
  if (!f || f.magic !== 'deepcut-reward-model') throw new Error(`reward model: not a deepcut reward model file (magic ${JSON.stringify(f?.magic)})`);
  if (f.version !== 1) throw new Error(`reward model: unsupported version ${f.version}, expected 1`);
  switch (f.kind) {
    case 'logistic':
      return LogisticRegression.fromJSON(f as RewardModelFile);
    case 'gbt':
      return GradientBoostedTrees.fromJSON(f as RewardModelFile);
    case 'bart':
      return Bart.fromJSON(f as RewardModelFile);
    case 'mlp':
      return Mlp.fromJSON(f as RewardModelFile);
    case 'bootstrap':
      return BootstrapEnsemble.fromJSON(f as RewardModelFile);
    default:
      throw new Error(`reward model: unknown kind ${JSON.stringify(f.kind)}`);
  }
}
