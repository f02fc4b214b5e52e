/**
 * The SQL of the bulk import (see bulk.ts): how each field of an entity is read from a source
 * (a JSON line, a CSV line, a Parquet column) as its typed value, and the condition under which
 * that value is *plainly valid*: certainly accepted by the entity's zod schema with that very
 * value. The conditions are conservative — a value they do not clear is not rejected, it is judged
 * by the streaming path's own check (`checkRow`), which words the error — so the two paths accept
 * the same rows and quarantine them with the same records.
 */
import { MAX_INT32, type EntityKind } from '../domain/schemas.ts';
import { fieldsOf, type FieldInfo } from '../domain/fields.ts';
import { entityColumns, quoteIdent as q, sqlType, type Column } from '../store/index.ts';
import { FUTURE_SLACK_MS, MIN_TIME_MS, type DataSchema } from '../validate/index.ts';

/** A field as SQL: its typed value (NULL when absent) and whether that value is plainly valid. */
export interface FieldSql {
  field: FieldInfo;
  column: Column;
  value: string;
  ok: string;
}

/** SQL string literal. */
export const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * An ISO 8601 instant in the one form whose DuckDB cast equals `isoMicros` (T, seconds, at most
 * µs, `Z` or `±HH:MM` within ±15:59); the calendar day is checked by the cast (TRY_CAST → NULL).
 */
const PLAIN_INSTANT = String.raw`\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-](0\d|1[0-5]):[0-5]\d)`;

/** Bounds from a field's rule words (`length >= 1, length <= 512`, `>= 0`, `> 0`). */
function bounds(f: FieldInfo): { minLen?: number; maxLen?: number; ge?: number; gt?: number; le?: number; lt?: number } {
  const out: { minLen?: number; maxLen?: number; ge?: number; gt?: number; le?: number; lt?: number } = {};
  for (const r of f.rule.split(',').map((x) => x.trim())) {
    let m = /^length >= (\d+)$/.exec(r);
    if (m) out.minLen = Number(m[1]);
    m = /^length <= (\d+)$/.exec(r);
    if (m) out.maxLen = Number(m[1]);
    m = /^>= (-?[\d.]+)$/.exec(r);
    if (m) out.ge = Number(m[1]);
    m = /^> (-?[\d.]+)$/.exec(r);
    if (m) out.gt = Number(m[1]);
    m = /^<= (-?[\d.]+)$/.exec(r);
    if (m) out.le = Number(m[1]);
    m = /^< (-?[\d.]+)$/.exec(r);
    if (m) out.lt = Number(m[1]);
  }
  return out;
}

/**
 * Text the schema keeps as it is: no white space at either end (ids are trimmed by the schema;
 * text with an ASCII printable first and last character certainly has none), byte length within
 * the limits (UTF-8 bytes ≥ UTF-16 units, so a byte bound is safe).
 */
function plainText(x: string, f: FieldInfo): string {
  const b = bounds(f);
  const conds: string[] = [];
  if (f.type === 'id') conds.push(`ascii(${x}) BETWEEN 33 AND 126`, `ascii(right(${x}, 1)) BETWEEN 33 AND 126`, `strlen(${x}) <= 512`);
  else {
    if (b.minLen !== undefined) conds.push(`strlen(${x}) >= ${b.minLen}`);
    if (b.maxLen !== undefined) conds.push(`strlen(${x}) <= ${b.maxLen}`);
  }
  if (f.type === 'enum') conds.push(`${x} IN (${f.values!.map(lit).join(', ')})`);
  return conds.length ? conds.join(' AND ') : 'true';
}

function plainNumber(x: string, f: FieldInfo): string {
  const b = bounds(f);
  const conds = [`isfinite(${x})`];
  if (b.ge !== undefined) conds.push(`${x} >= ${b.ge}`);
  if (b.gt !== undefined) conds.push(`${x} > ${b.gt}`);
  if (b.le !== undefined) conds.push(`${x} <= ${b.le}`);
  if (b.lt !== undefined) conds.push(`${x} < ${b.lt}`);
  if (f.type === 'integer') conds.push(`${x} <= ${MAX_INT32}`);
  return conds.join(' AND ');
}

