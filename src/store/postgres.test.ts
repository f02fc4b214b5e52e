// The store contract on PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
// Each test gets its own schema, dropped afterwards. Under CI=true an unreachable server fails.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore } from './postgres.ts';
import { pgDown, pgSchema } from './testing/postgres.ts';
import { DeepcutError } from '../errors.ts';
import { storeContract, type MigratingStore, type Harness } from './store.case.test.ts';

const down = await pgDown();
const harness: Harness = {
  async space() {
    const { databaseUrl, drop } = await pgSchema();
    return {
      options: { home: '/nonexistent', databaseUrl },
      open: async (o = {}) => (await PostgresStore.open({ home: '/nonexistent', databaseUrl, ...o })) as MigratingStore,
      cleanup: drop,
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

it('postgres: NOTIFY reaches subscribers of the same schema in order, never another schema\'s; a publication switch is announced', { skip: down ?? false }, async () => {
  const [one, two] = await Promise.all([pgSchema(), pgSchema()]);
  const a = (await PostgresStore.open({ home: '/nonexistent', databaseUrl: one.databaseUrl })) as PostgresStore;
  const b = (await PostgresStore.open({ home: '/nonexistent', databaseUrl: two.databaseUrl })) as PostgresStore;
  const got: string[] = [];
  const other: string[] = [];
  const stops = [await a.subscribe('listens', (p) => got.push(p)), await a.subscribe('publication', (p) => got.push(`pub:${p}`)), await b.subscribe('listens', (p) => other.push(p))];
  try {
    await a.notify('listens', ['1', '2', '3']);
    await a.switchPublication({ runId: 'r1', publishedAt: '2024-05-01T00:00:00Z', history: [] }, 0);
    for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, ['1', '2', '3', 'pub:r1']);
    assert.deepEqual(other, []);
    await assert.rejects(a.notify('listens', ['x'.repeat(8000)]), /at most 7900/);
  } finally {
    for (const s of stops) await s();
    await a.close();
    await b.close();
    await one.drop();
    await two.drop();
  }
});
