/**
 * Runs in the artifact store. A finished run goes up file by file under `<runId>/<path>`, and then
 * its file list `<runId>/files.json` (every file's path, size and SHA-256) LAST: a run without its
 * file list does not exist for readers. A reader ({@link fetchRun}) downloads a run into a local
 * cache keyed by content hash (`<cache>/blobs/<ab>/<sha256>`: a file already there is not fetched
 * again, and bytes shared by two runs are fetched once), then shows it as a complete folder
 * `<cache>/runs/<runId>/` by one rename. Every download is checked against its SHA-256 and retried
 * with backoff; progress, retries and the last error are counted in a {@link FetchStats}.
 */
import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { DeepcutError, isDeepcutError } from '../errors.ts';
import { checkKey, isRunsFolder, sha256File, syncFile, type ArtifactStore } from './store.ts';

/** Name of a run's file list, inside the run's key prefix. */
export const RUN_FILES = 'files.json';

const RunFilesZ = z.object({
  magic: z.literal('deepcut-run-files'),
  version: z.literal(1),
  runId: z.string().min(1),
  files: z.array(z.object({ path: z.string().min(1), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});
/** A run's file list: every file of the run folder with its size (bytes) and SHA-256 (hex). */
export type RunFiles = z.infer<typeof RunFilesZ>;

/** Files of a finished run folder, as `/`-separated paths, sorted: hidden names, unfinished step folders (`*.partial`) and the file list itself left out. */
async function runPaths(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(rel ? join(dir, rel) : dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name.endsWith('.partial') || e.name.endsWith('.tmp') || (!rel && e.name === RUN_FILES)) continue;
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await runPaths(dir, p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/**
 * Run `fn` over `items`, at most `limit` at a time, keeping the order of results. On a failure no
 * new item starts, and the error is thrown once the ones under way have settled (none is left
 * writing behind the caller's back).
 */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const bad = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
  return out;
}

/**
 * Put a finished run folder into the store: each file under `<runId>/<path>` (skipped when the
 * store already holds the same bytes, so an interrupted push resumes), then the file list last.
 * When the store is the folder the run was built in (the default `<home>/runs`), nothing is copied
 * and only the file list is written.
 * @example await pushRun(store, '/srv/deepcut/runs/20261206T030000Z-1', '20261206T030000Z-1')
 */
export async function pushRun(store: ArtifactStore, runDir: string, runId: string, o: { concurrency?: number } = {}): Promise<RunFiles> {
  checkKey(runId);
  const inPlace = isRunsFolder(store, dirname(resolve(runDir))) && basename(runDir) === runId;
  const files = await mapLimit(await runPaths(runDir), o.concurrency ?? 4, async (path) => {
    const file = join(runDir, ...path.split('/'));
    const { sha256, size } = await sha256File(file);
    if (!inPlace) {
      const have = await store.stat(`${runId}/${path}`);
      if (have?.sha256 !== sha256 || have.size !== size) await store.put(`${runId}/${path}`, { file, sha256 });
    }
    return { path, size, sha256 };
  });
  const list: RunFiles = { magic: 'deepcut-run-files', version: 1, runId, files };
  await store.put(`${runId}/${RUN_FILES}`, { bytes: Buffer.from(JSON.stringify(list, null, 1)) });
  return list;
}

/**
 * Put the files of a run this machine has just pushed into its cache (`<cacheDir>/blobs`, hard
 * links, copies where links fail), so that reading the run back here downloads nothing. The run's
 * files must not be rewritten in place afterwards (the pipeline replaces files by renames).
 */
export async function seedCache(list: RunFiles, runDir: string, cacheDir: string): Promise<void> {
  for (const f of list.files) {
    const blob = blobPath(cacheDir, f.sha256);
    if ((await stat(blob).catch(() => undefined))?.size === f.size) continue;
    await mkdir(dirname(blob), { recursive: true });
    const tmp = tmpName(blob);
    const src = join(runDir, ...f.path.split('/'));
    await link(src, tmp).catch(() => copyFile(src, tmp));
    await rename(tmp, blob);
  }
}

const tmpName = (p: string) => `${p}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
const blobPath = (cacheDir: string, sha: string) => join(cacheDir, 'blobs', sha.slice(0, 2), sha);

/** Read a stream to the end into one buffer (small objects only: a run's file list). */
async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A run's file list from the store; DeepcutError('not_found') when the run is not (or not yet wholly) there. */
export async function readRunFiles(store: ArtifactStore, runId: string): Promise<RunFiles> {
  const key = `${checkKey(runId)}/${RUN_FILES}`;
  let bytes: Buffer;
  try {
    bytes = await readAll(await store.get(key));
  } catch (e) {
    if (isDeepcutError(e) && e.code === 'not_found') throw new DeepcutError('not_found', `run ${runId} is not in ${store.url}: no ${RUN_FILES} (the run does not exist or has not finished uploading)`);
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new DeepcutError('invalid_input', `${store.url}/${key}: not valid JSON: ${(e as Error).message}`);
  }
  const r = RunFilesZ.safeParse(json);
  if (!r.success) throw new DeepcutError('invalid_input', `${store.url}/${key}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  if (r.data.runId !== runId) throw new DeepcutError('invalid_input', `${store.url}/${key}: names run ${r.data.runId}, expected ${runId}`);
  for (const f of r.data.files) checkKey(f.path);
  return r.data;
}

/** What a fetch reports as it goes. */
export type FetchEvent =
  | { type: 'file'; runId: string; key: string; bytes: number; cached: boolean }
  | { type: 'retry'; runId: string; key: string; attempt: number; delayMs: number; error: string }
  | { type: 'fetched'; runId: string; files: number; downloaded: number; cached: number; bytes: number }
  | { type: 'failed'; runId: string; key: string; error: string };

/**
 * Counters of a process's fetches, and a place to listen to them: a serving node logs the events
 * and exports {@link FetchStats.metrics} on `/metrics`.
 */
export class FetchStats {
  runs = 0;
  filesDownloaded = 0;
  cacheHits = 0;
  bytesDownloaded = 0;
  retries = 0;
  failures = 0;
  /** The last error a fetch met (retried or not): its message, the key and when (ISO time). */
  lastError: { message: string; key: string; at: string } | undefined;
  private readonly listeners = new Set<(e: FetchEvent) => void>();

  /** Call `fn` on every event; returns the function that stops it. */
  on(fn: (e: FetchEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: FetchEvent): void {
    if (e.type === 'file') {
      if (e.cached) this.cacheHits++;
      else {
        this.filesDownloaded++;
        this.bytesDownloaded += e.bytes;
      }
    } else if (e.type === 'retry') {
      this.retries++;
      this.lastError = { message: e.error, key: e.key, at: new Date().toISOString() };
    } else if (e.type === 'failed') {
      this.failures++;
      this.lastError = { message: e.error, key: e.key, at: new Date().toISOString() };
    } else this.runs++;
    for (const fn of this.listeners) fn(e);
  }

  /** The counters as metric name → value (Prometheus names; `_total` ones only grow). */
  metrics(): Record<string, number> {
    return {
      artifact_fetch_runs_total: this.runs,
      artifact_fetch_files_total: this.filesDownloaded,
      artifact_fetch_cache_hits_total: this.cacheHits,
      artifact_fetch_bytes_total: this.bytesDownloaded,
      artifact_fetch_retries_total: this.retries,
      artifact_fetch_failures_total: this.failures,
      artifact_fetch_last_error_timestamp_seconds: this.lastError ? Date.parse(this.lastError.at) / 1000 : 0,
    };
  }
}

/** The process's fetch counters (what `/metrics` shows), used when a fetch is given none. */
export const artifactFetchStats = new FetchStats();

export interface FetchOptions {
  /** Retries per file after the first try (default 5). A missing object is not retried. */
  retries?: number;
  /** First wait before a retry, doubled each time up to `maxBackoffMs` (defaults 200 ms, 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Files downloaded at once (default 4). */
  concurrency?: number;
  stats?: FetchStats;
}

export interface FetchResult {
  runId: string;
  /** The complete local run folder. */
  dir: string;
  files: number;
  /** Files fetched from the store this time, and files found in the cache. */
  downloaded: number;
  cached: number;
  /** Bytes fetched from the store this time. */
  bytes: number;
}

/**
 * Materialize run `runId` from `store` as a local folder `<cacheDir>/runs/<runId>/`, downloading
 * only the files the cache lacks, each checked against its SHA-256 and retried with backoff. The
 * folder appears whole (built aside, then renamed) or not at all; files are hard links to the
 * cache's blobs (copies where links fail), to be read, never written.
 * @example const { dir } = await fetchRun(store, runId, join(home, 'cache'))
 */
export async function fetchRun(store: ArtifactStore, runId: string, cacheDir: string, o: FetchOptions = {}): Promise<FetchResult> {
  const stats = o.stats ?? artifactFetchStats;
  const retries = o.retries ?? 5;
  const retry = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const error = (e as Error).message;
        if ((isDeepcutError(e) && e.code === 'not_found') || attempt > retries) {
          stats.emit({ type: 'failed', runId, key, error });
          throw e;
        }
        const delayMs = Math.min(o.maxBackoffMs ?? 10_000, (o.backoffMs ?? 200) * 2 ** (attempt - 1));
        stats.emit({ type: 'retry', runId, key, attempt, delayMs, error });
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  };
  const list = await retry(`${runId}/${RUN_FILES}`, () => readRunFiles(store, runId));
  const listBytes = JSON.stringify(list);
  const final = join(cacheDir, 'runs', runId);
  // already materialized from the same file list: nothing to fetch
  if ((await readFile(join(final, RUN_FILES), 'utf8').catch(() => undefined)) === listBytes) return { runId, dir: final, files: list.files.length, downloaded: 0, cached: list.files.length, bytes: 0 };

  const blobOf = (sha: string) => blobPath(cacheDir, sha);
  let downloaded = 0;
  let bytes = 0;
  await mapLimit(list.files, o.concurrency ?? 4, async (f) => {
    const key = `${runId}/${f.path}`;
    const blob = blobOf(f.sha256);
    if ((await stat(blob).catch(() => undefined))?.size === f.size) {
      stats.emit({ type: 'file', runId, key, bytes: f.size, cached: true });
      return;
    }
    await mkdir(dirname(blob), { recursive: true });
    await retry(key, async () => {
      const tmp = tmpName(blob);
      try {
        await pipeline(await store.get(key, { sha256: f.sha256 }), createWriteStream(tmp));
        await syncFile(tmp);
        await rename(tmp, blob);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    });
    downloaded++;
    bytes += f.size;
    stats.emit({ type: 'file', runId, key, bytes: f.size, cached: false });
  });

  // build the folder aside, then show it by one rename
  const runs = join(cacheDir, 'runs');
  const building = join(runs, `.${runId}.${process.pid}.${randomBytes(4).toString('hex')}.building`);
  try {
    for (const f of list.files) {
      const dest = join(building, ...f.path.split('/'));
      await mkdir(dirname(dest), { recursive: true });
      await link(blobOf(f.sha256), dest).catch(() => copyFile(blobOf(f.sha256), dest));
    }
    await writeFile(join(building, RUN_FILES), listBytes);
    const old = join(runs, `.${runId}.${process.pid}.${randomBytes(4).toString('hex')}.old`);
    await rename(final, old).catch(() => undefined); // an earlier, different copy of the run (it was pushed again)
    await rename(building, final).catch(async (e) => {
      // another process showed the same run first
      if ((await readFile(join(final, RUN_FILES), 'utf8').catch(() => undefined)) !== listBytes) throw e;
      await rm(building, { recursive: true, force: true });
    });
    await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(building, { recursive: true, force: true });
    throw e;
  }
  const result = { runId, dir: final, files: list.files.length, downloaded, cached: list.files.length - downloaded, bytes };
  stats.emit({ type: 'fetched', runId, files: result.files, downloaded, cached: result.cached, bytes });
  return result;
}

/**
 * Free the cache of runs no longer needed: every run folder under `<cacheDir>/runs` but those in
 * `keep` (the run being served, the one being loaded) is removed, then every blob no kept run
 * links to. Returns what was removed. Call it between fetches, not during one.
 * @example await pruneCache(join(home, 'cache'), [servingRunId])
 */
export async function pruneCache(cacheDir: string, keep: readonly string[]): Promise<{ runs: number; blobs: number; bytes: number }> {
  const runs = join(cacheDir, 'runs');
  const kept = new Set(keep);
  let removedRuns = 0;
  const used = new Set<string>();
  for (const name of await readdir(runs).catch(() => [] as string[])) {
    if (name.startsWith('.') || !kept.has(name)) {
      await rm(join(runs, name), { recursive: true, force: true });
      if (!name.startsWith('.')) removedRuns++;
      continue;
    }
    const list = JSON.parse(await readFile(join(runs, name, RUN_FILES), 'utf8')) as RunFiles;
    for (const f of list.files) used.add(f.sha256);
  }
  let blobs = 0;
  let bytes = 0;
  const root = join(cacheDir, 'blobs');
  for (const dir of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, dir))) {
      if (used.has(name)) continue;
      const p = join(root, dir, name);
      bytes += (await stat(p)).size;
      await rm(p, { force: true });
      blobs++;
    }
  }
  return { runs: removedRuns, blobs, bytes };
}
