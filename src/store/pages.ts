/**
 * Read a whole entity table (or the part a filter keeps) page by page, in key order, with keyset
 * paging: each row is read once however large the table, where OFFSET paging re-reads and
 * re-sorts every earlier row for each page.
 *
 *   for await (const rows of pagesOf(store, 'tracks')) catalog.addTracks(rows);
 */
import { entityKeys, type EntityKind, type EntityRow } from '../domain/schemas.ts';
import type { ListOptions, QuarantinedRow, Store } from './store.ts';

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

/** The quarantine (one batch, or all) page by page in id order, each page after the last id. */
export async function* quarantinePages(store: Pick<Store, 'listQuarantine'>, filter: { batch?: string } = {}, page = 10_000): AsyncGenerator<QuarantinedRow[]> {
  for (let afterId = 0; ; ) {
    const rows = await store.listQuarantine({ ...filter, afterId, limit: page });
    if (rows.length) yield rows;
    if (rows.length < page) return;
    afterId = rows[rows.length - 1].id!;
  }
}
