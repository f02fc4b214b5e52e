import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../store/index.ts';
import { pgDown, pgSchema } from '../store/testing/postgres.ts';
import { importPath, type ImportOptions, type ImportSummary } from './import.ts';
import { DIRECT } from './bulk.ts';
import { importSandbox, jl } from './import.testkit.ts';
import { latestValidation } from '../validate/index.ts';
import { bulkRows, CATALOG_FILES, mixedHetrec, mixedInteractions, mixedListens, mixedListensCsv, NOW, catalog } from './bulk.testkit.ts';

const { root, folder, withStore } = importSandbox('bulk');
const opts: ImportOptions = { clock: () => NOW };

/** Everything an import leaves in the store that the two paths must agree on. */
async function outcome(store: Store, s: ImportSummary, kind: 'listens' | 'interactions') {
  const quarantine = (await store.listQuarantine()).map(({ id: _id, quarantined_at: _at, file, ...r }) => ({ ...r, file: file.split('/').pop() }));
  const validation = await latestValidation(store);
  return {
    rows: await bulkRows(store, kind),
    quarantine,
    counts: s.totals,
    validation: validation.filter((v) => v.entity === kind).map((v) => ({ status: v.status, rows_read: v.rows_read, imported: v.imported, anomalies: v.anomalies })),
    users: await store.list('users'),
    userValidation: validation.filter((v) => v.entity === 'users').map((v) => ({ status: v.status, rows_read: v.rows_read, imported: v.imported, anomalies: v.anomalies })),
  };
}

async function bothPaths(files: Record<string, string | Buffer>, format: string, path: (dir: string) => string, kind: 'listens' | 'interactions', extra: ImportOptions = {}) {
  const dir = folder(files);
  const run = (bulk: 'on' | 'off') =>
    withStore(async (store) => {
      for (const f of CATALOG_FILES) await importPath(store, 'jsonl', join(dir, f), opts);
      const s = await importPath(store, format, path(dir), { ...opts, ...extra, bulk });
      return { ...(await outcome(store, s, kind)), notes: s.files.flatMap((f) => f.notes.map((n) => n.what)) };
    });
  return { streamed: await run('off'), bulk: await run('on') };
}

/** The two paths left the same rows, quarantine records, counts and validation verdicts. */
function sameOutcome(bulk: Awaited<ReturnType<typeof bothPaths>>['bulk'], streamed: Awaited<ReturnType<typeof bothPaths>>['streamed']): void {
  assert.deepEqual(bulk.rows, streamed.rows);
  assert.deepEqual(bulk.quarantine, streamed.quarantine);
  assert.deepEqual(bulk.counts, streamed.counts);
  assert.deepEqual(bulk.validation, streamed.validation);
}

test('bulk and streaming import the same mixed listens file row for row: the same rows, quarantine records, counts and anomalies', async () => {
  const { streamed, bulk } = await bothPaths({ ...catalog, 'listens.jsonl': mixedListens() }, 'jsonl', (d) => join(d, 'listens.jsonl'), 'listens');
  assert.ok(streamed.rows.length > 10 && streamed.quarantine.length > 10, 'the file mixes good and bad rows');
  sameOutcome(bulk, streamed);
  assert.ok(bulk.notes.some((n) => /read by DuckDB \(bulk import\), \d+ of them checked one by one/.test(n) && Number(/, (\d+) of them/.exec(n)![1]) < 50), `SQL clears the plain rows: ${bulk.notes}`);
  assert.ok(!streamed.notes.some((n) => n.includes('DuckDB')));
});

test('bulk import stored in chunks of a few lines, with keys repeated across chunks, keeps the first row of each key as streaming does', async () => {
  // the key refuses the chunk that repeats a key stored by an earlier chunk: the rows are then deduplicated and the chunks go again, stored keys left out
  const text = mixedListens();
  const ids = text.split('\n').map((l) => /"listen_id":"([^"]*)"/.exec(l)?.[1]);
  const chunk = (i: number) => Math.floor(i / 4);
  assert.ok(
    ids.some((id, i) => id !== undefined && chunk(ids.indexOf(id)) < chunk(i)),
    'a key repeats in a later chunk (4 lines) than its first line',
  );
  const { streamed, bulk } = await bothPaths({ ...catalog, 'listens.jsonl': text }, 'jsonl', (d) => join(d, 'listens.jsonl'), 'listens', { bulkChunkLines: 4 });
  sameOutcome(bulk, streamed);
  assert.ok(bulk.counts.listens!.duplicates > 0, JSON.stringify(bulk.counts));
});

