/**
 * The validation verdict of one import batch (one file's rows of one entity): statistics, anomaly
 * counts, drift against the previous batch of the entity FROM THE SAME SOURCE, and a status. A
 * source's first batch is its baseline (its anomaly rate still counts); rows a Spotify history
 * makes up for the catalog are never compared with the catalog's own files. A batch whose anomaly rate or
 * drift passes the configured thresholds is `blocked`, and {@link assertNotBlocked} refuses to let
 * the pipeline train on the store until it is fixed (replay) or accepted (`deepcut validate accept`).
 *
 * Store meta: `validation/<batch>` (this record), `validation-stats/<batch>`,
 * `validation-latest/<entity>[@<source>]` (batch id), `validation-schema/<entity>[@<source>]`.
 */
import type { Config } from '../config/config.ts';
import type { EntityKind } from '../domain/schemas.ts';
import { DeepcutError } from '../errors.ts';
import type { Store } from '../store/index.ts';
import { jensenShannon, lInfinity, sameEdges } from './drift.ts';
import { baselineKey, inferSchema, loadSchema, OWN_SOURCE, saveSchema } from './schema.ts';
import { histogramOf, type StatsSource, type BatchStatistics } from './stats.ts';

export interface DriftResult {
  feature: string;
  metric: 'linf' | 'jsd';
  value: number;
  threshold: number;
  exceeded: boolean;
}

export interface AnomalyCount {
  code: string;
  field: string | null;
  count: number;
  /** One example reason, with its line. */
  example: string;
}

export interface ValidationRecord {
  batch: string;
  entity: EntityKind;
  format: string;
  /** The source whose batches it is compared with (absent in records from before sources: deepcut's own files). */
  source?: string;
  file: string;
  status: 'ok' | 'blocked' | 'accepted';
  /** Why it is blocked (empty when ok). */
  reasons: string[];
  rows_read: number;
  imported: number;
  duplicates: number;
  quarantined: number;
  /** Quarantined rows that are anomalies (not `unsupported` records) over rows read. */
  anomaly_rate: number;
  anomalies: AnomalyCount[];
  drift: DriftResult[];
  previous_batch?: string;
  schema_inferred: boolean;
  validated_at: string;
  accepted_reason?: string;
}

export const VALIDATION_NS = 'validation';
export const STATS_NS = 'validation-stats';
export const LATEST_NS = 'validation-latest';

export interface BatchInput {
  batch: string;
  entity: EntityKind;
  format: string;
  /** Where the rows come from ({@link OWN_SOURCE} by default): schema, presence and drift are per source. */
  source?: string;
  /** Fields with open-ended values in this source: no domain is inferred for them. */
  openFields?: readonly string[];
  file: string;
  stats: StatsSource;
  counts: { read: number; imported: number; duplicates: number; quarantined: number };
  anomalies: AnomalyCount[];
  config: Config['validation'];
  now: Date;
}

