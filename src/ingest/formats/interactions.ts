/**
 * A generic `user,item,weight[,timestamp]` CSV (comma or tab; a header row is recognised when its
 * weight column is not a number), so any dataset can be evaluated: MovieLens `ratings.csv`
 * (userId,movieId,rating,timestamp) imports as is. Timestamps are ISO 8601 or seconds since the epoch.
 */
import { stat } from 'node:fs/promises';
import { DeepcutError } from '../../errors.ts';
import { splitCsv } from '../csv.ts';
import { isoOfMs } from '../identity.ts';
import type { ImportFormat, RecordHandler } from './types.ts';

export const interactionsFormat: ImportFormat = {
  name: 'interactions',
  description: 'generic CSV user,item,weight[,timestamp] (items are tracks unless --item-kind artist)',
  async plan(path, opts) {
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new DeepcutError('not_found', 'no such file', { file: path });
    return [{ file: path, parser: 'interactions', entity: 'interactions', framing: 'lines', encoding: opts.encoding ?? 'utf8', context: { itemKind: opts.itemKind ?? 'track' } }];
  },
};

export function interactionsHandler(context: Record<string, unknown>): RecordHandler {
  const itemKind = (context.itemKind as string) ?? 'track';
  let delimiter = context.delimiter as string | undefined;
  let first = true;
  const names = ['user', 'item', 'weight', 'timestamp'];
  return {
    record(text, line, out) {
      delimiter ??= text.includes('\t') && !text.includes(',') ? '\t' : ',';
      const c = splitCsv(text, delimiter);
      const wasFirst = first;
      first = false;
      if (!c) {
        out.reject('interactions', null, 'invalid_csv', 'a quoted field is not closed on this line');
        return;
      }
      if (wasFirst && c.length >= 3 && !Number.isFinite(Number(c[2])) && line <= 2) return; // header row
      if (c.length < 3 || c.length > 4) {
        out.reject('interactions', c.length < 3 ? names[c.length] : null, 'invalid_csv', `${c.length} columns, expected user,item,weight[,timestamp]`);
        return;
      }
      const row: Record<string, unknown> = { user_id: c[0], item_id: c[1], item_kind: itemKind };
      const w = c[2].trim();
      if (w !== '') row.weight = Number.isFinite(Number(w)) ? Number(w) : w;
      const ts = c[3]?.trim();
      // seconds since the epoch become an instant; a number no date can hold is kept as text, and the schema refuses it with the field named
      if (ts) row.at = /^\d+(\.\d+)?$/.test(ts) ? (isoOfMs(Number(ts) * 1000) ?? ts) : ts;
      out.row('interactions', row);
    },
    skipped() {
      first = false;
    },
    context: () => ({ itemKind, delimiter }),
  };
}
