/**
 * Distances between a feature's distributions in two batches, as TFDV's drift comparators:
 * L-infinity for categorical features, Jensen–Shannon divergence for numeric ones.
 */
import type { FeatureStats, Histogram } from './stats.ts';

/**
 * L-infinity distance between the value shares of two categorical features: the largest
 * |p(v) − q(v)| over the values either batch lists. 0 = same shares, 1 = disjoint.
 */
export function lInfinity(a: FeatureStats, b: FeatureStats): number {
  const pa = new Map((a.top ?? []).map((t) => [t.value, a.count ? t.count / a.count : 0]));
  const pb = new Map((b.top ?? []).map((t) => [t.value, b.count ? t.count / b.count : 0]));
  let d = 0;
  for (const v of new Set([...pa.keys(), ...pb.keys()])) d = Math.max(d, Math.abs((pa.get(v) ?? 0) - (pb.get(v) ?? 0)));
  return d;
}

/**
 * Jensen–Shannon divergence, base 2 (0..1), of two weight vectors over the same bins:
 * JSD(P‖Q) = ½ KL(P‖M) + ½ KL(Q‖M), M = ½(P + Q) (Lin 1991). Empty vectors give 0.
 */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new RangeError(`histograms differ in bins: ${p.length} vs ${q.length}`);
  const sp = p.reduce((s, x) => s + x, 0);
  const sq = q.reduce((s, x) => s + x, 0);
  if (sp === 0 || sq === 0) return 0;
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp;
    const b = q[i] / sq;
    const m = (a + b) / 2;
    if (a > 0) d += 0.5 * a * Math.log2(a / m);
    if (b > 0) d += 0.5 * b * Math.log2(b / m);
  }
  return Math.max(0, Math.min(1, d));
}

export const sameEdges = (a: Histogram, b: Histogram) => a.edges.length === b.edges.length && a.edges.every((e, i) => e === b.edges[i]);
