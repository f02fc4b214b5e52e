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

/**
 * Time-based split: a global cutoff at the (1 − fraction) quantile of pair times; later pairs go to
 * test, except those of users with nothing before the cutoff (cold users cannot be scored by CF;
 * they are dropped from test and counted in `coldUsers`). `time` is aligned with `m.data`.
 */
export function timeHoldout(m: Csr, time: Float64Array, fraction: number): Split & { cutoff: number; coldUsers: number } {
  checkFraction(fraction);
  const known = Float64Array.from(time.filter((t) => Number.isFinite(t))).sort();
  if (known.length !== time.length) throw new DeepcutError('invalid_input', `time split needs a time for every pair; ${time.length - known.length} of ${time.length} lack one`);
  const cutoff = known[Math.min(known.length - 1, Math.floor((1 - fraction) * known.length))];
  const isTest = new Uint8Array(m.indices.length);
  let coldUsers = 0;
  for (let r = 0; r < m.rows; r++) {
    let before = 0;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) if (time[p] < cutoff) before++;
    if (before === 0) {
      if (m.indptr[r + 1] > m.indptr[r]) coldUsers++;
      for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) isTest[p] = 2; // dropped from both sides
      continue;
    }
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) if (time[p] >= cutoff) isTest[p] = 1;
  }
  return { ...splitByMask(m, isTest), cutoff, coldUsers };
}
