/**
 * Compressed sparse rows: the user × item confidence matrix every recommender trains on.
 * Row r's entries are `indices[indptr[r] .. indptr[r+1])` with values `data[...]`, column indices
 * sorted ascending within a row, no duplicates.
 */
export interface Csr {
  rows: number;
  cols: number;
  indptr: Int32Array; // length rows + 1
  indices: Int32Array; // length nnz
  data: Float32Array; // length nnz
}

/** Build a CSR matrix from coordinate triples, summing duplicates. O(nnz) time, two passes. */
export function csrFromCoo(rows: number, cols: number, r: Int32Array, c: Int32Array, v: Float32Array | Float64Array): Csr {
  const n = r.length;
  const counts = new Int32Array(rows + 1);
  for (let i = 0; i < n; i++) {
    const ri = r[i];
    if (ri < 0 || ri >= rows || c[i] < 0 || c[i] >= cols) throw new RangeError(`entry ${i} (${ri}, ${c[i]}) outside ${rows}×${cols}`);
    counts[ri + 1]++;
  }
  for (let i = 0; i < rows; i++) counts[i + 1] += counts[i];
  const pos = counts.slice(0, rows);
  const idx = new Int32Array(n);
  const val = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = pos[r[i]]++;
    idx[p] = c[i];
    val[p] = v[i];
  }
  // sort each row by column and merge duplicates
  const indptr = new Int32Array(rows + 1);
  let w = 0;
  const order: number[] = [];
  for (let row = 0; row < rows; row++) {
    const a = counts[row];
    const b = counts[row + 1];
    order.length = 0;
    for (let p = a; p < b; p++) order.push(p);
    order.sort((x, y) => idx[x] - idx[y]);
    let last = -1;
    const start = w;
    const outIdx: number[] = [];
    const outVal: number[] = [];
    for (const p of order) {
      if (idx[p] === last) outVal[outVal.length - 1] += val[p];
      else {
        outIdx.push(idx[p]);
        outVal.push(val[p]);
        last = idx[p];
      }
    }
    for (let k = 0; k < outIdx.length; k++) {
      idx[start + k] = outIdx[k];
      val[start + k] = outVal[k];
    }
    w = start + outIdx.length;
    indptr[row + 1] = w;
  }
  return { rows, cols, indptr, indices: idx.slice(0, w), data: val.slice(0, w) };
}

/** The transpose (item × user), in O(nnz). */
export function transpose(m: Csr): Csr {
  const nnz = m.indices.length;
  const indptr = new Int32Array(m.cols + 1);
  for (let i = 0; i < nnz; i++) indptr[m.indices[i] + 1]++;
  for (let i = 0; i < m.cols; i++) indptr[i + 1] += indptr[i];
  const pos = indptr.slice(0, m.cols);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      const q = pos[m.indices[p]]++;
      indices[q] = r;
      data[q] = m.data[p];
    }
  }
  return { rows: m.cols, cols: m.rows, indptr, indices, data };
}
