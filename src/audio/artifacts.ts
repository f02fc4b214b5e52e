/**
 * The audio family's loader: what a run's audio step wrote in `<run>/audio/`, read and checked
 * WITHOUT the decoder, the DSP or the CNN (TensorFlow.js), so serving and the playlists step read
 * a run's audio quickly.
 *
 *   features.jsonl          one line per analysed track: track_id, sha256, every AudioFeatures field
 *   audio-tracks.json       track ids of the rows of the two vector files (this run's catalog rows too)
 *   audio-factors.bin       kind `audio-factors`, metric inner_product: track_rows [n], factors [n × F]
 *   audio-embeddings.bin    kind `audio-embeddings`, metric cosine: track_rows [n], embeddings [n × E]
 *   audio-embeddings.index  usearch HNSW index over the embeddings (src/index/ann.ts)
 *   cnn.bin                 the CNN (AudioCnn.save; loaded by src/audio/cnn.ts, not here)
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IdMap, TrackId } from '../domain/ids.ts';
import type { AudioFeatures } from './features.ts';
import { readArtifact } from '../cf/index.ts';
import { DeepcutError } from '../errors.ts';

/** One line of `features.jsonl`: the track, its file's hash and its features. */
export type AudioFeatureRow = AudioFeatures & { track_id: string; sha256: string };

/** Row-major vectors spread to catalog rows: rows × dim, all zero for a track without audio. */
export interface AudioTrackVectors {
  dim: number;
  data: Float32Array;
}

/** Tempo (BPM), key (pitch class, C = 0) and mode (1 major, 0 minor) of a track, for sequencing. */
export interface AudioFlow {
  tempo: number;
  key: number;
  mode: number;
}

/** The audio step's vectors and flow features, by catalog track row. */
export interface AudioVectors {
  factors?: AudioTrackVectors;
  embeddings?: AudioTrackVectors;
  flow: Map<number, AudioFlow>;
}

/** The catalog a run's audio rows refer to: its track count and id → row map. */
export interface AudioCatalog {
  catalog: { tracks: readonly unknown[]; trackRows: IdMap<TrackId> };
}

/**
 * Every line of `<audioDir>/features.jsonl`, in file order; empty when the run analysed no audio
 * (or predates the audio step).
 */
export async function readAudioFeatures(audioDir: string): Promise<AudioFeatureRow[]> {
  const file = join(audioDir, 'features.jsonl');
  if (!existsSync(file)) return [];
  const out: AudioFeatureRow[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) if (line) out.push(JSON.parse(line) as AudioFeatureRow);
  return out;
}

/**
 * Read the audio step's artifacts of a run against the run's snapshot: flow features of every
 * analysed track with a key and a tempo, and the CNN's predicted factors and embeddings spread to
 * catalog rows (absent when the CNN was not trained). A vector file whose rows lie beyond the
 * catalog is `invalid_input` (an artifact of another run).
 */
export async function loadAudioVectors(audioDir: string, snapshot: AudioCatalog): Promise<AudioVectors> {
  const n = snapshot.catalog.tracks.length;
  const flow = new Map<number, AudioFlow>();
  for (const f of await readAudioFeatures(audioDir)) {
    const r = snapshot.catalog.trackRows.row(f.track_id);
    if (r >= 0 && f.key >= 0 && f.tempo_bpm > 0) flow.set(r, { tempo: f.tempo_bpm, key: f.key, mode: f.mode });
  }
  const spread = async (file: string, kind: string, name: string): Promise<AudioTrackVectors | undefined> => {
    if (!existsSync(join(audioDir, file))) return undefined;
    const a = await readArtifact(join(audioDir, file), { kind });
    const rowsA = a.arrays.track_rows as Int32Array;
    const data = a.arrays[name] as Float32Array;
    const dim = data.length / Math.max(1, rowsA.length);
    if (rowsA.some((r) => r >= n)) throw new DeepcutError('invalid_input', `${join(audioDir, file)}: track rows beyond this snapshot's ${n} tracks (artifact of another run?)`);
    const out = new Float32Array(n * dim);
    rowsA.forEach((r, i) => out.set(data.subarray(i * dim, (i + 1) * dim), r * dim));
    return { dim, data: out };
  };
  return { flow, factors: await spread('audio-factors.bin', 'audio-factors', 'factors'), embeddings: await spread('audio-embeddings.bin', 'audio-embeddings', 'embeddings') };
}
