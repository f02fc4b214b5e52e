/** Small deterministic helpers shared by the generator's stages. */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Rng } from '../util/rng.ts';

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/** A 32-bit hash of a few integers (murmur3 finalizer over a running mix); deterministic, fast. */
export function hash32(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) fixed by the integers `xs` (the same inputs always give the same value). */
export function hashUnit(...xs: number[]): number {
  return hash32(...xs) / 4294967296;
}

/** `2026-11-20T12:00:00Z`: an ISO timestamp at whole seconds, UTC. */
export function isoSeconds(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefix.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefix.size > 100_000) dayPrefix.clear();
    dayPrefix.set(day, prefix);
  }
  const s = Math.floor((ms - day * DAY_MS) / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return prefix + (hh < 10 ? '0' : '') + hh + (mm < 10 ? ':0' : ':') + mm + (ss < 10 ? ':0' : ':') + ss + 'Z';
}
const dayPrefix = new Map<number, string>();

/** `2026-11-20`: the UTC date of an epoch time in ms. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Uniform in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Index drawn from `weights` (need not sum to 1). */
export function pickWeighted(rng: Rng, weights: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** Cumulative sums of `weights` (for {@link pickCumulative}). */
export function cumulative(weights: ArrayLike<number>): Float64Array {
  const c = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) c[i] = s += weights[i];
  return c;
}

/** Index drawn from cumulative weights by binary search: O(log n). */
export function pickCumulative(rng: Rng, cum: Float64Array): number {
  const u = rng.next() * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A Poisson draw (Knuth for small means, a rounded normal above 30). */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng.next();
  } while (p > l);
  return k - 1;
}

/** A capitalised made-up word of `n` syllables. */
export function madeUpWord(rng: Rng, syllables: readonly string[], n: number): string {
  let w = '';
  for (let i = 0; i < n; i++) w += rng.pick(syllables);
  return w[0].toUpperCase() + w.slice(1);
}

/**
 * A JSONL file written synchronously in ~1 MB chunks: bounded memory, bytes in call order.
 * `const w = new LineWriter(path); w.line(obj); w.close();` returns the bytes written.
 */
export class LineWriter {
  private readonly fd: number;
  private parts: string[] = [];
  private pending = 0;
  bytes = 0;
  lines = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  /** Append one JSON line. */
  line(row: unknown): void {
    this.raw(JSON.stringify(row) + '\n');
  }

  /** Append text as is. */
  raw(text: string): void {
    this.parts.push(text);
    this.pending += text.length;
    this.lines++;
    if (this.pending > 1 << 20) this.flush();
  }

  flush(): void {
    if (!this.parts.length) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.pending = 0;
  }

  close(): number {
    this.flush();
    closeSync(this.fd);
    return this.bytes;
  }
}
