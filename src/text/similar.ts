/**
 * Exact nearest neighbours by cosine over unit-length rows (LSA embeddings): a full scan with a
 * bounded min-heap, O(rows·dim + rows·log k) per query. Small catalogs and tests use it directly;
 * large ones go through the ANN index.
 */
import type { Ranked } from '../cf/recommender.ts';

/**
 * The `k` rows of `vectors` (row-major, `dim` wide, unit length) with the largest dot product with
 * `query`, best first, ties by lower row. Rows in `exclude` are skipped; all-zero rows are skipped
 * (a subject without text has no neighbours and is nobody's neighbour).
 */
export function cosineTopK(vectors: Float32Array, dim: number, query: ArrayLike<number>, k: number, exclude: ReadonlySet<number> = new Set()): Ranked {
  const rows = vectors.length / dim;
  const heapItems = new Int32Array(k);
  const heapScores = new Float64Array(k);
  let size = 0;
  // min-heap on (score, -row): the root is the worst kept candidate
  const worse = (a: number, b: number) => heapScores[a] < heapScores[b] || (heapScores[a] === heapScores[b] && heapItems[a] > heapItems[b]);
  const swap = (a: number, b: number) => {
    const i = heapItems[a];
    heapItems[a] = heapItems[b];
    heapItems[b] = i;
    const s = heapScores[a];
    heapScores[a] = heapScores[b];
    heapScores[b] = s;
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(l, m)) m = l;
      if (r < size && worse(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  if (k > 0) {
    for (let row = 0; row < rows; row++) {
      if (exclude.has(row)) continue;
      const o = row * dim;
      let dot = 0;
      let norm = 0;
      for (let j = 0; j < dim; j++) {
        const x = vectors[o + j];
        dot += x * query[j];
        norm += x * x;
      }
      if (norm === 0) continue;
      if (size < k) {
        heapItems[size] = row;
        heapScores[size] = dot;
        let i = size++;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (!worse(i, p)) break;
          swap(i, p);
          i = p;
        }
      } else if (dot > heapScores[0]) {
        heapItems[0] = row;
        heapScores[0] = dot;
        down(0);
      }
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => heapScores[b] - heapScores[a] || heapItems[a] - heapItems[b]);
  return { items: Int32Array.from(order, (i) => heapItems[i]), scores: Float32Array.from(order, (i) => heapScores[i]) };
}

/** Neighbours of row `row` of `vectors` itself (the row excluded). */
export function similarRows(vectors: Float32Array, dim: number, row: number, k: number): Ranked {
  return cosineTopK(vectors, dim, vectors.subarray(row * dim, row * dim + dim), k, new Set([row]));
}