/** Default of a field as a SQL literal. */
function defaultSql(f: FieldInfo): string | undefined {
  const d = f.default;
  if (d === undefined) return undefined;
  if (typeof d === 'string') return lit(d);
  if (typeof d === 'boolean' || typeof d === 'number') return String(d);
  if (Array.isArray(d) && d.length === 0) return '[]::VARCHAR[]';
  return undefined;
}

/** Absent (SQL NULL) is plain when the field is optional; a present value must be plain. */
function assemble(f: FieldInfo, column: Column, present: string, value: string, ok: string): FieldSql {
  const d = defaultSql(f);
  const v = d ? `COALESCE(${value}, ${d})` : value;
  return {
    field: f,
    column,
    value: `CAST(${v} AS ${sqlType('duckdb', column.kind)})`,
    ok: f.required ? `coalesce(${present} AND ${ok}, false)` : `coalesce(NOT ${present} OR (${ok}), false)`,
  };
}

const columnOf = (kind: EntityKind, name: string): Column => entityColumns[kind].find((c) => c.name === name)!;

/**
 * {@link plainText} on a JSON string's text `x` as written, quotes included (no backslash can be
 * in it): the same conditions on `x[2:-2]` without cutting it out.
 */
function plainQuoted(x: string, f: FieldInfo): string {
  const b = bounds(f);
  const conds = [`starts_with(${x}, '"')`];
  // one RE2 match is cheaper than cutting out the first and last character (0.09 against 0.15 CPU s per 1M ids)
  if (f.type === 'id') conds.push(`strlen(${x}) <= 514`, `regexp_full_match(${x}, '"[!-~]([^"]*[!-~])?"')`);
  else {
    if (b.minLen !== undefined) conds.push(`strlen(${x}) >= ${b.minLen + 2}`);
    if (b.maxLen !== undefined) conds.push(`strlen(${x}) <= ${b.maxLen + 2}`);
  }
  if (f.type === 'enum') conds.push(`${x} IN (${f.values!.map((v) => lit(`"${v}"`)).join(', ')})`);
  return conds.join(' AND ');
}

/**
 * Fields of `kind` read from a JSON line with no backslash in it (lines with one are judged one
 * by one): `j` is a column prefix, `${j}1`… holding each field's JSON text as `json_extract(text,
 * [paths])` gives it in `fieldsOf` order (SQL NULL for a missing key). The JSON type is read from
 * the text's first character, a string's value by dropping its quotes (no escapes can be in it):
 * each document is parsed once.
 */
export function jsonFields(kind: EntityKind, j: string): FieldSql[] {
  return fieldsOf(kind).map((f, i) => {
    const x = `${j}${i + 1}`;
    const present = `${x} IS NOT NULL`;
    const str = `${x}[2:-2]`;
    const isNum = `(ascii(${x}) BETWEEN 48 AND 57 OR starts_with(${x}, '-'))`;
    const column = columnOf(kind, f.name);
    switch (f.type) {
      case 'id':
      case 'string':
      case 'enum':
        return assemble(f, column, present, str, plainQuoted(x, f));
      case 'integer':
        return assemble(f, column, present, `TRY_CAST(${x} AS INTEGER)`, `${isNum} AND NOT (contains(${x}, '.') OR contains(${x}, 'e') OR contains(${x}, 'E')) AND ${plainNumber(`TRY_CAST(${x} AS BIGINT)`, f)}`);
      case 'number':
        return assemble(f, column, present, `TRY_CAST(${x} AS DOUBLE)`, `${isNum} AND ${plainNumber(`TRY_CAST(${x} AS DOUBLE)`, f)}`);
      case 'boolean':
        return assemble(f, column, present, `${x} = 'true'`, `${x} IN ('true', 'false')`);
      case 'timestamp':
        return assemble(f, column, present, `TRY_CAST(${str} AS TIMESTAMPTZ)`, `starts_with(${x}, '"') AND regexp_full_match(${str}, '${PLAIN_INSTANT}') AND TRY_CAST(${str} AS TIMESTAMPTZ) IS NOT NULL`);
      default:
        return assemble(f, column, present, 'NULL', 'false'); // dates, zones, lists: judged one by one
    }
  });
}

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'HUGEINT']);
const NUMBER_TYPES = new Set([...INTEGER_TYPES, 'FLOAT', 'DOUBLE']);

