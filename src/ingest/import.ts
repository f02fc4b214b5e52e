/**
 * The import runner: reads a format's files as a stream, checks every row (schema, domain rules,
 * foreign ids, the inferred schema), stores good rows in batches, quarantines bad ones with file,
 * line and field, records progress per file so a killed import resumes, and validates each batch
 * (statistics, anomalies, drift) at the end of its file.
 *
 * Idempotent: every entity has a key and the store skips keys it holds; quarantined rows are
 * recognised by (batch, line, code, field); a file whose content is unchanged and fully imported
 * is skipped (unless `force`).
 *
 * Store meta: `import-progress/<fingerprint>` (last committed line), `import-batches/<batch>`
 * (parser and context, for replay).
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defaultConfig, type Config } from '../config/config.ts';
import { entityKeys, entityKinds, type EntityKind, type EntityRow } from '../domain/schemas.ts';
import { DeepcutError, isDeepcutError } from '../errors.ts';
import { log } from '../log.ts';
import type { QuarantinedRow, Store } from '../store/index.ts';
import { validateBatch, type AnomalyCount, type ValidationRecord } from '../validate/index.ts';
import { checkRow, KnownIds, type CheckContext } from '../validate/index.ts';
import { compileSchema, loadSchema, type DataSchema } from '../validate/index.ts';
import { BatchStats } from '../validate/index.ts';
import { pagesOf, quarantinePages } from '../store/index.ts';
import { formatByName, formats, parsers } from './formats/index.ts';
import { IMPORT_ORDER } from './formats/own.ts';
import type { FileTask, FormatOptions, RecordHandler, Sink } from './formats/types.ts';
import { TrackMatcher } from '../domain/match.ts';
import { readJsonArray, readLines, sniffJson, type Frame } from '../util/lines.ts';
import { fieldsOf } from '../domain/fields.ts';
import { bulkStore, goesBulk, importFileBulk, type BulkMode } from './bulk.ts';

export interface ImportOptions extends FormatOptions {
  /** Rows (all entities together) per store transaction; default 50,000. */
  batchSize?: number;
  validation?: Config['validation'];
  /** Now, for time-range checks and records (tests inject one). */
  clock?: () => Date;
  /** Read files again even when their unchanged content was fully imported before. */
  force?: boolean;
  /** Records longer than this are quarantined as `line_too_long`; default 1 MiB. */
  maxLineBytes?: number;
  /** Called after each commit (progress display; tests). */
  onCommit?: (c: { file: string; line: number; rows: number }) => void;
  /** Bulk import through the database's readers (bulk.ts): `auto` (default) for big files it can take, `on`, `off`. */
  bulk?: BulkMode;
  /** Called as a bulk import passes its stages (tests kill the process here). */
  onStage?: (s: { file: string; stage: 'staged' | 'judged' | 'inserted' | 'quarantined' | 'streamed'; detail?: string }) => void;
}

/** Rows read = imported + duplicates + quarantined. */
export interface EntityCounts {
  read: number;
  imported: number;
  duplicates: number;
  quarantined: number;
}

export interface FileSummary {
  file: string;
  parser: string;
  /** `imported`, `resumed` (continued after line `from_line`), or `unchanged` (skipped: already imported). */
  status: 'imported' | 'resumed' | 'unchanged';
  from_line: number;
  counts: Partial<Record<EntityKind, EntityCounts>>;
  notes: { what: string; n: number }[];
  validation: Pick<ValidationRecord, 'batch' | 'entity' | 'status' | 'reasons' | 'anomaly_rate'>[];
}

export interface ImportSummary {
  format: string;
  path: string;
  files: FileSummary[];
  totals: Partial<Record<EntityKind, EntityCounts>>;
  rows_read: number;
  elapsed_s: number;
  rows_per_s: number;
  /** True when a batch of this import is blocked by validation. */
  blocked: boolean;
}

export const PROGRESS_NS = 'import-progress';
export const BATCHES_NS = 'import-batches';

