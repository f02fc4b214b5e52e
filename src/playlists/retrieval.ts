/**
 * Candidate retrieval for the playlist makers: the top rows by inner product through an inverted
 * file index (src/index, ball bounds, no cap: exact up to float rounding), so a listener's
 * candidates cost a few lists of the index, never a scan of every track or artist. The sources
 * (CF, text, audio) and the Daily Mixes' nearest tracks all search through one {@link RowSearch}.
 */
import { IvfIndex } from '../index/index.ts';
import type { Ranked } from '../cf/index.ts';

/** Exact top-k by inner product over a set of rows. */
export interface RowSearch {
  /** Rows searched. */
  readonly size: number;
  /** The `k` rows with the largest q·x, best first (ties: lower row), none of `exclude` (rows of the source matrix). */
  top(q: Float32Array, k: number, exclude?: Iterable<number>): Ranked;
}

/** Fewer rows than this are scanned (an index would cost more than it saves). */
const SCAN_BELOW = 512;

/**
 * Top-k search over the rows `rows` (default all) of `data` (n × dim, row-major); answers name
 * rows of `data`. Built once per run; searches allocate only their answer.
 * @example const s = rowSearch(model.itemFactors(), 64); s.top(userVector, 240, heardRows)
 */
export function rowSearch(data: Float32Array, dim: number, rows?: ArrayLike<number>, seed = 42): RowSearch {
  const n = rows ? rows.length : data.length / dim;
  const pick = rows ? Int32Array.from(rows) : undefined;
  const local = pick ? new Map(Array.from(pick, (r, i) => [r, i])) : undefined;
  const x = pick ? gather(data, dim, pick) : data;
  const toLocal = (ex: Iterable<number> | undefined): number[] => {
    const out: number[] = [];
    if (!ex) return out;
    for (const r of ex) {
      const i = local ? local.get(r) : r;
      if (i !== undefined && i >= 0 && i < n) out.push(i);
    }
    return out;
  };
  const back = (r: Ranked): Ranked => (pick ? { items: r.items.map((i) => pick[i]), scores: r.scores } : r);
  if (n === 0) return { size: 0, top: () => ({ items: new Int32Array(0), scores: new Float32Array(0) }) };
  if (n < SCAN_BELOW) {
    return {
      size: n,
      top(q, k, exclude) {
        const skip = new Set(toLocal(exclude));
        const os = new Float32Array(Math.min(k, n)).fill(-Infinity);
        const oi = new Int32Array(os.length).fill(-1);
        const kk = os.length;
        for (let r = 0; r < n; r++) {
          if (skip.has(r)) continue;
          let s = 0;
          for (let d = 0; d < dim; d++) s += q[d] * x[r * dim + d];
          const v = Math.fround(s);
          if (kk === 0 || v < os[kk - 1] || (v === os[kk - 1] && oi[kk - 1] >= 0)) continue;
          let j = kk - 1;
          while (j > 0 && os[j - 1] < v) {
            os[j] = os[j - 1];
            oi[j] = oi[j - 1];
            j--;
          }
          os[j] = v;
          oi[j] = r;
        }
        let m = 0;
        while (m < kk && oi[m] >= 0) m++;
        return back({ items: oi.slice(0, m), scores: os.slice(0, m) });
      },
    };
  }
  const index = new IvfIndex(dim, 'ip', { seed, nprobe: 0 });
  index.add(x);
  return { size: n, top: (q, k, exclude) => back(index.search(q, Math.max(1, k), { exclude: toLocal(exclude) })) };
}

function gather(data: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

/**
 * A ranked list read lazily: the first `k` rows are searched when first needed and the search is
 * repeated with twice the depth when a reader goes past them (the prefix stays the same: searches
 * are exact and ties break on the lower row). For sources that skip rows whose tracks are all
 * heard and do not know in advance how deep they will read.
 */
export class LazyRanked {
  private items: Int32Array = new Int32Array(0);
  private scores: Float32Array = new Float32Array(0);
  private depth = 0;
  private done = false;
  constructor(
    private readonly search: RowSearch,
    private readonly q: Float32Array,
    private readonly exclude: number[],
    private readonly first: number,
  ) {}

  /** The i-th row (best first), or undefined past the end. */
  at(i: number): number | undefined {
    while (i >= this.items.length && !this.done) this.deepen();
    return i < this.items.length ? this.items[i] : undefined;
  }

  score(i: number): number {
    return this.scores[i];
  }

  private deepen(): void {
    this.depth = this.depth ? this.depth * 2 : Math.max(1, this.first);
    const r = this.search.top(this.q, this.depth, this.exclude);
    this.items = r.items;
    this.scores = r.scores;
    if (r.items.length < this.depth || this.depth >= this.search.size) this.done = true;
  }
}
