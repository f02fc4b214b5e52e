/**
 * `npm run bench -- import [--rows N] [--streaming]`: 1M listens imported end to end (framing,
 * parse, row checks, keyed insert, statistics and validation) by the bulk path (ingest/bulk.ts):
 * from JSON lines and from Parquet into the embedded store, and from JSON lines into PostgreSQL
 * (BENCH_DATABASE_URL, default the machine's server, in a throwaway schema). Each run is its own
 * child process, so peak RSS figures are separate (flat memory = the 5M peak within 20% of the
 * 1M peak). `--streaming` adds the streaming path (HTTP ingestion's and small files') on 1M.
 * `--only jsonl,parquet,postgres` runs just those 1M imports (no 5M run, so no RSS growth figure):
 * for measuring a change quickly, before and after, in the same conditions.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './bench.ts';
import { flag, peakRssMb } from './bench.ts';
import { Rng } from '../src/util/rng.ts';
import type { PutResult } from '../src/store/store.ts';
import type { EntityKind, EntityRow } from '../src/domain/schemas.ts';
import { MemoryStore } from '../src/store/testing/memory.ts';

const USERS = 2_000;
const TRACKS = 20_000;
const ARTISTS = 2_000;

async function writeLines(file: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += line(i) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

/** Write a catalog and `n` listens (seeded) into `dir`. */
export async function writeWorld(dir: string, n: number, seed = 42): Promise<void> {
  const rng = new Rng(seed);
  await writeLines(join(dir, 'artists.jsonl'), ARTISTS, (i) => JSON.stringify({ artist_id: `a${i}`, name: `Artist ${i}` }));
  await writeLines(join(dir, 'tracks.jsonl'), TRACKS, (i) =>
    JSON.stringify({ track_id: `t${i}`, title: `Track ${i}`, artist_ids: [`a${i % ARTISTS}`], duration_ms: 120_000 + (i % 180) * 1000, release_date: '2020-01-01' }),
  );
  await writeLines(join(dir, 'users.jsonl'), USERS, (i) => JSON.stringify({ user_id: `u${i}` }));
  const t0 = Date.parse('2023-01-01T00:00:00Z');
  const reasons = ['trackdone', 'fwdbtn', 'endplay'];
  await writeLines(join(dir, 'listens.jsonl'), n, (i) =>
    JSON.stringify({
      listen_id: `l${i}`,
      user_id: `u${rng.int(USERS)}`,
      track_id: `t${rng.int(TRACKS)}`,
      started_at: new Date(t0 + i * 1000).toISOString(),
      ms_played: rng.int(200_000),
      reason_end: reasons[rng.int(3)],
      skipped: rng.next() < 0.2,
      platform: rng.next() < 0.5 ? 'ios' : 'android',
    }),
  );
}

/**
 * The memory store, but listens are counted, not kept: measures the import path without the
 * database (framing, parsing, checks, statistics) and without holding 1M rows in a Map.
 */
class CountingStore extends MemoryStore {
  override async put<K extends EntityKind>(kind: K, rows: readonly EntityRow<K>[]): Promise<PutResult> {
    return kind === 'listens' ? { inserted: rows.length, duplicates: 0 } : super.put(kind, rows);
  }

  override async bulkPut<K extends EntityKind>(kind: K, batches: AsyncIterable<readonly EntityRow<K>[]> | Iterable<readonly EntityRow<K>[]>): Promise<PutResult> {
    if (kind !== 'listens') return super.bulkPut(kind, batches);
    let inserted = 0;
    for await (const b of batches) inserted += b.length;
    return { inserted, duplicates: 0 };
  }
}

type Mode = 'jsonl' | 'parquet' | 'postgres' | 'streaming' | 'no-db';

