// deploy/ is kept consistent with the code the fault tests run: its one config file loads for
// every role, the variables it sets are config keys, and its nodes and health checks use the
// configured port and the routes the server has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { configKeys, loadConfig } from '../config/config.ts';
import { routes } from './routes.ts';

const deploy = new URL('../../deploy/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, deploy), 'utf8');

test('deploy/: one config for every role, variables that are config keys, ports and routes that exist', () => {
  const file = new URL('deepcut.config.json', deploy).pathname;
  const c = loadConfig({ file, env: { DATABASE_URL: 'postgres://deepcut:deepcut@postgres:5432/deepcut' } });
  assert.equal(c.scheduler.enabled, false, 'API nodes never train');
  const compose = read('compose.yaml');
  const known = new Set(configKeys().map((k) => k.env));
  for (const [, name] of compose.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)) if (name.startsWith('DEEPCUT_') || name === 'DATABASE_URL') assert.ok(known.has(name), `compose.yaml sets ${name}, not a config variable`);
  assert.ok(compose.includes(`127.0.0.1:${c.server.port}/readyz`), 'the compose health check asks /readyz on the configured port');
  assert.ok(read('nginx.conf').includes(`:${c.server.port} `), 'nginx routes to the configured port');
  const paths = new Set(routes().map((r) => r.url));
  assert.ok(paths.has('/readyz'));
  const units = readdirSync(new URL('systemd/', deploy)).map((f) => read(`systemd/${f}`)).join('\n');
  assert.match(units, /deepcut --config \/etc\/deepcut\/deepcut.config.json serve --port %i/);
  assert.match(units, /deepcut --config \/etc\/deepcut\/deepcut.config.json pipeline run/);
  assert.match(units, /KillSignal=SIGTERM/);
  // the pipeline's fleet roles: workers and schedulers, on the queue the config names
  assert.match(units, /deepcut --config \/etc\/deepcut\/deepcut.config.json worker --concurrency \d+/);
  assert.match(units, /deepcut --config \/etc\/deepcut\/deepcut.config.json scheduler\n/);
  assert.match(compose, /command: \["worker", "--concurrency", "\d+"\]/);
  assert.equal(compose.match(/command: \["scheduler"\]/g)?.length, 1, 'one scheduler service definition (scheduler-2 reuses it)');
  assert.match(compose, /scheduler-2: \*scheduler/);
  assert.ok(c.queue.url && compose.includes(`${new URL(c.queue.url).hostname}:`), 'the queue the config names is a compose service');
});
