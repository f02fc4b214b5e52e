/**
 * Inverted-file index with ball bounds, behind {@link VectorIndex}: the fast path for top-k by inner
 * product over ALS item factors.
 *
 * Build: spherical k-means (seeded) splits the rows into `lists`. For `ip` the clustering runs on the
 * MIPS→cosine augmentation of Bachrach et al. 2014 (row x → [x/M, √(1 − ‖x‖²/M²)], M the largest
 * norm), so rows are grouped by direction AND norm; for `cos` on the unit rows. Each list keeps its
 * centre c (the mean of its rows) and radius r = max ‖x − c‖, and its rows contiguous in 8-row
 * SIMD tiles.
 *
 * Search: every x in a list has q·x ≤ q·c + ‖q‖·r (Cauchy–Schwarz), so lists are scored in order of
 * that bound and the search stops as soon as the next bound is below the k-th score found — the
 * answer is then exact (up to float rounding), also with excluded rows. `nprobe` caps the lists
 * scored per query (once k rows are found) for the queries where the bound is loose;
 * {@link IvfIndex.build} picks the smallest cap that reaches a recall target on sample queries and
 * reports recall@10 against exact search on held-out ones. With nprobe 0 every answer is exact. The hot loop is a WASM SIMD kernel (kernels/ivf.as.ts); the TypeScript twin here is the
 * fallback when the kernels are not built.
 *
 * Capped searches (nprobe > 0, k ≤ `rerank`) with the WASM kernels take the quantized path of
 * FAISS's IVF-SQ8 with ScaNN-style re-ordering: each row is kept as int8 codes of its residual from
 * its list's centre (scaled per list and dimension), the centres as int8 codes too; a query scores
 * every centre, visits the nprobe lists of highest q·c + radiusWeight·‖q‖·r, scans their codes
 * with int16 query weights (i32x4.dot_i16x8_s) and re-ranks the best `rerank` candidates in
 * float32, so the scores returned are exact and only membership is approximate. `build` tunes the
 * radius weight with the cap. The codes cost 1 byte per component plus a float32 copy of the rows
 * in list order (5 bytes per component), made on the first capped search or by `quantize()`.
 */