/** In a child: generate, import, print one JSON line of figures. */
async function child(n: number, mode: Mode): Promise<void> {
  const { openStore } = await import('../src/store/open.ts');
  const { importPath } = await import('../src/ingest/import.ts');
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-bench-import-'));
  let drop = async () => {};
  try {
    await writeWorld(dir, n);
    let file = join(dir, 'listens.jsonl');
    if (mode === 'parquet') {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const inst = await DuckDBInstance.create(':memory:');
      const c = await inst.connect();
      file = join(dir, 'listens.parquet');
      await c.run(
        `COPY (SELECT listen_id, user_id, track_id, CAST(started_at AS TIMESTAMPTZ) AS started_at, ms_played, reason_end, skipped, platform FROM read_json('${join(dir, 'listens.jsonl')}', format = 'newline_delimited', columns = {listen_id: 'VARCHAR', user_id: 'VARCHAR', track_id: 'VARCHAR', started_at: 'VARCHAR', ms_played: 'INTEGER', reason_end: 'VARCHAR', skipped: 'BOOLEAN', platform: 'VARCHAR'})) TO '${file}' (FORMAT parquet)`,
      );
      c.closeSync();
      inst.closeSync();
    }
    let databaseUrl: string | undefined;
    if (mode === 'postgres') {
      const pg = (await import('pg')).default;
      const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
      const schema = `deepcut_bench_import_${process.pid}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      drop = async () => {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
        await admin.end().catch(() => undefined);
      };
      databaseUrl = `${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    }
    const store = mode === 'no-db' ? new CountingStore() : await openStore({ home: join(dir, 'home'), databaseUrl });
    for (const f of ['artists', 'tracks', 'users']) await importPath(store, 'jsonl', join(dir, `${f}.jsonl`));
    const rssBefore = peakRssMb();
    const t = performance.now();
    const cpu = process.cpuUsage();
    // per-phase wall and CPU seconds, from the import's stage events (the last phase: statistics and validation)
    const phases: Record<string, { s: number; cpu_s: number }> = {};
    let mark = { t, cpu: process.cpuUsage() };
    const phase = (name: string) => {
      const u = process.cpuUsage(mark.cpu);
      phases[name] = { s: (performance.now() - mark.t) / 1000, cpu_s: (u.user + u.system) / 1e6 };
      mark = { t: performance.now(), cpu: process.cpuUsage() };
    };
    const s = await importPath(store, mode === 'parquet' ? 'parquet' : 'jsonl', file, { bulk: mode === 'streaming' || mode === 'no-db' ? 'off' : 'on', onStage: (x) => phase(x.stage) });
    phase(Object.keys(phases).length ? 'statistics' : 'import'); // the bulk path's last phase: statistics and validation
    const seconds = (performance.now() - t) / 1000;
    const u = process.cpuUsage(cpu);
    const stored = mode === 'no-db' ? (s.totals.listens?.imported ?? 0) : await store.count('listens');
    await store.close();
    process.stdout.write(JSON.stringify({ rows: s.totals.listens?.read ?? 0, stored, seconds, cpu_s: (u.user + u.system) / 1e6, peak_rss_mb: peakRssMb(), rss_before_mb: rssBefore, phases }) + '\n');
  } finally {
    await drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Run {
  rows: number;
  stored: number;
  seconds: number;
  cpu_s: number;
  peak_rss_mb: number;
  phases: Record<string, { s: number; cpu_s: number }>;
}

/** A run's phases as a note: where its time went (staged = framing, reading, checks, foreign ids; judged = rows checked one by one; inserted = duplicates and the keyed insert). */
const phaseNote = (what: string, r: Run) =>
  `phases of ${what}, wall / CPU s: ${Object.entries(r.phases)
    .filter(([, p]) => p.s >= 0.005)
    .map(([k, p]) => `${k} ${p.s.toFixed(2)} / ${p.cpu_s.toFixed(2)}`)
    .join(', ')}`;

function runChild(n: number, mode: Mode): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(n), '--mode', mode], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`import bench child (${n} rows, ${mode}) failed with status ${r.status}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const bench: Bench = {
  name: 'import',
  description: '1M listens end to end through the bulk import (DuckDB readers, SQL checks, keyed insert, SQL statistics): JSON lines and Parquet into DuckDB, JSON lines into PostgreSQL; 1M and 5M rows in separate processes',
  async run(args) {
    const i = args.indexOf('--rows');
    const big = i >= 0 ? Number(args[i + 1]) : 5_000_000;
    const figures: Record<string, number> = {};
    const notes: string[] = [];
    const loadBefore = loadavg()[0];
    const only = flag(args, 'only')?.split(',');
    const runs = (m: Mode) => !only || only.includes(m);
    const one = runs('jsonl') ? runChild(1_000_000, 'jsonl') : undefined;
    if (one) Object.assign(figures, { rows_per_s: one.rows / one.seconds, import_1m_s: one.seconds, import_1m_cpu_s: one.cpu_s, peak_rss_mb_1m: one.peak_rss_mb });
    const pq = runs('parquet') ? runChild(1_000_000, 'parquet') : undefined;
    if (pq) Object.assign(figures, { rows_per_s_parquet: pq.rows / pq.seconds, import_1m_parquet_s: pq.seconds, import_1m_parquet_cpu_s: pq.cpu_s });
    if (runs('postgres'))
      try {
        const p = runChild(1_000_000, 'postgres');
        Object.assign(figures, { rows_per_s_postgres: p.rows / p.seconds, import_1m_postgres_s: p.seconds, import_1m_postgres_cpu_s: p.cpu_s });
        notes.push(phaseNote("1M JSON lines into PostgreSQL (the server's CPU not counted)", p));
      } catch (e) {
        notes.push(`PostgreSQL skipped: ${(e as Error).message}`);
      }
    const five = only || !one ? undefined : runChild(big, 'jsonl');
    if (five && one)
      Object.assign(figures, { [`rows_per_s_${big / 1e6}m`]: five.rows / five.seconds, [`peak_rss_mb_${big / 1e6}m`]: five.peak_rss_mb, rss_growth_1m_to_big: five.peak_rss_mb / one.peak_rss_mb - 1 });
    if (flag(args, 'streaming') !== undefined || args.includes('--streaming')) {
      const st = runChild(1_000_000, 'streaming');
      Object.assign(figures, { rows_per_s_streaming: st.rows / st.seconds, import_1m_streaming_cpu_s: st.cpu_s });
    }
    if (one) notes.push(phaseNote('1M JSON lines', one));
    if (pq) notes.push(phaseNote('1M Parquet', pq));
    notes.push(
      `listens stored: ${[one, pq, five].flatMap((r) => (r ? [r.stored.toLocaleString('en-US')] : [])).join(', ')}; catalog ${ARTISTS} artists, ${TRACKS} tracks, ${USERS} users imported first`,
      '*_cpu_s: CPU seconds of the importing process, all threads (DuckDB works on its own threads): the figure that depends least on how loaded the machine is. The PostgreSQL server\'s own CPU is not in it.',
      `load average (1 min) ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end: wall-clock figures taken under load are inflated`,
      'statistics of a bulk batch: counts, missing, min, max, mean and std over every row (SQL aggregates); quantiles, histograms and the top values of features with more than 1,000 distinct values from a 10,000-row reservoir sample (TFDV-style)',
    );
    return {
      figures,
      targets: { rows_per_s: '>= 300000', rows_per_s_parquet: '>= 1000000', rows_per_s_postgres: '>= 100000', rss_growth_1m_to_big: '<= 0.2' },
      notes,
    };
  },
};
export default bench;

if (process.argv.includes('--child')) await child(Number(process.argv[process.argv.indexOf('--child') + 1]), (process.argv[process.argv.indexOf('--mode') + 1] ?? 'jsonl') as Mode);
