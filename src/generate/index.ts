/**
 * The generate stage's front door: a seeded synthetic world (catalog, listeners with a taste model,
 * listens, documents, synthesized audio clips) with its ground truth, for the demo, tests and benches.
 */
export { type ArtistTruth, type Catalog, generateCatalog, type TrackTruth } from './catalog.ts';
export { GENRES } from './genres.ts';
export { ListenerGenerator } from './listeners.ts';
export { type ClipMeter, type ClipSpec, type ClipVariety, type ClipVarietyGroup, CLIP_VARIETIES, clipVariety, encodeWav, renderClip } from './synth.ts';
export { TasteModel, type UserTaste } from './taste.ts';
export { readJsonl } from './testkit.ts';
export { DAY_MS, hash32, pickWeighted } from './util.ts';
export * from './world.ts';
