import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDbStore, isoMicros, openError, writeError } from './duckdb.ts';
import { DeepcutError, exitCode } from '../errors.ts';
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

it('isoMicros reads every instant form the domain accepts, as DuckDB casts it', async () => {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const forms = ['2024-05-01T12:00:00Z', '2024-05-01T14:00:00+02:00', '2024-05-01 06:30:00-0530', '2024-05-01T12:00:00.123456Z', '1999-12-31T23:59:59.5+00:00', '0050-03-01T00:00:00Z', '1969-07-20T20:17:40Z', '2024-02-29T00:00:00.000001-01:00'];
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run("SET TimeZone = 'UTC'");
    for (const s of forms) {
      const r = await c.runAndReadAll('SELECT epoch_us(CAST($1 AS TIMESTAMPTZ)) AS us', [s]);
      assert.equal(isoMicros(s), r.getRowObjectsJS()[0].us, s);
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
  assert.equal(isoMicros('2024-05-01T14:00:00+02:00'), BigInt(Date.UTC(2024, 4, 1, 12)) * 1000n);
  // forms the domain allows and DuckDB's cast refuses: digits past µs, no seconds
  assert.equal(isoMicros('2024-05-01T12:00:00.123456789Z'), BigInt(Date.UTC(2024, 4, 1, 12)) * 1000n + 123456n);
  assert.equal(isoMicros('2024-05-01T12:00+01:00'), BigInt(Date.UTC(2024, 4, 1, 11)) * 1000n);
  assert.throws(() => isoMicros('2024-05-01T12:00:00'), /not an ISO 8601 timestamp with a zone/);
});

it('duckdb: a store made before tracks.mbid gets the column last, and the appender still writes tracks', async () => {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const home = mkdtempSync(join(tmpdir(), 'deepcut-store-mig2-'));
  try {
    await (await DuckDbStore.open({ home })).close();
    // what migration 1 made before tracks had an mbid, without migration 2 recorded
    const db = await DuckDBInstance.create(join(home, 'store.duckdb'));
    const c = await db.connect();
    await c.run('ALTER TABLE tracks DROP COLUMN mbid');
    await c.run('DELETE FROM schema_migrations WHERE version = 2');
    c.closeSync();
    db.closeSync();
    const store = (await DuckDbStore.open({ home })) as MigratingStore;
    assert.deepEqual(await store.migrate(), [], 'open applied migration 2');
    const t = { track_id: 't1', title: 'T', artist_ids: ['a1'], duration_ms: 1000, release_date: '2024-01-01', mbid: 'rec-1' };
    assert.deepEqual(await store.bulkPut('tracks', [[t]]), { inserted: 1, duplicates: 0 });
    assert.equal((await store.get('tracks', ['t1']))?.mbid, 'rec-1');
    await store.close();
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

it('duckdb: a store the file system will not let us write is conflict (exit 5), a full disk or a held lock unavailable (exit 6)', () => {
  const path = '/h/store.duckdb';
  // the messages DuckDB gives (seen on a read-only bind mount, a full tmpfs, a second writer)
  const ro = openError(path, false, new Error('IO Error: Cannot open file "/h/store.duckdb": Read-only file system'));
  assert.equal(ro.code, 'conflict');
  assert.equal(exitCode(ro), 5);
  assert.match(ro.message, /^store \/h\/store\.duckdb is read-only for this process \(IO Error: .*\): commands that only read \(quarantine list, validate, keys list\) still work; to write, make \/h writable$/);
  assert.equal(openError(path, false, new Error('IO Error: Cannot open file "/h/store.duckdb": Permission denied')).code, 'conflict');
  const locked = openError(path, true, new Error('IO Error: Could not set lock on file "/h/store.duckdb": Conflicting lock is held in node (PID 42)'));
  assert.equal(locked.code, 'unavailable');
  assert.match(locked.message, /in use by another process .*PID 42.*stop that process, or, when it is `deepcut serve`, go through its HTTP API/);
  assert.equal(openError(path, false, new Error('IO Error: something else')).code, 'unavailable');

  const full = writeError(path, new Error('IO Error: Could not write file "/h/store.duckdb.wal": No space left on device'));
  assert.ok(full instanceof DeepcutError && full.code === 'unavailable' && exitCode(full) === 6, String(full));
  const refused = writeError(path, new Error('IO Error: Could not write file "/h/store.duckdb.wal": Read-only file system'));
  assert.ok(refused instanceof DeepcutError && refused.code === 'conflict' && exitCode(refused) === 5, String(refused));
  const bug = new TypeError('x is undefined');
  assert.equal(writeError(path, bug), bug, 'other errors pass unchanged');
});
