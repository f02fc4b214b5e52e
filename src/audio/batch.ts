/**
 * Analysing many files: a cache keyed by the file's content hash (so renamed or moved files are
 * not analysed twice, and an interrupted batch resumes where it stopped), and a pool of
 * `worker_threads` for the cache misses. One bad file never stops the batch: its outcome carries
 * the error instead of features.
 */
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, isAbsolute, resolve } from 'node:path';
import { DeepcutError, isDeepcutError, type ErrorCode } from '../errors.ts';
import { FEATURES_VERSION, type AudioFeatures } from './features.ts';
import { PATCH_FRAMES, PATCH_MELS } from './patches.ts';
import { runAudioJob, type AudioJob, type AudioJobResult } from './job.ts';

export interface AnalyzeOutcome {
  file: string;
  /** sha256 of the file's bytes (absent if it could not be read). */
  sha256?: string;
  features?: AudioFeatures;
  /** The CNN's log-mel patches (PATCH_FRAMES × PATCH_MELS each), when asked for with `patches`. */
  patches?: Float32Array[];
  /** Set when the file could not be analysed. */
  error?: { code: ErrorCode | 'bug'; message: string };
  /** Every result asked for came from the cache. */
  cached: boolean;
}

export interface BatchOptions {
  /** Folder for cached results (`<home>/cache/audio` from the CLI); none = no cache. */
  cacheDir?: string;
  /** Worker threads; 1 analyses on the calling thread. */
  threads?: number;
  /** Compute the DSP features (default true). */
  features?: boolean;
  /** Also compute this many log-mel patches per file for the CNN (default 0), cached like the features. */
  patches?: number;
  /** Called after each file. */
  onProgress?: (done: number, total: number, outcome: AnalyzeOutcome) => void;
}

/** Cache folder of audio features under a deepcut home. */
export function audioCacheDir(home: string): string {
  return join(home, 'cache', 'audio');
}

/** sha256 of a file's bytes, hex. */
export function hashFile(file: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}

/** Bumped when the log-mel patches change (geometry, scaling). */
const PATCHES_VERSION = 1;
const PATCH_SIZE = PATCH_FRAMES * PATCH_MELS;
const cachePath = (dir: string, sha: string) => join(dir, sha.slice(0, 2), `${sha}.v${FEATURES_VERSION}.json`);
const patchPath = (dir: string, sha: string, n: number) => join(dir, sha.slice(0, 2), `${sha}.mel${n}.v${PATCHES_VERSION}.f32`);

function readCache(dir: string | undefined, sha: string): AudioFeatures | undefined {
  if (!dir) return undefined;
  const p = cachePath(dir, sha);
  if (!existsSync(p)) return undefined;
  try {
    const f = JSON.parse(readFileSync(p, 'utf8')) as AudioFeatures;
    return f.version === FEATURES_VERSION ? f : undefined;
  } catch {
    return undefined; // a torn write: recompute
  }
}

function readPatchCache(dir: string | undefined, sha: string, n: number): Float32Array | undefined {
  const p = dir && patchPath(dir, sha, n);
  if (!p || !existsSync(p)) return undefined;
  const b = readFileSync(p);
  return b.length === n * PATCH_SIZE * 4 ? new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)) : undefined;
}

/** Write atomically: a crash leaves either nothing or a whole file. */
function writeCacheFile(p: string, data: string | Float32Array): void {
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p + '.tmp', data);
  renameSync(p + '.tmp', p);
}

const splitPatches = (all: Float32Array) => Array.from({ length: all.length / PATCH_SIZE }, (_, i) => all.subarray(i * PATCH_SIZE, (i + 1) * PATCH_SIZE));

function toError(e: unknown): AnalyzeOutcome['error'] {
  return isDeepcutError(e) ? { code: e.code, message: e.message } : { code: 'bug', message: (e as Error)?.stack ?? String(e) };
}

type Job = { id: number; job: AudioJob; hit: { features?: AudioFeatures; patches?: Float32Array } };
type Reply = { id: number; result?: AudioJobResult; error?: { name?: string; code?: ErrorCode; message: string } };

/**
 * Analyse `files`, in input order: cached results first (by content hash), the rest on a pool of
 * `threads` workers, each file decoded once for its features and patches. Never throws for a bad
 * file; each outcome has what was asked for or `error`.
 */
