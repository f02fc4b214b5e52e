import type { Command } from 'commander';
import { emit, table } from '../output.ts';
import type { ImportSummary } from '../../ingest/index.ts';
import type { EntityKind } from '../../domain/schemas.ts';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({ ...(await import('../context.ts')), ...(await import('../../util/progress.ts')), ...(await import('../../ingest/index.ts')) });

/**
 * The help text's copy of `formats` (ingest/formats/index.ts) and `entityKinds` (domain/schemas.ts),
 * so that `deepcut import --help` loads no ingest code; help.test.ts keeps them equal to the originals.
 */
export const formats: readonly { name: string; description: string }[] = [
  { name: 'jsonl', description: "deepcut's own JSON Lines: one object per line, one file per entity (listens.jsonl, tracks.jsonl, …)" },
  { name: 'csv', description: "deepcut's own CSV: a header row of field names, one file per entity (tracks.csv, users.csv, …)" },
  { name: 'spotify-history', description: 'Spotify Extended Streaming History (Streaming_History_Audio_*.json) or account-data StreamingHistory*.json; needs --user' },
  { name: 'listenbrainz', description: 'ListenBrainz listen export (JSON array or JSONL; a folder imports every .json/.jsonl in it, recursively)' },
  { name: 'hetrec-lastfm', description: 'HetRec 2011 Last.fm 2K folder: artists, user–artist play counts (as interactions), tag documents, friendships' },
  { name: 'interactions', description: 'generic CSV user,item,weight[,timestamp] (items are tracks unless --item-kind artist)' },
  { name: 'open-bandit', description: 'Open Bandit Dataset folder (<policy>/<campaign>/<campaign>.csv[.gz]): logged clicks as impressions with propensity and reward' },
  { name: 'parquet', description: "Parquet files of deepcut's entities, one per entity (listens.parquet, interactions.parquet, tracks.parquet, …), read by DuckDB" },
];
export const entityKinds: readonly EntityKind[] = ['artists', 'albums', 'tracks', 'users', 'follows', 'listens', 'interactions', 'documents', 'impressions'];

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new DeepcutError('invalid_input', `expected a positive integer, got "${v}"`, { field: flag });
  return n;
}

/** Human summary: one row per entity (read = imported + duplicates + quarantined), then per-file notes and validation. */
export function formatSummary(s: ImportSummary): string {
  const rows = Object.entries(s.totals).map(([k, c]) => [k, c!.read, c!.imported, c!.duplicates, c!.quarantined]);
  const lines = [`import ${s.format} ${s.path}: ${s.rows_read.toLocaleString('en-US')} rows in ${s.elapsed_s.toFixed(1)} s`, '', table(['entity', 'read', 'imported', 'duplicates', 'quarantined'], rows)];
  for (const f of s.files) {
    const extra = [
      f.status === 'unchanged' ? 'unchanged since its last complete import: skipped (--force reads it again)' : f.status === 'resumed' ? `resumed after line ${f.from_line}` : '',
      ...f.notes.map((n) => (n.n ? `${n.n.toLocaleString('en-US')} ${n.what}` : n.what)),
      ...f.validation.filter((v) => v.status !== 'ok').map((v) => `BLOCKED ${v.entity} batch ${v.batch}: ${v.reasons.join('; ')}`),
    ].filter(Boolean);
    if (extra.length) lines.push('', `${f.file}:`, ...extra.map((e) => `  ${e}`));
  }
  if (Object.values(s.totals).some((c) => c!.quarantined > 0)) lines.push('', 'rejected rows are kept: `deepcut quarantine list`');
  return lines.join('\n');
}

/** `deepcut import <format> <path>`: stream a file or folder into the store, validated, resumable. */
export function register(program: Command): void {
  program
    .command('import')
    .description(`import listening data, catalog and documents (formats: ${formats.map((f) => f.name).join(', ')})`)
    .argument('<format>', formats.map((f) => `${f.name}: ${f.description}`).join('; '))
    .argument('<path>', 'a file or a folder')
    .option('--entity <entity>', `entity of a jsonl/csv file whose name does not say (${entityKinds.join(', ')})`)
    .option('--user <user_id>', 'whose history this is (spotify-history; listenbrainz without user_name)')
    .option('--item-kind <kind>', 'interactions: items are track (default) or artist')
    .option('--encoding <enc>', 'utf8 (bad bytes are quarantined), auto (Latin-1 fallback per line), or any iconv-lite name such as latin1')
    .option('--batch-size <n>', 'rows per store transaction', '50000')
    .option('--max-line-bytes <n>', 'longest record accepted', String(1 << 20))
    .option('--force', 'read files again even when already fully imported')
    .option('--bulk <mode>', 'auto: files of 16 MiB or more (listens, interactions; Parquet always) are parsed, checked and loaded by the database; on: every such file; off: stream every file', 'auto')
    .action(async (format: string, path: string, o: Record<string, string | boolean | undefined>, c: Command) => {
      const { configFrom, globals, withStore, progress, importPath } = await load();
      const config = configFrom(c);
      if (o.entity !== undefined && !entityKinds.includes(o.entity as EntityKind)) throw new DeepcutError('invalid_input', `unknown entity "${o.entity}"; one of ${entityKinds.join(', ')}`, { field: '--entity' });
      if (o.itemKind !== undefined && o.itemKind !== 'track' && o.itemKind !== 'artist') throw new DeepcutError('invalid_input', `expected track or artist, got "${o.itemKind}"`, { field: '--item-kind' });
      if (o.bulk !== 'auto' && o.bulk !== 'on' && o.bulk !== 'off') throw new DeepcutError('invalid_input', `expected auto, on or off, got "${o.bulk}"`, { field: '--bulk' });
      const bar = progress('import', 0);
      let rows = 0;
      const summary = await withStore(config, (store) =>
        importPath(store, format, path, {
          entity: o.entity as EntityKind | undefined,
          user: o.user as string | undefined,
          itemKind: o.itemKind as 'track' | 'artist' | undefined,
          encoding: o.encoding as string | undefined,
          batchSize: positiveInt(String(o.batchSize), '--batch-size'),
          maxLineBytes: positiveInt(String(o.maxLineBytes), '--max-line-bytes'),
          force: Boolean(o.force),
          bulk: o.bulk as 'auto' | 'on' | 'off',
          validation: config.validation,
          onCommit: (x) => {
            rows += x.rows;
            bar.setTotal(rows);
            bar.tick(x.rows);
          },
        }),
      );
      bar.done();
      emit(globals(c), summary, formatSummary);
    });
}
