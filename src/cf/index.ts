/** The cf stage's public surface. */
export * from './als.ts';
export { AlternatingLeastSquares } from './als.ts';
export { readArtifact, writeArtifact } from './artifact.ts';
export { checkK, excludeMask, rowNorms, topK } from './base.ts';
export { type EvalMetrics, evaluate } from './evaluate.ts';
export { alsAvailable, makeRecommender, type ModelConfig } from './factory.ts';
export { Scorer } from './kernels/scorer.ts';
export { Arena, wasmAvailable, wasmModule } from './kernels/wasm.ts';
export { loadCfModel } from './load.ts';
export { rankMetrics } from './metrics.ts';
export * from './popularity.ts';
export { PopularityRecommender } from './popularity.ts';
export * from './recommender.ts';
export { canFoldIn, type Factorized, type FoldIn, isFactorized, type Ranked, type Recommender, type RecommendOptions } from './recommender.ts';
export { randomHoldout, type Split, splitByMask, timeHoldout } from './splits.ts';
