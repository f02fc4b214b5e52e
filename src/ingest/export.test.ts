import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openStore, type Store } from '../store/index.ts';
import { pgDown, pgSchema } from '../store/testing/postgres.ts';
import { importPath, type ImportOptions } from './import.ts';
import { importSandbox, jl } from './import.testkit.ts';
import { bulkRows, CATALOG_FILES, catalog, mixedInteractions, mixedListens, NOW } from './bulk.testkit.ts';
import { exportEntity, exportPlaylists, lakeFormats, type LakeFormat } from './export.ts';

const { root, folder, withStore } = importSandbox('export');
const opts: ImportOptions = { clock: () => NOW };
const importFormat = (f: LakeFormat) => (f === 'parquet' ? 'parquet' : f);

/** A store holding the catalog and the mixed listens and interactions files (their good rows). */
async function filled(store: Store, dir: string): Promise<void> {
  for (const f of CATALOG_FILES) await importPath(store, 'jsonl', join(dir, f), opts);
  await importPath(store, 'jsonl', join(dir, 'listens.jsonl'), opts);
  await importPath(store, 'interactions', join(dir, 'ratings.csv'), opts);
}

/** Export listens and interactions from `source` in every format, import each file into a new store: the same rows come back. */
async function roundTrip(source: Store, dir: string, label: string): Promise<void> {
  const listens = await bulkRows(source, 'listens');
  const interactions = await bulkRows(source, 'interactions');
  assert.ok(listens.length > 20 && interactions.length > 10, 'there are rows to export');
  assert.ok(interactions.some((r) => (r as { at?: string }).at === undefined) && interactions.some((r) => (r as { at?: string }).at !== undefined), 'some interactions have no time');
  for (const format of lakeFormats) {
    const out = folder({});
    const seen: number[] = [];
    const l = await exportEntity(source, 'listens', format, join(out, `listens.${format}`), { onProgress: (d, t) => seen.push(d / t) });
    const i = await exportEntity(source, 'interactions', format, join(out, `interactions.${format}`));
    assert.equal(l.rows, listens.length);
    assert.equal(i.rows, interactions.length);
    assert.equal(seen.at(-1), 1, 'progress ends at the total');
    await withStore(async (back) => {
      for (const f of CATALOG_FILES) await importPath(back, 'jsonl', join(dir, f), opts);
      const s = await importPath(back, importFormat(format), out, opts);
      assert.equal(s.totals.listens?.quarantined, 0, `${label} ${format}: ${JSON.stringify(s.files.map((f) => f.notes))}`);
      assert.equal(s.totals.interactions?.quarantined, 0);
      assert.deepEqual(await bulkRows(back, 'listens'), listens, `${label} listens as ${format}`);
      assert.deepEqual(await bulkRows(back, 'interactions'), interactions, `${label} interactions as ${format}`);
    });
  }
}

test('export from the embedded store, in Parquet, CSV and JSON lines, imports back to the same listens and interactions', async () => {
  const dir = folder({ ...catalog, 'listens.jsonl': mixedListens(), 'ratings.csv': mixedInteractions() });
  await withStore(async (store) => {
    await filled(store, dir);
    await roundTrip(store, dir, 'duckdb');
  });
});

test('export from a PostgreSQL store (COPY TO STDOUT) imports back to the same rows', async (t) => {
  const down = await pgDown();
  if (down && process.env.CI !== 'true') return t.skip(down);
  const dir = folder({ ...catalog, 'listens.jsonl': mixedListens(), 'ratings.csv': mixedInteractions() });
  const schema = await pgSchema('deepcut_export');
  const store = await openStore({ home: join(root, 'pg'), databaseUrl: schema.databaseUrl });
  try {
    await filled(store, dir);
    await roundTrip(store, dir, 'postgres');
  } finally {
    await store.close();
    await schema.drop();
  }
});

test('export to a stream writes JSON lines without nulls, instants in UTC with µs, in key order', async () => {
  const dir = folder({ ...catalog, 'ratings.csv': 'u1,b,2\nu1,a,1,1714560000\n' });
  await withStore(async (store) => {
    for (const f of CATALOG_FILES) await importPath(store, 'jsonl', join(dir, f), opts);
    await importPath(store, 'interactions', join(dir, 'ratings.csv'), opts);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const r = await exportEntity(store, 'interactions', 'jsonl', out);
    assert.equal(r.out, '-');
    const text = Buffer.concat(chunks).toString('utf8');
    assert.doesNotMatch(text, /null/);
    assert.deepEqual(
      text.trimEnd().split('\n').map((l) => JSON.parse(l)),
      [
        { user_id: 'u1', item_id: 'a', item_kind: 'track', weight: 1, at: '2024-05-01T10:40:00.000000Z' },
        { user_id: 'u1', item_id: 'b', item_kind: 'track', weight: 2 },
      ],
    );
  });
});

test('export playlists: one row per track in playlist and position order, in every format', async () => {
  const p = (id: string, user: string, tracks: string[]) => ({
    kind: 'discover-weekly',
    id,
    title: 'Discover Weekly',
    userId: user,
    key: '2024-05-27',
    createdAt: '2024-05-27T03:00:00.000Z',
    runId: 'r1',
    tracks: tracks.map((t, i) => ({ trackId: t, title: `T ${t}`, artists: ['Alpha', 'Beta, "B"'], durationMs: 1000 * (i + 1), reason: `because ${t}`, reasonKind: 'artist', source: 'cf' })),
  });
  const dir = folder({ 'discover-weekly.jsonl': jl([p('dw:u2', 'u2', ['t3']), p('dw:u1', 'u1', ['t1', 't2'])]) });
  const expected = [
    ['dw:u1', 1, 't1'],
    ['dw:u1', 2, 't2'],
    ['dw:u2', 1, 't3'],
  ];
  for (const format of lakeFormats) {
    const file = join(dir, `playlists.${format}`);
    const r = await exportPlaylists([join(dir, 'discover-weekly.jsonl')], format, file);
    assert.equal(r.rows, 3);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(':memory:');
    const c = await inst.connect();
    const reader = format === 'parquet' ? `read_parquet('${file}')` : format === 'csv' ? `read_csv('${file}', header = true)` : `read_json('${file}', format = 'newline_delimited')`;
    const rows = (await c.runAndReadAll(`SELECT playlist_id, position, track_id, CAST(artists AS VARCHAR), user_id FROM ${reader}`)).getRows();
    c.closeSync();
    inst.closeSync();
    assert.deepEqual(rows.map((x) => [x[0], Number(x[1]), x[2]]), expected, format);
    assert.match(String(rows[0][3]), /Beta, \\?"B\\?"/);
    assert.equal(rows[2][4], 'u2');
  }
  if (lakeFormats.includes('jsonl')) assert.match(readFileSync(join(dir, 'playlists.jsonl'), 'utf8').split('\n')[0], /"created_at":"2024-05-27T03:00:00.000000Z"/);
  await assert.rejects(exportPlaylists([], 'csv', join(dir, 'none.csv')), /no playlists/);
});
