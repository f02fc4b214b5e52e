/**
 * `audio-cold`: cold start from audio on a seeded demo world with audio (generated into a temp
 * folder; needs no data set).
 *
 * 1. A seeded ~20 % of the tracks with audio are held out: every listen of them is removed before
 *    ALS is trained, so they are brand-new tracks nobody has played.
 * 2. The audio CNN is trained on the other audio tracks (log-mel patches → their ALS factors) and
 *    predicts factors for the held-out ones.
 * 3. For each user who streamed a held-out track, the held-out tracks are ranked by the user's
 *    ALS vector · the predicted factors, and recall@k counts the streamed ones in the top k.
 *    Baselines on the same candidates: a seeded random order; popularity (the held-out tracks'
 *    artists' streams in training, what a system knows of a new track); the tracks' own streams in
 *    the held-out listens (an oracle popularity no system has); and ALS trained WITH the held-out
 *    listens (the warm upper bound: what the factors would be had the tracks been played).
 * 4. Audio features of a sample of clips against the labels of each clip as rendered
 *    (truth/audio.jsonl): tempo Accuracy1/2, key + mode, meter (time signature 2, 3, 4 or 6; 6/8 is
 *    also reported apart, its beat being the dotted quarter), overall and per variety group (plain,
 *    slow, rubato, detuned, off-tonic, duple, compound).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalSuite, EvalReport, EvalTable } from '../suite.ts';
import { generateWorld, type WorldSize } from '../../generate/index.ts';
import { readJsonl } from '../../generate/index.ts';
import type { ClipTruth } from '../../generate/index.ts';
import type { Listen, Track } from '../../domain/schemas.ts';
import { IdMap, type TrackId, type UserId } from '../../domain/ids.ts';
import { listenConfidence, defaultConfidence, listenSignal, STREAM } from '../../signals/index.ts';
import { topK } from '../../core/topk.ts';
import type { ListenColumns } from '../../store/index.ts';
import { makeRecommender } from '../../cf/index.ts';
import { isFactorized, type Factorized, type Recommender } from '../../cf/index.ts';
import { fitFactorCnn, inferTracks, concatRows, DEFAULT_FACTOR_CNN, type FactorCnnConfig, type Agreement } from '../../audio/coldstart.ts';
import { analyzeFiles } from '../../audio/index.ts';
import { tempoHits } from './audio-midi.ts';
import { Rng } from '../../util/rng.ts';
import { DeepcutError } from '../../errors.ts';

export interface ColdStartOptions {
  size: WorldSize;
  seed: number;
  /** Audio clips in the generated world. */
  audioClips: number;
  /** Share of the audio tracks held out of CF training. */
  heldOutShare: number;
  factors: number;
  iterations: number;
  cnn: FactorCnnConfig;
  /** Patches per track. */
  patches: number;
  /** Clips whose DSP features are compared with the labels. */
  featureClips: number;
  k: number;
  threads: number;
  /** Use this already generated world instead of generating one (benchmarks, experiments). */
  world?: string;
  log?: (msg: string) => void;
}

/** The full run: fits the ~4-minute CI budget on 2 cores (measured in docs/audio.md). */
export const FULL: Omit<ColdStartOptions, 'seed' | 'threads'> = {
  size: 'default',
  audioClips: 1000,
  heldOutShare: 0.2,
  factors: 32,
  iterations: 10,
  cnn: { ...DEFAULT_FACTOR_CNN, epochs: 10 },
  patches: 4,
  featureClips: 120,
  k: 50,
};

/** `--quick` and tests: the small world, every track with audio (4 s clips). */
export const QUICK: Omit<ColdStartOptions, 'seed' | 'threads'> = {
  size: 'small',
  audioClips: 400,
  heldOutShare: 0.2,
  factors: 16,
  iterations: 8,
  cnn: { ...DEFAULT_FACTOR_CNN, channels: 32, embedding: 32, epochs: 8 },
  patches: 2,
  featureClips: 24,
  k: 10,
};

export interface Recalls {
  users: number;
  candidates: number;
  k: number;
  audio: number;
  random: number;
  artist_popularity: number;
  oracle_popularity: number;
  warm_als: number;
}

export interface ColdStartResult {
  recalls: Recalls;
  /** Predicted vs ALS factors on the CNN's own validation share of the warm tracks. */
  validation: Agreement;
  trainTracks: number;
  finalLoss: number;
  features: FeatureAccuracy;
  /** The same figures per variety group of the clips (`plain`, `slow`, …: truth/audio.jsonl's `variety`). */
  featureGroups: Record<string, FeatureAccuracy>;
  seconds: Record<string, number>;
}

