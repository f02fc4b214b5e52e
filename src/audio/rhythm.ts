/**
 * Rhythm from an onset strength envelope (frames at `frameRate` Hz): global tempo from an
 * autocorrelation tempogram with a log-normal tempo prior and harmonic checks, a beat grid by
 * dynamic programming (Ellis 2007, "Beat tracking by dynamic programming", J. New Music Res.),
 * and the meter (3/4, 4/4, or 6/8 when the beat divides in three) from accent and harmony
 * periodicity over the beats.
 */
import { tempogram, type Matrix } from './dsp.ts';

export interface TempoOptions {
  /** Centre of the log-normal tempo prior, BPM (default 120). */
  priorBpm?: number;
  /** Width of the prior in octaves (standard deviation of log2 BPM; default 1). */
  priorOctaves?: number;
  minBpm?: number;
  maxBpm?: number;
  /**
   * Onset envelope of the kick and bass (same frames as the main one). When it is clearly periodic,
   * a beat period is only accepted if the bass recurs within three beats of it (see {@link bassSupport}).
   */
  bass?: Float32Array;
}

export interface TempoEstimate {
  /** Beats per minute. */
  bpm: number;
  /** Beat period in frames (fractional). */
  period: number;
  /** Normalised autocorrelation at the beat period, 0–1: how clear the pulse is. */
  pulseClarity: number;
  /** The global autocorrelation (lag 0 … maxLag, normalised to r[0] = 1). */
  acf: Float64Array;
  /** BPM of the runner-up metrical level (the best-scoring period near ½, 2, ⅓ or 3 times this one), 0 if none. */
  alternative: number;
  /** 0–1: 1 − the runner-up level's score over the winner's: near 0 when the two octaves tie. */
  octaveMargin: number;
}

/** Subtract a centred moving average of `w` frames and half-wave rectify (a simple high-pass). */
export function detrendOnset(o: Float32Array, w: number): Float32Array {
  const out = new Float32Array(o.length);
  const c = new Float64Array(o.length + 1);
  for (let i = 0; i < o.length; i++) c[i + 1] = c[i] + o[i];
  const h = Math.floor(w / 2);
  for (let i = 0; i < o.length; i++) {
    const a = Math.max(0, i - h);
    const b = Math.min(o.length, i + h + 1);
    out[i] = Math.max(0, o[i] - (c[b] - c[a]) / (b - a));
  }
  return out;
}

/** Parabolic-peak refinement of index k in `r`: fractional position of the vertex. */
function refine(r: ArrayLike<number>, k: number): number {
  if (k <= 0 || k >= r.length - 1) return k;
  const a = r[k - 1], b = r[k], c = r[k + 1];
  const den = a - 2 * b + c;
  return den < 0 ? k + (0.5 * (a - c)) / den : k;
}

/** Linear interpolation of r at fractional lag x. */
function at(r: ArrayLike<number>, x: number): number {
  const i = Math.floor(x);
  if (i < 0 || i + 1 >= r.length) return 0;
  return r[i] + (x - i) * (r[i + 1] - r[i]);
}

/**
 * Mean of the normalised autocorrelations (lags 0 … maxLag frames) of 8 s windows every 2 s of the
 * detrended onset envelope.
 */
function meanAutocorrelation(onset: Float32Array, frameRate: number, maxLag: number): Float64Array {
  const o = detrendOnset(onset, Math.round(frameRate));
  const tg = tempogram(o, Math.min(o.length, Math.round(8 * frameRate)), Math.round(2 * frameRate), maxLag);
  const r = new Float64Array(tg.cols);
  for (let i = 0; i < tg.rows; i++) for (let k = 0; k < tg.cols; k++) r[k] += tg.data[i * tg.cols + k] / tg.rows;
  return r;
}

/**
 * Global tempo of an onset envelope. The mean of 8 s autocorrelation windows (hop 2 s) is scored
 * at each lag τ as S(τ) = prior(τ) · (r(τ) + ½·r(2τ)) — the second term favours the period whose
 * double also recurs, i.e. the beat over its subdivisions — and the best lag is refined
 * parabolically. With `opts.bass`, lags the kick/bass band does not support are skipped
 * ({@link bassSupport}). `frameRate` in Hz (sr/hop).
 */