interface Progress {
  file: string;
  size: number;
  mtime_ms: number;
  line: number;
  done: boolean;
  updated_at: string;
}

export interface BatchContext {
  parser: string;
  /** Validation source of the batch (absent in batches from before sources: the parser). */
  source?: string;
  file: string;
  entity: EntityKind;
  context: Record<string, unknown>;
}

/** Identity of a file's content: path, size, mtime and a hash of its first 64 KiB → 12 hex digits. */
export async function fingerprint(file: string): Promise<{ id: string; size: number; mtimeMs: number }> {
  const st = await stat(file);
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(65536, st.size));
    await fh.read(buf, 0, buf.length, 0);
    const head = createHash('sha1').update(buf).digest('hex');
    const id = createHash('sha1').update(`${resolve(file)}\u0000${st.size}\u0000${Math.floor(st.mtimeMs)}\u0000${head}`).digest('hex').slice(0, 12);
    return { id, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
  } finally {
    await fh.close();
  }
}

/** Batch id of one entity's rows from one file version: `<fingerprint>.<entity>`. */
export const batchId = (fp: string, entity: string) => `${fp}.${entity}`;

const zero = (): EntityCounts => ({ read: 0, imported: 0, duplicates: 0, quarantined: 0 });

/** Load every id the store holds that imports may refer to; the catalog also goes into `matcher` when given. */
export async function loadKnownIds(store: Store, matcher?: TrackMatcher): Promise<KnownIds> {
  const known = new KnownIds();
  for (const kind of ['artists', 'albums', 'tracks', 'users'] as const) {
    for await (const rows of pagesOf(store, kind, {}, 50_000)) {
      for (const r of rows) known.add(kind, r as Record<string, unknown>);
      if (!matcher) continue;
      if (kind === 'artists') matcher.addArtists(rows as EntityRow<'artists'>[]);
      else if (kind === 'albums') matcher.addAlbums(rows as EntityRow<'albums'>[]);
      else if (kind === 'tracks') matcher.addTracks(rows as EntityRow<'tracks'>[]);
    }
  }
  return known;
}

/** The schemas rows from `source` are checked against, per entity. */
async function loadSchemas(store: Store, source: string): Promise<Partial<Record<EntityKind, DataSchema>>> {
  const out: Partial<Record<EntityKind, DataSchema>> = {};
  for (const k of entityKinds) {
    const doc = await loadSchema(store, k, source);
    if (doc) out[k] = compileSchema(doc);
  }
  return out;
}

function frames(task: FileTask, maxRecordBytes: number | undefined, kind: 'array' | 'lines'): AsyncGenerator<Frame[]> {
  return kind === 'array' ? readJsonArray(task.file, { encoding: task.encoding, maxRecordBytes }) : readLines(task.file, { encoding: task.encoding, maxRecordBytes });
}

export const keyOf = (kind: EntityKind, row: Record<string, unknown>): string => {
  const keys = entityKeys[kind] as readonly string[];
  return keys.length === 1 ? String(row[keys[0]]) : keys.map((k) => String(row[k])).join('\u0001');
};

/**
 * Rows checked and stored, rejects quarantined, for one file or a replay. Holds the pending
 * batch; `commit` writes it in dependency order.
 */
export class RowSink implements Sink {
  readonly counts = new Map<EntityKind, EntityCounts>();
  readonly stats = new Map<EntityKind, BatchStats>();
  readonly anomalies = new Map<EntityKind, Map<string, AnomalyCount>>();
  readonly notes: { what: string; n: number }[] = [];
  private pending = new Map<EntityKind, PendingRows>();
  private pendingQ: QuarantinedRow[] = [];
  pendingRows = 0;
  /** Where the current record is. */
  line = 0;
  raw = '';
  /** Parser that can read `raw` again, when not the file's own. */
  rawParser: string | undefined;
  /** Where a row is, added to every reason, when a format says more than a line (Parquet: row group and row). */
  where?: (line: number) => string;

