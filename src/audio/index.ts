/**
 * The audio stage's front door: decoding, DSP features (tempo, meter, key, mode, loudness, energy,
 * danceability) for one file or a batch on a worker pool with a content-hash cache, and the readers
 * of a run's audio artifacts. The CNN (TensorFlow.js) is behind its own doors, `audio/cnn.ts` and
 * `audio/coldstart.ts`, so that importing this index never loads TensorFlow.js.
 *
 * ```ts
 * const outcomes = await analyzeFiles(paths, { cacheDir: audioCacheDir(home) });
 * ```
 */
export { type AudioVectors, loadAudioVectors, readAudioFeatures } from './artifacts.ts';
export * from './batch.ts';
export { decodeFile } from './decode.ts';
export { hasProgram, PIECE_GROUPS, type PieceGroup, type PieceLabel, pieceLabels, renderPiece, varietyLabels } from './eval/pieces.ts';
export { analyzeDetailed, keyProfileOf } from './features.ts';
export { DEFAULT_KEY_PROFILE, estimateKey, KEY_METHODS, mirexKeyScore } from './key.ts';
