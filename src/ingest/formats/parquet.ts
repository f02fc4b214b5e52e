/**
 * Parquet files of deepcut's entities (column names as the fields in docs/formats.md), one file
 * per entity like the jsonl format (`listens.parquet`, `tracks-2024.parquet`; a folder imports
 * every entity file it holds, in dependency order). DuckDB reads them (ingest/bulk.ts); a row's
 * position is its row number in the file (quarantine `line`, 1-based) and, in the reason, its row
 * group and row within it. Rows judged one by one are kept as deepcut JSON lines (replayable).
 */
import { OWN_SOURCE } from '../../validate/index.ts';
import { entityFiles } from './own.ts';
import type { FileTask, ImportFormat } from './types.ts';

export const parquetFormat: ImportFormat = {
  name: 'parquet',
  description: "Parquet files of deepcut's entities, one per entity (listens.parquet, interactions.parquet, tracks.parquet, …), read by DuckDB",
  async plan(path, opts) {
    const files = await entityFiles('parquet', ['.parquet'], path, opts);
    return files.map(({ file, entity }): FileTask => ({ file, parser: 'parquet', entity, framing: 'lines', encoding: 'utf8', context: { entity }, source: OWN_SOURCE }));
  },
};