  constructor(
    private readonly store: Store,
    private readonly ctx: CheckContext,
    private readonly schemas: Partial<Record<EntityKind, DataSchema>>,
    readonly file: string,
    readonly parser: string,
    readonly fp: string,
    private readonly seenQ: Set<string>,
    private readonly now: Date,
  ) {}

  count(entity: EntityKind): EntityCounts {
    let c = this.counts.get(entity);
    if (!c) this.counts.set(entity, (c = zero()));
    return c;
  }

  row(entity: EntityKind, value: Record<string, unknown>): void {
    const c = this.count(entity);
    c.read++;
    this.ctx.schema = this.schemas[entity];
    const r = checkRow(entity, value, this.ctx);
    if (!r.ok) {
      c.read--; // reject counts it
      this.reject(entity, r.field, r.code, r.reason);
      return;
    }
    const row = r.row as Record<string, unknown>;
    let p = this.pending.get(entity);
    if (!p) this.pending.set(entity, (p = { rows: [], keys: new Set(), lines: [] }));
    const key = keyOf(entity, row);
    if (p.keys.has(key)) {
      c.duplicates++;
      return;
    }
    p.keys.add(key);
    p.rows.push(row);
    p.lines.push(this.line);
    this.pendingRows++;
    let s = this.stats.get(entity);
    if (!s) this.stats.set(entity, (s = new BatchStats(entity)));
    s.add(row);
    this.ctx.known.add(entity, row);
  }

  reject(entity: string, field: string | null, code: string, reason: string, at: { file?: string; line?: number; raw?: string; format?: string } = {}): void {
    const kind = (entityKinds as string[]).includes(entity) ? (entity as EntityKind) : undefined;
    const line = at.line ?? this.line;
    if (this.where) reason = `${reason} (${this.where(line)})`;
    if (kind) {
      const c = this.count(kind);
      c.read++;
      c.quarantined++;
      let m = this.anomalies.get(kind);
      if (!m) this.anomalies.set(kind, (m = new Map()));
      const k = `${code}\u0001${field ?? ''}`;
      const a = m.get(k);
      if (a) a.count++;
      else m.set(k, { code, field, count: 1, example: `line ${line}: ${reason}` });
    }
    const batch = batchId(this.fp, entity);
    const dedupe = `${batch}\u0001${at.file ?? this.file}\u0001${line}\u0001${code}\u0001${field ?? ''}`;
    if (this.seenQ.has(dedupe)) return;
    this.seenQ.add(dedupe);
    this.pendingQ.push({
      batch,
      entity,
      format: at.format ?? this.rawParser ?? this.parser,
      file: at.file ?? this.file,
      line,
      field,
      code,
      reason,
      raw: at.raw ?? this.raw,
      quarantined_at: this.now.toISOString(),
    });
    this.pendingRows++;
  }

  note(what: string, n: number): void {
    this.notes.push({ what, n });
  }

  locate(line: number, raw: string, parser?: string): void {
    this.line = line;
    this.raw = raw;
    this.rawParser = parser;
  }

  /** Take the pending rows and quarantined rows out, to be written by {@link write} (maybe while the next batch is read). */
  detach(): PendingWrite {
    const job = { rows: this.pending, quarantine: this.pendingQ };
    this.pending = new Map();
    this.pendingQ = [];
    this.pendingRows = 0;
    return job;
  }

  /** Write a detached batch: rows in dependency order, then the quarantined rows. Returns rows written. */
  async write(job: PendingWrite): Promise<number> {
    let n = 0;
    for (const kind of IMPORT_ORDER) {
      const p = job.rows.get(kind);
      if (!p || p.rows.length === 0) continue;
      const r = await this.put(kind, p, job.quarantine);
      const c = this.count(kind);
      c.imported += r.inserted;
      c.duplicates += r.duplicates;
      n += p.rows.length;
    }
    if (job.quarantine.length) {
      await this.store.quarantine(job.quarantine);
      n += job.quarantine.length;
    }
    return n;
  }

