/**
 * Approximate search over a usearch HNSW graph (Malkov & Yashunin 2018), behind {@link VectorIndex}.
 *
 * Inner product is not a metric, and ALS item norms vary by ~100×, so an HNSW graph in ip space
 * retrieves poorly (measured here with hnswlib: recall@10 0.23). For `ip` we use the MIPS→cosine
 * reduction of Bachrach et al. 2014 (as implicit's approximate ALS): every row x gets one extra
 * coordinate √(M² − ‖x‖²), M the largest norm, so all rows have norm M and for a query [q, 0]
 * cos([q,0], x̃) = q·x / (‖q‖·M): the cosine order is the inner-product order. Returned scores are
 * exact inner products (or cosines) recomputed from the stored rows.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Ranked } from '../cf/index.ts';
import { checkK } from '../cf/index.ts';
import { readArtifact, writeArtifact } from '../cf/index.ts';
import { DeepcutError } from '../errors.ts';
import { ExactIndex } from './exact.ts';
import { normalizedRows } from '../core/linalg.ts';
import { checkVectors, recallAtK, rowNorm, type Metric, type VectorIndex } from './vector-index.ts';

// usearch through its CommonJS build: its ES module build finds its native binary from the
// caller's stack, which in a worker made from a string has no file, so it searched the working
// directory and took this package's own `build/` (the WASM kernels) for usearch's ("No native build
// was found … loaded from: <cwd>"). The CommonJS build starts from its own folder.
const { Index: UsearchIndex, MetricKind, ScalarKind } = createRequire(import.meta.url)('usearch') as typeof import('usearch');
type UsearchIndex = InstanceType<typeof UsearchIndex>;

const KIND = 'index-hnsw';
const VERSION = 1;

export interface AnnOptions {
  /** Graph degree M (usearch `connectivity`); default 32. */
  connectivity?: number;
  /** Candidate list while inserting (efConstruction); default 200. */
  expansionAdd?: number;
  /** Candidate list while searching (ef); default 256. */
  expansionSearch?: number;
  /**
   * Threads for building and batch search; default 1. With more than one, the graph depends on
   * the threads' timing: each build links the rows differently (its bytes and its recall vary).
   * A pipeline step, whose re-run must write the same bytes, builds on one thread.
   */
  threads?: number;
}

/** What `build` measured: recall@10 against exact search on sample queries, and the build time. */
export interface BuildReport {
  recall_at_10: number;
  queries: number;
  build_s: number;
}

export class AnnIndex implements VectorIndex {
  readonly kind = KIND;
  readonly opts: Required<AnnOptions>;
  private graph: UsearchIndex;
  /** Stored rows as given (unit length for cos), kept for exact scores and saving. */
  private exact: ExactIndex;
  /** Augmentation norm M for ip (0 until the first add). */
  private maxNorm = 0;
  report: BuildReport | undefined;

  constructor(
    readonly dims: number,
    readonly metric: Metric,
    opts: AnnOptions = {},
  ) {
    this.opts = { connectivity: 32, expansionAdd: 200, expansionSearch: 256, threads: 1, ...opts };
    this.exact = new ExactIndex(dims, metric);
    this.graph = this.newGraph();
  }

  private newGraph(): UsearchIndex {
    return new UsearchIndex({
      dimensions: this.metric === 'ip' ? this.dims + 1 : this.dims,
      metric: MetricKind.Cos,
      quantization: ScalarKind.F32,
      connectivity: this.opts.connectivity,
      expansion_add: this.opts.expansionAdd,
      expansion_search: this.opts.expansionSearch,
      multi: false,
    });
  }

  get size(): number {
    return this.exact.size;
  }

  /**
   * Build an index over `vectors` (n × dims) and measure recall@10 against exact search on
   * `queries` (default: 200 stored rows, evenly spaced). Example:
   * `const idx = AnnIndex.build(itemFactors, 64, 'ip', {}, userSample); idx.report.recall_at_10`.
   */
  static build(vectors: Float32Array, dims: number, metric: Metric, opts: AnnOptions = {}, queries?: Float32Array): AnnIndex {
    const t0 = performance.now();
    const idx = new AnnIndex(dims, metric, opts);
    idx.add(vectors);
    const buildS = (performance.now() - t0) / 1000;
    let q = queries;
    if (!q) {
      const n = idx.size;
      const m = Math.min(200, n);
      q = new Float32Array(m * dims);
      for (let j = 0; j < m; j++) q.set(vectors.subarray(Math.floor((j * n) / m) * dims, Math.floor((j * n) / m) * dims + dims), j * dims);
    }
    const k = Math.min(10, idx.size);
    idx.report = { recall_at_10: recallAtK(idx.searchBatch(q, k), idx.exact.searchBatch(q, k), k), queries: q.length / dims, build_s: buildS };
    return idx;
  }

