/**
 * The PostgreSQL write rate for listens, for the capacity model (docs/scale.md): COPY of listens in
 * batches (as the bulk import and the API nodes' group commits write them) into (a) the store's
 * `listens` table shape (primary key on listen_id, indexes on user_id and started_at) and (b) the
 * same table range-partitioned by day on started_at (primary key (listen_id, started_at): a
 * partitioned table's keys must hold the partition key). Rows/s, and the CPU seconds of the
 * PostgreSQL backend (from /proc: the server runs on this machine) and of this process per 100,000
 * listens. Each run uses a schema of its own, dropped after. Args: `--rows N` (default 400,000),
 * `--batch N` (default 10,000), `--days N` (default 7: the listens spread over that many daily
 * partitions). Needs DATABASE_URL or PostgreSQL on 127.0.0.1:5432, database `test`.
 */
import { readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import os from 'node:os';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Bench } from './bench.ts';
import { numFlag } from './bench.ts';
import { Rng } from '../src/util/rng.ts';

const COLS = 'listen_id, user_id, track_id, started_at, ms_played, reason_end, skipped, context, platform';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);

/** utime + stime of a process in seconds (/proc, 100 ticks a second). */
function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** `rows` listens as COPY text, `batch` rows per chunk: 100,000 users, 1M tracks, spread over `days`. */
function* batches(rows: number, batch: number, days: number, seed: number): Generator<string> {
  const rng = new Rng(seed);
  for (let s = 0; s < rows; s += batch) {
    const lines: string[] = [];
    for (let i = s; i < Math.min(rows, s + batch); i++) {
      const at = new Date(T0 + Math.floor((i / rows) * days * DAY)).toISOString();
      lines.push(`l${seed}-${i}\tu${rng.int(100_000)}\ttr${rng.int(1_000_000)}\t${at}\t${rng.int(300_000)}\ttrackdone\t${rng.next() < 0.1 ? 't' : 'f'}\tplaylist\tbench`);
    }
    yield lines.join('\n') + '\n';
  }
}

async function measure(client: pg.Client, table: string, rows: number, batch: number, days: number, seed: number): Promise<Record<string, number>> {
  const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const b0 = procCpu(backend);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const chunk of batches(rows, batch, days, seed)) {
    // one transaction per batch, as a group commit
    await pipeline(Readable.from([chunk]), client.query(copyFrom(`COPY ${table} (${COLS}) FROM STDIN`)));
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const per = 100_000 / rows;
  return { rows_per_s: rows / wall, server_cpu_s_per_100k: (procCpu(backend) - b0) * per, client_cpu_s_per_100k: ((c.user + c.system) / 1e6) * per };
}

const bench: Bench = {
  name: 'pg-listens',
  description: 'PostgreSQL write rate for listens: COPY in batches into the store\'s listens table and into the same table partitioned by day; rows/s and server CPU per 100,000 listens',
  async run(args) {
    const rows = numFlag(args, 'rows', 400_000);
    const batch = numFlag(args, 'batch', 10_000);
    const days = numFlag(args, 'days', 7);
    const schema = `bench_listens_${process.pid}_${Date.now().toString(36)}`;
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
    await client.connect();
    const figures: Record<string, number | string> = { rows, batch, days, load_1m_start: os.loadavg()[0] };
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET search_path TO ${schema}`);
      const cols = 'listen_id TEXT NOT NULL, user_id TEXT NOT NULL, track_id TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL, ms_played INTEGER NOT NULL, reason_end TEXT NOT NULL, skipped BOOLEAN NOT NULL, context TEXT NOT NULL, platform TEXT NOT NULL';
      await client.query(`CREATE TABLE listens (${cols}, PRIMARY KEY (listen_id))`);
      await client.query('CREATE INDEX ON listens (user_id)');
      await client.query('CREATE INDEX ON listens (started_at)');
      await client.query(`CREATE TABLE listens_by_day (${cols}, PRIMARY KEY (listen_id, started_at)) PARTITION BY RANGE (started_at)`);
      for (let d = 0; d < days; d++) {
        const from = new Date(T0 + d * DAY).toISOString();
        const to = new Date(T0 + (d + 1) * DAY).toISOString();
        await client.query(`CREATE TABLE listens_d${d} PARTITION OF listens_by_day FOR VALUES FROM ('${from}') TO ('${to}')`);
      }
      await client.query('CREATE INDEX ON listens_by_day (user_id)');
      await client.query('CREATE INDEX ON listens_by_day (started_at)');
      for (const [key, table] of [['plain', 'listens'], ['by_day', 'listens_by_day']] as const) {
        const m = await measure(client, table, rows, batch, days, key === 'plain' ? 1 : 2);
        for (const [k, v] of Object.entries(m)) figures[`${key}_${k}`] = v;
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await client.end();
    }
    figures.load_1m_end = os.loadavg()[0];
    return {
      figures,
      notes: [
        `${rows.toLocaleString('en')} listens per table, COPY of ${batch.toLocaleString('en')} rows per transaction, one connection; schema of its own, dropped after`,
        'server_cpu_s_per_100k: CPU of the PostgreSQL backend that ran the COPYs (/proc), the figure that does not depend on the other sessions sharing the 2 cores; rows_per_s is wall-clock and does',
        'by_day: range partitions by day on started_at, the listens spread evenly over the days: the key is (listen_id, started_at), so a listen id is unique within its day only (a replayed listen keeps its time)',
      ],
    };
  },
};

export default bench;
