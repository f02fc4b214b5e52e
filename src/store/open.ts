/**
 * Pick the store backend from the config: PostgreSQL when `databaseUrl` (DATABASE_URL) is set,
 * the embedded DuckDB file `<home>/store.duckdb` otherwise. Migrations run on open (read-write).
 */
import type { Store, OpenOptions } from './store.ts';

export async function openStore(opts: OpenOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const { PostgresStore } = await import('./postgres.ts');
    return PostgresStore.open(opts);
  }
  const { DuckDbStore } = await import('./duckdb.ts');
  return DuckDbStore.open(opts);
}
