/**
 * EASE^R (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): an item × item weight
 * matrix B with a zero diagonal, fitted in closed form by ridge regression of every item on all the
 * others. With G = XᵀX + λI and P = G⁻¹ (eq. 8 of the paper): B = I − P·diagMat(1 / diag(P)), and
 * a user's scores are x·B.
 *
 * Two exact forms, chosen by the smaller side of X (users × items, `form: 'auto'`):
 * - `items` (primal): invert the items × items G and keep B densely (I² floats).
 * - `users` (dual, for catalogs larger than the user base): by the Woodbury identity
 *   P = (1/λ)·(I − Xᵀ·K⁻¹·X) with K = X·Xᵀ + λI (users × users), so
 *   (x·B)_j = x_j − (x_j − z_j)·s_j with z = Xᵀ·K⁻¹·X·xᵀ and s_j = 1 / (λ·P_jj) = 1 / (1 − X_jᵀK⁻¹X_j).
 *   Only K⁻¹ (U² floats), X and s are kept; scoring costs U² + 2·nnz(X) per user.
 * Both score any history row, so a new listener needs no refit (no fold-in step).
 */
import type { Csr } from '../signals/index.ts';
import { transpose } from '../signals/index.ts';
import { csrArrays, csrFromArrays, ScoringRecommender, userCosine, userRows, type UserRows } from './base.ts';
import { readArtifact, writeArtifact } from './artifact.ts';
import { spdInverseInPlace } from '../core/linalg.ts';
import { DeepcutError } from '../errors.ts';

const KIND = 'ease';
const VERSION = 1;

export interface EaseConfig {
  /** Ridge λ on the item Gram matrix (Steck: a few hundred on MovieLens-sized data); default 200. */
  lambda?: number;
  /** Which side to invert: `items` (G, I × I), `users` (K, U × U) or `auto` (the smaller; default). */
  form?: 'auto' | 'items' | 'users';
  /**
   * Dropout emphasis p in [0, 1) (Steck 2020, "Autoencoders that don't overfit towards the
   * identity", EDLAE): the ridge becomes λ + p/(1 − p)·G_jj per item, a heavier penalty on popular
   * items' weights. Default 0 (plain EASE^R). Needs the items form (the dual has no per-item ridge).
   */
  dropout?: number;
}

/** EASE^R; see the module comment. */
export class EaseRecommender extends ScoringRecommender {
  readonly name = 'ease';
  readonly config: Required<EaseConfig>;
  /** The form the fit used. */
  form: 'items' | 'users' = 'items';
  /** items form: B (items × items, row-major, zero diagonal). */
  private B: Float32Array = new Float32Array(0);
  /** users form: K⁻¹ (users × users), the per-item scale s, and X's transpose (items × users). */
  private Kinv: Float32Array = new Float32Array(0);
  private scale: Float32Array = new Float32Array(0);
  private xt: Csr = { rows: 0, cols: 0, indptr: new Int32Array(1), indices: new Int32Array(0), data: new Float32Array(0) };
  /** Training rows, for user-user cosine and the users form. */
  private train: UserRows = userRows(this.xt, this.xt);

  constructor(config: EaseConfig = {}) {
    super();
    this.config = { lambda: 200, form: 'auto', dropout: 0, ...config };
    if (!(this.config.lambda > 0)) throw new DeepcutError('config', `ease: lambda must be > 0, got ${this.config.lambda}`);
    if (!(this.config.dropout >= 0 && this.config.dropout < 1)) throw new DeepcutError('config', `ease: dropout must be in [0, 1), got ${this.config.dropout}`);
    if (this.config.dropout > 0 && this.config.form === 'users') throw new DeepcutError('config', 'ease: dropout emphasis needs the items form (the users form has no per-item ridge)');
  }

