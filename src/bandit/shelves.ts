/**
 * The home page's shelves as the bandit sees them: the shelf kinds and the feature row of a shelf
 * ({@link SHELF_FEATURES}): hour of day (sin, cos; UTC), weekend, how much the user has heard (log),
 * the shelf kind (one-hot) and its size — only what an impression log can rebuild, so the policy is
 * trained (train.ts) on the features it is served with (serving's home page).
 */
export const HOME_SHELF_KINDS = ['made-for-you', 'discover-weekly', 'release-radar', 'jump-back-in', 'because-you-listened', 'fans-also-like', 'new-releases', 'hidden-gems', 'popular-now'] as const;
export type HomeShelfKind = (typeof HOME_SHELF_KINDS)[number];

export const SHELF_FEATURES = ['hour_sin', 'hour_cos', 'weekend', 'heard_log', 'size', ...HOME_SHELF_KINDS.map((k) => `shelf:${k}`)] as const;

/** A user id no model knows: `forUser` answers it with the cold-start (popular) list. */

/**
 * Feature row of one shelf ({@link SHELF_FEATURES}) into `r`. Only what can be rebuilt from an
 * impression log (when, how much the user had heard, which shelf, how many cards), so training
 * (train.ts) and serving see the same features.
 */
export function shelfRow(r: Float64Array, at: Date, heardCount: number, kind: HomeShelfKind, cards: number, perShelf: number): void {
  const hour = at.getUTCHours() + at.getUTCMinutes() / 60;
  const day = at.getUTCDay();
  r.fill(0);
  r[0] = Math.sin((2 * Math.PI * hour) / 24);
  r[1] = Math.cos((2 * Math.PI * hour) / 24);
  r[2] = +(day === 0 || day === 6);
  r[3] = Math.log1p(heardCount) / 6;
  r[4] = cards / perShelf;
  r[5 + HOME_SHELF_KINDS.indexOf(kind)] = 1;
}

/** The kind of a shelf id (`because-you-listened:<artist>` → `because-you-listened`); undefined if unknown. */
export function shelfKindOf(id: string): HomeShelfKind | undefined {
  const k = id.split(':')[0];
  return (HOME_SHELF_KINDS as readonly string[]).includes(k) ? (k as HomeShelfKind) : undefined;
}
