/**
 * Audio synthesis for the demo world, as pure functions over Float32Array sample buffers.
 *
 * Units: sample rate in Hz (22,050 by default), times in seconds, frequencies in Hz, pitches as MIDI
 * note numbers (69 = A4 = 440 Hz), velocities and gains linear in 0..1, loudness in dBFS of RMS
 * (a full-scale sine is −3 dBFS). A clip is a drum pattern whose accents reveal the meter (the
 * downbeat loudest), a chord progression in the key and mode (I–IV–V–vi and friends, one chord per
 * bar), a bass line on the chord roots, and a melody from the scale, each voice with its own timbre
 * (additive wavetables, FM, plucked strings) and envelope. Every inner loop is a plain loop over a
 * typed array, so a 15 s clip renders in a few milliseconds.
 */
import type { DrumKit, Instrument, Meter, Mode } from './genres.ts';
import { Rng } from '../util/rng.ts';
import { hash32 } from './util.ts';

/** Sample rate of every clip the generator writes, Hz. */
export const SAMPLE_RATE = 22_050;

/** A clip's meter: the catalog's meters, and 2/4 (a variety clip's duple meter, see {@link clipVariety}). */
export type ClipMeter = Meter | '2/4';

/** What to render: the labels of a track plus the artist's timbre choices. */
export interface ClipSpec {
  /** Length, s. */
  seconds: number;
  /** Beats per minute; the beat is a quarter note (a dotted quarter in 6/8). With `rubato`, the mean over the clip is near it. */
  tempoBpm: number;
  meter: ClipMeter;
  /** Tonic pitch class, 0 = C … 11 = B. */
  key: number;
  mode: Mode;
  /** Target RMS loudness, dBFS. */
  loudnessDbfs: number;
  chords: Instrument;
  bass: Instrument;
  lead: Instrument;
  drums: DrumKit;
  /** Which of the mode's three progressions (0..2). */
  progression: number;
  /** 0 (dark) .. 1 (bright): how strong the upper harmonics are. */
  brightness: number;
  /** Any integer that varies the melody between tracks (the track row). */
  voice: number;
  /** Every pitched part (and the timpani) is this many cents off A = 440 Hz (a detuned instrument); absent 0. */
  detuneCents?: number;
  /** The tempo drifts by up to this fraction of `tempoBpm` (one slow swell over the clip) plus ±1.5 % a beat; absent none. */
  rubato?: number;
  /** The first half of the bars stays on the dominant's side (V ii V V), the second cadences home; absent: the tonic from the start. */
  opening?: 'dominant';
}

/** The variety groups of {@link clipVariety}; `plain` clips render the track's labels unchanged. */
export const CLIP_VARIETIES = ['plain', 'slow', 'rubato', 'detuned', 'off-tonic', 'duple', 'compound'] as const;
export type ClipVarietyGroup = (typeof CLIP_VARIETIES)[number];

/** How a clip departs from its track's catalog labels (the fields replace or add to the {@link ClipSpec}'s). */
export type ClipVariety = { group: ClipVarietyGroup } & Partial<Pick<ClipSpec, 'tempoBpm' | 'meter' | 'detuneCents' | 'rubato' | 'opening'>>;

/** Shares of the clips in each variety group (the rest are plain). */
const VARIETY_SHARES: [ClipVarietyGroup, number][] = [
  ['slow', 0.08],
  ['rubato', 0.06],
  ['detuned', 0.08],
  ['off-tonic', 0.06],
  ['duple', 0.04],
  ['compound', 0.04],
];

/**
 * The variety real recordings have and the genres' labels alone lack (issue 22): slow tempos
 * (50–90 BPM), rubato, detuned instruments (15–50 cents either way), openings on the dominant,
 * duple (2/4) and compound (6/8 at 40–100 dotted quarters) meters. About a third of the clips get
 * one. Drawn from a random stream of its own, keyed by the world's seed and the track's row, so the
 * catalog, the listens and everything else the world holds are the same bytes with or without it.
 */
