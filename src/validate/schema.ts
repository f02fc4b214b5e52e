/**
 * The data schema of an entity from one source, inferred from that source's first good batch (as
 * TFDV's `infer_schema`), stored in store meta `validation-schema/<entity>` (deepcut's own files)
 * or `validation-schema/<entity>@<source>` (another source, e.g. `tracks@spotify-extended`) and
 * editable (`deepcut validate schema edit`). Sources are kept apart because what they hold
 * differs by design: tracks made from a Spotify history have placeholder lengths and dates, no
 * ISRC; that is not drift of the data.
 * Per feature: its kind, the share of rows that must have it, an optional domain of allowed
 * values, and the drift comparator with its threshold and histogram edges.
 */
import { z } from 'zod';
import { entityKinds, type EntityKind } from '../domain/schemas.ts';
import { DeepcutError } from '../errors.ts';
import { fieldsOf } from '../domain/fields.ts';
import type { Store } from '../store/index.ts';
import { equalEdges, type BatchStatistics } from './stats.ts';

const FeatureSchemaZ = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(['categorical', 'numeric', 'timestamp', 'length']),
  /** Share of rows (0..1) that must have the field (TFDV presence.min_fraction). */
  min_fraction: z.number().min(0).max(1),
  /** Allowed values; a row with another value is quarantined as `unknown_enum`. */
  domain: z.array(z.string()).optional(),
  drift: z
    .strictObject({
      /** `linf`: L-infinity distance of the value shares (categorical); `jsd`: Jensen–Shannon divergence of the histograms (numeric). */
      metric: z.enum(['linf', 'jsd']),
      /** Overrides config validation.maxCategoricalDrift / maxNumericDrift for this feature. */
      threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
  /** Histogram edges for the numeric drift comparison. */
  bins: z.array(z.number()).min(2).optional(),
});

export const EntitySchemaDocZ = z.strictObject({
  entity: z.enum(entityKinds as [EntityKind, ...EntityKind[]]),
  /** The source whose batches it describes; absent = deepcut's own files ({@link OWN_SOURCE}). */
  source: z.string().min(1).optional(),
  version: z.literal(1),
  inferred_from: z.string(),
  inferred_at: z.string(),
  edited_at: z.string().optional(),
  features: z.array(FeatureSchemaZ),
});

export type FeatureSchema = z.infer<typeof FeatureSchemaZ>;
export type EntitySchemaDoc = z.infer<typeof EntitySchemaDocZ>;

/** A schema ready for row checks. */
export interface DataSchema {
  doc: EntitySchemaDoc;
  domains: { name: string; values: Set<string> }[];
}

export const SCHEMA_NS = 'validation-schema';

/** A free-text field is given a domain when its first batch shows at most this many values… */
export const DOMAIN_MAX_VALUES = 20;
/** …over at least this many rows. */
export const DOMAIN_MIN_ROWS = 50;

/** The source of deepcut's own jsonl/csv files, whose keys are the bare entity names. */
export const OWN_SOURCE = 'deepcut';

/** Meta key of an entity's schema and latest batch for one source: `tracks`, `tracks@spotify-extended`. */
export function baselineKey(entity: EntityKind, source: string = OWN_SOURCE): string {
  return source === OWN_SOURCE ? entity : `${entity}@${source}`;
}

/** Options of {@link inferSchema}. */
export interface InferOptions {
  /** The batch's source (default deepcut's own files). */
  source?: string;
  /** Fields whose values the source does not draw from a fixed set (device names with OS versions): no domain, no drift. */
  openFields?: readonly string[];
}

/** Infer a schema from a good batch's statistics. */
export function inferSchema(stats: BatchStatistics, batch: string, now: Date, opts: InferOptions = {}): EntitySchemaDoc {
  const open = new Set(opts.openFields ?? []);
  const types = new Map(fieldsOf(stats.entity).map((f) => [f.name, f.type]));
  const features = stats.features.map((f): FeatureSchema => {
    const type = types.get(f.name);
    const out: FeatureSchema = { name: f.name, kind: f.kind, min_fraction: f.missing === 0 && f.count > 0 ? 1 : 0 };
    if (f.kind === 'categorical') {
      if (type === 'string' && !open.has(f.name) && f.top_exact && f.top && f.top.length <= DOMAIN_MAX_VALUES && f.count >= DOMAIN_MIN_ROWS) out.domain = f.top.map((t) => t.value).sort();
      if (type === 'enum' || type === 'boolean' || out.domain) out.drift = { metric: 'linf' };
    } else if (f.kind === 'numeric' && f.quantiles) {
      const q = (p: number) => f.quantiles!.find((x) => x.p === p)!.value;
      out.drift = { metric: 'jsd' };
      out.bins = equalEdges(q(0.01), q(0.99));
    }
    return out;
  });
  const source = opts.source && opts.source !== OWN_SOURCE ? { source: opts.source } : {};
  return { entity: stats.entity, ...source, version: 1, inferred_from: batch, inferred_at: now.toISOString(), features };
}

export function compileSchema(doc: EntitySchemaDoc): DataSchema {
  return { doc, domains: doc.features.filter((f) => f.domain).map((f) => ({ name: f.name, values: new Set(f.domain) })) };
}

/** Validate an edited schema document; the error names the bad key. */
export function parseSchemaDoc(json: unknown, where = 'schema'): EntitySchemaDoc {
  const r = EntitySchemaDocZ.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new DeepcutError('invalid_input', `${i.message}`, { file: where, field: i.path.join('.') || undefined });
  }
  const known = new Set(fieldsOf(r.data.entity).map((f) => f.name));
  for (const f of r.data.features) if (!known.has(f.name)) throw new DeepcutError('invalid_input', `${f.name} is not a field of ${r.data.entity}`, { file: where, field: 'features' });
  return r.data;
}

/** The schema of `entity` from `source` (default deepcut's own files), if one was inferred. */
export async function loadSchema(store: Store, entity: EntityKind, source?: string): Promise<EntitySchemaDoc | undefined> {
  return store.getMeta<EntitySchemaDoc>(SCHEMA_NS, baselineKey(entity, source));
}

/** Every stored schema, of every entity and source. */
export async function listSchemas(store: Store): Promise<EntitySchemaDoc[]> {
  return (await store.listMeta<EntitySchemaDoc>(SCHEMA_NS)).map((m) => m.value);
}

export async function saveSchema(store: Store, doc: EntitySchemaDoc): Promise<void> {
  await store.putMeta(SCHEMA_NS, baselineKey(doc.entity, doc.source), doc);
}
