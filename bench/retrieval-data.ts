/**
 * What the retrieval benches share: synthesized factors with taste clusters, a seeded sample of
 * query rows, and the one-thread timing of a batch of searches (wall and process CPU).
 */
import { Rng } from '../src/util/rng.ts';
import type { Ranked } from '../src/cf/recommender.ts';

/** Width of every factor matrix in the retrieval benches. */
export const D = 64;

/**
 * `n` × 64 vectors around 64 taste centres (the same centres for every seed) with Gaussian spread
 * 0.8; with `normSpread` the norms follow a power law over 0.1–10 (item popularity), else 0.3.
 */
export function synth(n: number, seed: number, normSpread: boolean): Float32Array {
  const rng = new Rng(seed);
  const c = new Rng(7); // same centres for items and queries
  const centres = Array.from({ length: 64 }, () => Float32Array.from({ length: D }, () => c.normal()));
  const v = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const ctr = centres[rng.int(64)];
    const u = rng.next();
    const scale = normSpread ? Math.pow(100, u * u * u) / 10 : 0.3;
    for (let j = 0; j < D; j++) v[i * D + j] = (ctr[j] + 0.8 * rng.normal()) * scale;
  }
  return v;
}

/** `count` distinct rows of `users` (seeded) as queries, and their row numbers. */
export function sampleRows(users: Float32Array, count: number, seed: number): { queries: Float32Array; rows: Int32Array } {
  const n = users.length / D;
  const rng = new Rng(seed);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const m = Math.min(count, n);
  const out = new Float32Array(m * D);
  for (let j = 0; j < m; j++) {
    const r = j + rng.int(n - j);
    [perm[j], perm[r]] = [perm[r], perm[j]];
    out.set(users.subarray(perm[j] * D, perm[j] * D + D), j * D);
  }
  return { queries: out, rows: perm.slice(0, m) };
}

/** Run a one-thread search once untimed, then `reps` times: the answers, the median wall q/s, and the median process-CPU µs per query. */
export function measure(nq: number, reps: number, f: () => Ranked[]): { got: Ranked[]; qps: number; cpuUs: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  let got: Ranked[] = f();
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    got = f();
    walls.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e6);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { got, qps: nq / med(walls), cpuUs: (med(cpus) / nq) * 1e6 };
}
