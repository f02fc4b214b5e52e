/**
 * A home the process cannot write. Tests run as root, which ignores file modes, so a chmod'ed
 * folder proves nothing: the home is bind-mounted read-only in a private mount namespace
 * (`unshare -m`), which refuses writes to root too (EROFS). Where that is not permitted (no
 * CAP_SYS_ADMIN, no unshare) the test is skipped and says so; the mapping itself is covered by
 * the unit tests of `openError`/`writeError` in src/store/duckdb.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/deepcut.js', import.meta.url));
const env = { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' };
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
/** Run the CLI with `dir` mounted read-only for it alone. */
const runReadOnly = (dir: string, ...args: string[]) =>
  spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind -o ro "$0" "$0" && exec "$@"', dir, process.execPath, bin, ...args], { encoding: 'utf8', env });

function readOnlyMounts(): string | undefined {
  const d = mkdtempSync(join(tmpdir(), 'deepcut-ro-probe-'));
  try {
    const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind -o ro "$0" "$0" && ! touch "$0/x" 2>/dev/null', d], { encoding: 'utf8' });
    return r.status === 0 ? undefined : `cannot bind-mount a folder read-only here (unshare -m: ${r.error?.message ?? r.stderr.trim()})`;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const skip = readOnlyMounts();

test('on a read-only home, reading commands work and writing ones exit 5 (conflict) naming the cause', { skip }, () => {
  const home = mkdtempSync(join(tmpdir(), 'deepcut-ro-home-'));
  try {
    const data = join(home, 'in');
    mkdirSync(data);
    const file = join(data, 'artists.jsonl');
    writeFileSync(file, '{"artist_id":"a1","name":"One"}\n{"artist_id":"a2"}\n');
    assert.equal(run('--home', home, 'import', 'jsonl', file).status, 0);
    // a run whose process died (pid 2^22 + 1 is past Linux's pid_max, so no process has it)
    mkdirSync(join(home, 'runs', 'r-dead'), { recursive: true });
    const dead = { magic: 'deepcut-run', version: 1, runId: 'r-dead', createdAt: '2026-12-06T05:00:00Z', status: 'running', order: ['signals'], steps: { signals: { status: 'running' } }, owner: { pid: 4_194_305, host: hostname(), heartbeatAt: new Date().toISOString() } };
    writeFileSync(join(home, 'runs', 'r-dead', 'run.json'), JSON.stringify(dead));

    const list = runReadOnly(home, '--home', home, '--json', 'quarantine', 'list');
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout.trim().split('\n').pop()!).rows.map((r: { line: number }) => r.line), [2]);
    const show = runReadOnly(home, '--home', home, '--json', 'quarantine', 'show', '1');
    assert.equal(show.status, 0, show.stderr);
    // validate reads; exit 7 because the batch (one row of two quarantined) blocks the pipeline
    const v = runReadOnly(home, '--home', home, '--json', 'validate');
    assert.equal(v.status, 7, v.stderr);
    assert.equal(JSON.parse(v.stdout.trim().split('\n').pop()!).batches[0].entity, 'artists');
    assert.equal(runReadOnly(home, '--home', home, 'validate', 'schema', 'show').status, 0);
    assert.equal(runReadOnly(home, '--home', home, 'keys', 'list').status, 0);
    // the dead run shows failed although its manifest cannot be rewritten
    const st = runReadOnly(home, '--home', home, '--json', 'pipeline', 'status');
    assert.equal(st.status, 0, st.stderr);
    assert.equal(JSON.parse(st.stdout.trim().split('\n').pop()!).latest.status, 'failed');
    assert.equal(JSON.parse(readFileSync(join(home, 'runs', 'r-dead', 'run.json'), 'utf8')).status, 'running', 'left as it was on disk');

    for (const args of [['import', 'jsonl', file], ['keys', 'create', '--scope', 'read'], ['quarantine', 'replay']]) {
      const w = runReadOnly(home, '--home', home, ...args);
      assert.equal(w.status, 5, `${args.join(' ')}: ${w.stderr}`);
      assert.match(w.stderr, /store .*store\.duckdb is read-only for this process \(.*Read-only file system\): commands that only read \(quarantine list, validate, keys list\) still work/);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