/** Compute and store the verdict of a finished batch (and infer the schema from the first good one). */
export async function validateBatch(store: Store, b: BatchInput): Promise<ValidationRecord> {
  const source = b.source ?? OWN_SOURCE;
  const key = baselineKey(b.entity, source);
  const schema = await loadSchema(store, b.entity, source);
  const bins: Record<string, number[]> = {};
  for (const f of schema?.features ?? []) if (f.bins) bins[f.name] = f.bins;
  const stats = b.stats.finish(bins);
  const prevBatch = await store.getMeta<string>(LATEST_NS, key);
  const prev = prevBatch && prevBatch !== b.batch ? await store.getMeta<BatchStatistics>(STATS_NS, prevBatch) : undefined;

  const reasons: string[] = [];
  const anomalous = b.anomalies.filter((a) => a.code !== 'unsupported').reduce((s, a) => s + a.count, 0);
  const rate = b.counts.read ? anomalous / b.counts.read : 0;
  if (rate > b.config.maxAnomalyRate) {
    const worst = [...b.anomalies].filter((a) => a.code !== 'unsupported').sort((x, y) => y.count - x.count).slice(0, 3);
    reasons.push(
      `${(rate * 100).toFixed(1)}% of ${b.counts.read} rows are anomalies (limit ${(b.config.maxAnomalyRate * 100).toFixed(1)}%, validation.maxAnomalyRate): ` +
        worst.map((a) => `${a.count} ${a.code}${a.field ? ` in ${a.field}` : ''}`).join(', '),
    );
  }
  // presence: a field the schema says every row has, missing from accepted rows (optional fields only)
  for (const f of schema?.features ?? []) {
    const s = stats.features.find((x) => x.name === f.name);
    if (!s || stats.rows === 0) continue;
    const present = s.count / stats.rows;
    if (present < f.min_fraction - b.config.maxAnomalyRate) reasons.push(`${f.name} is present in ${(present * 100).toFixed(1)}% of rows, the schema expects ${(f.min_fraction * 100).toFixed(0)}%`);
  }

  const drift: DriftResult[] = [];
  if (prev && stats.rows > 0 && prev.rows > 0) {
    for (const f of schema?.features ?? []) {
      if (!f.drift) continue;
      const cur = stats.features.find((x) => x.name === f.name);
      const old = prev.features.find((x) => x.name === f.name);
      if (!cur || !old || cur.count === 0 || old.count === 0) continue;
      let value: number;
      let threshold: number;
      if (f.drift.metric === 'linf') {
        value = lInfinity(old, cur);
        threshold = f.drift.threshold ?? b.config.maxCategoricalDrift;
      } else {
        if (!old.histogram || !cur.histogram) continue;
        const curHist = sameEdges(old.histogram, cur.histogram) ? cur.histogram : histogramOf(b.stats.sample(f.name), old.histogram.edges, cur.count);
        value = jensenShannon(old.histogram.counts, curHist.counts);
        threshold = f.drift.threshold ?? b.config.maxNumericDrift;
      }
      const exceeded = value > threshold;
      drift.push({ feature: f.name, metric: f.drift.metric, value, threshold, exceeded });
      if (exceeded) reasons.push(`${f.name} drifted from batch ${prevBatch}: ${f.drift.metric === 'linf' ? 'L-infinity distance' : 'Jensen–Shannon divergence'} ${value.toFixed(3)} > ${threshold}`);
    }
  }

  const status = reasons.length ? 'blocked' : 'ok';
  let inferred = false;
  if (!schema && status === 'ok' && stats.rows > 0) {
    await saveSchema(store, inferSchema(stats, b.batch, b.now, { source, openFields: b.openFields }));
    inferred = true;
  }
  const record: ValidationRecord = {
    batch: b.batch,
    entity: b.entity,
    format: b.format,
    source,
    file: b.file,
    status,
    reasons,
    rows_read: b.counts.read,
    imported: b.counts.imported,
    duplicates: b.counts.duplicates,
    quarantined: b.counts.quarantined,
    anomaly_rate: rate,
    anomalies: b.anomalies,
    drift,
    previous_batch: prev ? prevBatch : undefined,
    schema_inferred: inferred,
    validated_at: b.now.toISOString(),
  };
  await store.putMeta(STATS_NS, b.batch, stats);
  await store.putMeta(VALIDATION_NS, b.batch, record);
  // a blocked batch stays the latest so the gate holds; drift of the next one is measured against it
  await store.putMeta(LATEST_NS, key, b.batch);
  return record;
}

/** The latest validation record of every entity and source that has one. */
export async function latestValidation(store: Store): Promise<ValidationRecord[]> {
  const out: ValidationRecord[] = [];
  for (const { value: batch } of await store.listMeta<string>(LATEST_NS)) {
    const r = await store.getMeta<ValidationRecord>(VALIDATION_NS, batch);
    if (r) out.push(r);
  }
  return out;
}

/** Throw DeepcutError('blocked') naming each blocked batch and why, when any entity's latest batch is blocked. */
export async function assertNotBlocked(store: Store): Promise<void> {
  const blocked = (await latestValidation(store)).filter((r) => r.status === 'blocked');
  if (blocked.length === 0) return;
  const lines = blocked.map((r) => `batch ${r.batch} (${r.entity} from ${r.file}): ${r.reasons.join('; ')}`);
  throw new DeepcutError('blocked', `validation blocks the pipeline: ${lines.join(' | ')}. Fix the data and run \`deepcut quarantine replay\`, edit the schema (\`deepcut validate schema edit\`), or accept the batch (\`deepcut validate accept <batch>\`).`);
}

/** Mark a blocked batch as accepted by a person, with their reason; returns the updated record. */
export async function acceptBatch(store: Store, batch: string, reason: string): Promise<ValidationRecord> {
  const r = await store.getMeta<ValidationRecord>(VALIDATION_NS, batch);
  if (!r) throw new DeepcutError('not_found', `no validation record for batch ${batch}`);
  const updated: ValidationRecord = { ...r, status: 'accepted', accepted_reason: reason };
  await store.putMeta(VALIDATION_NS, batch, updated);
  return updated;
}
