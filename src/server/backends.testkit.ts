/**
 * The real store backends for server tests: DuckDB in a temporary folder, and PostgreSQL in a
 * schema of its own (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) when
 * the server answers. Under CI=true an unreachable PostgreSQL is a failure, not a skip.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../store/index.ts';
import { DuckDbStore } from '../store/duckdb.ts';
import { PostgresStore } from '../store/postgres.ts';
import { pgDown, pgSchema } from '../store/testing/postgres.ts';

export interface Backend {
  name: 'duckdb' | 'postgres';
  /** Why this backend cannot run here (the tests skip, or fail under CI). */
  down?: string;
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

/** DuckDB always; PostgreSQL with `down` set when it does not answer. */
export async function backends(): Promise<Backend[]> {
  const down = await pgDown();
  return [
    {
      name: 'duckdb',
      async open() {
        const home = await mkdtemp(join(tmpdir(), 'deepcut-edge-'));
        const store = await DuckDbStore.open({ home });
        return {
          store,
          cleanup: async () => {
            await store.close();
            await rm(home, { recursive: true, force: true });
          },
        };
      },
    },
    {
      name: 'postgres',
      down,
      async open() {
        const { databaseUrl, drop } = await pgSchema('deepcut_edge');
        const store = await PostgresStore.open({ home: '/nonexistent', databaseUrl });
        return {
          store,
          cleanup: async () => {
            await store.close();
            await drop();
          },
        };
      },
    },
  ];
}