test('bulk and streaming import the same mixed interactions CSV row for row', async () => {
  const { streamed, bulk } = await bothPaths({ ...catalog, 'ratings.csv': mixedInteractions() }, 'interactions', (d) => join(d, 'ratings.csv'), 'interactions');
  assert.ok(streamed.rows.length > 5 && streamed.quarantine.length > 5, 'the file mixes good and bad rows');
  sameOutcome(bulk, streamed);
});

test("bulk and streaming import the same mixed listens in deepcut's own CSV row for row", async () => {
  const { streamed, bulk } = await bothPaths({ ...catalog, 'listens.csv': mixedListensCsv() }, 'csv', (d) => join(d, 'listens.csv'), 'listens');
  assert.ok(streamed.rows.length > 20 && streamed.quarantine.length > 5, 'the file mixes good and bad rows');
  sameOutcome(bulk, streamed);
  assert.ok(bulk.notes.some((n) => /read by DuckDB \(bulk import\), \d+ of them checked one by one/.test(n) && Number(/, (\d+) of them/.exec(n)![1]) < 20), `SQL clears the plain rows: ${bulk.notes}`);
  assert.ok(bulk.notes.includes('ignored column note (not a field of listens)'), bulk.notes.join('; '));
});

test('bulk and streaming import the same HetRec user_artists.dat: interactions, the users it makes, quarantine, counts', async () => {
  const { streamed, bulk } = await bothPaths({ ...catalog, ...mixedHetrec() }, 'hetrec-lastfm', (d) => d, 'interactions');
  assert.ok(streamed.rows.length > 15 && streamed.quarantine.length >= 4, 'the file mixes good and bad rows');
  assert.ok(streamed.counts.users!.read >= 8, JSON.stringify(streamed.counts));
  sameOutcome(bulk, streamed);
  assert.deepEqual(bulk.users, streamed.users);
  assert.deepEqual(bulk.userValidation, streamed.userValidation);
  assert.ok(bulk.notes.some((n) => /read by DuckDB \(bulk import\), \d+ of them checked one by one/.test(n)), bulk.notes.join('; '));
});

test('a CSV file with a quoted field over several lines goes the streaming way, with the same outcome', async () => {
  const text = mixedListensCsv().replace('"a, b"', '"a,\nb"');
  const { streamed, bulk } = await bothPaths({ ...catalog, 'listens.csv': text }, 'csv', (d) => join(d, 'listens.csv'), 'listens');
  assert.ok(streamed.rows.some((r) => (r as { listen_id: string }).listen_id === 'e11'));
  assert.deepEqual(bulk.rows, streamed.rows);
  assert.deepEqual(bulk.quarantine, streamed.quarantine);
  assert.ok(!bulk.notes.some((n) => n.includes('DuckDB')), bulk.notes.join('; '));
});

test('bulk import: re-importing the file adds nothing, and a forced re-read counts every row as a duplicate or quarantined again', async () => {
  const dir = folder({ ...catalog, 'listens.jsonl': mixedListens() });
  await withStore(async (store) => {
    for (const f of CATALOG_FILES) await importPath(store, 'jsonl', join(dir, f), opts);
    const first = await importPath(store, 'jsonl', join(dir, 'listens.jsonl'), { ...opts, bulk: 'on' });
    const rows = await bulkRows(store, 'listens');
    const q = (await store.listQuarantine()).length;
    const again = await importPath(store, 'jsonl', join(dir, 'listens.jsonl'), { ...opts, bulk: 'on' });
    assert.equal(again.files[0].status, 'unchanged');
    const forced = await importPath(store, 'jsonl', join(dir, 'listens.jsonl'), { ...opts, bulk: 'on', force: true });
    const f = forced.totals.listens!;
    assert.equal(f.imported, 0);
    assert.equal(f.read, first.totals.listens!.read);
    assert.equal(f.read, f.imported + f.duplicates + f.quarantined);
    assert.deepEqual(await bulkRows(store, 'listens'), rows);
    assert.equal((await store.listQuarantine()).length, q, 'quarantined rows are not kept twice');
  });
});

