/**
 * deepcut's own format: one file per entity, JSON Lines (`listens.jsonl`) or CSV with a header row
 * (`tracks.csv`), fields as in `domain/schemas.ts` (see docs/formats.md). A folder imports every
 * entity file it holds, in dependency order.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, extname } from 'node:path';
import { entityKinds, type EntityKind } from '../../domain/schemas.ts';
import { DeepcutError } from '../../errors.ts';
import { splitCsv } from '../csv.ts';
import { fieldsOf, type FieldInfo } from '../../domain/fields.ts';
import { OWN_SOURCE } from '../../validate/index.ts';
import type { FileTask, FormatOptions, ImportFormat, RecordHandler, Sink } from './types.ts';

/** Import order: a row's foreign ids must already be known when it is checked. */
export const IMPORT_ORDER: EntityKind[] = ['artists', 'albums', 'tracks', 'users', 'follows', 'listens', 'interactions', 'documents', 'impressions'];

/** The entity a file name names: `listens.jsonl`, `tracks-2024.csv` → listens, tracks. */
export function entityOfFile(file: string): EntityKind | undefined {
  const name = basename(file).toLowerCase();
  return entityKinds.find((k) => name === k || name.startsWith(k + '.') || name.startsWith(k + '-') || name.startsWith(k + '_'));
}

const JSONL_EXT = ['.jsonl', '.ndjson', '.json'];
const CSV_EXT = ['.csv', '.tsv'];

async function planOwn(kind: 'jsonl' | 'csv', path: string, opts: FormatOptions): Promise<FileTask[]> {
  const files = await entityFiles(kind, kind === 'jsonl' ? JSONL_EXT : CSV_EXT, path, opts);
  return files.map(({ file, entity }) => ({
    file,
    parser: kind,
    entity,
    framing: 'lines',
    encoding: opts.encoding ?? 'utf8',
    context: { entity, delimiter: kind === 'csv' ? (extname(file).toLowerCase() === '.tsv' ? '\t' : undefined) : undefined },
    source: OWN_SOURCE,
  }));
}

/** The entity files of a format with one file per entity: `path` itself (its entity from the name or `--entity`), or every entity file of a folder with one of `exts`, in dependency order. */
export async function entityFiles(kind: string, exts: readonly string[], path: string, opts: FormatOptions): Promise<{ file: string; entity: EntityKind }[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new DeepcutError('not_found', 'no such file or folder', { file: path });
  const files: { file: string; entity: EntityKind }[] = [];
  if (st.isDirectory()) {
    for (const name of (await readdir(path)).sort()) {
      const entity = entityOfFile(name);
      if (entity && exts.includes(extname(name).toLowerCase())) files.push({ file: join(path, name), entity });
    }
    if (files.length === 0) throw new DeepcutError('not_found', `no ${kind} entity files here (expected names like listens${exts[0]}, tracks${exts[0]})`, { file: path });
    files.sort((a, b) => IMPORT_ORDER.indexOf(a.entity) - IMPORT_ORDER.indexOf(b.entity));
  } else {
    const entity = opts.entity ?? entityOfFile(path);
    if (!entity) throw new DeepcutError('invalid_input', `cannot tell the entity from the file name; pass --entity (one of ${entityKinds.join(', ')})`, { file: path });
    files.push({ file: path, entity });
  }
  return files;
}

export const jsonlFormat: ImportFormat = {
  name: 'jsonl',
  description: "deepcut's own JSON Lines: one object per line, one file per entity (listens.jsonl, tracks.jsonl, …)",
  plan: (path, opts) => planOwn('jsonl', path, opts),
};

export const csvFormat: ImportFormat = {
  name: 'csv',
  description: "deepcut's own CSV: a header row of field names, one file per entity (tracks.csv, users.csv, …)",
  plan: (path, opts) => planOwn('csv', path, opts),
};

/** Parse one JSON object record; reject anything else. Returns undefined after rejecting. */
export function parseJsonObject(text: string, entity: string, out: Sink): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    out.reject(entity, null, 'invalid_json', `not valid JSON: ${(e as Error).message}`);
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    out.reject(entity, null, 'invalid_json', `expected a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`);
    return undefined;
  }
  return v as Record<string, unknown>;
}

export function jsonlHandler(context: Record<string, unknown>): RecordHandler {
  const entity = context.entity as EntityKind;
  return {
    record(text, _line, out) {
      const v = parseJsonObject(text, entity, out);
      if (v) out.row(entity, v);
    },
  };
}

/** A CSV cell as the field's type: numbers and booleans converted, `a;b` split for lists, empty = absent. */
export function csvCell(cell: string, f: FieldInfo | undefined): unknown {
  if (cell === '') return undefined;
  if (!f) return cell;
  switch (f.type) {
    case 'integer':
    case 'number': {
      const t = cell.trim();
      const n = Number(t);
      return t !== '' && Number.isFinite(n) ? n : cell;
    }
    case 'boolean': {
      const t = cell.trim().toLowerCase();
      return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : cell;
    }
    case 'string[]':
    case 'id[]':
      return cell.split(';').map((s) => s.trim()).filter((s) => s.length > 0);
    default:
      return cell;
  }
}

export function csvHandler(context: Record<string, unknown>): RecordHandler {
  const entity = context.entity as EntityKind;
  const fields = new Map(fieldsOf(entity).map((f) => [f.name, f]));
  let header = context.header as string[] | undefined;
  let delimiter = context.delimiter as string | undefined;
  let pending: { text: string; line: number } | undefined;
  const setHeader = (text: string) => {
    delimiter ??= text.includes('\t') && !text.includes(',') ? '\t' : ',';
    header = (splitCsv(text, delimiter) ?? []).map((h) => h.trim());
  };
  return {
    record(text, line, out) {
      if (!header) {
        setHeader(text);
        const unknown = header!.filter((h) => !fields.has(h));
        if (unknown.length) out.note(`ignored column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (not a field of ${entity})`, 0);
        return;
      }
      if (pending) {
        text = pending.text + '\n' + text;
        line = pending.line;
      }
      const cells = splitCsv(text, delimiter);
      if (!cells) {
        if (text.length > 1 << 20) {
          pending = undefined;
          out.reject(entity, null, 'invalid_csv', 'a quoted field is never closed', { line, raw: text.slice(0, 200) });
        } else pending = { text, line };
        return;
      }
      pending = undefined;
      if (cells.length !== header!.length) {
        const field = cells.length < header!.length ? header![cells.length] : null;
        out.reject(
          entity,
          field,
          'invalid_csv',
          cells.length < header!.length
            ? `${cells.length} columns, the header has ${header!.length}: missing ${header!.slice(cells.length).join(', ')}`
            : `${cells.length} columns, the header has ${header!.length}: ${cells.length - header!.length} extra`,
          { line, raw: text },
        );
        return;
      }
      const row: Record<string, unknown> = {};
      for (let i = 0; i < cells.length; i++) {
        const v = csvCell(cells[i], fields.get(header![i]));
        if (v !== undefined) row[header![i]] = v;
      }
      out.row(entity, row);
    },
    skipped(text) {
      if (!header) setHeader(text);
    },
    async finish(out) {
      if (pending) out.reject(entity, null, 'invalid_csv', 'the file ends inside a quoted field', { line: pending.line, raw: pending.text.slice(0, 4096) });
      pending = undefined;
    },
    context: () => ({ entity, header, delimiter }),
    pendingSince: () => pending?.line,
  };
}
