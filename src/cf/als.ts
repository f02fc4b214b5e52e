/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008) with the conjugate-gradient solver of Takács,
 * Pilászy & Tikk 2011 — the algorithm of implicit's `least_squares_cg`: factors initialised
 * uniform in [0, 0.01) from a seeded generator, users then items each iteration, YᵀY + λI computed
 * once per half-step, every row warm-started from its previous value and refined by `cgSteps` CG
 * steps. `solver: 'cholesky'` solves every row exactly (eq. 4) and is the check on CG.
 *
 * Confidence convention (as implicit): the matrix holds c_ui; preference p_ui = 1 where c > 0,
 * and a negative value is negative evidence (p = 0 with confidence |c|); absent entries have
 * p = 0, c = 1. Build c with `signals/confidence.ts` (c = 1 + α·w or 1 + α·log(1 + w/ε)).
 *
 * Kernels: with factors a multiple of 4 and build/wasm/als.wasm present, training and batch
 * scoring run as WASM SIMD kernels on a shared memory over `threads` threads (kernels/als.as.ts,
 * workers/pool.ts); otherwise the plain-TypeScript twins (kernels/als.ts) on one thread. Both give
 * results independent of the thread count for a given seed.
 */
import { DeepcutError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { transpose, type Csr } from '../signals/index.ts';
import type { FitOptions, FoldIn, Factorized, Ranked, Recommender, RecommendOptions } from './recommender.ts';
import { cgTs, exactTs, gramTs, lossTs, regularized, solveRowExact } from './kernels/als.ts';
import { choleskySolveInPlace } from '../core/linalg.ts';
import { Arena, instantiate, wasmAvailable, type AlsKernels } from './kernels/wasm.ts';
import { Scorer } from './kernels/scorer.ts';
import { KernelPool } from './workers/pool.ts';
import { readArtifact, writeArtifact, type Expect } from './artifact.ts';
import { checkFitInput, checkHistory, checkK, checkRow, excludeMask, rowNorms, topK } from './base.ts';

export interface AlsOptions {
  factors?: number;
  regularization?: number;
  iterations?: number;
  /** CG steps per row and half-step (implicit: 3). */
  cgSteps?: number;
  solver?: 'cg' | 'cholesky';
  seed?: number;
  /** Threads for training and batch scoring, counting the calling thread. */
  threads?: number;
  /** 'auto' (WASM when possible), 'wasm' (fail when not possible) or 'ts'. */
  kernels?: 'auto' | 'wasm' | 'ts';
  /**
   * Compute the training loss each iteration for `onIteration` (costs about one CG step). Default
   * true; a fit nobody listens to never computes it (its factors are checked for NaN/∞ at the end).
   */
  computeLoss?: boolean;
}

type Resolved = Required<AlsOptions>;

/** Rows per chunk handed to a thread in a CG half-step. */
const CG_CHUNK = 128;
/** Fixed number of partial Gram slots: the reduction order never depends on the thread count. */
const GRAM_SLOTS = 16;

export class AlternatingLeastSquares implements Recommender, FoldIn, Factorized {
  readonly name: string;
  readonly factors: number;
  readonly opts: Resolved;
  private X: Float32Array = new Float32Array(0); // capacity ≥ users·f
  private Y: Float32Array = new Float32Array(0);
  private users = 0;
  private items = 0;
  private A0: Float64Array | undefined; // YᵀY + λI for fold-in, cached
  private itemNorms: Float32Array | undefined;
  private fold: { k: AlsKernels; a: Arena; p: Record<string, number>; cap: number } | undefined; // WASM fold-in state
  private scorer: Scorer | undefined; // WASM single-query scoring state (packed item tiles)
  private userNorms: Float32Array | undefined;

  constructor(o: AlsOptions = {}) {
    this.opts = {
      factors: o.factors ?? 64,
      regularization: o.regularization ?? 0.05,
      iterations: o.iterations ?? 15,
      cgSteps: o.cgSteps ?? 3,
      solver: o.solver ?? 'cg',
      seed: o.seed ?? 42,
      threads: o.threads ?? 2,
      kernels: o.kernels ?? 'auto',
      computeLoss: o.computeLoss ?? true,
    };
    this.factors = this.opts.factors;
    this.name = `als-${this.opts.solver}`;
    if (!(this.factors >= 1) || !Number.isInteger(this.factors)) throw new DeepcutError('invalid_input', `factors must be a positive integer, got ${this.factors}`);
    if (!(this.opts.regularization >= 0)) throw new DeepcutError('invalid_input', `regularization must be ≥ 0, got ${this.opts.regularization}`);
  }

  /** Which kernels a fit with these options uses. */
  get backend(): 'wasm' | 'ts' {
    const k = this.opts.kernels;
    const possible = this.opts.solver === 'cg' && this.factors % 4 === 0;
    if (k === 'ts') return 'ts';
    if (k === 'wasm') {
      if (!possible) throw new DeepcutError('invalid_input', `WASM kernels need solver 'cg' and factors a multiple of 4 (got ${this.opts.solver}, ${this.factors})`);
      if (!wasmAvailable()) throw new DeepcutError('unavailable', 'WASM kernels are not built: run npm run build');
      return 'wasm';
    }
    return possible && wasmAvailable() ? 'wasm' : 'ts';
  }

  get userCount(): number {
    return this.users;
  }
  get itemCount(): number {
    return this.items;
  }
  /** Users × factors, row-major (a view; copy before keeping it across a foldIn). */
  userFactors(): Float32Array {
    return this.X.subarray(0, this.users * this.factors);
  }
  /** Items × factors, row-major. */
  itemFactors(): Float32Array {
    return this.Y.subarray(0, this.items * this.factors);
  }

  /**
   * Train on `userItems` (users × items confidences; see the module comment). Reports to
   * `onIteration` the loss (weighted squared error + λ(‖X‖² + ‖Y‖²), divided by Σc + (cells − nnz)
   * as implicit does) and seconds per iteration. Throws DeepcutError('invalid_input') on an empty
   * matrix, a NaN/∞ value, or factors that diverged to NaN/∞.
   */
  async fit(userItems: Csr, fo: FitOptions = {}): Promise<void> {
    checkFitInput(this.name, userItems);
    const f = this.factors;
    const { rows: m, cols: n } = userItems;
    const rng = new Rng(this.opts.seed);
    const X = new Float32Array(m * f);
    const Y = new Float32Array(n * f);
    for (let i = 0; i < X.length; i++) X[i] = rng.next() * 0.01;
    for (let i = 0; i < Y.length; i++) Y[i] = rng.next() * 0.01;
    const itemUsers = transpose(userItems);
    let norm = 0;
    for (let i = 0; i < userItems.data.length; i++) norm += Math.abs(userItems.data[i]);
    norm += m * n - userItems.data.length;
    const trainer = this.backend === 'wasm' ? await WasmTrainer.open(userItems, itemUsers, X, Y, this.opts) : new TsTrainer(userItems, itemUsers, X, Y, this.opts);
    try {
      for (let it = 0; it < this.opts.iterations; it++) {
        const t0 = performance.now();
        await trainer.half('users');
        await trainer.half('items');
        const seconds = (performance.now() - t0) / 1000;
        let loss: number | undefined;
        if (this.opts.computeLoss && fo.onIteration) {
          loss = (await trainer.loss()) / norm;
          if (!Number.isFinite(loss)) throw new DeepcutError('invalid_input', `ALS diverged at iteration ${it + 1}: loss is ${loss}`);
        }
        fo.onIteration?.({ iteration: it + 1, iterations: this.opts.iterations, seconds, loss });
      }
      trainer.read(X, Y);
    } finally {
      await trainer.close();
    }
    for (let i = 0; i < X.length; i++) if (!Number.isFinite(X[i])) throw new DeepcutError('invalid_input', `ALS produced a non-finite user factor (user row ${Math.floor(i / f)})`);
    for (let i = 0; i < Y.length; i++) if (!Number.isFinite(Y[i])) throw new DeepcutError('invalid_input', `ALS produced a non-finite item factor (item row ${Math.floor(i / f)})`);
    this.setFactors(X, m, Y, n);
  }

  private setFactors(X: Float32Array, users: number, Y: Float32Array, items: number): void {
    this.X = X;
    this.Y = Y;
    this.users = users;
    this.items = items;
    this.A0 = undefined;
    this.fold = undefined;
    this.scorer = undefined;
    this.itemNorms = undefined;
    this.userNorms = undefined;
  }

  private checkFitted(): void {
    if (this.items === 0) throw new DeepcutError('invalid_input', `${this.name}: model is not fitted`);
  }
  private checkUser(user: number): void {
    this.checkFitted();
    checkRow('user', user, this.users);
  }
  private checkItem(item: number): void {
    checkRow('item', item, this.items);
  }

  /**
   * Top-k items for one user by x·y. Heard items (row `user` of `userItems`, when it has that row)
   * are left out unless filterHeard is false; `candidates` restricts scoring to those rows.
   */
  recommend(user: number, userItems: Csr, k: number, o: RecommendOptions = {}): Ranked {
    this.checkUser(user);
    checkK(k);
    checkHistory(userItems, this.items);
    const f = this.factors;
    const xo = user * f;
    const X = this.X;
    const Y = this.Y;
    const heard = user < userItems.rows ? o : { ...o, filterHeard: false };
    if (!o.candidates && this.useScorer()) {
      const ex: Iterable<number>[] = [];
      if (heard.filterHeard ?? true) ex.push(userItems.indices.subarray(userItems.indptr[user], userItems.indptr[user + 1]));
      if (o.filterItems) ex.push(o.filterItems);
      return this.scorerFor().top(X.subarray(xo, xo + f), k, ex, false);
    }
    const mask = excludeMask(user, userItems, this.items, heard);
    const scores = new Float32Array(this.items);
    const score = (i: number) => {
      let s = 0;
      const yo = i * f;
      for (let d = 0; d < f; d++) s += X[xo + d] * Y[yo + d];
      scores[i] = s;
    };
    if (o.candidates) for (const i of o.candidates) {
      this.checkItem(i);
      score(i);
    }
    else for (let i = 0; i < this.items; i++) if (mask[i] === 0) score(i);
    return topK(scores, k, mask, o.candidates);
  }

  /**
   * Top-k for many users at once with the WASM kernel on `threads` threads (TS when unavailable):
   * returns users.length × k item rows and scores, row-major, −1 / −∞ where fewer than k remain.
   * Heard items (rows of `userItems`) are left out unless filterHeard is false.
   */
  async recommendBatch(users: Int32Array, userItems: Csr, k: number, o: { filterHeard?: boolean } = {}): Promise<{ items: Int32Array; scores: Float32Array }> {
    checkK(k);
    checkHistory(userItems, this.items);
    for (const u of users) this.checkUser(u);
    const f = this.factors;
    const q = users.length;
    const filter = o.filterHeard ?? true;
    // exclusion CSR over the query list
    const exPtr = new Int32Array(q + 1);
    for (let j = 0; j < q; j++) {
      const u = users[j];
      exPtr[j + 1] = exPtr[j] + (filter && u < userItems.rows ? userItems.indptr[u + 1] - userItems.indptr[u] : 0);
    }
    const exIdx = new Int32Array(exPtr[q]);
    for (let j = 0; j < q; j++) if (exPtr[j + 1] > exPtr[j]) exIdx.set(userItems.indices.subarray(userItems.indptr[users[j]], userItems.indptr[users[j] + 1]), exPtr[j]);
    if (f % 4 !== 0 || !wasmAvailable() || this.opts.kernels === 'ts') {
      const items = new Int32Array(q * k).fill(-1);
      const scores = new Float32Array(q * k).fill(-Infinity);
      for (let j = 0; j < q; j++) {
        const r = this.recommend(users[j], userItems, k, { filterHeard: filter });
        items.set(r.items, j * k);
        scores.set(r.scores, j * k);
      }
      return { items, scores };
    }
    const stride = Math.ceil(this.items / 8) * 8;
    const threads = this.opts.threads;
    const a = new Arena();
    const pQ = a.take(q * f * 4), pYt = a.take(f * stride * 4), pY = a.take(this.items * f * 4); // pYt: packed tiles
    const pExP = a.take((q + 1) * 4), pExI = a.take(Math.max(1, exIdx.length) * 4);
    const pOI = a.take(q * k * 4), pOS = a.take(q * k * 4), pS = a.take(threads * 4 * stride * 4);
    a.open();
    const Q = a.f32(pQ, q * f);
    for (let j = 0; j < q; j++) Q.set(this.X.subarray(users[j] * f, users[j] * f + f), j * f);
    a.f32(pY, this.items * f).set(this.itemFactors());
    a.i32(pExP, q + 1).set(exPtr);
    a.i32(pExI, exIdx.length).set(exIdx);
    const pool = await KernelPool.create(threads);
    try {
      await pool.attach(a.memory!);
      await pool.run('packItems', this.items, 4096, [pY, f, pYt]);
      await pool.run('topk', q, 64, [pQ, pYt, this.items, stride, f, k, pExP, pExI, pOI, pOS, pS]);
    } finally {
      await pool.close();
    }
    return { items: a.i32(pOI, q * k).slice(), scores: a.f32(pOS, q * k).slice() };
  }

  private cosine(M: Float32Array, count: number, norms: Float32Array, row: number, k: number): Ranked {
    const f = this.factors;
    const o = row * f;
    const scores = new Float32Array(count);
    const nr = norms[row];
    for (let j = 0; j < count; j++) {
      let s = 0;
      const jo = j * f;
      for (let d = 0; d < f; d++) s += M[o + d] * M[jo + d];
      const den = nr * norms[j];
      scores[j] = den > 0 ? s / den : 0;
    }
    const mask = new Uint8Array(count);
    mask[row] = 1;
    return topK(scores, k, mask);
  }

  /** Items most similar to `item` by cosine of item factors (itself excluded). */
  similarItems(item: number, k: number): Ranked {
    this.checkFitted();
    checkK(k);
    this.checkItem(item);
    if (this.useScorer()) return this.scorerFor().top(this.Y.subarray(item * this.factors, (item + 1) * this.factors), k, [[item]], true);
    this.itemNorms ??= rowNorms(this.Y, this.items, this.factors);
    return this.cosine(this.Y, this.items, this.itemNorms, item, k);
  }

  /** Users most similar to `user` by cosine of user factors (itself excluded). */
  similarUsers(user: number, k: number): Ranked {
    this.checkUser(user);
    checkK(k);
    this.userNorms ??= rowNorms(this.X, this.users, this.factors);
    return this.cosine(this.X, this.users, this.userNorms, user, k);
  }

  /**
   * Recompute user `user`'s vector exactly from `items` (item rows) and their `confidence`s against
   * the fixed item factors: x = (YᵀY + λI + Σ (|c|−1) y yᵀ)⁻¹ Σ_{c>0} c y, YᵀY cached. `user` equal to
   * the user count appends a new user. About 1 M multiply-adds for 500 items at 64 factors.
   */
  foldIn(user: number, items: Int32Array, confidence: Float32Array): void {
    const f = this.factors;
    if (this.items === 0) throw new DeepcutError('invalid_input', 'foldIn on a model that was never fitted or loaded');
    if (!Number.isInteger(user) || user < 0 || user > this.users) throw new DeepcutError('unknown_id', `user row ${user} is outside 0..${this.users} (the next new user is ${this.users})`);
    if (items.length !== confidence.length) throw new DeepcutError('invalid_input', `foldIn: ${items.length} items but ${confidence.length} confidences`);
    for (let q = 0; q < items.length; q++) {
      this.checkItem(items[q]);
      if (!Number.isFinite(confidence[q])) throw new DeepcutError('invalid_input', `foldIn: confidence ${q} (item row ${items[q]}) is ${confidence[q]}`);
    }
    if (this.A0 === undefined) {
      const G = gramTs(this.Y, this.items, f);
      for (let j = 0; j < f; j++) G[j * f + j] += this.opts.regularization;
      this.A0 = G;
    }
    if (user === this.users) {
      if (this.X.length < (this.users + 1) * f) {
        const grown = new Float32Array(Math.max(16, Math.ceil((this.users + 1) * 1.5)) * f);
        grown.set(this.X.subarray(0, this.users * f));
        this.X = grown;
      }
      this.users++;
    }
    if (f % 4 === 0 && this.opts.kernels !== 'ts' && wasmAvailable()) this.foldInWasm(items, confidence, user);
    else solveRowExact(items, confidence, 0, items.length, this.Y, this.A0, f, this.X, user * f);
    this.userNorms = undefined;
  }

  /** Single queries go to the SIMD top-k kernel when it is built and the factor count allows. */
  private useScorer(): boolean {
    return this.factors % 4 === 0 && this.opts.kernels !== 'ts' && wasmAvailable();
  }

  private scorerFor(): Scorer {
    this.scorer ??= new Scorer(this.Y, this.items, this.factors);
    return this.scorer;
  }

  /** Fold-in with the system built by the SIMD kernel (Y copied into kernel memory once per model). */
  private foldInWasm(items: Int32Array, confidence: Float32Array, user: number): void {
    const f = this.factors;
    const n = items.length;
    if (!this.fold || this.fold.cap < n) {
      const cap = Math.max(4096, n);
      const a = new Arena();
      const p = { Y: a.take(this.items * f * 4), A: a.take(f * f * 4), b: a.take(f * 4), I: a.take(cap * 4), C: a.take(cap * 4) };
      a.open();
      a.f32(p.Y, this.items * f).set(this.itemFactors());
      this.fold = { k: instantiate(a.memory!), a, p, cap };
    }
    const { k, a, p } = this.fold;
    a.f32(p.A, f * f).set(this.A0!);
    a.f32(p.b, f).fill(0);
    a.i32(p.I, n).set(items);
    a.f32(p.C, n).set(confidence);
    k.foldIn(0, n, 0, p.I, p.C, p.Y, f, p.A, p.b);
    const A = Float64Array.from(a.f32(p.A, f * f));
    const b = Float64Array.from(a.f32(p.b, f));
    choleskySolveInPlace(A, f, b);
    for (let d = 0; d < f; d++) this.X[user * f + d] = b[d];
  }

  /** Write users × factors and items × factors with their shape, λ, solver and run id (see artifact.ts). */
  async save(path: string, meta: { runId: string }): Promise<void> {
    const f = this.factors;
    await writeArtifact(
      path,
      { kind: 'als', runId: meta.runId, metric: 'inner_product', params: { factors: f, regularization: this.opts.regularization, solver: this.opts.solver, iterations: this.opts.iterations, cgSteps: this.opts.cgSteps, seed: this.opts.seed, dtype: 'f32' } },
      [
        { name: 'user_factors', data: this.userFactors(), shape: [this.users, f] },
        { name: 'item_factors', data: this.itemFactors(), shape: [this.items, f] },
      ],
    );
  }

  /**
   * Load a model written by {@link save}. `expect` may pin users, items, factors and the run id;
   * any mismatch (or a corrupt file) is a DeepcutError naming it.
   */
  static async load(path: string, expect: { users?: number; items?: number; factors?: number; runId?: string } = {}, o: AlsOptions = {}): Promise<AlternatingLeastSquares> {
    const e: Expect = { kind: 'als', metric: 'inner_product', runId: expect.runId, shapes: { user_factors: [expect.users ?? -1, expect.factors ?? -1], item_factors: [expect.items ?? -1, expect.factors ?? -1] } };
    const { header, arrays } = await readArtifact(path, e);
    const X = arrays.user_factors as Float32Array;
    const Y = arrays.item_factors as Float32Array;
    const [users, f] = header.arrays.find((a) => a.name === 'user_factors')!.shape;
    const [items, f2] = header.arrays.find((a) => a.name === 'item_factors')!.shape;
    if (f !== f2) throw new DeepcutError('invalid_input', `${path}: user factors are ${f} wide but item factors ${f2}`);
    const p = header.params;
    const model = new AlternatingLeastSquares({ ...o, factors: f, regularization: Number(p.regularization), solver: p.solver === 'cholesky' ? 'cholesky' : 'cg', iterations: Number(p.iterations), cgSteps: Number(p.cgSteps), seed: Number(p.seed) });
    model.setFactors(X, users, Y, items);
    return model;
  }
}


interface Trainer {
  half(which: 'users' | 'items'): Promise<void>;
  /** Unnormalized loss: Σ weighted squared error + λ(‖X‖² + ‖Y‖²). */
  loss(): Promise<number>;
  read(X: Float32Array, Y: Float32Array): void;
  close(): Promise<void>;
}

function sq(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

class TsTrainer implements Trainer {
  constructor(
    private ui: Csr,
    private iu: Csr,
    private X: Float32Array,
    private Y: Float32Array,
    private o: Resolved,
  ) {}
  async half(which: 'users' | 'items'): Promise<void> {
    const f = this.o.factors;
    const [m, X, Y] = which === 'users' ? [this.ui, this.X, this.Y] : [this.iu, this.Y, this.X];
    const A0 = regularized(gramTs(Y, m.cols, f), f, this.o.regularization);
    if (this.o.solver === 'cg') cgTs(0, m.rows, m.indptr, m.indices, m.data, X, Y, A0, f, this.o.cgSteps);
    else exactTs(0, m.rows, m.indptr, m.indices, m.data, X, Y, A0, f);
  }
  async loss(): Promise<number> {
    const f = this.o.factors;
    const G = gramTs(this.Y, this.ui.cols, f);
    return lossTs(0, this.ui.rows, this.ui.indptr, this.ui.indices, this.ui.data, this.X, this.Y, G, f) + this.o.regularization * (sq(this.X) + sq(this.Y));
  }
  read(): void {}
  async close(): Promise<void> {}
}

/** Training state in one shared memory; half-steps run as WASM kernels on a worker pool. */
class WasmTrainer implements Trainer {
  private constructor(
    private a: Arena,
    private pool: KernelPool,
    private p: Record<string, number>,
    private dims: { m: number; n: number; f: number },
    private o: Resolved,
  ) {}

  static async open(ui: Csr, iu: Csr, X: Float32Array, Y: Float32Array, o: Resolved): Promise<WasmTrainer> {
    const f = o.factors;
    const a = new Arena();
    const nnz = ui.indices.length;
    const m = ui.rows;
    const n = ui.cols;
    const p: Record<string, number> = {
      uiP: a.take((m + 1) * 4), uiI: a.take(nnz * 4), uiD: a.take(nnz * 4),
      iuP: a.take((n + 1) * 4), iuI: a.take(nnz * 4), iuD: a.take(nnz * 4),
      X: a.take(m * f * 4), Y: a.take(n * f * 4),
      G: a.take(GRAM_SLOTS * f * f * 4), A: a.take(f * f * 4),
      loss: a.take(m * 8), scratch: a.take(o.threads * 3 * f * 4),
    };
    a.open();
    a.i32(p.uiP, m + 1).set(ui.indptr);
    a.i32(p.uiI, nnz).set(ui.indices);
    a.f32(p.uiD, nnz).set(ui.data);
    a.i32(p.iuP, n + 1).set(iu.indptr);
    a.i32(p.iuI, nnz).set(iu.indices);
    a.f32(p.iuD, nnz).set(iu.data);
    a.f32(p.X, m * f).set(X);
    a.f32(p.Y, n * f).set(Y);
    const pool = await KernelPool.create(o.threads);
    await pool.attach(a.memory!);
    return new WasmTrainer(a, pool, p, { m, n, f }, o);
  }

  /** YᵀY of `rows` rows at `Yp` into the f×f f32 matrix at p.A, plus `reg` on the diagonal. */
  private async gram(Yp: number, rows: number, reg: number): Promise<void> {
    const f = this.dims.f;
    const chunk = Math.max(4, Math.ceil(rows / GRAM_SLOTS / 4) * 4);
    const slots = Math.ceil(rows / chunk);
    await this.pool.run('gram', rows, chunk, [Yp, f, this.p.G, chunk]);
    const parts = this.a.f32(this.p.G, slots * f * f);
    const A = this.a.f32(this.p.A, f * f);
    for (let i = 0; i < f * f; i++) {
      let s = 0;
      for (let t = 0; t < slots; t++) s += parts[t * f * f + i];
      A[i] = s;
    }
    for (let j = 0; j < f; j++) A[j * f + j] += reg;
  }

  async half(which: 'users' | 'items'): Promise<void> {
    const { m, n, f } = this.dims;
    const p = this.p;
    const [rows, cols, P, I, D, X, Y] = which === 'users' ? [m, n, p.uiP, p.uiI, p.uiD, p.X, p.Y] : [n, m, p.iuP, p.iuI, p.iuD, p.Y, p.X];
    await this.gram(Y, cols, this.o.regularization);
    await this.pool.run('cg', rows, CG_CHUNK, [P, I, D, X, Y, p.A, f, this.o.cgSteps, p.scratch]);
  }

  async loss(): Promise<number> {
    const { m, n, f } = this.dims;
    const p = this.p;
    await this.gram(p.Y, n, 0);
    await this.pool.run('loss', m, CG_CHUNK, [p.uiP, p.uiI, p.uiD, p.X, p.Y, p.A, f, p.loss, p.scratch]);
    const terms = this.a.f64(p.loss, m);
    let s = 0;
    for (let u = 0; u < m; u++) s += terms[u];
    return s + this.o.regularization * (sq(this.a.f32(p.X, m * f)) + sq(this.a.f32(p.Y, n * f)));
  }

  read(X: Float32Array, Y: Float32Array): void {
    X.set(this.a.f32(this.p.X, X.length));
    Y.set(this.a.f32(this.p.Y, Y.length));
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
