/**
 * Cold start: a linear map from text vectors into the CF factor space, fitted by ridge regression
 * on subjects that have both (Gantner et al. 2010, "Learning attribute-to-feature mappings for
 * cold-start recommendations"). With X (n × d) centred text rows and Y (n × f) centred factor rows:
 *
 *   W = (XᵀX + λ·I)⁻¹ · XᵀY,    ŷ(x) = (x − x̄)·W + ȳ
 *
 * so an artist with text and no listens gets a factor vector ŷ, and a user u scores it u·ŷ.
 * Takes plain Float32Array/Float64Array matrices, nothing from the CF code.
 */
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';
import { choleskySolve } from '../core/linalg.ts';

type Matrix = Float32Array | Float64Array;

export interface RidgeMap {
  /** Width of the text vectors (d). */
  inDims: number;
  /** Width of the factor vectors (f). */
  outDims: number;
  lambda: number;
  /** W: d × f, row-major. */
  weights: Float64Array;
  xMean: Float64Array;
  yMean: Float64Array;
}

/** Column means of row-major X (n × d) over the rows listed in `rows`. */
function means(x: Matrix, d: number, rows: ArrayLike<number>): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i] * d;
    for (let j = 0; j < d; j++) m[j] += x[o + j];
  }
  for (let j = 0; j < d; j++) m[j] /= Math.max(rows.length, 1);
  return m;
}

/** The centred Gram XcᵀXc (d × d) and cross product XcᵀYc (d × f) over `rows`. */
function moments(x: Matrix, d: number, y: Matrix, f: number, rows: ArrayLike<number>) {
  const xMean = means(x, d, rows);
  const yMean = means(y, f, rows);
  const gram = new Float64Array(d * d);
  const cross = new Float64Array(d * f);
  const xc = new Float64Array(d);
  const yc = new Float64Array(f);
  for (let i = 0; i < rows.length; i++) {
    const xo = rows[i] * d;
    const yo = rows[i] * f;
    for (let j = 0; j < d; j++) xc[j] = x[xo + j] - xMean[j];
    for (let j = 0; j < f; j++) yc[j] = y[yo + j] - yMean[j];
    for (let a = 0; a < d; a++) {
      const v = xc[a];
      if (v === 0) continue;
      for (let b = a; b < d; b++) gram[a * d + b] += v * xc[b];
      for (let b = 0; b < f; b++) cross[a * f + b] += v * yc[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) gram[a * d + b] = gram[b * d + a];
  return { xMean, yMean, gram, cross };
}

function solve(m: ReturnType<typeof moments>, d: number, f: number, lambda: number): RidgeMap {
  const g = Float64Array.from(m.gram);
  for (let a = 0; a < d; a++) g[a * d + a] += lambda;
  return { inDims: d, outDims: f, lambda, weights: choleskySolve(g, d, m.cross, f), xMean: m.xMean, yMean: m.yMean };
}

function checkShapes(x: Matrix, n: number, d: number, y: Matrix, f: number): void {
  if (x.length !== n * d) throw new DeepcutError('invalid_input', `text matrix has ${x.length} values, expected ${n}×${d}`);
  if (y.length !== n * f) throw new DeepcutError('invalid_input', `factor matrix has ${y.length} values, expected ${n}×${f}`);
  if (n < 2) throw new DeepcutError('invalid_input', `ridge regression needs at least 2 subjects with both text and factors, got ${n}`);
}

/**
 * Fit W in closed form on all n rows of X (n × d) and Y (n × f), row-major, with penalty λ > 0.
 */
export function fitRidge(x: Matrix, n: number, d: number, y: Matrix, f: number, lambda: number): RidgeMap {
  checkShapes(x, n, d, y, f);
  if (!(lambda > 0)) throw new DeepcutError('invalid_input', `ridge penalty must be positive, got ${lambda}`, { field: 'lambda' });
  return solve(moments(x, d, y, f, Array.from({ length: n }, (_, i) => i)), d, f, lambda);
}

/** Map rows of X (n × d) into factor space: n × f, row-major. */
export function applyRidge(map: RidgeMap, x: Matrix, n: number): Float32Array {
  const { inDims: d, outDims: f, weights: w } = map;
  if (x.length !== n * d) throw new DeepcutError('invalid_input', `text matrix has ${x.length} values, expected ${n}×${d}`);
  const out = new Float32Array(n * f);
  const xc = new Float64Array(d);
  const acc = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xc[j] = x[i * d + j] - map.xMean[j];
    acc.set(map.yMean);
    for (let a = 0; a < d; a++) {
      const v = xc[a];
      if (v === 0) continue;
      for (let b = 0; b < f; b++) acc[b] += v * w[a * f + b];
    }
    out.set(acc, i * f);
  }
  return out;
}

export interface RidgeSelection {
  map: RidgeMap;
  /** Validation mean squared error (per factor coordinate) of each penalty tried. */
  validation: { lambda: number; mse: number }[];
}

/**
 * Choose λ from `lambdas` by mean squared error on a seeded validation split
 * (`validationFraction` of the rows, default 0.2), then refit on all rows with that λ.
 */
export function selectRidge(
  x: Matrix,
  n: number,
  d: number,
  y: Matrix,
  f: number,
  opts: { lambdas?: number[]; validationFraction?: number; seed?: number } = {},
): RidgeSelection {
  checkShapes(x, n, d, y, f);
  const lambdas = opts.lambdas ?? [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100];
  if (!lambdas.length || lambdas.some((l) => !(l > 0))) throw new DeepcutError('invalid_input', `ridge penalties must be positive, got [${lambdas.join(', ')}]`, { field: 'lambdas' });
  const order = new Rng(opts.seed ?? 42).shuffle(Array.from({ length: n }, (_, i) => i));
  const nVal = Math.min(n - 1, Math.max(1, Math.round(n * (opts.validationFraction ?? 0.2))));
  const val = order.slice(0, nVal);
  const train = order.slice(nVal);
  const m = moments(x, d, y, f, train);
  const validation = lambdas.map((lambda) => {
    const map = solve(m, d, f, lambda);
    let se = 0;
    for (const i of val) {
      const pred = applyRidge(map, x.subarray(i * d, i * d + d), 1);
      for (let b = 0; b < f; b++) se += (pred[b] - y[i * f + b]) ** 2;
    }
    return { lambda, mse: se / (nVal * f) };
  });
  const best = validation.reduce((a, b) => (b.mse < a.mse ? b : a));
  return { map: fitRidge(x, n, d, y, f, best.lambda), validation };
}