  add(vectors: Float32Array): void {
    checkVectors(vectors, this.dims);
    const f = this.dims;
    const n = vectors.length / f;
    const first = this.exact.size;
    let graphRows: Float32Array;
    if (this.metric === 'ip') {
      if (first === 0) for (let r = 0; r < n; r++) this.maxNorm = Math.max(this.maxNorm, rowNorm(vectors, r, f));
      graphRows = new Float32Array(n * (f + 1));
      const m2 = this.maxNorm * this.maxNorm;
      for (let r = 0; r < n; r++) {
        const norm = rowNorm(vectors, r, f);
        if (norm > this.maxNorm * (1 + 1e-6))
          throw new DeepcutError('invalid_input', `row ${first + r} has norm ${norm.toPrecision(4)} above the index's augmentation norm ${this.maxNorm.toPrecision(4)}; rebuild the index`);
        graphRows.set(vectors.subarray(r * f, r * f + f), r * (f + 1));
        graphRows[r * (f + 1) + f] = Math.sqrt(Math.max(0, m2 - norm * norm));
      }
    } else graphRows = normalizedRows(vectors, f);
    this.exact.add(vectors);
    const keys = new BigUint64Array(n);
    for (let r = 0; r < n; r++) keys[r] = BigInt(first + r);
    this.graph.add(keys, graphRows, this.opts.threads);
  }

  private augment(queries: Float32Array): Float32Array {
    const f = this.dims;
    if (this.metric !== 'ip') return queries;
    const q = queries.length / f;
    const out = new Float32Array(q * (f + 1));
    for (let j = 0; j < q; j++) out.set(queries.subarray(j * f, j * f + f), j * (f + 1));
    return out;
  }

  search(query: Float32Array, k: number): Ranked {
    if (query.length !== this.dims) throw new DeepcutError('invalid_input', `query has ${query.length} dimensions, the index ${this.dims}`);
    return this.searchBatch(query, k)[0];
  }

  searchBatch(queries: Float32Array, k: number): Ranked[] {
    checkK(k);
    checkVectors(queries, this.dims, 'queries');
    const f = this.dims;
    const q = queries.length / f;
    if (q === 0 || this.size === 0) return Array.from({ length: q }, () => ({ items: new Int32Array(0), scores: new Float32Array(0) }));
    const kk = Math.min(k, this.size);
    const res = this.graph.search(this.augment(queries), kk, this.opts.threads) as unknown as { keys: BigUint64Array; counts?: BigUint64Array };
    const stored = this.exact.vectors();
    const out: Ranked[] = [];
    for (let j = 0; j < q; j++) {
      const count = res.counts ? Number(res.counts[j]) : res.keys.length;
      const base = res.counts ? j * kk : 0;
      const qv = this.metric === 'cos' ? normalizedRows(queries.subarray(j * f, j * f + f), f) : queries.subarray(j * f, j * f + f);
      const items = new Int32Array(count);
      const scores = new Float32Array(count);
      for (let c = 0; c < count; c++) {
        const i = Number(res.keys[base + c]);
        items[c] = i;
        let s = 0;
        for (let d = 0; d < f; d++) s += qv[d] * stored[i * f + d];
        scores[c] = s;
      }
      // the graph's order is the cosine order; recomputed scores agree up to rounding
      const order = Int32Array.from(items.keys()).sort((a, b) => scores[b] - scores[a] || items[a] - items[b]);
      out.push({ items: order.map((o) => items[o]), scores: Float32Array.from(order, (o) => scores[o]) });
    }
    return out;
  }

  async save(path: string, meta: { runId: string }): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-ann-'));
    try {
      this.graph.save(join(dir, 'g.usearch'));
      const bytes = await readFile(join(dir, 'g.usearch'));
      const words = new Int32Array(Math.ceil(bytes.length / 4));
      new Uint8Array(words.buffer).set(bytes);
      const params: Record<string, number | string> = {
        version: VERSION,
        dims: this.dims,
        size: this.size,
        maxNorm: this.maxNorm,
        connectivity: this.opts.connectivity,
        expansionAdd: this.opts.expansionAdd,
        expansionSearch: this.opts.expansionSearch,
        graphBytes: bytes.length,
        engine: 'usearch-hnsw',
        ...(this.report ? { recall_at_10: this.report.recall_at_10, recall_queries: this.report.queries } : {}),
      };
      await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: this.metric, params }, [
        { name: 'vectors', data: this.exact.vectors(), shape: [this.size, this.dims] },
        { name: 'graph', data: words, shape: [words.length] },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Read an index written by `save`; mismatched kind, metric or dims are errors naming them. */
  static async load(path: string, expect: { metric?: Metric; dims?: number } = {}, opts: Pick<AnnOptions, 'threads' | 'expansionSearch'> = {}): Promise<AnnIndex> {
    const a = await readArtifact(path, { kind: KIND, metric: expect.metric, params: { version: VERSION, ...(expect.dims ? { dims: expect.dims } : {}) } });
    const p = a.header.params;
    const idx = new AnnIndex(Number(p.dims), a.header.metric as Metric, {
      connectivity: Number(p.connectivity),
      expansionAdd: Number(p.expansionAdd),
      expansionSearch: opts.expansionSearch ?? Number(p.expansionSearch),
      threads: opts.threads ?? 1,
    });
    idx.maxNorm = Number(p.maxNorm);
    idx.exact.add(a.arrays.vectors as Float32Array);
    const dir = await mkdtemp(join(tmpdir(), 'deepcut-ann-'));
    try {
      const g = join(dir, 'g.usearch');
      await writeFile(g, new Uint8Array(a.arrays.graph.buffer, 0, Number(p.graphBytes)));
      idx.graph.load(g);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (typeof p.recall_at_10 === 'number') idx.report = { recall_at_10: p.recall_at_10, queries: Number(p.recall_queries), build_s: 0 };
    return idx;
  }
}
