/**
 * Bayesian Additive Regression Trees for a binary reward (Chipman, George & McCulloch 2010,
 * "BART: Bayesian additive regression trees", Ann. Appl. Stat. 4(1); §4 for the probit model).
 *
 *   P(y = 1 | x) = Φ(offset + Σ_{j=1..m} g(x; T_j, M_j))
 *
 * - Prior on each tree: a node at depth d splits with probability α (1 + d)^−β (α = 0.95, β = 2);
 *   splitting variable uniform over variables that can split the node, cut uniform over its values.
 * - Leaf values μ ~ N(0, σ_μ²) with σ_μ = 3 / (k √m) (k = 2), so the sum of trees stays within
 *   ±3 on the latent scale with high prior probability.
 * - Probit data augmentation (Albert & Chib 1993): z_i ~ N(G(x_i), 1) truncated to z > 0 when
 *   y_i = 1 and z < 0 otherwise; given z the model is BART regression with σ = 1 known.
 * - Backfitting MCMC: for each tree, residuals R = z − Σ_{k≠j} g_k; one Metropolis–Hastings
 *   grow / prune / change proposal (probabilities 0.28 / 0.28 / 0.44; grow only from a stump)
 *   with the acceptance ratios of Kapelner & Bleich 2016 (bartMachine, appendix A), where p_adj and
 *   n_adj cancel between transition and tree-prior ratios; then leaf values from their conjugate
 *   normal posterior.
 * - `offset` = Φ⁻¹(mean y), as bartMachine/dbarts do for binary responses.
 * - Position-based click model (Richardson et al. 2007; Chuklin, Markov & de Rijke 2015 §3.3), when
 *   the data set gives each row's examination probability e_i (`Dataset.exam`):
 *   P(y_i = 1) = e_i Φ(G(x_i)), so the trees learn attractiveness and a candidate is scored as if
 *   examined. One more augmentation step per sweep: a row with y = 0 was attractive but not
 *   examined with probability p (1 − e) / (1 − e p), p = Φ(G(x_i)), and its latent attractiveness
 *   a_i is drawn from that; z is then drawn given a_i instead of y_i (rows with y = 1 have a = 1).
 * - Sample weights (inverse propensities for counterfactual training) enter as precisions: the
 *   likelihood of row i is N(R_i; μ, 1/w_i), a weighted (power) likelihood; z is sampled unweighted.
 *
 * After `burn` sweeps, every `thin`-th forest is kept as a posterior draw, flattened into typed
 * arrays (preorder nodes: feature, threshold, children, value) so that scoring a card for one
 * draw is m short array walks: Thompson sampling scores ~100 cards in microseconds.
 */
import type { Rng } from '../util/rng.ts';
import { checkDataset, normalCdf, type Dataset, type PosteriorSampling, type RewardModel, type RewardModelFile } from './reward.ts';
import { normalQuantile } from './ope.ts';
import { quantileBins } from '../core/binning.ts';

export interface BartOptions {
  /** Number of trees m (default 50). */
  trees?: number;
  /** Tree prior: P(split at depth d) = alpha (1 + d)^−beta (0.95, 2). */
  alpha?: number;
  beta?: number;
  /** Leaf prior scale: σ_μ = 3 / (k √m) (k = 2). */
  k?: number;
  /** MCMC sweeps discarded (default 100), then draws kept (default 50), every `thin` sweeps (2). */
  burn?: number;
  draws?: number;
  thin?: number;
  /** Cut points per feature at most (quantiles of the training values; default 32). */
  maxCuts?: number;
}

interface Node {
  feat: number;
  /** Cut index: rows with bin ≤ cut go left. */
  cut: number;
  left: Node | null;
  right: Node | null;
  parent: Node | null;
  depth: number;
  rows: Int32Array;
  value: number;
}

/** Flattened posterior draws: node arrays of every tree of every draw. */
export interface FlatForest {
  /** Feature index per node, −1 for a leaf. */
  feat: Int32Array;
  /** Go left when x[feat] ≤ thr. */
  thr: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** Leaf value (0 for internal nodes). */
  value: Float64Array;
  /** Root node index of tree j of draw d at d × trees + j. */
  roots: Int32Array;
  trees: number;
  draws: number;
}

const P_GROW = 0.28;
const P_PRUNE = 0.28;