export function estimateTempo(onset: Float32Array, frameRate: number, opts: TempoOptions = {}): TempoEstimate {
  const priorBpm = opts.priorBpm ?? 120;
  const sigma = opts.priorOctaves ?? 1;
  const minBpm = opts.minBpm ?? 40;
  const maxBpm = opts.maxBpm ?? 240;
  const maxLag = Math.ceil((60 * frameRate * 2) / minBpm) + 2; // room for r(2τ)
  const acf = meanAutocorrelation(onset, frameRate, maxLag);
  const lagMin = Math.max(1, Math.floor((60 * frameRate) / maxBpm));
  const lagMax = Math.min(Math.ceil((60 * frameRate) / minBpm), Math.floor((acf.length - 1) / 2));
  // the bass band's own period is looked for over the default range, whatever this call's range
  const support = opts.bass ? bassSupport(opts.bass, frameRate, Math.max(maxLag, Math.ceil((60 * frameRate * 2) / 40) + 2), Math.floor((60 * frameRate) / 240)) : undefined;
  let bestK = -1;
  let bestS = -Infinity;
  const scores: [number, number][] = []; // [lag, score] of every candidate
  for (let k = lagMin; k <= lagMax; k++) {
    // only local maxima of r are candidate periods
    if (!(acf[k] >= acf[k - 1] && acf[k] >= acf[k + 1])) continue;
    if (support && support(refine(acf, k)) < BASS_SUPPORT) continue;
    const bpm = (60 * frameRate) / k;
    const prior = Math.exp(-0.5 * (Math.log2(bpm / priorBpm) / sigma) ** 2);
    const s = prior * (Math.max(0, acf[k]) + 0.5 * Math.max(0, at(acf, 2 * refine(acf, k))));
    scores.push([k, s]);
    if (s > bestS) {
      bestS = s;
      bestK = k;
    }
  }
  if (bestK < 0) return { bpm: 0, period: 0, pulseClarity: 0, acf, alternative: 0, octaveMargin: 0 };
  const period = refine(acf, bestK);
  // the runner-up metrical level: the best candidate near 2, ½, 3 or ⅓ of the winner's period
  let altK = -1;
  let altS = 0;
  for (const [k, sc] of scores)
    if ([2, 0.5, 3, 1 / 3].some((m) => Math.abs(k / bestK / m - 1) < 0.06) && sc > altS) {
      altS = sc;
      altK = k;
    }
  const alternative = altK > 0 ? (60 * frameRate) / refine(acf, altK) : 0;
  return { bpm: (60 * frameRate) / period, period, pulseClarity: Math.max(0, Math.min(1, acf[bestK])), acf, alternative, octaveMargin: altK > 0 ? Math.max(0, 1 - altS / bestS) : 1 };
}

/**
 * A beat period needs at least this bass support: 0.4 fixed the demo world's one-drop (reggae) and
 * hip-hop at double tempo and kept every rendered-MIDI piece; 0.5 and 0.6 halved 1 and 3 fast MIDI
 * pieces (measured without the off-beat check below, with the audio-midi set and 2 × 400 demo clips, docs/audio.md).
 */
const BASS_SUPPORT = 0.4;
/** Below this autocorrelation peak the bass band has no period worth trusting. */
const BASS_MIN_R = 0.3;

/**
 * How well the kick/bass band supports a beat period τ (frames): max over m = 1, 2, 3 of its
 * autocorrelation at m·τ, relative to its strongest peak. The bass of a bar recurs every beat, every
 * other beat (4/4 with the kick on 1 and 3) or once a bar of three; a period whose multiples up to
 * 3 miss the bass entirely is a subdivision of the beat (a one-drop's eighths heard as beats).
 * Returns a function that is 1 everywhere when the bass band has no clear period (peak r < 0.3).
 */
