import type { Command } from 'commander';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({ ...(await import('../context.ts')), ...(await import('../../server/index.ts')) });

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
      const { configFrom, globals, runServer } = await load();
      const config = configFrom(c);
      const port = o.port !== undefined ? Number(o.port) : config.server.port;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DeepcutError('invalid_input', `--port expects 0..65535, got ${o.port}`, { field: '--port' });
      let host = o.host ?? config.server.host;
      if (!o.auth) {
        if (o.host && o.host !== '127.0.0.1') throw new DeepcutError('invalid_input', `--no-auth binds 127.0.0.1 only; remove --host ${o.host} or turn auth on`, { field: '--host' });
        host = '127.0.0.1';
      }
      await runServer(config, {
        port,
        host,
        auth: o.auth,
        onListening: (url) => {
          if (globals(c).json) process.stdout.write(JSON.stringify({ url, auth: o.auth }) + '\n');
          else process.stdout.write(`deepcut serving on ${url} (web page ${url}/, admin ${url}/admin, spec ${url}/openapi.json)\n`);
        },
      });
    });
}
