/**
 * The cf stage's front door: implicit-feedback collaborative filtering behind one small interface
 * ({@link Recommender}, with optional abilities such as fold-in behind type guards), the models
 * (ALS with the conjugate-gradient solver, EASE^R, BPR-MF, popularity, item-kNN) and their factory, the loader of a
 * saved model, the self-describing artifact format, and offline evaluation on holdout splits
 * (ranking metrics, `evaluate`), which depends on the interface only.
 *
 * ```ts
 * const model = await makeRecommender({ kind: 'als', factors: 64, iterations: 15, seed: 42 });
 * await model.fit(userItems);
 * const { items, scores } = model.recommend(userRow, userItems, 10);
 * ```
 */
export * from './recommender.ts';
export * from './als.ts';
export * from './popularity.ts';
export { EaseRecommender, type EaseConfig } from './ease.ts';
export { BprRecommender, type BprConfig } from './bpr.ts';
export { BlendRecommender, type BlendPart, type BlendView } from './blend.ts';
export { ItemKnnRecommender } from './itemknn.ts';
export { readArtifact, writeArtifact } from './artifact.ts';
export { checkK, excludeMask, rowNorms, topK } from './base.ts';
export { type EvalMetrics, evaluate, type ListScores, type RecLists, recommendLists, sampleUsers, scoreLists, testUsers, trainPopularity } from './evaluate.ts';
export { alsAvailable, type BlendModelConfig, type FamilyConfig, makeRecommender, type ModelConfig, paramsOf } from './factory.ts';
export type { AlsOptions } from './als.ts';
export { Scorer } from './kernels/scorer.ts';
export { Arena, wasmAvailable, wasmModule } from './kernels/wasm.ts';
export { loadCfFactors, loadCfModel, loadUndecayedTailSource, PRODUCTION_FILE } from './load.ts';
export { BLEND_KNN_WEIGHT, decayConfidence, makeRanking, ProductionRecommender, type ProductionSpec, ranksByFactors, TAIL_SOURCE_NEIGHBOURS, undialed } from './production.ts';
export { fitProduction, HALF_LIVES, positives, type ProductionFit, selectProduction, type Selection, type SelectOptions, timesOf } from './select.ts';
export { dialLists, TAIL_BLOCK, TAIL_TEMPERATURE, tailDepth, tailQuota, tailSeed, type TailSpread } from './longtail.ts';
export { bootstrapMean, type Interval, type Popularity, popularityOf, rankMetrics } from './metrics.ts';
export { randomHoldout, slidingTimeWindows, type Split, splitByMask, timeHoldout, timeQuantile, timeWindow } from './splits.ts';
