/**
 * The real store backends for server tests: DuckDB in a temporary folder, and PostgreSQL in a
 * schema of its own (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) when
 * the server answers. Under CI=true an unreachable PostgreSQL is a failure, not a skip.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Store } from '../store/index.ts';
import { DuckDbStore } from '../store/duckdb.ts';
import { PostgresStore } from '../store/postgres.ts';

export interface Backend {
  name: 'duckdb' | 'postgres';
  /** Why this backend cannot run here (the tests skip, or fail under CI). */
  down?: string;
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pgDown(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (e) {
    return `PostgreSQL is unreachable (${e instanceof Error ? e.message || (e as { code?: string }).code : e})`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

let n = 0;
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
        const schema = `deepcut_edge_${process.pid}_${Date.now().toString(36)}_${n++}`;
        const admin = new pg.Client({ connectionString: base });
        await admin.connect();
        await admin.query(`CREATE SCHEMA ${schema}`);
        await admin.end();
        const databaseUrl = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
        const store = await PostgresStore.open({ home: '/nonexistent', databaseUrl });
        return {
          store,
          cleanup: async () => {
            await store.close();
            const c = new pg.Client({ connectionString: base });
            await c.connect();
            await c.query(`DROP SCHEMA ${schema} CASCADE`);
            await c.end();
          },
        };
      },
    },
  ];
}
