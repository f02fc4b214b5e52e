/** The generate stage's public surface. */
export { type ArtistTruth, type Catalog, generateCatalog, type TrackTruth } from './catalog.ts';
export { GENRES } from './genres.ts';
export { ListenerGenerator } from './listeners.ts';
export { type ClipSpec, renderClip } from './synth.ts';
export { TasteModel, type UserTaste } from './taste.ts';
export { readJsonl } from './testkit.ts';
export { DAY_MS, hash32, pickWeighted } from './util.ts';
export * from './world.ts';
export { DEFAULT_CLOCK, generateWorld, type WorldSize } from './world.ts';
