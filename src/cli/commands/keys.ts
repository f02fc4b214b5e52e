import type { Command } from 'commander';
import { emit, table } from '../output.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({ ...(await import('../context.ts')), ...(await import('../../server/auth.ts')) });

/** `deepcut keys create|list|revoke`: API keys with scopes, stored hashed in the store. */
export function register(program: Command): void {
  const cmd = program.command('keys').description('create, list and revoke API keys');
  cmd
    .command('create')
    .description('create a key (printed once; only its hash is stored)')
    .requiredOption('--scope <scopes>', 'comma-separated: read, ingest, admin')
    .option('--name <name>', 'a name to recognise the key by')
    .option('--user <user_id>', 'bind the key to a user (ListenBrainz-style submissions are that user\'s listens)')
    .action(async (o: { scope: string; name?: string; user?: string }, c: Command) => {
      const { configFrom, globals, withStore, parseScopes, createKey } = await load();
      const config = configFrom(c);
      const scopes = parseScopes(o.scope);
      const r = await withStore(config, (s) => createKey(s, { scopes, name: o.name, userId: o.user }));
      emit(globals(c), { key: r.key, ...r.info }, (x) => `${x.key}\n(key ${x.name}, scopes ${x.scopes.join(',')}${x.user_id ? `, user ${x.user_id}` : ''}: shown once, store it now)`);
    });
  cmd
    .command('list')
    .description('list keys (never their secrets)')
    .action(async (_o, c: Command) => {
      const { configFrom, globals, withStore, listKeys } = await load();
      const config = configFrom(c);
      const keys = await withStore(config, (s) => listKeys(s), { readOnly: true });
      emit(globals(c), { keys }, (r) => table(['id', 'name', 'scopes', 'user', 'created', 'revoked'], r.keys.map((k) => [k.id, k.name, k.scopes.join(','), k.user_id, k.created_at, k.revoked_at])));
    });
  cmd
    .command('revoke <idOrName>')
    .description('revoke a key by id or name (servers stop accepting it within 5 s)')
    .action(async (idOrName: string, _o, c: Command) => {
      const { configFrom, globals, withStore, revokeKey } = await load();
      const config = configFrom(c);
      const k = await withStore(config, (s) => revokeKey(s, idOrName));
      emit(globals(c), { revoked: k }, (r) => `revoked ${r.revoked.name} (${r.revoked.id})`);
    });
}
