/**
 * Structured logging (pino) to stderr, so stdout stays clean for `--json` results.
 * Level from `DEEPCUT_LOG_LEVEL` or the config (`info` by default; `silent` in tests).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

export function logger(): Logger {
  if (!root) {
    const level = process.env.DEEPCUT_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? 'silent' : 'info');
    root = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
  }
  return root;
}

export function setLogLevel(level: string): void {
  logger().level = level;
}

/** A child logger for one part of the system: `log('store').info({ rows }, 'loaded')`. */
export function log(component: string): Logger {
  return logger().child({ component });
}
