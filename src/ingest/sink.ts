/**
 * What an import and a replay share: the options and summaries of an import, the store meta it
 * keeps (progress, batches), and {@link RowSink}, where rows are checked and stored and rejects
 * quarantined, for the streaming path (import.ts) and the rows the bulk path judges one by one
 * (bulk.ts).
 */
import { entityKeys, entityKinds, type EntityKind } from '../domain/schemas.ts';
import { isDeepcutError } from '../errors.ts';
import { log } from '../log.ts';
import type { QuarantinedRow, Store } from '../store/index.ts';
import { checkRow, validateBatch, BatchStats, type AnomalyCount, type CheckContext, type DataSchema, type StatsSource, type ValidationRecord } from '../validate/index.ts';
import { defaultConfig } from '../config/config.ts';
import type { FileTask } from './formats/types.ts';
import type { Config } from '../config/config.ts';
import type { FormatOptions, Sink } from './formats/types.ts';
import { IMPORT_ORDER } from './formats/own.ts';
import { fieldsOf } from '../domain/fields.ts';

/** `auto`: bulk for files of 16 MiB or more that the bulk path can take; `on`: every file it can take; `off`: always stream (see bulk.ts). */
export type BulkMode = 'auto' | 'on' | 'off';

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
  /** Lines (Parquet: rows) a bulk import stores per transaction of the embedded store (default 1,000,000; tests use a few). */
  bulkChunkLines?: number;
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

export interface Progress {
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


/** Batch id of one entity's rows from one file version: `<fingerprint>.<entity>`. */
export const batchId = (fp: string, entity: string) => `${fp}.${entity}`;

export const zero = (): EntityCounts => ({ read: 0, imported: 0, duplicates: 0, quarantined: 0 });

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


/** Validate one entity's batch of a file (streaming or bulk): its verdict for the file summary, and whether a schema was inferred from it. */
export async function validateFileBatch(
  store: Store,
  b: { task: FileTask; fp: string; entity: EntityKind; stats: StatsSource; counts: EntityCounts; sink: RowSink; opts: ImportOptions; now: Date },
): Promise<FileSummary['validation'][number] & { inferred: boolean }> {
  const rec = await validateBatch(store, {
    batch: batchId(b.fp, b.entity),
    entity: b.entity,
    format: b.task.parser,
    source: b.task.source ?? b.task.parser,
    openFields: b.task.openFields,
    file: b.task.file,
    stats: b.stats,
    counts: b.counts,
    anomalies: [...(b.sink.anomalies.get(b.entity)?.values() ?? [])],
    config: b.opts.validation ?? defaultConfig().validation,
    now: b.now,
  });
  return { batch: rec.batch, entity: b.entity, status: rec.status, reasons: rec.reasons, anomaly_rate: rec.anomaly_rate, inferred: rec.schema_inferred };
}
