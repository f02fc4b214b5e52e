/** The ingest stage's public surface: import a path in a format, replay the quarantine. */
export { importPath, type ImportOptions, type ImportSummary, type EntityCounts } from './import.ts';
export { replayQuarantine, type ReplayResult } from './replay.ts';
export { formats } from './formats/index.ts';
export { artistIdOf, albumIdOf, trackIdOf, listenIdOf, UNKNOWN_RELEASE_DATE } from './derive.ts';
