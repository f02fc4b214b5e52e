/**
 * A run's ranked model as readers load it (serving, the playlists step, the CLI): the rank stage's
 * world built from the run's snapshot and its text and audio artifacts, and the stage loaded over
 * the run's CF model. Kept apart from the rank step (rank-step.ts) so that serving, which must not
 * load a pipeline step, reads a run through this file alone.
 */
import { join } from 'node:path';
import { isDeepcutError } from '../errors.ts';
import type { Snapshot } from './snapshot.ts';
import type { Recommender } from '../cf/index.ts';
import { loadTextArtifacts } from '../text/artifacts.ts';
import { loadAudioVectors } from '../audio/index.ts';
import { loadRanked, type RankWorld } from '../rank/index.ts';

/**
 * The run's world as the rank stage reads it: the snapshot's matrix with each pair's last listen,
 * the catalog's main artist, album and release per track, follows, the text step's artist
 * vectors and the audio step's embeddings (each when the run made them).
 */
export async function runRankWorld(dirs: RunDirs, s: Snapshot): Promise<RankWorld> {
  const m = s.userTracks;
  const lastAt = new Float64Array(m.indices.length);
  for (let u = 0; u < m.rows; u++) {
    const plays = s.histories[u]?.plays;
    for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) lastAt[p] = plays?.get(m.indices[p])?.lastAt ?? s.lastListenAt;
  }
  const { tracks, artists } = s.catalog;
  const world: RankWorld = {
    matrix: m,
    lastAt,
    now: s.lastListenAt,
    artistOf: Int32Array.from(tracks, (t) => t.artists[0] ?? -1),
    albumOf: Int32Array.from(tracks, (t) => t.album),
    releasedAt: Float64Array.from(tracks, (t) => Date.parse(`${t.releaseDate}T00:00:00Z`)),
    follows: (u) => s.histories[u]?.follows,
  };
  const text = await loadTextArtifacts(dirs.text).catch((e: unknown) => (isDeepcutError(e) && e.code === 'not_found' ? undefined : Promise.reject(e)));
  if (text?.lsa) {
    const { dim, data } = text.lsa;
    const out = new Float32Array(artists.length * dim);
    artists.forEach((a, r) => {
      const q = text.artists.row(a.id);
      if (q >= 0) out.set(data.subarray(q * dim, (q + 1) * dim), r * dim);
    });
    world.text = { dim, data: out };
  }
  const audio = await loadAudioVectors(dirs.audio, s);
  if (audio.embeddings) world.audio = { dim: audio.embeddings.dim, data: audio.embeddings.data };
  return world;
}

/** The step folders of a run the rank stage reads. */
export interface RunDirs {
  rank: string;
  text: string;
  audio: string;
}

/** The folders of the run in `runDir` (a finished run's folder on this machine). */
export const runDirsOf = (runDir: string): RunDirs => ({ rank: join(runDir, 'rank'), text: join(runDir, 'text'), audio: join(runDir, 'audio') });

/** The run's recommender: the ranked model over its CF model when the rank step chose it, else the CF model. */
export async function rankedModelOf(dirs: RunDirs, s: Snapshot, cf: Recommender, runId?: string): Promise<Recommender> {
  return loadRanked(dirs.rank, cf, () => runRankWorld(dirs, s), runId ? { runId } : {});
}