export function clipVariety(seed: number, track: number): ClipVariety {
  const rng = new Rng(hash32(seed, 0x7a71e7, track));
  let u = rng.next();
  let group: ClipVarietyGroup = 'plain';
  for (const [g, share] of VARIETY_SHARES) {
    if (u < share) {
      group = g;
      break;
    }
    u -= share;
  }
  const r = rng.next();
  const sign = rng.next() < 0.5 ? -1 : 1;
  switch (group) {
    case 'plain':
      return { group };
    case 'slow':
      return { group, tempoBpm: Math.round(50 + 40 * r) };
    case 'rubato':
      return { group, rubato: Math.round((0.04 + 0.06 * r) * 100) / 100 };
    case 'detuned':
      return { group, detuneCents: sign * Math.round(15 + 35 * r) };
    case 'off-tonic':
      return { group, opening: 'dominant' };
    case 'duple':
      return { group, meter: '2/4' };
    case 'compound':
      return { group, meter: '6/8', tempoBpm: Math.round(40 + 60 * r) };
  }
}

/** Semitones of the scale degrees above the tonic. */
export const SCALES: Record<Mode, readonly number[]> = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
};

/** Chord progressions as 0-based scale degrees, one chord per bar. */
export const PROGRESSIONS: Record<Mode, readonly (readonly number[])[]> = {
  major: [
    [0, 3, 4, 5], // I–IV–V–vi
    [0, 4, 5, 3], // I–V–vi–IV
    [0, 5, 3, 4], // I–vi–IV–V
  ],
  minor: [
    [0, 3, 4, 5], // i–iv–v–VI
    [0, 5, 2, 6], // i–VI–III–VII
    [0, 3, 6, 2], // i–iv–VII–III
  ],
};

/** Beats per bar and steps (subdivisions) per beat of a meter. */
export function meterGrid(meter: ClipMeter): { beatsPerBar: number; stepsPerBeat: number } {
  return meter === '6/8' ? { beatsPerBar: 2, stepsPerBeat: 3 } : { beatsPerBar: meter === '3/4' ? 3 : meter === '2/4' ? 2 : 4, stepsPerBeat: 2 };
}

/**
 * Time in the clip (s) of a time on the steady grid (s at `spec.tempoBpm`): the identity without
 * `rubato`, else the tempo map of one slow swell (random phase) plus ±1.5 % per beat, linear within
 * a beat. Also returns the clip's mean tempo over its beats (its label).
 */
export function tempoMap(spec: ClipSpec, seed: number): { at: (t: number) => number; meanBpm: number } {
  if (!spec.rubato) return { at: (t) => t, meanBpm: spec.tempoBpm };
  const rng = new Rng(hash32(seed, 0x2ba70, spec.voice));
  const beat = 60 / spec.tempoBpm;
  const total = Math.ceil(spec.seconds / beat) + 8; // beats enough to cover the clip when slowed down
  const span = Math.ceil((spec.seconds / beat) * (1 + spec.rubato)) + 1;
  const phase = rng.next() * 2 * Math.PI;
  const onset = new Float64Array(total + 1); // clip time of beat i
  for (let i = 0; i < total; i++) onset[i + 1] = onset[i] + beat / (1 + spec.rubato * Math.sin(phase + (2 * Math.PI * i) / span) + 0.015 * (2 * rng.next() - 1));
  const at = (t: number) => {
    const x = Math.max(0, t / beat);
    const i = Math.min(total - 1, Math.floor(x));
    return onset[i] + (x - i) * (onset[i + 1] - onset[i]);
  };
  // beats heard within the clip over the time they take
  let n = 0;
  while (n + 1 < total && onset[n + 1] <= spec.seconds) n++;
  return { at, meanBpm: n > 0 ? (60 * n) / onset[n] : spec.tempoBpm };
}

/** Frequency of a MIDI note, Hz: 440 · 2^((m − 69)/12). */
export function midiToHz(m: number): number {
  return 440 * Math.pow(2, (m - 69) / 12);
}

// ---------------------------------------------------------------- timbres

/** How an instrument sounds: an oscillator and an ADSR envelope (times in s, sustain 0..1). */
export type Timbre =
  | { osc: 'table'; harmonics: readonly number[]; drive?: number; vibrato?: number; attack: number; decay: number; sustain: number; release: number; gain: number }
  | { osc: 'fm'; ratio: number; index: number; indexDecay: number; attack: number; decay: number; sustain: number; release: number; gain: number }
  | { osc: 'pluck'; damping: number; gain: number };

