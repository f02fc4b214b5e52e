/**
 * Build the serving state at start: the catalog, and the model to answer from. Today that is the
 * popularity fallback over the store's listens; a published pipeline run, when the pipeline
 * publishes one, replaces it here (swap `state.recs`, `state.playlists`, `state.audio`).
 */
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import { Catalog } from './catalog.ts';
import { confidenceOf, popularityFromStore, type ServingState } from './state.ts';

export async function loadServingState(store: Store, config: Config): Promise<ServingState> {
  const catalog = await Catalog.load(store);
  const recs = await popularityFromStore(store, catalog, confidenceOf(config));
  return { recs, catalog };
}