/** x ~ N(0, 1) truncated to x > a (Robert 1995: naive rejection below a = 0.45, else exponential proposal). */
function truncNormalAbove(a: number, rng: Rng): number {
  if (a < 0.45) {
    for (;;) {
      const x = rng.normal();
      if (x > a) return x;
    }
  }
  const lam = (a + Math.sqrt(a * a + 4)) / 2;
  for (;;) {
    let u = rng.next();
    while (u === 0) u = rng.next();
    const x = a - Math.log(u) / lam;
    if (rng.next() <= Math.exp(-((x - lam) ** 2) / 2)) return x;
  }
}

export class Bart implements RewardModel, PosteriorSampling {
  readonly name = 'bart';
  private readonly o: Required<BartOptions>;
  private dim = 0;
  private offset = 0;
  private forest: FlatForest | undefined;
  /** Per-sweep count of accepted moves (diagnostics). */
  acceptance = 0;

  constructor(o: BartOptions = {}) {
    this.o = { trees: 50, alpha: 0.95, beta: 2, k: 2, burn: 100, draws: 50, thin: 2, maxCuts: 32, ...o };
  }

  get fitted(): boolean {
    return this.forest !== undefined;
  }

  /** Number of posterior draws kept. */
  get draws(): number {
    return this.forest?.draws ?? 0;
  }

