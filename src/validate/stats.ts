/**
 * Per-batch feature statistics, after TensorFlow Data Validation's: for every field of an entity,
 * the count present and missing, an approximate distinct count (HyperLogLog), and either numeric
 * summaries (min, max, mean, standard deviation, quantiles and a histogram from a seeded reservoir
 * sample) or the most frequent values. Timestamps and dates are numeric (ms since the epoch); lists
 * are described by their length. Memory is fixed per feature, whatever the batch size.
 */
import type { EntityKind } from '../domain/schemas.ts';
import { fieldsOf, type FieldType } from '../domain/fields.ts';
import { Rng } from '../util/rng.ts';
import { parseTime } from './rows.ts';

export type FeatureKind = 'categorical' | 'numeric' | 'timestamp' | 'length';

export interface Histogram {
  /** Bin edges e0 < e1 < … < ek. */
  edges: number[];
  /** k + 2 weights: below e0, the k bins [e_i, e_i+1) (the last one closed), above ek. */
  counts: number[];
}

export interface FeatureStats {
  name: string;
  kind: FeatureKind;
  /** Rows where the field is present. */
  count: number;
  missing: number;
  /** Approximate distinct values (HyperLogLog, ±2.3%). */
  distinct: number;
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  /** Quantiles of the reservoir sample: p in 0..1. */
  quantiles?: { p: number; value: number }[];
  histogram?: Histogram;
  /** Most frequent values with counts (categorical), exact while `top_exact`. */
  top?: { value: string; count: number }[];
  /** False when more distinct values came than the counter keeps: later new values are not counted. */
  top_exact?: boolean;
}

export interface BatchStatistics {
  entity: EntityKind;
  rows: number;
  features: FeatureStats[];
}

export const featureKindOf = (t: FieldType): FeatureKind =>
  t === 'integer' || t === 'number' ? 'numeric' : t === 'timestamp' || t === 'date' ? 'timestamp' : t === 'string[]' || t === 'id[]' ? 'length' : 'categorical';

const HLL_P = 11;
const HLL_M = 1 << HLL_P;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** 32-bit hash of a string (FNV-1a, then MurmurHash3's finaliser). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix(h);
}

function hashNumber(x: number): number {
  f64[0] = x;
  return fmix(Math.imul(u32[0] ^ fmix(u32[1]), 0x9e3779b1));
}

/** HyperLogLog (Flajolet et al. 2007) with 2^11 registers: distinct counts within a few percent. */
export class HyperLogLog {
  private readonly reg = new Uint8Array(HLL_M);
  add(hash: number): void {
    const i = hash >>> (32 - HLL_P);
    const w = (hash << HLL_P) | (1 << (HLL_P - 1));
    const rho = Math.clz32(w) + 1;
    if (rho > this.reg[i]) this.reg[i] = rho;
  }
  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < HLL_M; i++) {
      sum += 2 ** -this.reg[i];
      if (this.reg[i] === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / HLL_M);
    const e = (alpha * HLL_M * HLL_M) / sum;
    return Math.round(e <= 2.5 * HLL_M && zeros > 0 ? HLL_M * Math.log(HLL_M / zeros) : e);
  }
}

const TOP_CAP = 10_000;
const TOP_KEEP = 50;
const QUANTILES = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1];

class FeatureAcc {
  count = 0;
  missing = 0;
  min = Infinity;
  max = -Infinity;
  mean = 0;
  m2 = 0;
  readonly hll = new HyperLogLog();
  readonly top = new Map<string, number>();
  topExact = true;
  readonly sample: Float64Array | undefined;

  constructor(readonly name: string, readonly kind: FeatureKind, capacity: number) {
    if (kind !== 'categorical') this.sample = new Float64Array(capacity);
  }

  add(v: unknown, slot: number): void {
    if (v === undefined || v === null) {
      this.missing++;
      return;
    }
    this.count++;
    if (this.kind === 'categorical') {
      const s = typeof v === 'string' ? v : String(v);
      this.hll.add(hashString(s));
      const c = this.top.get(s);
      if (c !== undefined) this.top.set(s, c + 1);
      else if (this.top.size < TOP_CAP) this.top.set(s, 1);
      else this.topExact = false;
      return;
    }
    const x = this.kind === 'numeric' ? (v as number) : this.kind === 'timestamp' ? parseTime(v as string) : (v as unknown[]).length;
    this.hll.add(this.kind === 'length' ? hashNumber(x) : typeof v === 'string' ? hashString(v) : hashNumber(x));
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    const d = x - this.mean; // Welford's running mean and variance
    this.mean += d / this.count;
    this.m2 += d * (x - this.mean);
    if (slot >= 0) this.sample![slot] = x;
  }
}

/** The sorted reservoir values of one numeric feature (for quantiles, histograms and drift). */
export type Sample = Float64Array;

/** Equal-width edges over [lo, hi] (`bins` bins); a single point gets a unit-wide bin. */
export function equalEdges(lo: number, hi: number, bins = 10): number[] {
  if (!(hi > lo)) return [lo - 0.5, lo + 0.5];
  return Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
}