/**
 * Fields of `kind` read from the columns of a Parquet file (`types`: column name → DuckDB type).
 * A column of another type than the field's is never plain (the row is judged from its JSON,
 * which names the wrong type); a missing column is an absent field. Naive timestamps are read as UTC.
 */
export function parquetFields(kind: EntityKind, types: Map<string, string>): FieldSql[] {
  return fieldsOf(kind).map((f) => {
    const column = columnOf(kind, f.name);
    const t = types.get(f.name);
    const x = `src.${q(f.name)}`;
    if (t === undefined) return assemble(f, column, 'false', 'NULL', 'false');
    const present = `${x} IS NOT NULL`;
    const never = assemble(f, column, present, 'NULL', 'false');
    switch (f.type) {
      case 'id':
      case 'string':
      case 'enum':
        return t === 'VARCHAR' ? assemble(f, column, present, x, plainText(x, f)) : never;
      case 'integer':
        return INTEGER_TYPES.has(t) ? assemble(f, column, present, `TRY_CAST(${x} AS INTEGER)`, plainNumber(`CAST(${x} AS DOUBLE)`, f)) : never;
      case 'number':
        return NUMBER_TYPES.has(t) ? assemble(f, column, present, `CAST(${x} AS DOUBLE)`, plainNumber(`CAST(${x} AS DOUBLE)`, f)) : never;
      case 'boolean':
        return t === 'BOOLEAN' ? assemble(f, column, present, x, 'true') : never;
      case 'timestamp':
        if (t === 'TIMESTAMP WITH TIME ZONE' || t.startsWith('TIMESTAMP')) return assemble(f, column, present, `CAST(${x} AS TIMESTAMPTZ)`, 'true');
        if (t === 'VARCHAR') return assemble(f, column, present, `TRY_CAST(${x} AS TIMESTAMPTZ)`, `regexp_full_match(${x}, '${PLAIN_INSTANT}') AND TRY_CAST(${x} AS TIMESTAMPTZ) IS NOT NULL`);
        return never;
      default:
        return never;
    }
  });
}

/**
 * A Parquet row as the JSON object the streaming path would read (timestamps as ISO 8601 with µs
 * and `Z`), for the rows that are judged one by one and kept in the quarantine; on the source
 * row as the struct `raw_row`.
 */
export function parquetRowJson(kind: EntityKind, types: Map<string, string>): string {
  const parts = fieldsOf(kind)
    .filter((f) => types.has(f.name))
    .map((f) => {
      const x = `raw_row.${q(f.name)}`;
      const t = types.get(f.name)!;
      const v = t.startsWith('TIMESTAMP') ? `strftime(CAST(${x} AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%fZ')` : x;
      return `${q(f.name)} := ${v}`;
    });
  return parts.length ? `to_json(struct_pack(${parts.join(', ')}))` : `'{}'`;
}

/**
 * Fields of the generic `user,item,weight[,timestamp]` CSV read from `c`, the line's cells
 * (`string_split`): as `interactionsHandler` reads them (weight and a seconds timestamp as numbers,
 * `item_kind` from the import), plain only in their simplest forms.
 */
