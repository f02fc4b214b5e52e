/**
 * The pipeline's audio step (after cf): DSP features of every catalog track with an audio file,
 * and the cold-start CNN (src/audio/coldstart.ts) fitted to the cf step's item factors, which
 * predicts factors and an audio embedding for every track with audio — in particular for tracks
 * nobody has played, which CF cannot place.
 *
 * Artifacts in `<run>/audio/` (read by the audio family's loader, src/audio/artifacts.ts):
 *   features.jsonl          one line per analysed track: track_id, sha256, every AudioFeatures field
 *   audio-tracks.json       track ids of the rows of the two vector files (this run's catalog rows too)
 *   audio-factors.bin       kind `audio-factors`, metric inner_product: track_rows [n], factors [n × F]
 *   audio-embeddings.bin    kind `audio-embeddings`, metric cosine: track_rows [n], embeddings [n × E]
 *   audio-embeddings.index  usearch HNSW index over the embeddings (src/index/ann.ts)
 *   cnn.bin                 the CNN (AudioCnn.save: magic, version, shapes, run id)
 * Features and log-mel patches are cached by file content hash under `<home>/cache/audio/`, so a
 * daily run analyses only new files.
 */
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { DeepcutError } from '../errors.ts';
import { SHARDS } from './task-exec.ts';
import { PATCH_FRAMES, PATCH_MELS } from '../audio/cnn.ts';
import { join } from 'node:path';
import type { Step, StepContext } from './runner.ts';
import type { Snapshot } from './snapshot.ts';
import type { PlaylistInputs } from './playlists-step.ts';
import { analyzeFiles, audioCacheDir, type AnalyzeOutcome } from '../audio/index.ts';
import type { CnnExample } from '../audio/cnn.ts';
import { fitFactorCnn, inferTracks, DEFAULT_FACTOR_CNN, type FactorCnnConfig } from '../audio/coldstart.ts';
import { AudioCnn } from '../audio/cnn.ts';
import { loadAudioVectors } from '../audio/index.ts';
import { isFactorized, type Recommender } from '../cf/index.ts';
import { writeArtifact, readArtifact } from '../cf/index.ts';
import { AnnIndex } from '../index/ann.ts';
import { audioPathResolver, PROGRESS_NS } from '../ingest/index.ts';
import { contentSource, favourites, nearestFavourite, rowSearch, LazyCandidate, soundsLike, vectorRow as vecRow, type Vectors } from '../playlists/index.ts';
import { topK } from '../cf/index.ts';
import type { Candidate, CandidateSource, Reason } from '../playlists/index.ts';
import { runSnapshot } from './persist.ts';
import { loadCfFactors } from '../cf/index.ts';

export interface AudioStepOptions {
  cnn?: Partial<FactorCnnConfig>;
  /** Log-mel patches per track (each 2.97 s). */
  patches?: number;
  /** Fewest streams a track needs for its CF factors to be a training target. */
  minStreams?: number;
  /** Fewest training tracks for the CNN to be trained at all. */
  minTrainTracks?: number;
  /** Folders that relative audio paths are resolved against, before the importer's folders and the working directory. */
  baseDirs?: string[];
}

/**
 * Where a relative `audio_path` points: the first existing file among `baseDirs`, the folders the
 * catalog was imported from (recorded by the importer), and the working directory.
 */
export async function audioResolver(ctx: StepContext, baseDirs: string[] = []): Promise<(path: string) => string> {
  return audioPathResolver(ctx.store, baseDirs);
}

/** Tracks per audio analysis task (~0.3–1 s of CPU each: a task of several seconds keeps the queue's overhead under 5 %). */
export const AUDIO_BATCH = 16;

/** Analysis tasks for `tracks` tracks with audio. */
export const audioBatches = (tracks: number): number => Math.ceil(tracks / AUDIO_BATCH);

/** One analysed track of a batch: its catalog row, its features line and its log-mel patches. */
interface Analysed {
  row: number;
  line: string;
  patches: Float32Array[];
}

const PATCH = PATCH_FRAMES * PATCH_MELS;

/** Catalog rows of the tracks with an audio file, in row order (the batches slice this list). */
const audioRows = (s: Snapshot) => s.catalog.tracks.map((t, i) => (t.audioPath ? i : -1)).filter((i) => i >= 0);

