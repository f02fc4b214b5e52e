/**
 * The playlists stage's front door: the product logic, defined once. The pipeline's playlists
 * step, the CLI (`deepcut playlist`, `deepcut similar`) and the API (playlists, radio, similar
 * tracks and artists) all go through these names; entry points parse, wire and call.
 *
 * - {@link Product}: Discover Weekly, Release Radar, Daily Mixes, radio, similar tracks and
 *   similar artists over one run (its catalog, histories, model and extra candidate sources).
 * - {@link weeklyKey}: the week (Monday or Friday in the listener's zone) a weekly list belongs to.
 * - {@link PlaylistArchive}, {@link storedWeekly}, {@link readRunPlaylists}: the stored lists, read
 *   the same way by every reader.
 * - {@link toPlaylist}, {@link exportPlaylist}: a ranked list as a stored / exported playlist.
 * - Similarity primitives for serving's live model: {@link similarTracks}, {@link similarArtists},
 *   {@link artistSpace}, {@link CoListening}; by text: {@link similarArtistsByText}.
 * - Candidate sources other stages contribute (text, audio) are built with {@link contentSource}
 *   and the helpers in `sources.ts`; the shared types are in `types.ts`.
 */
export { Product, toPlaylist, weeklyKey, weeklyDay, playlistTitles, type ProductInputs, type RunWorld, type Radio, type WeeklyKind } from './product.ts';
export { PlaylistArchive, archiveBucket, storedWeekly, readRunPlaylists, WEEKS_BACK, type ArchiveBlobs, type ArchiveOptions, type RunPlaylists } from './archive.ts';
export { exportPlaylist, exportFormats, type ExportFormat } from './export.ts';
export { similarTracks, similarArtists, similarArtistsByText, artistSpace, artistVectors, CoListening, type ArtistSpace, type Neighbour, type TextArtistSpace } from './similar.ts';
export { contentSource, favourites, nearestFavourite, soundsLike, row as vectorRow, type Vectors } from './sources.ts';
export { reasonText, reasonRef, type ArtistInfo, type Candidate, type CandidateSource, type CatalogView, type FlowFeatures, type Playlist, type PlaylistTrack, type Reason, type TrackInfo, type UserHistory } from './types.ts';
export type { DailyMix } from './makers.ts';
export { rowSearch, LazyRanked, type RowSearch } from './retrieval.ts';
export { LazyCandidate } from './sources.ts';
