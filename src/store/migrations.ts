/**
 * The store's logical schema, shared by every backend: one table per entity (columns named as the
 * entity's fields, keys from `entityKeys`), plus `quarantine`, `meta`, `publication` (one row: the published run) and `staged_shelves` (home shelves waiting to be seen). Each backend renders the
 * column kinds into its own SQL types and applies {@link migrations} in order, recording each in
 * `schema_migrations(version, name, applied_at)`; a version already recorded is skipped, so
 * applying twice is a no-op. Never edit a released migration: append a new one.
 */
import { entityKeys, entityKinds, type EntityKind } from '../domain/schemas.ts';

/** How a field is stored: `ts` = instant (µs precision, UTC), `date` = calendar day, `list` = text array. */
export type ColumnKind = 'text' | 'int' | 'double' | 'bool' | 'ts' | 'date' | 'list';

export interface Column {
  name: string;
  kind: ColumnKind;
  /** True when the field is optional in the domain schema: stored NULL, returned absent. */
  optional: boolean;
}

const c = (name: string, kind: ColumnKind = 'text', optional = false): Column => ({ name, kind, optional });
const opt = (name: string, kind: ColumnKind = 'text'): Column => c(name, kind, true);

/** Columns of every entity table, in the domain schema's field order. */
export const entityColumns: { [K in EntityKind]: readonly Column[] } = {
  artists: [c('artist_id'), c('name'), c('genres', 'list'), opt('country'), opt('mbid')],
  albums: [c('album_id'), c('title'), c('artist_ids', 'list'), c('release_date', 'date'), c('album_type')],
  tracks: [
    c('track_id'),
    c('title'),
    opt('album_id'),
    c('artist_ids', 'list'),
    c('duration_ms', 'int'),
    c('release_date', 'date'),
    opt('isrc'),
    opt('audio_path'),
    opt('mbid'),
  ],
  users: [c('user_id'), c('time_zone'), opt('country'), opt('created_at', 'ts')],
  follows: [c('user_id'), c('artist_id'), c('since', 'ts')],
  listens: [
    c('listen_id'),
    c('user_id'),
    c('track_id'),
    c('started_at', 'ts'),
    c('ms_played', 'int'),
    c('reason_end'),
    c('skipped', 'bool'),
    c('context'),
    c('platform'),
  ],
  interactions: [c('user_id'), c('item_id'), c('item_kind'), c('weight', 'double'), opt('at', 'ts')],
  documents: [
    c('document_id'),
    c('subject_kind'),
    c('subject_id'),
    c('source'),
    opt('url'),
    opt('title'),
    c('body'),
    opt('published_at', 'ts'),
  ],
  impressions: [
    c('request_id'),
    c('user_id'),
    c('shelf'),
    c('card'),
    c('slot', 'int'),
    c('policy'),
    c('propensity', 'double'),
    c('shown_at', 'ts'),
    opt('reward', 'double'),
    opt('features'),
  ],
};

/** Columns of the quarantine table (besides its auto id), in {@link QuarantinedRow} order. */
export const quarantineColumns: readonly Column[] = [
  c('batch'),
  c('entity'),
  c('format'),
  c('file'),
  c('line', 'int'),
  opt('field'),
  c('code'),
  c('reason'),
  c('raw'),
  c('quarantined_at', 'ts'),
];

export type Dialect = 'duckdb' | 'postgres';

const sqlTypes: Record<Dialect, Record<ColumnKind, string>> = {
  duckdb: { text: 'VARCHAR', int: 'INTEGER', double: 'DOUBLE', bool: 'BOOLEAN', ts: 'TIMESTAMPTZ', date: 'DATE', list: 'VARCHAR[]' },
  postgres: { text: 'TEXT', int: 'INTEGER', double: 'DOUBLE PRECISION', bool: 'BOOLEAN', ts: 'TIMESTAMPTZ', date: 'DATE', list: 'TEXT[]' },
};

/** SQL type of a column kind in a dialect. */
export function sqlType(d: Dialect, k: ColumnKind): string {
  return sqlTypes[d][k];
}

