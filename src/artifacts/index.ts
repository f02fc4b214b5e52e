/**
 * The artifact stage's front door: where a run's files live once the pipeline has made them, and
 * how a serving node gets them back. One small interface, {@link ArtifactStore}, with two backends
 * chosen by URL ({@link openArtifactStore}): a folder (default `<home>/runs`; also right for a
 * mount all nodes share) and S3-compatible object storage. Runs go up with {@link pushRun} (every
 * file, then the run's file list last) and come down with {@link fetchRun} into a local cache keyed
 * by content hash.
 *
 * ```ts
 * const store = await openArtifactStore(artifactsUrl(config));
 * await pushRun(store, join(config.home, 'runs', runId), runId);
 * const { dir } = await fetchRun(store, runId, join(config.home, 'cache'));
 * ```
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.ts';
import { DeepcutError } from '../errors.ts';
import { FsArtifactStore } from './fs.ts';
import type { ArtifactStore } from './store.ts';
import type { S3Options } from './s3.ts';

export { isLocal, isRunsFolder, ChecksumMismatch, sha256File, type ArtifactStore, type LocalArtifactStore, type ArtifactInfo, type ArtifactSource } from './store.ts';
export { pushRun, fetchRun, seedCache, pruneCache, readRunFiles, FetchStats, artifactFetchStats, RUN_FILES, type RunFiles, type FetchOptions, type FetchResult } from './runs.ts';

/**
 * Where a deployment's artifacts live: `artifacts.url` as configured, a relative folder resolved
 * inside `home` (the default `runs` is `<home>/runs`).
 */
export function artifactsUrl(config: Pick<Config, 'home' | 'artifacts'>): string {
  const u = config.artifacts.url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u) || isAbsolute(u)) return u;
  return resolve(config.home, u);
}

/**
 * Open the store a URL names: a path or `file://` URL is the filesystem backend; `s3://bucket/prefix`
 * the S3-compatible one (its SDK is loaded only then). Any other scheme is DeepcutError('config').
 * @example await openArtifactStore('s3://deepcut-artifacts/prod?endpoint=http://minio:9000')
 */
export async function openArtifactStore(url: string, o: S3Options = {}): Promise<ArtifactStore> {
  if (url.startsWith('s3://')) {
    const { S3ArtifactStore } = await import('./s3.ts');
    return new S3ArtifactStore(url, o);
  }
  if (url.startsWith('file://')) return new FsArtifactStore(fileURLToPath(url), url);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new DeepcutError('config', `artifacts.url ${url}: unknown scheme; expected a folder, file:///path or s3://bucket/prefix`);
  return new FsArtifactStore(url);
}