export interface FeatureAccuracy {
  clips: number;
  failed: number;
  tempo_accuracy1: number;
  tempo_accuracy2: number;
  key_mode_exact: number;
  /** Time signature (2, 3, 4 or 6 for 2/4, 3/4, 4/4, 6/8) on every clip. */
  meter_accuracy: number;
  meter_clips: number;
  /** The 6/8 clips alone: share reported as 6. */
  six_eight_accuracy: number;
  six_eight_clips: number;
}

/**
 * Recall@k per user over one candidate list: `score(u)` gives the candidates' scores for user
 * row u, `positives` the candidate indices each user streamed. Mean over users with positives.
 */
export function recallAtK(positives: Map<number, Set<number>>, score: (user: number) => ArrayLike<number>, k: number): number {
  let sum = 0;
  for (const [u, pos] of positives) {
    const s = score(u);
    const top = topK(s, k).items;
    let hit = 0;
    for (const i of top) if (pos.has(i)) hit++;
    sum += hit / pos.size;
  }
  return positives.size ? sum / positives.size : 0;
}

/** A listen that counts as interest: a stream by the signals' rule with the default settings. */
const isStream = (l: Listen) => listenSignal(l.ms_played, l.skipped, defaultConfidence) === STREAM;

/** Listen rows as store columns; track rows from `tracks`, users added to `users` as met. */
export function columns(listens: Listen[], tracks: IdMap<TrackId>, users: IdMap<UserId>): ListenColumns {
  const n = listens.length;
  const l: ListenColumns = { users, tracks, user: new Int32Array(n), track: new Int32Array(n), msPlayed: new Int32Array(n), startedAt: new Float64Array(n), skipped: new Uint8Array(n) };
  listens.forEach((x, i) => {
    l.user[i] = users.add(x.user_id as UserId);
    l.track[i] = tracks.row(x.track_id);
    l.msPlayed[i] = x.ms_played;
    l.startedAt[i] = Date.parse(x.started_at);
    l.skipped[i] = x.skipped ? 1 : 0;
  });
  return l;
}

/** ALS on the listens' confidence (the signals' default rules). */
export async function fitAls(l: ListenColumns, o: Pick<ColdStartOptions, 'factors' | 'iterations' | 'seed' | 'threads'>): Promise<Recommender & Factorized> {
  const m = await makeRecommender({ kind: 'als', factors: o.factors, iterations: o.iterations, regularization: 0.05, cgSteps: 3, seed: o.seed, threads: o.threads, computeLoss: false });
  await m.fit(listenConfidence(l));
  if (!isFactorized(m)) throw new Error('ALS is not factorized');
  return m;
}

const rowOf = (v: Float32Array, r: number, f: number) => v.subarray(r * f, (r + 1) * f);

/** Score every candidate (rows of `items`, `f` wide) for user row `u` of `users` by inner product. */
function scorer(users: Float32Array, items: Float32Array, f: number): (u: number) => Float32Array {
  const n = items.length / f;
  return (u) => {
    const uv = rowOf(users, u, f);
    const s = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < f; j++) d += uv[j] * items[i * f + j];
      s[i] = d;
    }
    return s;
  };
}