export function interactionCsvFields(c: string, itemKind: string): FieldSql[] {
  const kind = 'interactions';
  const f = new Map(fieldsOf(kind).map((x) => [x.name, x]));
  const w = `trim(${c}[3])`;
  const ts = `trim(${c}[4])`;
  const secs = `${ts} SIMILAR TO '[0-9]{1,11}(\\.[0-9]{1,6})?'`;
  const atValue = `CASE WHEN ${secs} THEN CAST(epoch_ms(CAST(floor(CAST(${ts} AS DOUBLE) * 1000) AS BIGINT)) AS TIMESTAMPTZ) ELSE TRY_CAST(${ts} AS TIMESTAMPTZ) END`;
  return [
    assemble(f.get('user_id')!, columnOf(kind, 'user_id'), 'true', `${c}[1]`, plainText(`${c}[1]`, f.get('user_id')!)),
    assemble(f.get('item_id')!, columnOf(kind, 'item_id'), 'true', `${c}[2]`, plainText(`${c}[2]`, f.get('item_id')!)),
    assemble(f.get('item_kind')!, columnOf(kind, 'item_kind'), 'true', lit(itemKind), plainText(lit(itemKind), f.get('item_kind')!)),
    assemble(f.get('weight')!, columnOf(kind, 'weight'), 'true', `TRY_CAST(${w} AS DOUBLE)`, `${w} SIMILAR TO '[0-9]{1,15}(\\.[0-9]{1,15})?' AND ${plainNumber(`TRY_CAST(${w} AS DOUBLE)`, f.get('weight')!)}`),
    assemble(f.get('at')!, columnOf(kind, 'at'), `len(${c}) = 4 AND ${ts} <> ''`, atValue, `(${secs} OR regexp_full_match(${ts}, '${PLAIN_INSTANT}')) AND (${atValue}) IS NOT NULL`),
  ];
}

/**
 * Fields of `kind` read from a line of deepcut's own CSV split into cells `c` (`string_split`; lines
 * with a quote are judged one by one), `header` the file's field names: as `csvCell` reads them
 * (an empty cell is absent; numbers and booleans converted), plain only in their simplest forms.
 * A field the header lacks is absent; one it names twice is never plain.
 */
export function csvFields(kind: EntityKind, header: readonly string[], c: string): FieldSql[] {
  return fieldsOf(kind).map((f) => {
    const column = columnOf(kind, f.name);
    const p = header.indexOf(f.name);
    if (p < 0) return assemble(f, column, 'false', 'NULL', 'false');
    const x = `${c}[${p + 1}]`;
    const present = `${x} <> ''`;
    const v = `NULLIF(${x}, '')`;
    if (header.lastIndexOf(f.name) !== p) return assemble(f, column, present, 'NULL', 'false');
    switch (f.type) {
      case 'id':
      case 'string':
      case 'enum':
        return assemble(f, column, present, v, plainText(x, f));
      case 'integer':
        return assemble(f, column, present, `TRY_CAST(${v} AS INTEGER)`, `regexp_full_match(${x}, '[0-9]{1,10}') AND ${plainNumber(`TRY_CAST(${x} AS BIGINT)`, f)}`);
      case 'number':
        return assemble(f, column, present, `TRY_CAST(${v} AS DOUBLE)`, `regexp_full_match(${x}, '-?[0-9]{1,15}(\\.[0-9]{1,15})?') AND ${plainNumber(`TRY_CAST(${x} AS DOUBLE)`, f)}`);
      case 'boolean':
        return assemble(f, column, present, `lower(trim(${x})) IN ('true', '1')`, `lower(trim(${x})) IN ('true', '1', 'false', '0')`);
      case 'timestamp':
        return assemble(f, column, present, `TRY_CAST(${v} AS TIMESTAMPTZ)`, `regexp_full_match(${x}, '${PLAIN_INSTANT}') AND TRY_CAST(${x} AS TIMESTAMPTZ) IS NOT NULL`);
      default:
        return assemble(f, column, present, 'NULL', 'false'); // dates, zones, lists: judged one by one
    }
  });
}

/**
 * Interactions of HetRec's `user_artists.dat` read from its cells `c` (userID, artistID, weight;
 * `hetrecUserArtistsHandler`): `lastfm:user:<id>` with `lastfm:artist:<id>` (item_kind artist),
 * weight = plays; plain when both ids are digits and the weight a plain number.
 */
