/** The audio stage's public surface. */
export { type AudioVectors, loadAudioVectors, readAudioFeatures } from './artifacts.ts';
export * from './batch.ts';
export { analyzeFiles, type AnalyzeOutcome, audioCacheDir } from './batch.ts';
export { decodeFile } from './decode.ts';
export { hasProgram, type PieceLabel, pieceLabels, renderPiece } from './eval/pieces.ts';
export { analyzeDetailed, keyProfileOf } from './features.ts';
export { DEFAULT_KEY_PROFILE, estimateKey, KEY_METHODS, mirexKeyScore } from './key.ts';
