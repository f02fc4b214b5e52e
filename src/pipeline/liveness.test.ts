import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, utimesSync, existsSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reapDeadRuns, deadOwner, runsHere, type RunOwner } from './liveness.ts';
import type { RunManifest } from './runner.ts';

const NOW = new Date('2026-12-06T06:00:00Z');

function manifest(runId: string, owner: RunOwner | undefined): RunManifest {
  return {
    magic: 'deepcut-run',
    version: 1,
    runId,
    createdAt: '2026-12-06T05:00:00Z',
    status: 'running',
    order: ['signals', 'cf', 'text'],
    steps: { signals: { status: 'done' }, cf: { status: 'running', startedAt: '2026-12-06T05:10:00Z' }, text: { status: 'pending' } },
    ...(owner ? { owner } : {}),
  };
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('reapDeadRuns marks failed exactly the running runs whose process is gone, naming the step that was running', async () => {
  const home = mkdtempSync(join(tmpdir(), 'dc-reap-'));
  try {
    const fresh = new Date(NOW.getTime() - 60_000).toISOString();
    const old = new Date(NOW.getTime() - 11 * 60_000).toISOString();
    const dead = deadPid();
    const runs: Record<string, RunOwner | undefined> = {
      'r1-dead-pid': { pid: dead, host: hostname(), heartbeatAt: fresh },
      'r2-live-here': { pid: process.ppid, host: hostname(), heartbeatAt: fresh },
      'r3-live-elsewhere': { pid: 1, host: 'other-host', heartbeatAt: fresh },
      'r4-silent-elsewhere': { pid: 1, host: 'other-host', heartbeatAt: old },
      'r5-legacy-old': undefined,
      'r6-legacy-recent': undefined,
      // this process's pid: its own live run, and one left by an earlier process that had the same pid (a restarted container's pid 1)
      'r7-running-in-this-process': { pid: process.pid, host: hostname(), heartbeatAt: fresh },
      'r8-same-pid-earlier-process': { pid: process.pid, host: hostname(), heartbeatAt: fresh },
    };
    runsHere.add('r7-running-in-this-process');
    for (const [id, owner] of Object.entries(runs)) {
      mkdirSync(join(home, 'runs', id), { recursive: true });
      writeFileSync(join(home, 'runs', id, 'run.json'), JSON.stringify(manifest(id, owner)));
    }
    const done = { ...manifest('r0-done', { pid: dead, host: hostname(), heartbeatAt: old }), status: 'succeeded' };
    mkdirSync(join(home, 'runs', 'r0-done'));
    writeFileSync(join(home, 'runs', 'r0-done', 'run.json'), JSON.stringify(done));
    utimesSync(join(home, 'runs', 'r5-legacy-old', 'run.json'), new Date(old), new Date(old));
    utimesSync(join(home, 'runs', 'r6-legacy-recent', 'run.json'), NOW, NOW);

    const reaped = await reapDeadRuns(home, { now: NOW });
    runsHere.delete('r7-running-in-this-process');
    assert.deepEqual(reaped.map((m) => m.runId), ['r1-dead-pid', 'r4-silent-elsewhere', 'r5-legacy-old', 'r8-same-pid-earlier-process']);
    assert.match(reaped[3].steps.cf.error!, /is gone \(this process has its pid now\)/);
    const read = (id: string) => JSON.parse(readFileSync(join(home, 'runs', id, 'run.json'), 'utf8')) as RunManifest;
    const r1 = read('r1-dead-pid');
    assert.equal(r1.status, 'failed');
    assert.deepEqual([r1.steps.signals.status, r1.steps.cf.status, r1.steps.text.status], ['done', 'failed', 'pending']);
    assert.equal(r1.steps.cf.error, `the run's process stopped without finishing (process ${dead} on ${hostname()} is gone; found 2026-12-06T06:00:00.000Z); resume with \`deepcut pipeline run --resume r1-dead-pid\``);
    assert.match(r1.error!, /^step cf was running: /);
    assert.match(read('r4-silent-elsewhere').steps.cf.error!, /process 1 on other-host last signalled at 2026-12-06T05:49:00.000Z, over 10 min ago/);
    assert.match(read('r5-legacy-old').steps.cf.error!, /no owner recorded and the manifest unchanged since/);
    for (const id of ['r2-live-here', 'r3-live-elsewhere', 'r6-legacy-recent', 'r7-running-in-this-process']) assert.equal(read(id).status, 'running', id);
    assert.equal(read('r0-done').status, 'succeeded');
    assert.deepEqual((await reapDeadRuns(home, { now: NOW })).map((m) => m.runId), ['r7-running-in-this-process'], 'a second pass finds only the run this process no longer runs');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('deadOwner: a reused pid is caught by its stale heartbeat', () => {
  const m = manifest('r', { pid: process.ppid, host: hostname(), heartbeatAt: '2026-12-06T05:00:00Z' });
  assert.match(deadOwner(m, NOW, { now: NOW })!, /last signalled at 2026-12-06T05:00:00Z/);
  assert.equal(deadOwner({ ...m, status: 'failed' }, NOW, { now: NOW }), undefined);
});

const bin = fileURLToPath(new URL('../../bin/deepcut.js', import.meta.url));
const kit = fileURLToPath(new URL('./testing/endless-run.ts', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);

test('a live run in another process stays running; once its process is killed, pipeline status shows it failed at its step', { timeout: 60_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'dc-reap-cli-'));
  const child = spawn(process.execPath, ['--import', 'tsx', kit, home], { stdio: 'ignore', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });
  const exited = new Promise((r) => child.on('exit', r));
  try {
    let m: RunManifest | undefined;
    for (let i = 0; i < 600 && m?.steps.forever?.status !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const runs = existsSync(join(home, 'runs')) ? lastJson(cli('--home', home, '--json', 'pipeline', 'runs').stdout).runs : [];
      m = runs[0];
    }
    assert.equal(m?.steps.forever.status, 'running', 'the child got to its endless step');
    assert.equal(m!.owner!.pid, child.pid);
    assert.equal(m!.owner!.host, hostname());
    const live = lastJson(cli('--home', home, '--json', 'pipeline', 'status').stdout);
    assert.equal(live.latest.status, 'running', 'a live run is not marked failed');
    const resume = cli('--home', home, 'pipeline', 'run', '--resume', m!.runId);
    assert.equal(resume.status, 5, resume.stderr);
    assert.match(resume.stderr, new RegExp(`pipeline run ${m!.runId} is running in process ${child.pid} on .*: wait for it, or stop that process and resume`));

    child.kill('SIGKILL');
    await exited;
    const after = cli('--home', home, '--json', 'pipeline', 'status');
    assert.equal(after.status, 0, after.stderr);
    const latest = lastJson(after.stdout).latest as RunManifest;
    assert.equal(latest.status, 'failed');
    assert.equal(latest.steps.first.status, 'done');
    assert.equal(latest.steps.forever.status, 'failed');
    assert.match(latest.steps.forever.error!, new RegExp(`process ${child.pid} on .* is gone`));
  } finally {
    child.kill('SIGKILL');
    await exited;
    rmSync(home, { recursive: true, force: true });
  }
});