/** Run the whole evaluation (see the module comment). */
export async function runColdStart(o: ColdStartOptions): Promise<ColdStartResult> {
  const log = o.log ?? (() => {});
  const seconds: Record<string, number> = {};
  const time = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    seconds[name] = (performance.now() - t0) / 1000;
    log(`${name}: ${seconds[name].toFixed(1)} s`);
    return r;
  };
  const tmp = o.world ? undefined : mkdtempSync(join(tmpdir(), 'dc-audio-cold-'));
  const dir = o.world ?? tmp!;
  try {
    if (tmp) await time('generate_s', () => generateWorld({ size: o.size, seed: o.seed, out: tmp, audioClips: o.audioClips }));
    const tracks = readJsonl<Track>(join(dir, 'tracks.jsonl'));
    // the labels of each clip as rendered (its track's, changed by its variety group)
    const clipTruth = new Map(readJsonl<ClipTruth>(join(dir, 'truth/audio.jsonl')).map((c) => [c.track_id, c]));
    const listens = readJsonl<Listen>(join(dir, 'listens.jsonl'));
    const trackMap = new IdMap<TrackId>(tracks.map((t) => t.track_id as TrackId));
    const audio = tracks.map((t, i) => (t.audio_path ? i : -1)).filter((i) => i >= 0);
    if (audio.length < 20) throw new DeepcutError('invalid_input', `the world in ${dir} has ${audio.length} tracks with audio; the evaluation needs at least 20`);

    // 1. hold out a seeded share of the audio tracks
    const rng = new Rng(o.seed ^ 0xc01d);
    const cold = rng.shuffle([...audio]).slice(0, Math.round(o.heldOutShare * audio.length)).sort((a, b) => a - b);
    const coldIndex = new Map(cold.map((t, i) => [t, i]));
    const users = new IdMap<UserId>();
    const trainListens = listens.filter((l) => !coldIndex.has(trackMap.row(l.track_id)));
    const trainCols = columns(trainListens, trackMap, users);
    const als = await time('als_s', () => fitAls(trainCols, o));
    const F = o.factors;
    const itemF = als.itemFactors();
    const userF = als.userFactors();

    // 2. the CNN on the warm audio tracks with streams
    const streams = new Float64Array(tracks.length);
    for (const l of trainListens) if (isStream(l)) streams[trackMap.row(l.track_id)]++;
    const patches = await time('mel_s', async () => {
      const outcomes = await analyzeFiles(audio.map((t) => join(dir, tracks[t].audio_path!)), { features: false, patches: o.patches, threads: o.threads });
      const bad = outcomes.find((x) => x.error);
      if (bad) throw new DeepcutError('invalid_input', `generated clip cannot be read: ${bad.error!.message}`);
      return new Map(audio.map((t, i) => [t, outcomes[i].patches!]));
    });
    const warm = audio.filter((t) => !coldIndex.has(t) && streams[t] > 0);
    const fit = await time('cnn_train_s', () => fitFactorCnn(warm.map((t) => ({ patches: patches.get(t)!, target: itemF.slice(t * F, (t + 1) * F) })), F, { ...o.cnn, seed: o.seed }));
    const pred = await time('cnn_infer_s', () => inferTracks(fit.cnn, cold.map((t) => patches.get(t)!)));
    fit.cnn.dispose();

    // 3. rank the held-out tracks for the users who streamed them
    const positives = new Map<number, Set<number>>();
    const heldPlays = new Float64Array(cold.length);
    for (const l of listens) {
      const c = coldIndex.get(trackMap.row(l.track_id));
      if (c === undefined || !isStream(l)) continue;
      const u = users.row(l.user_id);
      if (u < 0) continue; // a user whose every listen was held out has no vector
      (positives.get(u) ?? positives.set(u, new Set()).get(u)!).add(c);
      heldPlays[c]++;
    }
    const artistStreams = new Map<string, number>();
    tracks.forEach((t, i) => t.artist_ids.forEach((a) => artistStreams.set(a, (artistStreams.get(a) ?? 0) + streams[i])));
    const artistPop = Float64Array.from(cold, (t) => tracks[t].artist_ids.reduce((a, x) => a + (artistStreams.get(x) ?? 0), 0) + 1e-6 * rng.next());
    const oraclePop = Float64Array.from(heldPlays, (p) => p + 1e-6 * rng.next());
    const k = o.k;
    const warmAll = await time('als_warm_s', async () => {
      const wu = new IdMap<UserId>(users.toArray());
      const m = await fitAls(columns(listens, trackMap, wu), o);
      const coldF = concatRows(cold.map((t) => m.itemFactors().slice(t * F, (t + 1) * F)));
      return { m, coldF };
    });
    const recalls: Recalls = {
      users: positives.size,
      candidates: cold.length,
      k,
      audio: recallAtK(positives, scorer(userF, pred.factors, F), k),
      random: recallAtK(positives, () => Float64Array.from(cold, () => rng.next()), k),
      artist_popularity: recallAtK(positives, () => artistPop, k),
      oracle_popularity: recallAtK(positives, () => oraclePop, k),
      warm_als: recallAtK(positives, scorer(warmAll.m.userFactors(), warmAll.coldF, F), k),
    };

    // 4. DSP features against the labels
    const sample = new Rng(o.seed ^ 0xfea7).shuffle([...audio]).slice(0, o.featureClips);
    const { features, featureGroups } = await time('features_s', async () => {
      const outcomes = await analyzeFiles(sample.map((t) => join(dir, tracks[t].audio_path!)), { threads: o.threads });
      const rows = outcomes.map((x, i) => ({ est: x.features, truth: clipTruth.get(tracks[sample[i]].track_id)! }));
      const groups = [...new Set(rows.map((r) => r.truth.variety))].sort();
      return { features: featureAccuracy(rows), featureGroups: Object.fromEntries(groups.map((g) => [g, featureAccuracy(rows.filter((r) => r.truth.variety === g))])) };
    });
    return { recalls, validation: fit.validation, trainTracks: fit.trainTracks, finalLoss: fit.losses[fit.losses.length - 1] ?? NaN, features, featureGroups, seconds };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/** The `time_signature` a labelled meter should be reported as. */
const TIME_SIGNATURE: Record<ClipTruth['meter'], number> = { '2/4': 2, '3/4': 3, '4/4': 4, '6/8': 6 };

/** Tempo, key + mode and meter accuracy of estimates against the generator's labels. */
export function featureAccuracy(rows: { est?: { tempo_bpm: number; key: number; mode: number; time_signature: number }; truth: Pick<ClipTruth, 'tempo_bpm' | 'key' | 'mode' | 'meter'> }[]): FeatureAccuracy {
  const ok = rows.filter((r) => r.est);
  let a1 = 0, a2 = 0, key = 0, meter = 0, meterN = 0, six = 0, sixN = 0;
  for (const { est, truth } of ok) {
    const e = est!;
    const h = tempoHits(e.tempo_bpm, truth.tempo_bpm);
    a1 += +h.acc1;
    a2 += +h.acc2;
    key += +(e.key === truth.key && e.mode === (truth.mode === 'major' ? 1 : 0));
    const hit = e.time_signature === TIME_SIGNATURE[truth.meter];
    meterN++;
    meter += +hit;
    if (truth.meter === '6/8') {
      sixN++;
      six += +hit;
    }
  }
  const n = ok.length || 1;
  return { clips: ok.length, failed: rows.length - ok.length, tempo_accuracy1: a1 / n, tempo_accuracy2: a2 / n, key_mode_exact: key / n, meter_accuracy: meterN ? meter / meterN : 0, meter_clips: meterN, six_eight_accuracy: sixN ? six / sixN : 0, six_eight_clips: sixN };
}

export const audioCold: EvalSuite = {
  name: 'audio-cold',
  description: 'cold start from audio on a generated demo world: recall@50 of held-out tracks (CNN-predicted ALS factors) vs random, popularity and warm ALS; DSP features vs the labels',
  needs: [],
  async run(ctx): Promise<EvalReport> {
    const base = ctx.quick ? QUICK : FULL;
    const r = await runColdStart({ ...base, seed: ctx.seed, threads: Math.max(1, ctx.threads), log: (m) => process.stderr.write(`audio-cold: ${m}\n`) });
    const k = r.recalls.k;
    const metrics: Record<string, number | string> = {
      world: `${base.size}, ${base.audioClips} clips, seed ${ctx.seed}`,
      held_out_tracks: r.recalls.candidates,
      users: r.recalls.users,
      cnn_train_tracks: r.trainTracks,
      [`recall_at_${k}_audio`]: r.recalls.audio,
      [`recall_at_${k}_random`]: r.recalls.random,
      [`recall_at_${k}_artist_popularity`]: r.recalls.artist_popularity,
      [`recall_at_${k}_oracle_popularity`]: r.recalls.oracle_popularity,
      [`recall_at_${k}_warm_als`]: r.recalls.warm_als,
      validation_factor_pearson: r.validation.pearson,
      validation_factor_cosine: r.validation.cosine,
      cnn_final_loss: r.finalLoss,
      ...Object.fromEntries(Object.entries(r.features).map(([key, v]) => [`features_${key}`, v])),
      ...r.seconds,
    };
    const tables: EvalTable[] = [
      {
        title: `held-out (cold) tracks ranked for the users who streamed them: recall@${k} over ${r.recalls.candidates} candidates, ${r.recalls.users} users`,
        columns: ['ranking', `recall@${k}`],
        rows: [
          ['audio CNN → predicted ALS factors', r.recalls.audio],
          ['random', r.recalls.random],
          ['artist popularity (training streams)', r.recalls.artist_popularity],
          ['oracle track popularity (held-out streams)', r.recalls.oracle_popularity],
          ['warm ALS (trained with the held-out listens)', r.recalls.warm_als],
        ],
      },
      {
        title: `DSP features vs the demo world's labels (${r.features.clips} clips)`,
        columns: ['figure', 'value'],
        rows: Object.entries(r.features).map(([key, v]) => [key, v]),
      },
      {
        title: 'the same per variety group of the clips (plain: the track\'s catalog labels; the others as generate/synth.ts clipVariety renders them)',
        columns: ['group', 'clips', 'tempo Acc1', 'tempo Acc2', 'key + mode', 'meter'],
        rows: Object.entries(r.featureGroups).map(([g, a]) => [g, a.clips, a.tempo_accuracy1, a.tempo_accuracy2, a.key_mode_exact, a.meter_accuracy]),
      },
    ];
    return { metrics, tables, notes: ['artist popularity is what a system knows of a new track; oracle popularity and warm ALS use the held-out listens and are upper references, not baselines a system can run'] };
  },
};
