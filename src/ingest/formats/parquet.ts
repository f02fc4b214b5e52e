/**
 * Parquet files of deepcut's entities (column names as the fields in docs/formats.md), one file
 * per entity like the jsonl format (`listens.parquet`, `tracks-2024.parquet`; a folder imports
 * every entity file it holds, in dependency order). DuckDB reads them (ingest/bulk.ts); a row's
 * position is its row number in the file (quarantine `line`, 1-based) and, in the reason, its row
 * group and row within it. Rows judged one by one are kept as deepcut JSON lines (replayable).
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { entityKinds, type EntityKind } from '../../domain/schemas.ts';
import { DeepcutError } from '../../errors.ts';
import { OWN_SOURCE } from '../../validate/index.ts';
import { entityOfFile, IMPORT_ORDER } from './own.ts';
import type { FileTask, ImportFormat } from './types.ts';

export const parquetFormat: ImportFormat = {
  name: 'parquet',
  description: "Parquet files of deepcut's entities, one per entity (listens.parquet, interactions.parquet, tracks.parquet, …), read by DuckDB",
  async plan(path, opts) {
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new DeepcutError('not_found', 'no such file or folder', { file: path });
    const files: { file: string; entity: EntityKind }[] = [];
    if (st.isDirectory()) {
      for (const name of (await readdir(path)).sort()) {
        const entity = entityOfFile(name);
        if (entity && extname(name).toLowerCase() === '.parquet') files.push({ file: join(path, name), entity });
      }
      if (files.length === 0) throw new DeepcutError('not_found', 'no Parquet entity files here (expected names like listens.parquet, tracks.parquet)', { file: path });
      files.sort((a, b) => IMPORT_ORDER.indexOf(a.entity) - IMPORT_ORDER.indexOf(b.entity));
    } else {
      const entity = opts.entity ?? entityOfFile(path);
      if (!entity) throw new DeepcutError('invalid_input', `cannot tell the entity from the file name; pass --entity (one of ${entityKinds.join(', ')})`, { file: path });
      files.push({ file: path, entity });
    }
    return files.map(({ file, entity }): FileTask => ({ file, parser: 'parquet', entity, framing: 'lines', encoding: 'utf8', context: { entity }, source: OWN_SOURCE }));
  },
};
