/**
 * The store stage's front door: the one {@link Store} interface every backend implements, the
 * backend picked from the config (`openStore`: PostgreSQL when `databaseUrl` is set, else the
 * embedded DuckDB file; the driver is loaded only for the backend used), and paging helpers.
 * Each backend is also a door of its own (`store/duckdb.ts`, `store/postgres.ts`) for code that
 * needs one by name (tests, benches): importing this index loads neither driver.
 *
 * ```ts
 * const store = await openStore({ home: config.home, databaseUrl: config.databaseUrl });
 * for await (const page of pagesOf(store, 'listens', {}, 10_000)) …
 * ```
 */
export * from './open.ts';
export { pagesOf, quarantinePages } from './pages.ts';
export type { InteractionColumns, ListenColumns, ListOptions, Notifier, OpenOptions, Publication, PutResult, QuarantinedRow, StagedShelf, Store } from './store.ts';
export { canNotify, NOTIFY_MAX_BYTES } from './store.ts';
export { InProcessStaging, type ShelfStaging } from './staged.ts';
export { entityColumns, q as quoteIdent, sqlType, type Column } from './migrations.ts';
