/**
 * The bandit stage's front door: policies over home shelves (uniform, ε-greedy, Thompson sampling),
 * reward models (logistic regression, gradient-boosted trees, BART), the impression log serving
 * writes and the pipeline loads, training rows rebuilt from the logs, off-policy estimates (SNIPS)
 * and the gate, the shelf features both sides share, and a simulator for tests and benches.
 */
export { Bart } from './bart.ts';
export { ImpressionLog, impressionLogDir, type ImpressionSink, loadImpressionLogs, recoverImpressionLogs, StoreImpressionWriter } from './impression-log.ts';
export { BootstrapEnsemble, GradientBoostedTrees, loadRewardModel, LogisticRegression, makeRewardModel, PRODUCTION_BART } from './models.ts';
export { bootstrapEstimate, directMethod, doublyRobust, type Estimate, gate, ips, type LoggedDecision, snips } from './ope.ts';
export { type Decision, EpsilonGreedyPolicy, type Policy, policyFor, ThompsonPolicy, trainingSet, UniformPolicy } from './policy.ts';
export { canSample, type PosteriorSampling, type RewardModel } from './reward.ts';
export { type RewardModelConfig } from './models.ts';
export { type CardCatalog, cardKeys, HOME_SHELF_KINDS, type HomeShelfKind, SHELF_FEATURES, shelfRow } from './shelves.ts';
export { type CardKeys, EVIDENCE_FEATURES, type Exposure, HomeEvidence } from './evidence.ts';
export { type Arm, collectLogs, FEATURES, Feedback, HomeWorld, opeCheck, simulate } from './simulator.ts';
export { homeEvidence, homeLogs, opeRows, storeCardCatalog, toChoices } from './train.ts';
export { EVIDENCE_FILE, readHomeBandit, REWARD_MODEL_FILE } from './home-files.ts';