test('bulk import: statistics come from SQL aggregates and feed the same schema inference (a domain inferred for platform)', async () => {
  const rows = Array.from({ length: 120 }, (_, i) => ({ listen_id: `p${i}`, user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 1000 + i, platform: i % 2 ? 'ios' : 'web' }));
  const dir = folder({ ...catalog, 'listens.jsonl': jl(rows), 'listens-2.jsonl': jl([{ ...rows[0], listen_id: 'x1', platform: 'fridge' }]) });
  await withStore(async (store) => {
    for (const f of CATALOG_FILES) await importPath(store, 'jsonl', join(dir, f), opts);
    const s = await importPath(store, 'jsonl', join(dir, 'listens.jsonl'), { ...opts, bulk: 'on' });
    assert.equal(s.totals.listens!.imported, 120);
    const s2 = await importPath(store, 'jsonl', join(dir, 'listens-2.jsonl'), { ...opts, bulk: 'on', entity: 'listens' });
    assert.equal(s2.totals.listens!.quarantined, 1);
    const [q] = await store.listQuarantine();
    assert.equal(q.code, 'unknown_enum');
    assert.equal(q.field, 'platform');
  });
});

/** Run the kill child to `stage`; resolves when it is dead. */
function killAt(storeOpts: object, file: string, stage: string): Promise<number | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bulk-kill.testkit.ts', import.meta.url)), JSON.stringify(storeOpts), file, stage], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // the killed child's own scratch (the PostgreSQL path's work folder) goes into the sandbox, removed with it
    env: { ...process.env, TMPDIR: root },
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(null) : reject(new Error(`kill child exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** SIGKILL the bulk import at each stage, run it again: the same rows and quarantine as a clean import. */
async function killAndRerun(
  t: TestContext,
  stages: string[],
  open: (name: string) => Promise<{ opts: { home: string; databaseUrl?: string }; drop(): Promise<void> }>,
  listens: (dir: string) => Promise<string> = async (dir) => (writeFileSync(join(dir, 'listens.jsonl'), mixedListens()), join(dir, 'listens.jsonl')),
) {
  const dir = folder({ ...catalog });
  const file = await listens(dir);
  const format = file.endsWith('.parquet') ? 'parquet' : 'jsonl';
  const seed = async (store: Store) => {
    for (const f of CATALOG_FILES) await importPath(store, 'jsonl', join(dir, f), opts);
  };
  const snapshot = async (store: Store) => ({ rows: await bulkRows(store, 'listens'), quarantine: (await store.listQuarantine()).map(({ id: _i, quarantined_at: _q, ...r }) => r) });
  const cleanDb = await open('clean');
  let clean;
  try {
    const store = await openStore(cleanDb.opts);
    await seed(store);
    const stages: string[] = [];
    await importPath(store, format, file, { ...opts, bulk: 'on', entity: 'listens', onStage: (x) => stages.push(x.detail ?? x.stage) });
    if (format === 'parquet') assert.ok(stages.includes(DIRECT), `stored straight from the file: ${stages}`);
    clean = await snapshot(store);
    await store.close();
  } finally {
    await cleanDb.drop();
  }
  for (const stage of stages) {
    await t.test(`killed at ${stage}`, async () => {
      const db = await open(stage);
      try {
        let store = await openStore(db.opts);
        await seed(store);
        await store.close();
        await killAt(db.opts, file, stage);
        store = await openStore(db.opts);
        try {
          const s = await importPath(store, format, file, { ...opts, bulk: 'on', entity: 'listens' });
          assert.equal(s.files[0].status, stage === 'after' ? 'unchanged' : 'imported');
          const again = await snapshot(store);
          assert.deepEqual(again, clean);
          const c = s.totals.listens;
          if (c) assert.equal(c.read, c.imported + c.duplicates + c.quarantined);
        } finally {
          await store.close();
        }
      } finally {
        await db.drop();
      }
    });
  }
}

test('bulk import into DuckDB killed with SIGKILL at every stage and run again ends with the rows of a clean import', async (t) => {
  await killAndRerun(t, ['staged', 'inserted', 'quarantined', 'after'], async (name) => ({ opts: { home: join(root, `kill-${name}-${process.pid}`) }, drop: async () => {} }));
});

test('bulk import of a plainly valid Parquet file (stored straight from the file) killed with SIGKILL at every stage and run again ends with the rows of a clean import', async (t) => {
  const listens = async (dir: string) => {
    const file = join(dir, 'listens.parquet');
    const inst = await DuckDBInstance.create(':memory:');
    const c = await inst.connect();
    await c.run(`COPY (SELECT 'k' || i AS listen_id, 'u' || (1 + i % 2) AS user_id, 't' || (1 + i % 2) AS track_id, TIMESTAMPTZ '2024-05-01 12:00:00+00' + INTERVAL (i) SECOND AS started_at, CAST(i AS INTEGER) AS ms_played FROM range(3000) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
    c.closeSync();
    inst.closeSync();
    return file;
  };
  await killAndRerun(t, ['staged', 'inserted', 'quarantined', 'after'], async (name) => ({ opts: { home: join(root, `kill-pq-${name}-${process.pid}`) }, drop: async () => {} }), listens);
});

test('bulk import into PostgreSQL killed with SIGKILL at every stage and run again ends with the rows of a clean import', async (t) => {
  const down = await pgDown();
  if (down && process.env.CI !== 'true') return t.skip(down);
  await killAndRerun(t, ['judged', 'inserted'], async () => {
    const s = await pgSchema('deepcut_bulk_kill');
    return { opts: { home: root, databaseUrl: s.databaseUrl }, drop: s.drop };
  });
});

test('bulk import into PostgreSQL (COPY FROM STDIN) stores the same rows and quarantine as the streaming path into DuckDB', async (t) => {
  const down = await pgDown();
  if (down && process.env.CI !== 'true') return t.skip(down);
  const dir = folder({ ...catalog, 'listens.jsonl': mixedListens() });
  const run = async (databaseUrl?: string) => {
    const store = await openStore({ home: join(root, `pg-cmp-${databaseUrl ? 'pg' : 'duck'}`), databaseUrl });
    try {
      for (const f of CATALOG_FILES) await importPath(store, 'jsonl', join(dir, f), opts);
      const s = await importPath(store, 'jsonl', join(dir, 'listens.jsonl'), { ...opts, bulk: databaseUrl ? 'on' : 'off' });
      return await outcome(store, s, 'listens');
    } finally {
      await store.close();
    }
  };
  const streamed = await run();
  const schema = await pgSchema('deepcut_bulk_pg');
  try {
    const bulk = await run(schema.databaseUrl);
    assert.deepEqual(bulk.rows, streamed.rows);
    assert.deepEqual(bulk.quarantine, streamed.quarantine);
    assert.deepEqual(bulk.counts, streamed.counts);
  } finally {
    await schema.drop();
  }
});

test('the work folder a killed bulk import left behind is removed by the next one; a running process keeps its own', async () => {
  const { removeStaleWork } = await import('./bulk.ts');
  const { spawnSync } = await import('node:child_process');
  const { mkdirSync, existsSync } = await import('node:fs');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: no process with this id now
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = folder({});
  try {
    const stale = join(process.env.TMPDIR, `deepcut-bulkwork-${dead}-abc123`);
    const mine = join(process.env.TMPDIR, `deepcut-bulkwork-${process.pid}-def456`);
    const other = join(process.env.TMPDIR, `deepcut-bulk-${dead}`);
    for (const d of [stale, mine, other]) mkdirSync(d);
    removeStaleWork();
    assert.deepEqual([stale, mine, other].map(existsSync), [false, true, true]);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
