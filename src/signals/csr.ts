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

/**
 * Build a CSR matrix from coordinate triples, summing duplicates. O(nnz + rows + cols): a stable
 * counting sort by column, then by row, leaves every row sorted by column; duplicates are then
 * adjacent and merged. Throws RangeError on an entry outside `rows × cols`.
 */
export function csrFromCoo(rows: number, cols: number, r: Int32Array, c: Int32Array, v: Float32Array | Float64Array): Csr {
  const n = r.length;
  if (c.length !== n || v.length !== n) throw new RangeError(`coordinate arrays differ in length: ${n}, ${c.length}, ${v.length}`);
  const colStart = new Int32Array(cols + 1);
  for (let i = 0; i < n; i++) {
    const ri = r[i];
    const ci = c[i];
    if (ri < 0 || ri >= rows || ci < 0 || ci >= cols) throw new RangeError(`entry ${i} (${ri}, ${ci}) outside ${rows}×${cols}`);
    colStart[ci + 1]++;
  }
  for (let j = 0; j < cols; j++) colStart[j + 1] += colStart[j];
  // pass 1: order entries by column (stable)
  const byCol = new Int32Array(n);
  for (let i = 0; i < n; i++) byCol[colStart[c[i]]++] = i;
  // pass 2: stable by row, so each row stays sorted by column
  const rowStart = new Int32Array(rows + 1);
  for (let i = 0; i < n; i++) rowStart[r[i] + 1]++;
  for (let k = 0; k < rows; k++) rowStart[k + 1] += rowStart[k];
  const pos = rowStart.slice(0, rows);
  const idx = new Int32Array(n);
  const val = new Float32Array(n);
  const acc = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = byCol[k];
    const p = pos[r[i]]++;
    idx[p] = c[i];
    acc[p] = v[i];
  }
  // merge duplicates (adjacent within a row), summing in float64
  const indptr = new Int32Array(rows + 1);
  let w = 0;
  for (let row = 0; row < rows; row++) {
    const a = rowStart[row];
    const b = rowStart[row + 1];
    let last = -1;
    let sum = 0;
    for (let p = a; p < b; p++) {
      if (idx[p] === last) sum += acc[p];
      else {
        if (last >= 0) val[w - 1] = sum;
        idx[w] = idx[p];
        last = idx[p];
        sum = acc[p];
        w++;
      }
    }
    if (last >= 0) val[w - 1] = sum;
    indptr[row + 1] = w;
  }
  return { rows, cols, indptr, indices: w === n ? idx : idx.slice(0, w), data: w === n ? val : val.slice(0, w) };
}

/** The transpose (item × user), in O(nnz); rows of the result are sorted because rows are visited in order. */
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

/** Entries of row `r` as a [column, value] list (tests, small matrices). */
export function rowEntries(m: Csr, r: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) out.push([m.indices[p], m.data[p]]);
  return out;
}
