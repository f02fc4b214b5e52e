import type { Command } from 'commander';
import { emit, table } from '../output.ts';
import type { KeyInfo } from '../../server/index.ts';
import type { ServerTarget } from '../admin-client.ts';
import type { Config } from '../../config/config.ts';
import type { Store } from '../../store/index.ts';
import { DeepcutError, isDeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({
  ...(await import('../context.ts')),
  ...(await import('../../server/index.ts')),
  ...(await import('../admin-client.ts')),
  ...(await import('../../server/index.ts')),
  ...(await import('../../store/index.ts')),
});

interface ServerOptions {
  server?: string;
  apiKey?: string;
}

type Listed = KeyInfo & { created_at: string; revoked_at: string | null };

/**
 * Where key commands go: `--server URL` (with `--api-key`, env DEEPCUT_API_KEY) → that server's
 * admin API; otherwise the store, and when the store cannot be opened because a `deepcut serve`
 * on this machine holds it, that server, with the local admin key it left in `<home>/server.json`.
 */
async function viaStoreOrServer<T>(config: Config, o: ServerOptions, local: (s: Store) => Promise<T>, remote: (t: ServerTarget) => Promise<T>, readOnly = false): Promise<T> {
  const { openStore, readServerFile } = await load();
  const key = o.apiKey || process.env.DEEPCUT_API_KEY || undefined;
  if (o.server) return remote({ url: o.server, key: key ?? (await sameServerKey(config, o.server)) });
  let store: Store;
  try {
    store = await openStore({ home: config.home, databaseUrl: config.databaseUrl, readOnly });
  } catch (e) {
    const running = isDeepcutError(e) && e.code === 'unavailable' ? readServerFile(config.home) : undefined;
    if (!running) throw e;
    return remote({ url: running.url, key: key ?? running.adminKey });
  }
  try {
    return await local(store);
  } finally {
    await store.close();
  }
}

/** The local admin key of the server at `url`, when it is the one this home's server.json names. */
async function sameServerKey(config: Config, url: string): Promise<string | undefined> {
  const { readServerFile } = await load();
  const running = readServerFile(config.home);
  return running && new URL(running.url).port === new URL(url).port ? running.adminKey : undefined;
}

const serverOptions = (c: Command) =>
  c
    .option('--server <url>', 'go through this running server\'s admin API (default: the store, or the `deepcut serve` holding it)')
    .option('--api-key <key>', 'admin key for --server (env DEEPCUT_API_KEY)');

/** `deepcut keys create|list|revoke`: API keys with scopes, stored hashed in the store. */
export function register(program: Command): void {
  const cmd = program.command('keys').description('create, list and revoke API keys (through the running server when it holds the store)');
  serverOptions(
    cmd
      .command('create')
      .description('create a key (printed once; only its hash is stored)')
      .requiredOption('--scope <scopes>', 'comma-separated: read, ingest, admin')
      .option('--name <name>', 'a name to recognise the key by')
      .option('--user <user_id>', 'bind the key to a user (ListenBrainz-style submissions are that user\'s listens)'),
  ).action(async (o: { scope: string; name?: string; user?: string } & ServerOptions, c: Command) => {
    const { configFrom, globals, parseScopes, createKey, adminRequest } = await load();
    const config = configFrom(c);
    const scopes = parseScopes(o.scope);
    const r = await viaStoreOrServer(
      config,
      o,
      async (s) => {
        const k = await createKey(s, { scopes, name: o.name, userId: o.user });
        return { key: k.key, ...k.info };
      },
      (t) => adminRequest<{ key: string } & KeyInfo>(t, 'POST', '/v1/admin/keys', { scopes, name: o.name, user_id: o.user }),
    );
    emit(globals(c), r, (x) => `${x.key}\n(key ${x.name}, scopes ${x.scopes.join(',')}${x.user_id ? `, user ${x.user_id}` : ''}: shown once, store it now)`);
  });
  serverOptions(cmd.command('list').description('list keys (never their secrets)')).action(async (o: ServerOptions, c: Command) => {
    const { configFrom, globals, listKeys, adminRequest } = await load();
    const config = configFrom(c);
    const keys = await viaStoreOrServer(config, o, (s) => listKeys(s), async (t) => (await adminRequest<{ keys: Listed[] }>(t, 'GET', '/v1/admin/keys')).keys, true);
    emit(globals(c), { keys }, (r) => table(['id', 'name', 'scopes', 'user', 'created', 'revoked'], r.keys.map((k) => [k.id, k.name, k.scopes.join(','), k.user_id, k.created_at, k.revoked_at])));
  });
  serverOptions(cmd.command('revoke <idOrName>').description('revoke a key by id or name (the server it goes through stops accepting it at once, other servers within 5 s)')).action(
    async (idOrName: string, o: ServerOptions, c: Command) => {
      const { configFrom, globals, revokeKey, adminRequest } = await load();
      const config = configFrom(c);
      if (!idOrName.trim()) throw new DeepcutError('invalid_input', 'expected a key id or name', { field: 'idOrName' });
      const revoked = await viaStoreOrServer(
        config,
        o,
        (s) => revokeKey(s, idOrName),
        async (t) => (await adminRequest<{ revoked: KeyInfo }>(t, 'DELETE', `/v1/admin/keys/${encodeURIComponent(idOrName)}`)).revoked,
      );
      emit(globals(c), { revoked }, (r) => `revoked ${r.revoked.name} (${r.revoked.id})`);
    },
  );
}
