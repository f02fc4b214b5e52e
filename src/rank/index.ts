/**
 * The ranking stage's front door: candidates from several sources (each a recommender's top lists)
 * with their features, and the learned ranker (gradient-boosted trees trained on a time-ordered
 * validation split) with the long-tail dial (a popularity penalty β on its log-probability).
 */
export { buildCandidates, type Candidates, candidateLabels, featureCount, type RankStats, rankStats, type TrainTimes } from './candidates.ts';
export { LearnedRanker, rankCandidates, type RankerOptions } from './ranker.ts';