const saw = (n: number) => Array.from({ length: n }, (_, i) => 1 / (i + 1));
const square = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 / (i + 1) : 0));

/** Every pitched instrument of genres.ts. */
export const TIMBRES: Record<Instrument, Timbre> = {
  piano: { osc: 'table', harmonics: [1, 0.5, 0.25, 0.15, 0.08, 0.05], attack: 0.005, decay: 0.5, sustain: 0.1, release: 0.15, gain: 0.5 },
  rhodes: { osc: 'fm', ratio: 1, index: 1.8, indexDecay: 0.3, attack: 0.005, decay: 0.8, sustain: 0.2, release: 0.2, gain: 0.5 },
  organ: { osc: 'table', harmonics: [1, 0.6, 0.4, 0.3, 0, 0.2, 0, 0.15], attack: 0.01, decay: 0.1, sustain: 0.8, release: 0.05, gain: 0.3 },
  'synth-pad': { osc: 'table', harmonics: saw(8), vibrato: 0.003, attack: 0.25, decay: 0.5, sustain: 0.7, release: 0.4, gain: 0.3 },
  'synth-lead': { osc: 'table', harmonics: square(9), vibrato: 0.004, attack: 0.01, decay: 0.2, sustain: 0.6, release: 0.08, gain: 0.4 },
  'saw-synth': { osc: 'table', harmonics: saw(14), attack: 0.005, decay: 0.15, sustain: 0.4, release: 0.06, gain: 0.35 },
  'distorted-guitar': { osc: 'table', harmonics: saw(10), drive: 4, attack: 0.005, decay: 0.3, sustain: 0.7, release: 0.05, gain: 0.3 },
  'acoustic-guitar': { osc: 'pluck', damping: 0.996, gain: 0.6 },
  'electric-bass': { osc: 'table', harmonics: [1, 0.5, 0.3, 0.15], attack: 0.005, decay: 0.25, sustain: 0.5, release: 0.05, gain: 0.6 },
  'upright-bass': { osc: 'pluck', damping: 0.993, gain: 0.8 },
  'sub-bass': { osc: 'table', harmonics: [1, 0.15], attack: 0.005, decay: 0.4, sustain: 0.6, release: 0.08, gain: 0.7 },
  strings: { osc: 'table', harmonics: saw(10), vibrato: 0.005, attack: 0.15, decay: 0.3, sustain: 0.8, release: 0.3, gain: 0.3 },
  sax: { osc: 'fm', ratio: 1, index: 2.5, indexDecay: 2, attack: 0.04, decay: 0.2, sustain: 0.7, release: 0.08, gain: 0.4 },
  fiddle: { osc: 'table', harmonics: saw(12), vibrato: 0.006, attack: 0.05, decay: 0.2, sustain: 0.7, release: 0.1, gain: 0.35 },
  flute: { osc: 'table', harmonics: [1, 0.1, 0.05], vibrato: 0.004, attack: 0.06, decay: 0.2, sustain: 0.8, release: 0.1, gain: 0.45 },
  brass: { osc: 'fm', ratio: 1, index: 3.2, indexDecay: 1, attack: 0.03, decay: 0.2, sustain: 0.7, release: 0.08, gain: 0.35 },
  bell: { osc: 'fm', ratio: 3.5, index: 3, indexDecay: 0.6, attack: 0.002, decay: 0.9, sustain: 0, release: 0.3, gain: 0.35 },
};

/** Instruments heard once per bar (sustained) rather than once per beat. */
const SUSTAINED = new Set<Instrument>(['synth-pad', 'strings', 'organ']);

const TABLE_SIZE = 2048;
const SINE = (() => {
  const t = new Float32Array(TABLE_SIZE + 1);
  for (let i = 0; i <= TABLE_SIZE; i++) t[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);
  return t;
})();

/**
 * One cycle of a harmonic waveform, TABLE_SIZE + 1 samples (the last repeats the first), peak 1.
 * Harmonic h's amplitude is `harmonics[h-1]` times h^(−(1 − brightness)), then tanh(drive·x) if
 * `drive` is set (distortion).
 */
