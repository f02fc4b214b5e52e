/**
 * Expected failures, as data. A few named kinds, each mapped to an HTTP status and a CLI exit code
 * in exactly one place ({@link httpStatus}, {@link exitCode}). Throw `DeepcutError` for a failure a
 * user can fix (bad input, missing data, unreachable service); throw plain errors only for bugs.
 */
export type ErrorCode =
  | 'invalid_input' // a row, a flag, a request body or a file that does not match its schema
  | 'config' // a configuration key with a wrong value
  | 'not_found' // an entity, a run, a file that does not exist
  | 'unknown_id' // an id the trained model never saw
  | 'conflict' // a write that contradicts stored state
  | 'unavailable' // a service (database, decoder) that cannot be reached or is not installed
  | 'blocked' // a pipeline gate refused (validation anomalies, metric regression)
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited';

/** Where in the input a failure is: the file, the 1-based line and the field, when known. */
export interface Location {
  file?: string;
  line?: number;
  field?: string;
}

export class DeepcutError extends Error {
  /** Seconds after which the same request may succeed (a transient failure); an HTTP answer carries it as Retry-After. */
  readonly retryAfterS?: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly where: Location = {},
    options?: { cause?: unknown; retryAfterS?: number },
  ) {
    super(formatWhere(where) + message, options);
    this.name = 'DeepcutError';
    if (options?.retryAfterS !== undefined) this.retryAfterS = options.retryAfterS;
  }
}

/** `file:line: field: ` prefix for messages, empty parts left out. */
export function formatWhere(w: Location): string {
  const parts: string[] = [];
  if (w.file) parts.push(w.line !== undefined ? `${w.file}:${w.line}` : w.file);
  else if (w.line !== undefined) parts.push(`line ${w.line}`);
  if (w.field) parts.push(`field ${w.field}`);
  return parts.length ? parts.join(': ') + ': ' : '';
}

export function isDeepcutError(e: unknown): e is DeepcutError {
  return e instanceof DeepcutError;
}

const statusOf: Record<ErrorCode, number> = {
  invalid_input: 400,
  config: 500,
  not_found: 404,
  unknown_id: 404,
  conflict: 409,
  unavailable: 503,
  blocked: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
};

const exitOf: Record<ErrorCode, number> = {
  invalid_input: 2,
  config: 3,
  not_found: 4,
  unknown_id: 4,
  conflict: 5,
  unavailable: 6,
  blocked: 7,
  unauthorized: 8,
  forbidden: 8,
  rate_limited: 9,
};

/** HTTP status for an error: its kind's status, 500 for anything that is not a DeepcutError. */
export function httpStatus(e: unknown): number {
  return isDeepcutError(e) ? statusOf[e.code] : 500;
}

/** Process exit code for an error: 1 for bugs, 2–9 for the kinds above (listed in the README). */
export function exitCode(e: unknown): number {
  return isDeepcutError(e) ? exitOf[e.code] : 1;
}

/** Exit code of an error kind, for a command that ends with a kind's code without throwing. */
export function exitCodeOf(code: ErrorCode): number {
  return exitOf[code];
}

/** Every error kind (the keys of the mapping, so a new kind cannot be missed). */
export const errorCodes = Object.keys(exitOf) as ErrorCode[];

/** A success or an expected failure, never mixed: `if (r.ok) r.value else r.error`. */
export type Result<T, E = DeepcutError> = { ok: true; value: T } | { ok: false; error: E };
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
