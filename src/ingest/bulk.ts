/**
 * The bulk import: a big file of listens or interactions (deepcut's JSON lines and CSV, the
 * generic interactions CSV, HetRec's user_artists.dat, Parquet) is parsed, checked and loaded by
 * DuckDB, with no JavaScript per good row. The streaming path (import.ts) stays for HTTP ingestion, small files and other formats.
 *
 * 1. Framing (lines): a native-speed pass over the bytes; a file that is not clean UTF-8 with one
 *    kind of line end, or has a line over the limit or a NUL byte, goes the streaming way, whose
 *    per-line framing names each bad line (see docs/store.md).
 * 2. Staging: DuckDB reads the file (`read_csv` of whole lines + `json_extract` or `string_split`,
 *    `read_parquet`) in one pass that keeps file order into a temp table of typed columns (a row's
 *    line, Parquet: row, number is its rowid + 1), and `ok` = the row is
 *    plainly valid: schema, ranges, time window, foreign ids, the inferred value domains, all in
 *    SQL (bulk-sql.ts). Only rows that are not `ok` keep their raw text.
 * 3. Judging: the rows SQL did not clear (few, in real data) go through the streaming path's own
 *    handler and `checkRow`, so a rejected row gets the same quarantine record as there, and a
 *    row SQL was merely unsure of (an id with a trailing space, a `\u` escape) is accepted as there.
 * 4. Duplicates: of the rows accepted, the first by line of each key is kept; the keys already
 *    stored are left out by an anti-join and one set-based `INSERT … SELECT` stores the rest
 *    (DuckDB: rows are deduplicated only when the key's index refuses a repeated key), or COPY
 *    FROM STDIN straight into the table, and into a staging table then `INSERT … ON CONFLICT DO
 *    NOTHING` when a key is stored already (PostgreSQL).
 * 5. Statistics of the batch from SQL aggregates (quantiles and histograms from a 10,000-row
 *    reservoir sample), then the same validation as the streaming path.
 *
 * A Parquet file whose rows are all plainly valid (one scan of the checks, which stops at the
 * first row that is not) skips 2–4: its rows go from `read_parquet` straight into the table (a
 * key repeated in the file sends it back to the staged way).
 *
 * Nothing lost, nothing doubled: the insert skips stored keys, quarantined rows are recognised by
 * (batch, file, line, code, field), and the file is recorded as done last; an import killed at any
 * point and run again ends with the rows of a clean import.
 */
import { createReadStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { entityKeys, type EntityKind } from '../domain/schemas.ts';
import { fieldsOf } from '../domain/fields.ts';
import { entityColumns, quoteIdent as q, type Store } from '../store/index.ts';
import { AggregatedStats, BatchStats, featureKindOf, TOP_VALUES, type AggregatedFeature, type CheckContext, type DataSchema, type KnownIds } from '../validate/index.ts';
import { splitCsv } from './csv.ts';
import { rowDomainSql, storeDomainSql, storeRuleSql, SQL_DOMAIN, csvFields, hetrecFields, interactionCsvFields, jsonFields, lit, parquetFields, parquetRowJson, type FieldSql } from './bulk-sql.ts';
import { csvHandler, jsonlHandler } from './formats/own.ts';
import { hetrecUserArtistsHandler } from './formats/hetrec.ts';
import { interactionsHandler } from './formats/interactions.ts';
import type { FileTask, RecordHandler, Sink } from './formats/types.ts';
import { batchId, BATCHES_NS, keyOf as keyOfRow, PROGRESS_NS, RowSink, validateFileBatch, type BatchContext, type BulkMode, type FileSummary, type ImportOptions } from './sink.ts';

/** Files at least this large go the bulk way under `bulk: 'auto'` (the default); smaller ones stream. */
export const BULK_MIN_BYTES = 16 * 1024 * 1024;

/** DuckDB's memory limit while a bulk import runs: staged rows past it spill to disk (RSS stays flat from 1M to 5M rows). */
export const BULK_MEMORY = '256MB';

/** The staged stage's detail when a file's rows are stored straight from it (Parquet, every row plainly valid). */
export const DIRECT = 'every row plainly valid: stored straight from the file';

/** Lines (Parquet: rows) of a file stored per transaction of the embedded store, unless `bulkChunkLines` says otherwise. */
const INSERT_LINES = 1_000_000;


const BULK_ENTITIES: readonly EntityKind[] = ['listens', 'interactions'];

/** Whether the bulk path can take `task` (format, entity, encoding), whatever its size. */
export function bulkCapable(task: FileTask): boolean {
  if (task.parser === 'parquet') return true;
  if (task.encoding !== 'utf8' || !BULK_ENTITIES.includes(task.entity)) return false;
  return task.parser === 'jsonl' || task.parser === 'csv' || task.parser === 'interactions' || task.parser === 'hetrec-user-artists';
}

/** Whether `task` (of `size` bytes) goes the bulk way under `mode`. */
export function goesBulk(task: FileTask, size: number, mode: BulkMode = 'auto'): boolean {
  if (mode === 'off' || !bulkCapable(task)) return false;
  return mode === 'on' || task.parser === 'parquet' || size >= BULK_MIN_BYTES;
}

/**
 * Why a line file cannot be framed by DuckDB's reader exactly as `readLines` frames it (one row
 * per line, numbered as lines), or undefined when it can; with its line end. Reads the bytes in
 * 4 MiB chunks: no string per line.
 */
export async function framingProblem(file: string, maxLineBytes: number): Promise<{ problem?: string; crlf: boolean }> {
  const fh = await open(file, 'r');
  const buf = Buffer.alloc(4 << 20);
  let carry = Buffer.alloc(0);
  let lf = 0;
  let crlf = 0;
  let lineStart = 0; // offset of the current line in the file
  let offset = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      const base = offset - carry.length;
      offset += bytesRead;
      if (chunk.indexOf(0) >= 0) return { problem: 'a NUL byte', crlf: false };
      let cr = chunk.indexOf(13);
      let last = -1;
      if (cr < 0) {
        // no CR: every line here ends LF; the line lengths are checked by jumps of the limit (one search per limit, not per line)
        last = chunk.lastIndexOf(10);
        if (last >= 0) lf++;
        for (let pos = lineStart - base; pos <= last; ) {
          const i = chunk.lastIndexOf(10, Math.min(pos + maxLineBytes, last));
          if (i < pos) return { problem: 'a line over the size limit', crlf: false };
          pos = i + 1;
        }
        if (last >= 0) lineStart = base + last + 1;
      } else {
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) {
          if (base + i - lineStart > maxLineBytes) return { problem: 'a line over the size limit', crlf: false };
          if (i > 0 ? chunk[i - 1] === 13 : false) crlf++;
          else lf++;
          lineStart = base + i + 1;
          last = i;
        }
      }
      for (; cr >= 0; cr = chunk.indexOf(13, cr + 1)) if (cr + 1 < chunk.length && chunk[cr + 1] !== 10) return { problem: 'a carriage return inside a line', crlf: false };
      const whole = chunk.subarray(0, last + 1);
      if (!isUtf8(whole)) return { problem: 'bytes that are not UTF-8', crlf: false };
      carry = Buffer.from(chunk.subarray(last + 1));
      if (carry.length > maxLineBytes) return { problem: 'a line over the size limit', crlf: false };
    }
    if (carry.length && (!isUtf8(carry) || carry[carry.length - 1] === 13)) return { problem: carry[carry.length - 1] === 13 ? 'a carriage return at the end' : 'bytes that are not UTF-8', crlf: false };
    if (lf && crlf) return { problem: 'both LF and CRLF line ends', crlf: false };
    return { crlf: crlf > 0 };
  } finally {
    await fh.close();
  }
}

