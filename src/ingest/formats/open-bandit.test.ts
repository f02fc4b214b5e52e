import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { importSandbox } from '../import.testkit.ts';
import { importPath } from '../import.ts';
import { replayQuarantine } from '../replay.ts';
import { quarantinePages } from '../../store/index.ts';
import { obdFileOf, obdUser } from './open-bandit.ts';

const sb = importSandbox('obd');
const NOW = new Date('2026-12-01T00:00:00Z');
const HEADER = ',timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1,user-item_affinity_2';
const row = (i: number, item: number | string, pos: number | string, click: number | string, p: number | string, uf = ['a', 'b', 'c', 'd'], aff = [0, 0, 0]) => `${i},2019-11-24 00:0${i % 10}:13.442536+00:00,${item},${pos},${click},${p},${uf.join(',')},${aff.join(',')}`;

/**
 * A small OBD tree: random/men (plain CSV) with 4 good rows and 3 bad ones, bts/men gzipped with 60
 * rows (enough for validation to infer value domains from it), bts/women with one, item_context.
 */
function fixture(): string {
  const root = sb.folder({});
  const put = (rel: string, content: string | Buffer) => {
    const f = join(root, rel);
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, content);
  };
  put(
    'random/men/men.csv',
    [
      HEADER,
      row(0, 2, 1, 0, 1 / 3),
      row(1, 0, 2, 1, 1 / 3, ['a', 'b', 'c', 'd'], [0, 1.5, 0]),
      row(2, 1, 3, 0, 1 / 3, ['e', 'b', 'c', 'd']),
      row(3, 2, 0, 0, 1 / 3), // position 0: positions count from 1
      row(4, 1, 2, 2, 1 / 3), // click 2
      row(5, 1, 2, 0, 0), // propensity 0
      row(6, 0, 3, 1, 1 / 3),
    ].join('\n') + '\n',
  );
  put('random/men/item_context.csv', ',item_id,item_feature_0\n0,0,0.5\n');
  const more = Array.from({ length: 58 }, (_, i) => row(i + 2, i % 3, 1 + (i % 3), 0, 0.25));
  put('bts/men/men.csv.gz', gzipSync([HEADER, row(0, 1, 1, 1, 0.42), row(1, 2, 2, 0, 0.0125), ...more].join('\n') + '\n'));
  put('bts/women/women.csv.gz', gzipSync([HEADER, row(0, 1, 3, 0, 0.5)].join('\n') + '\n'));
  return root;
}

test('obdFileOf reads policy and campaign from the path, and nothing else', () => {
  assert.deepEqual(obdFileOf('/x/random/men/men.csv'), { policy: 'random', campaign: 'men' });
  assert.deepEqual(obdFileOf('/x/bts/women/women.csv.gz'), { policy: 'bts', campaign: 'women' });
  assert.equal(obdFileOf('/x/bts/women/men.csv'), undefined);
  assert.equal(obdFileOf('/x/other/men/men.csv'), undefined);
  assert.equal(obdFileOf('/x/random/men/item_context.csv'), undefined);
});

test('import open-bandit: rows become impressions (slot = position − 1, reward = click, propensity, features), profiles become users; bad rows are quarantined with field and line; twice adds nothing', async () => {
  const root = fixture();
  await sb.withStore(async (store) => {
    const s = await importPath(store, 'open-bandit', root, { clock: () => NOW });
    assert.deepEqual(s.files.map((f) => f.file.slice(root.length)), ['/bts/men/men.csv.gz', '/bts/women/women.csv.gz', '/random/men/men.csv']);
    assert.deepEqual(s.totals.impressions, { read: 68, imported: 65, duplicates: 0, quarantined: 3 });
    const reasons = s.files.flatMap((f) => f.validation.flatMap((v) => v.reasons));
    assert.deepEqual(reasons.filter((r) => /unknown_enum|drifted/.test(r)), [], 'another campaign and policy after the first file are neither anomalies nor drift');
    const imps = (await store.list('impressions')).sort((a, b) => (a.request_id < b.request_id ? -1 : 1));
    assert.equal(imps.length, 65);
    const r1 = imps.find((r) => r.request_id === 'obd:random:men:1')!;
    assert.deepEqual({ ...r1, features: JSON.parse(r1.features!) }, {
      request_id: 'obd:random:men:1',
      user_id: obdUser(['a', 'b', 'c', 'd']),
      shelf: 'obd:men',
      card: '0',
      slot: 1,
      policy: 'obd:random',
      propensity: 1 / 3,
      shown_at: r1.shown_at,
      reward: 1,
      features: { user_feature_0: 'a', user_feature_1: 'b', user_feature_2: 'c', user_feature_3: 'd', affinity: { 1: 1.5 } },
    });
    assert.equal(new Date(r1.shown_at).toISOString(), '2019-11-24T00:01:13.442Z');
    const bts = ['obd:bts:men:0', 'obd:bts:men:1', 'obd:bts:women:0'].map((id) => imps.find((r) => r.request_id === id)!);
    assert.deepEqual(bts.map((r) => [r.card, r.slot, r.reward, r.propensity, r.shelf]), [['1', 0, 1, 0.42, 'obd:men'], ['2', 1, 0, 0.0125, 'obd:men'], ['1', 2, 0, 0.5, 'obd:women']], 'the gzipped files read the same way');
    const users = await store.list('users');
    assert.deepEqual(users.map((u) => u.user_id).sort(), [obdUser(['a', 'b', 'c', 'd']), obdUser(['e', 'b', 'c', 'd'])].sort());
    const q = [];
    for await (const rows of quarantinePages(store, {})) q.push(...rows);
    assert.deepEqual(q.map((r) => [r.line, r.field, r.code]).sort(), [[5, 'position', 'invalid_value'], [6, 'click', 'invalid_value'], [7, 'propensity_score', 'invalid_value']]);
    assert.match(q.find((r) => r.line === 6)!.reason, /click must be 0 or 1, got "2"/);
    assert.ok(q.every((r) => r.file.endsWith('random/men/men.csv')));

    // the same files again: unchanged, nothing added; forced: every good row a duplicate
    const again = await importPath(store, 'open-bandit', root, { clock: () => NOW });
    assert.ok(again.files.every((f) => f.status === 'unchanged'));
    const forced = await importPath(store, 'open-bandit', root, { clock: () => NOW, force: true });
    assert.equal(forced.totals.impressions!.imported, 0);
    assert.equal(forced.totals.impressions!.duplicates, 65);
    assert.equal((await store.list('impressions')).length, 65);

    // replay reads a kept line with the file's header: still bad, stays quarantined
    const rep = await replayQuarantine(store, { clock: () => NOW });
    assert.deepEqual([rep.examined, rep.released, rep.kept], [3, 0, 3]);
    assert.deepEqual(rep.still_failing.map((f) => f.field).sort(), ['click', 'position', 'propensity_score']);
  });
});

test('import open-bandit: one campaign folder or one file works too; a folder without OBD files is an error naming it', async () => {
  const root = fixture();
  await sb.withStore(async (store) => {
    const s = await importPath(store, 'open-bandit', join(root, 'bts', 'men', 'men.csv.gz'), { clock: () => NOW });
    assert.equal(s.totals.impressions!.imported, 60);
    const t = await importPath(store, 'open-bandit', join(root, 'random', 'men'), { clock: () => NOW });
    assert.equal(t.totals.impressions!.imported, 4);
    await assert.rejects(importPath(store, 'open-bandit', join(root, 'random', 'men', 'item_context.csv')), /no Open Bandit Dataset files here/);
  });
});