export function bassSupport(bass: Float32Array, frameRate: number, maxLag: number, lagMin: number): (tau: number) => number {
  const r = meanAutocorrelation(bass, frameRate, maxLag);
  let top = 0;
  for (let k = Math.max(1, lagMin); k < r.length - 1; k++) if (r[k] >= r[k - 1] && r[k] >= r[k + 1] && r[k] > top) top = r[k];
  if (!(top >= BASS_MIN_R)) return () => 1;
  const near = (x: number) => {
    let m = 0;
    for (let k = Math.floor(x * 0.97); k <= Math.ceil(x * 1.03) && k < r.length; k++) if (r[k] > m) m = r[k];
    return m;
  };
  return (tau) => Math.max(near(tau), near(2 * tau), near(3 * tau)) / top;
}

/**
 * Beat times by dynamic programming (Ellis 2007): maximise Σ onset(bᵢ) − α·Σ log²((bᵢ − bᵢ₋₁)/P)
 * over beat sequences, P = `period` frames, α = `tightness`. Returns beat positions in frames
 * (ascending). The onset envelope is normalised by its standard deviation and smoothed with a
 * Gaussian of width P/32 first, as in the paper.
 */
export function trackBeats(onset: Float32Array, period: number, tightness = 100): number[] {
  const n = onset.length;
  if (n === 0 || !(period > 1)) return [];
  let mean = 0;
  for (const v of onset) mean += v;
  mean /= n;
  let varSum = 0;
  for (const v of onset) varSum += (v - mean) ** 2;
  const sd = Math.sqrt(varSum / n) || 1;
  const half = Math.round(period);
  const kernel = Array.from({ length: 2 * half + 1 }, (_, i) => Math.exp(-0.5 * (((i - half) * 32) / period) ** 2));
  const local = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let acc = 0;
    for (let j = -half; j <= half; j++) {
      const u = t + j;
      if (u >= 0 && u < n) acc += (onset[u] / sd) * kernel[j + half];
    }
    local[t] = acc;
  }
  const cum = new Float64Array(n);
  const back = new Int32Array(n).fill(-1);
  const lo = Math.round(period / 2);
  const hi = Math.round(2 * period);
  // penalty table over the allowed back-step range
  const pen = new Float64Array(hi + 1);
  for (let d = lo; d <= hi; d++) pen[d] = -tightness * Math.log(d / period) ** 2;
  for (let t = 0; t < n; t++) {
    let best = -Infinity;
    let arg = -1;
    for (let d = lo; d <= hi && t - d >= 0; d++) {
      const v = cum[t - d] + pen[d];
      if (v > best) {
        best = v;
        arg = t - d;
      }
    }
    cum[t] = local[t] + (arg >= 0 && best > 0 ? best : 0);
    back[t] = arg >= 0 && best > 0 ? arg : -1;
  }
  // Start the backtrace from the best score within the last period.
  let end = n - 1;
  for (let t = Math.max(0, n - half); t < n; t++) if (cum[t] > cum[end]) end = t;
  const beats: number[] = [];
  for (let t = end; t >= 0; t = back[t]) beats.push(t);
  beats.reverse();
  // Trim weak beats at the edges (silence before/after the music): below half the RMS of the beat
  // onsets, as librosa does.
  let rms = 0;
  for (const b of beats) rms += local[b] ** 2;
  rms = Math.sqrt(rms / Math.max(1, beats.length));
  let s = 0;
  let e = beats.length;
  while (s < e && local[beats[s]] < 0.5 * rms) s++;
  while (e > s && local[beats[e - 1]] < 0.5 * rms) e--;
  return beats.slice(s, e);
}

/** Tempo (BPM) from a beat grid: 60·frameRate over the least-squares slope of beat frame vs index. */
export function tempoFromBeats(beats: number[], frameRate: number): number {
  const n = beats.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  let my = 0;
  for (const b of beats) my += b;
  my /= n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * (beats[i] - my);
    den += (i - mx) ** 2;
  }
  return (60 * frameRate) / (num / den);
}

export interface MeterEstimate {
  /** Beats per bar: 3 or 4, or 2 in compound duple meter (6/8, the beat a dotted quarter). */
  beatsPerBar: 2 | 3 | 4;
  /** The time signature's numerator: 2 (2/4), 3 (3/4), 4 (4/4) or 6 (6/8); 0 with too few beats to tell. */
  timeSignature: 0 | 2 | 3 | 4 | 6;
  /** Index into the beat list of the first downbeat. */
  downbeat: number;
  /** Score margin of the winner over the other meter (z units; ≥ 0). */
  margin: number;
  /**
   * Set when the beats given were not the 6/8 bar's dotted quarters but its eighths
   * ({@link eighthsOfCompound}) or its quarters ({@link quartersOfCompound}): the dotted-quarter
   * beat grid (frames, `downbeat` indexes it) and the tempo's factor (⅓ or ⅔).
   */
  regrid?: { beats: number[]; tempoFactor: number };
}