export function wavetable(harmonics: readonly number[], brightness: number, drive = 0): Float32Array {
  const t = new Float32Array(TABLE_SIZE + 1);
  for (let h = 1; h <= harmonics.length; h++) {
    const a = harmonics[h - 1] * Math.pow(h, -(1 - brightness));
    if (a === 0) continue;
    for (let i = 0; i <= TABLE_SIZE; i++) t[i] += a * SINE[(i * h) % TABLE_SIZE];
  }
  if (drive > 0) for (let i = 0; i <= TABLE_SIZE; i++) t[i] = Math.tanh(drive * t[i]);
  let peak = 0;
  for (let i = 0; i <= TABLE_SIZE; i++) peak = Math.max(peak, Math.abs(t[i]));
  for (let i = 0; i <= TABLE_SIZE; i++) t[i] /= peak || 1;
  return t;
}

/**
 * ADSR envelope of a note held `holdN` samples, released over `release` s, into `env` (length ≥
 * holdN + releaseN): linear attack, exponential decay to `sustain`, exponential release.
 * Returns the number of samples written.
 */
export function adsr(env: Float32Array, holdN: number, sr: number, attack: number, decay: number, sustain: number, release: number): number {
  const aN = Math.max(1, Math.round(attack * sr));
  const rN = Math.round(release * sr * 3);
  const kd = Math.exp(-1 / (decay * sr));
  const kr = Math.exp(-1 / (release * sr));
  let level = 0;
  let d = 1;
  for (let i = 0; i < holdN; i++) {
    if (i < aN) level = i / aN;
    else {
      d *= kd;
      level = sustain + (1 - sustain) * d;
    }
    env[i] = level;
  }
  for (let i = 0; i < rN; i++) env[holdN + i] = level *= kr;
  return holdN + rN;
}

/** Scratch envelope buffer, grown on demand (the functions stay pure: it is overwritten per note). */
let envBuf = new Float32Array(1 << 16);

/**
 * Add one note to `out`: `freq` Hz starting at sample `start`, held `holdS` s, velocity `vel`, with
 * timbre `tb` (a precomputed wavetable for table timbres). Pure apart from writing into `out`.
 */
export function addNote(out: Float32Array, start: number, freq: number, holdS: number, vel: number, tb: Timbre, table: Float32Array | null, sr: number): void {
  const holdN = Math.max(1, Math.round(holdS * sr));
  if (tb.osc === 'pluck') return addPluck(out, start, freq, holdN, vel * tb.gain, tb.damping, sr, start ^ Math.round(freq * 100));
  const need = holdN + Math.round(tb.release * sr * 3) + 1;
  if (envBuf.length < need) envBuf = new Float32Array(need);
  const n = Math.min(adsr(envBuf, holdN, sr, tb.attack, tb.decay, tb.sustain, tb.release), out.length - start);
  const g = vel * tb.gain;
  if (tb.osc === 'table') {
    const w = table!;
    const inc = (freq * TABLE_SIZE) / sr;
    const vib = tb.vibrato ?? 0;
    const vInc = (5.5 * TABLE_SIZE) / sr; // 5.5 Hz vibrato
    let ph = 0;
    let vph = 0;
    for (let i = 0; i < n; i++) {
      const j = ph | 0;
      const f = ph - j;
      out[start + i] += g * envBuf[i] * (w[j] + f * (w[j + 1] - w[j]));
      ph += vib ? inc * (1 + vib * SINE[vph | 0]) : inc;
      if (ph >= TABLE_SIZE) ph -= TABLE_SIZE;
      vph += vInc;
      if (vph >= TABLE_SIZE) vph -= TABLE_SIZE;
    }
  } else {
    // FM: sin(carrier + I(t)·sin(modulator)), I(t) decays from `index` with time constant `indexDecay`.
    const cInc = (freq * TABLE_SIZE) / sr;
    const mInc = cInc * tb.ratio;
    const kI = Math.exp(-1 / (tb.indexDecay * sr));
    let index = tb.index;
    let cph = 0;
    let mph = 0;
    for (let i = 0; i < n; i++) {
      const m = SINE[mph | 0] * index * TABLE_SIZE * 0.15915494; // index radians → table units (1/2π)
      let p = (cph + m) % TABLE_SIZE;
      if (p < 0) p += TABLE_SIZE;
      out[start + i] += g * envBuf[i] * SINE[p | 0];
      cph += cInc;
      if (cph >= TABLE_SIZE) cph -= TABLE_SIZE;
      mph += mInc;
      while (mph >= TABLE_SIZE) mph -= TABLE_SIZE;
      index = 0.4 * tb.index + (index - 0.4 * tb.index) * kI;
    }
  }
}

