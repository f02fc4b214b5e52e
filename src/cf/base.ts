/**
 * Behaviour every recommender shares, written once (after implicit's RecommenderBase): argument
 * checks with pinned messages, the heard-item mask, top-k selection (core/topk.ts), and a
 * family base class {@link ScoringRecommender} whose subclasses only say how to score.
 */
import type { Csr } from '../signals/index.ts';
import { transpose } from '../signals/index.ts';
import type { FitOptions, Ranked, Recommender, RecommendOptions } from './recommender.ts';
import { DeepcutError } from '../errors.ts';
import { topK } from '../core/topk.ts';

/** Top-k selection is the shared one (core/topk.ts); re-exported for the recommenders' callers. */
export { topK };

/** Throw `invalid_input` unless `k` is a positive integer. */
export function checkK(k: number): void {
  if (!Number.isInteger(k) || k <= 0) throw new DeepcutError('invalid_input', `k must be a positive integer, got ${k}`);
}

/** Throw `unknown_id` unless `row` is an integer in 0..count-1 (`what` is `user` or `item`). */
export function checkRow(what: 'user' | 'item', row: number, count: number): void {
  if (!Number.isInteger(row) || row < 0 || row >= count) throw new DeepcutError('unknown_id', `${what} row ${row} is outside 0..${count - 1}`);
}

/**
 * Check a training matrix before fitting: non-empty, consistent CSR, every value finite.
 * Throws `invalid_input` naming the first bad entry. O(nnz).
 */
export function checkFitInput(name: string, m: Csr): void {
  const nnz = m.indices.length;
  if (m.rows <= 0 || m.cols <= 0 || nnz === 0) throw new DeepcutError('invalid_input', `${name}: cannot fit on an empty matrix (${m.rows}×${m.cols}, ${nnz} non-zeros)`);
  if (m.indptr.length !== m.rows + 1 || m.indptr[0] !== 0 || m.indptr[m.rows] !== nnz || m.data.length !== nnz)
    throw new DeepcutError('invalid_input', `${name}: malformed CSR (indptr length ${m.indptr.length} for ${m.rows} rows, ends at ${m.indptr[m.rows]}, ${nnz} indices, ${m.data.length} values)`);
  for (let r = 0; r < m.rows; r++) {
    if (m.indptr[r + 1] < m.indptr[r]) throw new DeepcutError('invalid_input', `${name}: malformed CSR (indptr decreases at row ${r})`);
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      const c = m.indices[p];
      if (c < 0 || c >= m.cols) throw new DeepcutError('invalid_input', `${name}: item column ${c} at user row ${r} is outside 0..${m.cols - 1}`);
      const v = m.data[p];
      if (!Number.isFinite(v)) throw new DeepcutError('invalid_input', `${name}: confidence at user row ${r}, item ${c} is ${v}; every value must be finite`);
    }
  }
}

/** Throw `invalid_input` when a history matrix does not have the trained item count as columns. */
export function checkHistory(userItems: Csr, items: number): void {
  if (userItems.cols !== items) throw new DeepcutError('invalid_input', `userItems has ${userItems.cols} item columns but the model was trained on ${items}`);
}

/**
 * A mask over `items` rows: 1 for the user's heard items (unless `filterHeard` is false) and for
 * `filterItems`. Rows outside 0..items-1 in `filterItems` are ignored.
 */
export function excludeMask(user: number, userItems: Csr, items: number, opts: RecommendOptions = {}): Uint8Array {
  const mask = new Uint8Array(items);
  if (opts.filterHeard ?? true) for (let p = userItems.indptr[user]; p < userItems.indptr[user + 1]; p++) mask[userItems.indices[p]] = 1;
  if (opts.filterItems) for (const i of opts.filterItems) if (i >= 0 && i < items) mask[i] = 1;
  return mask;
}

/**
 * Family base: subclasses implement `fitModel`, `scoreUser`, `scoreItem`, `scoreUserToUsers`
 * (dense scores into an output array) and `save`; checks, filtering and top-k live here.
 */
export abstract class ScoringRecommender implements Recommender {
  abstract readonly name: string;
  /** Item count seen by `fit` (0 before). */
  protected items = 0;
  /** User count seen by `fit` (0 before). */
  protected users = 0;

  async fit(userItems: Csr, opts?: FitOptions): Promise<void> {
    checkFitInput(this.name, userItems);
    this.items = userItems.cols;
    this.users = userItems.rows;
    await this.fitModel(userItems, opts);
  }

  recommend(user: number, userItems: Csr, k: number, opts: RecommendOptions = {}): Ranked {
    this.checkFitted();
    checkK(k);
    checkHistory(userItems, this.items);
    checkRow('user', user, userItems.rows);
    const scores = new Float32Array(this.items);
    this.scoreUser(user, userItems, scores);
    return topK(scores, k, excludeMask(user, userItems, this.items, opts), opts.candidates);
  }