/** (x − mean) / max(sd, minSd): a floor on sd keeps a near-constant series from becoming noise. */
function zscore(x: number[], minSd = 1e-9): number[] {
  const m = x.reduce((a, b) => a + b, 0) / Math.max(1, x.length);
  const sd = Math.max(minSd, Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, x.length)));
  return x.map((v) => (v - m) / sd);
}

/**
 * Meter and downbeat from beat-synchronous evidence: per beat, the accent (peak of the low-band
 * and full-band onset envelopes near the beat) and the harmonic change (cosine distance between
 * the chroma of the beat and of the one before). For M ∈ {3, 4} and each phase φ, the score is
 * the mean evidence on beats ≡ φ (mod M) minus the mean on the others; the meter with the
 * better best phase wins. A beat divided in three ({@link subdivision}) makes it 6/8 instead: two
 * beats a bar, the downbeat phase by the same score with M = 2. `chroma` is `frames × 12`, one chroma frame every `chromaStep` onset frames.
 */
export function estimateMeter(beats: number[], onsetFull: Float32Array, onsetLow: Float32Array, chroma: Matrix, period: number, chromaStep = 1, frameRate = 22_050 / 256): MeterEstimate {
  const nb = beats.length;
  if (nb < 8) return { beatsPerBar: 4, timeSignature: 0, downbeat: 0, margin: 0 };
  const w = Math.max(1, Math.round(period / 8));
  const peak = (o: Float32Array, b: number) => {
    let m = 0;
    for (let t = Math.max(0, b - w); t <= Math.min(o.length - 1, b + w); t++) if (o[t] > m) m = o[t];
    return m;
  };
  const accLow = zscore(beats.map((b) => peak(onsetLow, b)));
  const accFull = zscore(beats.map((b) => peak(onsetFull, b)));
  // beat-synchronous chroma: mean over [beat, next beat)
  const sync: Float64Array[] = beats.map((b, i) => {
    const s = Math.round(b / chromaStep);
    const e = Math.max(s + 1, Math.min(chroma.rows, Math.round((i + 1 < nb ? beats[i + 1] : b + period) / chromaStep)));
    const v = new Float64Array(12);
    for (let t = s; t < e && t < chroma.rows; t++) for (let j = 0; j < 12; j++) v[j] += chroma.data[t * 12 + j];
    return v;
  });
  const change = zscore(
    sync.map((v, i) => {
      if (i === 0) return 0;
      const u = sync[i - 1];
      let d = 0, a = 0, c = 0;
      for (let j = 0; j < 12; j++) {
        d += u[j] * v[j];
        a += u[j] * u[j];
        c += v[j] * v[j];
      }
      return a > 0 && c > 0 ? 1 - d / Math.sqrt(a * c) : 0;
    }),
    0.05, // cosine distance: below this spread the harmony does not change
  );
  const evidence = beats.map((_, i) => accLow[i] + 0.5 * accFull[i] + change[i]);
  const score = (M: number) => {
    let best = { s: -Infinity, phase: 0 };
    for (let ph = 0; ph < M; ph++) {
      let on = 0, nOn = 0, off = 0, nOff = 0;
      for (let i = 1; i < nb; i++) {
        if ((i - ph) % M === 0) {
          on += evidence[i];
          nOn++;
        } else {
          off += evidence[i];
          nOff++;
        }
      }
      const s = on / Math.max(1, nOn) - off / Math.max(1, nOff);
      if (s > best.s) best = { s, phase: ph };
    }
    return best;
  };
  const sub = subdivision(beats, onsetFull, period);
  if (sub.ternary >= COMPOUND_MIN && sub.ternary >= COMPOUND_RATIO * sub.binary) {
    const s2 = score(2);
    return { beatsPerBar: 2, timeSignature: 6, downbeat: s2.phase, margin: 1 - sub.binary / sub.ternary };
  }
  const s3 = score(3);
  const s4 = score(4);
  if (s3.s > s4.s) {
    // the eighths of 6/8 at 40 (the slowest tempo reported) to 55 dotted quarters
    const bpm = (60 * frameRate) / period;
    const six = bpm >= 3 * 40 && bpm <= COMPOUND_EIGHTHS_MAX_BPM ? eighthsOfCompound(evidence, change) : undefined;
    if (six) {
      const first = six.downbeat % 3;
      return { beatsPerBar: 2, timeSignature: 6, downbeat: (six.downbeat - first) / 3, margin: six.margin, regrid: { beats: beats.filter((_, i) => i >= first && (i - first) % 3 === 0), tempoFactor: 1 / 3 } };
    }
    // 6/8 heard at its quarters has its eighths halfway between them
    const hemiola = sub.binary >= HEMIOLA_EIGHTHS ? quartersOfCompound(beats, onsetLow, s3.phase, w) : undefined;
    if (hemiola) return { beatsPerBar: 2, timeSignature: 6, downbeat: 0, margin: hemiola.margin, regrid: { beats: hemiola.beats, tempoFactor: 2 / 3 } };
    return { beatsPerBar: 3, timeSignature: 3, downbeat: s3.phase, margin: s3.s - s4.s };
  }
  // 2/4 or 4/4: is the half bar (beat 3 of a 4/4 bar) as strong as the bar's start? In 4/4 the
  // harmony changes and the accents fall on beat 1; in 2/4 on every other beat alike. Both the
  // whole evidence and the harmonic changes alone must say so (a kick on 1 and 3 is not enough).
  const halfBar = (x: number[]) => {
    const mean = (ph: number, M: number) => {
      let sum = 0, n = 0;
      for (let i = 1; i < nb; i++)
        if ((((i - ph) % M) + M) % M === 0) {
          sum += x[i];
          n++;
        }
      return sum / Math.max(1, n);
    };
    const odd = mean(s4.phase + 1, 2);
    const bar = mean(s4.phase, 4) - odd;
    return bar > 0.3 ? (mean(s4.phase + 2, 4) - odd) / bar : 0;
  };
  const half = Math.min(halfBar(evidence), halfBar(change) / DUPLE_CHANGE * DUPLE_HALF_BAR);
  if (half >= DUPLE_HALF_BAR) return { beatsPerBar: 2, timeSignature: 2, downbeat: s4.phase % 2, margin: Math.min(1, half - DUPLE_HALF_BAR) };
  return { beatsPerBar: 4, timeSignature: 4, downbeat: s4.phase, margin: Math.min(s4.s - s3.s, DUPLE_HALF_BAR - half) };
}

