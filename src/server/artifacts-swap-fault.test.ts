/**
 * An API node of a fleet (PostgreSQL, S3 artifact store behind a proxy that cuts downloads) keeps
 * serving its run while a newly published run cannot be downloaded: every answer names the old run,
 * none fails, /readyz stays ready, and its log and /metrics count the retries; once the network
 * heals, the node's next poll loads the new run and swaps to it. Under CI=true an unreachable
 * PostgreSQL fails; elsewhere the file is skipped with the reason printed.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgDown } from '../store/testing/postgres.ts';
import { artists, tracks, worldListens } from './testing/world.ts';
import { fleetWorld, startNode, until, type FleetNodeProcess } from './testing/fleet.ts';
import { startS3, cuttingProxy, S3_TEST_CREDENTIALS } from '../artifacts/testing/s3.ts';

const down = await pgDown();
if (down && process.env.CI === 'true') it('artifact swap fault: PostgreSQL must be reachable under CI', () => assert.fail(down));
else if (down) console.log(`# artifact swap fault test skipped: ${down}`);

const creds = { AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey };

async function answer(node: FleetNodeProcess): Promise<{ status: number; run: string | null }> {
  const r = await fetch(`${node.url}/v1/users/u0/recommendations?k=5`);
  await r.arrayBuffer();
  return { status: r.status, run: r.headers.get('x-deepcut-run') };
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

it('a node keeps serving its run while the new run\'s S3 download fails, logs and counts the retries, and swaps once it heals', { skip: down ? down : false, timeout: 300_000 }, async (t) => {
  const s3 = await startS3();
  t.after(() => s3.stop());
  const proxy = await cuttingProxy(s3.port);
  t.after(() => proxy.close());
  Object.assign(process.env, creds);
  const w = await fleetWorld(async (store) => {
    await store.put('artists', artists);
    await store.put('tracks', tracks);
    await store.put('listens', worldListens());
  });
  t.after(() => w.cleanup());
  // the builder stores runs in S3; the node has a home (and cache) of its own, on "another machine"
  w.config.artifacts = { url: s3.url('fleet') };
  const run1 = await w.runAndPublish();
  const nodeHome = mkdtempSync(join(tmpdir(), 'dc-node-'));
  t.after(() => rmSync(nodeHome, { recursive: true, force: true }));
  const node = await startNode(nodeHome, { ...creds, DATABASE_URL: w.databaseUrl, DEEPCUT_LOG_LEVEL: 'info', DEEPCUT_FLEET_POLL_SECONDS: '2', DEEPCUT_ARTIFACTS_URL: s3.url('fleet', proxy.port) });
  t.after(() => node.stop('SIGKILL'));
  await until('the node serves run 1', 60_000, async () => ((await answer(node)).run === run1 ? true : undefined), 200);

  // every download through the proxy now breaks off after 2 kB
  proxy.cut(2048, 1_000_000);
  const run2 = await w.runAndPublish();
  const answers: { status: number; run: string | null }[] = [];
  const ready: number[] = [];
  // hold the fault until the node has retried downloads and given up at least once (its poll then tries again)
  await until('retries and a failed load', 120_000, async () => {
    answers.push(await answer(node));
    ready.push((await fetch(`${node.url}/readyz`)).status);
    const m = await (await fetch(`${node.url}/metrics`)).text();
    return metric(m, 'deepcut_artifact_fetch_retries_total') >= 5 && metric(m, 'deepcut_artifact_fetch_failures_total') >= 1 ? true : undefined;
  }, 100);
  assert.ok(answers.length > 10, `${answers.length} answers during the fault`);
  assert.deepEqual(answers.filter((a) => a.status !== 200 || a.run !== run1), [], 'every answer 200 from run 1');
  assert.deepEqual([...new Set(ready)], [200], '/readyz stays ready');
  assert.match(node.log(), /artifact download failed; retrying/);
  assert.match(node.log(), /could not load the published run: serving on with the current one/);
  assert.ok(proxy.cuts >= 5, `${proxy.cuts} downloads cut`);

  // the network heals: the next poll loads run 2 and swaps
  proxy.cut(Infinity, 0);
  await until('the node serves run 2', 60_000, async () => ((await answer(node)).run === run2 ? true : undefined), 200);
  const m = await (await fetch(`${node.url}/metrics`)).text();
  assert.match(m, new RegExp(`deepcut_run_served\\{run="${run2}"\\} 1`));
  // the node's admin page lists the builder's runs from the store (its own home has no runs folder)
  const admin = (await (await fetch(`${node.url}/v1/admin/runs`)).json()) as { published: string; runs: { runId: string; status: string }[] };
  assert.deepEqual(admin.runs.map((r) => [r.runId, r.status]), [[run1, 'succeeded'], [run2, 'succeeded']]);
  assert.equal(admin.published, run2);
  assert.equal(await node.stop('SIGTERM'), 0);
});
