/**
 * Train/test splits of a users × items matrix, on distinct pairs (so a pair is never on both sides).
 * Both sides keep the full shape; every random step is seeded.
 */
import type { Csr } from '../signals/index.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';

export interface Split {
  train: Csr;
  test: Csr;
}

/** Cut `m` into two matrices by a per-entry flag (1 = test). */
export function splitByMask(m: Csr, isTest: Uint8Array): Split {
  const sides = [0, 1].map((side) => {
    const indptr = new Int32Array(m.rows + 1);
    let n = 0;
    for (let r = 0; r < m.rows; r++) {
      for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) if (isTest[p] === side) n++;
      indptr[r + 1] = n;
    }
    const indices = new Int32Array(n);
    const data = new Float32Array(n);
    let w = 0;
    for (let p = 0; p < m.indices.length; p++) {
      if (isTest[p] === side) {
        indices[w] = m.indices[p];
        data[w++] = m.data[p];
      }
    }
    return { rows: m.rows, cols: m.cols, indptr, indices, data };
  });
  return { train: sides[0], test: sides[1] };
}

function checkFraction(fraction: number): void {
  if (!(fraction > 0 && fraction < 1)) throw new DeepcutError('invalid_input', `holdout fraction must be in (0, 1), got ${fraction}`);
}

/**
 * Per-user random holdout: each user with ≥ 2 items keeps round(fraction·n) of them (at least 1,
 * at most n − 1) for test, chosen by a generator seeded with `seed`; users with one item stay in train.
 */
export function randomHoldout(m: Csr, fraction: number, seed: number): Split {
  checkFraction(fraction);
  const rng = new Rng(seed);
  const isTest = new Uint8Array(m.indices.length);
  const pos: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    const a = m.indptr[r];
    const n = m.indptr[r + 1] - a;
    if (n < 2) continue;
    const h = Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
    pos.length = 0;
    for (let p = a; p < a + n; p++) pos.push(p);
    rng.shuffle(pos);
    for (let j = 0; j < h; j++) isTest[pos[j]] = 1;
  }
  return splitByMask(m, isTest);
}

/** The `q` quantile (0..1) of `time` (every entry must be finite); throws naming how many lack a time. */
export function timeQuantile(time: Float64Array, q: number): number {
  const known = Float64Array.from(time.filter((t) => Number.isFinite(t))).sort();
  if (known.length !== time.length || known.length === 0) throw new DeepcutError('invalid_input', `time split needs a time for every pair; ${time.length - known.length} of ${time.length} lack one`);
  return known[Math.min(known.length - 1, Math.max(0, Math.floor(q * known.length)))];
}

/**
 * Time window split: pairs before `from` train; pairs in [`from`, `to`) test, except those of users
 * with nothing before `from` (cold users cannot be scored by CF: dropped from test and counted in
 * `coldUsers`); pairs at or after `to` are on neither side. `time` is aligned with `m.data`.
 * Sliding windows (several `from`s, each `to` the next) give several honest test periods.
 */
export function timeWindow(m: Csr, time: Float64Array, from: number, to = Infinity): Split & { cutoff: number; coldUsers: number } {
  const isTest = new Uint8Array(m.indices.length);
  let coldUsers = 0;
  for (let r = 0; r < m.rows; r++) {
    let before = 0;
    let during = 0;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      if (time[p] < from) before++;
      else if (time[p] < to) during++;
    }
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      // 2: on neither side
      if (time[p] >= to || (time[p] >= from && before === 0)) isTest[p] = 2;
      else if (time[p] >= from) isTest[p] = 1;
    }
    if (before === 0 && during > 0) coldUsers++;
  }
  return { ...splitByMask(m, isTest), cutoff: from, coldUsers };
}

/**
 * Time-based split: a global cutoff at the (1 − fraction) quantile of pair times; later pairs go to
 * test, except those of users with nothing before the cutoff ({@link timeWindow} with no end).
 */
export function timeHoldout(m: Csr, time: Float64Array, fraction: number): Split & { cutoff: number; coldUsers: number } {
  checkFraction(fraction);
  return timeWindow(m, time, timeQuantile(time, 1 - fraction));
}

/**
 * Sliding time windows: for each cut quantile `q` in `cuts` (ascending), train on pairs before the
 * q quantile of times and test on pairs up to the next cut (the last runs to the end).
 */
export function slidingTimeWindows(m: Csr, time: Float64Array, cuts: number[]): (Split & { cutoff: number; coldUsers: number })[] {
  const at = cuts.map((q) => timeQuantile(time, q));
  return at.map((from, k) => timeWindow(m, time, from, k + 1 < at.length ? at[k + 1] : Infinity));
}
