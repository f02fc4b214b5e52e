import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDbStore } from './duckdb.ts';
import { DeepcutError } from '../errors.ts';
import { storeContract, type MigratingStore } from './store.case.test.ts';

storeContract('duckdb', {
  async space() {
    const home = mkdtempSync(join(tmpdir(), 'deepcut-store-'));
    return {
      options: { home },
      open: async (o = {}) => (await DuckDbStore.open({ home, ...o })) as MigratingStore,
      cleanup: async () => rmSync(home, { recursive: true, force: true }),
    };
  },
});

it('duckdb: opening a missing store read-only is not_found', async () => {
  const home = join(tmpdir(), 'deepcut-store-missing-' + process.pid);
  await assert.rejects(DuckDbStore.open({ home, readOnly: true }), (e: unknown) => e instanceof DeepcutError && e.code === 'not_found' && e.message === `no store at ${join(home, 'store.duckdb')} to open read-only`);
});

it('duckdb: a write asked for before close still lands; one asked for after close is unavailable, not a crash', async () => {
  const home = mkdtempSync(join(tmpdir(), 'deepcut-store-close-'));
  const store = await DuckDbStore.open({ home });
  const row = (id: string) => ({ artist_id: id, name: id, genres: [] });
  const before = store.put('artists', [row('a1')]);
  const closing = store.close();
  await assert.rejects(store.put('artists', [row('a2')]), (e: unknown) => e instanceof DeepcutError && e.code === 'unavailable' && /store .* is closed/.test(e.message));
  assert.deepEqual(await before, { inserted: 1, duplicates: 0 });
  await closing;
  const again = await DuckDbStore.open({ home });
  assert.deepEqual((await again.list('artists')).map((a) => a.artist_id), ['a1']);
  await again.close();
  rmSync(home, { recursive: true, force: true });
});
