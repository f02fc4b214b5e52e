/** The ingest stage's public surface: import a path in a format, replay the quarantine. */
export { importPath, type ImportOptions, type ImportSummary, type EntityCounts } from './import.ts';
export { replayQuarantine, type ReplayResult } from './replay.ts';
export { formats } from './formats/index.ts';
export { artistIdOf, albumIdOf, trackIdOf, listenIdOf, normName, cleanIsrc, ListenResolver, UNKNOWN_RELEASE_DATE, UNKNOWN_DURATION_MS, type NamedListen, type ResolvedListen } from './identity.ts';
export { TrackMatcher, titleKey, artistKey, creditKeys, durationTolerance, MATCH_OUTCOMES, type MatchOutcome, type TrackQuery, type TrackMatch, type MatchableTrack } from '../domain/match.ts';
export { lbNamedListen, SCROBBLE_MS } from './formats/listenbrainz.ts';
export { hetrecTagsHandler, lastfmArtist } from './formats/hetrec.ts';
export { type Sink } from './formats/types.ts';
export { obdColumns, obdRecord, obdFileOf, obdUser, OBD_CAMPAIGNS, OBD_POLICIES, type ObdColumns, type ObdRecord } from './formats/open-bandit.ts';
export * from './import.ts';
export { BATCHES_NS, PROGRESS_NS } from './import.ts';
export { audioPathResolver } from './audio-paths.ts';
export { exportEntity, exportPlaylists, exportKinds, lakeFormats, playlistColumns, type ExportKind, type ExportOptions, type ExportResult, type LakeFormat } from './export.ts';
export * from './replay.ts';