/** Karplus–Strong plucked string: a noise burst through a damped delay line of sr/freq samples. */
function addPluck(out: Float32Array, start: number, freq: number, holdN: number, g: number, damping: number, sr: number, seed: number): void {
  const period = Math.max(2, Math.round(sr / freq - 0.5));
  const line = new Float32Array(period);
  let x = hash32(seed) || 1;
  for (let i = 0; i < period; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    line[i] = ((x >>> 0) / 4294967296) * 2 - 1;
  }
  const n = Math.min(holdN + Math.round(0.05 * sr), out.length - start);
  const fadeFrom = holdN;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const next = p + 1 === period ? 0 : p + 1;
    const y = line[p];
    line[p] = damping * 0.5 * (y + line[next]);
    const fade = i < fadeFrom ? 1 : 1 - (i - fadeFrom) / (n - fadeFrom);
    out[start + i] += g * y * fade;
    p = next;
  }
}

// ---------------------------------------------------------------- drums

export type DrumVoice = 'kick' | 'snare' | 'hat' | 'clap' | 'timpani' | 'shaker' | 'brush' | 'rim';

/** Velocities per step of one bar for each drum voice of a kit in a meter (0 = silent). */
export function drumPattern(kit: DrumKit, meter: ClipMeter): Partial<Record<DrumVoice, number[]>> {
  const { beatsPerBar: B, stepsPerBeat: S } = meterGrid(meter);
  const N = B * S;
  const z = () => new Array<number>(N).fill(0);
  const kick = z();
  const snare = z();
  const hat = z();
  const onBeat = (b: number) => b * S;
  // Meter-revealing backbone: the downbeat loudest, then the meter's own accents.
  kick[0] = 1;
  if (meter === '4/4') {
    kick[onBeat(2)] = 0.75;
    snare[onBeat(1)] = 0.7;
    snare[onBeat(3)] = 0.7;
  } else if (meter === '3/4') {
    snare[onBeat(1)] = 0.55;
    snare[onBeat(2)] = 0.55;
  } else {
    snare[onBeat(1)] = 0.65;
  }
  for (let s = 0; s < N; s++) hat[s] = s % S === 0 ? (s === 0 ? 0.45 : 0.35) : 0.18;
  switch (kit) {
    case 'rock':
    case 'metal':
      if (kit === 'metal') for (let k = 1; k < N; k += S) hat[k] = 0.3; // busier cymbals
      hat[0] = 0.8; // a crash-like accent on the downbeat
      return { kick, snare, hat };
    case 'electronic':
      for (let b = 1; b < B; b++) kick[onBeat(b)] = 0.6;
      return { kick, clap: snare, hat: hat.map((v, s) => (s === 0 ? 0.8 : s % S === 0 ? 0.12 : 0.3)) };
    case 'hiphop':
      if (meter === '4/4') kick[onBeat(1) + 1] = 0.5;
      return { kick, snare: snare.map((v) => v * 1.2), hat: hat.map((v) => v * 0.7) };
    case 'reggae':
      // One-drop: the rim and kick together on beat 3, a soft downbeat kick.
      if (meter === '4/4') return { kick: kick.map((v, s) => (s === 0 ? 0.65 : s === onBeat(2) ? 0.9 : 0)), rim: z().map((_, s) => (s === onBeat(2) ? 0.7 : 0)), hat };
      return { kick, rim: snare, hat };
    case 'brush':
      return { kick: kick.map((v) => v * 0.7), brush: snare, hat: hat.map((v, s) => (s % S === 0 ? v * 1.3 : v * 0.6)) };
    case 'timpani':
      return { timpani: kick.map((v, s) => (s === 0 ? 1 : s % S === 0 ? 0.4 : 0)) };
    case 'folk':
      return { kick, shaker: hat, rim: snare.map((v) => v * 0.7) };
    case 'soft':
      return { kick: kick.map((v, s) => (s === 0 ? 0.8 : 0)), shaker: hat.map((v, s) => (s % S === 0 ? 0.45 : 0)), rim: kick.map((v, s) => (s !== 0 && s % S === 0 ? 0.25 : 0)) };
  }
}

