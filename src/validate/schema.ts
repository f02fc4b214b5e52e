/**
 * The data schema of an entity, inferred from its first good batch (as TFDV's `infer_schema`),
 * stored in store meta `validation-schema/<entity>` and editable (`deepcut validate schema edit`).
 * Per feature: its kind, the share of rows that must have it, an optional domain of allowed
 * values, and the drift comparator with its threshold and histogram edges.
 */
import { z } from 'zod';
import { entityKinds, type EntityKind } from '../domain/schemas.ts';
import { DeepcutError } from '../errors.ts';
import { fieldsOf } from '../domain/fields.ts';
import type { Store } from '../store/store.ts';
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

/** Infer a schema from a good batch's statistics. */
export function inferSchema(stats: BatchStatistics, batch: string, now: Date): EntitySchemaDoc {
  const types = new Map(fieldsOf(stats.entity).map((f) => [f.name, f.type]));
  const features = stats.features.map((f): FeatureSchema => {
    const type = types.get(f.name);
    const out: FeatureSchema = { name: f.name, kind: f.kind, min_fraction: f.missing === 0 && f.count > 0 ? 1 : 0 };
    if (f.kind === 'categorical') {
      if (type === 'string' && f.top_exact && f.top && f.top.length <= DOMAIN_MAX_VALUES && f.count >= DOMAIN_MIN_ROWS) out.domain = f.top.map((t) => t.value).sort();
      if (type === 'enum' || type === 'boolean' || out.domain) out.drift = { metric: 'linf' };
    } else if (f.kind === 'numeric' && f.quantiles) {
      const q = (p: number) => f.quantiles!.find((x) => x.p === p)!.value;
      out.drift = { metric: 'jsd' };
      out.bins = equalEdges(q(0.01), q(0.99));
    }
    return out;
  });
  return { entity: stats.entity, version: 1, inferred_from: batch, inferred_at: now.toISOString(), features };
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

export async function loadSchema(store: Store, entity: EntityKind): Promise<EntitySchemaDoc | undefined> {
  return store.getMeta<EntitySchemaDoc>(SCHEMA_NS, entity);
}

export async function saveSchema(store: Store, doc: EntitySchemaDoc): Promise<void> {
  await store.putMeta(SCHEMA_NS, doc.entity, doc);
}
