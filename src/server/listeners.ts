/**
 * Which user ids are listeners: the ones the serving model has a history for (its run's, or folded
 * in since) and the ones the store holds. Every per-user listener route asks {@link requireListener}
 * first, so a mistyped id is a 404 naming the id — not a believable page of popular tracks, and no
 * impressions logged for a user who does not exist.
 */
import { DeepcutError } from '../errors.ts';
import type { ServerContext } from './context.ts';

/** Store lookups remembered (positive answers only: a listener never stops existing). */
const known = new WeakMap<ServerContext['store'], Set<string>>();
const MAX_REMEMBERED = 200_000;

/** Resolves when `id` is a listener; throws `not_found` (404) otherwise, or `unavailable` when the store fails. */
export async function requireListener(ctx: Pick<ServerContext, 'store' | 'state'>, id: string): Promise<void> {
  if (ctx.state.recs?.knows(id)) return;
  let seen = known.get(ctx.store);
  if (seen?.has(id)) return;
  let row: unknown;
  try {
    row = await ctx.store.get('users', [id]);
  } catch (e) {
    throw new DeepcutError('unavailable', `store read users failed: ${(e as Error).message}`, {}, { cause: e });
  }
  if (!row) throw new DeepcutError('not_found', `unknown user ${id}: no listener has this id (a listener appears with their first listen)`);
  if (!seen || seen.size >= MAX_REMEMBERED) known.set(ctx.store, (seen = new Set()));
  seen.add(id);
}