export async function analyzeFiles(files: string[], opts: BatchOptions = {}): Promise<AnalyzeOutcome[]> {
  const out: AnalyzeOutcome[] = new Array(files.length);
  const wantFeatures = opts.features ?? true;
  const nPatches = opts.patches ?? 0;
  let done = 0;
  const finish = (i: number, o: AnalyzeOutcome) => {
    out[i] = o;
    done++;
    opts.onProgress?.(done, files.length, o);
  };
  const todo: Job[] = [];
  const shas: (string | undefined)[] = new Array(files.length);
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    let sha: string;
    try {
      sha = await hashFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      finish(i, { file, error: { code: 'not_found', message: new DeepcutError('not_found', `cannot read audio file: ${code}`, { file }).message }, cached: false });
      continue;
    }
    shas[i] = sha;
    const hit = { features: wantFeatures ? readCache(opts.cacheDir, sha) : undefined, patches: nPatches ? readPatchCache(opts.cacheDir, sha, nPatches) : undefined };
    const job: AudioJob = { file, features: wantFeatures && !hit.features, patches: nPatches && !hit.patches ? nPatches : 0 };
    if (!job.features && !job.patches) finish(i, { file, sha256: sha, features: hit.features, ...(hit.patches ? { patches: splitPatches(hit.patches) } : {}), cached: true });
    else todo.push({ id: i, job, hit });
  }
  const record = (j: Job, result?: AudioJobResult, error?: AnalyzeOutcome['error']) => {
    const sha = shas[j.id] as string;
    if (opts.cacheDir && result?.features) writeCacheFile(cachePath(opts.cacheDir, sha), JSON.stringify(result.features));
    if (opts.cacheDir && result?.patches) writeCacheFile(patchPath(opts.cacheDir, sha, nPatches), result.patches);
    const features = result?.features ?? j.hit.features;
    const patches = result?.patches ?? j.hit.patches;
    finish(j.id, { file: j.job.file, sha256: sha, ...(error ? { error } : { features, ...(patches ? { patches: splitPatches(patches) } : {}) }), cached: false });
  };
  const threads = Math.max(1, Math.min(opts.threads ?? 1, todo.length));
  if (threads === 1) {
    for (const j of todo) {
      try {
        record(j, await runAudioJob(j.job));
      } catch (e) {
        record(j, undefined, toError(e));
      }
    }
    return out;
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: threads }, async () => {
      const w = new Worker(new URL('./workers/analyze-worker.mjs', import.meta.url));
      try {
        await new Promise<void>((res, rej) => {
          w.once('message', () => res());
          w.once('error', rej);
        });
        while (next < todo.length) {
          const j = todo[next++];
          const reply = await new Promise<Reply>((res) => {
            const onMsg = (r: Reply) => {
              w.off('error', onErr);
              res(r);
            };
            const onErr = (e: Error) => {
              w.off('message', onMsg);
              res({ id: j.id, error: { message: e.stack ?? String(e) } });
            };
            w.once('message', onMsg);
            w.once('error', onErr);
            w.postMessage({ id: j.id, job: j.job });
          });
          if (reply.result) record(j, reply.result);
          else record(j, undefined, { code: reply.error?.name === 'DeepcutError' && reply.error.code ? reply.error.code : 'bug', message: reply.error?.message ?? 'unknown error' });
        }
      } finally {
        await w.terminate();
      }
    }),
  );
  return out;
}

/** A catalog track as the pipeline sees it: its id and, when it has one, its audio file. */
export interface TrackAudioRef {
  track_id: string;
  /** Path of the audio file; relative paths are resolved against `baseDir`. */
  audio_path?: string;
}

/**
 * The pipeline step: analyse every catalog track that has an audio file (tracks without one are
 * skipped), on the worker pool and through the cache. Returns outcomes by track id; failed files
 * carry their error and the rest go on.
 */
export async function analyzeTracks(tracks: TrackAudioRef[], opts: BatchOptions & { baseDir?: string } = {}): Promise<Map<string, AnalyzeOutcome>> {
  const withAudio = tracks.filter((t): t is Required<TrackAudioRef> => Boolean(t.audio_path));
  const files = withAudio.map((t) => (isAbsolute(t.audio_path) ? t.audio_path : resolve(opts.baseDir ?? '.', t.audio_path)));
  const outcomes = await analyzeFiles(files, opts);
  return new Map(withAudio.map((t, i) => [t.track_id, outcomes[i]]));
}