  protected async fitModel(userItems: Csr): Promise<void> {
    const { lambda, form } = this.config;
    const xt = transpose(userItems);
    this.train = userRows(userItems, xt);
    this.xt = xt;
    this.form = form === 'auto' ? (userItems.cols <= userItems.rows || this.config.dropout > 0 ? 'items' : 'users') : form;
    if (this.form === 'items') {
      const n = userItems.cols;
      const P = gram(xt, userItems, lambda);
      const e = this.config.dropout / (1 - this.config.dropout);
      if (e > 0) for (let j = 0; j < n; j++) P[j * n + j] += e * (P[j * n + j] - lambda);
      spdInverseInPlace(P, n);
      const B = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) B[i * n + j] = -P[i * n + j] / P[j * n + j];
      this.B = B;
    } else {
      const u = userItems.rows;
      const K = gram(userItems, xt, lambda);
      spdInverseInPlace(K, u);
      // s_j = 1 / (1 − X_jᵀ·K⁻¹·X_j), X_j the column of item j (a row of xt)
      const scale = new Float32Array(userItems.cols);
      for (let j = 0; j < xt.rows; j++) {
        let q = 0;
        for (let a = xt.indptr[j]; a < xt.indptr[j + 1]; a++) {
          const ra = xt.indices[a] * u;
          const va = xt.data[a];
          for (let b = xt.indptr[j]; b < xt.indptr[j + 1]; b++) q += va * xt.data[b] * K[ra + xt.indices[b]];
        }
        scale[j] = 1 / (1 - q);
      }
      this.scale = scale;
      this.Kinv = Float32Array.from(K);
    }
  }

  protected scoreUser(user: number, userItems: Csr, out: Float32Array): void {
    const items = userItems.indices.subarray(userItems.indptr[user], userItems.indptr[user + 1]);
    const values = userItems.data.subarray(userItems.indptr[user], userItems.indptr[user + 1]);
    this.scoreHistory(items, values, out, this.isTrainingRow(user, items, values) ? user : -1);
  }

  /** Whether (items, values) is exactly training row `user` (the users form then skips the U² solve). */
  private isTrainingRow(user: number, items: Int32Array, values: Float32Array): boolean {
    const m = this.train.m;
    if (this.form !== 'users' || user >= m.rows) return false;
    const a = m.indptr[user];
    if (m.indptr[user + 1] - a !== items.length) return false;
    for (let p = 0; p < items.length; p++) if (m.indices[a + p] !== items[p] || m.data[a + p] !== values[p]) return false;
    return true;
  }

  /**
   * x·B for the sparse history x (item rows, values), into `out` (length items); `trainedUser` ≥ 0
   * says x is that user's training row.
   */
  private scoreHistory(items: Int32Array, values: Float32Array, out: Float32Array, trainedUser = -1): void {
    const n = this.items;
    if (this.form === 'items') {
      const B = this.B;
      for (let p = 0; p < items.length; p++) {
        const o = items[p] * n;
        const c = values[p];
        for (let j = 0; j < n; j++) out[j] += c * B[o + j];
      }
      return;
    }
    const u = this.users;
    const x = this.train.m;
    const K = this.Kinv;
    // v = X·xᵀ (users), w = K⁻¹·v, z = Xᵀ·w (items)
    const w = new Float64Array(u);
    if (trainedUser >= 0) {
      // x is training row u: X·xᵀ = (K − λI)·e_u, so w = e_u − λ·K⁻¹·e_u (U instead of U² work)
      const lambda = this.config.lambda;
      for (let b = 0; b < u; b++) w[b] = -lambda * K[trainedUser * u + b];
      w[trainedUser] += 1;
    } else this.solveW(items, values, w);
    const z = new Float64Array(n);
    for (let a = 0; a < u; a++) {
      const wa = w[a];
      for (let q = x.indptr[a]; q < x.indptr[a + 1]; q++) z[x.indices[q]] += wa * x.data[q];
    }
    const s = this.scale;
    for (let j = 0; j < n; j++) out[j] = z[j] * s[j];
    for (let p = 0; p < items.length; p++) {
      const j = items[p];
      out[j] = values[p] - (values[p] - z[j]) * s[j];
    }
  }

  /** w = K⁻¹·X·xᵀ for a history x that is not a training row. */
  private solveW(items: Int32Array, values: Float32Array, w: Float64Array): void {
    const u = this.users;
    const xt = this.xt;
    const v = new Float64Array(u);
    for (let p = 0; p < items.length; p++) {
      const j = items[p];
      const c = values[p];
      for (let q = xt.indptr[j]; q < xt.indptr[j + 1]; q++) v[xt.indices[q]] += c * xt.data[q];
    }
    const K = this.Kinv;
    for (let a = 0; a < u; a++) {
      const va = v[a];
      if (va === 0) continue;
      const ra = a * u;
      for (let b = 0; b < u; b++) w[b] += va * K[ra + b];
    }
  }

  protected scoreItem(item: number, out: Float32Array): void {
    if (this.form === 'items') out.set(this.B.subarray(item * this.items, (item + 1) * this.items));
    else this.scoreHistory(Int32Array.of(item), Float32Array.of(1), out);
    out[item] = 0;
  }

  protected scoreUserToUsers(user: number, out: Float32Array): void {
    userCosine(this.train, user, out);
  }

  async save(path: string, meta: { runId: string }): Promise<void> {
    this.checkFitted();
    const model = this.form === 'items' ? [{ name: 'B', data: this.B, shape: [this.items, this.items] }] : [{ name: 'Kinv', data: this.Kinv, shape: [this.users, this.users] }, { name: 'scale', data: this.scale, shape: [this.items] }];
    await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: 'ease', params: { version: VERSION, lambda: this.config.lambda, dropout: this.config.dropout, form: this.form, users: this.users, items: this.items } }, [...model, ...csrArrays('train', this.train.m)]);
  }

  /** Read a model written by `save`; throws `invalid_input` naming a wrong kind or version. */
  static async load(path: string): Promise<EaseRecommender> {
    const a = await readArtifact(path, { kind: KIND, params: { version: VERSION } });
    const meta = a.header.params as { lambda: number; dropout?: number; form: 'items' | 'users'; users: number; items: number };
    const m = new EaseRecommender({ lambda: meta.lambda, form: meta.form, dropout: meta.dropout ?? 0 });
    m.form = meta.form;
    m.items = meta.items;
    m.users = meta.users;
    const train = csrFromArrays(a.arrays, 'train', meta.users, meta.items);
    m.xt = transpose(train);
    m.train = userRows(train, m.xt);
    if (meta.form === 'items') m.B = a.arrays.B as Float32Array;
    else {
      m.Kinv = a.arrays.Kinv as Float32Array;
      m.scale = a.arrays.scale as Float32Array;
    }
    return m;
  }
}

/**
 * A·Aᵀ + λI for a sparse A (rows × cols, `at` its transpose), dense rows × rows in float64.
 * Σ over columns of (entries per column)² multiply-adds.
 */
function gram(a: Csr, at: Csr, lambda: number): Float64Array {
  const n = a.rows;
  const g = new Float64Array(n * n);
  for (let c = 0; c < at.rows; c++) {
    for (let p = at.indptr[c]; p < at.indptr[c + 1]; p++) {
      const r = at.indices[p] * n;
      const v = at.data[p];
      for (let q = at.indptr[c]; q < at.indptr[c + 1]; q++) g[r + at.indices[q]] += v * at.data[q];
    }
  }
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  return g;
}