/**
 * Groups of three beats that are half bars, not bars: 6/8 heard at the eighth-note level (a slow
 * 6/8, 40–55 dotted quarters, has its eighths at 120–165 BPM, a waltz's tempo). Over six beats,
 * the bar's start carries the accents and the harmony changes; in 6/8 the fourth beat (the bar's
 * second dotted quarter) has a lighter accent and hardly a harmonic change (the bass may move to
 * the fifth, the chord stays), where a waltz's fourth beat is the next bar's downbeat, as strong as
 * the first. Returns the downbeat (index of the first bar start) and a margin, or undefined.
 */
export function eighthsOfCompound(evidence: number[], change: number[]): { downbeat: number; margin: number } | undefined {
  const nb = evidence.length;
  if (nb < 24) return undefined; // four bars of 6/8 at least
  const mean = (x: number[], ph: number) => {
    let sum = 0, n = 0;
    for (let i = 1; i < nb; i++)
      if ((((i - ph) % 6) + 6) % 6 === 0) {
        sum += x[i];
        n++;
      }
    return sum / Math.max(1, n);
  };
  // the bar start (strongest of six phases), and the fourth beat's share of its lead over the rest
  const halfBar = (x: number[]) => {
    let ph = 0;
    for (let p = 1; p < 6; p++) if (mean(x, p) > mean(x, ph)) ph = p;
    const rest = (mean(x, ph + 1) + mean(x, ph + 2) + mean(x, ph + 4) + mean(x, ph + 5)) / 4;
    const lead = mean(x, ph) - rest;
    return { ph, lead, share: lead > 0 ? (mean(x, ph + 3) - rest) / lead : 1 };
  };
  const ev = halfBar(evidence);
  const ch = halfBar(change);
  if (!(ch.lead >= COMPOUND_CHANGE_LEAD && ch.share < COMPOUND_HALF_CHANGE && ev.share < COMPOUND_HALF_ACCENT)) return undefined;
  return { downbeat: ev.ph % 6, margin: Math.min(1, COMPOUND_HALF_CHANGE - ch.share + COMPOUND_HALF_ACCENT - ev.share) };
}

