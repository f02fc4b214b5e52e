/**
 * Seeded synthetic listens for the store's tests, its crash-test child and its benchmark.
 * Row i is fully determined by (seed, i): listen ids are `l<i>`, so a test knows which rows a
 * batch held without keeping them.
 */
import { Rng } from '../../util/rng.ts';
import { entityKeys, type EntityKind, type EntityRow, type Listen } from '../../domain/schemas.ts';
import type { ListOptions } from '../store.ts';

export interface ListenGenOptions {
  users?: number;
  tracks?: number;
  seed?: number;
  /** First started_at, ms since the epoch; listens follow each other by 1–600 s. */
  start?: number;
}

const reasons = ['trackdone', 'fwdbtn', 'endplay'] as const;

/** Batches of `batch` listens, `n` in all, ids `l<first>`…, deterministic for a seed. */
export function* syntheticListens(n: number, batch: number, opts: ListenGenOptions & { first?: number } = {}): Generator<Listen[]> {
  const rng = new Rng(opts.seed ?? 1);
  const users = opts.users ?? 1000;
  const tracks = opts.tracks ?? 20000;
  let t = opts.start ?? Date.UTC(2024, 0, 1);
  const first = opts.first ?? 0;
  for (let s = 0; s < n; s += batch) {
    const out: Listen[] = [];
    for (let i = s; i < Math.min(n, s + batch); i++) {
      t += 1000 * (1 + rng.int(600));
      const skipped = rng.next() < 0.2;
      out.push({
        listen_id: `l${first + i}`,
        user_id: `u${rng.int(users)}`,
        // Squaring skews plays towards low track numbers, like real popularity.
        track_id: `t${Math.floor(rng.next() ** 2 * tracks)}`,
        started_at: new Date(t).toISOString().replace('.000Z', 'Z'),
        ms_played: skipped ? rng.int(30_000) : 30_000 + rng.int(200_000),
        reason_end: skipped ? 'fwdbtn' : rng.pick(reasons),
        skipped,
        context: 'unknown',
        platform: 'web',
      });
    }
    yield out;
  }
}

/**
 * `Store.list` over rows held in memory, for test doubles: key order (text by code unit, integers
 * by value), then `where` (values compared as text), `range`, `after`, `offset` and `limit`, as the
 * backends do.
 */
export function listInMemory<K extends EntityKind>(kind: K, rows: readonly EntityRow<K>[], o: ListOptions = {}): EntityRow<K>[] {
  const keys = entityKeys[kind] as readonly string[];
  const get = (r: EntityRow<K>, k: string) => (r as Record<string, unknown>)[k];
  const cmp = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
  const byKey = (a: EntityRow<K>, b: EntityRow<K>) => {
    for (const k of keys) {
      const c = cmp(get(a, k), get(b, k));
      if (c) return c;
    }
    return 0;
  };
  let out = [...rows].sort(byKey);
  if (o.where) out = out.filter((r) => Object.entries(o.where!).every(([k, v]) => String(get(r, k)) === v));
  if (o.range) {
    const { field, from, until } = o.range;
    out = out.filter((r) => {
      const t = Date.parse(String(get(r, field)));
      return (from === undefined || t >= Date.parse(from)) && (until === undefined || t < Date.parse(until));
    });
  }
  if (o.after) {
    const after = o.after;
    out = out.filter((r) => {
      for (let i = 0; i < keys.length; i++) {
        const v = get(r, keys[i]);
        const c = cmp(v, typeof v === 'number' ? Number(after[i]) : after[i]);
        if (c) return c > 0;
      }
      return false;
    });
  }
  const off = o.offset ?? 0;
  return out.slice(off, o.limit !== undefined ? off + o.limit : undefined);
}
