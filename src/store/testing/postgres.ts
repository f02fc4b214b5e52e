/**
 * PostgreSQL for tests: the server of TEST_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test), whether it answers, and a schema of its own per test so
 * tests never see each other's rows. Under CI=true an unreachable server is a failure, not a skip
 * (each test file decides with {@link pgDown}).
 */
import pg from 'pg';
import { redactUrl } from '../postgres.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why PostgreSQL cannot be used here, or undefined when it answers. */
export async function pgDown(base = TEST_DATABASE_URL): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (e) {
    return `PostgreSQL at ${redactUrl(base)} is unreachable (${e instanceof Error ? e.message || (e as { code?: string }).code : e})`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

let n = 0;
/** A new empty schema: the URL whose connections use it, and `drop()` to remove it with its tables. */
export async function pgSchema(prefix = 'deepcut_test', base = TEST_DATABASE_URL): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Date.now().toString(36)}_${n++}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return {
    databaseUrl: `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}
