/**
 * The learned ranker's gradient-boosted trees flattened for scoring: every tree's nodes in one set
 * of typed arrays (feature, threshold, children as absolute node numbers, leaf value), walked
 * without per-tree objects. It scores exactly as the bandit stage's GradientBoostedTrees (the
 * same comparisons, the trees summed in the same order from the same base, the same logistic
 * link), only faster: the ranked model scores a few hundred candidates per listener.
 */
import { DeepcutError } from '../errors.ts';

/** The trees of a `gbt` reward model file (bandit stage, `toJSON`). */
interface GbtFile {
  kind: 'gbt';
  dim: number;
  base: number;
  trees: { feat: number[]; thr: number[]; left: number[]; right: number[]; value: number[] }[];
}

/** Forests with more nodes are walked, not generated. */
const MAX_COMPILED_NODES = 50_000;

/** The logistic link, written as the bandit stage's `sigmoid` (reward.ts) so both give the same bits. */
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** A fitted forest in flat arrays; see the module comment. */
export class FlatForest {
  private constructor(
    readonly dim: number,
    private readonly base: number,
    /** First node of each tree. */
    private readonly roots: Int32Array,
    /** Per node: split feature (−1: leaf), threshold, left and right child (absolute), leaf value. */
    private readonly feat: Int32Array,
    private readonly thr: Float64Array,
    private readonly left: Int32Array,
    private readonly right: Int32Array,
    private readonly value: Float64Array,
    /** Features some split reads (1), per column: the others need not be computed. */
    readonly used: Uint8Array,
  ) {}

  /** The forest of a reward model file, or undefined when the file is not a `gbt` model. */
  static of(file: unknown): FlatForest | undefined {
    const f = file as Partial<GbtFile> | undefined;
    if (f?.kind !== 'gbt' || !Array.isArray(f.trees) || typeof f.base !== 'number' || typeof f.dim !== 'number') return undefined;
    const n = f.trees.reduce((a, t) => a + t.feat.length, 0);
    const roots = new Int32Array(f.trees.length);
    const feat = new Int32Array(n);
    const thr = new Float64Array(n);
    const left = new Int32Array(n);
    const right = new Int32Array(n);
    const value = new Float64Array(n);
    const used = new Uint8Array(f.dim);
    let at = 0;
    f.trees.forEach((t, j) => {
      roots[j] = at;
      for (let q = 0; q < t.feat.length; q++) {
        const ft = t.feat[q];
        if (ft >= f.dim!) throw new DeepcutError('invalid_input', `ranker: tree ${j} splits on feature ${ft} of ${f.dim}`);
        feat[at + q] = ft;
        thr[at + q] = t.thr[q];
        left[at + q] = ft >= 0 ? at + t.left[q] : -1;
        right[at + q] = ft >= 0 ? at + t.right[q] : -1;
        value[at + q] = t.value[q];
        if (ft >= 0) used[ft] = 1;
      }
      at += t.feat.length;
    });
    return new FlatForest(f.dim, f.base, roots, feat, thr, left, right, value, used);
  }

  private compiled: ((x: Float64Array, n: number, out: Float64Array) => void) | null | undefined;

  /** p(hit) of rows `0..n-1` of `x` (n × dim, row-major) into `out`. */
  predict(x: Float64Array, n: number, out: Float64Array): void {
    if (this.compiled === undefined) this.compiled = this.compile();
    if (this.compiled) this.compiled(x, n, out);
    else this.walk(x, n, out);
  }

  /**
   * The forest as one generated function: each tree a nested conditional with its thresholds and
   * leaf values as literals (a number's shortest text reads back as the same double), summed in
   * tree order from the base. Null when a value is not finite or the forest is too large to
   * generate (then {@link walk} scores).
   */
  private compile(): ((x: Float64Array, n: number, out: Float64Array) => void) | null {
    const { roots, feat, thr, left, right, value, dim } = this;
    if (feat.length > MAX_COMPILED_NODES || !Number.isFinite(this.base)) return null;
    const lit = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
    let ok = true;
    const node = (nd: number): string => {
      const f = feat[nd];
      if (f < 0) {
        if (!Number.isFinite(value[nd])) ok = false;
        return lit(value[nd]);
      }
      if (!Number.isFinite(thr[nd])) ok = false;
      return `(x[o + ${f}] <= ${lit(thr[nd])} ? ${node(left[nd])} : ${node(right[nd])})`;
    };
    const body = Array.from(roots, (r) => `    s += ${node(r)};`).join('\n');
    if (!ok) return null;
    const src = `for (let i = 0; i < n; i++) {\n    const o = i * ${dim};\n    let s = ${lit(this.base)};\n${body}\n    out[i] = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));\n  }`;
    return new Function('x', 'n', 'out', src) as (x: Float64Array, n: number, out: Float64Array) => void;
  }

  /** {@link predict} by walking the flat arrays (the reference the generated function must match). */
  walk(x: Float64Array, n: number, out: Float64Array): void {
    const { roots, feat, thr, left, right, value, dim } = this;
    const T = roots.length;
    for (let i = 0; i < n; i++) {
      const row = i * dim;
      let s = this.base;
      for (let j = 0; j < T; j++) {
        let nd = roots[j];
        let f = feat[nd];
        while (f >= 0) {
          nd = x[row + f] <= thr[nd] ? left[nd] : right[nd];
          f = feat[nd];
        }
        s += value[nd];
      }
      out[i] = sigmoid(s);
    }
  }
}
