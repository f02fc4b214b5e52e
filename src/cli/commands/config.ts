import type { Command } from 'commander';
import { emit, table } from '../output.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({ ...(await import('../context.ts')), ...(await import('../../config/config.ts')) });

/** `deepcut config [show|keys]`: the effective configuration, or every key with its env and default. */
export function register(program: Command): void {
  const cmd = program.command('config').description('show the effective configuration or list every key');
  cmd
    .command('show', { isDefault: true })
    .description('print the validated configuration (defaults, file, env and flags merged)')
    .action(async (_o, c: Command) => {
      const { configFrom, globals } = await load();
      const config = configFrom(c);
      emit(globals(c), config, (r) => JSON.stringify(r, null, 2));
    });
  cmd
    .command('keys')
    .description('list every config key with its environment variable and default')
    .action(async (_o, c: Command) => {
      const { configKeys, globals } = await load();
      const keys = configKeys();
      emit(globals(c), { keys }, (r) => table(['key', 'env', 'default'], r.keys.map((k) => [k.key, k.env, k.default === undefined ? '(unset)' : JSON.stringify(k.default)])));
    });
}
