/**
 * Item-item nearest neighbours (after implicit's nearest_neighbours module). Each item is a sparse
 * vector over users, weighted by cosine normalization or BM25 (Robertson & Zaragoza 2009, items as
 * documents and users as terms); item similarity is the dot product of weighted vectors, and only
 * the top-`neighbours` per item are kept (plus the item itself). A user's score for item j is
 * Σ_i c_ui · S[i, j] over the items i they heard.
 */
import type { Csr } from '../signals/index.ts';
import { transpose } from '../signals/index.ts';
import { csrArrays, csrFromArrays, ScoringRecommender, topK, userCosine, userRows, type UserRows } from './base.ts';
import { readArtifact, writeArtifact } from './artifact.ts';
import { DeepcutError } from '../errors.ts';
import { Arena, wasmAvailable } from './kernels/wasm.ts';
import { KernelPool } from './workers/pool.ts';

const KIND = 'itemknn';
const VERSION = 1;

export interface ItemKnnConfig {
  weighting: 'cosine' | 'bm25';
  /** Neighbours kept per item (implicit's K); default 20. */
  neighbours?: number;
  /** BM25 term saturation (default 1.2). */
  k1?: number;
  /** BM25 length normalization, 0..1 (default 0.75). */
  b?: number;
  /**
   * Threads of the neighbour search (default 1): the WASM kernel on a pool of that many threads
   * ({@link allPairsKnnThreads}) for matrices of 500,000 pairs or more, the calling thread below. Not
   * a model parameter: every count gives the same bytes, and it is not saved.
   */
  threads?: number;
}

/** Cosine weighting: every item row scaled to unit L2 norm. In place on a copy of `data`. */
export function cosineWeight(itemUsers: Csr): Csr {
  const data = itemUsers.data.slice();
  for (let r = 0; r < itemUsers.rows; r++) {
    let s = 0;
    for (let p = itemUsers.indptr[r]; p < itemUsers.indptr[r + 1]; p++) s += data[p] * data[p];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let p = itemUsers.indptr[r]; p < itemUsers.indptr[r + 1]; p++) data[p] *= inv;
  }
  return { ...itemUsers, data };
}

/**
 * BM25 weighting of an item × user matrix: w = x·(K1+1)/(K1·L_i + x) · idf_u with
 * idf_u = ln(N / (1 + df_u)) (N items, df_u items of user u) and L_i = 1 − B + B·len_i/mean(len),
 * len_i the row sum of item i.
 */
export function bm25Weight(itemUsers: Csr, k1: number, b: number): Csr {
  const n = itemUsers.rows;
  const df = new Float64Array(itemUsers.cols);
  for (let p = 0; p < itemUsers.indices.length; p++) df[itemUsers.indices[p]]++;
  const len = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    for (let p = itemUsers.indptr[r]; p < itemUsers.indptr[r + 1]; p++) len[r] += itemUsers.data[p];
    total += len[r];
  }
  const mean = total / n;
  const data = new Float32Array(itemUsers.data.length);
  for (let r = 0; r < n; r++) {
    const norm = 1 - b + (b * len[r]) / mean;
    for (let p = itemUsers.indptr[r]; p < itemUsers.indptr[r + 1]; p++) {
      const x = itemUsers.data[p];
      data[p] = ((x * (k1 + 1)) / (k1 * norm + x)) * Math.log(n / (1 + df[itemUsers.indices[p]]));
    }
  }
  return { ...itemUsers, data };
}

/**
 * Top-`k` neighbours of every row of `w` by dot product (w · wᵀ), self included, as a CSR whose
 * rows list neighbours best first. Cost Σ_u deg(u)² multiply-adds.
 */