/** Write a batch's analysed tracks (features lines, patches) into `dir`, its summary last. */
async function saveBatch(dir: string, runId: string, got: Analysed[], cached: number, failures: string[] = []): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'features.jsonl'), got.map((g) => g.line + '\n').join(''));
  const counts = Int32Array.from(got, (g) => g.patches.length);
  const all = new Float32Array(counts.reduce((a, c) => a + c, 0) * PATCH);
  let at = 0;
  for (const g of got) for (const p of g.patches) all.set(p, (at++) * PATCH);
  await writeArtifact(join(dir, 'patches.bin'), { kind: 'audio-patches', runId, metric: 'none', params: { tracks: got.length, frames: PATCH_FRAMES, mels: PATCH_MELS } }, [
    { name: 'rows', data: Int32Array.from(got, (g) => g.row), shape: [got.length] },
    { name: 'counts', data: counts, shape: [got.length] },
    { name: 'patches', data: all, shape: [at, PATCH] },
  ]);
  await writeFile(join(dir, 'summary.json.tmp'), JSON.stringify({ tracks: got.length, cached, failures }));
  await rename(join(dir, 'summary.json.tmp'), join(dir, 'summary.json'));
}

/** A batch saved by {@link saveBatch}, or undefined when it has not finished. */
async function loadBatch(dir: string): Promise<{ got: Analysed[]; cached: number; failures: string[] } | undefined> {
  if (!existsSync(join(dir, 'summary.json'))) return undefined;
  const { cached, failures = [] } = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as { cached: number; failures?: string[] };
  const lines = (await readFile(join(dir, 'features.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const a = await readArtifact(join(dir, 'patches.bin'), { kind: 'audio-patches' });
  const rows = a.arrays.rows as Int32Array;
  const counts = a.arrays.counts as Int32Array;
  const all = a.arrays.patches as Float32Array;
  let at = 0;
  const got = Array.from(rows, (row, i) => ({ row, line: lines[i], patches: Array.from({ length: counts[i] }, () => all.slice(at * PATCH, ++at * PATCH)) }));
  return { got, cached, failures };
}

/** Float32 arrays one after another. */
function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** An inference batch's vectors (rows in the analysis batch's order), as {@link savePrediction} wrote them. */
interface Prediction {
  factors: Float32Array;
  embeddings: Float32Array;
}

async function savePrediction(dir: string, runId: string, p: Prediction): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeArtifact(join(dir, 'prediction.bin.tmp'), { kind: 'audio-prediction', runId, metric: 'none', params: {} }, [
    { name: 'factors', data: p.factors, shape: [p.factors.length] },
    { name: 'embeddings', data: p.embeddings, shape: [p.embeddings.length] },
  ]);
  await rename(join(dir, 'prediction.bin.tmp'), join(dir, 'prediction.bin'));
}

async function loadPrediction(dir: string): Promise<Prediction | undefined> {
  if (!existsSync(join(dir, 'prediction.bin'))) return undefined;
  const a = await readArtifact(join(dir, 'prediction.bin'), { kind: 'audio-prediction' });
  return { factors: a.arrays.factors as Float32Array, embeddings: a.arrays.embeddings as Float32Array };
}

/** The audio step, with its options. The lead wires `audioStep` (defaults) into `defaultSteps()`. */
export function makeAudioStep(opts: AudioStepOptions = {}): Step {
  const cfg: FactorCnnConfig = { ...DEFAULT_FACTOR_CNN, ...opts.cnn };
  const nPatches = opts.patches ?? 8;
  /** Analyse the tracks at `rows`: those analysed, and the outcomes of those that failed. */
  const analyse = async (ctx: StepContext, s: Snapshot, rows: number[]) => {
    const { tracks } = s.catalog;
    const where = await audioResolver(ctx, opts.baseDirs);
    const outcomes = await analyzeFiles(rows.map((r) => where(tracks[r].audioPath!)), { cacheDir: audioCacheDir(ctx.config.home), threads: ctx.config.cf.threads, patches: nPatches });
    const got: Analysed[] = [];
    const failed: { row: number; outcome: AnalyzeOutcome }[] = [];
    outcomes.forEach((o, i) => {
      if (o.features) got.push({ row: rows[i], line: JSON.stringify({ track_id: tracks[rows[i]].id, sha256: o.sha256, ...o.features }), patches: o.patches! });
      else failed.push({ row: rows[i], outcome: o });
    });
    return { got, failed, cached: outcomes.filter((o) => o.cached).length };
  };
  const shards = (ctx: StepContext) => `${ctx.dir.replace(/\.partial$/, '')}${SHARDS}`;
  const batchDir = (ctx: StepContext, index: number, count: number) => join(shards(ctx), `${count}`, `${index}`);
  const betweenDir = (ctx: StepContext) => join(shards(ctx), BETWEEN);
  const inferDir = (ctx: StepContext, index: number, count: number) => join(shards(ctx), 'infer', `${count}`, `${index}`);
  /** The CNN's vectors for the analysed tracks of batch `index` (its patches), with the between task's CNN. */
  const inferBatch = async (ctx: StepContext, index: number, count: number): Promise<Prediction> => {
    const batch = await loadBatch(batchDir(ctx, index, count));
    if (!batch) throw new DeepcutError('not_found', `audio inference batch ${index + 1}/${count} of run ${ctx.runId}: analysis batch ${index} has no files`);
    const cnn = await AudioCnn.load(join(betweenDir(ctx), 'cnn.bin'));
    try {
      return await inferTracks(cnn, batch.got.map((g) => g.patches));
    } finally {
      cnn.dispose();
    }
  };
  return {
    name: 'audio',
    after: ['cf'],
    // one task per batch of tracks with audio; a batch whose file cannot be analysed dies after its retries, and the join analyses its other files itself
    toleratesDeadParts: true,
    parts(outputs) {
      const count = audioBatches(Number(outputs.signals?.info?.audio_tracks ?? 0));
      return Array.from({ length: count }, (_, index) => ({ id: `${index}-of-${count}`, payload: { index, count } }));
    },
    async runPart(ctx, part) {
      const { index, count, infer } = part as { index: number; count: number; infer?: boolean };
      if (infer) {
        // an inference batch: the CNN's vectors for the analysis batch of the same index
        const dir = inferDir(ctx, index, count);
        if (existsSync(join(dir, 'prediction.bin'))) return;
        const p = await inferBatch(ctx, index, count);
        await savePrediction(dir, ctx.runId, p);
        return;
      }
      const s = await runSnapshot(ctx);
      const rows = audioRows(s);
      if (audioBatches(rows.length) !== count) throw new DeepcutError('invalid_input', `audio batch ${index} of ${count}: the run's snapshot has ${rows.length} tracks with audio, ${audioBatches(rows.length)} batches`);
      const dir = batchDir(ctx, index, count);
      if (existsSync(join(dir, 'summary.json'))) return;
      const r = await analyse(ctx, s, rows.slice(index * AUDIO_BATCH, (index + 1) * AUDIO_BATCH));
      if (r.failed.length) {
        const which = r.failed.map((f) => `track ${s.catalog.tracks[f.row].id}: ${f.outcome.error?.message.includes(f.outcome.file) ? '' : `${f.outcome.file}: `}${f.outcome.error?.message}`);
        throw new Error(`audio batch ${index + 1}/${count}: ${r.failed.length} of ${r.got.length + r.failed.length} files could not be analysed: ${which.join('; ')}`);
      }
      await saveBatch(dir, ctx.runId, r.got, r.cached);
    },
    /**
     * Between the analysis and the inference batches: every batch's files (a batch that died is
     * analysed here, its failures alone left out, and saved like the others), then the CNN trained
     * on the analysed tracks' patches → the cf step's item factors: `between/cnn.bin`, and
     * `between/summary.json` with the step's metrics so far. Returns the inference batches' count
     * (0: no CNN).
     */
    async between(ctx): Promise<BetweenResult> {
      const t0 = performance.now();
      const s = await runSnapshot(ctx);
      const { tracks } = s.catalog;
      const rows = audioRows(s);
      const metrics: Record<string, number> = { tracks_with_audio: rows.length, analysed: 0, failed: 0, cached: 0, cnn_train_tracks: 0, predicted_tracks: 0, predicted_unplayed_tracks: 0 };
      const count = audioBatches(rows.length);
      const ok: Analysed[] = [];
      const failures: string[] = [];
      for (let b = 0; b < count; b++) {
        const dir = batchDir(ctx, b, count);
        let saved = await loadBatch(dir);
        if (!saved) {
          const r = await analyse(ctx, s, rows.slice(b * AUDIO_BATCH, (b + 1) * AUDIO_BATCH));
          for (const f of r.failed) ctx.log.warn({ track: tracks[f.row].id, file: f.outcome.file, error: f.outcome.error?.message }, 'audio analysis failed');
          // saved with its failures, so the inference batches find it and a re-run of this task (after a crash) reports them again
          saved = { got: r.got, cached: r.cached, failures: r.failed.map((f) => f.outcome.error?.message ?? f.outcome.file) };
          await saveBatch(dir, ctx.runId, saved.got, saved.cached, saved.failures);
        } else for (const f of saved.failures) ctx.log.warn({ error: f }, 'audio analysis failed');
        ok.push(...saved.got);
        metrics.cached += saved.cached;
        failures.push(...saved.failures);
      }
      metrics.analysed = ok.length;
      metrics.failed = rows.length - ok.length;
      const out = betweenDir(ctx);
      await rm(out, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      const finish = async (r: BetweenResult, info: Record<string, unknown>): Promise<BetweenResult> => {
        metrics.seconds = (performance.now() - t0) / 1000;
        const summary: BetweenSummary = { metrics, info: { ...(failures.length ? { failures: `${metrics.failed} of ${rows.length} audio files could not be analysed; first: ${failures[0]}` } : {}), ...info }, batches: r.batches };
        await writeFile(join(out, 'summary.json.tmp'), JSON.stringify(summary));
        await rename(join(out, 'summary.json.tmp'), join(out, 'summary.json'));
        return r;
      };
      // the CNN: log-mel patches → the cf step's item factors
      // the factor space alone: the CNN's targets are item factors
      const model = ok.length ? await loadCfFactors(ctx.dirOf('cf'), s, ctx.config.cf.threads) : undefined;
      try {
        if (!model) return await finish({ batches: 0 }, { cnn: ok.length ? 'skipped: the cf model has no factors' : 'skipped: no audio analysed' });
        const F = model.factors;
        const itemF = model.itemFactors();
        const train: CnnExample[] = [];
        for (const x of ok) if (tracks[x.row].plays >= (opts.minStreams ?? 1)) train.push({ patches: x.patches, target: itemF.slice(x.row * F, (x.row + 1) * F) });
        if (train.length < (opts.minTrainTracks ?? 16)) return await finish({ batches: 0 }, { cnn: `skipped: ${train.length} tracks with audio and streams, fewer than ${opts.minTrainTracks ?? 16}` });
        const fit = await fitFactorCnn(train, F, cfg, (e, loss) => ctx.log.debug({ epoch: e, loss }, 'audio CNN epoch'));
        await fit.cnn.save(join(out, 'cnn.bin'), ctx.runId);
        fit.cnn.dispose();
        Object.assign(metrics, { cnn_train_tracks: fit.trainTracks, cnn_train_loss: fit.losses[fit.losses.length - 1], cnn_validation_tracks: fit.validation.tracks, cnn_validation_pearson: fit.validation.pearson, cnn_validation_cosine: fit.validation.cosine });
        return await finish({ batches: count }, { cnn: 'trained', factors: F, embedding: cfg.embedding });
      } finally {
        await (model as Partial<{ close(): Promise<void> }> | undefined)?.close?.();
      }
    },
    laterParts(between) {
      const { batches } = between as BetweenResult;
      return Array.from({ length: batches }, (_, index) => ({ id: `infer-${index}-of-${batches}`, payload: { infer: true, index, count: batches }, fetch: [`${batches}/${index}`, BETWEEN] }));
    },
    async run(ctx) {
      const t0 = performance.now();
      const s = await runSnapshot(ctx);
      const { tracks } = s.catalog;
      const rows = audioRows(s);
      const count = audioBatches(rows.length);
      const summaryFile = join(betweenDir(ctx), 'summary.json');
      if (!existsSync(summaryFile)) throw new DeepcutError('not_found', `audio step of run ${ctx.runId}: no ${summaryFile}: the between task (CNN training) has not finished`);
      const { metrics, info, batches } = JSON.parse(await readFile(summaryFile, 'utf8')) as BetweenSummary;
      const ok: Analysed[] = [];
      for (let b = 0; b < count; b++) ok.push(...(await loadBatch(batchDir(ctx, b, count)))!.got);
      await writeFile(join(ctx.dir, 'features.jsonl'), ok.map((x) => x.line + '\n').join(''));
      if (batches) {
        // the inference batches' vectors in batch (= catalog row) order; a batch whose task died is inferred here
        const preds = [];
        for (let b = 0; b < batches; b++) preds.push((await loadPrediction(inferDir(ctx, b, batches))) ?? (await inferBatch(ctx, b, batches)));
        const F = Number(info.factors);
        const E = Number(info.embedding);
        const factors = concat(preds.map((p) => p.factors));
        const embeddings = concat(preds.map((p) => p.embeddings));
        const trackRows = Int32Array.from(ok, (x) => x.row);
        if (factors.length !== ok.length * F) throw new DeepcutError('invalid_input', `audio step of run ${ctx.runId}: ${factors.length / F} predicted tracks for ${ok.length} analysed`);
        await copyFile(join(betweenDir(ctx), 'cnn.bin'), join(ctx.dir, 'cnn.bin'));
        const params = { tracks: ok.length, cnn_channels: cfg.channels, patches: nPatches, cf_run: ctx.runId };
        await writeFile(join(ctx.dir, 'audio-tracks.json'), JSON.stringify(ok.map((x) => tracks[x.row].id)));
        await writeArtifact(join(ctx.dir, 'audio-factors.bin'), { kind: 'audio-factors', runId: ctx.runId, metric: 'inner_product', params: { ...params, factors: F } }, [
          { name: 'track_rows', data: trackRows, shape: [ok.length] },
          { name: 'factors', data: factors, shape: [ok.length, F] },
        ]);
        await writeArtifact(join(ctx.dir, 'audio-embeddings.bin'), { kind: 'audio-embeddings', runId: ctx.runId, metric: 'cosine', params: { ...params, embedding: E } }, [
          { name: 'track_rows', data: trackRows, shape: [ok.length] },
          { name: 'embeddings', data: embeddings, shape: [ok.length, E] },
        ]);
        // one thread: a graph built on several depends on their timing, and a re-run must write the same bytes
        const index = AnnIndex.build(embeddings, E, 'cos', { threads: 1 });
        await index.save(join(ctx.dir, 'audio-embeddings.index'), { runId: ctx.runId });
        Object.assign(metrics, { predicted_tracks: ok.length, predicted_unplayed_tracks: ok.filter((x) => tracks[x.row].plays === 0).length });
      }
      await rm(`${ctx.dir.replace(/\.partial$/, '')}${SHARDS}`, { recursive: true, force: true });
      metrics.seconds += (performance.now() - t0) / 1000;
      return { metrics, info };
    },
  };
}

/** What the audio step's between task returns: the inference batches to run (0: no CNN). */
interface BetweenResult {
  batches: number;
}

/** `between/summary.json`: the step's metrics and info so far, and the inference batches. */
interface BetweenSummary {
  metrics: Record<string, number>;
  info: Record<string, unknown>;
  batches: number;
}

/** The between task's folder under the step's shards: `between/`. */
const BETWEEN = 'between';

export const audioStep: Step = makeAudioStep();

/** The audio family's loader (src/audio/artifacts.ts), re-exported for the pipeline and its tests. */
export { loadAudioVectors, type AudioVectors } from '../audio/index.ts';

/**
 * What the audio step gives the playlists: a candidate source named `audio` and flow features
 * (tempo, key, mode) for sequencing. With a factorized CF model the source scores every unheard
 * track with audio by the user's vector · the CNN-predicted factors (so unplayed tracks compete);
 * otherwise by cosine of the audio embeddings to the user's favourites. Either way the reason is
 * "sounds like <the favourite nearest in the embedding>".
 * @example const extra = await audioPlaylistInputs(ctx.dirOf('audio'), s, model); await makePlaylists(ctx, s, model, extra)
 */
export async function audioPlaylistInputs(audioDir: string, snapshot: Snapshot, model: Recommender): Promise<PlaylistInputs> {
  const v = await loadAudioVectors(audioDir, snapshot);
  const flow = (t: number) => v.flow.get(t);
  if (!v.embeddings) return { sources: [], flow };
  const { catalog } = snapshot;
  const emb = v.embeddings;
  const explain = (_t: number, fav: number): Reason => soundsLike(catalog, fav);
  if (!v.factors || !isFactorized(model) || model.factors !== v.factors.dim) return { sources: [contentSource('audio', emb, explain)], flow };
  return { sources: [predictedFactorSource(snapshot, model.userFactors(), v.factors, emb)], flow };
}

/** Unheard tracks with audio scored by user vector · predicted factors, explained by the nearest favourite in the embedding. */
function predictedFactorSource(snapshot: Snapshot, userF: Float32Array, factors: Vectors, emb: Vectors): CandidateSource {
  const { catalog } = snapshot;
  const F = factors.dim;
  const withAudio: number[] = [];
  for (let r = 0; r < catalog.tracks.length; r++) if (vecRow(emb, r).some((x) => x !== 0)) withAudio.push(r);
  const search = rowSearch(factors.data, F, withAudio);
  return {
    name: 'audio',
    candidates(user, k) {
      const u = snapshot.users.row(user.id);
      if (u < 0 || (u + 1) * F > userF.length) return [];
      const top = search.top(userF.subarray(u * F, (u + 1) * F), k, user.plays.keys());
      let favs: number[] | undefined;
      const why = (t: number): Reason => {
        favs ??= favourites(user, 30).filter((x) => vecRow(emb, x).some((y) => y !== 0));
        return soundsLike(catalog, favs.length ? nearestFavourite(emb, t, favs) : -1);
      };
      return Array.from(top.items, (t, j): Candidate => new LazyCandidate(t, top.scores[j], 'audio', why));
    },
  };
}