  similarItems(item: number, k: number): Ranked {
    this.checkFitted();
    checkK(k);
    checkRow('item', item, this.items);
    const scores = new Float32Array(this.items);
    this.scoreItem(item, scores);
    const mask = new Uint8Array(this.items);
    mask[item] = 1;
    return topK(scores, k, mask, this.similarItemCandidates?.(item));
  }

  similarUsers(user: number, k: number): Ranked {
    this.checkFitted();
    checkK(k);
    checkRow('user', user, this.users);
    const scores = new Float32Array(this.users);
    this.scoreUserToUsers(user, scores);
    const mask = new Uint8Array(this.users);
    mask[user] = 1;
    return topK(scores, k, mask);
  }

  /**
   * Every item's score for `user` given their history row (heard items included, nothing
   * filtered), into `out` (length items): what a blend of models combines.
   */
  scores(user: number, userItems: Csr, out: Float32Array): void {
    this.checkFitted();
    checkHistory(userItems, this.items);
    checkRow('user', user, userItems.rows);
    this.scoreUser(user, userItems, out);
  }

  protected checkFitted(): void {
    if (this.items === 0) throw new DeepcutError('invalid_input', `${this.name}: model is not fitted`);
  }

  protected abstract fitModel(userItems: Csr, opts?: FitOptions): Promise<void>;
  /** Scores of every item for `user` given their history row, into `out` (length items). */
  protected abstract scoreUser(user: number, userItems: Csr, out: Float32Array): void;
  /** Rows that can be similar to `item` at all (sparse models); all items when absent. */
  protected similarItemCandidates?(item: number): Int32Array;
  /** Similarity of every item to `item`, into `out` (length items). */
  protected abstract scoreItem(item: number, out: Float32Array): void;
  /** Similarity of every trained user to `user`, into `out` (length users). */
  protected abstract scoreUserToUsers(user: number, out: Float32Array): void;
  abstract save(path: string, meta: { runId: string }): Promise<void>;
}

/** Sparse row `r` of `m` dotted with dense `v`. */
export function rowDot(m: Csr, r: number, v: Float32Array): number {
  let s = 0;
  for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) s += m.data[p] * v[m.indices[p]];
  return s;
}

/**
 * Euclidean norm of each of the `n` rows of `M` (n × f, row-major), summed in double precision in
 * dimension order; into `out` (a Float64Array keeps the norms unrounded).
 */
export function rowNorms(M: Float32Array, n: number, f: number): Float32Array;
export function rowNorms(M: Float32Array, n: number, f: number, out: Float64Array): Float64Array;
export function rowNorms(M: Float32Array, n: number, f: number, out: Float32Array | Float64Array = new Float32Array(n)): Float32Array | Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < f; d++) s += M[i * f + d] * M[i * f + d];
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** Training rows kept for user-user cosine ({@link userCosine}): the matrix, its transpose, row norms. */
export interface UserRows {
  m: Csr;
  t: Csr;
  norms: Float32Array;
}

/** {@link UserRows} of a users × items matrix (`t` its transpose when the caller has it). */
export function userRows(m: Csr, t: Csr = transpose(m)): UserRows {
  const norms = new Float32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) s += m.data[p] * m.data[p];
    norms[r] = Math.sqrt(s);
  }
  return { m, t, norms };
}

/** Cosine between user `user`'s raw training row and every user's, into `out` (length users). */
export function userCosine(u: UserRows, user: number, out: Float32Array): void {
  const { m, t, norms } = u;
  for (let p = m.indptr[user]; p < m.indptr[user + 1]; p++) {
    const i = m.indices[p];
    const x = m.data[p];
    for (let q = t.indptr[i]; q < t.indptr[i + 1]; q++) out[t.indices[q]] += x * t.data[q];
  }
  const nu = norms[user];
  for (let v = 0; v < out.length; v++) if (out[v] !== 0) out[v] /= nu * norms[v];
}

/** A CSR matrix as three named artifact arrays `<name>Indptr`, `<name>Indices`, `<name>Data`. */
export function csrArrays(name: string, m: Csr): { name: string; data: Int32Array | Float32Array; shape: number[] }[] {
  return [
    { name: `${name}Indptr`, data: m.indptr, shape: [m.indptr.length] },
    { name: `${name}Indices`, data: m.indices, shape: [m.indices.length] },
    { name: `${name}Data`, data: m.data, shape: [m.data.length] },
  ];
}

/** The CSR matrix {@link csrArrays} wrote under `name`, `rows` × `cols`. */
export function csrFromArrays(arrays: Record<string, Int32Array | Float32Array>, name: string, rows: number, cols: number): Csr {
  return { rows, cols, indptr: arrays[`${name}Indptr`] as Int32Array, indices: arrays[`${name}Indices`] as Int32Array, data: arrays[`${name}Data`] as Float32Array };
}
