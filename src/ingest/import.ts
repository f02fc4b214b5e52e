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
import { entityKinds, type EntityKind, type EntityRow } from '../domain/schemas.ts';
import { DeepcutError, isDeepcutError } from '../errors.ts';
import { log } from '../log.ts';
import type { Store } from '../store/index.ts';
import { KnownIds, type CheckContext } from '../validate/index.ts';
import { compileSchema, loadSchema, type DataSchema } from '../validate/index.ts';
import { BatchStats } from '../validate/index.ts';
import { pagesOf, quarantinePages } from '../store/index.ts';
import { formatByName, formats, parsers } from './formats/index.ts';
import type { FileTask, RecordHandler } from './formats/types.ts';
import { TrackMatcher } from '../domain/match.ts';
import { readJsonArray, readLines, sniffJson, type Frame } from '../util/lines.ts';
import { bulkStore, goesBulk, importFileBulk } from './bulk.ts';
import { batchId, BATCHES_NS, PROGRESS_NS, RowSink, validateFileBatch, zero, type BatchContext, type EntityCounts, type FileSummary, type ImportOptions, type ImportSummary, type Progress } from './sink.ts';

export * from './sink.ts';

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
    const { inferred, ...rec } = await validateFileBatch(store, { task, fp: fp.id, entity, stats: sink.stats.get(entity) ?? new BatchStats(entity), counts: c, sink, opts, now });
    validation.push(rec);
    if (inferred) {
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
