/**
 * Bayesian Personalized Ranking matrix factorization (Rendle et al. 2009, "BPR: Bayesian
 * Personalized Ranking from Implicit Feedback", LearnBPR, eq. 4–6): for sampled triples (u, i, j)
 * with i heard by u and j not, stochastic gradient ascent on ln σ(x̂_ui − x̂_uj) − λ‖Θ‖², with
 * x̂_ui = p_u·q_i + b_i. Confidence values are ignored (any positive entry is a positive). Seeded.
 *
 * Users without training rows (or beyond the trained count) score by the item bias alone.
 * Similar items: cosine of item factors; similar users: cosine of training rows.
 */
import type { Csr } from '../signals/index.ts';
import { csrArrays, csrFromArrays, ScoringRecommender, rowNorms, userCosine, userRows, type UserRows } from './base.ts';
import { readArtifact, writeArtifact } from './artifact.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';
import type { FitOptions } from './recommender.ts';

const KIND = 'bpr';
const VERSION = 1;

export interface BprConfig {
  /** Latent factors (default 64). */
  factors?: number;
  /** Passes over the positives, each nnz sampled triples (default 50). */
  epochs?: number;
  /** SGD step (default 0.05) and L2 on factors and biases (default 0.001). */
  learningRate?: number;
  regularization?: number;
  seed?: number;
}

/** BPR-MF; see the module comment. */
export class BprRecommender extends ScoringRecommender {
  readonly name = 'bpr';
  readonly config: Required<BprConfig>;
  private P: Float32Array = new Float32Array(0);
  private Q: Float32Array = new Float32Array(0);
  private bias: Float32Array = new Float32Array(0);
  private qNorm: Float32Array = new Float32Array(0);
  private train: UserRows = userRows({ rows: 0, cols: 0, indptr: new Int32Array(1), indices: new Int32Array(0), data: new Float32Array(0) });

  constructor(config: BprConfig = {}) {
    super();
    this.config = { factors: 64, epochs: 50, learningRate: 0.05, regularization: 0.001, seed: 0, ...config };
    const { factors, epochs, learningRate, regularization } = this.config;
    if (!Number.isInteger(factors) || factors <= 0 || !Number.isInteger(epochs) || epochs <= 0) throw new DeepcutError('config', `bpr: factors and epochs must be positive integers, got ${factors} and ${epochs}`);
    if (!(learningRate > 0) || !(regularization >= 0)) throw new DeepcutError('config', `bpr: learningRate must be > 0 and regularization ≥ 0, got ${learningRate} and ${regularization}`);
  }

  protected async fitModel(m: Csr, opts?: FitOptions): Promise<void> {
    const { factors: f, epochs, learningRate: lr, regularization: reg, seed } = this.config;
    const rng = new Rng(seed);
    const P = Float32Array.from({ length: m.rows * f }, () => (rng.next() - 0.5) * 0.1);
    const Q = Float32Array.from({ length: m.cols * f }, () => (rng.next() - 0.5) * 0.1);
    const b = new Float32Array(m.cols);
    // positives (user, item) as flat arrays; heard lookup per user by binary search in the sorted row
    const nnz = m.indices.length;
    const rowOf = new Int32Array(nnz);
    for (let u = 0; u < m.rows; u++) rowOf.fill(u, m.indptr[u], m.indptr[u + 1]);
    const heard = (u: number, j: number) => {
      let lo = m.indptr[u];
      let hi = m.indptr[u + 1] - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (m.indices[mid] === j) return true;
        if (m.indices[mid] < j) lo = mid + 1;
        else hi = mid - 1;
      }
      return false;
    };
    for (let e = 0; e < epochs; e++) {
      const t0 = performance.now();
      for (let s = 0; s < nnz; s++) {
        const p = rng.int(nnz);
        const u = rowOf[p];
        const i = m.indices[p];
        if (m.indptr[u + 1] - m.indptr[u] >= m.cols) continue;
        let j = rng.int(m.cols);
        while (heard(u, j)) j = rng.int(m.cols);
        const ou = u * f, oi = i * f, oj = j * f;
        let x = b[i] - b[j];
        for (let d = 0; d < f; d++) x += P[ou + d] * (Q[oi + d] - Q[oj + d]);
        const g = 1 / (1 + Math.exp(x)); // σ(−x): the gradient of ln σ(x)
        b[i] += lr * (g - reg * b[i]);
        b[j] += lr * (-g - reg * b[j]);
        for (let d = 0; d < f; d++) {
          const pu = P[ou + d], qi = Q[oi + d], qj = Q[oj + d];
          P[ou + d] += lr * (g * (qi - qj) - reg * pu);
          Q[oi + d] += lr * (g * pu - reg * qi);
          Q[oj + d] += lr * (-g * pu - reg * qj);
        }
      }
      opts?.onIteration?.({ iteration: e + 1, iterations: epochs, seconds: (performance.now() - t0) / 1000 });
    }
    for (const v of P) if (!Number.isFinite(v)) throw new DeepcutError('invalid_input', 'bpr: training diverged (non-finite factors); lower learningRate');
    this.P = P;
    this.Q = Q;
    this.bias = b;
    this.setDerived(m);
  }

  private setDerived(m: Csr): void {
    this.qNorm = rowNorms(this.Q, this.items, this.config.factors);
    this.train = userRows(m);
  }

  protected scoreUser(user: number, _userItems: Csr, out: Float32Array): void {
    const f = this.config.factors;
    const known = user < this.users;
    for (let i = 0; i < this.items; i++) {
      let s = this.bias[i];
      if (known) for (let d = 0; d < f; d++) s += this.P[user * f + d] * this.Q[i * f + d];
      out[i] = s;
    }
  }

  protected scoreItem(item: number, out: Float32Array): void {
    const f = this.config.factors;
    const ni = this.qNorm[item];
    for (let j = 0; j < this.items; j++) {
      let s = 0;
      for (let d = 0; d < f; d++) s += this.Q[item * f + d] * this.Q[j * f + d];
      const n = ni * this.qNorm[j];
      out[j] = n > 0 ? s / n : 0;
    }
  }

  protected scoreUserToUsers(user: number, out: Float32Array): void {
    userCosine(this.train, user, out);
  }

  async save(path: string, meta: { runId: string }): Promise<void> {
    this.checkFitted();
    const { seed: _s, ...params } = this.config;
    await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: 'inner_product', params: { version: VERSION, ...params, users: this.users, items: this.items } }, [
      { name: 'userFactors', data: this.P, shape: [this.users, this.config.factors] },
      { name: 'itemFactors', data: this.Q, shape: [this.items, this.config.factors] },
      { name: 'itemBias', data: this.bias, shape: [this.items] },
      ...csrArrays('train', this.train.m),
    ]);
  }

  /** Read a model written by `save`; throws `invalid_input` naming a wrong kind or version. */
  static async load(path: string): Promise<BprRecommender> {
    const a = await readArtifact(path, { kind: KIND, params: { version: VERSION } });
    const meta = a.header.params as Required<BprConfig> & { users: number; items: number };
    const m = new BprRecommender({ factors: meta.factors, epochs: meta.epochs, learningRate: meta.learningRate, regularization: meta.regularization });
    m.users = meta.users;
    m.items = meta.items;
    m.P = a.arrays.userFactors as Float32Array;
    m.Q = a.arrays.itemFactors as Float32Array;
    m.bias = a.arrays.itemBias as Float32Array;
    m.setDerived(csrFromArrays(a.arrays, 'train', meta.users, meta.items));
    return m;
  }
}