/**
 * Three beats a bar that are the quarters of a 6/8 bar (a hemiola: 6/8 heard at 1.5 times its
 * dotted-quarter tempo, as 3/4): the bar's second dotted quarter falls halfway between its second
 * and third "beats". In 6/8 that point carries the low band's accent (the snare's body, the bass
 * moving to the fifth) and the second and third beats only eighth-note fill; in a waltz the
 * second and third beats carry it and the point between them is an off-beat. Returns the
 * dotted-quarter grid (two beats a bar from the first downbeat on) when the low band at the mid-bar
 * point is at least {@link HEMIOLA_MID} of that on the beats it falls between. `w` is the peak
 * search half-width (frames).
 */
export function quartersOfCompound(beats: number[], onsetLow: Float32Array, phase: number, w: number): { beats: number[]; margin: number } | undefined {
  const peak = (x: number) => {
    let m = 0;
    for (let t = Math.max(0, Math.round(x) - w); t <= Math.min(onsetLow.length - 1, Math.round(x) + w); t++) if (onsetLow[t] > m) m = onsetLow[t];
    return m;
  };
  let mid = 0, sides = 0, bars = 0;
  const grid: number[] = [];
  for (let i = phase; i + 3 < beats.length; i += 3) {
    const m = (beats[i + 1] + beats[i + 2]) / 2;
    mid += peak(m);
    sides += (peak(beats[i + 1]) + peak(beats[i + 2])) / 2;
    grid.push(beats[i], m);
    bars++;
  }
  if (bars < 4 || !(sides > 0)) return undefined;
  const ratio = mid / sides;
  return ratio >= HEMIOLA_MID ? { beats: grid, margin: Math.min(1, ratio - HEMIOLA_MID) } : undefined;
}

/**
 * See {@link quartersOfCompound}; only when the onsets halfway between the beats (the eighths) have
 * at least {@link HEMIOLA_EIGHTHS} of the beats' strength (a slow 3/4 without drums, whose bass and
 * melody moved mid-bar, was read as 6/8 without this).
 */
const HEMIOLA_MID = 1;
const HEMIOLA_EIGHTHS = 0.3;

/**
 * 6/8 at the eighth-note level ({@link eighthsOfCompound}) when, over six beats, the harmonic
 * changes on the fourth are below 0.35 of those at the bar's start (which must lead the other beats
 * by 1 z unit) and the whole evidence below 0.6: on the audio-midi set's compound group 2 of its 5
 * pieces heard at the eighth level fall below both; of 20 waltzes, 2 fall below one of them, none
 * below both.
 */
const COMPOUND_HALF_CHANGE = 0.35;
/** … and only for beats at most this fast (a waltz at 177 BPM was read as 6/8 at 59 without it). */
const COMPOUND_EIGHTHS_MAX_BPM = 165;
const COMPOUND_HALF_ACCENT = 0.6;
const COMPOUND_CHANGE_LEAD = 1;

/**
 * 2/4 rather than 4/4 when the evidence on the half bar, above the off-beats', is at least this
 * share of the bar start's (measured on the audio-midi set's duple and 4/4 pieces).
 */
const DUPLE_HALF_BAR = 0.7;
/** … and the harmonic changes on the half bar at least this share of those at the bar's start. */
const DUPLE_CHANGE = 0.5;

