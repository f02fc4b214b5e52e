import type { Command } from 'commander';
import { emit, table } from '../output.ts';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = () => import('../context.ts');
/** Replay re-parses rows: only it loads the ingest code. */
const loadReplay = async () => ({ ...(await load()), ...(await import('../../ingest/index.ts')) });

/** `deepcut quarantine list|show|replay`: the rejected rows, kept with reason, file, line and field. */
export function register(program: Command): void {
  const cmd = program.command('quarantine').description('rows rejected by import, kept with why and where; replay them after a fix');
  cmd
    .command('list', { isDefault: true })
    .description('list quarantined rows')
    .option('--batch <batch>', 'only this import batch')
    .option('--limit <n>', 'rows to show', '50')
    .option('--offset <n>', 'rows to skip', '0')
    .action(async (o: { batch?: string; limit: string; offset: string }, c: Command) => {
      const { configFrom, globals, withStore } = await load();
      const config = configFrom(c);
      const rows = await withStore(config, (store) => store.listQuarantine({ batch: o.batch, limit: Number(o.limit), offset: Number(o.offset) }), { readOnly: true });
      emit(globals(c), { rows: rows.map(({ raw, ...r }) => ({ ...r, raw: raw.length > 200 ? raw.slice(0, 200) + '…' : raw })) }, (r) =>
        r.rows.length === 0 ? 'the quarantine is empty' : table(['id', 'batch', 'where', 'field', 'code', 'reason'], r.rows.map((x) => [x.id ?? null, x.batch, `${x.file}:${x.line}`, x.field ?? '', x.code, x.reason.length > 100 ? x.reason.slice(0, 100) + '…' : x.reason])),
      );
    });
  cmd
    .command('show')
    .argument('<id>', 'quarantined row id')
    .description('one quarantined row with its raw text')
    .action(async (id: string, _o, c: Command) => {
      const { configFrom, globals, withStore } = await load();
      const config = configFrom(c);
      const n = Number(id);
      if (!Number.isSafeInteger(n) || n <= 0) throw new DeepcutError('invalid_input', `expected a row id, got "${id}"`, { field: 'id' });
      const row = await withStore(config, async (store) => (await store.listQuarantine({ afterId: n - 1, limit: 1 })).find((r) => r.id === n), { readOnly: true });
      if (!row) throw new DeepcutError('not_found', `no quarantined row ${n}`);
      emit(globals(c), row, (r) => [`${r.file}:${r.line}: ${r.field ? `field ${r.field}: ` : ''}${r.code}: ${r.reason}`, `batch ${r.batch}, entity ${r.entity}, format ${r.format}, kept ${r.quarantined_at}`, '', r.raw].join('\n'));
    });
  cmd
    .command('replay')
    .description('parse kept rows again against the current schema and store; import and release those that pass')
    .option('--batch <batch>', 'only this import batch')
    .action(async (o: { batch?: string }, c: Command) => {
      const { configFrom, globals, withStore, replayQuarantine } = await loadReplay();
      const config = configFrom(c);
      const r = await withStore(config, (store) => replayQuarantine(store, { batch: o.batch, validation: config.validation }));
      emit(globals(c), r, (x) =>
        [
          `replayed ${x.examined} rows: ${x.released} released (imported ${Object.entries(x.imported).map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing new'}), ${x.kept} kept`,
          ...x.still_failing.map((f) => `  #${f.id} line ${f.line}: ${f.field ? `field ${f.field}: ` : ''}${f.code}: ${f.reason}`),
        ].join('\n'),
      );
    });
}
