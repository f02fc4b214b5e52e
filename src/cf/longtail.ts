/**
 * The long-tail dial: a minimal re-ranking that guarantees long-tail items a share of every prefix
 * of a list. With share s, position j (1-based) of the answer takes the best-ranked remaining tail
 * item whenever fewer than ⌊j·s⌋ of the first j − 1 positions are tail items; otherwise the best
 * remaining item of any kind. So the tail slots fall evenly (s = 0.1: positions 10, 20, …; 0.25: 4,
 * 8, 12, …) at the low-weight end of each stretch, tail items ranked high on their own count
 * towards the share, and any prefix a consumer keeps (a top 10, a playlist's first 30) holds at
 * least ⌊length·s⌋ tail items when the ranked list has that many. s = 0 returns the list's top k
 * unchanged. "Tail" is outside the head: the most-played items holding 80% of the interactions
 * (the same head the evaluation's long-tail share uses, `popularityOf`).
 */
import type { Ranked } from '../core/topk.ts';
import { DeepcutError } from '../errors.ts';

/**
 * The first `k` of `ranked` (best first, usually deeper than k) with the tail quota `share`
 * (0..1) applied; `head[i]` is 1 for head items. Scores stay each item's own score.
 * @example tailQuota({ items, scores }, 10, 0.1, pop.head) // one tail item at position 10 at least
 */
export function tailQuota(ranked: Ranked, k: number, share: number, head: Uint8Array): Ranked {
  if (!(share >= 0 && share <= 1)) throw new DeepcutError('invalid_input', `long-tail share must be in [0, 1], got ${share}`);
  const n = ranked.items.length;
  if (share === 0 || n === 0) return { items: ranked.items.slice(0, k), scores: ranked.scores.slice(0, k) };
  const used = new Uint8Array(n);
  const items: number[] = [];
  const scores: number[] = [];
  let nextAny = 0;
  let nextTail = 0;
  let tail = 0;
  const isTail = (r: number) => head[ranked.items[r]] !== 1;
  while (items.length < k) {
    while (nextAny < n && used[nextAny]) nextAny++;
    while (nextTail < n && (used[nextTail] || !isTail(nextTail))) nextTail++;
    const j = items.length + 1;
    const wantTail = tail < Math.floor(j * share + 1e-9) && nextTail < n;
    const r = wantTail ? nextTail : nextAny;
    if (r >= n) break;
    used[r] = 1;
    if (isTail(r)) tail++;
    items.push(ranked.items[r]);
    scores.push(ranked.scores[r]);
  }
  return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
}

/** How deep a list must be read for the dial to find tail items: k itself without a quota. */
export function tailDepth(k: number, share: number, items: number): number {
  return Math.min(items, share > 0 ? Math.max(4 * k, k + 200) : k);
}