  fit(d: Dataset, rng: Rng): void {
    checkDataset(d, undefined, 'bart');
    if (d.n === 0) throw new Error('bart: no training rows');
    const { trees: m, alpha, beta, burn, draws, thin } = this.o;
    const n = d.n;
    const dim = d.dim;
    this.dim = dim;
    const w = d.w ?? new Float64Array(n).fill(1);
    // cut points: up to maxCuts quantiles of each feature's distinct values; bins[i*dim+f] = #cuts < x
    const { cuts, bins } = quantileBins(d.x, n, dim, this.o.maxCuts);
    const exam = d.exam;
    let sy = 0, sw = 0;
    for (let i = 0; i < n; i++) {
      sy += w[i] * d.y[i];
      sw += w[i] * (exam ? exam[i] : 1);
    }
    this.offset = normalQuantile(Math.min(0.99, Math.max(0.01, sw > 0 ? sy / sw : 0.5)));
    const sigmaMu = 3 / (this.o.k * Math.sqrt(m));
    const s2 = sigmaMu * sigmaMu;

    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    const roots: Node[] = [];
    const fits: Float64Array[] = [];
    for (let j = 0; j < m; j++) {
      roots.push({ feat: -1, cut: -1, left: null, right: null, parent: null, depth: 0, rows: all, value: 0 });
      fits.push(new Float64Array(n));
    }
    const total = new Float64Array(n); // Σ_j g_j(x_i)
    const z = new Float64Array(n);
    const R = new Float64Array(n);

    const leaves = (t: Node, out: Node[] = []): Node[] => {
      if (!t.left) out.push(t);
      else {
        leaves(t.left, out);
        leaves(t.right!, out);
      }
      return out;
    };
    const nogs = (t: Node, out: Node[] = []): Node[] => {
      if (t.left) {
        if (!t.left.left && !t.right!.left) out.push(t);
        else {
          nogs(t.left, out);
          nogs(t.right!, out);
        }
      }
      return out;
    };
    // log marginal likelihood of a node's residuals under μ ~ N(0, s2), unit-precision-weighted
    const logLik = (rows: Int32Array): number => {
      let W = 0, S = 0;
      for (let p = 0; p < rows.length; p++) {
        const i = rows[p];
        W += w[i];
        S += w[i] * R[i];
      }
      return -0.5 * Math.log(1 + W * s2) + (s2 * S * S) / (2 * (1 + W * s2));
    };
    // a random valid rule for a node: a feature with ≥ 2 distinct bins among its rows, a cut between them
    const order = new Int32Array(dim);
    for (let f = 0; f < dim; f++) order[f] = f;
    const seen = new Uint8Array(256);
    const proposeRule = (node: Node): { feat: number; cut: number } | undefined => {
      for (let f = dim - 1; f > 0; f--) {
        const k = rng.int(f + 1);
        const t = order[f];
        order[f] = order[k];
        order[k] = t;
      }
      for (let q = 0; q < dim; q++) {
        const f = order[q];
        seen.fill(0);
        let distinct = 0;
        let maxBin = 0;
        for (let p = 0; p < node.rows.length; p++) {
          const b = bins[node.rows[p] * dim + f];
          if (!seen[b]) {
            seen[b] = 1;
            distinct++;
            if (b > maxBin) maxBin = b;
          }
        }
        if (distinct < 2) continue;
        // cut uniformly among the distinct bins except the largest
        let pick = rng.int(distinct - 1);
        for (let b = 0; b <= maxBin; b++) {
          if (!seen[b] || b === maxBin) continue;
          if (pick-- === 0) return { feat: f, cut: b };
        }
      }
      return undefined;
    };
    const split = (node: Node, feat: number, cut: number): [Int32Array, Int32Array] => {
      let nl = 0;
      for (let p = 0; p < node.rows.length; p++) if (bins[node.rows[p] * dim + feat] <= cut) nl++;
      const l = new Int32Array(nl);
      const r = new Int32Array(node.rows.length - nl);
      let a = 0, b = 0;
      for (let p = 0; p < node.rows.length; p++) {
        const i = node.rows[p];
        if (bins[i * dim + feat] <= cut) l[a++] = i;
        else r[b++] = i;
      }
      return [l, r];
    };
    const splitPrior = (depth: number) => alpha * Math.pow(1 + depth, -beta);

    const kept: Node[][] = [];
    const sweeps = burn + draws * thin;
    for (let it = 0; it < sweeps; it++) {
      // 1. latent z | G, y (Albert & Chib); with examination, the attractiveness a | G, y first
      for (let i = 0; i < n; i++) {
        const mu = this.offset + total[i];
        let a = d.y[i] === 1;
        if (!a && exam && exam[i] < 1) {
          const p = normalCdf(mu), e = exam[i];
          a = rng.next() < (p * (1 - e)) / (1 - e * p);
        }
        z[i] = a ? mu + truncNormalAbove(-mu, rng) : mu - truncNormalAbove(mu, rng);
      }
      let accepted = 0;
      // 2. backfitting over trees
      for (let j = 0; j < m; j++) {
        const fit = fits[j];
        for (let i = 0; i < n; i++) R[i] = z[i] - this.offset - (total[i] - fit[i]);
        const root = roots[j];
        const stump = !root.left;
        const u = rng.next();
        if (stump || u < P_GROW) {
          const ls = leaves(root);
          const node = ls[rng.int(ls.length)];
          const rule = proposeRule(node);
          if (rule) {
            const [l, r] = split(node, rule.feat, rule.cut);
            const b = ls.length;
            // nogs after the grow: node becomes one; its parent stops being one if it was
            let w2 = nogs(root).length + 1;
            if (node.parent && !node.parent.left!.left && !node.parent.right!.left) w2--;
            const pGrow = stump ? 1 : P_GROW;
            const pd = splitPrior(node.depth);
            const pc = splitPrior(node.depth + 1);
            const logRatio =
              Math.log(P_PRUNE / pGrow) + Math.log(b / w2) + Math.log(pd) + 2 * Math.log(1 - pc) - Math.log(1 - pd) +
              logLik(l) + logLik(r) - logLik(node.rows);
            if (Math.log(rng.next()) < logRatio) {
              node.feat = rule.feat;
              node.cut = rule.cut;
              node.left = { feat: -1, cut: -1, left: null, right: null, parent: node, depth: node.depth + 1, rows: l, value: 0 };
              node.right = { feat: -1, cut: -1, left: null, right: null, parent: node, depth: node.depth + 1, rows: r, value: 0 };
              accepted++;
            }
          }
        } else if (u < P_GROW + P_PRUNE) {
          const ns = nogs(root);
          const node = ns[rng.int(ns.length)];
          const b = leaves(root).length;
          const w2 = ns.length;
          const pGrowAfter = node === root ? 1 : P_GROW;
          const pd = splitPrior(node.depth);
          const pc = splitPrior(node.depth + 1);
          const logRatio =
            Math.log(pGrowAfter / P_PRUNE) + Math.log(w2 / (b - 1)) - (Math.log(pd) + 2 * Math.log(1 - pc) - Math.log(1 - pd)) +
            logLik(node.rows) - logLik(node.left!.rows) - logLik(node.right!.rows);
          if (Math.log(rng.next()) < logRatio) {
            node.feat = -1;
            node.cut = -1;
            node.left = null;
            node.right = null;
            accepted++;
          }
        } else {
          const ns = nogs(root);
          const node = ns[rng.int(ns.length)];
          const rule = proposeRule(node);
          if (rule) {
            const [l, r] = split(node, rule.feat, rule.cut);
            const logRatio = logLik(l) + logLik(r) - logLik(node.left!.rows) - logLik(node.right!.rows);
            if (Math.log(rng.next()) < logRatio) {
              node.feat = rule.feat;
              node.cut = rule.cut;
              node.left!.rows = l;
              node.right!.rows = r;
              accepted++;
            }
          }
        }
        // 3. leaf values | tree, R: precision 1/s2 + Σw, mean Σ w R / precision
        for (const leaf of leaves(root)) {
          let W = 0, S = 0;
          for (let p = 0; p < leaf.rows.length; p++) {
            const i = leaf.rows[p];
            W += w[i];
            S += w[i] * R[i];
          }
          const prec = 1 / s2 + W;
          leaf.value = S / prec + rng.normal() / Math.sqrt(prec);
          for (let p = 0; p < leaf.rows.length; p++) {
            const i = leaf.rows[p];
            total[i] += leaf.value - fit[i];
            fit[i] = leaf.value;
          }
        }
      }
      this.acceptance = accepted / m;
      if (it >= burn && (it - burn) % thin === thin - 1) kept.push(roots.map((r) => cloneTree(r)));
    }
    this.forest = flatten(kept, cuts);
  }