export function hetrecFields(c: string): FieldSql[] {
  const kind = 'interactions';
  const f = new Map(fieldsOf(kind).map((x) => [x.name, x]));
  const id = (i: number) => `regexp_full_match(trim(${c}[${i}]), '[0-9]{1,20}')`;
  const w = `trim(${c}[3])`;
  const ids = `${id(1)} AND ${id(2)}`;
  return [
    assemble(f.get('user_id')!, columnOf(kind, 'user_id'), 'true', `'lastfm:user:' || trim(${c}[1])`, ids),
    assemble(f.get('item_id')!, columnOf(kind, 'item_id'), 'true', `'lastfm:artist:' || trim(${c}[2])`, ids),
    assemble(f.get('item_kind')!, columnOf(kind, 'item_kind'), 'true', "'artist'", 'true'),
    assemble(f.get('weight')!, columnOf(kind, 'weight'), `${w} <> ''`, `TRY_CAST(NULLIF(${w}, '') AS DOUBLE)`, `${w} SIMILAR TO '[0-9]{1,15}(\\.[0-9]{1,15})?' AND ${plainNumber(`TRY_CAST(${w} AS DOUBLE)`, f.get('weight')!)}`),
    assemble(f.get('at')!, columnOf(kind, 'at'), 'false', 'NULL', 'true'),
  ];
}

/** Entities whose domain rules {@link rowDomainSql} and {@link storeDomainSql} write in SQL. */
export const SQL_DOMAIN: readonly EntityKind[] = ['listens', 'interactions'];

/**
 * The domain rules of `domainCheck` (validate/rows.ts) that need only the row, over staged typed
 * columns (alias `s`): the time window of every instant and the inferred schema's value domains
 * (text fields; a domain on another field leaves its rows to the one-by-one check). `now` in ms
 * since the epoch. Entities whose other rules are not written in SQL ({@link SQL_DOMAIN}) are
 * never plain.
 */
export function rowDomainSql(kind: EntityKind, fields: FieldSql[], now: number, schema: DataSchema | undefined): string {
  // the foreign ids of the other entities (tracks → artists, albums; documents → subjects; …) are not written here: their rows are all checked one by one
  if (!SQL_DOMAIN.includes(kind)) return 'false';
  const conds: string[] = [];
  for (const f of fields)
    if (f.field.type === 'timestamp') conds.push(`(s.${q(f.field.name)} IS NULL OR epoch_ms(s.${q(f.field.name)}) BETWEEN ${MIN_TIME_MS} AND ${now + FUTURE_SLACK_MS})`);
  for (const d of schema?.domains ?? []) {
    const f = fields.find((x) => x.field.name === d.name);
    if (!f) continue;
    conds.push(f.column.kind === 'text' ? `(s.${q(d.name)} IS NULL OR s.${q(d.name)} IN (${[...d.values].map(lit).join(', ') || 'NULL'}))` : `s.${q(d.name)} IS NULL`);
  }
  return conds.length ? `coalesce(${conds.join(' AND ')}, false)` : 'true';
}

/**
 * The rules that need the store, on rows aliased `s`: for listens, the user and track are known
 * (`bulk_known_*`) and the play time is not far beyond the track's length. The joins to add after
 * `s` and the condition that a row breaks them, or undefined when the entity has none.
 */
export function storeRuleSql(kind: EntityKind, durationFactor = 3): { joins: string; broken: string } | undefined {
  if (kind !== 'listens') return undefined;
  return {
    joins: 'LEFT JOIN bulk_known_users ku ON ku.id = s.user_id LEFT JOIN bulk_known_tracks kt ON kt.id = s.track_id',
    broken: `(ku.id IS NULL OR kt.id IS NULL OR (kt.dur > 0 AND s.ms_played > ${durationFactor} * kt.dur AND s.ms_played > kt.dur + 60000))`,
  };
}

/** SQL selecting the lines of the plain rows of the staged table `table` that break {@link storeRuleSql}'s rules, or undefined when the entity has none. */
export function storeDomainSql(kind: EntityKind, table: string): string | undefined {
  const r = storeRuleSql(kind);
  return r && `SELECT s.line FROM ${table} s ${r.joins} WHERE s.ok AND ${r.broken}`;
}