  /**
   * Store checked rows in one transaction. Should the store refuse the batch for a reason that is
   * not its own state (a value the schema let through and the store cannot hold: a bug), the rows
   * are stored one by one and each refused row is quarantined as `store_refused` with the store's
   * message, so one row never loses the batch. Store failures (disk full, read-only) still stop.
   */
  private async put(kind: EntityKind, p: PendingRows, quarantine: QuarantinedRow[]): Promise<{ inserted: number; duplicates: number }> {
    try {
      return await this.store.bulkPut(kind, [p.rows as never[]]);
    } catch (e) {
      if (isDeepcutError(e)) throw e;
      log('ingest').warn({ file: this.file, entity: kind, err: (e as Error).message }, 'the store refused a batch: storing its rows one by one');
    }
    const total = { inserted: 0, duplicates: 0 };
    const names = fieldsOf(kind).map((f) => f.name);
    for (let i = 0; i < p.rows.length; i++) {
      try {
        const r = await this.store.bulkPut(kind, [[p.rows[i]] as never[]]);
        total.inserted += r.inserted;
        total.duplicates += r.duplicates;
      } catch (e) {
        if (isDeepcutError(e)) throw e;
        const message = (e as Error).message;
        const field = names.find((n) => new RegExp(`\\b${n}\\b`).test(message)) ?? null;
        const reason = `the store refused a row the schema accepted (please report it): ${message}`;
        const c = this.count(kind);
        c.quarantined++;
        let m = this.anomalies.get(kind);
        if (!m) this.anomalies.set(kind, (m = new Map()));
        const a = m.get(`store_refused\u0001${field ?? ''}`);
        if (a) a.count++;
        else m.set(`store_refused\u0001${field ?? ''}`, { code: 'store_refused', field, count: 1, example: `line ${p.lines[i]}: ${reason}` });
        const batch = batchId(this.fp, kind);
        const dedupe = `${batch}\u0001${this.file}\u0001${p.lines[i]}\u0001store_refused\u0001${field ?? ''}`;
        if (this.seenQ.has(dedupe)) continue;
        this.seenQ.add(dedupe);
        quarantine.push({
          batch,
          entity: kind,
          format: 'jsonl', // the checked row, replayable as deepcut's own line
          file: this.file,
          line: p.lines[i],
          field,
          code: 'store_refused',
          reason,
          raw: JSON.stringify(p.rows[i]),
          quarantined_at: this.now.toISOString(),
        });
      }
    }
    return total;
  }

  async commit(): Promise<number> {
    return this.write(this.detach());
  }
}

/** Checked rows of one entity waiting for the store, with their keys and the line each came from. */
interface PendingRows {
  rows: Record<string, unknown>[];
  keys: Set<string>;
  lines: number[];
}

interface PendingWrite {
  rows: Map<EntityKind, PendingRows>;
  quarantine: QuarantinedRow[];
}

async function quarantinedKeys(store: Store, fp: string): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const k of entityKinds) {
    const batch = batchId(fp, k);
    for await (const rows of quarantinePages(store, { batch })) for (const r of rows) seen.add(`${batch}\u0001${r.file}\u0001${r.line}\u0001${r.code}\u0001${r.field ?? ''}`);
  }
  return seen;
}

