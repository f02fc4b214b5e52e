/**
 * What an import format is: a plan of files (in dependency order), each read as lines or as a JSON
 * array, and a record handler that turns one record into rows of deepcut entities (or rejects it).
 * Handlers are synchronous and keyed by name in `parsers` so quarantine replay can run the same
 * code on a kept raw record later.
 */
import type { EntityKind } from '../../domain/schemas.ts';
import type { Store } from '../../store/index.ts';
import type { Encoding } from '../../util/lines.ts';
import type { TrackMatcher } from '../../domain/match.ts';

/** Where a handler sends what it read from the current record. */
export interface Sink {
  /** A row of `entity` (not yet validated: the runner checks it against the entity's schema). */
  row(entity: EntityKind, value: Record<string, unknown>): void;
  /** The record, or the part of it meant for `entity`, cannot be used; it is quarantined. */
  reject(entity: string, field: string | null, code: string, reason: string, at?: { file?: string; line?: number; raw?: string; format?: string }): void;
  /** Set where the next rows come from (for rows built in `finish`): line, raw text for the quarantine, and the parser that can read that text again. */
  locate(line: number, raw: string, parser?: string): void;
  /** Something stored outside the entity tables (e.g. HetRec friendships in store meta), counted in the summary. */
  note(what: string, n: number): void;
}

export interface RecordHandler {
  /** One non-blank record of the file. */
  record(text: string, line: number, out: Sink): void;
  /** A record before the resume point, not imported again (CSV reads its header here). */
  skipped?(text: string, line: number): void;
  /** After the last record: rows computed from the whole file (aggregations), writes to meta. */
  finish?(out: Sink, store: Store): Promise<void>;
  /** State replay needs to parse a kept record again (CSV header), saved with the batch. */
  context?(): Record<string, unknown>;
  /** First line of a record still being assembled (multi-line CSV), so progress never passes it. */
  pendingSince?(): number | undefined;
  /** True when rows come only from `finish`: progress is recorded only at the end of the file. */
  readonly aggregates?: boolean;
}

export interface FormatOptions {
  /** Entity of a deepcut jsonl/csv file when its name does not say. */
  entity?: EntityKind;
  /** The listener whose history this is (Spotify exports; ListenBrainz when `user_name` is absent). */
  user?: string;
  encoding?: Encoding;
  /** For `interactions`: what the items are. */
  itemKind?: 'track' | 'artist';
}

export interface FileTask {
  file: string;
  /** Key into `parsers`, stored with quarantined rows and the batch. */
  parser: string;
  /** The main entity of the file: rejects that belong to no entity are filed under it. */
  entity: EntityKind;
  framing: 'lines' | 'json-array' | 'json-auto';
  encoding: Encoding;
  /** Options and handler state replay needs, saved with the batch. */
  context: Record<string, unknown>;
  /**
   * Whose batches this file's are compared with in validation (schema, presence, drift); default
   * the parser. deepcut's jsonl and csv files are one source, `deepcut`.
   */
  source?: string;
  /** Fields this source fills with open-ended text (device names with OS versions): validation infers no value domain for them. */
  openFields?: string[];
}

export interface ImportFormat {
  name: string;
  description: string;
  /** Files under `path` (a file or a folder), in the order they must be imported. */
  plan(path: string, opts: FormatOptions): Promise<FileTask[]>;
}

/** What an import (or a replay) shares with every handler it builds. */
export interface ParserEnv {
  /** The store's catalog as a matcher: named tracks resolve to catalog tracks through it. */
  matcher?: TrackMatcher;
}

/** Builds the handler for a file task from its saved context (async: may read side files). */
export type ParserFactory = (context: Record<string, unknown>, env?: ParserEnv) => Promise<RecordHandler>;

/** Read a field that must be a string; undefined when absent or null. */
export function str(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : v === null || v === undefined ? undefined : String(v);
}
