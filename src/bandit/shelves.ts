/**
 * The home page's shelves as the bandit sees them: the shelf kinds and the feature row of a shelf
 * ({@link SHELF_FEATURES}): hour of day (sin, cos; UTC), weekend, how much the user has heard (log),
 * the shelf kind (one-hot), its size, and the home page's own evidence about its cards and this
 * listener (evidence.ts, averaged over the shelf's cards) — only what an impression log can
 * rebuild, so the policy is trained (train.ts) on the features it is served with (serving's home page).
 */
import { EVIDENCE_FEATURES, HomeEvidence, type CardKeys } from './evidence.ts';
export const HOME_SHELF_KINDS = ['made-for-you', 'discover-weekly', 'release-radar', 'jump-back-in', 'because-you-listened', 'fans-also-like', 'new-releases', 'hidden-gems', 'popular-now'] as const;
export type HomeShelfKind = (typeof HOME_SHELF_KINDS)[number];

export const SHELF_FEATURES = ['hour_sin', 'hour_cos', 'weekend', 'heard_log', 'size', ...HOME_SHELF_KINDS.map((k) => `shelf:${k}`), ...EVIDENCE_FEATURES] as const;
/** Where the evidence starts in a shelf's row. */
const F_EVIDENCE = SHELF_FEATURES.indexOf(EVIDENCE_FEATURES[0]);
const NO_EVIDENCE = new HomeEvidence(HOME_SHELF_KINDS.length);

/** A track as the evidence keys it: its first artist, and that artist's first genre ('' when unknown). */
export interface CardCatalog {
  trackArtists(track: string): readonly string[];
  artistGenres(artist: string): readonly string[];
}

/** The evidence keys of `track` on shelf `kind` for `user`. */
export function cardKeys(user: string, kind: HomeShelfKind, track: string, cat: CardCatalog): CardKeys {
  const artist = cat.trackArtists(track)[0] ?? '';
  return { user, shelf: kind, track, artist, genre: (artist && cat.artistGenres(artist)[0]) || '' };
}

/** A user id no model knows: `forUser` answers it with the cold-start (popular) list. */

/**
 * Feature row of one shelf ({@link SHELF_FEATURES}) into `r`. Only what can be rebuilt from an
 * impression log (when, how much the user had heard, which shelf, how many cards, the evidence of
 * the logs before it about the shelf's `cards`), so training (train.ts) and serving see the same features.
 */
export function shelfRow(r: Float64Array, at: Date, heardCount: number, kind: HomeShelfKind, cards: readonly CardKeys[], perShelf: number, evidence: HomeEvidence = NO_EVIDENCE): void {
  const hour = at.getUTCHours() + at.getUTCMinutes() / 60;
  const day = at.getUTCDay();
  r.fill(0);
  r[0] = Math.sin((2 * Math.PI * hour) / 24);
  r[1] = Math.cos((2 * Math.PI * hour) / 24);
  r[2] = +(day === 0 || day === 6);
  r[3] = Math.log1p(heardCount) / 6;
  r[4] = cards.length / perShelf;
  r[5 + HOME_SHELF_KINDS.indexOf(kind)] = 1;
  evidence.writeMean(cards, r, F_EVIDENCE);
}

/** The kind of a shelf id (`because-you-listened:<artist>` → `because-you-listened`); undefined if unknown. */
export function shelfKindOf(id: string): HomeShelfKind | undefined {
  const k = id.split(':')[0];
  return (HOME_SHELF_KINDS as readonly string[]).includes(k) ? (k as HomeShelfKind) : undefined;
}