export function allPairsKnn(w: Csr, k: number): Csr {
  const wt = transpose(w);
  const acc = new Float32Array(w.rows);
  const seen = new Uint8Array(w.rows);
  const touched = new Int32Array(w.rows);
  const indptr = new Int32Array(w.rows + 1);
  const idx: Int32Array[] = [];
  const val: Float32Array[] = [];
  let nnz = 0;
  for (let i = 0; i < w.rows; i++) {
    let t = 0;
    for (let p = w.indptr[i]; p < w.indptr[i + 1]; p++) {
      const u = w.indices[p];
      const x = w.data[p];
      for (let q = wt.indptr[u]; q < wt.indptr[u + 1]; q++) {
        const j = wt.indices[q];
        if (!seen[j]) {
          seen[j] = 1;
          touched[t++] = j;
        }
        acc[j] += x * wt.data[q];
      }
    }
    const cand = touched.subarray(0, t);
    const best = topK(acc, k, undefined, cand);
    // keep non-zero similarities only
    let m = best.items.length;
    while (m > 0 && best.scores[m - 1] === 0) m--;
    idx.push(best.items.slice(0, m));
    val.push(best.scores.slice(0, m));
    nnz += m;
    indptr[i + 1] = nnz;
    for (let c = 0; c < t; c++) {
      acc[cand[c]] = 0;
      seen[cand[c]] = 0;
    }
  }
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  for (let i = 0; i < w.rows; i++) {
    indices.set(idx[i], indptr[i]);
    data.set(val[i], indptr[i]);
  }
  return { rows: w.rows, cols: w.rows, indptr, indices, data };
}

/**
 * {@link allPairsKnn} on the WASM kernel (kernels/knn.as.ts) over `threads` threads, rows handed out
 * in chunks: the same CSR, byte for byte, for any thread count. Falls back to the TypeScript loop
 * when the kernels are not built or the matrices would not fit one WebAssembly memory (4 GiB).
 */
export async function allPairsKnnThreads(w: Csr, k: number, threads: number): Promise<Csr> {
  if (!wasmAvailable('knn')) return allPairsKnn(w, k);
  const n = w.rows;
  const nnz = w.indices.length;
  const a = new Arena();
  const p = {
    wp: a.take((n + 1) * 4), wi: a.take(nnz * 4), wd: a.take(nnz * 4),
    tp: a.take((w.cols + 1) * 4), ti: a.take(nnz * 4), td: a.take(nnz * 4),
    oi: a.take(n * k * 4), os: a.take(n * k * 4), oc: a.take(n * 4), s: a.take(threads * (((9 * n + 15) >> 4) << 4)),
  };
  if (!a.fits()) return allPairsKnn(w, k);
  a.open();
  const wt = transpose(w);
  a.i32(p.wp, n + 1).set(w.indptr);
  a.i32(p.wi, nnz).set(w.indices);
  a.f32(p.wd, nnz).set(w.data);
  a.i32(p.tp, wt.rows + 1).set(wt.indptr);
  a.i32(p.ti, nnz).set(wt.indices);
  a.f32(p.td, nnz).set(wt.data);
  const pool = await KernelPool.create(threads);
  try {
    await pool.attach(a.memory!, 'knn');
    await pool.run('knnRows', n, 64, [p.wp, p.wi, p.wd, p.tp, p.ti, p.td, n, k, p.oi, p.os, p.oc, p.s]);
  } finally {
    await pool.close();
  }
  const count = a.i32(p.oc, n);
  const indptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) indptr[i + 1] = indptr[i] + count[i];
  const indices = new Int32Array(indptr[n]);
  const data = new Float32Array(indptr[n]);
  const oi = a.i32(p.oi, n * k);
  const os = a.f32(p.os, n * k);
  for (let i = 0; i < n; i++) {
    indices.set(oi.subarray(i * k, i * k + count[i]), indptr[i]);
    data.set(os.subarray(i * k, i * k + count[i]), indptr[i]);
  }
  return { rows: n, cols: n, indptr, indices, data };
}

/** Pairs from which a fit spreads the neighbour search over its threads (~0.5 s of kernel time on one). */
const POOL_MIN_PAIRS = 500_000;

/** Item-kNN over the cosine or BM25 weighting; see the module comment. */
export class ItemKnnRecommender extends ScoringRecommender {
  readonly name: string;
  readonly config: Required<Omit<ItemKnnConfig, 'threads'>>;
  /** items × items, top neighbours per row (self included), best first. */
  private similarity: Csr = { rows: 0, cols: 0, indptr: new Int32Array(1), indices: new Int32Array(0), data: new Float32Array(0) };
  /** Training users × items, kept for user-user cosine. */
  private train: UserRows = userRows(this.similarity, this.similarity);

  /** Threads of the neighbour search (ItemKnnConfig.threads); kept apart from the saved config. */
  private readonly threads: number;

