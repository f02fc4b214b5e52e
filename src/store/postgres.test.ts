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
