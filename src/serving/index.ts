/**
 * The serving stage's front door: the published run loaded for answering (`loadServingState`), the
 * live model that folds new listens in, the catalog, the home page (bandit over shelves), playlists
 * of the run, and the popularity fallback before any run.
 */
export { Catalog } from './catalog.ts';
export { BanditHome, shelfFeatures } from './home.ts';
export { openPlaylistArchive, sharedPlaylistArchive, type ArchiveHome } from './archive.ts';
export { LiveModel } from './live.ts';
export { loadServingState, playlistSource } from './load.ts';
export { type Recommendations, type TrackCard } from './recommendations.ts';
export { type AudioFeatureSource, composeHome, type PlaylistKind, type PlaylistSource, popularityFromStore, type ServingState } from './state.ts';
