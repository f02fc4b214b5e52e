/**
 * A blend of recommenders: each part scores every item for the user, its scores are standardized
 * over the catalog (z = (s − mean) / sd, per user, so families on different scales weigh alike),
 * and the weighted sum ranks. Each part may see its own view of the confidence matrix: `binary`
 * (every positive entry 1, e.g. item-kNN on presence while EASE^R reads decayed confidences) and
 * `alpha` (c = 1 + α·x, ALS's linear confidence, Hu et al. 2008 eq. 6). Weights are chosen on a
 * validation split by the caller (the eval suites, the pipeline's selection).
 *
 * Parts that score a history row (EASE^R, item-kNN: {@link ScoringRecommender}) score any row;
 * a factorized part (ALS) scores by the user's fitted factors, so its rows must be training rows.
 */
import type { Csr } from '../signals/index.ts';
import type { Recommender } from './recommender.ts';
import { isFactorized } from './recommender.ts';
import { csrArrays, csrFromArrays, ScoringRecommender, userCosine, userRows, type UserRows } from './base.ts';
import { readArtifact, writeArtifact } from './artifact.ts';
import { AlternatingLeastSquares } from './als.ts';
import { EaseRecommender } from './ease.ts';
import { ItemKnnRecommender } from './itemknn.ts';
import { DeepcutError } from '../errors.ts';

const KIND = 'blend';
const VERSION = 1;

/** How one part reads the blend's input, and its weight. */
export interface BlendView {
  /** Weight of the part's standardized scores (> 0). */
  weight: number;
  /** Every positive entry as 1 before `alpha` (default false). */
  binary?: boolean;
  /** Confidence c = 1 + α·x (default: x as given). */
  alpha?: number;
}

/** A fitted-or-not part and how it reads the input. */
export interface BlendPart extends BlendView {
  model: Recommender;
}

/** The blend; see the module comment. */
export class BlendRecommender extends ScoringRecommender {
  readonly name: string;
  private train: UserRows = userRows({ rows: 0, cols: 0, indptr: new Int32Array(1), indices: new Int32Array(0), data: new Float32Array(0) });
  /** Each part's view of the training matrix (for factorized parts' users and scoring rows). */
  private views: Csr[] = [];

  constructor(readonly parts: BlendPart[]) {
    super();
    if (parts.length === 0) throw new DeepcutError('config', 'blend: needs at least one part');
    for (const p of parts) {
      if (!(p.weight > 0)) throw new DeepcutError('config', `blend: part ${p.model.name} has weight ${p.weight}; weights must be > 0`);
      if (p.alpha !== undefined && !(p.alpha >= 0)) throw new DeepcutError('config', `blend: part ${p.model.name} has alpha ${p.alpha}; it must be ≥ 0`);
      if (!(p.model instanceof ScoringRecommender) && !isFactorized(p.model)) throw new DeepcutError('config', `blend: part ${p.model.name} neither scores a history row nor has factors`);
    }
    this.name = `blend(${parts.map((p) => `${p.weight}·${p.model.name}${p.binary ? ' binary' : ''}${p.alpha !== undefined ? ` α=${p.alpha}` : ''}`).join(' + ')})`;
  }

  protected async fitModel(userItems: Csr): Promise<void> {
    this.train = userRows(userItems);
    this.views = this.parts.map((p) => viewOf(userItems, p));
    for (let k = 0; k < this.parts.length; k++) await this.parts[k].model.fit(this.views[k]);
  }

  protected scoreUser(user: number, userItems: Csr, out: Float32Array): void {
    const s = new Float32Array(this.items);
    const trained = userItems === this.train.m;
    for (let k = 0; k < this.parts.length; k++) {
      const p = this.parts[k];
      s.fill(0);
      const m = p.model;
      if (m instanceof ScoringRecommender) {
        if (trained) m.scores(user, this.views[k], s);
        else m.scores(0, viewOf(oneRow(userItems, user), p), s);
      }
      else if (isFactorized(m)) {
        if (user >= this.users) throw new DeepcutError('invalid_input', `${this.name}: user row ${user} was not in training (${this.users} users); the factorized part ${m.name} scores training rows only`);
        factorScores(m.userFactors(), m.itemFactors(), m.factors, user, s);
      }
      addStandardized(s, p.weight, out);
    }
  }

  protected scoreItem(item: number, out: Float32Array): void {
    const s = new Float32Array(this.items);
    for (const p of this.parts) {
      const r = p.model.similarItems(item, this.items - 1);
      s.fill(0);
      for (let j = 0; j < r.items.length; j++) if (r.items[j] >= 0) s[r.items[j]] = r.scores[j];
      addStandardized(s, p.weight, out);
    }
    out[item] = 0;
  }