/** Double-quoted SQL identifier (column names are fixed snake_case, quoting guards keywords). */
export const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function entityTable(d: Dialect, kind: EntityKind): string {
  const cols = entityColumns[kind].map((col) => `${q(col.name)} ${sqlType(d, col.kind)}${col.optional ? '' : ' NOT NULL'}`);
  const key = (entityKeys[kind] as readonly string[]).map(q).join(', ');
  return `CREATE TABLE ${q(kind)} (${cols.join(', ')}, PRIMARY KEY (${key}))`;
}

export interface Migration {
  version: number;
  name: string;
  /** Statements to run, in one transaction, for a dialect. */
  sql(d: Dialect): string[];
}

/** Every migration, in version order. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'entities, quarantine, meta',
    sql: (d) => [
      ...entityKinds.map((k) => entityTable(d, k)),
      ...(d === 'duckdb'
        ? [
            'CREATE SEQUENCE quarantine_id_seq START 1',
            `CREATE TABLE quarantine (id BIGINT PRIMARY KEY DEFAULT nextval('quarantine_id_seq'), ${quarantineColumns
              .map((col) => `${q(col.name)} ${sqlType(d, col.kind)}${col.optional ? '' : ' NOT NULL'}`)
              .join(', ')})`,
            'CREATE TABLE meta (namespace VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (namespace, key))',
          ]
        : [
            `CREATE TABLE quarantine (id BIGSERIAL PRIMARY KEY, ${quarantineColumns
              .map((col) => `${q(col.name)} ${sqlType(d, col.kind)}${col.optional ? '' : ' NOT NULL'}`)
              .join(', ')})`,
            'CREATE INDEX quarantine_batch ON quarantine (batch)',
            'CREATE TABLE meta (namespace TEXT NOT NULL, key TEXT NOT NULL, value JSONB NOT NULL, updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (namespace, key))',
            'CREATE INDEX listens_started_at ON listens (started_at)',
            'CREATE INDEX listens_user ON listens (user_id)',
          ]),
    ],
  },
  {
    version: 2,
    name: 'tracks.mbid (recording MBID, for matching submitted listens)',
    // Migration 1 renders today's entityColumns, so a new store has the column already (IF NOT EXISTS);
    // an older one gets it appended last, where entityColumns lists it (DuckDB's appender needs that order).
    sql: (d) => [`ALTER TABLE tracks ADD COLUMN IF NOT EXISTS mbid ${sqlType(d, 'text')}`],
  },
  {
    version: 3,
    name: 'publication (the published run, one row)',
    sql: (d) => [
      `CREATE TABLE publication (slot INTEGER PRIMARY KEY CHECK (slot = 1), run_id ${sqlType(d, 'text')} NOT NULL, published_at TIMESTAMPTZ NOT NULL, history ${sqlType(d, 'text')} NOT NULL, generation BIGINT NOT NULL)`,
    ],
  },
  {
    version: 4,
    name: 'impressions.reward, impressions.features (logged bandit feedback: Open Bandit Dataset)',
    sql: (d) => [`ALTER TABLE impressions ADD COLUMN IF NOT EXISTS reward ${sqlType(d, 'double')}`, `ALTER TABLE impressions ADD COLUMN IF NOT EXISTS features ${sqlType(d, 'text')}`],
  },
  {
    version: 5,
    name: 'staged_shelves (home shelves waiting to be seen, any API node logs them)',
    sql: (d) => [
      `CREATE TABLE staged_shelves (request_id ${sqlType(d, 'text')} NOT NULL, shelf ${sqlType(d, 'text')} NOT NULL, user_id ${sqlType(d, 'text')} NOT NULL, impressions ${sqlType(d, 'text')} NOT NULL, expires_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (request_id, shelf))`,
      'CREATE INDEX staged_shelves_expires ON staged_shelves (expires_at)',
    ],
  },
];

/** DDL of the migrations bookkeeping table (the same in both dialects). */
export const schemaMigrationsDdl =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)';