/** Histogram of sorted-or-not `values` on `edges`, weights scaled so they sum to `total`. */
export function histogramOf(values: ArrayLike<number>, edges: number[], total = values.length): Histogram {
  const k = edges.length - 1;
  const counts = new Array<number>(k + 2).fill(0);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    let b: number;
    if (x < edges[0]) b = 0;
    else if (x > edges[k]) b = k + 1;
    else {
      let lo = 0;
      let hi = k; // find the last edge <= x, the last bin closed on the right
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (edges[mid] <= x) lo = mid;
        else hi = mid;
      }
      b = lo + 1;
    }
    counts[b]++;
  }
  const scale = values.length ? total / values.length : 0;
  return { edges, counts: counts.map((c) => c * scale) };
}

/**
 * Streaming statistics of one batch of rows of one entity. `add` each accepted row; `finish` once.
 * The reservoir (Vitter's algorithm R, `capacity` rows, seeded) decides per row, for all features at once.
 */
export class BatchStats {
  private readonly accs: FeatureAcc[];
  private readonly rng: Rng;
  rows = 0;

  constructor(readonly entity: EntityKind, readonly capacity = 10_000, seed = 1) {
    this.accs = fieldsOf(entity).map((f) => new FeatureAcc(f.name, featureKindOf(f.type), capacity));
    this.rng = new Rng(seed);
  }

  add(row: Record<string, unknown>): void {
    const n = ++this.rows;
    let slot = n - 1;
    if (n > this.capacity) {
      slot = this.rng.int(n);
      if (slot >= this.capacity) slot = -1;
    }
    for (const a of this.accs) a.add(row[a.name], slot);
  }

  /** The sample of a numeric feature (unsorted), empty for categorical ones. */
  sample(name: string): Sample {
    const a = this.accs.find((x) => x.name === name);
    if (!a?.sample) return new Float64Array(0);
    return a.sample.subarray(0, Math.min(a.count, this.capacity));
  }

  /** The statistics; `bins` gives fixed histogram edges per feature (from the schema). */
  finish(bins: Record<string, number[]> = {}): BatchStatistics {
    const features = this.accs.map((a): FeatureStats => {
      const base = { name: a.name, kind: a.kind, count: a.count, missing: a.missing, distinct: a.hll.estimate() };
      if (a.kind === 'categorical') {
        const top = [...a.top].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, TOP_KEEP).map(([value, count]) => ({ value, count }));
        return { ...base, distinct: a.topExact ? a.top.size : base.distinct, top, top_exact: a.topExact };
      }
      if (a.count === 0) return base;
      return numericFeature(base, { min: a.min, max: a.max, mean: a.mean, std: Math.sqrt(a.count > 1 ? a.m2 / (a.count - 1) : 0) }, this.sample(a.name), bins[a.name]);
    });
    return { entity: this.entity, rows: this.rows, features };
  }
}

/** A numeric feature's summary: its moments, and quantiles and a histogram (on `edges`, default equal-width over min..max) from its sample. */
function numericFeature(base: FeatureStats, m: { min: number; max: number; mean: number; std: number }, sample: Sample, edges: number[] | undefined): FeatureStats {
  const s = Float64Array.from(sample).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return { ...base, ...m, quantiles: QUANTILES.map((p) => ({ p, value: q(p) })), histogram: histogramOf(s, edges ?? equalEdges(m.min, m.max), base.count) };
}

/** Where a batch's validation reads its statistics: {@link BatchStats} (rows added one by one) or {@link AggregatedStats} (SQL aggregates). */
export interface StatsSource {
  readonly entity: EntityKind;
  finish(bins?: Record<string, number[]>): BatchStatistics;
  sample(name: string): Sample;
}

/**
 * A feature aggregated elsewhere (the bulk import's SQL): `count`, `missing`, `distinct`, and
 * numeric moments with a sample (non-categorical), or the most frequent values (categorical).
 */
export type AggregatedFeature =
  | { name: string; kind: 'categorical'; count: number; missing: number; distinct: number; top: { value: string; count: number }[]; top_exact: boolean }
  | { name: string; kind: Exclude<FeatureKind, 'categorical'>; count: number; missing: number; distinct: number; min: number; max: number; mean: number; std: number; sample: Sample };

/** Statistics of a batch computed by the database (TFDV-style: moments exact, quantiles and histograms from a sample). */
export class AggregatedStats implements StatsSource {
  constructor(
    readonly entity: EntityKind,
    readonly rows: number,
    private readonly features: AggregatedFeature[],
  ) {}

  sample(name: string): Sample {
    const f = this.features.find((x) => x.name === name);
    return f && f.kind !== 'categorical' ? f.sample : new Float64Array(0);
  }

  finish(bins: Record<string, number[]> = {}): BatchStatistics {
    const features = this.features.map((f): FeatureStats => {
      const base: FeatureStats = { name: f.name, kind: f.kind, count: f.count, missing: f.missing, distinct: f.distinct };
      if (f.kind === 'categorical') return { ...base, top: f.top.slice(0, TOP_KEEP), top_exact: f.top_exact };
      if (f.count === 0) return base;
      return numericFeature(base, f, f.sample, bins[f.name]);
    });
    return { entity: this.entity, rows: this.rows, features };
  }
}

/** Most frequent values kept per categorical feature, and how many distinct values are counted exactly (as {@link BatchStats}). */
export const TOP_VALUES = { keep: TOP_KEEP, exactUpTo: TOP_CAP } as const;
