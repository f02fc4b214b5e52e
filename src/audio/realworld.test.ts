/**
 * What real recordings need beyond the synthetic worlds (issue 22): short clips are unknown rather
 * than guessed, the tuning is estimated and reported, the key hears the tonic in the bass's
 * cadences, slow music is not doubled, and 2/4 is told from 4/4. Signals are synthetic and seeded;
 * the accuracy figures on rendered music live in the audio-midi eval suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANALYSIS_RATE } from './decode.ts';
import { analyzeAudio, MIN_KEY_S, MIN_METER_S, MIN_TEMPO_S } from './features.ts';
import { estimateKey, tonicEvidence } from './key.ts';
import { estimateMeter, halfTimeIsBeat, type TempoEstimate } from './rhythm.ts';
import { Rng } from '../util/rng.ts';

const sr = ANALYSIS_RATE;

/** Noise-burst clicks at `bpm` (every `accent`-th louder) under a G major triad detuned by `cents`. */
function music(seconds: number, bpm: number, cents = 0, accent = 4, seed = 3): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(Math.round(seconds * sr));
  const period = (60 / bpm) * sr;
  for (let b = 0; b * period < x.length; b++) {
    const start = Math.round(b * period);
    const amp = b % accent === 0 ? 0.9 : 0.4;
    for (let i = 0; i < 600 && start + i < x.length; i++) x[start + i] += amp * (rng.next() * 2 - 1) * Math.exp(-i / 120);
  }
  const ratio = 2 ** (cents / 1200);
  for (const [f, a] of [[196, 0.1], [246.94, 0.08], [293.66, 0.08], [392, 0.05], [440, 0.03], [523.25, 0.03], [369.99, 0.03]] as const)
    for (let i = 0; i < x.length; i++) x[i] += a * Math.sin((2 * Math.PI * f * ratio * i) / sr);
  return x;
}

test('clips shorter than the minimum durations report tempo, meter and key as unknown, with the reason', () => {
  const f = analyzeAudio({ channels: [music(3, 120)], sampleRate: sr });
  assert.equal(f.tempo_bpm, 0);
  assert.equal(f.tempo_confidence, 0);
  assert.equal(f.time_signature, 0);
  assert.equal(f.key, -1);
  assert.equal(f.key_confidence, 0);
  assert.deepEqual(f.unknown, {
    tempo: `clip of 3.0 s is shorter than ${MIN_TEMPO_S} s`,
    meter: `clip of 3.0 s is shorter than ${MIN_METER_S} s`,
    key: `clip of 3.0 s is shorter than ${MIN_KEY_S} s`,
  });
  // between the key's and the meter's minimum: key and tempo known, the meter not
  const g = analyzeAudio({ channels: [music(6, 120)], sampleRate: sr });
  assert.equal(g.key, 7);
  assert.ok(Math.abs(g.tempo_bpm / 120 - 1) < 0.04, `tempo ${g.tempo_bpm}`);
  assert.equal(g.time_signature, 0);
  assert.deepEqual(Object.keys(g.unknown), ['meter']);
  // a whole clip knows everything
  assert.deepEqual(analyzeAudio({ channels: [music(20, 120)], sampleRate: sr }).unknown, {});
});

test('key confidence is calibrated by duration: the same music is less sure on 8 s than on 30 s', () => {
  const short = analyzeAudio({ channels: [music(8, 100)], sampleRate: sr });
  const long = analyzeAudio({ channels: [music(30, 100)], sampleRate: sr });
  assert.equal(short.key, long.key);
  assert.ok(short.key_confidence < 0.6 * long.key_confidence, `8 s ${short.key_confidence} vs 30 s ${long.key_confidence}`);
});

test('tuning: the reference pitch is reported in cents and the key is read on tuned chroma', () => {
  for (const cents of [-40, -20, 0, 25, 45]) {
    const f = analyzeAudio({ channels: [music(12, 110, cents)], sampleRate: sr });
    assert.ok(Math.abs(f.tuning_cents - cents) <= 4, `${cents} cents: estimated ${f.tuning_cents}`);
    assert.equal(f.key, 7, `${cents} cents: key ${f.key}`);
    assert.equal(f.mode, 1);
  }
});

