/**
 * The dashboard's admin actions and reports on a small generated world through the pipeline: a run
 * started over HTTP is followed to its end and served, roll back and publish switch the publication
 * row and what this server serves, the bandit report and the user inspector answer, nothing is
 * logged as an impression by the inspector, and each route wants the admin scope.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from './app.ts';
import { createKey } from './auth.ts';
import { servedWorld } from './testing/served-world.ts';
import { impressionLogDir } from '../bandit/index.ts';

const USER = 'u-000003';

/** Lines in the impression log's files (open and closed). */
function impressionLines(home: string): number {
  const dir = impressionLogDir(home);
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).length, 0);
}

test('admin: run the pipeline, roll back, publish, the bandit report and the user inspector', { timeout: 900_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'dc-admin-'));
  const w = await servedWorld(root, { size: 'small', seed: 5, audioClips: 0 });
  const app = await buildServer({ store: w.store, state: w.state, config: w.config, auth: true, clock: w.clock });
  try {
    const admin = (await createKey(w.store, { scopes: ['admin'] })).key;
    const reader = (await createKey(w.store, { scopes: ['read', 'ingest'] })).key;
    const call = async (method: 'GET' | 'POST', url: string, body?: unknown, key = admin) => {
      const r = await app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
      return { status: r.statusCode, body: r.json() as Record<string, any> };
    };
    const serving = () => app.inject({ method: 'GET', url: '/readyz' }).then((r) => (r.json() as { model?: { runId: string | null } }).model?.runId ?? null);

    // every action and report wants the admin scope
    for (const [method, url] of [['POST', '/v1/admin/pipeline/run'], ['POST', '/v1/admin/rollback'], ['POST', '/v1/admin/publish'], ['GET', '/v1/admin/bandit'], ['GET', `/v1/admin/users/${USER}`], ['GET', '/v1/admin/pipeline/job']] as const) {
      const r = await call(method, url, method === 'POST' ? { run_id: w.runId, confirm: true } : undefined, reader);
      assert.equal(r.status, 403, `${method} ${url} with a read key`);
    }

    // the bandit report of the first run: no impressions yet, not promoted, and why
    const bandit = await call('GET', '/v1/admin/bandit');
    assert.equal(bandit.status, 200);
    assert.equal(bandit.body.runs.length, 1);
    assert.equal(bandit.body.runs[0].run_id, w.runId);
    assert.equal(bandit.body.runs[0].promoted, false);
    assert.equal(bandit.body.runs[0].logged_requests, 0);
    assert.match(bandit.body.runs[0].reason, /at least 200 are needed/);

    // the inspector: history beside recommendations with reasons; no impression logged
    const logged = impressionLines(w.config.home);
    const who = await call('GET', `/v1/admin/users/${USER}?k=10`);
    assert.equal(who.status, 200, JSON.stringify(who.body));
    assert.ok(who.body.listens > 0);
    assert.equal(who.body.recent.length, 10);
    assert.ok(who.body.recent.every((l: { context: string; title: string | null }) => l.context && l.title), JSON.stringify(who.body.recent[0]));
    assert.ok(who.body.recent.every((l: { started_at: string }, i: number, a: { started_at: string }[]) => i === 0 || a[i - 1].started_at >= l.started_at), 'latest first');
    assert.ok(who.body.most_played.length > 0);
    assert.equal(who.body.recommendations.length, 10);
    assert.ok(who.body.recommendations.every((c: { reason: { text: string } }) => c.reason.text.length > 0));
    assert.ok(who.body.shelves.length >= 3, who.body.shelves.map((s: { id: string }) => s.id).join(','));
    const heard = new Set(who.body.most_played.map((t: { track_id: string }) => t.track_id));
    assert.ok(who.body.recommendations.every((c: { track_id: string }) => !heard.has(c.track_id)), 'recommendations are unheard tracks');
    await w.state.home?.flush?.();
    assert.equal(impressionLines(w.config.home), logged, 'the inspector logs no impression');
    assert.equal((await call('GET', '/v1/admin/users/no-such-listener')).status, 404);

    // nothing to roll back to yet; an unknown run cannot be published
    // the actions without arguments want an explicit yes
    for (const url of ['/v1/admin/rollback', '/v1/admin/pipeline/run']) {
      const r = await call('POST', url, {});
      assert.equal(r.status, 400, url);
      assert.match(r.body.error.message, /body\.confirm/);
    }
    const none = await call('POST', '/v1/admin/rollback', { confirm: true });
    assert.equal(none.status, 404);
    assert.match(none.body.error.message, /nothing to roll back to/);
    assert.equal((await call('POST', '/v1/admin/publish', { run_id: 'no-such-run' })).status, 404);
    assert.deepEqual((await call('GET', '/v1/admin/pipeline/job')).body, { state: 'idle', started_at: null, finished_at: null, run_id: null, error: null });

    // a run started over HTTP: 202, one at a time, followed to its end, then published and served
    const started = await call('POST', '/v1/admin/pipeline/run', { confirm: true });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.state, 'running');
    assert.equal((await call('POST', '/v1/admin/pipeline/run', { confirm: true })).status, 409);
    let job = started.body;
    for (let i = 0; i < 1200 && job.state === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      job = (await call('GET', '/v1/admin/pipeline/job')).body;
    }
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    const second = job.run_id as string;
    assert.notEqual(second, w.runId);
    assert.equal((await w.store.getPublication())?.runId, second);
    assert.equal(await serving(), second, 'the new run is served');

    // roll back: the first run is published and served again
    const back = await call('POST', '/v1/admin/rollback', { confirm: true });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.deepEqual(back.body, { published: w.runId, previous: second, serving: w.runId });
    assert.equal(await serving(), w.runId);

    // publish the second run again, through the gate
    const pub = await call('POST', '/v1/admin/publish', { run_id: second });
    assert.equal(pub.status, 200, JSON.stringify(pub.body));
    assert.equal(pub.body.published, second);
    assert.equal(pub.body.previous, w.runId);
    assert.equal(pub.body.serving, second);
    assert.ok(pub.body.checks.length > 0 && pub.body.checks.every((c: { pass: boolean }) => c.pass), JSON.stringify(pub.body.checks));
    assert.equal(await serving(), second);
    assert.equal((await call('GET', '/v1/admin/bandit')).body.runs.length, 2);
  } finally {
    await app.close();
    await w.state.home?.close?.();
    await w.store.close();
    rmSync(root, { recursive: true, force: true });
  }
});
