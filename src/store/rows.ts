/**
 * Conversions shared by the store backends between domain rows and stored values. Instants are
 * returned in one canonical form, `YYYY-MM-DDTHH:MM:SS[.mmm|.µµµµµµ]Z` (fraction only when non-zero),
 * so `2024-05-01T12:00:00Z` round-trips unchanged and `2024-05-01T14:00:00+02:00` comes back as
 * `2024-05-01T12:00:00Z`.
 */
import { DeepcutError } from '../errors.ts';
import type { Column } from './migrations.ts';
import type { Publication, StagedShelf } from './store.ts';
import type { Impression } from '../domain/schemas.ts';

/** Canonical ISO string of an instant given in µs since the epoch (UTC). */
export function formatMicros(us: number | bigint): string {
  const big = BigInt(us);
  let ms = big / 1000n;
  let sub = Number(big % 1000n);
  if (sub < 0) {
    sub += 1000;
    ms -= 1n;
  }
  const d = new Date(Number(ms));
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const millis = d.getUTCMilliseconds();
  if (sub !== 0) return `${iso.slice(0, 23)}${String(sub).padStart(3, '0')}Z`;
  if (millis !== 0) return iso;
  return `${iso.slice(0, 19)}Z`;
}

/** µs since the epoch of a PostgreSQL `timestamptz` text in UTC, e.g. `2024-05-01 10:00:00.123456+00`. */
export function parsePgTimestamp(s: string): number {
  const m = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\+00$/.exec(s);
  if (!m) throw new Error(`unexpected timestamptz text "${s}" (is the session TimeZone UTC?)`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  return ms * 1000 + frac;
}

/**
 * A domain row from stored values: `values[name]` holds text/number/boolean/array, instants as µs
 * since the epoch, dates as `YYYY-MM-DD`. Optional fields whose value is null are left out.
 */
export function decodeRow(columns: readonly Column[], values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const col of columns) {
    const v = values[col.name];
    if (v === null || v === undefined) {
      if (!col.optional) throw new Error(`column ${col.name} is NULL but required`);
      continue;
    }
    switch (col.kind) {
      case 'ts':
        out[col.name] = formatMicros(v as number | bigint);
        break;
      case 'int':
      case 'double':
        out[col.name] = Number(v);
        break;
      case 'list':
        out[col.name] = [...(v as string[])];
        break;
      default:
        out[col.name] = v;
    }
  }
  return out;
}

/** The refusal every write on a read-only store throws. */
export function readOnlyError(op: string): DeepcutError {
  return new DeepcutError('conflict', `the store is open read-only: ${op} refused`);
}

/** Serialises async sections: `await lock.run(() => …)` runs after every earlier section finished. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** The `publication` row as a backend reads it (`published_ms`: ms since the epoch; `history`: JSON text) as a {@link Publication}. */
export function decodePublication(r: Record<string, unknown> | undefined): Publication | undefined {
  if (!r) return undefined;
  return { runId: String(r.run_id), publishedAt: new Date(Number(r.published_ms)).toISOString(), history: JSON.parse(String(r.history)) as Publication['history'], generation: Number(r.generation) };
}

/** The SELECT both SQL backends read the publication row with. */
export const PUBLICATION_SELECT = 'SELECT run_id, history, generation, %MS% AS published_ms FROM publication WHERE slot = 1';

/** A `staged_shelves` row as read by both SQL backends (`expires_ms`: epoch ms). */
export function decodeStagedShelf(r: Record<string, unknown>): StagedShelf {
  return { requestId: String(r.request_id), userId: String(r.user_id), shelf: String(r.shelf), impressions: JSON.parse(String(r.impressions)) as Impression[], expiresAt: new Date(Number(r.expires_ms)).toISOString() };
}

/** The SELECT both SQL backends read staged shelves with: `$1` user, `$2` request, `$3` now; `%MS%` the epoch-ms expression, `%IN%` the shelf condition. */
export const STAGED_SELECT = 'SELECT request_id, shelf, user_id, impressions, %MS% AS expires_ms FROM staged_shelves WHERE user_id = $1 AND request_id = $2 AND expires_at > $3::TIMESTAMPTZ AND %IN%';

/** `shelves` in the order asked for, each once, from what a backend found. */
export function inShelfOrder(found: readonly StagedShelf[], shelves: readonly string[]): StagedShelf[] {
  const by = new Map(found.map((s) => [s.shelf, s]));
  const out: StagedShelf[] = [];
  for (const id of new Set(shelves)) {
    const s = by.get(id);
    if (s) out.push(s);
  }
  return out;
}