  constructor({ threads = 1, ...config }: ItemKnnConfig) {
    super();
    this.config = { neighbours: 20, k1: 1.2, b: 0.75, ...config };
    this.threads = Math.max(1, Math.floor(threads));
    const { neighbours, k1, b } = this.config;
    if (!Number.isInteger(neighbours) || neighbours <= 0) throw new DeepcutError('config', `itemknn: neighbours must be a positive integer, got ${neighbours}`);
    if (!(k1 > 0) || !(b >= 0 && b <= 1)) throw new DeepcutError('config', `itemknn: BM25 needs k1 > 0 and 0 ≤ b ≤ 1, got k1=${k1}, b=${b}`);
    this.name = `itemknn-${config.weighting}`;
  }

  protected async fitModel(userItems: Csr): Promise<void> {
    const itemUsers = transpose(userItems);
    const w = this.config.weighting === 'bm25' ? bm25Weight(itemUsers, this.config.k1, this.config.b) : cosineWeight(itemUsers);
    // small matrices (well under a second of work) stay on the calling thread: no worker to start and stop
    this.similarity = await allPairsKnnThreads(w, this.config.neighbours + 1, w.indices.length >= POOL_MIN_PAIRS ? this.threads : 1);
    this.setTrain(userItems, itemUsers);
  }

  private setTrain(userItems: Csr, itemUsers: Csr): void {
    this.train = userRows(userItems, itemUsers);
  }

  protected scoreUser(user: number, userItems: Csr, out: Float32Array): void {
    const s = this.similarity;
    for (let p = userItems.indptr[user]; p < userItems.indptr[user + 1]; p++) {
      const i = userItems.indices[p];
      const c = userItems.data[p];
      for (let q = s.indptr[i]; q < s.indptr[i + 1]; q++) out[s.indices[q]] += c * s.data[q];
    }
  }

  protected override similarItemCandidates(item: number): Int32Array {
    return this.similarity.indices.subarray(this.similarity.indptr[item], this.similarity.indptr[item + 1]);
  }

  protected scoreItem(item: number, out: Float32Array): void {
    const s = this.similarity;
    for (let q = s.indptr[item]; q < s.indptr[item + 1]; q++) out[s.indices[q]] = s.data[q];
  }

  /** Cosine between users' raw training rows. */
  protected scoreUserToUsers(user: number, out: Float32Array): void {
    userCosine(this.train, user, out);
  }

  /** The kept neighbours of `item` and their similarities, best first (self included). */
  neighboursOf(item: number): { items: Int32Array; scores: Float32Array } {
    const s = this.similarity;
    return { items: s.indices.subarray(s.indptr[item], s.indptr[item + 1]), scores: s.data.subarray(s.indptr[item], s.indptr[item + 1]) };
  }

  async save(path: string, meta: { runId: string }): Promise<void> {
    this.checkFitted();
    await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: 'dot', params: { version: VERSION, ...this.config, users: this.users, items: this.items } }, [...csrArrays('sim', this.similarity), ...csrArrays('train', this.train.m)]);
  }

  /** Read a model written by `save`; throws `invalid_input` naming a wrong kind or version. */
  static async load(path: string): Promise<ItemKnnRecommender> {
    const a = await readArtifact(path, { kind: KIND, params: { version: VERSION } });
    const meta = a.header.params as unknown as Required<ItemKnnConfig> & { users: number; items: number };
    const m = new ItemKnnRecommender({ weighting: meta.weighting, neighbours: meta.neighbours, k1: meta.k1, b: meta.b });
    m.items = meta.items;
    m.users = meta.users;
    m.similarity = csrFromArrays(a.arrays, 'sim', meta.items, meta.items);
    const train = csrFromArrays(a.arrays, 'train', meta.users, meta.items);
    m.setTrain(train, transpose(train));
    return m;
  }
}

/** Item-kNN with cosine similarity (implicit's CosineRecommender). */
export class CosineRecommender extends ItemKnnRecommender {
  constructor(opts: { neighbours?: number } = {}) {
    super({ weighting: 'cosine', ...opts });
  }
}

/** Item-kNN with BM25-weighted similarity (implicit's BM25Recommender; K1, B). */
export class BM25Recommender extends ItemKnnRecommender {
  constructor(opts: { neighbours?: number; k1?: number; b?: number } = {}) {
    super({ weighting: 'bm25', ...opts });
  }
}