/**
 * Add one drum hit at sample `start` with velocity `vel`. `pitchHz` tunes the timpani (the tonic);
 * `seed` fixes the noise. Kick: 150→50 Hz sine sweep; snare: noise + 185 Hz tone; hat/shaker:
 * differenced (high-passed) noise; clap: three noise bursts; brush: low-passed noise; rim: 800 Hz
 * click.
 */
export function addDrum(out: Float32Array, start: number, voice: DrumVoice, vel: number, sr: number, seed: number, pitchHz = 87): void {
  const len = { kick: 0.35, snare: 0.25, hat: 0.06, clap: 0.2, timpani: 0.9, shaker: 0.08, brush: 0.2, rim: 0.05 }[voice];
  const n = Math.min(Math.round(len * sr), out.length - start);
  let x = hash32(seed) || 1;
  const noise = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 4294967296) * 2 - 1;
  };
  let prev = 0;
  let lp = 0;
  let ph = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    let y = 0;
    switch (voice) {
      case 'kick': {
        const f = 50 + 100 * Math.exp(-t / 0.03);
        ph += f / sr;
        y = 1.4 * Math.sin(2 * Math.PI * ph) * Math.exp(-t / 0.12);
        break;
      }
      case 'snare': {
        ph += 185 / sr;
        y = (0.7 * noise() + 0.5 * Math.sin(2 * Math.PI * ph)) * Math.exp(-t / 0.06);
        break;
      }
      case 'hat':
      case 'shaker': {
        const w = noise();
        y = (w - prev) * 0.5 * Math.exp(-t / (voice === 'hat' ? 0.015 : 0.03));
        prev = w;
        break;
      }
      case 'clap': {
        const burst = t < 0.03 ? Math.exp(-(t % 0.01) / 0.003) : Math.exp(-(t - 0.03) / 0.05);
        y = 0.8 * noise() * burst;
        break;
      }
      case 'timpani': {
        ph += pitchHz / sr;
        y = (Math.sin(2 * Math.PI * ph) + 0.3 * Math.sin(4 * Math.PI * ph * 1.5)) * Math.exp(-t / 0.35) * Math.min(1, t / 0.003);
        break;
      }
      case 'brush': {
        lp += 0.3 * (noise() - lp);
        y = 0.8 * lp * Math.exp(-t / 0.07);
        break;
      }
      case 'rim': {
        ph += 800 / sr;
        y = Math.sin(2 * Math.PI * ph) * Math.exp(-t / 0.012);
        break;
      }
    }
    out[start + i] += vel * y;
  }
}

// ---------------------------------------------------------------- a whole clip

/** The notes of a clip's parts, for inspection: MIDI pitch, start and hold in seconds, velocity. */
export interface Note {
  part: 'chords' | 'bass' | 'lead';
  midi: number;
  start: number;
  hold: number;
  vel: number;
}

