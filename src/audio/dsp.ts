/**
 * Digital signal processing as pure functions over typed arrays: windows, STFT, mel filter bank,
 * log-mel spectrogram, chroma (harmonic pitch class profile), onset strength, autocorrelation and
 * tempogram. Matrices are row-major Float32Arrays with their shape beside them (`frames × bins`).
 * Conventions follow librosa / transformers.js `utils/audio.js` where they exist: centred frames
 * (frame t covers samples around t·hop), periodic Hann window, Slaney mel scale and normalisation.
 */
import FFT from 'fft.js';

/** A row-major matrix: `data[r * cols + c]`, shape `rows × cols`. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Periodic Hann window of `n` samples (for spectral analysis): w[i] = 0.5 − 0.5·cos(2πi/n). */
export function hannWindow(n: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Periodic Hamming window of `n` samples: w[i] = 0.54 − 0.46·cos(2πi/n). */
export function hammingWindow(n: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

export interface StftOptions {
  /** FFT size in samples (a power of two); default 2048 (93 ms at 22,050 Hz). */
  nFft?: number;
  /** Hop between frames in samples; default 512. */
  hop?: number;
  /** Window of nFft samples; default periodic Hann. */
  window?: Float32Array;
}

/**
 * Power spectrogram |STFT|² of mono `x`. Frames are centred (zero padding of nFft/2 each side),
 * so frame t is centred on sample t·hop. Returns `frames × (nFft/2 + 1)` with
 * frames = 1 + ⌊len/hop⌋. Bin k is frequency k·sr/nFft Hz.
 */
export function powerSpectrogram(x: Float32Array, opts: StftOptions = {}): Matrix {
  const nFft = opts.nFft ?? 2048;
  const hop = opts.hop ?? 512;
  const win = opts.window ?? hannWindow(nFft);
  const bins = nFft / 2 + 1;
  const frames = 1 + Math.floor(x.length / hop);
  const out = new Float32Array(frames * bins);
  const fft = new FFT(nFft);
  const frame = new Float64Array(nFft);
  const spec = fft.createComplexArray() as number[];
  const half = nFft / 2;
  for (let t = 0; t < frames; t++) {
    const s0 = t * hop - half;
    for (let i = 0; i < nFft; i++) {
      const j = s0 + i;
      frame[i] = j >= 0 && j < x.length ? x[j] * win[i] : 0;
    }
    fft.realTransform(spec, frame);
    const o = t * bins;
    for (let k = 0; k < bins; k++) {
      const re = spec[2 * k];
      const im = spec[2 * k + 1];
      out[o + k] = re * re + im * im;
    }
  }
  return { data: out, rows: frames, cols: bins };
}

/** Hz → mel on the Slaney (Auditory Toolbox) scale: linear below 1 kHz, logarithmic above. */
export function hzToMel(f: number): number {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return f < minLogHz ? f / fSp : minLogMel + Math.log(f / minLogHz) / logStep;
}

/** Inverse of {@link hzToMel}. */
export function melToHz(m: number): number {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return m < minLogMel ? m * fSp : minLogHz * Math.exp(logStep * (m - minLogMel));
}

/** A sparse filter bank: band b weights bins `start[b] … start[b] + weights[b].length − 1`. */
export interface FilterBank {
  start: Int32Array;
  weights: Float32Array[];
  bands: number;
  bins: number;
}

/**
 * Triangular mel filter bank (Slaney scale, Slaney "area" normalisation 2/(f_{b+2} − f_b), as
 * librosa `filters.mel(norm='slaney')`). `nMels` bands between fMin and fMax Hz over the
 * nFft/2 + 1 bins of an STFT at `sr` Hz.
 */
export function melFilterBank(sr: number, nFft: number, nMels = 128, fMin = 0, fMax = sr / 2): FilterBank {
  const bins = nFft / 2 + 1;
  const mMin = hzToMel(fMin);
  const mMax = hzToMel(fMax);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHz(mMin + ((mMax - mMin) * i) / (nMels + 1)));
  const start = new Int32Array(nMels);
  const weights: Float32Array[] = [];
  for (let b = 0; b < nMels; b++) {
    const [lo, c, hi] = [edges[b], edges[b + 1], edges[b + 2]];
    const norm = 2 / (hi - lo);
    const w: number[] = [];
    let first = -1;
    for (let k = 0; k < bins; k++) {
      const f = (k * sr) / nFft;
      const v = Math.max(0, Math.min((f - lo) / (c - lo), (hi - f) / (hi - c)));
      if (v > 0) {
        if (first < 0) first = k;
        // keep the run contiguous: pad zeros between first and k (a triangle is contiguous anyway)
        while (first + w.length < k) w.push(0);
        w.push(v * norm);
      }
    }
    start[b] = Math.max(0, first);
    weights.push(Float32Array.from(w));
  }
  return { start, weights, bands: nMels, bins };
}

/** Apply a filter bank to a power spectrogram: `frames × bins` → `frames × bands`. */
export function applyFilterBank(spec: Matrix, fb: FilterBank): Matrix {
  if (spec.cols !== fb.bins) throw new Error(`filter bank expects ${fb.bins} bins, spectrogram has ${spec.cols}`);
  const out = new Float32Array(spec.rows * fb.bands);
  for (let t = 0; t < spec.rows; t++) {
    const o = t * spec.cols;
    for (let b = 0; b < fb.bands; b++) {
      const w = fb.weights[b];
      const s = o + fb.start[b];
      let acc = 0;
      for (let i = 0; i < w.length; i++) acc += w[i] * spec.data[s + i];
      out[t * fb.bands + b] = acc;
    }
  }
  return { data: out, rows: spec.rows, cols: fb.bands };
}

/**
 * Power → decibels in place: 10·log10(max(x, amin)) − 10·log10(ref), then floored at
 * (max − topDb) like librosa `power_to_db`. Returns the same matrix.
 */
export function powerToDb(m: Matrix, ref = 1, amin = 1e-10, topDb: number | null = 80): Matrix {
  const d = m.data;
  const r = 10 * Math.log10(Math.max(amin, ref));
  let max = -Infinity;
  for (let i = 0; i < d.length; i++) {
    d[i] = 10 * Math.log10(Math.max(amin, d[i])) - r;
    if (d[i] > max) max = d[i];
  }
  if (topDb !== null) for (let i = 0; i < d.length; i++) if (d[i] < max - topDb) d[i] = max - topDb;
  return m;
}

/** Log-mel spectrogram (dB) of mono `x` at `sr` Hz: `frames × nMels`. */
export function logMelSpectrogram(x: Float32Array, sr: number, opts: StftOptions & { nMels?: number } = {}): Matrix {
  const nFft = opts.nFft ?? 2048;
  const spec = powerSpectrogram(x, opts);
  return powerToDb(applyFilterBank(spec, melFilterBank(sr, nFft, opts.nMels ?? 128)));
}

export interface ChromaOptions {
  /** Lowest and highest peak frequency considered, Hz (default 60–5000). */
  fMin?: number;
  fMax?: number;
  /** Harmonics each peak votes for as a fundamental f/h, weighted 0.6^(h−1); default 1 (none). */
  harmonics?: number;
  /** Peaks quieter than the frame's loudest by more than this (dB) are ignored; default 50. */
  dynamicRangeDb?: number;
  /** Reference tuning offset in semitones (from {@link estimateTuning}); default 0 (A = 440 Hz). */
  tuning?: number;
  /** Scale each frame to max 1 (default true); false keeps peak power (loud frames count more). */
  frameNorm?: boolean;
}

/** Spectral peaks of one power-spectrum frame: interpolated frequency (bins) and magnitude². */
function framePeaks(row: Float32Array, o: number, k0: number, k1: number, rangeDb: number, cb: (bin: number, power: number) => void): void {
  let max = 0;
  for (let k = k0; k <= k1; k++) if (row[o + k] > max) max = row[o + k];
  if (max <= 1e-12) return;
  const floor = max * 10 ** (-rangeDb / 10);
  for (let k = Math.max(1, k0); k <= k1; k++) {
    const b = row[o + k];
    if (b <= floor || b <= row[o + k - 1] || b < row[o + k + 1]) continue;
    // parabolic interpolation on the log spectrum (Smith & Serra): offset p in [−0.5, 0.5]
    const a = Math.log(row[o + k - 1] + 1e-20);
    const c = Math.log(row[o + k + 1] + 1e-20);
    const l = Math.log(b);
    const den = a - 2 * l + c;
    const p = den < 0 ? (0.5 * (a - c)) / den : 0;
    cb(k + p, Math.exp(l - 0.25 * (a - c) * p));
  }
}

/**
 * Tuning offset (semitones, in [−0.5, 0.5)) of a power spectrogram: the circular mean of the
 * spectral peaks' deviations from equal temperament at A = 440 Hz, weighted by peak power.
 */
export function estimateTuning(spec: Matrix, sr: number, nFft: number, fMin = 60, fMax = 5000): number {
  const k0 = Math.ceil((fMin * nFft) / sr);
  const k1 = Math.min(spec.cols - 2, Math.floor((fMax * nFft) / sr));
  let sx = 0;
  let sy = 0;
  for (let t = 0; t < spec.rows; t++) {
    framePeaks(spec.data, t * spec.cols, k0, k1, 40, (bin, pw) => {
      const midi = 69 + 12 * Math.log2(((bin * sr) / nFft) / 440);
      const dev = midi - Math.round(midi);
      sx += pw * Math.cos(2 * Math.PI * dev);
      sy += pw * Math.sin(2 * Math.PI * dev);
    });
  }
  if (sx === 0 && sy === 0) return 0;
  return Math.atan2(sy, sx) / (2 * Math.PI);
}

/**
 * Chroma as a harmonic pitch class profile (Gómez 2006): each spectral peak between fMin and fMax
 * adds its power to the two nearest pitch classes with a cos² weight over a 4/3-semitone window.
 * Input: power spectrogram `frames × (nFft/2+1)` at `sr`. Output `frames × 12`, column 0 = C,
 * 9 = A, each frame scaled to max 1 (silent frames stay 0).
 */
export function chroma(spec: Matrix, sr: number, nFft: number, opts: ChromaOptions = {}): Matrix {
  const fMin = opts.fMin ?? 60;
  const fMax = opts.fMax ?? 5000;
  const H = opts.harmonics ?? 1;
  const tuning = opts.tuning ?? 0;
  const k0 = Math.ceil((fMin * nFft) / sr);
  const k1 = Math.min(spec.cols - 2, Math.floor((fMax * nFft) / sr));
  const out = new Float32Array(spec.rows * 12);
  const halfWidth = 2 / 3; // semitones
  for (let t = 0; t < spec.rows; t++) {
    const o = t * 12;
    framePeaks(spec.data, t * spec.cols, k0, k1, opts.dynamicRangeDb ?? 50, (bin, pw) => {
      const f = (bin * sr) / nFft;
      for (let h = 1; h <= H; h++) {
        const pitch = 69 + 12 * Math.log2(f / h / 440) - tuning;
        const w0 = 0.6 ** (h - 1) * pw;
        const lo = Math.floor(pitch);
        for (const p of [lo, lo + 1]) {
          const d = Math.abs(pitch - p);
          if (d >= halfWidth) continue;
          const c = Math.cos((Math.PI / 2) * (d / halfWidth));
          out[o + (((p % 12) + 12) % 12)] += w0 * c * c;
        }
      }
    });
    if (opts.frameNorm === false) continue;
    let m = 0;
    for (let i = 0; i < 12; i++) if (out[o + i] > m) m = out[o + i];
    if (m > 0) for (let i = 0; i < 12; i++) out[o + i] /= m;
  }
  return { data: out, rows: spec.rows, cols: 12 };
}

/**
 * Onset strength envelope by spectral flux on a log-mel spectrogram (dB, `frames × bands`):
 * o[t] = mean over bands of max(0, S[t, b] − S[t − lag, b]). Length = frames; o[0..lag) = 0.
 * Frame rate = sr / hop.
 */
export function onsetStrength(logMel: Matrix, lag = 1, bandRange: [number, number] = [0, logMel.cols]): Float32Array {
  const { rows, cols, data } = logMel;
  const out = new Float32Array(rows);
  const [b0, b1] = bandRange;
  for (let t = lag; t < rows; t++) {
    let s = 0;
    const a = t * cols;
    const p = (t - lag) * cols;
    for (let b = b0; b < b1; b++) {
      const d = data[a + b] - data[p + b];
      if (d > 0) s += d;
    }
    out[t] = s / (b1 - b0);
  }
  return out;
}

/**
 * Autocorrelation r[k] = Σ_n x[n]·x[n+k] for k = 0 … maxLag (inclusive), computed by FFT
 * (zero-padded, so not circular). Returns maxLag + 1 values.
 */
export function autocorrelation(x: ArrayLike<number>, maxLag = x.length - 1): Float64Array {
  let n = 1;
  while (n < 2 * x.length) n <<= 1;
  const fft = new FFT(n);
  const input = new Float64Array(n);
  for (let i = 0; i < x.length; i++) input[i] = x[i];
  const spec = fft.createComplexArray() as number[];
  fft.realTransform(spec, input);
  fft.completeSpectrum(spec);
  for (let k = 0; k < n; k++) {
    const re = spec[2 * k];
    const im = spec[2 * k + 1];
    spec[2 * k] = re * re + im * im;
    spec[2 * k + 1] = 0;
  }
  const back = fft.createComplexArray() as number[];
  fft.inverseTransform(back, spec);
  const L = Math.min(maxLag, x.length - 1);
  const r = new Float64Array(L + 1);
  for (let k = 0; k <= L; k++) r[k] = back[2 * k];
  return r;
}

/**
 * Autocorrelation tempogram: the onset envelope cut into windows of `win` frames every `hop`
 * frames (Hann-weighted), each window's autocorrelation for lags 0 … maxLag normalised by its
 * lag-0 value. Output `windows × (maxLag + 1)`; lag k frames ↔ 60·frameRate/k BPM.
 */
export function tempogram(onset: Float32Array, win: number, hop: number, maxLag: number): Matrix {
  const w = hannWindow(win);
  const nWin = Math.max(1, 1 + Math.floor((onset.length - win) / hop));
  const cols = maxLag + 1;
  const out = new Float32Array(nWin * cols);
  const seg = new Float64Array(Math.min(win, onset.length));
  for (let i = 0; i < nWin; i++) {
    const s = i * hop;
    for (let j = 0; j < seg.length; j++) seg[j] = (onset[s + j] ?? 0) * w[j];
    const r = autocorrelation(seg, maxLag);
    const z = r[0] > 0 ? r[0] : 1;
    for (let k = 0; k < r.length; k++) out[i * cols + k] = r[k] / z;
  }
  return { data: out, rows: nWin, cols };
}
