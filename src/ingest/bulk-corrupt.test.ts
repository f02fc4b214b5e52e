import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { importPath, type ImportOptions } from './import.ts';
import { importSandbox, jl } from './import.testkit.ts';
import { bulkRows, CATALOG_FILES, catalog, NOW } from './bulk.testkit.ts';
import type { Store } from '../store/index.ts';
import { latestValidation } from '../validate/index.ts';
import { DIRECT, keysNearInOrder } from './bulk.ts';
import { createHash } from 'node:crypto';

const { folder, withStore } = importSandbox('bulk-corrupt');
const L = (id: string, o: object = {}) => ({ listen_id: id, user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 1000, ...o });

/** Import the catalog, then `file` with the bulk path on; the summary, the stages passed, the quarantine. */
async function bulkImport(store: Store, dir: string, format: string, file: string, extra: ImportOptions = {}) {
  for (const f of CATALOG_FILES) await importPath(store, 'jsonl', join(dir, f), { clock: () => NOW });
  const stages: string[] = [];
  const s = await importPath(store, format, file, { clock: () => NOW, bulk: 'on', entity: 'listens', onStage: (x) => stages.push(x.detail ? `${x.stage}: ${x.detail}` : x.stage), ...extra });
  return { s, stages, q: await store.listQuarantine() };
}

test('bulk: a BOM and CRLF line ends are read by DuckDB, lines numbered as the streaming path numbers them', async () => {
  const text = '\ufeff' + [JSON.stringify(L('a')), JSON.stringify(L('b', { ms_played: -1 })), '', JSON.stringify(L('c'))].join('\r\n') + '\r\n';
  const dir = folder({ ...catalog, 'listens.jsonl': text });
  await withStore(async (store) => {
    const { s, stages, q } = await bulkImport(store, dir, 'jsonl', join(dir, 'listens.jsonl'));
    assert.ok(stages.includes('inserted') && !stages.some((x) => x.startsWith('streamed')), stages.join());
    assert.deepEqual(s.totals.listens, { read: 3, imported: 2, duplicates: 0, quarantined: 1 });
    assert.deepEqual(q.map((r) => [r.file.split('/').pop(), r.line, r.field, r.code]), [['listens.jsonl', 2, 'ms_played', 'out_of_range']]);
    assert.deepEqual((await bulkRows(store, 'listens')).map((r) => (r as { listen_id: string }).listen_id), ['a', 'c']);
  });
});

test('bulk: a truncated last line is quarantined as invalid JSON naming its line, the rest imported', async () => {
  const dir = folder({ ...catalog, 'listens.jsonl': jl([L('a'), L('b')]) + '{"listen_id":"c","user_' });
  await withStore(async (store) => {
    const { s, q } = await bulkImport(store, dir, 'jsonl', join(dir, 'listens.jsonl'));
    assert.equal(s.totals.listens!.imported, 2);
    assert.deepEqual(q.map((r) => [r.line, r.code]), [[3, 'invalid_json']]);
  });
});

test('bulk: bytes that are not UTF-8 send the file the streaming way, which quarantines that line as `encoding` and imports the rest', async () => {
  const bad = Buffer.concat([Buffer.from(JSON.stringify(L('b', { context: 'Bj' })).replace('Bj"', 'Bj')), Buffer.from([0xf6]), Buffer.from('rk"}')]);
  const dir = folder({ ...catalog, 'listens.jsonl': Buffer.concat([Buffer.from(JSON.stringify(L('a')) + '\n'), bad, Buffer.from('\n' + JSON.stringify(L('c')) + '\n')]) });
  await withStore(async (store) => {
    const { s, stages, q } = await bulkImport(store, dir, 'jsonl', join(dir, 'listens.jsonl'));
    assert.deepEqual(stages, ['streamed: bytes that are not UTF-8']);
    assert.equal(s.totals.listens!.imported, 2);
    assert.deepEqual(q.map((r) => [r.file.split('/').pop(), r.line, r.code]), [['listens.jsonl', 2, 'encoding']]);
    assert.match(q[0].reason, /not valid UTF-8/);
  });
});