/** The score of a clip: the chord, bass and melody notes (drums follow {@link drumPattern}). */
export function score(spec: ClipSpec, seed: number): Note[] {
  const rng = new Rng(hash32(seed, 0x5c0e, spec.voice));
  const scale = SCALES[spec.mode];
  const prog = PROGRESSIONS[spec.mode][spec.progression % 3];
  const { beatsPerBar: B, stepsPerBeat: S } = meterGrid(spec.meter);
  const beat = 60 / spec.tempoBpm;
  const step = beat / S;
  const bar = beat * B;
  // with rubato the tempo may run up to `rubato` (+1.5 %) faster: write enough bars to fill the clip
  const bars = Math.ceil((spec.rubato ? spec.seconds * (1.02 + spec.rubato) : spec.seconds) / bar);
  const deg = (d: number) => scale[d % 7] + 12 * Math.floor(d / 7);
  const notes: Note[] = [];
  const power = spec.chords === 'distorted-guitar';
  let melodyDeg = 7; // the tonic an octave up
  // Opening on the dominant: the first half of the bars V ii V V (the melody's home the fifth), then home.
  const opening = spec.opening === 'dominant' ? Math.max(2, Math.floor(bars / 2)) : 0;
  for (let b = 0; b < bars; b++) {
    const t0 = b * bar;
    const root = b < opening ? OPENING_DEGREES[b % 4] : opening ? CADENCE_DEGREES[(b - opening) % 4] : prog[b % prog.length];
    const home = b < opening ? 11 : 7; // the melody's anchor: the fifth while on the dominant, else the tonic
    // Chord tones, voiced between C3 and G4.
    let base = 48 + spec.key + deg(root);
    if (base > 57) base -= 12;
    const tones = power ? [0, 7, 12] : [0, deg(root + 2) - deg(root), deg(root + 4) - deg(root)];
    const hits: [number, number, number][] = SUSTAINED.has(spec.chords)
      ? [[0, bar * 0.95, 0.8]]
      : spec.drums === 'reggae'
        ? Array.from({ length: B }, (_, k) => [k * beat + beat / 2, beat * 0.3, 0.7] as [number, number, number])
        : Array.from({ length: B }, (_, k) => [k * beat, beat * 0.9, k === 0 ? 0.9 : 0.6] as [number, number, number]);
    const tonicBoost = root === 0 ? 1.3 : 1; // the tonic chord sounds a little louder: it anchors the key
    for (const [at, hold, vel] of hits) for (const tone of tones) notes.push({ part: 'chords', midi: base + tone, start: t0 + at, hold, vel: vel * tonicBoost });
    // Bass: the root on the downbeat, and on the meter's other strong beats.
    const bassMidi = 36 + ((spec.key + deg(root)) % 12);
    const bassBeats = spec.meter === '4/4' ? [0, 2] : spec.meter === '6/8' || spec.meter === '2/4' ? [0, 1] : [0];
    for (const k of bassBeats) notes.push({ part: 'bass', midi: bassMidi, start: t0 + k * beat, hold: beat * (k === 0 ? 1.5 : 0.9), vel: k === 0 ? 1 : 0.75 });
    // Melody: a walk over the scale, chord tones on the downbeat, the tonic on the first note.
    for (let s = 0; s < B * S; ) {
      const len = s % S === 0 && rng.next() < 0.5 ? S : 1;
      // The tonic on the first note and often on beats, chord tones on downbeats, a walk between.
      if (b === 0 && s === 0) melodyDeg = home;
      else if (s % S === 0 && rng.next() < 0.45) melodyDeg = home;
      else if (s === 0) melodyDeg = 7 + root + 2 * rng.int(2);
      else melodyDeg = Math.max(3, Math.min(13, melodyDeg + [-2, -1, -1, 1, 1, 2, 0][rng.int(7)]));
      if (rng.next() < 0.85) notes.push({ part: 'lead', midi: 60 + spec.key - (spec.key > 6 ? 12 : 0) + deg(melodyDeg), start: t0 + s * step, hold: step * len * 0.9, vel: s === 0 ? 0.8 : 0.6 });
      s += len;
    }
  }
  if (!spec.rubato) return notes.filter((n) => n.start < spec.seconds);
  const map = tempoMap(spec, seed);
  return notes.map((n) => ({ ...n, start: map.at(n.start), hold: map.at(n.start + n.hold) - map.at(n.start) })).filter((n) => n.start < spec.seconds);
}

/** The off-tonic opening's chords (scale degrees: V ii V V; in minor v iv v v) and the cadence home after it. */
const OPENING_DEGREES = [4, 1, 4, 4];
const CADENCE_DEGREES = [0, 3, 4, 0];

/**
 * Render a clip: mono Float32 samples at `sampleRate` Hz, length round(seconds·sampleRate), RMS at
 * `spec.loudnessDbfs` (soft-limited so no sample exceeds ±1).
 * @example const pcm = renderClip({ seconds: 4, tempoBpm: 120, meter: '4/4', key: 0, mode: 'major', … }, { sampleRate: 22050, seed: 1 })
 */
