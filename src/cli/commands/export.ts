import type { Command } from 'commander';
import { emit } from '../output.ts';
import { DeepcutError } from '../../errors.ts';

/** What the action runs, imported only when it runs (`--help` loads none of it: see program.ts). */
const load = async () => ({
  ...(await import('../context.ts')),
  ...(await import('../../util/progress.ts')),
  ...(await import('../../ingest/index.ts')),
  ...(await import('../../pipeline/published.ts')),
});

/** The help text's copies of ingest/export.ts `exportKinds` and `lakeFormats` (help.test.ts keeps them equal). */
export const exportKinds = ['listens', 'interactions', 'playlists'] as const;
export const lakeFormats = ['parquet', 'csv', 'jsonl'] as const;

/**
 * `deepcut export listens|interactions|playlists --format parquet|csv|jsonl [--out FILE|-]`: the
 * store's listens or interactions, or the published run's playlists (one row per track), for a
 * data lake; files `deepcut import` takes back. Written by the database (COPY), with progress.
 */
export function register(program: Command): void {
  program
    .command('export')
    .description(`write listens, interactions or the published run's playlists as Parquet, CSV or JSON lines (${exportKinds.join('|')})`)
    .argument('<what>', exportKinds.join(', '))
    .option('--format <format>', lakeFormats.join(', '), 'parquet')
    .option('--out <file>', 'file to write, or - for stdout (default: <what>.<format> in the current folder)')
    .option('--run <run_id>', 'playlists: this run instead of the published one')
    .action(async (what: string, o: { format: string; out?: string; run?: string }, c: Command) => {
      if (!(exportKinds as readonly string[]).includes(what)) throw new DeepcutError('invalid_input', `cannot export "${what}"; one of ${exportKinds.join(', ')}`, { field: 'what' });
      if (!(lakeFormats as readonly string[]).includes(o.format)) throw new DeepcutError('invalid_input', `unknown format "${o.format}"; one of ${lakeFormats.join(', ')}`, { field: '--format' });
      const format = o.format as (typeof lakeFormats)[number];
      const out = o.out ?? `${what}.${format}`;
      if (out === '-' && format === 'parquet' && process.stdout.isTTY) throw new DeepcutError('invalid_input', 'Parquet is binary: pass --out FILE or redirect stdout', { field: '--out' });
      const { configFrom, globals, withStore, progress, exportEntity, exportPlaylists, readPublished, runFolder } = await load();
      const config = configFrom(c);
      const bar = progress(`export ${what}`, 0);
      const onProgress = (done: number, total: number) => {
        bar.setTotal(total);
        bar.tick(done - tick);
        tick = done;
      };
      let tick = 0;
      const result = await (async () => {
        if (what === 'playlists') {
          const { existsSync, readdirSync } = await import('node:fs');
          const { join } = await import('node:path');
          const runId = o.run ?? (await readPublished(config.home))?.runId;
          if (!runId) throw new DeepcutError('unavailable', 'no published run yet: run `deepcut pipeline run` first');
          const dir = join(await runFolder(config, runId), 'playlists');
          const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(dir, f)) : [];
          return exportPlaylists(files, format, out, { onProgress });
        }
        return withStore(config, (store) => exportEntity(store, what as 'listens' | 'interactions', format, out, { onProgress }), { readOnly: true });
      })();
      bar.done();
      // with the rows on stdout, the summary goes to stderr
      const summary = (r: typeof result) => `exported ${r.rows.toLocaleString('en-US')} ${what} rows as ${r.format} to ${r.out === '-' ? 'stdout' : r.out}`;
      if (out === '-') process.stderr.write((globals(c).json ? JSON.stringify(result) : summary(result)) + '\n');
      else emit(globals(c), result, summary);
    });
}
