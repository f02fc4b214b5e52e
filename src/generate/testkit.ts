/**
 * Checks of a generated world against its truth, for tests and benchmarks: a hit-rate evaluation
 * (oracle vs popularity vs random on the held-out week) and simple audio measurements (onset
 * period, chroma key) to compare with the labels. Deliberately independent of the generator's
 * internals: everything is read back from the files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Listen } from '../domain/schemas.ts';
import { Rng } from '../util/rng.ts';
import type { ArtistTruth, TrackTruth } from './catalog.ts';
import { TasteModel, type UserTaste } from './taste.ts';
import { topK } from '../core/topk.ts';

/** Parse a JSONL file into rows. */
export function readJsonl<T>(path: string): T[] {
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length)
    .map((l) => JSON.parse(l) as T);
}

export interface HitRates {
  users: number;
  k: number;
  /** Share of users with at least one held-out new liked track in the top k. */
  oracle: number;
  popularity: number;
  random: number;
}

/**
 * Hit rate@k on the held-out week of a world in `dir`: for each user with held-out listens that
 * were finished (not skipped) of tracks they never heard before the clock, rank every unheard
 * track by (a) the oracle score from truth/taste.jsonl, (b) play counts before the clock, (c) a
 * seeded random order, and count a hit when one of those tracks is in the top k.
 */
export function hitRates(dir: string, k = 20, seed = 1): HitRates {
  const artists = readJsonl<ArtistTruth>(join(dir, 'truth/artists.jsonl'));
  const tracks = readJsonl<TrackTruth>(join(dir, 'truth/tracks.jsonl'));
  const tastes = readJsonl<UserTaste>(join(dir, 'truth/taste.jsonl'));
  const world = JSON.parse(readFileSync(join(dir, 'truth/world.json'), 'utf8')) as { weeks: number };
  const model = new TasteModel(artists, tracks);
  const row = new Map(tracks.map((t, i) => [t.track_id, i]));
  const heard = new Map<string, Set<number>>();
  const plays = new Float64Array(tracks.length);
  for (const l of readJsonl<Listen>(join(dir, 'listens.jsonl'))) {
    const t = row.get(l.track_id)!;
    if (!heard.has(l.user_id)) heard.set(l.user_id, new Set());
    heard.get(l.user_id)!.add(t);
    if (!l.skipped) plays[t]++;
  }
  const positives = new Map<string, Set<number>>();
  for (const l of readJsonl<Listen>(join(dir, 'truth/future_listens.jsonl'))) {
    const t = row.get(l.track_id)!;
    if (l.skipped || heard.get(l.user_id)?.has(t)) continue;
    if (!positives.has(l.user_id)) positives.set(l.user_id, new Set());
    positives.get(l.user_id)!.add(t);
  }
  const rng = new Rng(seed);
  const noise = Float64Array.from(plays, (p) => p + rng.next() * 1e-3); // popularity ties broken at random
  const hits = { oracle: 0, popularity: 0, random: 0 };
  let users = 0;
  for (const taste of tastes) {
    const pos = positives.get(taste.user_id);
    if (!pos) continue;
    users++;
    const seen = heard.get(taste.user_id) ?? new Set<number>();
    const hit = (score: ArrayLike<number>) => topUnseen(score, seen, k).some((t) => pos.has(t));
    if (hit(model.oracleScores(taste, 1 + 0.5 / world.weeks))) hits.oracle++;
    if (hit(noise)) hits.popularity++;
    const random = Float64Array.from({ length: tracks.length }, () => rng.next());
    if (hit(random)) hits.random++;
  }
  return { users, k, oracle: hits.oracle / users, popularity: hits.popularity / users, random: hits.random / users };
}

function topUnseen(score: ArrayLike<number>, seen: Set<number>, k: number): number[] {
  const skip = new Uint8Array(score.length);
  for (const i of seen) if (i < score.length) skip[i] = 1;
  return Array.from(topK(score, k, skip).items);
}

// ---------------------------------------------------------------- audio measurements

/**
 * Onset strength envelope: log energy of frames of `frame` samples every `hop` samples, its
 * half-wave rectified first difference (spectral-free energy flux). Length ≈ samples/hop.
 */
