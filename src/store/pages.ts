/**
 * Read a whole entity table (or the part a filter keeps) page by page, in key order, with keyset
 * paging: each row is read once however large the table, where OFFSET paging re-reads and
 * re-sorts every earlier row for each page.
 *
 *   for await (const rows of pagesOf(store, 'tracks')) catalog.addTracks(rows);
 */
import { entityKeys, type EntityKind, type EntityRow } from '../domain/schemas.ts';
import type { ListOptions, Store } from './store.ts';

export async function* pagesOf<K extends EntityKind>(
  store: Pick<Store, 'list'>,
  kind: K,
  filter: Pick<ListOptions, 'where' | 'range'> = {},
  page = 10_000,
): AsyncGenerator<EntityRow<K>[]> {
  const key = entityKeys[kind] as readonly string[];
  for (let after: string[] | undefined; ; ) {
    const rows = await store.list(kind, { ...filter, limit: page, ...(after ? { after } : {}) });
    if (rows.length) yield rows;
    if (rows.length < page) return;
    const last = rows[rows.length - 1] as Record<string, unknown>;
    after = key.map((k) => String(last[k]));
  }
}
