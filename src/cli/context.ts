/**
 * What every command gets from the global flags: the validated config and, on demand, the store.
 */
import { Command } from 'commander';
import { loadConfig, type Config } from '../config/config.ts';
import { logFormatFor, setLogFormat, setLogLevel } from '../log.ts';
import { quietProgress } from '../util/progress.ts';
import { DeepcutError } from '../errors.ts';
import type { Store } from '../store/index.ts';

export interface GlobalOptions {
  config?: string;
  set?: string[];
  json?: boolean;
  logLevel?: string;
  home?: string;
}

/** Parse `key=value` flags into config overrides. */
export function parseSets(sets: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sets) {
    const i = s.indexOf('=');
    if (i <= 0) throw new DeepcutError('invalid_input', `--set expects key=value, got "${s}"`, { field: '--set' });
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

/** The global options of the root program merged with a command's own. */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function configFrom(cmd: Command): Config {
  const g = globals(cmd);
  const overrides: Record<string, string> = parseSets(g.set);
  if (g.home) overrides.home = g.home;
  if (g.logLevel) overrides.logLevel = g.logLevel;
  const config = loadConfig({ file: g.config, overrides });
  setLogLevel(config.logLevel);
  setLogFormat(logFormatFor({ json: Boolean(g.json), isTTY: Boolean(process.stderr.isTTY) }));
  quietProgress(Boolean(g.json));
  return config;
}

/**
 * Open the configured store, run `fn`, and close the store whatever happens. The store stage is
 * imported here, when a command first needs it, so commands without a store (`analyze`) start
 * without loading it.
 */
export async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
  const { openStore } = await import('../store/index.ts');
  const store = await openStore({ home: config.home, databaseUrl: config.databaseUrl, readOnly: opts.readOnly });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
