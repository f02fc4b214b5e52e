/** Writes that routes share: a store call that answers 503 on failure, and listens committed then fanned out. */
import { DeepcutError } from '../errors.ts';
import type { Listen } from '../domain/schemas.ts';
import type { ServerContext } from './context.ts';

/** What a 503 from a failed store call asks clients to wait, in seconds. */
export const STORE_RETRY_AFTER_S = 1;

/**
 * Run a store operation; a failure counts in the metrics and answers 503 with Retry-After, not 500:
 * a store that stalls (every pooled connection busy past its timeout) or restarts is transient, and
 * clients that honour Retry-After (ListenBrainz submitters, the bench's load loops) try again.
 */
export async function storeCall<T>(ctx: ServerContext, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DeepcutError) throw e;
    ctx.metrics.storeErrors.inc({ op });
    ctx.log.error({ err: e, op }, 'store operation failed');
    throw new DeepcutError('unavailable', `store ${op} failed: ${(e as Error).message}`, {}, { cause: e, retryAfterS: STORE_RETRY_AFTER_S });
  }
}

/** Commit listens, then let the live model see them (acknowledged only after the commit). */
export async function ingest(ctx: ServerContext, rows: Listen[], endpoint: string) {
  const r = rows.length ? await storeCall(ctx, 'put listens', () => ctx.store.put('listens', rows)) : { inserted: 0, duplicates: 0 };
  ctx.metrics.listens.inc({ endpoint }, r.inserted);
  ctx.metrics.duplicates.inc({ endpoint }, r.duplicates);
  if (rows.length) {
    // the live model of the run served now (not the one this request started on), and every other node's
    ctx.slot.observe(rows);
    await ctx.fleet?.announce(rows);
  }
  return r;
}