async function importFile(store: Store, task: FileTask, known: KnownIds, matcher: TrackMatcher, opts: ImportOptions): Promise<FileSummary> {
  const now = (opts.clock ?? (() => new Date()))();
  const fp = await fingerprint(task.file);
  const progress = await store.getMeta<Progress>(PROGRESS_NS, fp.id);
  if (progress?.done && !opts.force) return { file: task.file, parser: task.parser, status: 'unchanged', from_line: progress.line, counts: {}, notes: [], validation: [] };
  const from = progress && !progress.done ? progress.line : 0;
  const source = task.source ?? task.parser;
  const schemas = await loadSchemas(store, source);
  if (goesBulk(task, fp.size, opts.bulk) && from === 0) {
    if (!bulkStore(store)) {
      if (task.parser === 'parquet') throw new DeepcutError('invalid_input', `Parquet files are read by DuckDB: the ${store.backend} store takes no bulk import`, { file: task.file });
    } else {
      const done = await importFileBulk(store, { task, fp, known, schemas, seenQ: await quarantinedKeys(store, fp.id), now, opts });
      if (done) return done;
    }
  }
  if (task.parser === 'parquet') throw new DeepcutError('invalid_input', 'Parquet files are read by DuckDB only (bulk import); run without --bulk off', { file: task.file });
  const handler: RecordHandler = await parsers[task.parser](task.context, { matcher });
  const ctx: CheckContext = { now: now.getTime(), known };
  const sink = new RowSink(store, ctx, schemas, task.file, task.parser, fp.id, await quarantinedKeys(store, fp.id), now);
  const batchSize = opts.batchSize ?? 50_000;
  const kind = task.framing === 'lines' ? 'lines' : task.framing === 'json-array' ? 'array' : await sniffJson(task.file);
  let lastLine = from;
  const saveContext = async () => {
    for (const entity of new Set<EntityKind>([task.entity, ...sink.counts.keys()])) {
      const c: BatchContext = { parser: task.parser, source, file: task.file, entity, context: { ...task.context, ...handler.context?.() } };
      await store.putMeta(BATCHES_NS, batchId(fp.id, entity), c);
    }
  };
  const saveProgress = async (line: number, done: boolean) => {
    await store.putMeta(PROGRESS_NS, fp.id, { file: resolve(task.file), size: fp.size, mtime_ms: fp.mtimeMs, line, done, updated_at: new Date().toISOString() } satisfies Progress);
  };
  // One batch is written while the next is read (the store works on its own threads); at most two are held.
  let inflight: Promise<void> = Promise.resolve();
  let failure: unknown;
  const commit = async () => {
    const line = Math.min(lastLine, (handler.pendingSince?.() ?? Infinity) - 1);
    const job = sink.detach();
    await inflight;
    if (failure) throw failure;
    inflight = (async () => {
      const rows = await sink.write(job);
      if (!handler.aggregates) {
        await saveProgress(line, false);
        opts.onCommit?.({ file: task.file, line, rows });
        log('ingest').debug({ file: task.file, line, rows }, 'committed');
      }
    })().catch((e: unknown) => {
      failure = e;
    });
  };
  let contextSaved = false;
  let content = false;
  if (kind !== 'empty') {
    for await (const batch of frames(task, opts.maxLineBytes, kind)) {
      for (const f of batch) {
        content ||= f.issue !== undefined || f.text.trim() !== '';
        if (f.line <= from) {
          if (!f.issue && f.text.trim() !== '') handler.skipped?.(f.text, f.line);
          continue;
        }
        sink.locate(f.line, f.text);
        if (f.issue) sink.reject(task.entity, null, f.issue.code, f.issue.reason);
        else if (f.text.trim() !== '') handler.record(f.text, f.line, sink);
        lastLine = f.line;
        if (sink.pendingRows >= batchSize) {
          if (!contextSaved) {
            await saveContext();
            contextSaved = true;
          }
          await commit();
        }
      }
    }
  }
  if (!content && from === 0) sink.note('empty file', 0);
  await inflight;
  if (failure) throw failure;
  sink.locate(lastLine, '');
  await handler.finish?.(sink, store);
  await saveContext();
  await sink.commit();
  await saveProgress(lastLine, true);

  const validation: FileSummary['validation'] = [];
  for (const [entity, c] of sink.counts) {
    if (c.read === 0) continue;
    const rec = await validateBatch(store, {
      batch: batchId(fp.id, entity),
      entity,
      format: task.parser,
      source,
      openFields: task.openFields,
      file: task.file,
      stats: sink.stats.get(entity) ?? new BatchStats(entity),
      counts: c,
      anomalies: [...(sink.anomalies.get(entity)?.values() ?? [])],
      config: opts.validation ?? defaultConfig().validation,
      now,
    });
    validation.push({ batch: rec.batch, entity, status: rec.status, reasons: rec.reasons, anomaly_rate: rec.anomaly_rate });
    if (rec.schema_inferred) {
      const doc = await loadSchema(store, entity, source);
      if (doc) schemas[entity] = compileSchema(doc);
    }
  }
  return { file: task.file, parser: task.parser, status: from > 0 ? 'resumed' : 'imported', from_line: from, counts: Object.fromEntries(sink.counts), notes: sink.notes, validation };
}