/** A bass chroma matrix with one note a span (4 frames each), and those spans. */
function bassLine(pcs: number[]): { bass: { data: Float32Array; rows: number; cols: number }; spans: [number, number][] } {
  const data = new Float32Array(pcs.length * 4 * 12);
  pcs.forEach((pc, i) => {
    for (let t = 0; t < 4; t++) data[(i * 4 + t) * 12 + pc] = 1;
  });
  return { bass: { data, rows: pcs.length * 4, cols: 12 }, spans: pcs.map((_, i) => [i * 4, i * 4 + 4]) };
}

test('tonic evidence: a bass that dwells on the dominant but cadences on the tonic points at the tonic', () => {
  // C major opening on the dominant: G G G C | G G G C (V V V I)
  const { bass, spans } = bassLine([7, 7, 7, 0, 7, 7, 7, 0]);
  const t = tonicEvidence(bass, spans);
  assert.ok(t[0] > 3 * t[7], `C ${t[0]} vs G ${t[7]}`);
  assert.ok(Math.abs(t.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  // no bass: no evidence
  assert.deepEqual([...tonicEvidence({ data: new Float32Array(48), rows: 4, cols: 12 }, [[0, 4]])], new Array(12).fill(0));
  // a profile of the notes C and G major share (no F, no F♯), G's triad loudest: the profile
  // alone says G; with the bass's cadences it says C
  const weights: Record<number, number> = { 0: 0.9, 2: 0.8, 4: 0.6, 7: 1, 9: 0.55, 11: 0.75 };
  const profile = Array.from({ length: 12 }, (_, i) => weights[i] ?? 0.05);
  assert.equal(estimateKey(profile).key, 7);
  assert.equal(estimateKey(profile, undefined, t).key, 0);
});

/** An onset envelope: beats every `period` frames (value 1), and `off` at the half beat in the full band only. */
function envelope(period: number, off: number, n = 2600): { full: Float32Array; mid: Float32Array } {
  const full = new Float32Array(n);
  const mid = new Float32Array(n);
  for (let t = 10; t < n; t += period) {
    full[t] = mid[t] = 1;
    const h = t + Math.round(period / 2);
    if (h < n) full[h] = off;
  }
  return { full, mid };
}

test('halfTimeIsBeat: eighths only in the hats make the slower level the beat; a snare halfway does not', () => {
  const fr = 86.13;
  const slow = 86; // frames: 60 BPM
  const tempo = (bpm: number, alt: number): TempoEstimate => ({ bpm, period: (60 * fr) / bpm, pulseClarity: 0.5, acf: new Float64Array(400).fill(0.5), alternative: alt, octaveMargin: 0.1 });
  const hats = envelope(slow, 0.2);
  const t = halfTimeIsBeat(tempo(120, 60), hats.full, hats.mid, fr);
  assert.ok(t, 'the slower level wins');
  assert.equal(t.bpm, 60);
  assert.equal(t.alternative, 120);
  // a backbeat: the half beat is as loud in the mid band as the beat
  const snare = envelope(slow, 0.9);
  for (let i = 10 + slow / 2; i < snare.mid.length; i += slow) snare.mid[i] = 0.9;
  assert.equal(halfTimeIsBeat(tempo(120, 60), snare.full, snare.mid, fr), undefined);
  // no half-tempo runner-up: nothing to decide
  assert.equal(halfTimeIsBeat(tempo(120, 180), hats.full, hats.mid, fr), undefined);
});

test('meter 2 vs 4: the harmony and accents on every other beat alike make 2/4, on the bar start only 4/4', () => {
  const period = 40;
  const beats = Array.from({ length: 32 }, (_, i) => 20 + i * period);
  const n = beats[beats.length - 1] + period;
  const run = (bar: number) => {
    const low = new Float32Array(n);
    const full = new Float32Array(n);
    const chroma = new Float32Array(n * 12);
    beats.forEach((b, i) => {
      low[b] = i % bar === 0 ? 1 : 0.2;
      full[b] = i % bar === 0 ? 1 : 0.5;
      // the chord changes at each bar: C, F, G, … one bar each
      const pc = [0, 5, 7, 9][Math.floor(i / bar) % 4];
      for (let t = b; t < b + period; t++) for (const d of [0, 4, 7]) chroma[t * 12 + ((pc + d) % 12)] = 1;
    });
    return estimateMeter(beats, full, low, { data: chroma, rows: n, cols: 12 }, period, 1);
  };
  assert.equal(run(2).timeSignature, 2);
  assert.equal(run(4).timeSignature, 4);
  assert.equal(run(3).timeSignature, 3);
});