import type { Ranked } from '../cf/index.ts';
import { checkK } from '../cf/index.ts';
import { readArtifact, writeArtifact } from '../cf/index.ts';
import { Arena, wasmAvailable, wasmModule } from '../cf/index.ts';
import { DeepcutError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { ExactIndex } from './exact.ts';
import { normalizedRows } from '../core/linalg.ts';
import { checkVectors, recallAtK, rowNorm, type Metric, type VectorIndex } from './vector-index.ts';

const KIND = 'index-ivf';
const VERSION = 1;

export interface IvfOptions {
  /** Number of lists; default round(2·√n) for the n rows of the first `add`, at most n. */
  lists?: number;
  /** Spherical k-means iterations; default 10. */
  iterations?: number;
  /** k-means trains on at most this many sampled rows per list; default 64. */
  samplePerList?: number;
  /** Most lists scored per query; 0 = until the bound proves the answer exact (default 0; `build` tunes it). */
  nprobe?: number;
  /** Seed of the k-means sample and initial centres; default 42. */
  seed?: number;
  /** `auto` (WASM when built), `wasm` or `ts`; default `auto`. */
  kernels?: 'auto' | 'wasm' | 'ts';
  /**
   * Capped searches (nprobe > 0) with the WASM kernels scan int8 codes of the rows and re-rank this
   * many best approximate candidates exactly (float32); default 20. 0 = capped searches scan float32
   * rows like uncapped ones. Searches for more than `rerank` rows, and uncapped searches, never use the codes.
   */
  rerank?: number;
  /**
   * Capped searches with the codes visit the `nprobe` lists of highest q·c + radiusWeight·‖q‖·r
   * (centre c, radius r); 1 is the ball bound of exact search, smaller favours lists whose centre
   * is close to the query. Default 0.25; {@link IvfIndex.build} tries 0.1, 0.25, 0.5 and 1 unless given
   * (on 1M scaled ALS factors 0.15–0.25 reach recall@10 0.99 with about half the lists of 1).
   */
  radiusWeight?: number;
}

/** Sample queries for {@link IvfIndex.build}: the cap is tuned on the first half, recall reported on the second. */
export interface IvfSample {
  /** q × dims, e.g. user factors; default 400 stored rows, evenly spaced. */
  queries?: Float32Array;
  /** Rows each query must not return (one list per query), as searches will pass `exclude`. */
  exclude?: ArrayLike<number>[];
  /** recall@10 the cap must reach on the tuning half; default 0.99. */
  recallTarget?: number;
}

/** What {@link IvfIndex.build} measured. */
export interface IvfReport {
  /** recall@10 against exact search on the held-out queries, with the chosen nprobe. */
  recall_at_10: number;
  /** Held-out queries measured. */
  queries: number;
  /** Queries the cap was tuned on (disjoint from the held-out ones). */
  tune_queries: number;
  /** The chosen cap (0 = none: every answer exact). */
  nprobe: number;
  /** The radius weight capped searches rank lists with (see {@link IvfOptions.radiusWeight}). */
  radius_weight: number;
  /** Candidates re-ranked exactly after the int8 scan (0: capped searches scan float32). */
  rerank: number;
  recall_target: number;
  /** Share of held-out queries whose search ended on the bound (answer provably exact). */
  exact_share: number;
  mean_lists_scored: number;
  mean_rows_scored: number;
  lists: number;
  build_s: number;
}

/** Options of one {@link IvfIndex.search}. */
export interface IvfSearchOptions {
  /** Rows never returned (e.g. the tracks a user has heard); out-of-range rows are ignored. */
  exclude?: Iterable<number>;
  /** Receives the work done. */
  stats?: SearchStats;
}

/** Per-query work of one search. */
export interface SearchStats {
  lists: number;
  rows: number;
  /** True when the answer may miss rows: `nprobe` ended the search before the bound did, or the int8 codes were scanned. */
  capped: boolean;
}

interface IvfKernels {
  assign(start: number, end: number, P: number, f: number, C: number, nC: number, out: number, scratch: number): void;
  search(q: number, f: number, k: number, nprobe: number, cent: number, radius: number, nlist: number, listTile: number, listSize: number, tiles: number, rows: number, mask: number, outItems: number, outScores: number, scratch: number, scored: number): number;
  searchQ(q: number, f: number, k: number, nprobe: number, rerank: number, radiusWeight: number, centCodes: number, centScale: number, radius: number, nlist: number, listTile: number, listSize: number, listBlock: number, blocks: number, vecs: number, rows: number, mask: number, outItems: number, outScores: number, scratch: number, scored: number): number;
}

/** Kernel memory of one search path: where each array lives, the instance, and the views every search reuses. */
interface Loaded<P extends string> {
  k: IvfKernels;
  p: Record<P, number>;
  v: { q: Float32Array; mask: Uint8Array; oI: Int32Array; oS: Float32Array; scored: Int32Array };
}

/** The searchable layout of the lists (non-empty lists only), rebuilt after every `add`. */
interface Layout {
  /** Lists in the layout. */
  nlist: number;
  /** Vectors per list and first tile of each list. */
  size: Int32Array;
  tile: Int32Array;
  /** Centres (nlist × fp, row-major) and radii, slack included. */
  centre: Float32Array;
  radius: Float32Array;
  /** Row id of each packed slot (tiles × 8; −1 in padding). */
  rows: Int32Array;
  tiles: number;
  maxList: number;
  /** The float32 tiles (every uncapped search). */
  wasm?: Loaded<'q' | 'cent' | 'radius' | 'size' | 'tile' | 'tiles' | 'rows' | 'mask' | 'oI' | 'oS' | 'scratch' | 'scored'>;
  /** The int8 codes and slot-ordered float32 rows of capped searches, made by {@link IvfIndex.quantize}. */
  quant?: Loaded<'q' | 'centCodes' | 'centScale' | 'radius' | 'size' | 'tile' | 'block' | 'blocks' | 'vecs' | 'rows' | 'mask' | 'oI' | 'oS' | 'scratch' | 'scored'>;
}

/** `o` without its undefined fields (so they take the defaults). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `v` (n × f) to n × fp with zero padding. */
function pad(v: Float32Array, f: number, fp: number): Float32Array {
  if (f === fp) return v;
  const n = v.length / f;
  const out = new Float32Array(n * fp);
  for (let i = 0; i < n; i++) out.set(v.subarray(i * f, i * f + f), i * fp);
  return out;
}

/**
 * Write `value` (rounded, clamped to ±127) as component d of vector `slot` in int8 code tiles of
 * width w (kernels/ivf.as.ts searchQ): components d and d+1 side by side in the tile's 16-byte group d >> 1.
 */
function putCode(codes: Int8Array, w: number, slot: number, d: number, value: number): void {
  codes[(slot >> 3) * 8 * w + (d >> 1) * 16 + (slot & 7) * 2 + (d & 1)] = Math.max(-127, Math.min(127, Math.round(value)));
}

/** Rows of `v` (n × w, row-major) interleaved into 8-row tiles (zero padding): row i, column d → (i >> 3)·8w + 8d + (i & 7). */
function packTiles(v: Float32Array, w: number, out: Float32Array, firstTile = 0): void {
  const n = v.length / w;
  for (let i = 0; i < n; i++) {
    const t = (firstTile + (i >> 3)) * 8 * w + (i & 7);
    for (let d = 0; d < w; d++) out[t + 8 * d] = v[i * w + d];
  }
}

export class IvfIndex implements VectorIndex {
  readonly kind = KIND;
  readonly opts: Required<IvfOptions>;
  /** Stored rows (unit length for `cos`): storage, oracle and the TS search. */
  private readonly exact: ExactIndex;
  /** Padded width of stored rows (multiple of 4) and of the clustering space. */
  private readonly fp: number;
  private readonly cd: number;
  /** Clustering centres (lists × cd, unit length) and each row's list. */
  private centres: Float32Array = new Float32Array(0);
  private listOf: Int32Array = new Int32Array(0);
  /** Augmentation norm M for `ip` (largest norm of the first add). */
  private maxNorm = 0;
  private layout: Layout | undefined;
  report: IvfReport | undefined;

  constructor(
    readonly dims: number,
    readonly metric: Metric,
    opts: IvfOptions = {},
  ) {
    this.opts = { lists: 0, iterations: 10, samplePerList: 64, nprobe: 0, seed: 42, kernels: 'auto', rerank: 20, radiusWeight: 0.25, ...definedOnly(opts) };
    this.exact = new ExactIndex(dims, metric);
    this.fp = Math.ceil(dims / 4) * 4;
    this.cd = metric === 'ip' ? Math.ceil((dims + 1) / 4) * 4 : this.fp;
    if (!Number.isInteger(this.opts.nprobe) || this.opts.nprobe < 0) throw new DeepcutError('invalid_input', `nprobe must be a non-negative integer, got ${this.opts.nprobe}`);
    if (!Number.isInteger(this.opts.rerank) || this.opts.rerank < 0) throw new DeepcutError('invalid_input', `rerank must be a non-negative integer, got ${this.opts.rerank}`);
    if (!(this.opts.radiusWeight >= 0 && this.opts.radiusWeight <= 1)) throw new DeepcutError('invalid_input', `radiusWeight must be within [0, 1], got ${this.opts.radiusWeight}`);
    if (this.opts.kernels === 'wasm' && !wasmAvailable('ivf')) throw new DeepcutError('unavailable', 'WASM kernel build/wasm/ivf.wasm is not built: run npm run build');
  }

  get size(): number {
    return this.exact.size;
  }

  /** Lists in use (non-empty), 0 before the first add. */
  get lists(): number {
    return this.layout?.nlist ?? 0;
  }

  /** Which search path runs. */
  get backend(): 'wasm' | 'ts' {
    return this.opts.kernels === 'ts' || !wasmAvailable('ivf') ? 'ts' : 'wasm';
  }

  /** Most lists scored per query (0 = no cap). */
  get nprobe(): number {
    return this.opts.nprobe;
  }
  set nprobe(p: number) {
    if (!Number.isInteger(p) || p < 0) throw new DeepcutError('invalid_input', `nprobe must be a non-negative integer, got ${p}`);
    this.opts.nprobe = p;
  }

  /**
   * Build over `vectors` (n × dims), pick the smallest nprobe whose recall@10 against exact search
   * reaches `sample.recallTarget` (default 0.99) on the first half of `sample.queries`, and report
   * recall@10 on the other half. `sample.exclude[j]` are rows query j must not return (serving's
   * heard tracks), so the cap is tuned for the searches that will really run. Default queries: 400
   * stored rows, evenly spaced. Example, ALS item factors and a sample of users:
   * `const idx = IvfIndex.build(items, 64, 'ip', {}, { queries: users, exclude: heard }); idx.report.recall_at_10`.
   */
  static build(vectors: Float32Array, dims: number, metric: Metric, opts: IvfOptions = {}, sample: IvfSample = {}): IvfIndex {
    const t0 = performance.now();
    const idx = new IvfIndex(dims, metric, opts);
    checkVectors(vectors, dims);
    if (vectors.length === 0) throw new DeepcutError('invalid_input', 'cannot build an index over 0 vectors');
    idx.add(vectors);
    idx.quantize();
    const buildS = (performance.now() - t0) / 1000;
    const target = sample.recallTarget ?? 0.99;
    let q = sample.queries;
    if (!q) {
      const n = idx.size;
      const m = Math.min(400, n);
      q = new Float32Array(m * dims);
      for (let j = 0; j < m; j++) q.set(vectors.subarray(Math.floor((j * n) / m) * dims, Math.floor((j * n) / m) * dims + dims), j * dims);
    }
    checkVectors(q, dims, 'queries');
    const qs = q;
    const nq = qs.length / dims;
    const ex = sample.exclude ?? [];
    if (sample.exclude && ex.length !== nq) throw new DeepcutError('invalid_input', `exclude has ${ex.length} lists for ${nq} queries`);
    // tune on the first half, report on the second (one query: both)
    const half = nq > 1 ? Math.floor(nq / 2) : nq;
    const tune = Array.from({ length: half }, (_, j) => j);
    const held = nq > 1 ? Array.from({ length: nq - half }, (_, j) => half + j) : tune;
    const k = Math.min(10, idx.size);
    const row = (j: number) => qs.subarray(j * dims, j * dims + dims);
    const truthOf = (js: number[]) => js.map((j) => idx.exact.search(row(j), k, { exclude: Array.from(ex[j] ?? []) }));
    const tuneTruth = truthOf(tune);
    const nl = idx.lists;
    const reaches = (p: number) => recallAtK(tune.map((j) => idx.searchWith(row(j), k, p, undefined, ex[j])), tuneTruth, k) >= target;
    // the smallest cap reaching the target (0 = none does): caps growing by half, then the smallest
    // between the last two (recall grows with the cap)
    const smallestCap = (): number => {
      let below = 0;
      for (let p = 1; p < nl; p = p < 4 ? p + 1 : Math.round(p * 1.5)) {
        if (!reaches(p)) {
          below = p;
          continue;
        }
        let hi = p;
        while (hi - below > 1) {
          const mid = (below + hi) >> 1;
          if (reaches(mid)) hi = mid;
          else below = mid;
        }
        return hi;
      }
      return 0;
    };
    // with the codes (k ≤ rerank), the radius weight too: the one needing the fewest lists, then rows
    const coded = idx.layout?.quant !== undefined && k <= idx.opts.rerank && opts.radiusWeight === undefined;
    let best = { cap: 0, weight: idx.opts.radiusWeight, rows: Infinity };
    for (const weight of coded ? [0.1, 0.25, 0.5, 1] : [idx.opts.radiusWeight]) {
      idx.opts.radiusWeight = weight;
      const cap = smallestCap();
      if (cap === 0) continue;
      let rows = 0;
      for (const j of tune) {
        const st: SearchStats = { lists: 0, rows: 0, capped: false };
        idx.searchWith(row(j), k, cap, st, ex[j]);
        rows += st.rows;
      }
      if (best.cap === 0 || cap < best.cap || (cap === best.cap && rows < best.rows)) best = { cap, weight, rows };
    }
    idx.opts.radiusWeight = best.weight;
    idx.opts.nprobe = best.cap;
    const got: Ranked[] = [];
    let lists = 0;
    let rows = 0;
    let exact = 0;
    for (const j of held) {
      const st: SearchStats = { lists: 0, rows: 0, capped: false };
      got.push(idx.searchWith(row(j), k, idx.opts.nprobe, st, ex[j]));
      lists += st.lists;
      rows += st.rows;
      if (!st.capped) exact++;
    }
    const nh = held.length;
    idx.report = {
      recall_at_10: recallAtK(got, truthOf(held), k),
      queries: nh,
      tune_queries: tune.length,
      nprobe: idx.opts.nprobe,
      radius_weight: idx.opts.radiusWeight,
      rerank: idx.layout?.quant ? idx.opts.rerank : 0,
      recall_target: target,
      exact_share: exact / nh,
      mean_lists_scored: lists / nh,
      mean_rows_scored: rows / nh,
      lists: idx.lists,
      build_s: buildS,
    };
    return idx;
  }

  /**
   * Append rows. The first add learns the lists (k-means); later adds join each row to its nearest
   * list (centres and radii are recomputed, so searches stay exact when uncapped) — rebuild for a
   * fresh partition when the data has drifted.
   */
  add(vectors: Float32Array): void {
    checkVectors(vectors, this.dims);
    const n = vectors.length / this.dims;
    if (n === 0) return;
    const first = this.size === 0;
    this.exact.add(vectors);
    const rows = this.exact.vectors().subarray((this.size - n) * this.dims);
    if (first && this.metric === 'ip') for (let r = 0; r < n; r++) this.maxNorm = Math.max(this.maxNorm, rowNorm(rows, r, this.dims));
    const z = this.clusterSpace(rows);
    if (first) {
      const lists = Math.min(n, this.opts.lists > 0 ? this.opts.lists : Math.max(1, Math.round(2 * Math.sqrt(n))));
      this.centres = this.kmeans(z, lists);
    }
    const grown = new Int32Array(this.size);
    grown.set(this.listOf);
    grown.set(this.assign(z, this.centres), this.size - n);
    this.listOf = grown;
    this.relayout();
  }

  /** Rows in the clustering space: augmented unit rows for `ip`, unit rows for `cos`; cd wide. */
  private clusterSpace(rows: Float32Array): Float32Array {
    const f = this.dims;
    const cd = this.cd;
    const n = rows.length / f;
    const z = new Float32Array(n * cd);
    const m = this.maxNorm;
    for (let i = 0; i < n; i++) {
      if (this.metric === 'ip') {
        const norm = rowNorm(rows, i, f);
        const s = m > 0 ? 1 / m : 0;
        for (let d = 0; d < f; d++) z[i * cd + d] = rows[i * f + d] * s;
        // a later row longer than M gets 0 here: it only steers which list it joins
        z[i * cd + f] = m > 0 ? Math.sqrt(Math.max(0, 1 - (norm * norm) / (m * m))) : 1;
      } else z.set(rows.subarray(i * f, i * f + f), i * cd);
    }
    return z;
  }

  /** Spherical k-means (Dhillon & Modha 2001) of `z` (n × cd) into `lists` unit centres, on a seeded sample. */
  private kmeans(z: Float32Array, lists: number): Float32Array {
    const cd = this.cd;
    const n = z.length / cd;
    const rng = new Rng(this.opts.seed);
    const m = Math.min(n, Math.max(lists, this.opts.samplePerList * lists));
    // partial Fisher–Yates: the first m of a seeded shuffle
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(n - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    const sample = new Float32Array(m * cd);
    for (let i = 0; i < m; i++) sample.set(z.subarray(perm[i] * cd, perm[i] * cd + cd), i * cd);
    const c = sample.slice(0, lists * cd);
    const sums = new Float64Array(lists * cd);
    const counts = new Int32Array(lists);
    for (let it = 0; it < this.opts.iterations; it++) {
      const a = this.assign(sample, c);
      sums.fill(0);
      counts.fill(0);
      for (let i = 0; i < m; i++) {
        counts[a[i]]++;
        for (let d = 0; d < cd; d++) sums[a[i] * cd + d] += sample[i * cd + d];
      }
      for (let j = 0; j < lists; j++) {
        let norm = 0;
        for (let d = 0; d < cd; d++) norm += sums[j * cd + d] * sums[j * cd + d];
        if (counts[j] === 0 || norm === 0) {
          // an empty list restarts at a random sample row
          const r = rng.int(m);
          c.set(sample.subarray(r * cd, r * cd + cd), j * cd);
          continue;
        }
        const inv = 1 / Math.sqrt(norm);
        for (let d = 0; d < cd; d++) c[j * cd + d] = sums[j * cd + d] * inv;
      }
    }
    return c;
  }

  /** Index of the centre with the largest inner product for each row of `z` (ties to the lower). */
  private assign(z: Float32Array, centres: Float32Array): Int32Array {
    const cd = this.cd;
    const n = z.length / cd;
    const nc = centres.length / cd;
    if (this.backend === 'ts') {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let best = 0;
        let bs = -Infinity;
        for (let j = 0; j < nc; j++) {
          let s = 0;
          for (let d = 0; d < cd; d++) s += z[i * cd + d] * centres[j * cd + d];
          if (s > bs) {
            bs = s;
            best = j;
          }
        }
        out[i] = best;
      }
      return out;
    }
    const a = new Arena();
    const ctiles = Math.ceil(nc / 8);
    const p = { z: a.take(n * cd * 4), c: a.take(ctiles * 8 * cd * 4), out: a.take(n * 4), s: a.take(ctiles * 8 * 4) };
    const mem = a.open();
    const k = new WebAssembly.Instance(wasmModule('ivf'), { env: { memory: mem } }).exports as unknown as IvfKernels;
    a.f32(p.z, n * cd).set(z);
    packTiles(centres, cd, a.f32(p.c, ctiles * 8 * cd));
    k.assign(0, n, p.z, cd, p.c, nc, p.out, p.s);
    return a.i32(p.out, n).slice();
  }

  /** Rebuild the searchable lists from the rows and their list ids. */
  private relayout(): void {
    const f = this.dims;
    const fp = this.fp;
    const n = this.size;
    const x = this.exact.vectors();
    const nc = this.centres.length / this.cd;
    const count = new Int32Array(nc);
    for (let i = 0; i < n; i++) count[this.listOf[i]]++;
    const used = [...count.keys()].filter((j) => count[j] > 0);
    const nlist = used.length;
    const slot = new Int32Array(nc).fill(-1);
    used.forEach((j, l) => (slot[j] = l));
    const size = new Int32Array(nlist);
    const tile = new Int32Array(nlist);
    let tiles = 0;
    let maxList = 0;
    for (let l = 0; l < nlist; l++) {
      size[l] = count[used[l]];
      tile[l] = tiles;
      tiles += Math.ceil(size[l] / 8);
      maxList = Math.max(maxList, size[l]);
    }
    const rows = new Int32Array(tiles * 8).fill(-1);
    const fill = new Int32Array(nlist);
    for (let i = 0; i < n; i++) {
      const l = slot[this.listOf[i]];
      rows[tile[l] * 8 + fill[l]++] = i;
    }
    // centres (means) and radii in float64; the radius gets a little slack for float32 rounding of scores
    const centre = new Float32Array(nlist * fp);
    const radius = new Float32Array(nlist);
    const c = new Float64Array(f);
    for (let l = 0; l < nlist; l++) {
      c.fill(0);
      const base = tile[l] * 8;
      for (let s = 0; s < size[l]; s++) for (let d = 0; d < f; d++) c[d] += x[rows[base + s] * f + d];
      let cn = 0;
      for (let d = 0; d < f; d++) {
        c[d] /= size[l];
        cn += c[d] * c[d];
        centre[l * fp + d] = c[d];
      }
      let r2 = 0;
      for (let s = 0; s < size[l]; s++) {
        let e = 0;
        for (let d = 0; d < f; d++) e += (x[rows[base + s] * f + d] - c[d]) ** 2;
        r2 = Math.max(r2, e);
      }
      const r = Math.sqrt(r2);
      radius[l] = r + 1e-5 * (Math.sqrt(cn) + r);
    }
    this.layout = { nlist, size, tile, centre, radius, rows, tiles, maxList };
    if (this.backend === 'wasm') this.layout.wasm = this.loadKernel(this.layout);
  }

  /** Copy a layout into kernel memory. */
  private loadKernel(L: Layout): NonNullable<Layout['wasm']> {
    const fp = this.fp;
    const n = this.size;
    const a = new Arena();
    const ctiles = Math.ceil(L.nlist / 8);
    const p = {
      q: a.take(fp * 4),
      cent: a.take(ctiles * 8 * fp * 4),
      radius: a.take(L.nlist * 4),
      size: a.take(L.nlist * 4),
      tile: a.take(L.nlist * 4),
      tiles: a.take(L.tiles * 8 * fp * 4),
      rows: a.take(L.tiles * 8 * 4),
      mask: a.take(n),
      oI: a.take(n * 4),
      oS: a.take(n * 4),
      scratch: a.take((ctiles * 8 + L.nlist + Math.ceil(L.maxList / 8) * 8) * 4),
      scored: a.take(4),
    };
    const mem = a.open();
    const k = new WebAssembly.Instance(wasmModule('ivf'), { env: { memory: mem } }).exports as unknown as IvfKernels;
    packTiles(L.centre, fp, a.f32(p.cent, ctiles * 8 * fp));
    a.f32(p.radius, L.nlist).set(L.radius);
    a.i32(p.size, L.nlist).set(L.size);
    a.i32(p.tile, L.nlist).set(L.tile);
    a.i32(p.rows, L.tiles * 8).set(L.rows);
    const x = pad(this.exact.vectors(), this.dims, fp);
    const t = a.f32(p.tiles, L.tiles * 8 * fp);
    for (let l = 0; l < L.nlist; l++) {
      const block = new Float32Array(L.size[l] * fp);
      for (let s = 0; s < L.size[l]; s++) {
        const r = L.rows[L.tile[l] * 8 + s];
        block.set(x.subarray(r * fp, r * fp + fp), s * fp);
      }
      packTiles(block, fp, t, L.tile[l]);
    }
    const v = { q: a.f32(p.q, fp), mask: new Uint8Array(mem.buffer, p.mask, n), oI: a.i32(p.oI, n), oS: a.f32(p.oS, n), scored: a.i32(p.scored, 1) };
    return { k, p, v };
  }

  /**
   * Make the int8 codes that capped searches scan (WASM kernels and `rerank` > 0; otherwise a no-op):
   * each row's residual from its list's centre, scaled per list and dimension so the largest
   * |residual| is 127, in 8-row tiles; plus every row as float32 in list order for the re-rank.
   * Costs 5 bytes per row component besides the float32 tiles. Runs by itself before the first
   * capped search; `build` runs it as part of the build. Example: `idx.add(v); idx.quantize()`.
   */
  quantize(): void {
    const L = this.layout;
    if (!L || L.quant || this.backend !== 'wasm' || this.opts.rerank === 0) return;
    const f = this.dims;
    const fp = this.fp;
    const n = this.size;
    const R = this.opts.rerank;
    const x = this.exact.vectors();
    const a = new Arena();
    const ctiles = Math.ceil(L.nlist / 8);
    const slots = L.tiles * 8;
    // list l's block: its centre and scales (fp floats each), then its code tiles (8·fp bytes each)
    const block = new Int32Array(L.nlist);
    for (let l = 1; l < L.nlist; l++) block[l] = block[l - 1] + 8 * fp + Math.ceil(L.size[l - 1] / 8) * 8 * fp;
    const blockBytes = L.nlist * 8 * fp + slots * fp;
    const p = {
      q: a.take(fp * 4),
      centCodes: a.take(ctiles * 8 * fp),
      centScale: a.take(fp * 4),
      radius: a.take(ctiles * 8 * 4),
      size: a.take(L.nlist * 4),
      tile: a.take(L.nlist * 4),
      block: a.take(L.nlist * 4),
      blocks: a.take(blockBytes),
      vecs: a.take(slots * fp * 4),
      rows: a.take(slots * 4),
      mask: a.take(n),
      oI: a.take(R * 4),
      oS: a.take(R * 4),
      scratch: a.take((ctiles * 8 + 2 * L.nlist + fp + 3 * R + 16) * 4),
      scored: a.take(4),
    };
    const mem = a.open();
    const k = new WebAssembly.Instance(wasmModule('ivf'), { env: { memory: mem } }).exports as unknown as IvfKernels;
    a.f32(p.radius, L.nlist).set(L.radius);
    a.i32(p.size, L.nlist).set(L.size);
    a.i32(p.tile, L.nlist).set(L.tile);
    a.i32(p.block, L.nlist).set(block);
    a.i32(p.rows, slots).set(L.rows);
    // the centres as codes: one scale per dimension (largest |component| ↦ 127)
    const centCodes = new Int8Array(mem.buffer, p.centCodes, ctiles * 8 * fp);
    const centScale = a.f32(p.centScale, fp);
    for (let l = 0; l < L.nlist; l++) for (let d = 0; d < f; d++) centScale[d] = Math.max(centScale[d], Math.abs(L.centre[l * fp + d]) / 127);
    for (let l = 0; l < L.nlist; l++) for (let d = 0; d < f; d++) if (centScale[d] > 0) putCode(centCodes, fp, l, d, L.centre[l * fp + d] / centScale[d]);
    // the rows as residuals from their centre: one scale per list and dimension
    const vecs = a.f32(p.vecs, slots * fp);
    const hi = new Float64Array(f);
    for (let l = 0; l < L.nlist; l++) {
      const c = L.centre.subarray(l * fp, l * fp + f);
      const first = L.tile[l] * 8;
      hi.fill(0);
      for (let s = 0; s < L.size[l]; s++) {
        const r = L.rows[first + s] * f;
        for (let d = 0; d < f; d++) hi[d] = Math.max(hi[d], Math.abs(x[r + d] - c[d]));
      }
      const head = new Float32Array(mem.buffer, p.blocks + block[l], 2 * fp);
      head.set(c);
      for (let d = 0; d < f; d++) head[fp + d] = hi[d] / 127;
      const codes = new Int8Array(mem.buffer, p.blocks + block[l] + 8 * fp, Math.ceil(L.size[l] / 8) * 8 * fp);
      for (let s = 0; s < L.size[l]; s++) {
        const r = L.rows[first + s] * f;
        vecs.set(x.subarray(r, r + f), (first + s) * fp);
        for (let d = 0; d < f; d++) if (hi[d] > 0) putCode(codes, fp, s, d, ((x[r + d] - c[d]) * 127) / hi[d]);
      }
    }
    const v = { q: a.f32(p.q, fp), mask: new Uint8Array(mem.buffer, p.mask, n), oI: a.i32(p.oI, R), oS: a.f32(p.oS, R), scored: a.i32(p.scored, 1) };
    L.quant = { k, p, v };
  }

  /**
   * The k best rows for `query` (best first), skipping `opts.exclude`; `opts.stats` receives the
   * work done. Example: `idx.search(userVector, 10, { exclude: heardRows })`.
   */
  search(query: Float32Array, k: number, opts: IvfSearchOptions = {}): Ranked {
    checkK(k);
    if (query.length !== this.dims) throw new DeepcutError('invalid_input', `query has ${query.length} dimensions, the index ${this.dims}`);
    checkVectors(query, this.dims, 'query');
    return this.searchWith(query, k, this.opts.nprobe, opts.stats, opts.exclude);
  }

  searchBatch(queries: Float32Array, k: number): Ranked[] {
    checkK(k);
    checkVectors(queries, this.dims, 'queries');
    const f = this.dims;
    const out: Ranked[] = [];
    for (let j = 0; j < queries.length / f; j++) out.push(this.searchWith(queries.subarray(j * f, j * f + f), k, this.opts.nprobe));
    return out;
  }

  private searchWith(query: Float32Array, k: number, nprobe: number, stats?: SearchStats, exclude?: Iterable<number> | ArrayLike<number>): Ranked {
    const L = this.layout;
    if (!L) return { items: new Int32Array(0), scores: new Float32Array(0) };
    const q = this.metric === 'cos' ? normalizedRows(query, this.dims) : query;
    const kk = Math.min(k, this.size);
    const ex: number[] = [];
    if (exclude) for (const r of Array.from(exclude)) if (Number.isInteger(r) && r >= 0 && r < this.size) ex.push(r);
    if (!L.wasm) return this.searchTs(q, kk, nprobe, L, stats, ex);
    if (nprobe > 0 && kk <= this.opts.rerank) this.quantize();
    const quant = nprobe > 0 && kk <= this.opts.rerank ? L.quant : undefined;
    const { p, v } = quant ?? L.wasm;
    v.q.set(q);
    const mask = v.mask;
    for (const r of ex) mask[r] = 1;
    const m0 = ex.length ? p.mask : 0;
    const probed = quant
      ? quant.k.searchQ(p.q, this.fp, kk, nprobe, this.opts.rerank, this.opts.radiusWeight, quant.p.centCodes, quant.p.centScale, p.radius, L.nlist, p.tile, p.size, quant.p.block, quant.p.blocks, quant.p.vecs, p.rows, m0, p.oI, p.oS, p.scratch, p.scored)
      : L.wasm.k.search(p.q, this.fp, kk, nprobe, L.wasm.p.cent, p.radius, L.nlist, p.tile, p.size, L.wasm.p.tiles, p.rows, m0, p.oI, p.oS, p.scratch, p.scored);
    for (const r of ex) mask[r] = 0;
    if (stats) {
      stats.lists = Math.abs(probed);
      stats.rows = v.scored[0];
      stats.capped = probed < 0;
    }
    const oi = v.oI;
    let m = 0;
    while (m < kk && oi[m] >= 0) m++;
    return { items: oi.slice(0, m), scores: v.oS.slice(0, m) };
  }

  /** The TypeScript twin of the `search` kernel (same visiting order and stopping rule). */
  private searchTs(q: Float32Array, k: number, nprobe: number, L: Layout, stats: SearchStats | undefined, exclude: number[]): Ranked {
    const f = this.dims;
    const skip = new Set(exclude);
    const fp = this.fp;
    const x = this.exact.vectors();
    let qn = 0;
    for (let d = 0; d < f; d++) qn += q[d] * q[d];
    qn = Math.sqrt(qn);
    const bound = new Float64Array(L.nlist);
    for (let l = 0; l < L.nlist; l++) {
      let s = 0;
      for (let d = 0; d < f; d++) s += q[d] * L.centre[l * fp + d];
      bound[l] = s + qn * L.radius[l];
    }
    const order = Int32Array.from(bound.keys()).sort((a, b) => bound[b] - bound[a] || a - b);
    const os = new Float32Array(k).fill(-Infinity);
    const oi = new Int32Array(k).fill(-1);
    let lists = 0;
    let rows = 0;
    let capped = false;
    for (const l of order) {
      if (bound[l] < os[k - 1]) break;
      if (nprobe > 0 && lists >= nprobe && oi[k - 1] >= 0) {
        capped = true;
        break;
      }
      lists++;
      rows += L.size[l];
      for (let s = 0; s < L.size[l]; s++) {
        const row = L.rows[L.tile[l] * 8 + s];
        let sc = 0;
        for (let d = 0; d < f; d++) sc += q[d] * x[row * f + d];
        const v = Math.fround(sc);
        if (v < os[k - 1] || (v === os[k - 1] && oi[k - 1] >= 0 && row > oi[k - 1]) || skip.has(row)) continue;
        let j = k - 1;
        while (j > 0 && !(os[j - 1] > v || (os[j - 1] === v && oi[j - 1] < row))) {
          os[j] = os[j - 1];
          oi[j] = oi[j - 1];
          j--;
        }
        os[j] = v;
        oi[j] = row;
      }
    }
    if (stats) Object.assign(stats, { lists, rows, capped });
    let m = 0;
    while (m < k && oi[m] >= 0) m++;
    return { items: oi.slice(0, m), scores: os.slice(0, m) };
  }

  async save(path: string, meta: { runId: string }): Promise<void> {
    const nc = this.centres.length / this.cd;
    const params: Record<string, number | string> = {
      version: VERSION,
      dims: this.dims,
      size: this.size,
      lists: nc,
      nprobe: this.opts.nprobe,
      iterations: this.opts.iterations,
      samplePerList: this.opts.samplePerList,
      seed: this.opts.seed,
      maxNorm: this.maxNorm,
      rerank: this.opts.rerank,
      radiusWeight: this.opts.radiusWeight,
      engine: 'ivf-ball-bound',
      ...(this.report ? { recall_at_10: this.report.recall_at_10, recall_queries: this.report.queries, recall_target: this.report.recall_target } : {}),
    };
    await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: this.metric, params }, [
      { name: 'vectors', data: this.exact.vectors(), shape: [this.size, this.dims] },
      { name: 'list_of', data: this.listOf, shape: [this.size] },
      { name: 'centres', data: this.centres, shape: [nc, this.cd] },
    ]);
  }

  /** Read an index written by `save`; a mismatched kind, version, metric or dims is an error naming it. */
  static async load(path: string, expect: { metric?: Metric; dims?: number } = {}, opts: Pick<IvfOptions, 'kernels' | 'nprobe' | 'rerank' | 'radiusWeight'> = {}): Promise<IvfIndex> {
    const a = await readArtifact(path, { kind: KIND, metric: expect.metric, params: { version: VERSION, ...(expect.dims ? { dims: expect.dims } : {}) } });
    const p = a.header.params;
    const dims = Number(p.dims);
    const idx = new IvfIndex(dims, a.header.metric as Metric, {
      lists: Number(p.lists),
      iterations: Number(p.iterations),
      samplePerList: Number(p.samplePerList),
      seed: Number(p.seed),
      nprobe: opts.nprobe ?? Number(p.nprobe),
      kernels: opts.kernels ?? 'auto',
      // files written before the codes existed have neither: their nprobe was tuned scanning float32 rows
      rerank: opts.rerank ?? (p.rerank === undefined ? 0 : Number(p.rerank)),
      radiusWeight: opts.radiusWeight ?? (p.radiusWeight === undefined ? undefined : Number(p.radiusWeight)),
    });
    const vectors = a.arrays.vectors as Float32Array;
    const listOf = a.arrays.list_of as Int32Array;
    const centres = a.arrays.centres as Float32Array;
    const n = vectors.length / dims;
    if (listOf.length !== n || centres.length !== Number(p.lists) * idx.cd || listOf.some((l) => l < 0 || l >= Number(p.lists)))
      throw new DeepcutError('invalid_input', `${path}: list assignment does not match ${n} rows and ${p.lists} lists`);
    idx.maxNorm = Number(p.maxNorm);
    idx.exact.add(vectors);
    idx.centres = centres;
    idx.listOf = listOf;
    if (n > 0) idx.relayout();
    if (typeof p.recall_at_10 === 'number') idx.report = { recall_at_10: p.recall_at_10, queries: Number(p.recall_queries), recall_target: Number(p.recall_target), tune_queries: 0, nprobe: idx.opts.nprobe, radius_weight: idx.opts.radiusWeight, rerank: idx.opts.rerank, exact_share: NaN, mean_lists_scored: NaN, mean_rows_scored: NaN, lists: idx.lists, build_s: 0 };
    return idx;
  }
}
