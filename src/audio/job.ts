/**
 * One file's work in a batch: decode once, then the DSP features and/or the CNN's log-mel patches.
 * Runs on a pool worker (workers/analyze-worker.mjs) or on the calling thread.
 */
import { decodeFile } from './decode.ts';
import { analyzeAudio, type AudioFeatures } from './features.ts';
import { melPatches } from './patches.ts';

export interface AudioJob {
  file: string;
  /** Compute the DSP features. */
  features: boolean;
  /** Log-mel patches to compute (0 = none). */
  patches: number;
}

export interface AudioJobResult {
  features?: AudioFeatures;
  /** `patches` patches of PATCH_FRAMES × PATCH_MELS, concatenated. */
  patches?: Float32Array;
}

/** Do `job`; decoding and analysis failures throw DeepcutErrors naming the file. */
export async function runAudioJob(job: AudioJob): Promise<AudioJobResult> {
  const audio = await decodeFile(job.file);
  const out: AudioJobResult = {};
  if (job.features) out.features = analyzeAudio(audio);
  if (job.patches > 0) {
    const ps = melPatches(audio, job.patches);
    out.patches = new Float32Array(ps.reduce((a, p) => a + p.length, 0));
    ps.forEach((p, i) => out.patches!.set(p, i * p.length));
  }
  return out;
}