  /** Posterior mean probability: average over draws of Φ(offset + Σ trees). */
  predict(x: Float64Array, n: number, out: Float64Array): void {
    const f = this.need();
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let dr = 0; dr < f.draws; dr++) s += normalCdf(this.offset + sumTrees(f, dr, x, i * this.dim));
      out[i] = s / f.draws;
    }
  }

  /** One posterior draw (chosen with `rng`): Φ(offset + Σ trees of that draw) per row. */
  sample(x: Float64Array, n: number, out: Float64Array, rng: Rng): void {
    const f = this.need();
    const dr = rng.int(f.draws);
    for (let i = 0; i < n; i++) out[i] = normalCdf(this.offset + sumTrees(f, dr, x, i * this.dim));
  }

  /** Latent sum of trees of draw `draw` for row `i` (tests, diagnostics). */
  latent(x: Float64Array, i: number, draw: number): number {
    return this.offset + sumTrees(this.need(), draw, x, i * this.dim);
  }

  toJSON(): RewardModelFile {
    const f = this.need();
    return {
      magic: 'deepcut-reward-model',
      version: 1,
      kind: 'bart',
      dim: this.dim,
      options: this.o,
      offset: this.offset,
      trees: f.trees,
      draws: f.draws,
      feat: Array.from(f.feat),
      thr: Array.from(f.thr),
      left: Array.from(f.left),
      right: Array.from(f.right),
      value: Array.from(f.value),
      roots: Array.from(f.roots),
    };
  }

  static fromJSON(j: RewardModelFile): Bart {
    const b = new Bart(j.options as BartOptions);
    b.dim = j.dim;
    b.offset = j.offset as number;
    b.forest = {
      feat: Int32Array.from(j.feat as number[]),
      thr: Float64Array.from(j.thr as number[]),
      left: Int32Array.from(j.left as number[]),
      right: Int32Array.from(j.right as number[]),
      value: Float64Array.from(j.value as number[]),
      roots: Int32Array.from(j.roots as number[]),
      trees: j.trees as number,
      draws: j.draws as number,
    };
    return b;
  }

  private need(): FlatForest {
    if (!this.forest) throw new Error('bart: not fitted');
    return this.forest;
  }
}

function sumTrees(f: FlatForest, draw: number, x: Float64Array, base: number): number {
  let s = 0;
  const r0 = draw * f.trees;
  for (let j = 0; j < f.trees; j++) {
    let nd = f.roots[r0 + j];
    while (f.feat[nd] >= 0) nd = x[base + f.feat[nd]] <= f.thr[nd] ? f.left[nd] : f.right[nd];
    s += f.value[nd];
  }
  return s;
}

function cloneTree(t: Node): Node {
  return { feat: t.feat, cut: t.cut, value: t.value, depth: t.depth, rows: t.rows, parent: null, left: t.left ? cloneTree(t.left) : null, right: t.right ? cloneTree(t.right) : null };
}

function flatten(draws: Node[][], cuts: Float64Array[]): FlatForest {
  const feat: number[] = [], thr: number[] = [], left: number[] = [], right: number[] = [], value: number[] = [], roots: number[] = [];
  const add = (t: Node): number => {
    const idx = feat.length;
    feat.push(t.left ? t.feat : -1);
    thr.push(t.left ? cuts[t.feat][t.cut] : 0);
    left.push(-1);
    right.push(-1);
    value.push(t.left ? 0 : t.value);
    if (t.left) {
      left[idx] = add(t.left);
      right[idx] = add(t.right!);
    }
    return idx;
  };
  for (const forest of draws) for (const t of forest) roots.push(add(t));
  return {
    feat: Int32Array.from(feat),
    thr: Float64Array.from(thr),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
    roots: Int32Array.from(roots),
    trees: draws[0]?.length ?? 0,
    draws: draws.length,
  };
}
