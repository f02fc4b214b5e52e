/**
 * Top-k selection, shared by every stage that ranks (recommenders, text neighbours, the bandit's
 * slates, evaluations, the world generator): the k best rows by score, best first, ties to the
 * lower row, so every ranking in deepcut orders equal scores the same way.
 */

/** A ranked list: `items[i]` with `scores[i]`, best first. */
export interface Ranked {
  items: Int32Array;
  scores: Float32Array;
}

/**
 * A bounded heap that keeps the `k` best (row, score) pairs pushed, for callers that compute
 * scores one at a time (no score array): O(log k) per push. The root is the worst kept pair
 * (lowest score, then highest row). A NaN score is a bug upstream and throws.
 *
 *   const top = new TopK(10);
 *   for (let r = 0; r < rows; r++) top.push(r, score(r));
 *   const { items, scores } = top.result();
 */
export class TopK {
  private readonly hs: Float64Array;
  private readonly hi: Int32Array;
  private size = 0;

  constructor(readonly k: number) {
    const cap = Math.max(0, k);
    this.hs = new Float64Array(cap);
    this.hi = new Int32Array(cap);
  }

  push(row: number, s: number): void {
    if (s !== s) throw new Error(`topK: score of row ${row} is NaN`);
    const { hs, hi } = this;
    if (this.size < hs.length) {
      // sift up
      let j = this.size++;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (hs[p] < s || (hs[p] === s && hi[p] > row)) break;
        hs[j] = hs[p];
        hi[j] = hi[p];
        j = p;
      }
      hs[j] = s;
      hi[j] = row;
    } else if (hs.length > 0 && (s > hs[0] || (s === hs[0] && row < hi[0]))) {
      siftDown(hs, hi, this.size, s, row);
    }
  }

  /** The lowest score kept once k pairs are held (a pair scoring below it cannot enter), else −∞. */
  get floor(): number {
    return this.size > 0 && this.size === this.hs.length ? this.hs[0] : -Infinity;
  }

  /** The kept pairs, best first (fewer than k when fewer were pushed). Empties the heap. */
  result(): Ranked {
    const { hs, hi } = this;
    const size = this.size;
    const items = new Int32Array(size);
    const out = new Float32Array(size);
    // pop worst-first into the back of the output
    for (let m = size; m > 0; m--) {
      items[m - 1] = hi[0];
      out[m - 1] = hs[0];
      if (m > 1) siftDown(hs, hi, m - 1, hs[m - 1], hi[m - 1]);
    }
    this.size = 0;
    return { items, scores: out };
  }
}

/**
 * The `k` best entries of `scores` (highest first), skipping rows where `exclude[i] !== 0`; with
 * `candidates`, only those rows are considered. Ties go to the lower row, so results are
 * deterministic. O(n log k). Returns fewer than `k` entries when fewer rows remain. −∞ is a
 * score like any other (mask rows out with `exclude`); a NaN score is a bug upstream and throws.
 *
 * Example: `topK(Float32Array.of(0.1, 0.9, 0.5), 2)` → items [1, 2], scores [0.9, 0.5].
 */
export function topK(scores: ArrayLike<number>, k: number, exclude?: Uint8Array, candidates?: Int32Array): Ranked {
  const n = candidates ? candidates.length : scores.length;
  const top = new TopK(Math.min(k, n));
  for (let c = 0; c < n; c++) {
    const i = candidates ? candidates[c] : c;
    if (exclude !== undefined && exclude[i] !== 0) continue;
    top.push(i, scores[i]);
  }
  return top.result();
}

/** Put (s, i) at the root of a heap of `size` and sift it down. */
function siftDown(hs: Float64Array, hi: Int32Array, size: number, s: number, i: number): void {
  let j = 0;
  for (;;) {
    const l = 2 * j + 1;
    if (l >= size) break;
    let c = l;
    const r = l + 1;
    if (r < size && (hs[r] < hs[l] || (hs[r] === hs[l] && hi[r] > hi[l]))) c = r;
    if (s < hs[c] || (s === hs[c] && i > hi[c])) break;
    hs[j] = hs[c];
    hi[j] = hi[c];
    j = c;
  }
  hs[j] = s;
  hi[j] = i;
}
