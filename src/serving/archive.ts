/**
 * The playlist archive of a deployment ({@link PlaylistArchive}) on its artifact store: a fleet's
 * builder writes the weekly lists where every API node reads them. With the default store (the
 * folder `<home>/runs`) the archive is the folder `<home>/playlists`, as before it went through
 * the artifact store; with any other `artifacts.url` (S3, a shared mount) it is that store's
 * `playlists/` keys, read through the node's cache (`<home>/cache/playlists`).
 */
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { artifactsUrl, isLocal, openArtifactStore } from '../artifacts/index.ts';
import { PlaylistArchive } from '../playlists/index.ts';

/** A deployment: a home folder (with the default artifact store) or the config's `home` and `artifacts.url`. */
export type ArchiveHome = string | Pick<Config, 'home' | 'artifacts'>;

/** Open the archive of `where` (close it when done); `writer` names what its flushes write (the run id). */
export async function openPlaylistArchive(where: ArchiveHome, o: { writer?: string } = {}): Promise<PlaylistArchive> {
  const config = typeof where === 'string' ? { home: where, artifacts: { url: 'runs' } } : where;
  const url = artifactsUrl(config);
  const defaultRuns = !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && resolve(url) === resolve(config.home, 'runs');
  const blobs = await openArtifactStore(defaultRuns ? config.home : url);
  return new PlaylistArchive(blobs, { ...o, ...(isLocal(blobs) ? {} : { cacheDir: join(config.home, 'cache', 'playlists') }) });
}

const shared = new Map<string, Promise<PlaylistArchive>>();

/** One archive per deployment for a long-lived process (a server's routes): its reads stay cached between requests. */
export function sharedPlaylistArchive(where: ArchiveHome): Promise<PlaylistArchive> {
  const key = typeof where === 'string' ? where : `${where.home}\n${artifactsUrl(where)}`;
  let a = shared.get(key);
  if (!a) {
    shared.set(key, (a = openPlaylistArchive(where)));
    a.catch(() => shared.delete(key));
  }
  return a;
}