test('bulk: a 20 MB line sends the file the streaming way, which quarantines it as `line_too_long` and imports the rest', async () => {
  const dir = folder({ ...catalog, 'listens.jsonl': jl([L('a'), L('big', { context: 'x'.repeat(20 * 1024 * 1024) }), L('c')]) });
  await withStore(async (store) => {
    const { s, stages, q } = await bulkImport(store, dir, 'jsonl', join(dir, 'listens.jsonl'));
    assert.deepEqual(stages, ['streamed: a line over the size limit']);
    assert.equal(s.totals.listens!.imported, 2);
    assert.deepEqual(q.map((r) => [r.line, r.code]), [[2, 'line_too_long']]);
  });
});

test('bulk: LF and CRLF line ends mixed in one file go the streaming way (one row per line either way)', async () => {
  const dir = folder({ ...catalog, 'listens.jsonl': JSON.stringify(L('a')) + '\r\n' + JSON.stringify(L('b')) + '\n' + JSON.stringify(L('c', { ms_played: 'x' })) + '\n' });
  await withStore(async (store) => {
    const { s, stages, q } = await bulkImport(store, dir, 'jsonl', join(dir, 'listens.jsonl'));
    assert.deepEqual(stages, ['streamed: both LF and CRLF line ends']);
    assert.equal(s.totals.listens!.imported, 2);
    assert.deepEqual(q.map((r) => [r.line, r.field, r.code]), [[3, 'ms_played', 'wrong_type']]);
  });
});

