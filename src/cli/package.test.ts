/**
 * The npm package end to end: build the current sources into a staging folder (never dist/, which
 * other tests may be running), `npm pack` it, install the tarball into an empty folder, and run the
 * installed `deepcut` there: help, the small demo world through the whole pipeline, and the server
 * with its web page. The installed tree has no TypeScript loader, so this proves none is needed.
 * Installing reads the registry, or npm's cache first (`--prefer-offline`: warm after `npm ci`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MIN = 60_000;

/** Run a command to completion within `timeout` ms; fail the test with its output otherwise. */
function run(cmd: string, args: string[], opts: SpawnSyncOptions & { timeout: number }): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const out = `${String(r.stdout ?? '').slice(-2000)}\n${String(r.stderr ?? '').slice(-4000)}`;
  assert.equal(r.error, undefined, `${cmd} ${args.join(' ')}: ${r.error?.message}\n${out}`);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}\n${out}`);
  return String(r.stdout);
}

/** `p`, or a failure naming `what` after `ms`. */
async function within<T>(ms: number, p: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

test('npm pack gives a tarball whose deepcut runs help, the demo and the server without a TypeScript loader', { timeout: 25 * MIN }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'deepcut-pkg-'));
  const env = { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' };
  let server: ReturnType<typeof spawn> | undefined;
  try {
    // 1. The package folder: what package.json `files` lists, with dist/ built from the sources now.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
    const stage = join(tmp, 'stage');
    mkdirSync(stage);
    run(process.execPath, [join(root, 'scripts/build.mjs'), '--out', join(stage, 'dist')], { cwd: root, timeout: 5 * MIN });
    for (const f of ['package.json', 'README.md', ...pkg.files.filter((f) => !f.startsWith('dist'))]) {
      mkdirSync(dirname(join(stage, f)), { recursive: true });
      cpSync(join(root, f), join(stage, f), { recursive: true });
    }
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: stage, timeout: 2 * MIN })) as { filename: string; files: { path: string }[] }[];
    const paths = packed[0].files.map((f) => f.path);
    for (const p of ['bin/deepcut.js', 'dist/src/cli/main.js', 'dist/src/web/index.html', 'dist/src/audio/workers/analyze-worker.mjs', 'dist/build/wasm/als.wasm']) assert.ok(paths.includes(p), `${p} is in the tarball`);
    assert.deepEqual(paths.filter((p) => p.endsWith('.ts') || p.includes('.test.')), [], 'no TypeScript sources or tests in the tarball');

    // 2. Install it into an empty project.
    const app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "private": true }\n');
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(tmp, packed[0].filename)], { cwd: app, timeout: 15 * MIN });
    const installed = join(app, 'node_modules', 'deepcut');
    assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'tsx is not installed with the package');
    // npm runs "prepare" of a package installed from a tarball when its scripts are allowed: a no-op.
    run(process.execPath, [join(installed, 'scripts/build.mjs')], { cwd: installed, timeout: MIN });
    assert.ok(existsSync(join(installed, 'dist/src/cli/main.js')));

    // 3. The installed command.
    const deepcut = join(app, 'node_modules', '.bin', 'deepcut');
    const help = run(deepcut, ['--help'], { cwd: app, env, timeout: MIN });
    for (const c of ['demo', 'analyze', 'serve']) assert.match(help, new RegExp(`^ {2}${c}\\b`, 'm'));
    const home = join(tmp, 'home');
    const demo = JSON.parse(run(deepcut, ['--home', home, 'demo', '--size', 'small', '--no-serve', '--json'], { cwd: app, env, timeout: 10 * MIN }).trim().split('\n').pop()!);
    assert.deepEqual(demo.stages.map((s: { stage: string }) => s.stage), ['generate', 'import', 'pipeline', 'publish']);

    // 4. The server on the demo's published run: ready, and the web page is there.
    server = spawn(deepcut, ['--home', home, 'serve', '--no-auth', '--port', '0', '--json'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    server.stderr!.on('data', (d) => (stderr += d));
    const exited = once(server, 'exit');
    const [line] = (await within(2 * MIN, Promise.race([once(createInterface({ input: server.stdout! }), 'line'), exited.then(() => assert.fail(`serve exited: ${stderr}`))]), () => `serve printed no url: ${stderr}`)) as [string];
    const url = (JSON.parse(line) as { url: string }).url;
    const deadline = Date.now() + 2 * MIN;
    let ready = 0;
    while (ready !== 200 && Date.now() < deadline) {
      ready = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
      if (ready !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(ready, 200, `/readyz: ${stderr}`);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    assert.equal((await fetch(`${url}/web/app.js`)).status, 200);
    server.kill('SIGTERM');
    const [code] = (await within(MIN, exited, () => `serve did not stop on SIGTERM: ${stderr}`)) as [number | null];
    assert.equal(code, 0, stderr);
    server = undefined;
  } finally {
    server?.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});
