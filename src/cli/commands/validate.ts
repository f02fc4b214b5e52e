import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { emit, table } from '../output.ts';
import type { ValidationRecord } from '../../validate/index.ts';
import type { IdentityReport } from '../../validate/index.ts';
import type { BatchStatistics } from '../../validate/index.ts';
import type { EntityKind } from '../../domain/schemas.ts';
import { DeepcutError, exitCodeOf } from '../../errors.ts';

/** The help text's copy of validate/schema.ts `OWN_SOURCE` (help.test.ts keeps them equal). */
export const OWN_SOURCE = 'deepcut';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({
  ...(await import('../context.ts')),
  ...(await import('../../validate/index.ts')),
  ...(await import('../../validate/index.ts')),
  ...(await import('../../validate/index.ts')),
  ...(await import('../../validate/index.ts')),
  ...(await import('../../domain/schemas.ts')),
});

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

/** One line on how listens reach the catalog (see validate/identity.ts). */
function identityLine(i: IdentityReport): string {
  return (
    `listens on catalog tracks: ${pct(i.catalog_rate)} of ${i.listens.total} (${i.listens.catalog} direct or matched on arrival, ${i.listens.linked} through ${i.tracks.named_linked} linked created tracks); ` +
    `created from names: ${i.tracks.named} tracks, ${i.listens.linked + i.listens.unmatched} listens, ${pct(i.link_rate)} of them linked`
  );
}

function human(r: { batches: ValidationRecord[]; blocked: boolean; report?: string; identity: IdentityReport }): string {
  if (r.batches.length === 0) return ['no import has been validated yet', identityLine(r.identity)].join('\n');
  const t = table(
    ['entity', 'source', 'batch', 'status', 'rows', 'quarantined', 'anomaly %', 'max drift'],
    r.batches.map((b) => [b.entity, b.source ?? OWN_SOURCE, b.batch, b.status, b.rows_read, b.quarantined, +(b.anomaly_rate * 100).toFixed(2), b.drift.length ? Math.max(...b.drift.map((d) => d.value)) : null]),
  );
  const why = r.batches.filter((b) => b.status === 'blocked').flatMap((b) => b.reasons.map((x) => `BLOCKED ${b.entity} ${b.batch}: ${x}`));
  return [t, ...(why.length ? ['', ...why] : []), '', identityLine(r.identity), ...(r.report ? ['', `report: ${r.report}`] : [])].join('\n');
}

/** `deepcut validate`: the latest batch of every entity, its anomalies and drift; schema show/edit; accept. */
export function register(program: Command): void {
  const cmd = program
    .command('validate')
    .description('validation status of the latest import batch of every entity (exit code 7 when one blocks the pipeline)')
    .option('--report <file.html>', 'also write the HTML report (statistics, anomalies, drift)')
    .option('--all', 'every batch, not only the latest per entity')
    .action(async (o: { report?: string; all?: boolean }, c: Command) => {
      const { configFrom, globals, withStore, latestValidation, renderReport, identityReport, STATS_NS, VALIDATION_NS } = await load();
      const config = configFrom(c);
      const result = await withStore(
        config,
        async (store) => {
          const batches = o.all ? (await store.listMeta<ValidationRecord>(VALIDATION_NS)).map((m) => m.value) : await latestValidation(store);
          if (o.report) {
            const stats = new Map<string, BatchStatistics>();
            for (const b of batches) {
              const s = await store.getMeta<BatchStatistics>(STATS_NS, b.batch);
              if (s) stats.set(b.batch, s);
            }
            writeFileSync(o.report, renderReport(batches, stats, new Date()));
          }
          return { batches, blocked: batches.some((b) => b.status === 'blocked'), report: o.report, identity: await identityReport(store) };
        },
        { readOnly: true },
      );
      emit(globals(c), result, human);
      if (result.blocked) process.exitCode = exitCodeOf('blocked');
    });

  const schema = cmd.command('schema').description('the inferred data schema of an entity');
  schema
    .command('show')
    .argument('[entity]', 'entity (default: every entity and source with a schema)')
    .option('--source <source>', `whose batches the schema describes: ${OWN_SOURCE} (own jsonl/csv files, the default) or a parser such as spotify-extended`)
    .description('print the stored schema as JSON (edit it and load it back with `validate schema edit --file`)')
    .action(async (entity: string | undefined, o: { source?: string }, c: Command) => {
      const { configFrom, globals, withStore, loadSchema, listSchemas, entityKinds } = await load();
      const config = configFrom(c);
      if (entity && !entityKinds.includes(entity as EntityKind)) throw new DeepcutError('invalid_input', `unknown entity "${entity}"`, { field: 'entity' });
      const docs = await withStore(config, async (store) => {
        if (!entity) return listSchemas(store);
        const d = await loadSchema(store, entity as EntityKind, o.source);
        return d ? [d] : [];
      }, { readOnly: true });
      if (entity && docs.length === 0) throw new DeepcutError('not_found', `no schema for ${entity} from ${o.source ?? OWN_SOURCE} yet: it is inferred from the source's first good import batch`);
      emit(globals(c), entity ? docs[0] : { schemas: docs }, (r) => JSON.stringify(r, null, 2));
    });
  schema
    .command('edit')
    .description('replace an entity schema with an edited JSON file (validated first)')
    .requiredOption('--file <schema.json>', 'the edited schema (as printed by `validate schema show <entity>`)')
    .action(async (o: { file: string }, c: Command) => {
      const { configFrom, globals, withStore, parseSchemaDoc, saveSchema } = await load();
      const config = configFrom(c);
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(o.file, 'utf8'));
      } catch (e) {
        throw new DeepcutError('invalid_input', `cannot read the schema: ${(e as Error).message}`, { file: o.file });
      }
      const doc = parseSchemaDoc(json, o.file);
      doc.edited_at = new Date().toISOString();
      await withStore(config, (store) => saveSchema(store, doc));
      emit(globals(c), { saved: doc.entity, features: doc.features.length }, (r) => `schema of ${r.saved} saved (${r.features} features); run \`deepcut quarantine replay\` to re-check kept rows`);
    });

  cmd
    .command('accept')
    .argument('<batch>', 'batch id (from `deepcut validate`)')
    .requiredOption('--reason <text>', 'why the batch is fine after all')
    .description('unblock a blocked batch, recording who-knows-why in its validation record')
    .action(async (batch: string, o: { reason: string }, c: Command) => {
      const { configFrom, globals, withStore, acceptBatch } = await load();
      const config = configFrom(c);
      const r = await withStore(config, (store) => acceptBatch(store, batch, o.reason));
      emit(globals(c), r, (x) => `batch ${x.batch} (${x.entity}) accepted: ${x.accepted_reason}`);
    });
}
