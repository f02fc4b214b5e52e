/**
 * `deepcut export`: the data lake side of import. Listens and interactions leave the store, and a
 * run's playlists leave its folder, as Parquet, deepcut's own CSV or JSON lines — the files
 * `deepcut import parquet|csv|jsonl` takes back (export → import gives the same rows).
 *
 * The rows never pass through JavaScript one by one: from the embedded store DuckDB writes them
 * with `COPY (SELECT …) TO`; from PostgreSQL they stream out of `COPY (SELECT …) TO STDOUT` as CSV
 * into a spill file, which an in-memory DuckDB turns into the asked format with the same SELECT.
 * Rows come out in key order. JSON lines leave absent fields out (never `null`); instants are ISO
 * 8601 in UTC with µs (`2024-05-01T12:00:00.000000Z`) in CSV and JSON lines, TIMESTAMPTZ in Parquet.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Writable } from 'node:stream';
import type { DuckDBConnection } from '@duckdb/node-api';
import { entityKeys, type EntityKind } from '../domain/schemas.ts';
import { DeepcutError } from '../errors.ts';
import { entityColumns, quoteIdent as q, sqlType, type Column, type Store } from '../store/index.ts';
import { lit } from './bulk-sql.ts';

/** What `deepcut export` writes. */
export const exportKinds = ['listens', 'interactions', 'playlists'] as const;
export type ExportKind = (typeof exportKinds)[number];

/** The formats it writes them in (each one `deepcut import` reads). */
export const lakeFormats = ['parquet', 'csv', 'jsonl'] as const;
export type LakeFormat = (typeof lakeFormats)[number];

export interface ExportOptions {
  /** Rows written so far of `total` (an estimate while DuckDB writes), every quarter second or so. */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  kind: ExportKind;
  format: LakeFormat;
  rows: number;
  /** The file written, or `-` for a stream. */
  out: string;
}

/** The store's side of an export: a DuckDB connection that may read (DuckDB store), or `COPY … TO STDOUT` (PostgreSQL). */
interface DuckDbReads {
  backend: 'duckdb';
  readConnection(): Promise<DuckDBConnection>;
}
interface PostgresCopyTo {
  backend: 'postgres';
  copyTo(sql: string, out: Writable): Promise<void>;
}
const isDuckDbReads = (s: Store): s is Store & DuckDbReads => s.backend === 'duckdb' && typeof (s as unknown as DuckDbReads).readConnection === 'function';
const isPostgresCopyTo = (s: Store): s is Store & PostgresCopyTo => s.backend === 'postgres' && typeof (s as unknown as PostgresCopyTo).copyTo === 'function';

const ISO = "'%Y-%m-%dT%H:%M:%S.%fZ'";

/** A column as it is written in text formats (CSV, JSON lines): instants and days as ISO 8601 text, the rest as is. */
function textValue(c: Column, x = q(c.name)): string {
  if (c.kind === 'ts') return `strftime(${x}, ${ISO})`;
  if (c.kind === 'date') return `strftime(${x}, '%Y-%m-%d')`;
  return x;
}

/**
 * `COPY` of the rows of `from` (a table or subquery with `cols`) to `file` in `format`, ordered by
 * `order`. CSV has a header row of field names (deepcut's own CSV: lists as JSON arrays); JSON
 * lines are written as one CSV column of unquoted JSON text, nulls dropped.
 */
function copySql(from: string, cols: readonly Column[], order: string, format: LakeFormat, file: string): string {
  if (format === 'parquet') return `COPY (SELECT ${cols.map((c) => q(c.name)).join(', ')} FROM ${from} ORDER BY ${order}) TO ${lit(file)} (FORMAT parquet, COMPRESSION zstd)`;
  if (format === 'csv') {
    const v = cols.map((c) => `${c.kind === 'list' ? `CAST(to_json(${q(c.name)}) AS VARCHAR)` : textValue(c)} AS ${q(c.name)}`);
    return `COPY (SELECT ${v.join(', ')} FROM ${from} ORDER BY ${order}) TO ${lit(file)} (FORMAT csv, HEADER true)`;
  }
  // json_merge_patch drops the null members: an absent optional field is left out, as import wants it
  const obj = `json_merge_patch('{}', to_json(struct_pack(${cols.map((c) => `${q(c.name)} := ${textValue(c)}`).join(', ')})))`;
  return `COPY (SELECT CAST(${obj} AS VARCHAR) FROM ${from} ORDER BY ${order}) TO ${lit(file)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\\x01')`;
}