/** DuckDB's CSV reader as a line reader: one VARCHAR column `text`, one row per line in file order, nothing quoted or split; blank lines are NULL. */
function linesSql(file: string, crlf: boolean, maxLineBytes: number): string {
  return `SELECT text FROM read_csv(${lit(file)}, columns = {'text': 'VARCHAR'}, delim = '\\x01', quote = '', escape = '', header = false, auto_detect = false, strict_mode = false, new_line = '${crlf ? '\\r\\n' : '\\n'}', max_line_size = ${maxLineBytes + 16})`;
}

/** Where DuckDB does the work: the store's own database (DuckDB store) or an in-memory one (PostgreSQL store). */
interface Work {
  c: DuckDBConnection;
  /**
   * Whether the store's key refuses a key twice in one insert (DuckDB: the insert then fails and
   * nothing of it is stored): `bulk_good` may then hold a key more than once, and `insert` calls
   * its `dedupe` only when the key refuses a row. Otherwise `bulk_good` must hold each key once.
   */
  keyRefuses: boolean;
  /** Store the rows of `bulk_good` (those whose keys are not stored yet); rows inserted. */
  insert(kind: EntityKind, dedupe: () => Promise<void>): Promise<number>;
  /**
   * DuckDB: store the rows of `select` (the entity's columns and `line`, 1 to `lines`) straight
   * from the file, with no staging, leaving out stored keys. `refused`: the rows repeat a key, and
   * the chunk that does was not stored (the `inserted` rows of the chunks before it were).
   */
  insertDirect?(kind: EntityKind, select: string, lines: number, sort: boolean): Promise<{ inserted: number; refused: boolean }>;
  close(): Promise<void>;
}

interface DuckDbBulk {
  backend: 'duckdb';
  bulkConnection(): Promise<DuckDBConnection>;
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}
interface PostgresBulk {
  backend: 'postgres';
  copyFrom(kind: EntityKind, csv: () => NodeJS.ReadableStream): Promise<{ inserted: number; duplicates: number }>;
}
const isDuckDbBulk = (s: Store): s is Store & DuckDbBulk => s.backend === 'duckdb' && typeof (s as unknown as DuckDbBulk).bulkConnection === 'function';
const isPostgresBulk = (s: Store): s is Store & PostgresBulk => s.backend === 'postgres' && typeof (s as unknown as PostgresBulk).copyFrom === 'function';

/** Whether `store` can take a bulk import. */
export const bulkStore = (s: Store): boolean => isDuckDbBulk(s) || isPostgresBulk(s);

const names = (kind: EntityKind) => entityColumns[kind].map((c) => q(c.name)).join(', ');
const keyOf = (kind: EntityKind) => (entityKeys[kind] as readonly string[]).map(q);

/** Work folders of the PostgreSQL path: `<tmp>/deepcut-bulkwork-<pid>-XXXXXX`. */
const WORK_PREFIX = 'deepcut-bulkwork-';

