/** The store stage's public surface. */
export { DuckDbStore } from './duckdb.ts';
export * from './open.ts';
export { openStore } from './open.ts';
export { pagesOf, quarantinePages } from './pages.ts';
export { PostgresStore } from './postgres.ts';
export { type InteractionColumns, type ListenColumns, type ListOptions, type QuarantinedRow, type Store } from './store.ts';