export function onsetEnvelope(x: Float32Array, frame = 512, hop = 128): Float64Array {
  const n = Math.max(0, Math.floor((x.length - frame) / hop) + 1);
  const e = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    let s = 0;
    for (let i = f * hop, end = i + frame; i < end; i++) s += x[i] * x[i];
    e[f] = Math.log(1e-9 + s);
  }
  const flux = new Float64Array(n);
  for (let f = 1; f < n; f++) flux[f] = Math.max(0, e[f] - e[f - 1]);
  return flux;
}

/** Autocorrelation of the mean-removed envelope at lag `lag` (frames), normalized by overlap. */
export function autocorr(env: Float64Array, lag: number): number {
  let mean = 0;
  for (const v of env) mean += v;
  mean /= env.length;
  let s = 0;
  for (let i = 0; i + lag < env.length; i++) s += (env[i] - mean) * (env[i + lag] - mean);
  return s / (env.length - lag);
}

/**
 * Tempo in BPM from the onset envelope's autocorrelation, searched over 40–240 BPM with a
 * log-Gaussian preference around 110 BPM (one octave wide), as in Ellis (2007), "Beat tracking by
 * dynamic programming", eq. 7.
 */
export function estimateTempo(x: Float32Array, sampleRate: number, hop = 128): number {
  const env = onsetEnvelope(x, 512, hop);
  const fps = sampleRate / hop;
  let best = 0;
  let bestLag = 1;
  for (let lag = Math.floor((60 * fps) / 240); lag <= Math.ceil((60 * fps) / 40) && lag < env.length / 2; lag++) {
    const bpm = (60 * fps) / lag;
    const w = Math.exp(-0.5 * Math.log2(bpm / 110) ** 2);
    const v = w * autocorr(env, lag);
    if (v > best) (best = v), (bestLag = lag);
  }
  // Refine the peak with a parabola through its neighbours.
  const a = autocorr(env, bestLag - 1);
  const b = autocorr(env, bestLag);
  const c = autocorr(env, bestLag + 1);
  const d = a - 2 * b + c === 0 ? 0 : (0.5 * (a - c)) / (a - 2 * b + c);
  return (60 * fps) / (bestLag + d);
}

/** Energy of `x` at `freq` Hz over `x[from..from+n)` with a Hann window (Goertzel). */
export function goertzel(x: Float32Array, from: number, n: number, freq: number, sampleRate: number): number {
  const w = (2 * Math.PI * freq) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  const win = hann(n);
  for (let i = 0; i < n; i++) {
    const s0 = x[from + i] * win[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

const hanns = new Map<number, Float64Array>();
function hann(n: number): Float64Array {
  let w = hanns.get(n);
  if (!w) hanns.set(n, (w = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)))));
  return w;
}

/** 12-bin chroma (C..B): summed Goertzel magnitudes of MIDI notes 48–83 over blocks of 4096 samples. */
export function chroma(x: Float32Array, sampleRate: number, block = 4096): Float64Array {
  const c = new Float64Array(12);
  for (let from = 0; from + block <= x.length; from += block) {
    for (let m = 48; m < 84; m++) c[m % 12] += Math.sqrt(goertzel(x, from, block, 440 * 2 ** ((m - 69) / 12), sampleRate));
  }
  return c;
}

const KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88];
const KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];

/** Key by correlating chroma with the Krumhansl–Kessler profiles rotated to each of 24 keys. */
export function estimateKey(c: Float64Array): { key: number; mode: 'major' | 'minor' } {
  let best = -Infinity;
  let out: { key: number; mode: 'major' | 'minor' } = { key: 0, mode: 'major' };
  for (const [mode, prof] of [['major', KK_MAJOR], ['minor', KK_MINOR]] as const) {
    for (let key = 0; key < 12; key++) {
      const r = pearson(c, Array.from({ length: 12 }, (_, i) => prof[(i - key + 12) % 12]));
      if (r > best) (best = r), (out = { key, mode });
    }
  }
  return out;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i] / n), (mb += b[i] / n);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
