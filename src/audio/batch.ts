/**
 * Analysing many files: a cache keyed by the file's content hash (so renamed or moved files are
 * not analysed twice, and an interrupted batch resumes where it stopped), and a pool of
 * `worker_threads` for the cache misses. One bad file never stops the batch: its outcome carries
 * the error instead of features.
 */
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, isAbsolute, resolve } from 'node:path';
import { DeepcutError, isDeepcutError, type ErrorCode } from '../errors.ts';
import { analyzeFile, FEATURES_VERSION, type AudioFeatures } from './features.ts';

export interface AnalyzeOutcome {
  file: string;
  /** sha256 of the file's bytes (absent if it could not be read). */
  sha256?: string;
  features?: AudioFeatures;
  /** Set when the file could not be analysed. */
  error?: { code: ErrorCode | 'bug'; message: string };
  cached: boolean;
}

export interface BatchOptions {
  /** Folder for cached results (`<home>/cache/audio` from the CLI); none = no cache. */
  cacheDir?: string;
  /** Worker threads; 1 analyses on the calling thread. */
  threads?: number;
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

const cachePath = (dir: string, sha: string) => join(dir, sha.slice(0, 2), `${sha}.v${FEATURES_VERSION}.json`);

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

function writeCache(dir: string | undefined, sha: string, f: AudioFeatures): void {
  if (!dir) return;
  const p = cachePath(dir, sha);
  mkdirSync(join(dir, sha.slice(0, 2)), { recursive: true });
  writeFileSync(p + '.tmp', JSON.stringify(f));
  renameSync(p + '.tmp', p); // atomic: a crash leaves either nothing or a whole file
}

function toError(e: unknown): AnalyzeOutcome['error'] {
  return isDeepcutError(e) ? { code: e.code, message: e.message } : { code: 'bug', message: (e as Error)?.stack ?? String(e) };
}

type Job = { id: number; file: string };
type Reply = { id: number; features?: AudioFeatures; error?: { name?: string; code?: ErrorCode; message: string } };

/**
 * Analyse `files`, in input order: cached results first (by content hash), the rest on a pool of
 * `threads` workers. Never throws for a bad file; each outcome has `features` or `error`.
 */
export async function analyzeFiles(files: string[], opts: BatchOptions = {}): Promise<AnalyzeOutcome[]> {
  const out: AnalyzeOutcome[] = new Array(files.length);
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
    const hit = readCache(opts.cacheDir, sha);
    if (hit) finish(i, { file, sha256: sha, features: hit, cached: true });
    else todo.push({ id: i, file });
  }
  const record = (job: Job, features?: AudioFeatures, error?: AnalyzeOutcome['error']) => {
    const sha = shas[job.id] as string;
    if (features) writeCache(opts.cacheDir, sha, features);
    finish(job.id, { file: job.file, sha256: sha, features, error, cached: false });
  };
  const threads = Math.max(1, Math.min(opts.threads ?? 1, todo.length));
  if (threads === 1) {
    for (const job of todo) {
      try {
        record(job, await analyzeFile(job.file));
      } catch (e) {
        record(job, undefined, toError(e));
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
          const job = todo[next++];
          const reply = await new Promise<Reply>((res) => {
            const onMsg = (r: Reply) => {
              w.off('error', onErr);
              res(r);
            };
            const onErr = (e: Error) => {
              w.off('message', onMsg);
              res({ id: job.id, error: { message: e.stack ?? String(e) } });
            };
            w.once('message', onMsg);
            w.once('error', onErr);
            w.postMessage(job);
          });
          if (reply.features) record(job, reply.features);
          else record(job, undefined, { code: reply.error?.name === 'DeepcutError' && reply.error.code ? reply.error.code : 'bug', message: reply.error?.message ?? 'unknown error' });
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