export function renderClip(spec: ClipSpec, o: { sampleRate: number; seed: number }): Float32Array {
  const sr = o.sampleRate;
  const n = Math.round(spec.seconds * sr);
  const music = new Float32Array(n + sr); // a second of headroom for release tails, cut below
  const tables = new Map<Instrument, Float32Array | null>();
  const tableOf = (ins: Instrument) => {
    if (!tables.has(ins)) {
      const tb = TIMBRES[ins];
      tables.set(ins, tb.osc === 'table' ? wavetable(tb.harmonics, spec.brightness, tb.drive) : null);
    }
    return tables.get(ins)!;
  };
  const gains = { chords: 0.45, bass: 0.8, lead: 0.55 };
  const detune = spec.detuneCents ? spec.detuneCents / 100 : 0; // semitones
  for (const note of score(spec, o.seed)) {
    const ins = spec[note.part];
    const octaveUp = note.part === 'bass' && ins !== 'sub-bass' && ins !== 'electric-bass' && ins !== 'upright-bass' ? 12 : 0;
    addNote(music, Math.round(note.start * sr), midiToHz(note.midi + octaveUp + detune), note.hold, note.vel * gains[note.part], TIMBRES[ins], tableOf(ins), sr);
  }
  const drums = new Float32Array(n + sr);
  const { beatsPerBar: B, stepsPerBeat: S } = meterGrid(spec.meter);
  const step = 60 / spec.tempoBpm / S;
  const pattern = drumPattern(spec.drums, spec.meter);
  const steps = Math.ceil((spec.rubato ? spec.seconds * (1.02 + spec.rubato) : spec.seconds) / step);
  const timpaniHz = midiToHz(36 + spec.key + (spec.key > 5 ? 0 : 12) + detune);
  const map = tempoMap(spec, o.seed);
  for (let k = 0; k < steps; k++) {
    const at = Math.round(map.at(k * step) * sr);
    if (at >= n) break;
    for (const [voice, vels] of Object.entries(pattern) as [DrumVoice, number[]][]) {
      const v = vels[k % (B * S)];
      if (v > 0) addDrum(drums, at, voice, v * 0.9, sr, hash32(o.seed, spec.voice, k, voice.length), timpaniHz);
    }
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = music[i] + drums[i];
  // Loudness: scale to the target RMS, then a soft knee above 0.7 keeps peaks inside ±1.
  let ss = 0;
  for (let i = 0; i < n; i++) ss += out[i] * out[i];
  const rms = Math.sqrt(ss / n) || 1;
  const gain = Math.pow(10, spec.loudnessDbfs / 20) / rms;
  for (let i = 0; i < n; i++) {
    const v = out[i] * gain;
    const a = Math.abs(v);
    out[i] = a <= 0.7 ? v : Math.sign(v) * (0.7 + 0.3 * Math.tanh((a - 0.7) / 0.3));
  }
  return out;
}

/** RMS level of samples in dBFS: 20·log10(sqrt(mean(x²))). */
export function rmsDbfs(x: Float32Array): number {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  return 10 * Math.log10(ss / x.length || 1e-12);
}

/** A 16-bit PCM mono WAV file (RIFF, 44-byte header) of samples in −1..1. */
export function encodeWav(pcm: Float32Array, sampleRate: number): Buffer {
  const buf = Buffer.alloc(44 + pcm.length * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + pcm.length * 2, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(pcm.length * 2, 40);
  const pcm16 = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) pcm16[i] = Math.round(Math.max(-1, Math.min(1, pcm[i])) * 32767);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) pcm16.forEach((v, i) => (pcm16[i] = ((v & 0xff) << 8) | ((v >> 8) & 0xff))); // big-endian host
  Buffer.from(pcm16.buffer).copy(buf, 44);
  return buf;
}

/** Samples of a 16-bit PCM mono WAV written by {@link encodeWav}, as floats in −1..1. */
export function decodeWav(buf: Buffer): { sampleRate: number; samples: Float32Array } {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  const sampleRate = buf.readUInt32LE(24);
  const n = buf.readUInt32LE(40) / 2;
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(44 + 2 * i) / 32767;
  return { sampleRate, samples };
}