/**
 * Whether the half-beat positions of a beat grid are beats themselves, i.e. the tempo found is half
 * the true one (a backbeat heard as off-beats: metal at 180 heard at 90). True when, between
 * consecutive beats, the mid band (snare body, chords: not hi-hats) has an onset at least 0.6 as
 * strong as on the beats and the full band one at least 0.5 as strong, in a simple (binary) meter.
 * Measured on the demo world's clips: 0.93–1.36 in the mid band for half-tempo errors, ≤ 0.44 at
 * the right tempo except one-drop reggae (off-beat chords), whose double the bass rules out.
 * `onsetMid` is the mid band's onset envelope; frames throughout.
 */
export function offBeatsAreBeats(beats: number[], onsetFull: Float32Array, onsetMid: Float32Array, period: number): boolean {
  if (beats.length < 8) return false;
  const full = subdivision(beats, onsetFull, period);
  if (full.binary < 0.5 || full.ternary >= full.binary) return false;
  return subdivision(beats, onsetMid, period).binary >= 0.6;
}

/**
 * The tempo octave, decided with the metrical structure rather than the strongest periodicity
 * alone: when the runner-up level is half the tempo found, it is the beat unless its off-beats —
 * the beats found — carry beats' accents ({@link offBeatsAreBeats}: a snare or chords halfway,
 * in the mid band). Slow music whose eighths (hats, arpeggios, strumming) recur as strongly as
 * its beats is otherwise heard at double tempo. Returns the slower estimate, its runner-up the
 * faster one, or undefined to keep `tempo`. `onsetMid` as in {@link offBeatsAreBeats}.
 */
export function halfTimeIsBeat(tempo: TempoEstimate, onsetFull: Float32Array, onsetMid: Float32Array, frameRate: number): TempoEstimate | undefined {
  if (!(tempo.alternative >= 40) || Math.abs(tempo.alternative / (tempo.bpm / 2) - 1) > 0.06) return undefined;
  const period = (60 * frameRate) / tempo.alternative;
  const beats = trackBeats(onsetFull, period);
  if (beats.length < 8) return undefined;
  const full = subdivision(beats, onsetFull, period);
  const mid = subdivision(beats, onsetMid, period);
  if (!(full.binary < HALF_TIME_FULL && mid.binary < HALF_TIME_MID)) return undefined;
  // the slower level's score relative to the faster one's: its margin is what the accents add
  return { ...tempo, bpm: tempo.alternative, period, alternative: tempo.bpm, octaveMargin: Math.min(1, 1 - mid.binary / HALF_TIME_MID), pulseClarity: Math.max(0, Math.min(1, at(tempo.acf, period))) };
}

/**
 * Below both of these, the off-beats of the slower level are no beats: measured on the audio-midi
 * set, pieces heard at double tempo had 0.15–0.39 (full band) and 0.07–0.24 (mid band) at the
 * half beat, pieces at their right tempo at least 0.45 and 0.43.
 */
const HALF_TIME_FULL = 0.45;
const HALF_TIME_MID = 0.35;

/** Compound meter: the beat's thirds carry at least 12 % of the beat's onset strength and twice its half. */
const COMPOUND_MIN = 0.12;
const COMPOUND_RATIO = 2;

/**
 * How the beats are divided: the mean onset strength (detrended) halfway between consecutive
 * beats (`binary`) and at their thirds (`ternary`), each relative to the mean at the beats.
 * Simple meters put the off-beat eighth at ½; compound ones (6/8, 12/8) put two eighths at ⅓, ⅔.
 * `onset` and `beats` in frames, `period` the beat period in frames.
 */
export function subdivision(beats: number[], onset: Float32Array, period: number): { binary: number; ternary: number } {
  const o = detrendOnset(onset, Math.max(3, Math.round(2 * period)));
  const w = Math.max(1, Math.round(period / 12));
  const peak = (x: number) => {
    let m = 0;
    for (let t = Math.max(0, Math.round(x) - w); t <= Math.min(o.length - 1, Math.round(x) + w); t++) if (o[t] > m) m = o[t];
    return m;
  };
  let on = 0, half = 0, third = 0;
  const n = beats.length - 1;
  for (let i = 0; i < n; i++) {
    const a = beats[i], d = beats[i + 1] - a;
    on += peak(a);
    half += peak(a + d / 2);
    third += (peak(a + d / 3) + peak(a + (2 * d) / 3)) / 2;
  }
  return on > 0 ? { binary: half / on, ternary: third / on } : { binary: 0, ternary: 0 };
}
