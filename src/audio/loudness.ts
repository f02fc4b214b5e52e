/**
 * Loudness after ITU-R BS.1770-4 (the measure EBU R128 and ffmpeg's `ebur128` filter use):
 * K-weighting (a high-shelf "pre-filter" then the RLB high-pass), mean square per channel over
 * 400 ms blocks with 75 % overlap, channel weights, an absolute gate at −70 LUFS and a relative
 * gate 10 LU below the loudness of the blocks above the absolute gate.
 */

/** Biquad coefficients, a0 normalised to 1: y = b0·x + b1·x₁ + b2·x₂ − a1·y₁ − a2·y₂. */
export interface Biquad {
  b: [number, number, number];
  a: [number, number];
}

/**
 * The two K-weighting biquads for sample rate `sr` (Hz). BS.1770 tabulates them for 48 kHz only;
 * here they are re-derived from the analog prototypes (shelf: f0 ≈ 1682 Hz, gain ≈ +4 dB,
 * Q ≈ 0.7072; high-pass: f0 ≈ 38.1 Hz, Q ≈ 0.5003) by the bilinear transform with pre-warping, which
 * reproduces the standard's 48 kHz coefficients to ~1e-8.
 */
export function kWeightingFilters(sr: number): [Biquad, Biquad] {
  let f0 = 1681.974450955533;
  const G = 3.999843853973347;
  let Q = 0.7071752369554196;
  let K = Math.tan((Math.PI * f0) / sr);
  const Vh = 10 ** (G / 20);
  const Vb = Vh ** 0.4996667741545416;
  let a0 = 1 + K / Q + K * K;
  const shelf: Biquad = {
    b: [(Vh + (Vb * K) / Q + K * K) / a0, (2 * (K * K - Vh)) / a0, (Vh - (Vb * K) / Q + K * K) / a0],
    a: [(2 * (K * K - 1)) / a0, (1 - K / Q + K * K) / a0],
  };
  f0 = 38.13547087602444;
  Q = 0.5003270373238773;
  K = Math.tan((Math.PI * f0) / sr);
  a0 = 1 + K / Q + K * K;
  const highPass: Biquad = { b: [1, -2, 1], a: [(2 * (K * K - 1)) / a0, (1 - K / Q + K * K) / a0] };
  return [shelf, highPass];
}

/** Run a cascade of biquads over `x` (direct form I, float64 state); returns a new array. */
export function filterCascade(x: Float32Array, filters: Biquad[]): Float64Array {
  const y = Float64Array.from(x);
  for (const { b, a } of filters) {
    let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (let i = 0; i < y.length; i++) {
      const xi = y[i];
      const yi = b[0] * xi + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
      x2 = x1;
      x1 = xi;
      y2 = y1;
      y1 = yi;
      y[i] = yi;
    }
  }
  return y;
}

/**
 * BS.1770 channel weights by position for common layouts: L, R, C = 1.0; LFE (4th of 6) excluded;
 * surrounds (5th, 6th of 6) 1.41. Other counts weight every channel 1.0.
 */
export function channelWeights(n: number): number[] {
  if (n === 6) return [1, 1, 1, 0, 1.41, 1.41];
  if (n === 5) return [1, 1, 1, 1.41, 1.41];
  return Array.from({ length: n }, () => 1);
}

export interface Loudness {
  /** Integrated (gated) loudness, LUFS; −Infinity (reported as null upstream) for silence. */
  integratedLufs: number;
  /** Loudness of each 400 ms block (LUFS), 100 ms apart. */
  blockLufs: Float64Array;
}

/**
 * Integrated loudness (LUFS) of `channels` at `sr` Hz per BS.1770-4 §2 and Annex 1. Only whole
 * 400 ms blocks are measured (like libebur128 / ffmpeg), so audio shorter than 400 ms is −Infinity.
 */
export function integratedLoudness(channels: Float32Array[], sr: number): Loudness {
  const filters = kWeightingFilters(sr);
  const weights = channelWeights(channels.length);
  const block = Math.round(0.4 * sr);
  const step = Math.round(0.1 * sr);
  const n = channels[0]?.length ?? 0;
  const nBlocks = n >= block ? 1 + Math.floor((n - block) / step) : 0;
  const z = new Float64Array(nBlocks);
  // Sum squares per 100 ms step once; a block is four consecutive steps.
  const nSteps = Math.floor(n / step);
  const [f1, f2] = filters;
  for (let c = 0; c < channels.length; c++) {
    if (weights[c] === 0) continue;
    // Both biquads and the per-step sums of squares in one pass (direct form I, float64 state).
    const x = channels[c];
    const stepSq = new Float64Array(nSteps);
    let x1 = 0, x2 = 0, y1 = 0, y2 = 0, z1 = 0, z2 = 0;
    const [b0, b1, b2] = f1.b;
    const [a1, a2] = f1.a;
    const [c0, c1, c2] = f2.b;
    const [d1, d2] = f2.a;
    for (let s = 0; s < nSteps; s++) {
      let acc = 0;
      for (let i = s * step, e = i + step; i < e; i++) {
        const xi = x[i];
        const yi = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        const zi = c0 * yi + c1 * y1 + c2 * y2 - d1 * z1 - d2 * z2;
        x2 = x1;
        x1 = xi;
        y2 = y1;
        y1 = yi;
        z2 = z1;
        z1 = zi;
        acc += zi * zi;
      }
      stepSq[s] = acc;
    }
    for (let j = 0; j < nBlocks; j++) {
      // block j covers steps j … j+3 (400 ms = four 100 ms steps)
      let acc = 0;
      for (let s = j; s < j + 4 && s < nSteps; s++) acc += stepSq[s];
      z[j] += (weights[c] * acc) / (4 * step);
    }
  }
  const toLufs = (ms: number) => -0.691 + 10 * Math.log10(ms);
  const blockLufs = z.map(toLufs);
  const abs: number[] = [];
  for (let j = 0; j < nBlocks; j++) if (blockLufs[j] > -70) abs.push(z[j]);
  if (abs.length === 0) return { integratedLufs: -Infinity, blockLufs };
  const relGate = toLufs(abs.reduce((a, b) => a + b, 0) / abs.length) - 10;
  let sum = 0;
  let cnt = 0;
  for (let j = 0; j < nBlocks; j++) {
    if (blockLufs[j] > -70 && blockLufs[j] > relGate) {
      sum += z[j];
      cnt++;
    }
  }
  return { integratedLufs: cnt ? toLufs(sum / cnt) : -Infinity, blockLufs };
}

/** Mean level in dBFS: 10·log10 of the mean square of `x` (−Infinity for silence). */
export function meanDb(x: Float32Array): number {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i] * x[i];
  return 10 * Math.log10(acc / Math.max(1, x.length));
}
