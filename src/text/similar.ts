/**
 * Exact nearest neighbours by cosine over unit-length rows (LSA embeddings): a full scan with the
 * shared bounded heap (core/topk.ts), O(rows·dim + rows·log k) per query. Small catalogs and tests use it directly;
 * large ones go through the ANN index.
 */
import { TopK, type Ranked } from '../core/topk.ts';

/**
 * The `k` rows of `vectors` (row-major, `dim` wide, unit length) with the largest dot product with
 * `query`, best first, ties by lower row. Rows in `exclude` are skipped; all-zero rows are skipped
 * (a subject without text has no neighbours and is nobody's neighbour).
 */
export function cosineTopK(vectors: Float32Array, dim: number, query: ArrayLike<number>, k: number, exclude: ReadonlySet<number> = new Set()): Ranked {
  const rows = vectors.length / dim;
  const top = new TopK(k);
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
    if (norm !== 0) top.push(row, dot);
  }
  return top.result();
}

/** Neighbours of row `row` of `vectors` itself (the row excluded). */
export function similarRows(vectors: Float32Array, dim: number, row: number, k: number): Ranked {
  return cosineTopK(vectors, dim, vectors.subarray(row * dim, row * dim + dim), k, new Set([row]));
}
