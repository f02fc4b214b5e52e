import type { Command } from 'commander';
import { configFrom, globals } from '../context.ts';
import { DeepcutError } from '../../errors.ts';
import { openStore } from '../../store/open.ts';
import { buildServer } from '../../server/app.ts';
import { loadServingState } from '../../serving/load.ts';
import { log } from '../../log.ts';

/**
 * `deepcut serve [--port] [--host] [--no-auth]`: the HTTP API and the web page. The serving process
 * owns the embedded store; SIGTERM/SIGINT stop accepting, finish in-flight requests, close the store.
 */
export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the HTTP API and the web page (keys: `deepcut keys create`)')
    .option('--port <n>', 'port (config server.port; 0 picks a free one)')
    .option('--host <addr>', 'address to bind (config server.host)')
    .option('--no-auth', 'local demo mode: no API keys needed; binds 127.0.0.1 only')
    .action(async (o: { port?: string; host?: string; auth: boolean }, c: Command) => {
      const config = configFrom(c);
      const l = log('serve');
      const port = o.port !== undefined ? Number(o.port) : config.server.port;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DeepcutError('invalid_input', `--port expects 0..65535, got ${o.port}`, { field: '--port' });
      let host = o.host ?? config.server.host;
      if (!o.auth) {
        if (o.host && o.host !== '127.0.0.1') throw new DeepcutError('invalid_input', `--no-auth binds 127.0.0.1 only; remove --host ${o.host} or turn auth on`, { field: '--host' });
        host = '127.0.0.1';
        l.warn('AUTH IS OFF (--no-auth): every request has read, ingest and admin scope. Local demo only; bound to 127.0.0.1.');
      }
      const store = await openStore({ home: config.home, databaseUrl: config.databaseUrl });
      let app: Awaited<ReturnType<typeof buildServer>> | undefined;
      try {
        const state = await loadServingState(store, config);
        if (!state.recs) l.warn('no listens in the store and no published run: recommendation routes answer 503 until there are');
        else l.info({ model: state.recs.info }, 'serving model loaded');
        app = await buildServer({ store, state, config, auth: o.auth });
        const url = await app.listen({ port, host });
        l.info({ url }, 'listening');
        if (globals(c).json) process.stdout.write(JSON.stringify({ url, auth: o.auth }) + '\n');
        else process.stdout.write(`deepcut serving on ${url} (web page ${url}/, admin ${url}/admin, spec ${url}/openapi.json)\n`);
      } catch (e) {
        await app?.close();
        await store.close();
        throw e;
      }
      const server = app;
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        l.info({ signal }, 'stopping: finishing in-flight requests');
        try {
          await server.close();
        } finally {
          await store.close();
          l.info('stopped');
          process.exit(0);
        }
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
      await new Promise<never>(() => {});
    });
}