  protected scoreUserToUsers(user: number, out: Float32Array): void {
    userCosine(this.train, user, out);
  }

  /** The views and weights to `path`, each part to `<path>.part<k>.bin` (its own format). */
  async save(path: string, meta: { runId: string }): Promise<void> {
    this.checkFitted();
    const parts = this.parts.map((p, k) => ({ kind: p.model instanceof EaseRecommender ? 'ease' : p.model instanceof ItemKnnRecommender ? 'itemknn' : p.model instanceof AlternatingLeastSquares ? 'als' : '', weight: p.weight, binary: p.binary ?? false, alpha: p.alpha ?? null, file: blendPartPath(path, k) }));
    const bad = parts.findIndex((p) => p.kind === '');
    if (bad >= 0) throw new DeepcutError('invalid_input', `${this.name}: part ${this.parts[bad].model.name} cannot be saved in a blend (EASE^R, item-kNN and ALS can)`);
    for (let k = 0; k < parts.length; k++) await this.parts[k].model.save(parts[k].file, meta);
    await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: 'blend', params: { version: VERSION, users: this.users, items: this.items, parts: JSON.stringify(parts.map(({ file: _f, ...p }) => p)) } }, csrArrays('train', this.train.m));
  }

  /** Read a blend written by {@link save} (its parts from beside it); mismatches are `invalid_input`. */
  static async load(path: string): Promise<BlendRecommender> {
    const a = await readArtifact(path, { kind: KIND, params: { version: VERSION } });
    const meta = a.header.params as { users: number; items: number; parts: string };
    const views = JSON.parse(meta.parts) as { kind: 'ease' | 'itemknn' | 'als'; weight: number; binary: boolean; alpha: number | null }[];
    const parts: BlendPart[] = [];
    for (let k = 0; k < views.length; k++) {
      const p = views[k];
      const file = blendPartPath(path, k);
      const model = p.kind === 'ease' ? await EaseRecommender.load(file) : p.kind === 'itemknn' ? await ItemKnnRecommender.load(file) : await AlternatingLeastSquares.load(file, { users: meta.users, items: meta.items });
      parts.push({ model, weight: p.weight, binary: p.binary, ...(p.alpha !== null ? { alpha: p.alpha } : {}) });
    }
    const m = new BlendRecommender(parts);
    m.items = meta.items;
    m.users = meta.users;
    const train = csrFromArrays(a.arrays, 'train', meta.users, meta.items);
    m.train = userRows(train);
    m.views = parts.map((p) => viewOf(train, p));
    return m;
  }
}

/** Where {@link BlendRecommender.save} puts part k: `x.bin` → `x.part<k>.bin`. */
export const blendPartPath = (path: string, k: number): string => `${path.replace(/\.bin$/, '')}.part${k}.bin`;

/** The matrix as part `v` reads it (the same object when the view changes nothing). */
function viewOf(m: Csr, v: BlendView): Csr {
  if (!v.binary && v.alpha === undefined) return m;
  const a = v.alpha;
  return { ...m, data: m.data.map((x) => {
    const y = v.binary ? (x > 0 ? 1 : 0) : x;
    return a === undefined ? y : 1 + a * y;
  }) };
}

/** Row `r` of `m` as a one-row matrix. */
function oneRow(m: Csr, r: number): Csr {
  const a = m.indptr[r];
  const b = m.indptr[r + 1];
  return { rows: 1, cols: m.cols, indptr: Int32Array.of(0, b - a), indices: m.indices.subarray(a, b), data: m.data.subarray(a, b) };
}

/** User row `u` of X (users × f) times every item row of Y (items × f), into `out`. */
function factorScores(X: Float32Array, Y: Float32Array, f: number, u: number, out: Float32Array): void {
  const x = X.subarray(u * f, (u + 1) * f);
  for (let j = 0; j < out.length; j++) {
    let s = 0;
    const o = j * f;
    for (let c = 0; c < f; c++) s += x[c] * Y[o + c];
    out[j] = s;
  }
}

/** out += w · (s − mean(s)) / sd(s) (sd 0: the scores add nothing). */
function addStandardized(s: Float32Array, w: number, out: Float32Array): void {
  let mean = 0;
  for (let j = 0; j < s.length; j++) mean += s[j];
  mean /= s.length;
  let v = 0;
  for (let j = 0; j < s.length; j++) v += (s[j] - mean) ** 2;
  const sd = Math.sqrt(v / s.length);
  if (!(sd > 0)) return;
  const c = w / sd;
  for (let j = 0; j < s.length; j++) out[j] += c * (s[j] - mean);
}
