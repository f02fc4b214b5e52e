/**
 * The fields of every entity, read from the zod schemas in `domain/schemas.ts` (the single
 * definition of the import format): CSV typing, statistics feature kinds and the documentation
 * tables in docs/formats.md all come from here.
 */
import { entitySchemas, type EntityKind } from './schemas.ts';

export type FieldType = 'id' | 'string' | 'enum' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'date' | 'time_zone' | 'string[]' | 'id[]';

export interface FieldInfo {
  name: string;
  type: FieldType;
  required: boolean;
  default?: unknown;
  values?: string[];
  /** Constraints in words, for the docs (`>= 0`, `1..512 chars`). */
  rule: string;
}

const TIMESTAMPS = new Set(['started_at', 'since', 'created_at', 'at', 'published_at', 'shown_at']);
const DATES = new Set(['release_date']);

interface Def {
  type: string;
  innerType?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  entries?: Record<string, string>;
  checks?: { _zod: { def: { check: string; minimum?: number; maximum?: number; value?: number; inclusive?: boolean; format?: string; length?: number } } }[];
  defaultValue?: unknown;
}

function describe(name: string, schema: unknown): FieldInfo {
  let def = (schema as { _zod: { def: Def } })._zod.def;
  let required = true;
  let dflt: unknown;
  while (def.innerType) {
    if (def.type === 'optional') required = false;
    if (def.type === 'default') {
      required = false;
      dflt = def.defaultValue;
    }
    def = def.innerType._zod.def;
  }
  const rules: string[] = [];
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'min_length') rules.push(def.type === 'array' ? `>= ${d.minimum} element(s)` : `length >= ${d.minimum}`);
    else if (d.check === 'max_length') rules.push(`length <= ${d.maximum}`);
    else if (d.check === 'length_equals') rules.push(`length = ${d.length}`);
    else if (d.check === 'greater_than') rules.push(`${d.inclusive ? '>=' : '>'} ${d.value}`);
    else if (d.check === 'less_than') rules.push(`${d.inclusive ? '<=' : '<'} ${d.value}`);
    else if (d.check === 'number_format' && d.format === 'safeint') rules.push('integer');
    else if (d.check === 'string_format' && d.format === 'regex') rules.push(name === 'isrc' ? 'ISRC, 12 chars' : 'pattern');
  }
  let type: FieldType;
  const isId = name.endsWith('_id') || name === 'request_id';
  if (def.type === 'enum') type = 'enum';
  else if (def.type === 'boolean') type = 'boolean';
  else if (def.type === 'number') type = rules.includes('integer') ? 'integer' : 'number';
  else if (def.type === 'array') type = name.endsWith('_ids') ? 'id[]' : 'string[]';
  else if (TIMESTAMPS.has(name)) type = 'timestamp';
  else if (DATES.has(name)) type = 'date';
  else if (name === 'time_zone') type = 'time_zone';
  else type = isId ? 'id' : 'string';
  const values = def.entries ? Object.values(def.entries) : undefined;
  return { name, type, required, default: dflt, values, rule: rules.filter((r) => r !== 'integer').join(', ') };
}

const cache = new Map<EntityKind, FieldInfo[]>();

/** The fields of `kind` in schema order, e.g. `fieldsOf('listens')[4]` → `{ name: 'ms_played', type: 'integer', rule: '>= 0', … }`. */
export function fieldsOf(kind: EntityKind): FieldInfo[] {
  let f = cache.get(kind);
  if (!f) {
    f = Object.entries((entitySchemas[kind] as unknown as { shape: Record<string, unknown> }).shape).map(([k, v]) => describe(k, v));
    cache.set(kind, f);
  }
  return f;
}