/** Write `rows` (SQL VALUES of listens columns) to a Parquet file with row groups of `group` rows. */
async function parquet(file: string, select: string, group = 2): Promise<void> {
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  try {
    await c.run("SET TimeZone = 'UTC'");
    await c.run(`COPY (${select}) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE ${group})`);
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

const ROWS = `SELECT * FROM (VALUES
  ('p1', 'u1', 't1', TIMESTAMPTZ '2024-05-01 12:00:00+00', 1000, 'trackdone', false),
  ('p2', 'u1', 't1', TIMESTAMPTZ '2024-05-01 12:00:01.123456+00', 2000, 'fwdbtn', true),
  ('p3', 'u1', 'nope', TIMESTAMPTZ '2024-05-01 12:00:02+00', 3000, 'fwdbtn', true),
  ('p4', 'u1', 't1', TIMESTAMPTZ '2024-05-01 12:00:03+00', -5, 'fwdbtn', true),
  ('p5', 'u2', 't2', TIMESTAMPTZ '1999-05-01 12:00:00+00', 5, 'bored', true),
  ('p6', 'u2', 't2', TIMESTAMPTZ '2024-05-01 12:00:04+00', 6, 'endplay', false)
) t(listen_id, user_id, track_id, started_at, ms_played, reason_end, skipped)`;

test('bulk: Parquet listens import like the same rows as JSON lines; bad rows are quarantined naming the row group and row', async () => {
  const dir = folder({ ...catalog });
  await parquet(join(dir, 'listens.parquet'), ROWS);
  const asJson = [
    L('p1', { ms_played: 1000, reason_end: 'trackdone', skipped: false }),
    L('p2', { started_at: '2024-05-01T12:00:01.123456Z', ms_played: 2000, reason_end: 'fwdbtn', skipped: true }),
    L('p6', { user_id: 'u2', track_id: 't2', started_at: '2024-05-01T12:00:04Z', ms_played: 6, reason_end: 'endplay', skipped: false }),
  ];
  writeFileSync(join(dir, 'listens.jsonl'), jl(asJson));
  const fromJson = await withStore(async (store) => (await bulkImport(store, dir, 'jsonl', join(dir, 'listens.jsonl'))) && bulkRows(store, 'listens'));
  await withStore(async (store) => {
    const { s, q } = await bulkImport(store, dir, 'parquet', join(dir, 'listens.parquet'));
    assert.deepEqual(s.totals.listens, { read: 6, imported: 3, duplicates: 0, quarantined: 3 });
    assert.deepEqual(await bulkRows(store, 'listens'), fromJson);
    assert.deepEqual(
      q.map((r) => [r.line, r.field, r.code, r.format]),
      [
        [3, 'track_id', 'unknown_id', 'jsonl'],
        [4, 'ms_played', 'out_of_range', 'jsonl'],
        [5, 'reason_end', 'unknown_enum', 'jsonl'], // the schema is checked before the time window, as in the streaming path
      ],
    );
    assert.match(q[0].reason, /\(Parquet row group 0, row 2\)$/);
    assert.equal(JSON.parse(q[1].raw).ms_played, -5, 'the raw record is the row as a deepcut JSON object (replayable)');
  });
});

test('bulk: a Parquet row is located by row group and row within it', async () => {
  const dir = folder({ ...catalog });
  await parquet(join(dir, 'listens.parquet'), `SELECT 'r' || i AS listen_id, 'u1' AS user_id, 't1' AS track_id, TIMESTAMPTZ '2024-05-01 12:00:00+00' AS started_at, CAST(CASE WHEN i = 3000 THEN -1 ELSE i END AS INTEGER) AS ms_played FROM range(5000) t(i)`, 2048);
  await withStore(async (store) => {
    const { s, q } = await bulkImport(store, dir, 'parquet', join(dir, 'listens.parquet'));
    assert.equal(s.totals.listens!.imported, 4999);
    assert.deepEqual(q.map((r) => [r.line, r.field, r.code]), [[3001, 'ms_played', 'out_of_range']]);
    assert.match(q[0].reason, /\(Parquet row group 1, row 952\)$/);
  });
});

test('bulk: a Parquet file whose rows are all plainly valid is stored straight from the file, with the rows, counts and validation of the same rows as JSON lines', async () => {
  const dir = folder({ ...catalog });
  await parquet(join(dir, 'listens.parquet'), `SELECT * FROM (${ROWS}) WHERE listen_id IN ('p1', 'p2', 'p6')`);
  const asJson = [
    L('p1', { ms_played: 1000, reason_end: 'trackdone', skipped: false }),
    L('p2', { started_at: '2024-05-01T12:00:01.123456Z', ms_played: 2000, reason_end: 'fwdbtn', skipped: true }),
    L('p6', { user_id: 'u2', track_id: 't2', started_at: '2024-05-01T12:00:04Z', ms_played: 6, reason_end: 'endplay', skipped: false }),
  ];
  writeFileSync(join(dir, 'listens.jsonl'), jl(asJson));
  const outcome = async (store: Store, format: string, file: string) => {
    const { s, stages } = await bulkImport(store, dir, format, join(dir, file));
    const v = (await latestValidation(store)).filter((x) => x.entity === 'listens').map((x) => ({ status: x.status, rows_read: x.rows_read, imported: x.imported, anomalies: x.anomalies }));
    return { rows: await bulkRows(store, 'listens'), counts: s.totals, v, stages, notes: s.files[0].notes.map((n) => n.what) };
  };
  const fromJson = await withStore((store) => outcome(store, 'jsonl', 'listens.jsonl'));
  await withStore(async (store) => {
    const got = await outcome(store, 'parquet', 'listens.parquet');
    assert.deepEqual(got.counts.listens, { read: 3, imported: 3, duplicates: 0, quarantined: 0 });
    assert.deepEqual([got.rows, got.counts, got.v], [fromJson.rows, fromJson.counts, fromJson.v]);
    assert.deepEqual(got.stages, [`staged: ${DIRECT}`, 'judged', 'inserted', 'quarantined']);
    assert.ok(got.notes.includes('rows read by DuckDB (bulk import), 0 of them checked one by one'), got.notes.join('; '));
    const again = await importPath(store, 'parquet', join(dir, 'listens.parquet'), { clock: () => NOW, bulk: 'on', entity: 'listens', force: true });
    assert.deepEqual(again.totals.listens, { read: 3, imported: 0, duplicates: 3, quarantined: 0 }, 'stored keys are left out');
  });
});

test('bulk: a plainly valid Parquet file that repeats a key keeps the first row of it, in one chunk or over chunks, and counts the repeat as a duplicate', async () => {
  // the key of row 2 again at row 5: the key refuses the direct insert, the file goes the staged way, the chunks stored before stay counted as imported;
  // sequential ids are inserted as they come, hashed ones sorted first (keysNearInOrder)
  for (const id of [`'r' || i`, `md5('r' || i)`]) {
    const dir = folder({ ...catalog });
    await parquet(join(dir, 'listens.parquet'), `SELECT ${id.replace(/\bi\b/, 'CASE WHEN i = 5 THEN 2 ELSE i END')} AS listen_id, 'u1' AS user_id, 't1' AS track_id, TIMESTAMPTZ '2024-05-01 12:00:00+00' AS started_at, CAST(100 + i AS INTEGER) AS ms_played FROM range(8) t(i)`);
    for (const bulkChunkLines of [undefined, 4]) {
      await withStore(async (store) => {
        const { s, stages } = await bulkImport(store, dir, 'parquet', join(dir, 'listens.parquet'), bulkChunkLines ? { bulkChunkLines } : {});
        assert.deepEqual(stages, [`staged: ${DIRECT}`, 'judged', 'staged', 'judged', 'inserted', 'quarantined'], 'tried straight, then staged');
        assert.deepEqual(s.totals.listens, { read: 8, imported: 7, duplicates: 1, quarantined: 0 }, `${id}, chunks of ${bulkChunkLines ?? 'all'} rows`);
        const played = ((await bulkRows(store, 'listens')) as { ms_played: number }[]).map((r) => r.ms_played).sort();
        assert.deepEqual(played, [100, 101, 102, 103, 104, 106, 107], 'the first row of the key is kept');
      });
    }
  }
});

test('keysNearInOrder: sequential ids share most of their length with the one before, hashed ids nearly nothing', () => {
  const seq = Array.from({ length: 1000 }, (_, i) => `l${41_000 + i}`);
  assert.equal(keysNearInOrder(seq), true);
  const hashed = seq.map((k) => createHash('md5').update(k).digest('hex'));
  assert.equal(keysNearInOrder(hashed), false);
  assert.equal(keysNearInOrder([...seq].reverse()), true, 'the order of the run does not matter, only its neighbours');
  assert.equal(keysNearInOrder(['x']), true);
});

test('bulk: a Parquet column of the wrong type quarantines its rows as wrong_type naming the field', async () => {
  const dir = folder({ ...catalog });
  await parquet(join(dir, 'listens.parquet'), `SELECT listen_id, user_id, track_id, started_at, CAST(ms_played AS VARCHAR) AS ms_played FROM (${ROWS}) LIMIT 2`);
  await withStore(async (store) => {
    const { s, q } = await bulkImport(store, dir, 'parquet', join(dir, 'listens.parquet'));
    assert.equal(s.totals.listens!.quarantined, 2);
    assert.deepEqual(q.map((r) => [r.line, r.field, r.code]), [[1, 'ms_played', 'wrong_type'], [2, 'ms_played', 'wrong_type']]);
  });
});

test('bulk: a Parquet file with a corrupt footer is a clear invalid_input error naming the file', async () => {
  const dir = folder({ ...catalog });
  const file = join(dir, 'listens.parquet');
  await parquet(file, ROWS);
  const b = readFileSync(file);
  b.fill(0x41, b.length - 12, b.length - 4); // the footer length and metadata end
  writeFileSync(file, b);
  await withStore(async (store) => {
    await assert.rejects(bulkImport(store, dir, 'parquet', file), (e: Error & { code?: string; where?: { file?: string } }) => {
      assert.match(e.message, /listens\.parquet: not a readable Parquet file/);
      assert.equal(e.code, 'invalid_input');
      assert.equal(e.where?.file, file);
      return true;
    });
  });
});