/** Error codes of the OS (and of PostgreSQL: classes 53 insufficient resources, 58 system error, 25006 read-only transaction) that say the store cannot take writes. */
const STORE_IO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EFBIG', '25006']);
const STORE_IO_MESSAGE = /no space left|disk (is )?full|quota exceeded|read-only file system|could not (write|extend|fsync)|IO Error/i;

/**
 * A failed store write as the error a user can act on: a full disk, a quota or a broken file system
 * become DeepcutError('unavailable') (exit 6), a read-only one 'conflict' (exit 5), naming the cause
 * and the resume point;
 * anything else is left as it is (a bug).
 */
export function storeWriteFailure(e: unknown, file: string): unknown {
  if (isDeepcutError(e) || !(e instanceof Error)) return e;
  const code = String((e as { code?: unknown }).code ?? '');
  if (!STORE_IO_CODES.has(code) && !/^5[38]/.test(code) && !STORE_IO_MESSAGE.test(e.message)) return e;
  // a store this process may not write is a conflict (exit 5), as a write to a store opened read-only is
  const readOnly = ['EROFS', 'EACCES', 'EPERM', '25006'].includes(code) || /read-only file system|permission denied/i.test(e.message);
  return new DeepcutError(
    readOnly ? 'conflict' : 'unavailable',
    `the store cannot be written (${e.message}${code && !e.message.includes(code) ? `, ${code}` : ''}); rows up to the last committed batch are kept: free space (or make the store writable) and run the same import again, it resumes there`,
    { file },
    { cause: e },
  );
}

const WRITES = new Set(['bulkPut', 'put', 'quarantine', 'releaseQuarantine', 'putMeta', 'deleteMeta']);

/** `store` with every write's failure passed through {@link storeWriteFailure}. */
function guardWrites(store: Store, file: () => string): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !WRITES.has(prop) || typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        try {
          return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (e) {
          throw storeWriteFailure(e, file());
        }
      };
    },
  });
}

/**
 * Import `path` (a file or folder) in `format` into `store`.
 * Example: `await importPath(store, 'hetrec-lastfm', '../shared/data/hetrec2011-lastfm-2k')`.
 */
export async function importPath(store: Store, format: string, path: string, opts: ImportOptions = {}): Promise<ImportSummary> {
  const f = formatByName(format);
  if (!f) throw new DeepcutError('invalid_input', `unknown import format "${format}"; known: ${formats.map((x) => x.name).join(', ')}`, { field: 'format' });
  const t0 = performance.now();
  const tasks = await f.plan(path, opts);
  const matcher = new TrackMatcher();
  const known = await loadKnownIds(store, matcher);
  const files: FileSummary[] = [];
  let current = path;
  const guarded = guardWrites(store, () => current);
  for (const task of tasks) {
    current = task.file;
    files.push(await importFile(guarded, task, known, matcher, opts));
  }
  const totals: Partial<Record<EntityKind, EntityCounts>> = {};
  for (const fs of files)
    for (const [k, c] of Object.entries(fs.counts) as [EntityKind, EntityCounts][]) {
      const t = (totals[k] ??= zero());
      t.read += c.read;
      t.imported += c.imported;
      t.duplicates += c.duplicates;
      t.quarantined += c.quarantined;
    }
  const elapsed = (performance.now() - t0) / 1000;
  const rowsRead = Object.values(totals).reduce((s, c) => s + c!.read, 0);
  return {
    format,
    path,
    files,
    totals,
    rows_read: rowsRead,
    elapsed_s: elapsed,
    rows_per_s: elapsed > 0 ? rowsRead / elapsed : 0,
    blocked: files.some((x) => x.validation.some((v) => v.status === 'blocked')),
  };
}
