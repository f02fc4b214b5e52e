import type { Command } from 'commander';
import { configFrom, globals } from '../context.ts';
import { emit, table } from '../output.ts';
import { configKeys } from '../../config/config.ts';

/** `deepcut config [show|keys]`: the effective configuration, or every key with its env and default. */
export function register(program: Command): void {
  const cmd = program.command('config').description('show the effective configuration or list every key');
  cmd
    .command('show', { isDefault: true })
    .description('print the validated configuration (defaults, file, env and flags merged)')
    .action((_o, c: Command) => {
      const config = configFrom(c);
      emit(globals(c), config, (r) => JSON.stringify(r, null, 2));
    });
  cmd
    .command('keys')
    .description('list every config key with its environment variable and default')
    .action((_o, c: Command) => {
      const keys = configKeys();
      emit(globals(c), { keys }, (r) => table(['key', 'env', 'default'], r.keys.map((k) => [k.key, k.env, k.default === undefined ? '(unset)' : JSON.stringify(k.default)])));
    });
}
