// The store contract on PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
// Each test gets its own schema, dropped afterwards. Under CI=true an unreachable server fails.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresStore, redactUrl } from './postgres.ts';
import { DeepcutError } from '../errors.ts';
import { storeContract, type MigratingStore, type Harness } from './store.case.test.ts';

const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<string | undefined> {
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

const down = await reachable();
let n = 0;
const harness: Harness = {
  async space() {
    const schema = `deepcut_test_${process.pid}_${Date.now().toString(36)}_${n++}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const databaseUrl = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    return {
      options: { home: '/nonexistent', databaseUrl },
      open: async (o = {}) => (await PostgresStore.open({ home: '/nonexistent', databaseUrl, ...o })) as MigratingStore,
      cleanup: async () => {
        const c = new pg.Client({ connectionString: base });
        await c.connect();
        await c.query(`DROP SCHEMA ${schema} CASCADE`);
        await c.end();
      },
    };
  },
};

if (down && process.env.CI === 'true') {
  it('postgres: the server must be reachable under CI', () => assert.fail(down));
} else {
  storeContract('postgres', down ?? harness);
}

it('postgres: an unreachable server is unavailable, the URL named without its password', async () => {
  const url = 'postgres://deepcut:s3cret@127.0.0.1:1/nowhere';
  await assert.rejects(
    PostgresStore.open({ home: '/nonexistent', databaseUrl: url }),
    (e: unknown) =>
      e instanceof DeepcutError &&
      e.code === 'unavailable' &&
      e.message.startsWith('PostgreSQL at postgres://deepcut@127.0.0.1:1/nowhere is unreachable: ') &&
      !e.message.includes('s3cret'),
  );
});
