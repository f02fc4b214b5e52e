/**
 * The long-tail dial: a minimal re-ranking that guarantees long-tail items a share of a list, kept
 * on every block of {@link TAIL_BLOCK} (10) places — the lengths consumers keep: a top 10, 20, 30.
 * With share s, the first 10·b places hold at least ⌊10·b·s + u⌋ tail items (u in [0, 1), drawn per
 * listener with the spread's seed, else 0), and each block's tail places are its last ones: s = 0.2
 * takes places 9, 10, 19, 20, …; 0.1 places 10, 20, …. The places a tail item is forced into are the
 * ones that weigh least in a block, so the block's head items keep their order and only its last
 * ones move down; tail items ranked high on their own count towards the share. A fractional 10·s
 * (s = 0.15: one or two tail places per block) gives each listener's list exactly s in the long run
 * and a top 10 ⌊10·s⌋ or ⌈10·s⌉ places, ⌈⌉ for a share frac(10·s) of listeners (the offset u; with
 * no seed, ⌊⌋). A list's last block ends at k: a top 5 is one block of 5 places, a top 15 has
 * places 11–15 as its second (so a top 15 is not the first 15 of a top 20). s = 0 returns the
 * list's top k unchanged. "Tail" is outside the head: the most-played items holding 80% of the
 * interactions (the same head the evaluation's long-tail share uses, `popularityOf`).
 *
 * Which tail item fills a tail slot: the best-ranked one (`spread` unset), or — to spread exposure
 * over the catalog instead of giving every listener the same few near-head items — one drawn by a
 * Plackett–Luce sample over the list's tail items with weight (rank + 1)^(−1/τ), seeded per
 * listener so a listener's list is stable (stochastic ranking for fair exposure: Singh & Joachims
 * 2018; Diaz et al. 2020, "Evaluating stochastic rankings with expected exposure"). Smaller τ
 * keeps closer to the ranking; head slots are never sampled.
 */
import type { Ranked } from '../core/topk.ts';
import type { RecLists } from './evaluate.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';

/** The sampled tail pick: τ (> 0) and the listener's seed. */
export interface TailSpread {
  temperature: number;
  seed: number;
}

/**
 * The first `k` of `ranked` (best first, usually deeper than k) with the tail quota `share`
 * (0..1) applied per block of {@link TAIL_BLOCK} places; `head[i]` is 1 for head items. Scores stay
 * each item's own score.
 *
 * `tailSource` (optional): a second ranked list — a model whose lists reach deeper into the tail,
 * such as item-kNN — whose tail items also compete for the tail places. A tail item's rank is its
 * better rank in either list (ties: `ranked` first), so a head-bound model like ALS, whose 200 best
 * hold few tail items, still fills its tail places with items its listener is likely to know of.
 * An item only the source proposes takes the score of `ranked`'s last item (it is there by quota).
 * @example tailQuota({ items, scores }, 10, 0.2, pop.head) // tail items at positions 9 and 10 at least
 * @example tailQuota(r, 10, 0.2, head, { temperature: 1, seed: userRow }) // tail picks spread over the catalog
 * @example tailQuota(alsList, 10, 0.2, head, spread, knnList) // tail places drawn from both lists
 */
