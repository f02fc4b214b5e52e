/**
 * A retrain that validation blocks is visible with its reason on every surface: the run manifest,
 * `deepcut pipeline status`, `/v1/admin/runs` (what the admin page renders) and `/metrics` (also on a fleet's API node, from the runs mirrored in the store).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openStore } from '../store/index.ts';
import { importPath } from '../ingest/index.ts';
import { acceptBatch, latestValidation } from '../validate/index.ts';
import { defaultConfig } from '../config/config.ts';
import { runPipeline, readManifest, listRuns } from './runner.ts';
import { validateStep } from './steps.ts';
import { mirrorRun } from './run-mirror.ts';
import { FixedClock } from '../core/clock.ts';
import { Metrics } from '../server/index.ts';
import { buildServer } from '../server/index.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { seedWorld } from '../server/testing/world.ts';
import { createKey } from '../server/index.ts';

const bin = fileURLToPath(new URL('../../bin/deepcut.js', import.meta.url));
const jl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const ANOMALY = /34\.0% of 100 rows are anomalies \(limit 5\.0%, validation\.maxAnomalyRate\): 34 unknown_id in track_id/;

test('a retrain blocked by validation shows its reason in the manifest, pipeline status, /v1/admin/runs and /metrics; cleared when a resumed run passes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'deepcut-blocked-'));
  const home = join(root, 'home');
  const data = join(root, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'artists.jsonl'), jl([{ artist_id: 'a1', name: 'Alpha' }]));
  writeFileSync(join(data, 'tracks.jsonl'), jl([{ track_id: 't1', title: 'One', artist_ids: ['a1'], duration_ms: 200000, release_date: '2020-01-01' }]));
  writeFileSync(join(data, 'users.jsonl'), jl([{ user_id: 'u1' }]));
  writeFileSync(join(data, 'listens.jsonl'), jl(Array.from({ length: 100 }, (_, i) => ({ listen_id: `l${i}`, user_id: 'u1', track_id: i % 3 ? 't1' : `gone${i}`, started_at: '2024-05-01T12:00:00Z', ms_played: 1000 }))));
  const config = { ...defaultConfig(), home };
  const clock = new FixedClock('2024-06-01T00:00:00Z');
  const store = await openStore({ home });
  let runId: string;
  try {
    assert.equal((await importPath(store, 'jsonl', data, { clock: () => clock.now() })).blocked, true);
    await assert.rejects(runPipeline([validateStep], { config, store, clock }), /step validate failed: validation blocks the pipeline/);
    runId = (await listRuns(home))[0].runId;
    const m = await readManifest(home, runId);
    assert.equal(m.status, 'failed');
    assert.equal(m.blocked?.step, 'validate');
    assert.match(m.blocked!.reason, ANOMALY);
  } finally {
    await store.close();
  }

  // /metrics
  const text = (await new Metrics(home).render());
  const line = text.split('\n').find((l) => l.startsWith('deepcut_pipeline_blocked{'));
  assert.ok(line, text);
  assert.match(line, new RegExp(`^deepcut_pipeline_blocked\\{run="${runId}",step="validate",reason="validation blocks the pipeline: batch \\w+\\.listens \\(listens from [^"]*listens\\.jsonl\\): ${ANOMALY.source}.*"\\} 1$`));
  assert.match(text, new RegExp(`^deepcut_pipeline_last_run_status\\{run="${runId}",status="failed"\\} 1$`, 'm'));
  // an API node of a fleet builds no run: its home has no runs folder, the store holds the mirror
  const mirror = new MemoryStore();
  assert.doesNotMatch(await new Metrics(join(root, 'api-node'), mirror).render(), /deepcut_pipeline_last_run_status/);
  await mirrorRun(mirror, await readManifest(home, runId));
  const nodeText = await new Metrics(join(root, 'api-node'), mirror).render();
  assert.match(nodeText, new RegExp(`^deepcut_pipeline_blocked\\{run="${runId}",step="validate",reason="validation blocks the pipeline`, 'm'));
  assert.match(nodeText, new RegExp(`^deepcut_pipeline_last_run_status\\{run="${runId}",status="failed"\\} 1$`, 'm'));

  // /v1/admin/runs, the JSON the admin page renders (its status cell and banner read `blocked`)
  const mem = new MemoryStore();
  const { state, config: serverConfig } = await seedWorld(mem);
  serverConfig.home = home;
  const app = await buildServer({ store: mem, state, config: serverConfig });
  try {
    const admin = (await createKey(mem, { scopes: ['admin'] })).key;
    const r = await app.inject({ url: '/v1/admin/runs', headers: { authorization: `Bearer ${admin}` } });
    assert.equal(r.statusCode, 200, r.body);
    const run = r.json().runs.find((x: { runId: string }) => x.runId === runId);
    assert.equal(run.status, 'failed');
    assert.equal(run.blocked.step, 'validate');
    assert.match(run.blocked.reason, ANOMALY);
    assert.match((await app.inject('/metrics')).body, /^deepcut_pipeline_blocked\{run="[^"]+",step="validate",reason="validation blocks/m, 'the server reads the runs of its home');
  } finally {
    await app.close();
  }

  // deepcut pipeline status
  const status = (...args: string[]) => spawnSync(process.execPath, [bin, '--home', home, 'pipeline', 'status', ...args], { encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });
  const json = status('--json');
  assert.equal(json.status, 0, json.stderr);
  const s = JSON.parse(json.stdout.trim().split('\n').pop()!);
  assert.equal(s.blocked.step, 'validate');
  assert.match(s.blocked.reason, ANOMALY);
  const human = status();
  assert.match(human.stdout, /blocked at validate/);
  assert.match(human.stdout, new RegExp(`^BLOCKED at step validate \\(2024-06-01T00:00:00.000Z\\): validation blocks the pipeline: .*${ANOMALY.source}`, 'm'));

  // accepted and resumed: the run passes and the gauge goes back to 0
  const again = await openStore({ home });
  try {
    for (const v of await latestValidation(again)) if (v.status === 'blocked') await acceptBatch(again, v.batch, 'the missing tracks come tomorrow');
    const m = await runPipeline([validateStep], { config, store: again, clock, resume: runId });
    assert.equal(m.status, 'succeeded');
    assert.equal(m.blocked, undefined);
  } finally {
    await again.close();
  }
  assert.match((await new Metrics(home).render()), /^deepcut_pipeline_blocked 0$/m);
});
