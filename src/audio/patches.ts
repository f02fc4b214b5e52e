/**
 * The CNN's input: log-mel patches of a track. Kept apart from cnn.ts so that analysis workers
 * compute patches without loading TensorFlow.js.
 */
import { toAnalysisRate, ANALYSIS_RATE, type DecodedAudio } from './decode.ts';
import { powerSpectrogram, applyFilterBank, melFilterBank, powerToDb, hannWindow } from './dsp.ts';

/** Patch geometry: 128 frames of hop 512 at 22,050 Hz (2.97 s) × 64 mel bands. */
export const PATCH_FRAMES = 128;
export const PATCH_MELS = 64;
export const CNN_N_FFT = 1024;
export const CNN_HOP = 512;

/**
 * Log-mel patches of a track for the CNN: `count` patches of `PATCH_FRAMES × PATCH_MELS` (row-major,
 * frame-major), evenly spaced over the track, standardised per track (zero mean, unit variance).
 * Tracks shorter than one patch are zero-padded at the end.
 */
export function melPatches(audio: DecodedAudio, count = 8): Float32Array[] {
  const x = toAnalysisRate(audio);
  const spec = powerSpectrogram(x, { nFft: CNN_N_FFT, hop: CNN_HOP, window: hannWindow(CNN_N_FFT) });
  const mel = powerToDb(applyFilterBank(spec, melFilterBank(ANALYSIS_RATE, CNN_N_FFT, PATCH_MELS)), 1, 1e-10, 80);
  let m = 0;
  for (const v of mel.data) m += v;
  m /= mel.data.length;
  let sd = 0;
  for (const v of mel.data) sd += (v - m) ** 2;
  sd = Math.sqrt(sd / mel.data.length) || 1;
  const span = Math.max(0, mel.rows - PATCH_FRAMES);
  const out: Float32Array[] = [];
  for (let p = 0; p < count; p++) {
    const start = count === 1 ? Math.floor(span / 2) : Math.round((span * p) / (count - 1));
    const patch = new Float32Array(PATCH_FRAMES * PATCH_MELS);
    for (let t = 0; t < PATCH_FRAMES && start + t < mel.rows; t++)
      for (let b = 0; b < PATCH_MELS; b++) patch[t * PATCH_MELS + b] = (mel.data[(start + t) * PATCH_MELS + b] - m) / sd;
    out.push(patch);
  }
  return out;
}