/** An import killed mid-way leaves its work folder behind: those of processes no longer running are removed. */
export function removeStaleWork(): void {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  for (const name of readdirSync(tmpdir())) {
    const pid = name.startsWith(WORK_PREFIX) ? Number(name.slice(WORK_PREFIX.length).split('-')[0]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

async function openWork(store: Store, chunkLines = INSERT_LINES): Promise<Work> {
  if (isDuckDbBulk(store)) {
    const c = await store.bulkConnection();
    // the staged file spills to disk past this, so memory stays flat however big the file (restored after)
    const before = String((await c.runAndReadAll("SELECT current_setting('memory_limit')")).getRows()[0][0]);
    await c.run(`SET memory_limit = '${BULK_MEMORY}'`);
    await c.run('SET preserve_insertion_order = true'); // the default, and what numbers a staged row by its rowid
    const holdsRows = async (kind: EntityKind) => (await count(c, `SELECT count(*) FROM (SELECT 1 FROM ${q(kind)} LIMIT 1)`)) > 0;
    /** Insert the rows of `from` (aliased `g`, with `line`) up to line `last`, one transaction per chunk of lines; `done.inserted` counts the rows of the chunks committed. */
    const chunks = async (kind: EntityKind, from: string, last: number, antiJoin: boolean, order: string, done = { inserted: 0 }) => {
      for (let lo = 0; lo < last; lo += chunkLines) {
        const conds = [
          ...(last > chunkLines ? [`line > ${lo} AND line <= ${lo + chunkLines}`] : []),
          ...(antiJoin ? [`NOT EXISTS (SELECT 1 FROM ${q(kind)} t WHERE ${keyOf(kind).map((k) => `t.${k} = g.${k}`).join(' AND ')})`] : []),
        ];
        // a plain insert, where ON CONFLICT would group the rows by key again
        const r = await c.run(`INSERT INTO ${q(kind)} (${names(kind)}) SELECT ${names(kind)} FROM ${from} g${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''} ${order}`);
        done.inserted += r.rowsChanged;
      }
      return done.inserted;
    };
    return {
      c,
      keyRefuses: true,
      // one transaction per chunk of lines (INSERT_LINES): a transaction's rows and index entries are held in memory until it commits
      insert: (kind, dedupe) =>
        store.exclusive(async () => {
          // stored keys are left out by an anti-join (0.45 CPU s per 1M rows even against an empty table): needed only when the table
          // held rows before this import, or once the key refused a chunk (an in-file repeat over chunks: earlier chunks are stored)
          const antiJoin = await holdsRows(kind);
          const last = await count(c, 'SELECT coalesce(max(line), 0) FROM bulk_good');
          // in key order, which the key's index (ART) takes far faster than random ids when insertion order is kept (hashed listen ids: 3.5 CPU s for 1M rows instead of 6)
          const done = { inserted: 0 };
          const all = (antiJoin: boolean) => chunks(kind, 'bulk_good', last, antiJoin, `ORDER BY ${keyOf(kind).join(', ')}`, done);
          try {
            return await all(antiJoin);
          } catch (e) {
            // a key twice in one chunk: the key index refused the chunk (not stored); keep the first row of each key and go on (chunks stored already are left out by the anti-join)
            if (!isDuplicateKey(e)) throw e;
            await dedupe();
            return await all(true);
          }
        }),
      insertDirect: (kind, select, lines, sort) =>
        store.exclusive(async () => {
          const done = { inserted: 0 };
          // keys in an order the index takes well as they come (see keysNearInOrder): inserted unordered on both threads (2.0–2.3 CPU s per 1M rows
          // against 2.1–2.9 sorted); others in key order (random ids: 3.3 CPU s sorted against 4.5–5.0 unordered)
          if (!sort) await c.run('SET preserve_insertion_order = false');
          try {
            await chunks(kind, `(${select})`, lines, await holdsRows(kind), sort ? `ORDER BY ${keyOf(kind).join(', ')}` : '', done);
            return { inserted: done.inserted, refused: false };
          } catch (e) {
            if (!isDuplicateKey(e)) throw e;
            return { inserted: done.inserted, refused: true };
          } finally {
            await c.run('SET preserve_insertion_order = true');
          }
        }),
      close: async () => {
        await c.run(`SET memory_limit = '${before}'`).catch(() => undefined);
        c.closeSync();
      },
    };
  }
  if (!isPostgresBulk(store)) throw new Error(`the ${store.backend} store takes no bulk import`);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  removeStaleWork();
  const dir = mkdtempSync(join(tmpdir(), `${WORK_PREFIX}${process.pid}-`));
  const instance = await DuckDBInstance.create(':memory:', { temp_directory: join(dir, 'spill'), memory_limit: BULK_MEMORY });
  const c = await instance.connect();
  await c.run("SET TimeZone = 'UTC'");
  await c.run('SET preserve_insertion_order = true');
  return {
    c,
    keyRefuses: false,
    async insert(kind) {
      const csv = join(dir, 'good.csv');
      // PostgreSQL's array literal for lists: {"a","b"}
      const cols = entityColumns[kind].map((x) =>
        x.kind === 'list' ? `'{' || array_to_string(list_transform(${q(x.name)}, v -> '"' || replace(replace(v, '\\', '\\\\'), '"', '\\"') || '"'), ',') || '}'` : q(x.name),
      );
      // in key order: PostgreSQL's key index takes sorted keys faster, as DuckDB's does
      await c.run(`COPY (SELECT ${cols.join(', ')} FROM bulk_good ORDER BY ${keyOf(kind).join(', ')}) TO ${lit(csv)} (FORMAT csv, HEADER false)`);
      try {
        return (await store.copyFrom(kind, () => createReadStream(csv))).inserted;
      } finally {
        rmSync(csv, { force: true });
      }
    },
    async close() {
      c.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether `e` is the key index refusing a key it holds (DuckDB: nothing of the statement is stored). */
const isDuplicateKey = (e: unknown) => /duplicate key/i.test(e instanceof Error ? e.message : String(e));

/**
 * Whether keys coming in this order (`keys`, a sample in file order) share so much with the key
 * before them that the key index (an ART) takes them as fast unordered as sorted: consecutive keys
 * share on average at least half their length as a common prefix (sequential ids: `l41006`,
 * `l41007`; not random or hashed ids, whose neighbours share about nothing). Measured on 1M
 * listens (docs/store.md, "Bulk import"): sequential ids 2.0–2.3 CPU s unordered against 2.1–2.9
 * sorted first; md5 ids 4.5–5.0 unordered against 3.3 sorted.
 */
export function keysNearInOrder(keys: readonly string[]): boolean {
  if (keys.length < 2) return true;
  let shared = 0;
  let length = 0;
  for (let i = 1; i < keys.length; i++) {
    const a = keys[i - 1];
    const b = keys[i];
    let j = 0;
    while (j < a.length && j < b.length && a.charCodeAt(j) === b.charCodeAt(j)) j++;
    shared += j;
    length += b.length;
  }
  return shared * 2 >= length;
}

async function count(c: DuckDBConnection, sql: string): Promise<number> {
  const r = await c.runAndReadAll(sql);
  return Number(r.getRows()[0][0]);
}

/** Stream the rows of `sql` to `each`, chunk by chunk. */
async function eachRow(c: DuckDBConnection, sql: string, each: (row: DuckDBValue[]) => void): Promise<void> {
  const result = await c.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const r of chunk.getRows()) each(r);
  }
}

/** The ids listens may refer to (users; tracks with their length, 0 when a placeholder), as temp tables for the foreign-id join. */
async function knownTables(c: DuckDBConnection, known: KnownIds): Promise<void> {
  await c.run('CREATE OR REPLACE TEMP TABLE bulk_known_users (id VARCHAR PRIMARY KEY)');
  await c.run('CREATE OR REPLACE TEMP TABLE bulk_known_tracks (id VARCHAR PRIMARY KEY, dur BIGINT)');
  let a = await c.createAppender('bulk_known_users', 'main', 'temp');
  for (const id of known.users) {
    a.appendVarchar(id);
    a.endRow();
  }
  a.closeSync();
  a = await c.createAppender('bulk_known_tracks', 'main', 'temp');
  for (const [id, dur] of known.tracks) {
    a.appendVarchar(id);
    a.appendBigInt(BigInt(dur));
    a.endRow();
  }
  a.closeSync();
}

/** How a file is read: the staging source (one row per line, in file order), its fields, and the raw text of a row. */
interface Reader {
  /** SELECT of one row per line (Parquet: row) in file order, with whatever `fields` and `raw` refer to (as `src`): a row's line is its position. */
  from: string;
  /** Lines that are no record (a header): left out of the count and the checks. */
  skip?: number[];
  /** CSV: a quoted field may hold a line break, which only the streaming path's framing joins. */
  quotes?: boolean;
  /**
   * Rows of a second entity the handler makes once per distinct value (HetRec: a user per user id
   * seen): `sql` over `bulk_sl` gives each one's first line and its row as JSON for the rows SQL
   * cleared; the handler's own come from the rows it judges. They are checked and stored by the
   * streaming path's sink, once each, in order of first line.
   */
  side?: { entity: EntityKind; sql: string };
  fields: FieldSql[];
  /** What the staging query keeps of a source row `src` for its raw record (`… AS raw_…`), and the raw record's SQL on that. */
  rawInputs: string;
  raw: string;
  /** Handler that judges a raw record one by one; the parser that reads `raw` again (replay). */
  handler: RecordHandler;
  rawParser?: string;
  /** Where a row is, for the quarantine reason (Parquet: row group and row). */
  where?: (line: number) => string;
  /** Parquet: the file's rows with their position (from 0) as `file_row_number`, for storing them straight from the file when every row is plainly valid. */
  direct?: string;
  notes: { what: string; n: number }[];
}

async function jsonReader(task: FileTask, crlf: boolean, maxLineBytes: number): Promise<Reader> {
  const paths = fieldsOf(task.entity).map((f) => lit(`$.${f.name}`));
  return {
    // a backslash (an escape) may decode to anything, even text the stores refuse (NUL, a lone surrogate): such lines are judged one by one
    from: `SELECT text, ${paths.map((_, i) => `CAST(j[${i + 1}] AS VARCHAR) AS j${i + 1}`).join(', ')}
      FROM (SELECT text, CASE WHEN contains(text, '\\') THEN NULL ELSE TRY(json_extract(text, [${paths.join(', ')}])) END AS j FROM (${linesSql(task.file, crlf, maxLineBytes)}))`,
    fields: jsonFields(task.entity, 'src.j'),
    rawInputs: 'src.text AS raw_text',
    raw: 'raw_text',
    handler: jsonlHandler({ entity: task.entity }),
    notes: [],
  };
}

/** The first record of a CSV file (its line, text without a BOM, delimiter: a tab when it has tabs and no comma), and the header rule of `interactionsHandler`. */
async function csvHead(file: string): Promise<{ delimiter: string; headerLine: number; first: { line: number; text: string } | undefined }> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const lines = buf.toString('utf8', 0, bytesRead).replace(/^\ufeff/, '').split(/\r?\n/);
    const i = lines.findIndex((l) => l.trim() !== '');
    if (i < 0) return { delimiter: ',', headerLine: 0, first: undefined };
    const text = lines[i];
    const delimiter = text.includes('\t') && !text.includes(',') ? '\t' : ',';
    const c = splitCsv(text, delimiter);
    const header = !!c && c.length >= 3 && !Number.isFinite(Number(c[2])) && i + 1 <= 2;
    return { delimiter, headerLine: header ? i + 1 : 0, first: { line: i + 1, text } };
  } finally {
    await fh.close();
  }
}

async function interactionsReader(task: FileTask, crlf: boolean, maxLineBytes: number): Promise<Reader> {
  const { delimiter, headerLine } = await csvHead(task.file);
  const itemKind = (task.context.itemKind as string) ?? 'track';
  const handler = interactionsHandler({ ...task.context, delimiter });
  handler.skipped?.('', 0); // the header, if any, is left out below
  return {
    // a quote may open a field that holds the delimiter: such lines are judged one by one
    from: `SELECT text, CASE WHEN contains(text, '"') THEN NULL ELSE string_split(text, ${lit(delimiter)}) END AS c FROM (${linesSql(task.file, crlf, maxLineBytes)})`,
    skip: headerLine ? [headerLine] : [],
    quotes: true,
    fields: interactionCsvFields('src.c', itemKind).map((f) => ({ ...f, ok: `(src.c IS NOT NULL AND len(src.c) IN (3, 4) AND ${f.ok})` })),
    rawInputs: 'src.text AS raw_text',
    raw: 'raw_text',
    handler,
    notes: [],
  };
}

/** deepcut's own CSV: the first record names the fields (csvHandler), the rest are rows of the file's entity. */
async function csvReader(task: FileTask, crlf: boolean, maxLineBytes: number): Promise<Reader> {
  const head = await csvHead(task.file);
  const delimiter = (task.context.delimiter as string | undefined) ?? head.delimiter;
  const header = head.first ? (splitCsv(head.first.text, delimiter) ?? []).map((h) => h.trim()) : [];
  const known = new Set(fieldsOf(task.entity).map((f) => f.name));
  const unknown = header.filter((h) => !known.has(h));
  const c = `CASE WHEN contains(text, '"') THEN NULL ELSE string_split(text, ${lit(delimiter)}) END`;
  return {
    // a quote may open a field that holds the delimiter or a line break: such lines are judged one by one
    from: `SELECT text, ${c} AS c FROM (${linesSql(task.file, crlf, maxLineBytes)})`,
    fields: csvFields(task.entity, header, 'src.c').map((f) => ({ ...f, ok: `(src.c IS NOT NULL AND len(src.c) = ${header.length} AND ${f.ok})` })),
    rawInputs: 'src.text AS raw_text',
    raw: 'raw_text',
    handler: csvHandler({ ...task.context, entity: task.entity, delimiter, header }),
    skip: head.first ? [head.first.line] : [],
    quotes: true,
    notes: unknown.length ? [{ what: `ignored column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (not a field of ${task.entity})`, n: 0 }] : [],
  };
}

/** HetRec's user_artists.dat (userID, artistID, weight; tab-separated, a header line): interactions with artists, and a user per user id. */
function hetrecReader(task: FileTask, crlf: boolean, maxLineBytes: number): Reader {
  return {
    from: `SELECT text, string_split(text, '\t') AS c FROM (${linesSql(task.file, crlf, maxLineBytes)})`,
    fields: hetrecFields('src.c').map((f) => ({ ...f, ok: `(len(src.c) >= 3 AND ${f.ok})` })),
    rawInputs: 'src.text AS raw_text',
    raw: 'raw_text',
    handler: hetrecUserArtistsHandler(),
    skip: [1],
    side: { entity: 'users', sql: `SELECT min(line), CAST(json_object('user_id', user_id) AS VARCHAR) FROM bulk_sl WHERE ok GROUP BY user_id` },
    notes: [],
  };
}

async function parquetReader(c: DuckDBConnection, task: FileTask): Promise<Reader> {
  const file = lit(task.file);
  let types: Map<string, string>;
  let groups: number[];
  try {
    const d = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${file})`);
    types = new Map(d.getRows().map((r) => [String(r[0]), String(r[1])]));
    const g = await c.runAndReadAll(`SELECT row_group_id, any_value(row_group_num_rows) FROM parquet_metadata(${file}) GROUP BY row_group_id ORDER BY row_group_id`);
    groups = g.getRows().map((r) => Number(r[1]));
  } catch (e) {
    const { DeepcutError } = await import('../errors.ts');
    throw new DeepcutError('invalid_input', `not a readable Parquet file: ${(e as Error).message.split('\n')[0]}`, { file: task.file }, { cause: e });
  }
  const starts: number[] = [];
  groups.reduce((s, n) => (starts.push(s), s + n), 0);
  const known = new Set(fieldsOf(task.entity).map((f) => f.name));
  const ignored = [...types.keys()].filter((n) => !known.has(n));
  return {
    from: `SELECT * FROM read_parquet(${file})`,
    // (a column of the file's own by that name would clash with the reader's: such a file is staged)
    direct: types.has('file_row_number') ? undefined : `SELECT * FROM read_parquet(${file}, file_row_number = true)`,
    fields: parquetFields(task.entity, types),
    rawInputs: 'src AS raw_row',
    raw: parquetRowJson(task.entity, types),
    handler: jsonlHandler({ entity: task.entity }),
    rawParser: 'jsonl',
    where(line) {
      let g = starts.length - 1;
      while (g > 0 && starts[g] > line - 1) g--;
      return `Parquet row group ${g}, row ${line - 1 - (starts[g] ?? 0)}`;
    },
    notes: ignored.length ? [{ what: `ignored column${ignored.length > 1 ? 's' : ''} ${ignored.join(', ')} (not a field of ${task.entity})`, n: 0 }] : [],
  };
}

/** Categorical features with at most this many distinct values (approximately) get exact value counts; others get their top values from the sample. */
const FEW_VALUES = 1000;

/**
 * The most frequent values (as text) of each of `columns` in `table`, by count then value (byte
 * order, as SQL's), at most `TOP_VALUES.exactUpTo + 1` each: one pass over the table for them all.
 */
async function topValues(c: DuckDBConnection, table: string, columns: readonly string[]): Promise<Map<string, { value: string; count: number }[]>> {
  const out = new Map<string, { value: string; count: number }[]>(columns.map((n) => [n, []]));
  if (columns.length === 0) return out;
  const sets = columns.map((n) => `(${q(n)})`).join(', ');
  const which = columns.map((n, i) => `WHEN grouping(${q(n)}) = 0 THEN ${i}`).join(' ');
  const value = columns.map((n) => `WHEN grouping(${q(n)}) = 0 THEN CAST(${q(n)} AS VARCHAR)`).join(' ');
  const sql = `SELECT f, v, k FROM (SELECT CASE ${which} END AS f, CASE ${value} END AS v, count(*) AS k FROM ${table} GROUP BY GROUPING SETS (${sets}))
    WHERE v IS NOT NULL QUALIFY row_number() OVER (PARTITION BY f ORDER BY k DESC, v) <= ${TOP_VALUES.exactUpTo + 1} ORDER BY f, k DESC, v`;
  for (const r of (await c.runAndReadAll(sql)).getRows()) out.get(columns[Number(r[0])])!.push({ value: String(r[1]), count: Number(r[2]) });
  return out;
}

/** The fields whose statistics a batch of `kind` gets, with each one's feature kind and column. */
function statFields(kind: EntityKind) {
  return fieldsOf(kind).map((f) => ({ f, kind: featureKindOf(f.type), col: entityColumns[kind].find((x) => x.name === f.name)! }));
}

/** A field's value as the number its statistics read (an instant in ms, a list's length). */
function statNumber(x: ReturnType<typeof statFields>[number]): string {
  const n = q(x.f.name);
  if (x.kind === 'timestamp') return x.col.kind === 'date' ? `CAST(epoch_ms(CAST(${n} AS TIMESTAMP)) AS DOUBLE)` : `CAST(epoch_ms(${n}) AS DOUBLE)`;
  if (x.kind === 'length') return `CAST(len(${n}) AS DOUBLE)`;
  return `CAST(${n} AS DOUBLE)`;
}

/** The aggregates {@link sqlStats} reads (`c<i>`, `d<i>`, `lo<i>`, …): over rows with the entity's columns, so they can ride along another pass over them. */
function statAggregates(kind: EntityKind): string[] {
  return statFields(kind).flatMap((x, i) => {
    const n = q(x.f.name);
    const base = [`count(${n}) AS c${i}`, `approx_count_distinct(${x.kind === 'categorical' ? n : statNumber(x)}) AS d${i}`];
    if (x.kind === 'categorical') return base;
    const v = statNumber(x);
    return [...base, `min(${v}) AS lo${i}`, `max(${v}) AS hi${i}`, `avg(${v}) AS mean${i}`, `coalesce(stddev_samp(${v}), 0) AS sd${i}`];
  });
}

/**
 * Statistics of the good rows (`source`: a table, or a subquery with an alias, with the entity's
 * columns) from SQL aggregates (`aggregates`: {@link statAggregates} when another pass computed
 * them already), a sample of 10,000 rows for quantiles, histograms and high-cardinality top values.
 */
async function sqlStats(c: DuckDBConnection, kind: EntityKind, rows: number, source = 'bulk_good', aggregates?: Record<string, unknown>): Promise<AggregatedStats> {
  const fields = statFields(kind);
  const num = statNumber;
  const a = aggregates ?? ((await c.runAndReadAll(`SELECT ${statAggregates(kind).join(', ')} FROM ${source}`)).getRowObjectsJS()[0] as Record<string, unknown>);
  await c.run(`CREATE OR REPLACE TEMP TABLE bulk_sample AS SELECT * FROM ${source} USING SAMPLE reservoir(10000 ROWS) REPEATABLE (1)`);
  // exact counts for the few-valued features (enums, flags, platforms: what drift and inferred domains read), all in one pass; ids from the sample
  const isFew = (i: number) => fields[i].kind === 'categorical' && Number(a[`d${i}`]) <= FEW_VALUES;
  const fewCounts = await topValues(c, source, fields.flatMap((x, i) => (isFew(i) ? [x.f.name] : [])));
  const out: AggregatedFeature[] = [];
  for (const [i, x] of fields.entries()) {
    const cnt = Number(a[`c${i}`]);
    const base = { name: x.f.name, count: cnt, missing: rows - cnt, distinct: Number(a[`d${i}`]) };
    if (x.kind === 'categorical') {
      const few = isFew(i);
      const top = few ? fewCounts.get(x.f.name)! : (await topValues(c, 'bulk_sample', [x.f.name])).get(x.f.name)!;
      const exact = few && top.length <= TOP_VALUES.exactUpTo;
      if (!few) base.distinct = Math.max(base.distinct, top.length);
      out.push({ ...base, kind: 'categorical', distinct: exact ? top.length : base.distinct, top: top.slice(0, TOP_VALUES.keep), top_exact: exact });
      continue;
    }
    const sample = (await c.runAndReadAll(`SELECT ${num(x)} FROM bulk_sample WHERE ${q(x.f.name)} IS NOT NULL`)).getRows().map((r) => Number(r[0]));
    out.push({
      ...base,
      kind: x.kind,
      min: Number(a[`lo${i}`]),
      max: Number(a[`hi${i}`]),
      mean: Number(a[`mean${i}`]),
      std: Number(a[`sd${i}`]),
      sample: Float64Array.from(sample),
    } as AggregatedFeature);
  }
  return new AggregatedStats(kind, rows, out);
}

export interface BulkFile {
  task: FileTask;
  fp: { id: string; size: number; mtimeMs: number };
  known: KnownIds;
  schemas: Partial<Record<EntityKind, DataSchema>>;
  seenQ: Set<string>;
  now: Date;
  opts: ImportOptions;
}

/**
 * Import one file the bulk way (see the module comment). Returns undefined when its framing sends
 * it the streaming way (the caller then streams it), else its summary, as `importFile` gives it.
 */
export async function importFileBulk(store: Store, b: BulkFile): Promise<FileSummary | undefined> {
  const { task, fp, opts, now } = b;
  const entity = task.entity;
  const maxLineBytes = opts.maxLineBytes ?? 1 << 20;
  let crlf = false;
  if (task.parser !== 'parquet') {
    const f = await framingProblem(task.file, maxLineBytes);
    if (f.problem) {
      opts.onStage?.({ file: task.file, stage: 'streamed', detail: f.problem });
      return undefined;
    }
    crlf = f.crlf;
  }
  const source = task.source ?? task.parser;
  const work = await openWork(store, opts.bulkChunkLines);
  const c = work.c;
  try {
    const reader =
      task.parser === 'parquet'
        ? await parquetReader(c, task)
        : task.parser === 'interactions'
          ? await interactionsReader(task, crlf, maxLineBytes)
          : task.parser === 'csv'
            ? await csvReader(task, crlf, maxLineBytes)
            : task.parser === 'hetrec-user-artists'
              ? hetrecReader(task, crlf, maxLineBytes)
              : await jsonReader(task, crlf, maxLineBytes);
    const dom = rowDomainSql(entity, reader.fields, now.getTime(), b.schemas[entity]);
    const inner = reader.fields.map((f) => `${f.value} AS ${q(f.field.name)}`).join(', ');
    const plain = reader.fields.map((f) => f.ok).join(' AND ');
    const ctx: CheckContext = { now: now.getTime(), known: b.known, schema: b.schemas[entity] };
    const sink = new RowSink(store, ctx, b.schemas, task.file, task.parser, fp.id, b.seenQ, now);
    sink.where = reader.where;
    const counts = sink.count(entity);
    const context: BatchContext = { parser: task.parser, source, file: task.file, entity, context: { ...task.context } };
    /** The statistics, the file recorded as done (last), the validation of each entity's batch, the summary. */
    const finish = async (stats: AggregatedStats, judged: number): Promise<FileSummary> => {
      await store.putMeta(PROGRESS_NS, fp.id, { file: resolve(task.file), size: fp.size, mtime_ms: fp.mtimeMs, line: 0, done: true, updated_at: new Date().toISOString(), bulk: true });
      const validation: FileSummary['validation'] = [];
      for (const [e, n] of sink.counts) {
        if (n.read === 0) continue;
        const { inferred: _inferred, ...rec } = await validateFileBatch(store, { task, fp: fp.id, entity: e, stats: e === entity ? stats : (sink.stats.get(e) ?? new BatchStats(e)), counts: n, sink, opts, now });
        validation.push(rec);
      }
      const notes = [...reader.notes, ...sink.notes, { what: `rows read by DuckDB (bulk import), ${judged} of them checked one by one`, n: counts.read }];
      if (counts.read === 0 && judged === 0) notes.push({ what: 'empty file', n: 0 });
      return { file: task.file, parser: task.parser, status: 'imported', from_line: 0, counts: Object.fromEntries(sink.counts), notes, validation };
    };

    // Parquet, every row plainly valid (checked in SQL over the file first): stored straight from the file, no staging table
    let prior = 0; // rows the direct insert stored before the key refused a chunk (a key repeated in the file): counted as imported by the staged path
    if (reader.direct && work.insertDirect && SQL_DOMAIN.includes(entity)) {
      const rule = storeRuleSql(entity);
      if (rule) await knownTables(c, b.known);
      const typed = (from: string, extra = '') => `SELECT ${inner}${extra} FROM (${from}) src`;
      // a scan that stops at the first row not plainly valid (a file with some goes the staged way having read little), then the statistics' aggregates over every row
      const notOk = `NOT coalesce(s.plain AND ${dom}${rule ? ` AND NOT ${rule.broken}` : ''}, false)`;
      const allOk = (await count(c, `SELECT count(*) FROM (SELECT 1 FROM (${typed(reader.from, `, ${plain} AS plain`)}) s ${rule?.joins ?? ''} WHERE ${notOk} LIMIT 1)`)) === 0;
      const a = allOk ? ((await c.runAndReadAll(`SELECT count(*) AS n, ${statAggregates(entity).join(', ')} FROM (${typed(reader.from)})`)).getRowObjectsJS()[0] as Record<string, unknown>) : { n: 0 };
      const n = Number(a.n);
      if (n > 0) {
        opts.onStage?.({ file: task.file, stage: 'staged', detail: DIRECT });
        opts.onStage?.({ file: task.file, stage: 'judged' });
        await store.putMeta(BATCHES_NS, batchId(fp.id, entity), context);
        // the first rows' keys in file order tell whether the index takes them as fast unordered; a file of several chunks goes sorted all the same:
        // unordered inserts one after the other did not give their memory back (5M rows: peak RSS 1,009 MB against 644 sorted and 614 staged)
        const sample = async () => (await c.runAndReadAll(`SELECT concat_ws(chr(0), ${keyOf(entity).join(', ')}) FROM (${typed(reader.from)}) LIMIT 10000`)).getRows().map((r) => String(r[0]));
        const sort = n > (opts.bulkChunkLines ?? INSERT_LINES) || !keysNearInOrder(await sample());
        const r = await work.insertDirect(entity, typed(reader.direct, ', file_row_number + 1 AS line'), n, sort);
        if (!r.refused) {
          counts.read += n;
          counts.imported += r.inserted;
          counts.duplicates += n - r.inserted;
          opts.onStage?.({ file: task.file, stage: 'inserted' });
          opts.onStage?.({ file: task.file, stage: 'quarantined' });
          return await finish(await sqlStats(c, entity, n, `(${typed(reader.from)}) g`, a), 0);
        }
        prior = r.inserted;
      }
    }
    // one parallel pass that keeps file order (no window): a row's line is its rowid + 1; a blank line is a row that is not ok with no raw text
    await c.run(
      `CREATE OR REPLACE TEMP TABLE bulk_s AS SELECT ${reader.fields.map((f) => `s.${q(f.field.name)}`).join(', ')}, s.plain AND ${dom} AS ok, CASE WHEN s.plain AND ${dom} THEN NULL ELSE ${reader.raw} END AS raw
       FROM (SELECT ${reader.rawInputs}, ${inner}, ${plain} AS plain FROM (${reader.from}) src) s`,
    );
    if (reader.skip?.length) await c.run(`UPDATE bulk_s SET ok = false, raw = NULL WHERE rowid + 1 IN (${reader.skip.join(', ')})`);
    await c.run('CREATE OR REPLACE TEMP VIEW bulk_sl AS SELECT rowid + 1 AS line, * FROM bulk_s');
    // a line with an odd number of quotes opens (or closes) a field that holds a line break: such a file is streamed, nothing stored yet
    if (reader.quotes && (await count(c, `SELECT count(*) FROM bulk_s WHERE NOT ok AND (strlen(raw) - strlen(replace(raw, '"', ''))) % 2 = 1`)) > 0) {
      opts.onStage?.({ file: task.file, stage: 'streamed', detail: 'a quoted field over several lines' });
      return undefined;
    }
    // rules that need the store (foreign ids) over the narrow staged table; the few rows they refuse get their raw record by a second read
    const storeDom = storeDomainSql(entity, 'bulk_sl');
    if (storeDom) {
      if (entity === 'listens') await knownTables(c, b.known);
      await c.run(`CREATE OR REPLACE TEMP TABLE bulk_bad AS ${storeDom}`);
      if ((await count(c, 'SELECT count(*) FROM bulk_bad')) > 0) {
        await c.run(
          `UPDATE bulk_s SET ok = false, raw = r.raw FROM (SELECT line, ${reader.raw} AS raw FROM (SELECT ${reader.rawInputs}, row_number() OVER () AS line FROM (${reader.from}) src) WHERE line IN (SELECT line FROM bulk_bad)) r WHERE bulk_s.rowid + 1 = r.line`,
        );
      }
    }
    opts.onStage?.({ file: task.file, stage: 'staged' });

    // rows SQL did not clear: judged one by one by the streaming path's handler and checks
    let judged = 0;
    // the side entity's rows the handler makes are held back, to be merged with those of the rows SQL cleared
    const side = new Map<string, { line: number; row: Record<string, unknown> }>();
    const out: Sink = reader.side
      ? {
          row: (e, v) => {
            if (e !== reader.side!.entity) return sink.row(e, v);
            const k = keyOfRow(e, v);
            if (!side.has(k)) side.set(k, { line: sink.line, row: v });
          },
          reject: (...a) => sink.reject(...a),
          locate: (...a) => sink.locate(...a),
          note: (...a) => sink.note(...a),
        }
      : sink;
    await eachRow(c, 'SELECT line, raw FROM bulk_sl WHERE NOT ok AND raw IS NOT NULL ORDER BY line', (r) => {
      const line = Number(r[0]);
      const text = String(r[1] ?? '');
      if (text.trim() === '') return;
      judged++;
      sink.locate(line, text, reader.rawParser);
      reader.handler.record(text, line, out);
    });
    if (reader.side) {
      const sideKind = reader.side.entity;
      await eachRow(c, reader.side.sql, (r) => {
        const row = JSON.parse(String(r[1])) as Record<string, unknown>;
        const k = keyOfRow(sideKind, row);
        const line = Number(r[0]);
        if ((side.get(k)?.line ?? Infinity) > line) side.set(k, { line, row });
      });
      for (const x of [...side.values()].sort((a, b) => a.line - b.line)) {
        sink.locate(x.line, '');
        sink.row(sideKind, x.row);
      }
    }
    const job = sink.detach();
    const sideRows = reader.side && job.rows.get(reader.side.entity);
    // stored first: the main entity's rows may refer to them
    if (sideRows) await sink.write({ rows: new Map([[reader.side!.entity, sideRows]]), quarantine: [] });
    const fixed = job.rows.get(entity);
    const cols = entityColumns[entity];
    await c.run(`CREATE OR REPLACE TEMP TABLE bulk_fix AS SELECT line, ${names(entity)} FROM bulk_sl LIMIT 0`);
    if (fixed?.rows.length) {
      const { appendRows } = await import('../store/duckdb.ts');
      const app = await c.createAppender('bulk_fix', 'main', 'temp');
      appendRows(app, [{ name: 'line', kind: 'int', optional: false }, ...cols], fixed.rows.map((row, i) => ({ line: fixed.lines[i], ...row })));
      app.closeSync();
    }
    opts.onStage?.({ file: task.file, stage: 'judged' });

    // duplicates inside the file: the first accepted row of each key, by line, is kept
    const key = keyOf(entity).join(', ');
    const accepted = `SELECT line, ${names(entity)} FROM bulk_sl WHERE ok UNION ALL SELECT line, ${names(entity)} FROM bulk_fix`;
    const dedupe = async () => {
      await c.run('DROP VIEW IF EXISTS bulk_good');
      await c.run(`CREATE TEMP TABLE bulk_good AS SELECT * FROM (${accepted}) QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY line) = 1`);
    };
    await c.run('DROP VIEW IF EXISTS bulk_good');
    await c.run('DROP TABLE IF EXISTS bulk_good');
    // where the store's key refuses a repeated key, the rows are checked for one only when it does (count(DISTINCT key) costs 0.3 CPU s per 1M rows)
    if (work.keyRefuses || (await c.runAndReadAll(`SELECT count(*) = count(DISTINCT (${key})) FROM (${accepted})`)).getRows()[0][0] === true) await c.run(`CREATE TEMP VIEW bulk_good AS ${accepted}`);
    else await dedupe();
    const plainRows = await count(c, 'SELECT count(*) FROM bulk_s WHERE ok');
    counts.read += plainRows;

    // the batch's context first (replay needs it), then rows, then the quarantine, then "done"
    for (const e of new Set<EntityKind>([entity, ...sink.counts.keys()])) await store.putMeta(BATCHES_NS, batchId(fp.id, e), { ...context, entity: e });
    const inserted = prior + (await work.insert(entity, dedupe));
    // duplicates: the accepted rows not stored (a key seen earlier in the file, or stored already)
    counts.imported += inserted;
    counts.duplicates += plainRows + (fixed?.rows.length ?? 0) - inserted;
    opts.onStage?.({ file: task.file, stage: 'inserted' });
    for (let i = 0; i < job.quarantine.length; i += 10_000) await store.quarantine(job.quarantine.slice(i, i + 10_000));
    opts.onStage?.({ file: task.file, stage: 'quarantined' });
    return await finish(await sqlStats(c, entity, await count(c, 'SELECT count(*) FROM bulk_good')), judged);
  } finally {
    await work.close();
  }
}
