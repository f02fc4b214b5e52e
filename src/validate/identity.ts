/**
 * How well listens reach the catalog: of every stored listen, how many are of catalog tracks,
 * how many of tracks created from names (scrobbles, histories) that now resolve to a catalog track
 * (they count for it in the next pipeline run, see domain/match.ts), and how many of created
 * tracks the catalog does not have. `deepcut validate` prints it.
 */
import { TrackMatcher } from '../domain/match.ts';
import { pagesOf } from '../store/index.ts';
import type { Store } from '../store/index.ts';

export interface IdentityReport {
  tracks: {
    /** Tracks from a catalog (a known release date). */
    catalog: number;
    /** Tracks created from names (release date unknown). */
    named: number;
    /** Created tracks that resolve to a catalog track now. */
    named_linked: number;
  };
  listens: {
    total: number;
    /** Of catalog tracks (given by id, or matched when they came in). */
    catalog: number;
    /** Of created tracks linked to a catalog track. */
    linked: number;
    /** Of created tracks the catalog does not have. */
    unmatched: number;
    /** Of track ids the store holds no track for. */
    unknown: number;
  };
  /** Share of listens that count for a catalog track, (catalog + linked) / total; null without listens. */
  catalog_rate: number | null;
  /** Share of listens of created tracks that are linked, linked / (linked + unmatched); null when there are none. */
  link_rate: number | null;
}

/** Read the catalog and the listens of `store` and count how listens reach catalog tracks. */
export async function identityReport(store: Store): Promise<IdentityReport> {
  const m = new TrackMatcher();
  let catalog = 0;
  let named = 0;
  const isNamed = new Set<string>();
  for await (const rows of pagesOf(store, 'artists')) m.addArtists(rows);
  for await (const rows of pagesOf(store, 'albums')) m.addAlbums(rows);
  for await (const rows of pagesOf(store, 'tracks')) {
    m.addTracks(rows);
    for (const t of rows) {
      if (m.isNamed(t.track_id)) {
        named++;
        isNamed.add(t.track_id);
      } else catalog++;
    }
  }
  const links = m.links();
  const l = await store.readListens();
  const perTrack = new Float64Array(l.tracks.size);
  for (let i = 0; i < l.track.length; i++) perTrack[l.track[i]]++;
  const listens = { total: l.track.length, catalog: 0, linked: 0, unmatched: 0, unknown: 0 };
  for (let r = 0; r < l.tracks.size; r++) {
    const id = l.tracks.id(r);
    if (links.has(id)) listens.linked += perTrack[r];
    else if (isNamed.has(id)) listens.unmatched += perTrack[r];
    else if (m.hasTrack(id)) listens.catalog += perTrack[r];
    else listens.unknown += perTrack[r];
  }
  const named_ = listens.linked + listens.unmatched;
  return {
    tracks: { catalog, named, named_linked: links.size },
    listens,
    catalog_rate: listens.total ? (listens.catalog + listens.linked) / listens.total : null,
    link_rate: named_ ? listens.linked / named_ : null,
  };
}
