/**
 * Values a store cannot hold (integers past 2^31 − 1, impossible dates, times no Date can hold,
 * NUL) are quarantined with file, line and field in every format, never an internal error; a store
 * that cannot be written (full disk) stops the import as `unavailable` (exit 6), resumable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { importPath, type ImportOptions } from './import.ts';
import { importSandbox, jl } from './import.testkit.ts';
import { exitCode, isDeepcutError } from '../errors.ts';

const NOW = new Date('2024-06-01T00:00:00Z');
const opts: ImportOptions = { clock: () => NOW };
const { root, folder, withStore } = importSandbox('values');
const where = async (store: Store) => (await store.listQuarantine()).map((q) => [q.file.split('/').pop(), q.line, q.field, q.code]);

test('own jsonl: ints past 2^31 − 1 and impossible dates are quarantined with their field, the rest imports', async () => {
  const dir = folder({
    'artists.jsonl': jl([{ artist_id: 'a1', name: 'Alpha' }]),
    'tracks.jsonl': jl([
      { track_id: 't1', title: 'One', artist_ids: ['a1'], duration_ms: 200000, release_date: '2020-01-01' },
      { track_id: 't2', title: 'Two', artist_ids: ['a1'], duration_ms: 3000000000, release_date: '2020-01-01' },
      { track_id: 't3', title: 'Three', artist_ids: ['a1'], duration_ms: 1000, release_date: '2024-02-30' },
    ]),
    'users.jsonl': jl([{ user_id: 'u1' }]),
    'listens.jsonl': jl([
      { listen_id: 'l1', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 1000 },
      { listen_id: 'l2', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 3000000000 },
      { listen_id: 'l3', user_id: 'u1', track_id: 't1', started_at: '2024-02-30T12:00:00Z', ms_played: 1000 },
      { listen_id: 'l4', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T24:00:00Z', ms_played: 1000 },
      { listen_id: 'l5', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 1000, platform: 'a\u0000b' },
    ]),
  });
  await withStore(async (store) => {
    const s = await importPath(store, 'jsonl', dir, opts);
    assert.deepEqual(s.totals.tracks, { read: 3, imported: 1, duplicates: 0, quarantined: 2 });
    assert.deepEqual(s.totals.listens, { read: 5, imported: 1, duplicates: 0, quarantined: 4 });
    assert.deepEqual(await where(store), [
      ['tracks.jsonl', 2, 'duration_ms', 'out_of_range'],
      ['tracks.jsonl', 3, 'release_date', 'invalid_value'],
      ['listens.jsonl', 2, 'ms_played', 'out_of_range'],
      ['listens.jsonl', 3, 'started_at', 'invalid_value'],
      ['listens.jsonl', 4, 'started_at', 'invalid_value'],
      ['listens.jsonl', 5, 'platform', 'invalid_value'],
    ]);
    const again = await importPath(store, 'jsonl', dir, { ...opts, force: true });
    assert.equal(again.totals.listens!.imported, 0);
    assert.equal((await store.listQuarantine()).length, 6, 're-running adds nothing');
  });
});

test('spotify history: ms_played 3e9 and 2^53, impossible ts, NUL names are quarantined under the export field names', async () => {
  const s = (o: object) => ({ ts: '2024-05-01T12:03:00Z', ms_played: 180000, master_metadata_track_name: 'Song', master_metadata_album_artist_name: 'Band', master_metadata_album_album_name: 'Album', reason_end: 'trackdone', platform: 'android', ...o });
  const dir = folder({
    'Streaming_History_Audio_2024.json': JSON.stringify([
      s({}),
      s({ ts: '2024-05-01T12:10:00Z', ms_played: 3000000000 }),
      s({ ts: '2024-05-01T12:11:00Z', ms_played: 2 ** 53 }),
      s({ ts: '2024-02-30T12:00:00Z' }),
      s({ ts: '2024-05-01T12:12:00Z', master_metadata_track_name: 'So\u0000ng' }),
      s({ ts: '2024-05-01T12:13:00Z', master_metadata_album_artist_name: 'B\ud800and' }),
      s({ ts: '2024-05-01T12:14:00Z', ms_played: 1.5 }),
    ]).replace(/\},\{/g, '},\n{'),
    'StreamingHistory0.json': JSON.stringify([
      { endTime: '2024-05-01 12:20', artistName: 'Band', trackName: 'Song', msPlayed: 3000000000 },
      { endTime: '2024-02-30 12:20', artistName: 'Band', trackName: 'Song', msPlayed: 1000 },
      { endTime: '2024-05-01 12:21', artistName: 'Band', trackName: 'Song', msPlayed: 1000 },
    ]).replace(/\},\{/g, '},\n{'),
  });
  await withStore(async (store) => {
    const r = await importPath(store, 'spotify-history', dir, { ...opts, user: 'me' });
    assert.equal(r.totals.listens!.imported, 2);
    assert.deepEqual(await where(store), [
      ['StreamingHistory0.json', 1, 'msPlayed', 'out_of_range'],
      ['StreamingHistory0.json', 2, 'endTime', 'wrong_type'],
      ['Streaming_History_Audio_2024.json', 2, 'ms_played', 'out_of_range'],
      ['Streaming_History_Audio_2024.json', 3, 'ms_played', 'out_of_range'],
      ['Streaming_History_Audio_2024.json', 4, 'ts', 'invalid_value'],
      ['Streaming_History_Audio_2024.json', 5, 'master_metadata_track_name', 'invalid_value'],
      ['Streaming_History_Audio_2024.json', 6, 'master_metadata_album_artist_name', 'invalid_value'],
      ['Streaming_History_Audio_2024.json', 7, 'ms_played', 'out_of_range'],
    ]);
    assert.equal(await store.count('tracks'), 1, 'no catalog row is made from a refused stream');
  });
});

test('listenbrainz and interactions: times no date can hold and lengths past 2^31 − 1 are quarantined, not thrown', async () => {
  const lb = (o: object, info: object = {}) => ({ user_name: 'rob', listened_at: 1714564800, track_metadata: { artist_name: 'Band', track_name: 'Song', additional_info: { duration_ms: 200000, ...info } }, ...o });
  const dir = folder({
    'listens.jsonl': jl([lb({}), lb({ listened_at: 1e20 }), lb({ listened_at: 1714564801 }, { duration_ms: 3e9 }), lb({ listened_at: '99999999999999999' }), lb({ listened_at: 1714564802 }, { duration_ms: undefined, duration: 1e12 })]),
  });
  const csv = folder({ 'plays.csv': 'user,item,weight,timestamp\nu1,i1,3,1714564800\nu1,i2,3,100000000000000000000\nu1,i3,3,2024-02-30T00:00:00Z\n' });
  await withStore(async (store) => {
    const r = await importPath(store, 'listenbrainz', dir, opts);
    assert.equal(r.totals.listens!.imported, 1, JSON.stringify(await where(store)));
    const i = await importPath(store, 'interactions', join(csv, 'plays.csv'), opts);
    assert.equal(i.totals.interactions!.imported, 1, JSON.stringify(await where(store)));
    assert.deepEqual(await where(store), [
      ['listens.jsonl', 2, 'listened_at', 'out_of_range'],
      ['listens.jsonl', 3, 'track_metadata.additional_info.duration_ms', 'out_of_range'],
      ['listens.jsonl', 4, 'listened_at', 'out_of_range'],
      ['listens.jsonl', 5, 'track_metadata.additional_info.duration_ms', 'out_of_range'],
      ['plays.csv', 3, 'at', 'invalid_value'],
      ['plays.csv', 4, 'at', 'invalid_value'],
    ]);
  });
});

test('a full disk stops the import as unavailable (exit 6) naming the cause; the same import run again resumes to exactly one clean import', async () => {
  const rows = Array.from({ length: 30 }, (_, i) => ({ listen_id: `l${i}`, user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: i === 7 ? -1 : 1000 }));
  const dir = folder({
    'artists.jsonl': jl([{ artist_id: 'a1', name: 'Alpha' }]),
    'tracks.jsonl': jl([{ track_id: 't1', title: 'One', artist_ids: ['a1'], duration_ms: 200000, release_date: '2020-01-01' }]),
    'users.jsonl': jl([{ user_id: 'u1' }]),
    'listens.jsonl': jl(rows),
  });
  const home = join(root, `h-full-disk`);
  await withStore(async (store) => {
    let listenWrites = 0;
    const full = new Proxy(store, {
      get(t, p, r) {
        const v = Reflect.get(t, p, r) as unknown;
        if (p === 'bulkPut')
          return async (kind: string, b: unknown) => {
            if (kind === 'listens' && ++listenWrites === 2) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            return (v as (k: string, b: unknown) => Promise<unknown>).call(t, kind, b);
          };
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const failed = await importPath(full, 'jsonl', dir, { ...opts, batchSize: 10 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isDeepcutError(failed), `expected a DeepcutError, got ${String(failed)}`);
    assert.equal(failed.code, 'unavailable');
    assert.equal(exitCode(failed), 6);
    assert.match(failed.message, /listens\.jsonl: the store cannot be written \(ENOSPC: no space left on device, write\).*run the same import again, it resumes there/);
    assert.equal(await store.count('listens'), 9, 'the first batch (10 rows, one of them quarantined) was committed before the disk filled');
  }, home);
  await withStore(async (store) => {
    const s = await importPath(store, 'jsonl', dir, { ...opts, batchSize: 10 });
    assert.equal(s.files.find((f) => f.file.endsWith('listens.jsonl'))!.status, 'resumed');
    assert.equal(await store.count('listens'), 29);
    assert.deepEqual(await where(store), [['listens.jsonl', 8, 'ms_played', 'out_of_range']]);
  }, home);
});

test('a row the store refuses (a value the schema let through) is quarantined as store_refused; the rest of its batch is stored', async () => {
  const rows = Array.from({ length: 12 }, (_, i) => ({ listen_id: `l${i}`, user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: i === 4 ? 1234567 : 1000 }));
  const dir = folder({
    'artists.jsonl': jl([{ artist_id: 'a1', name: 'Alpha' }]),
    'tracks.jsonl': jl([{ track_id: 't1', title: 'One', artist_ids: ['a1'], duration_ms: 2000000, release_date: '2020-01-01' }]),
    'users.jsonl': jl([{ user_id: 'u1' }]),
    'listens.jsonl': jl(rows),
  });
  await withStore(async (store) => {
    // a store with a limit the schema does not know: it refuses any batch holding ms_played 1234567
    const picky = new Proxy(store, {
      get(t, p, r) {
        const v = Reflect.get(t, p, r) as unknown;
        if (p === 'bulkPut')
          return async (kind: string, batches: Record<string, unknown>[][]) => {
            if (batches.some((b) => b.some((row) => row.ms_played === 1234567))) throw new Error('Conversion Error: value 1234567 is out of range for column ms_played');
            return (v as (k: string, b: unknown) => Promise<unknown>).call(t, kind, batches);
          };
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const s = await importPath(picky, 'jsonl', dir, { ...opts, batchSize: 5 });
    assert.deepEqual(s.totals.listens, { read: 12, imported: 11, duplicates: 0, quarantined: 1 });
    assert.deepEqual(await where(store), [['listens.jsonl', 5, 'ms_played', 'store_refused']]);
    const q = (await store.listQuarantine())[0];
    assert.match(q.reason, /^the store refused a row the schema accepted \(please report it\): Conversion Error/);
    assert.equal(JSON.parse(q.raw).listen_id, 'l4', 'the checked row is kept');
    const again = await importPath(picky, 'jsonl', dir, { ...opts, batchSize: 5, force: true });
    assert.equal(again.totals.listens!.imported, 0);
    assert.equal((await store.listQuarantine()).length, 1, 're-running adds nothing');
  });
});
