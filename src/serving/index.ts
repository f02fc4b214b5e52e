/** The serving stage's public surface. */
export { Catalog } from './catalog.ts';
export { BanditHome } from './home.ts';
export { LiveModel } from './live.ts';
export { loadServingState, playlistSource } from './load.ts';
export { type Recommendations, type TrackCard } from './recommendations.ts';
export { type AudioFeatureSource, composeHome, type PlaylistKind, type PlaylistSource, popularityFromStore, type ServingState } from './state.ts';
