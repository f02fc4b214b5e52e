/** The bandit stage's public surface. */
export { Bart } from './bart.ts';
export { ImpressionLog, impressionLogDir, type ImpressionSink, loadImpressionLogs, recoverImpressionLogs, StoreImpressionWriter } from './impression-log.ts';
export { BootstrapEnsemble, GradientBoostedTrees, loadRewardModel, LogisticRegression, makeRewardModel } from './models.ts';
export { type Estimate, gate, snips } from './ope.ts';
export { type Decision, EpsilonGreedyPolicy, type Policy, policyFor, ThompsonPolicy, trainingSet, UniformPolicy } from './policy.ts';
export { type RewardModel } from './reward.ts';
export { HOME_SHELF_KINDS, type HomeShelfKind, SHELF_FEATURES, shelfRow } from './shelves.ts';
export { type Arm, collectLogs, HomeWorld, opeCheck, simulate } from './simulator.ts';
export { homeLogs, opeRows, toChoices } from './train.ts';
