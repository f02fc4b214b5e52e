/** The validate stage's public surface: the pipeline gate, verdicts, schema and statistics. */
export { assertNotBlocked, latestValidation, acceptBatch, validateBatch, type ValidationRecord, type DriftResult, type AnomalyCount } from './batch.ts';
export { checkRow, fastListen, KnownIds, MIN_TIME_MS, FUTURE_SLACK_MS, type AnomalyCode, type CheckContext } from './rows.ts';
export { inferSchema, loadSchema, saveSchema, parseSchemaDoc, type EntitySchemaDoc, type FeatureSchema } from './schema.ts';
export { BatchStats, AggregatedStats, TOP_VALUES, featureKindOf, type AggregatedFeature, type StatsSource, type BatchStatistics, type FeatureStats } from './stats.ts';
export { jensenShannon, lInfinity } from './drift.ts';
export { renderReport } from './report.ts';
export { identityReport, type IdentityReport } from './identity.ts';
export * from './batch.ts';
export * from './identity.ts';
export * from './report.ts';
export { zodAnomaly } from './rows.ts';
export * from './schema.ts';
export { baselineKey, compileSchema, type DataSchema, OWN_SOURCE } from './schema.ts';
