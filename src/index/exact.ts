/**
 * Exact (brute-force) search: the oracle for the ANN and the fallback when no graph is built.
 * For `ip` the rows are also kept sorted by norm, and a scan stops as soon as |q|·‖x‖ of the
 * next row cannot beat the current k-th score (Cauchy–Schwarz), which is still exact.
 */
import type { Ranked } from '../cf/index.ts';
import { checkK, topK } from '../cf/index.ts';
import { readArtifact, writeArtifact } from '../cf/index.ts';
import { DeepcutError } from '../errors.ts';
import { normalizedRows } from '../core/linalg.ts';
import { checkVectors, rowNorm, type Metric, type VectorIndex } from './vector-index.ts';

const KIND = 'index-exact';
const VERSION = 1;

export class ExactIndex implements VectorIndex {
  readonly kind = KIND;
  private data: Float32Array;
  private count = 0;
  /** Norm-sorted copy for pruned ip search, rebuilt lazily after `add`. */
  private sorted: { order: Int32Array; norms: Float32Array; rows: Float32Array } | undefined;

  constructor(
    readonly dims: number,
    readonly metric: Metric,
  ) {
    if (!Number.isInteger(dims) || dims <= 0) throw new DeepcutError('invalid_input', `dims must be a positive integer, got ${dims}`);
    this.data = new Float32Array(dims * 16);
  }

  get size(): number {
    return this.count;
  }

  /** The stored rows (size × dims; unit length for `cos`). */
  vectors(): Float32Array {
    return this.data.subarray(0, this.count * this.dims);
  }

  add(vectors: Float32Array): void {
    checkVectors(vectors, this.dims);
    const v = this.metric === 'cos' ? normalizedRows(vectors, this.dims) : vectors;
    const need = (this.count * this.dims + v.length);
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, this.data.length * 2));
      grown.set(this.vectors());
      this.data = grown;
    }
    this.data.set(v, this.count * this.dims);
    this.count += v.length / this.dims;
    this.sorted = undefined;
  }

  private query(q: Float32Array): Float32Array {
    if (q.length !== this.dims) throw new DeepcutError('invalid_input', `query has ${q.length} dimensions, the index ${this.dims}`);
    return this.metric === 'cos' ? normalizedRows(q, this.dims) : q;
  }

  /** Every stored row's score for `q` (length size). */
  scoresOf(query: Float32Array): Float32Array {
    const q = this.query(query);
    const f = this.dims;
    const x = this.data;
    const out = new Float32Array(this.count);
    for (let i = 0; i < this.count; i++) {
      let s = 0;
      const o = i * f;
      for (let d = 0; d < f; d++) s += q[d] * x[o + d];
      out[i] = s;
    }
    return out;
  }

  /** The k best rows, best first; `opts.exclude` rows are never returned (out-of-range ones are ignored). */
  search(query: Float32Array, k: number, opts: { exclude?: Iterable<number> } = {}): Ranked {
    checkK(k);
    const skip = new Set<number>();
    for (const r of opts.exclude ?? []) if (Number.isInteger(r) && r >= 0 && r < this.count) skip.add(r);
    if (this.metric !== 'ip') {
      const mask = new Uint8Array(this.count);
      for (const r of skip) mask[r] = 1;
      return topK(this.scoresOf(query), k, mask);
    }
    const r = this.searchPruned(this.query(query), skip.size ? Math.min(this.count, k + skip.size) : k);
    if (!skip.size) return r;
    const keep = [...r.items.keys()].filter((c) => !skip.has(r.items[c])).slice(0, k);
    return { items: Int32Array.from(keep, (c) => r.items[c]), scores: Float32Array.from(keep, (c) => r.scores[c]) };
  }

  searchBatch(queries: Float32Array, k: number): Ranked[] {
    checkVectors(queries, this.dims, 'queries');
    const out: Ranked[] = [];
    for (let j = 0; j < queries.length / this.dims; j++) out.push(this.search(queries.subarray(j * this.dims, (j + 1) * this.dims), k));
    return out;
  }

  private ensureSorted(): NonNullable<ExactIndex['sorted']> {
    if (!this.sorted) {
      const f = this.dims;
      const norms = new Float32Array(this.count);
      for (let i = 0; i < this.count; i++) norms[i] = rowNorm(this.data, i, f);
      const order = Int32Array.from(norms.keys()).sort((a, b) => norms[b] - norms[a] || a - b);
      const rows = new Float32Array(this.count * f);
      const sortedNorms = new Float32Array(this.count);
      order.forEach((i, r) => {
        rows.set(this.data.subarray(i * f, i * f + f), r * f);
        sortedNorms[r] = norms[i];
      });
      this.sorted = { order, norms: sortedNorms, rows };
    }
    return this.sorted;
  }

  /** Exact ip top-k scanning rows by decreasing norm, stopping when no later row can enter. */
  private searchPruned(q: Float32Array, k: number): Ranked {
    const { order, norms, rows } = this.ensureSorted();
    const f = this.dims;
    const qn = rowNorm(q, 0, f);
    const n = this.count;
    const cap = Math.min(k, n);
    // scores of the scanned prefix; the k-th best so far bounds the rest
    const scores = new Float32Array(n);
    const best = new Float32Array(cap).fill(-Infinity); // ascending: best[0] is the k-th best
    let scanned = 0;
    const BLOCK = 256;
    while (scanned < n) {
      if (scanned >= cap && qn * norms[scanned] < best[0]) break;
      const end = Math.min(n, scanned + BLOCK);
      for (let r = scanned; r < end; r++) {
        let s = 0;
        const o = r * f;
        for (let d = 0; d < f; d++) s += q[d] * rows[o + d];
        scores[r] = s;
        if (s > best[0]) {
          // insert into the small sorted buffer
          let j = 0;
          while (j + 1 < cap && best[j + 1] < s) {
            best[j] = best[j + 1];
            j++;
          }
          best[j] = s;
        }
      }
      scanned = end;
    }
    const top = topK(scores.subarray(0, scanned), k);
    const items = top.items.map((r) => order[r]);
    return { items, scores: top.scores };
  }

  async save(path: string, meta: { runId: string }): Promise<void> {
    await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: this.metric, params: { version: VERSION, dims: this.dims, size: this.count } }, [
      { name: 'vectors', data: this.vectors(), shape: [this.count, this.dims] },
    ]);
  }

  /** Read an index written by `save`; a mismatched kind, metric or shape is an error naming it. */
  static async load(path: string, expect: { metric?: Metric; dims?: number } = {}): Promise<ExactIndex> {
    const a = await readArtifact(path, { kind: KIND, metric: expect.metric, params: { version: VERSION, ...(expect.dims ? { dims: expect.dims } : {}) } });
    const idx = new ExactIndex(Number(a.header.params.dims), a.header.metric as Metric);
    idx.data = a.arrays.vectors as Float32Array;
    idx.count = idx.data.length / idx.dims;
    return idx;
  }
}
