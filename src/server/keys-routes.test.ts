/**
 * Key management while `deepcut serve` owns the embedded store (DuckDB: one process at a time).
 * A real server process on a real port; `deepcut keys` goes through it. The server is always
 * stopped, whatever the test's outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverFilePath } from './local-admin.ts';
import { buildServer } from './app.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { seedWorld } from './testing/world.ts';
import { startServe } from './testing/serve.ts';
import { KeyVerifier, createKey, newKey, NS } from './auth.ts';

const bin = fileURLToPath(new URL('../../bin/deepcut.js', import.meta.url));
const env = { ...process.env, DEEPCUT_LOG_LEVEL: 'warn', DEEPCUT_API_KEY: '' };
const cli = (home: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, '--home', home, ...args], { encoding: 'utf8', env });
  return { ...r, last: () => JSON.parse(r.stdout.trim().split('\n').pop()!) };
};

/** Start `deepcut serve --port 0` (auth on) and resolve with its URL. */
const startServer = (home: string, ...extra: string[]) => startServe(home, [...extra, 'serve', '--port', '0', '--host', '127.0.0.1'], env);

async function stop(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null) return proc.exitCode;
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  return exited;
}

test('keys are created, listed and revoked through the CLI while the server holds the store; a revoked key stops working at once', { timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'deepcut-keys-'));
  let server: { proc: ChildProcess; url: string } | undefined;
  try {
    server = await startServer(home);
    const { url } = server;
    assert.equal(statSync(serverFilePath(home)).mode & 0o777, 0o600, 'server.json readable by its owner only');
    // the store is locked by the server: a writing command says so
    const imp = cli(home, 'quarantine', 'replay');
    assert.equal(imp.status, 6, imp.stderr);
    assert.match(imp.stderr, /in use by another process/);

    const created = cli(home, '--json', 'keys', 'create', '--scope', 'read', '--name', 'leaked');
    assert.equal(created.status, 0, created.stderr);
    const leaked = created.last() as { key: string; id: string; name: string; scopes: string[] };
    assert.equal(leaked.name, 'leaked');
    assert.deepEqual(leaked.scopes, ['read']);
    const admin = cli(home, '--json', 'keys', 'create', '--scope', 'admin', '--name', 'ops').last() as { key: string };

    const ask = (key: string) => fetch(`${url}/v1/users/u1/recommendations`, { headers: { authorization: `Bearer ${key}` } });
    const before = await ask(leaked.key);
    assert.notEqual(before.status, 401, 'the new key is accepted (503: no data yet)');
    assert.notEqual(before.status, 403);

    const listed = cli(home, '--json', 'keys', 'list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual((listed.last().keys as { name: string }[]).map((k) => k.name).sort(), ['leaked', 'ops']);

    const revoked = cli(home, '--json', 'keys', 'revoke', 'leaked');
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.equal(revoked.last().revoked.id, leaked.id);
    const after = await ask(leaked.key);
    assert.equal(after.status, 401);
    assert.match(((await after.json()) as { error: { message: string } }).error.message, /API key leaked was revoked at/);

    // --server with an explicit admin key; a read key lacks the scope (8); no such key (4)
    const viaFlag = cli(home, '--json', 'keys', 'list', '--server', url, '--api-key', admin.key);
    assert.equal(viaFlag.status, 0, viaFlag.stderr);
    assert.ok((viaFlag.last().keys as { name: string; revoked_at: string | null }[]).find((k) => k.name === 'leaked')?.revoked_at);
    const made = await fetch(`${url}/v1/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ scopes: ['read'] }) });
    assert.equal(made.status, 200);
    const reader = (await made.json()) as { key: string };
    const forbidden = cli(home, 'keys', 'list', '--server', url, '--api-key', reader.key);
    assert.equal(forbidden.status, 8, forbidden.stderr);
    assert.match(forbidden.stderr, /answered 403: API key .* lacks scope admin/);
    assert.equal(cli(home, 'keys', 'revoke', 'no-such-key').status, 4);

    assert.equal(await stop(server.proc), 0);
    assert.ok(!existsSync(serverFilePath(home)), 'a stopped server removes server.json');
    // the server is gone: the CLI works on the store itself, which holds what was done through the server
    const direct = cli(home, '--json', 'keys', 'list');
    assert.equal(direct.status, 0, direct.stderr);
    assert.equal((direct.last().keys as unknown[]).length, 3);
  } finally {
    if (server) await stop(server.proc);
    rmSync(home, { recursive: true, force: true });
  }
});

test('admin keys routes: scope enforced, bodies checked, unknown keys 404; a process-local key works and is never stored', async () => {
  const store = new MemoryStore();
  const { state, config } = await seedWorld(store);
  config.home = '/nonexistent-deepcut-home';
  const verifier = new KeyVerifier(store);
  const local = newKey({ scopes: ['admin'], name: 'local admin' });
  verifier.allowLocal(local.rec);
  const app = await buildServer({ store, state, config, verifier });
  try {
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const reader = (await createKey(store, { scopes: ['read'] })).key;
    assert.equal((await app.inject({ url: '/v1/admin/keys', headers: as(reader) })).statusCode, 403);
    assert.equal((await app.inject({ url: '/v1/admin/keys' })).statusCode, 401);
    const bad = await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: as(local.key), payload: { scopes: ['root'] } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /^body\.scopes\.0: /);
    const made = await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: as(local.key), payload: { scopes: ['ingest', 'ingest'], name: 'scrobbler', user_id: 'u1' } });
    assert.equal(made.statusCode, 200, made.body);
    const k = made.json() as { key: string; id: string; scopes: string[]; user_id: string };
    assert.deepEqual([k.scopes, k.user_id], [['ingest'], 'u1']);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/admin/keys/nope', headers: as(local.key) })).statusCode, 404);
    // the key is verified (and cached) before the revoke; the revoke clears the cache
    assert.equal((await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: as(k.key), payload: { scopes: ['read'] } })).statusCode, 403);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/admin/keys/scrobbler', headers: as(local.key) })).statusCode, 200);
    assert.equal((await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: as(k.key), payload: { scopes: ['read'] } })).statusCode, 401);
    const names = ((await app.inject({ url: '/v1/admin/keys', headers: as(local.key) })).json() as { keys: { name: string }[] }).keys.map((x) => x.name);
    assert.ok(!names.includes('local admin'));
    assert.equal(await store.getMeta(NS, local.rec.id), undefined, 'the local key is not in the store');
    assert.equal((await new KeyVerifier(store).verify(local.key).catch((e: Error) => e.message)), 'unknown API key', 'another verifier (another process) does not know it');
  } finally {
    await app.close();
  }
});