/** Run `sql` on `c`, reporting DuckDB's progress through `onProgress` (rows of `total`). */
async function withProgress(c: DuckDBConnection, sql: string, total: number, onProgress?: ExportOptions['onProgress']): Promise<void> {
  if (!onProgress) {
    await c.run(sql);
    return;
  }
  await c.run('SET enable_progress_bar = true');
  await c.run('SET enable_progress_bar_print = false');
  const timer = setInterval(() => {
    const p = c.progress;
    if (p.percentage >= 0) onProgress(Math.min(total, Math.round((p.percentage / 100) * total)), total);
  }, 250);
  try {
    await c.run(sql);
  } finally {
    clearInterval(timer);
  }
  onProgress(total, total);
}

async function count(c: DuckDBConnection, sql: string): Promise<number> {
  return Number((await c.runAndReadAll(sql)).getRows()[0][0]);
}

/** `out` as a file path DuckDB can write: the path itself, or a spill file piped into the stream afterwards. */
async function toOut<T>(out: string | Writable, ext: string, write: (file: string) => Promise<T>): Promise<T> {
  if (typeof out === 'string' && out !== '-') return write(out);
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-export-'));
  try {
    const file = join(dir, `out.${ext}`);
    const r = await write(file);
    const stream = typeof out === 'string' ? process.stdout : out;
    await pipeline(createReadStream(file), stream, { end: stream !== process.stdout });
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const extOf = (format: LakeFormat) => (format === 'jsonl' ? 'jsonl' : format);

/**
 * Write every row of `kind` (listens or interactions) from `store` to `out` (a file path, `-` for
 * stdout, or a stream) in `format`, in key order.
 * @example await exportEntity(store, 'listens', 'parquet', 'lake/listens.parquet')
 */
export async function exportEntity(store: Store, kind: 'listens' | 'interactions', format: LakeFormat, out: string | Writable, opts: ExportOptions = {}): Promise<ExportResult> {
  const cols = entityColumns[kind];
  const order = (entityKeys[kind] as readonly string[]).map(q).join(', ');
  const result = (rows: number): ExportResult => ({ kind, format, rows, out: typeof out === 'string' ? out : '-' });
  if (isDuckDbReads(store)) {
    const c = await store.readConnection();
    try {
      await c.run('BEGIN TRANSACTION'); // the count and the rows from one snapshot
      const rows = await count(c, `SELECT count(*) FROM ${q(kind)}`);
      await toOut(out, extOf(format), (file) => withProgress(c, copySql(q(kind), cols, order, format, file), rows, opts.onProgress));
      await c.run('COMMIT');
      return result(rows);
    } finally {
      c.closeSync();
    }
  }
  if (!isPostgresCopyTo(store)) throw new DeepcutError('invalid_input', `the ${store.backend} store cannot export`);
  return fromPostgres(store, kind, format, out, opts).then(result);
}

/** PostgreSQL's text of a column in the spill CSV, read back by DuckDB as `sqlType`: instants in UTC with µs, booleans as true/false, lists as JSON. */
function pgText(c: Column): string {
  const x = q(c.name);
  if (c.kind === 'ts') return `to_char(${x} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  if (c.kind === 'date') return `to_char(${x}, 'YYYY-MM-DD')`;
  if (c.kind === 'bool') return `CASE WHEN ${x} THEN 'true' WHEN NOT ${x} THEN 'false' END`;
  if (c.kind === 'list') return `array_to_json(${x})::text`;
  return x;
}

async function fromPostgres(store: Store & PostgresCopyTo, kind: EntityKind, format: LakeFormat, out: string | Writable, opts: ExportOptions): Promise<number> {
  const cols = entityColumns[kind];
  const order = (entityKeys[kind] as readonly string[]).map(q).join(', ');
  const total = await store.count(kind);
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-export-'));
  const spill = join(dir, 'rows.csv');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { temp_directory: join(dir, 'spill'), memory_limit: '512MB' });
  const c = await instance.connect();
  try {
    // PostgreSQL's half of the progress: rows streamed into the spill file (a line a row; a text with a line break counts twice)
    let rows = 0;
    const lines = createWriteStream(spill);
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) rows++;
        opts.onProgress?.(Math.min(rows, total), total * 2);
        done(null, chunk);
      },
    });
    const copying = store.copyTo(`COPY (SELECT ${cols.map(pgText).join(', ')} FROM ${q(kind)} ORDER BY ${order}) TO STDOUT (FORMAT csv)`, counter);
    await Promise.all([copying, pipeline(counter, lines)]);
    await c.run("SET TimeZone = 'UTC'");
    const typed = cols.map((x) => {
      const v = q(x.name);
      if (x.kind === 'bool') return `${v} = 'true' AS ${v}`;
      if (x.kind === 'list') return `CAST(CAST(${v} AS JSON) AS VARCHAR[]) AS ${v}`;
      return `CAST(${v} AS ${sqlType('duckdb', x.kind)}) AS ${v}`;
    });
    const read = `(SELECT ${typed.join(', ')} FROM read_csv(${lit(spill)}, columns = {${cols.map((x) => `${lit(x.name)}: 'VARCHAR'`).join(', ')}}, header = false, auto_detect = false, quote = '"', escape = '"', allow_quoted_nulls = false))`;
    await toOut(out, extOf(format), (file) => withProgress(c, copySql(read, cols, order, format, file), total, opts.onProgress && ((d, t) => opts.onProgress!(t + d, 2 * t))));
    return total;
  } finally {
    c.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One row per playlist track, the columns of an exported playlist file. */
export const playlistColumns: readonly Column[] = [
  { name: 'playlist_id', kind: 'text', optional: false },
  { name: 'kind', kind: 'text', optional: false },
  { name: 'user_id', kind: 'text', optional: true },
  { name: 'key', kind: 'text', optional: false },
  { name: 'title', kind: 'text', optional: false },
  { name: 'run_id', kind: 'text', optional: false },
  { name: 'created_at', kind: 'ts', optional: false },
  { name: 'position', kind: 'int', optional: false },
  { name: 'track_id', kind: 'text', optional: false },
  { name: 'track_title', kind: 'text', optional: false },
  { name: 'artists', kind: 'list', optional: false },
  { name: 'duration_ms', kind: 'int', optional: false },
  { name: 'reason', kind: 'text', optional: false },
  { name: 'reason_kind', kind: 'text', optional: true },
  { name: 'source', kind: 'text', optional: false },
];

/**
 * Write the playlists of a run (`files`: its `playlists/*.jsonl`, one playlist a line) to `out`, one
 * row per track ({@link playlistColumns}), ordered by playlist id and position.
 * @example await exportPlaylists([join(runDir, 'playlists', 'discover-weekly.jsonl')], 'parquet', 'lake/playlists.parquet')
 */
export async function exportPlaylists(files: readonly string[], format: LakeFormat, out: string | Writable, opts: ExportOptions = {}): Promise<ExportResult> {
  const result = (rows: number): ExportResult => ({ kind: 'playlists', format, rows, out: typeof out === 'string' ? out : '-' });
  if (files.length === 0) throw new DeepcutError('not_found', 'the run has no playlists: run `deepcut pipeline run` first');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    await c.run("SET TimeZone = 'UTC'");
    const track = "STRUCT(trackId VARCHAR, title VARCHAR, artists VARCHAR[], durationMs BIGINT, reason VARCHAR, reasonKind VARCHAR, source VARCHAR)";
    const src = `read_json([${files.map(lit).join(', ')}], format = 'newline_delimited', columns = {id: 'VARCHAR', kind: 'VARCHAR', title: 'VARCHAR', userId: 'VARCHAR', key: 'VARCHAR', createdAt: 'VARCHAR', runId: 'VARCHAR', tracks: '${track}[]'}, maximum_object_size = ${256 << 20})`;
    await c.run(
      `CREATE TEMP VIEW playlist_rows AS SELECT id AS playlist_id, kind, userId AS user_id, key, title, runId AS run_id, CAST(createdAt AS TIMESTAMPTZ) AS created_at, CAST(p.i AS INTEGER) AS position,
         tracks[p.i].trackId AS track_id, tracks[p.i].title AS track_title, tracks[p.i].artists AS artists, CAST(tracks[p.i].durationMs AS INTEGER) AS duration_ms, tracks[p.i].reason AS reason, tracks[p.i].reasonKind AS reason_kind, tracks[p.i].source AS source
       FROM ${src}, LATERAL (SELECT unnest(range(1, len(tracks) + 1)) AS i) p`,
    );
    const rows = await count(c, 'SELECT count(*) FROM playlist_rows');
    await toOut(out, extOf(format), (file) => withProgress(c, copySql('playlist_rows', playlistColumns, 'playlist_id, position', format, file), rows, opts.onProgress));
    return result(rows);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}