export function tailQuota(ranked: Ranked, k: number, share: number, head: Uint8Array, spread?: TailSpread, tailSource?: Ranked): Ranked {
  if (!(share >= 0 && share <= 1)) throw new DeepcutError('invalid_input', `long-tail share must be in [0, 1], got ${share}`);
  if (spread && !(spread.temperature > 0)) throw new DeepcutError('invalid_input', `long-tail spread temperature must be > 0, got ${spread.temperature}`);
  const n = ranked.items.length;
  if (share === 0 || n === 0) return { items: ranked.items.slice(0, k), scores: ranked.scores.slice(0, k) };
  // entries: ranked's items (0..n−1), then the source's tail items that ranked lacks; rankOf = best rank in either list
  const items: number[] = Array.from(ranked.items);
  const scores: number[] = Array.from(ranked.scores);
  const rankOf: number[] = items.map((_, r) => r);
  if (tailSource) {
    const at = new Map(items.map((it, r) => [it, r]));
    const floor = scores[n - 1];
    for (let r = 0; r < tailSource.items.length; r++) {
      const it = tailSource.items[r];
      if (it < 0 || head[it] === 1) continue;
      const q = at.get(it);
      if (q !== undefined) rankOf[q] = Math.min(rankOf[q], r);
      else {
        at.set(it, items.length);
        items.push(it);
        scores.push(floor);
        rankOf.push(r);
      }
    }
  }
  const isTail = (e: number) => head[items[e]] !== 1;
  // the order tail slots take tail entries in: by rank, or a seeded Plackett–Luce draw (Gumbel keys)
  const tailOrder: number[] = [];
  for (let e = 0; e < items.length; e++) if (isTail(e)) tailOrder.push(e);
  tailOrder.sort((a, b) => rankOf[a] - rankOf[b] || a - b);
  // the listener's offset u of the block quotas ⌊end·s + u⌋ (the fractional part of 10·s), drawn first
  const rng = spread ? new Rng(spread.seed) : undefined;
  const offset = rng ? rng.next() : 0;
  if (spread && rng) {
    const key = new Map(tailOrder.map((e) => [e, -Math.log(rankOf[e] + 1) / spread.temperature - Math.log(-Math.log(rng.next() || Number.MIN_VALUE))]));
    tailOrder.sort((a, b) => key.get(b)! - key.get(a)!);
  }
  const used = new Uint8Array(items.length);
  const outItems: number[] = [];
  const outScores: number[] = [];
  let nextAny = 0;
  let nextTail = 0;
  let tail = 0;
  while (outItems.length < k) {
    while (nextAny < n && used[nextAny]) nextAny++;
    while (nextTail < tailOrder.length && used[tailOrder[nextTail]]) nextTail++;
    // place j (1-based) takes a tail item when the block's remaining places are all needed for its quota
    const j = outItems.length + 1;
    const end = Math.min(TAIL_BLOCK * Math.ceil(j / TAIL_BLOCK), k);
    const wantTail = tail < Math.floor(end * share + offset + 1e-9) - (end - j) && nextTail < tailOrder.length;
    const e = wantTail ? tailOrder[nextTail] : nextAny;
    if (e >= n && !wantTail) break;
    used[e] = 1;
    if (isTail(e)) tail++;
    outItems.push(items[e]);
    outScores.push(scores[e]);
  }
  return { items: Int32Array.from(outItems), scores: Float32Array.from(outScores) };
}

/** The places of a block the dial keeps its share on: the list lengths consumers keep (top 10, 20, 30). */
export const TAIL_BLOCK = 10;

/**
 * The production dial's τ: on HetRec's curve (`npm run eval -- --only cf-hetrec`) a draw at τ = 1
 * lifts catalog coverage at the same NDCG@10 and tail share as the best-ranked pick.
 */
export const TAIL_TEMPERATURE = 1;

/** How deep a list must be read for the dial to find tail items: k itself without a quota. */
export function tailDepth(k: number, share: number, items: number): number {
  return Math.min(items, share > 0 ? Math.max(4 * k, k + 200) : k);
}

/** A listener's seed for the sampled tail pick: stable per (run seed, user row). */
export function tailSeed(seed: number, user: number): number {
  return (Math.imul(user + 1, 0x9e3779b1) ^ seed) >>> 0;
}

/**
 * {@link tailQuota} over every list of `lists`, as the production model applies it: the first `k`
 * with the share `share`, tail places drawn per listener at τ `temperature` (seeded by
 * {@link tailSeed}(`seed`, user); 0: the best-ranked tail item), also from the tail of the same
 * listener's list in `source` when given.
 * @example dialLists(validationLists, 10, 0.15, pop.head, 1, 0, knnLists)
 */
export function dialLists(lists: RecLists, k: number, share: number, head: Uint8Array, temperature: number, seed: number, source?: RecLists): RecLists {
  const out: RecLists = { users: lists.users, items: [], scores: [] };
  const row = new Map(source ? Array.from(source.users, (u, j) => [u, j]) : []);
  lists.items.forEach((items, j) => {
    const u = lists.users[j];
    const q = row.get(u);
    const r = tailQuota({ items, scores: lists.scores[j] }, k, share, head, temperature > 0 ? { temperature, seed: tailSeed(seed, u) } : undefined, source && q !== undefined ? { items: source.items[q], scores: source.scores[q] } : undefined);
    out.items.push(r.items);
    out.scores.push(r.scores);
  });
  return out;
}
