/**
 * Quarantine replay: parse every kept raw record again with the parser that first read it, check
 * it against the current schema and the ids the store holds now, store the rows that pass and
 * release them from the quarantine; the rest stay, with their original reason.
 * Records kept only in part (`line_too_long`, `truncated`) and rows of aggregated files (HetRec
 * tag assignments) cannot be parsed again and always stay.
 */
import { defaultConfig, type Config } from '../config/config.ts';
import type { EntityKind } from '../domain/schemas.ts';
import type { QuarantinedRow, Store } from '../store/index.ts';
import { checkRow, type CheckContext } from '../validate/index.ts';
import { baselineKey, compileSchema, loadSchema, OWN_SOURCE, type DataSchema } from '../validate/index.ts';
import { parsers } from './formats/index.ts';
import { IMPORT_ORDER } from './formats/own.ts';
import type { RecordHandler, Sink } from './formats/types.ts';
import { BATCHES_NS, keyOf, loadKnownIds, type BatchContext } from './import.ts';
import { quarantinePages } from '../store/index.ts';
import { TrackMatcher } from '../domain/match.ts';

export interface ReplayResult {
  examined: number;
  released: number;
  kept: number;
  /** Rows stored (new) and already present, per entity. */
  imported: Partial<Record<EntityKind, number>>;
  duplicates: Partial<Record<EntityKind, number>>;
  /** Why the first kept rows still fail (up to 20). */
  still_failing: { id: number; line: number; field: string | null; code: string; reason: string }[];
}

const UNREPLAYABLE = new Set(['line_too_long', 'truncated']);

/** Replay the quarantine (one batch, or all). */
export async function replayQuarantine(store: Store, opts: { batch?: string; clock?: () => Date; validation?: Config['validation'] } = {}): Promise<ReplayResult> {
  void (opts.validation ?? defaultConfig().validation);
  const now = (opts.clock ?? (() => new Date()))();
  const matcher = new TrackMatcher();
  const known = await loadKnownIds(store, matcher);
  const schemas = new Map<string, DataSchema | undefined>();
  const ctx: CheckContext = { now: now.getTime(), known };
  const contexts = new Map<string, BatchContext | undefined>();
  const rows: QuarantinedRow[] = [];
  for await (const page of quarantinePages(store, opts.batch !== undefined ? { batch: opts.batch } : {})) rows.push(...page);
  const result: ReplayResult = { examined: rows.length, released: 0, kept: 0, imported: {}, duplicates: {}, still_failing: [] };
  const pending = new Map<EntityKind, Map<string, Record<string, unknown>>>();
  const release: number[] = [];
  const keep = (q: QuarantinedRow, field: string | null, code: string, reason: string) => {
    result.kept++;
    if (result.still_failing.length < 20) result.still_failing.push({ id: q.id!, line: q.line, field, code, reason });
  };
  for (const q of rows) {
    if (UNREPLAYABLE.has(q.code)) {
      keep(q, q.field, q.code, q.reason);
      continue;
    }
    if (!contexts.has(q.batch)) contexts.set(q.batch, await store.getMeta<BatchContext>(BATCHES_NS, q.batch));
    const bc = contexts.get(q.batch);
    const factory = parsers[q.format];
    if (!factory || (!bc && q.format !== 'jsonl')) {
      keep(q, q.field, q.code, `cannot replay: no parser context for batch ${q.batch}`);
      continue;
    }
    const context = q.format === 'jsonl' ? { ...(bc?.context ?? {}), entity: q.entity } : bc!.context;
    const handler: RecordHandler = await factory(context, { matcher });
    if (handler.aggregates) {
      keep(q, q.field, q.code, q.reason);
      continue;
    }
    const got: { entity: EntityKind; value: Record<string, unknown> }[] = [];
    let failure: { field: string | null; code: string; reason: string } | undefined;
    const sink: Sink = {
      row: (entity, value) => got.push({ entity, value }),
      reject: (_e, field, code, reason) => (failure ??= { field, code, reason }),
      note: () => undefined,
      locate: () => undefined,
    };
    handler.record(q.raw, q.line, sink);
    const checked: { entity: EntityKind; row: Record<string, unknown> }[] = [];
    for (const g of got) {
      if (failure) break;
      // the schema of the batch's own source (batches from before sources: their parser, deepcut's own for jsonl/csv)
      const source = bc?.source ?? (bc?.parser === 'jsonl' || bc?.parser === 'csv' || !bc ? OWN_SOURCE : bc.parser);
      const key = baselineKey(g.entity, source);
      if (!schemas.has(key)) {
        const doc = await loadSchema(store, g.entity, source);
        schemas.set(key, doc ? compileSchema(doc) : undefined);
      }
      ctx.schema = schemas.get(key);
      const r = checkRow(g.entity, g.value, ctx);
      if (!r.ok) failure = r;
      else checked.push({ entity: g.entity, row: r.row as Record<string, unknown> });
    }
    if (failure || checked.length === 0) {
      keep(q, failure?.field ?? q.field, failure?.code ?? q.code, failure?.reason ?? q.reason);
      continue;
    }
    for (const c of checked) {
      known.add(c.entity, c.row);
      let m = pending.get(c.entity);
      if (!m) pending.set(c.entity, (m = new Map()));
      m.set(keyOf(c.entity, c.row), c.row);
    }
    release.push(q.id!);
  }
  for (const kind of IMPORT_ORDER) {
    const m = pending.get(kind);
    if (!m?.size) continue;
    const r = await store.bulkPut(kind, [[...m.values()] as never[]]);
    result.imported[kind] = r.inserted;
    result.duplicates[kind] = r.duplicates;
  }
  result.released = await store.releaseQuarantine(release);
  return result;
}
