/**
 * The ranking stage's front door: candidates from several sources (each a recommender's top lists)
 * with their features, and the learned ranker (gradient-boosted trees trained on a time-ordered
 * validation split) with the long-tail dial (a popularity penalty β on its log-probability).
 * The production stage (stage.ts, train.ts, model.ts): the run's sources and features, its
 * training on the run's last days with Discover Weekly's label, and the ranked model the product loads.
 */
export { buildCandidates, type Candidates, candidateLabels, featureCount, type RankStats, rankStats, type TrainTimes } from './candidates.ts';
export { LearnedRanker, rankCandidates, type RankerOptions } from './ranker.ts';
export { cappedTop, featureNames, type RankVectors, type RankWorld, rankedOrder, SOURCES, type SourceName, type TailDial, userCandidates, userRowOf, worldSources, WorldTables } from './stage.ts';
export { type ListenEvents, type ListScore, type StageReport, timeSplit, type TimeSplit, trainStage } from './train.ts';
export { explainsRanking, type ExplainsRanking, FactorRankedRecommender, loadRanked, type Origin, RankedRecommender, readStage, saveStage, STAGE_FILE, type StageFile } from './model.ts';
