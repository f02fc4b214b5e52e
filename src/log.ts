/**
 * Structured logging (pino) to stderr, so stdout stays clean for `--json` results.
 * Level from `DEEPCUT_LOG_LEVEL` or the config (`info` by default; `silent` in tests).
 *
 * Format: JSON lines for machines (files, pipes, `--json`), one readable line per record on a
 * terminal (`12:00:01 WARN  serve: AUTH IS OFF … port=8080`), so `deepcut demo` on a TTY does not
 * interleave raw JSON with its progress lines. The CLI picks with {@link logFormatFor}.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'text';

let root: Logger | undefined;
let format: LogFormat = 'json';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** JSON for `--json` and whenever stderr is not a terminal (files, pipes); text on a terminal. */
export function logFormatFor(o: { json: boolean; isTTY: boolean }): LogFormat {
  return o.json || !o.isTTY ? 'json' : 'text';
}

/**
 * One pino JSON record as a line of text: time (HH:MM:SS), level, component, message, then the
 * other fields as `key=value` (strings with spaces quoted, objects as JSON).
 * @example textLine('{"level":40,"time":"2026-11-20T12:00:01.000Z","component":"serve","msg":"hi","port":80}') // '12:00:01 WARN  serve: hi port=80\n'
 */
export function textLine(json: string): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const { level, time, component, msg, err, ...rest } = r;
  const t = typeof time === 'string' ? time.slice(11, 19) : '';
  const lv = (LEVELS[Number(level)] ?? String(level)).padEnd(5);
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
  const e = err && typeof err === 'object' ? ` (${String((err as { message?: unknown }).message ?? JSON.stringify(err))})` : err ? ` (${String(err)})` : '';
  return `${t} ${lv} ${component ? `${String(component)}: ` : ''}${String(msg ?? '')}${e}${fields.length ? ' ' + fields.join(' ') : ''}\n`;
}

/** A pino destination that writes JSON records as they come, or as {@link textLine} text. */
function destination(write: (s: string) => void, f: () => LogFormat) {
  return { write: (s: string) => write(f() === 'text' ? textLine(s.trimEnd()) : s) };
}

export function logger(): Logger {
  if (!root) {
    const level = process.env.DEEPCUT_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? 'silent' : 'info');
    root = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination((s) => process.stderr.write(s), () => format));
  }
  return root;
}

export function setLogLevel(level: string): void {
  logger().level = level;
}

/** Switch every logger (made before or after) to JSON lines or text. */
export function setLogFormat(f: LogFormat): void {
  format = f;
}

/** A child logger for one part of the system: `log('store').info({ rows }, 'loaded')`. */
export function log(component: string): Logger {
  return logger().child({ component });
}

/** A logger writing to `write` in `f` (tests). */
export function loggerTo(write: (s: string) => void, f: LogFormat): Logger {
  return pino({ level: 'info', base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination(write, () => f));
}
