import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { importPath, type ImportOptions } from './import.ts';
import { importSandbox, jl } from './import.testkit.ts';
import { replayQuarantine } from './replay.ts';
import { assertNotBlocked, acceptBatch, latestValidation } from '../validate/index.ts';
import { loadSchema, saveSchema } from '../validate/index.ts';
import { artistIdOf, trackIdOf } from './identity.ts';
import { defaultConfig } from '../config/config.ts';

const NOW = new Date('2024-06-01T00:00:00Z');
const opts: ImportOptions = { clock: () => NOW };
const { root, folder, withStore } = importSandbox('import');
const L = (id: string, o: object = {}) => ({ listen_id: id, user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 180000, ...o });
const catalog = {
  'artists.jsonl': jl([{ artist_id: 'a1', name: 'Alpha' }]),
  'tracks.jsonl': jl([{ track_id: 't1', title: 'One', artist_ids: ['a1'], duration_ms: 200000, release_date: '2020-01-01' }]),
  'users.jsonl': jl([{ user_id: 'u1' }]),
};

test('jsonl folder: broken lines are quarantined with file, line and field; the rest imports; a second run adds nothing', async () => {
  const big = JSON.stringify(L('big', { context: 'x'.repeat(10 * 1024 * 1024) }));
  const listens = [
    JSON.stringify(L('l1')),
    '',
    JSON.stringify(L('l1')),
    '{"listen_id": "l4", "user_id": ',
    Buffer.concat([Buffer.from('{"listen_id":"l5","user_id":"u1","track_id":"t1","started_at":"2024-05-01T12:00:00Z","ms_played":1,"context":"Bj'), Buffer.from([0xf6]), Buffer.from('rk"}')]).toString('latin1'),
    big,
    JSON.stringify(L('l7', { ms_played: -3 })),
    JSON.stringify(L('l8')),
    JSON.stringify(L('l9', { track_id: 'nope' })),
  ];
  const dir = folder({ ...catalog, 'listens.jsonl': Buffer.from(listens.join('\r\n') + '\r\n', 'latin1') });
  await withStore(async (store) => {
    const s = await importPath(store, 'jsonl', dir, opts);
    assert.deepEqual(s.files.map((f) => f.file.split('/').pop()), ['artists.jsonl', 'tracks.jsonl', 'users.jsonl', 'listens.jsonl'], 'dependency order');
    assert.deepEqual(s.totals.listens, { read: 8, imported: 2, duplicates: 1, quarantined: 5 });
    const q = await store.listQuarantine();
    assert.deepEqual(
      q.map((r) => [r.line, r.field, r.code]),
      [
        [4, null, 'invalid_json'],
        [5, null, 'encoding'],
        [6, null, 'line_too_long'],
        [7, 'ms_played', 'out_of_range'],
        [9, 'track_id', 'unknown_id'],
      ],
    );
    for (const r of q) assert.equal(r.file, join(dir, 'listens.jsonl'));
    assert.match(q[1].reason, /^not valid UTF-8 \(byte 0xf6 at offset \d+\); the file may be Latin-1/);
    assert.match(q[2].reason, /^record is 10,4\d\d,\d\d\d bytes, over the limit of 1,048,576/);
    assert.equal(await store.count('listens'), 2);

    const again = await importPath(store, 'jsonl', dir, opts);
    assert.deepEqual(again.files.map((f) => f.status), ['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    const forced = await importPath(store, 'jsonl', dir, { ...opts, force: true });
    assert.deepEqual(forced.totals.listens, { read: 8, imported: 0, duplicates: 3, quarantined: 5 });
    assert.equal((await store.listQuarantine()).length, 5, 'the quarantine keeps one copy of each rejected row');
    assert.equal(await store.count('listens'), 2);
  });
});

test('csv: BOM, CRLF, quoted fields across lines, extra and missing columns, unknown header column; empty file', async () => {
  const csv =
    '\ufefftrack_id,title,artist_ids,duration_ms,release_date,mood\r\n' +
    't1,"One, Two",a1,200000,2020-01-01,happy\r\n' +
    't2,"multi\r\nline",a1,1000,2020-01-01,sad\r\n' +
    't3,Three,a1,1000,2020-01-01,sad,EXTRA\r\n' +
    't4,Four,a1\r\n' +
    '\r\n' +
    't5,Five,a1,abc,2020-01-01,\r\n';
  const dir = folder({ 'artists.jsonl': catalog['artists.jsonl'], 'tracks.csv': csv, 'users.csv': '' });
  await withStore(async (store) => {
    await importPath(store, 'jsonl', join(dir, 'artists.jsonl'), opts);
    const s = await importPath(store, 'csv', dir, opts);
    assert.deepEqual(s.totals.tracks, { read: 5, imported: 2, duplicates: 0, quarantined: 3 });
    assert.deepEqual(s.files[0].notes, [{ what: 'ignored column mood (not a field of tracks)', n: 0 }]);
    assert.deepEqual(s.files[1].notes, [{ what: 'empty file', n: 0 }]);
    assert.equal((await store.get('tracks', ['t1']))?.title, 'One, Two');
    assert.equal((await store.get('tracks', ['t2']))?.title, 'multi\r\nline'.replace('\r', ''));
    const q = await store.listQuarantine();
    assert.deepEqual(q.map((r) => [r.line, r.field, r.code]), [[5, null, 'invalid_csv'], [6, 'duration_ms', 'invalid_csv'], [8, 'duration_ms', 'wrong_type']]);
    assert.equal(q[0].reason, '7 columns, the header has 6: 1 extra');
    assert.equal(q[1].reason, '3 columns, the header has 6: missing duration_ms, release_date, mood');
  });
});

test('spotify-history: extended and account files share ids; truncated file imports what precedes the break; podcasts kept as unsupported; --user required', async () => {
  const ext = [
    { ts: '2024-05-01T12:03:00Z', ms_played: 180000, master_metadata_track_name: 'Song', master_metadata_album_artist_name: 'Band', master_metadata_album_album_name: 'Album', spotify_track_uri: 'spotify:track:abc', reason_start: 'clickrow', reason_end: 'trackdone', shuffle: false, skipped: null, offline: false, incognito_mode: false, conn_country: 'DE', platform: 'android' },
    { ts: '2024-05-01T12:05:00Z', ms_played: 5000, master_metadata_track_name: null, master_metadata_album_artist_name: null, episode_name: 'Talk', spotify_episode_uri: 'spotify:episode:x', reason_end: 'fwdbtn', platform: 'android' },
    { ts: '2024-05-01T12:09:00Z', ms_played: 4000, master_metadata_track_name: 'Other', master_metadata_album_artist_name: 'Band', master_metadata_album_album_name: 'Album', reason_end: 'unexpected-exit-while-paused', skipped: true, platform: 'android' },
  ];
  const text = '[\n' + ext.map((o) => JSON.stringify(o)).join(',\n') + ',\n{"ts": "2024-05-01T12:20:00Z", "ms_played": 10';
  const account = JSON.stringify([{ endTime: '2024-05-02 08:00', artistName: 'band ', trackName: 'Song', msPlayed: 200000 }], null, 1);
  const dir = folder({ 'Streaming_History_Audio_2024.json': text, 'StreamingHistory_music_0.json': account, 'Streaming_History_Video_2024.json': '[]' });
  await withStore(async (store) => {
    await assert.rejects(importPath(store, 'spotify-history', dir, opts), /^DeepcutError: field --user: a Spotify export does not say whose history it is: pass --user <user_id>$/);
    const s = await importPath(store, 'spotify-history', dir, { ...opts, user: 'me' });
    assert.deepEqual(s.files.map((f) => f.parser), ['spotify-account', 'spotify-extended'], 'video history is not audio');
    assert.deepEqual(s.totals.listens, { read: 5, imported: 3, duplicates: 0, quarantined: 2 });
    assert.deepEqual(s.totals.tracks, { read: 2, imported: 2, duplicates: 0, quarantined: 0 }, 'the account file names the same track: it resolves to the one the first file created');
    assert.deepEqual(s.files[1].notes, [{ what: 'listens of tracks created earlier', n: 1 }, { what: 'listens of tracks created from names', n: 1 }]);
    assert.deepEqual(s.totals.artists?.imported, 1);
    const q = await store.listQuarantine();
    assert.deepEqual(q.map((r) => [r.line, r.field, r.code]), [[3, 'master_metadata_track_name', 'unsupported'], [5, null, 'truncated']]);
    assert.match(q[1].reason, /ends inside the object that starts here \(truncated JSON\)/);
    const songs = await store.list('listens', { where: { track_id: trackIdOf('Band', 'Song') } });
    assert.deepEqual(songs.map((l) => [l.started_at.slice(0, 19), l.ms_played, l.reason_end]).sort(), [['2024-05-01T12:00:00', 180000, 'trackdone'], ['2024-05-02T07:56:40', 200000, 'unknown']]);
    assert.equal((await store.get('artists', [artistIdOf('Band')]))?.name, 'band', 'the first spelling seen (the account file comes first) names the artist');
    const other = await store.list('listens', { where: { track_id: trackIdOf('Band', 'Other') } });
    assert.deepEqual([other[0].reason_end, other[0].skipped], ['unexpected-exit', true]);
  });
});

test('listenbrainz JSONL, hetrec folder with Latin-1 tags, generic interactions CSV', async () => {
  const lb = jl([
    { listened_at: 1714564800, user_name: 'rob', track_metadata: { artist_name: 'Band', track_name: 'Song', release_name: 'Album', additional_info: { duration_ms: 210000, recording_mbid: 'r1' } } },
    { listened_at: 1714568400, user_name: 'rob', track_metadata: { artist_name: 'Band', track_name: 'Untimed' } },
    { listened_at: 'soon', user_name: 'rob', track_metadata: { artist_name: 'Band', track_name: 'X' } },
  ]);
  const hetrec = {
    'artists.dat': 'id\tname\turl\tpictureURL\n1\tMÖTLEY\thttp://x\thttp://y\n2\tSecond\t\t\n',
    'user_artists.dat': 'userID\tartistID\tweight\n2\t1\t13883\n2\t2\t5\n3\t1\t0\n',
    'tags.dat': Buffer.concat([Buffer.from('tagID\ttagValue\n1\tmetal\n2\tm'), Buffer.from([0xfc]), Buffer.from('nchen\n')]),
    'user_taggedartists.dat': 'userID\tartistID\ttagID\tday\tmonth\tyear\n2\t1\t1\t1\t4\t2009\n3\t1\t1\t1\t4\t2009\n3\t1\t2\t1\t4\t2009\n2\t99\t1\t1\t4\t2009\n',
    'user_friends.dat': 'userID\tfriendID\n2\t3\n3\t2\n',
  };
  const inter = 'userId,movieId,rating,timestamp\n1,10,4.5,964982703\n1,11,0,964982703\n2,10,3\n';
  const lbDir = folder({ 'listens.jsonl': lb });
  const hDir = folder(hetrec);
  const iDir = folder({ 'ratings.csv': inter });
  await withStore(async (store) => {
    const s = await importPath(store, 'listenbrainz', lbDir, opts);
    assert.deepEqual(s.totals.listens, { read: 3, imported: 2, duplicates: 0, quarantined: 1 });
    const ls = await store.list('listens');
    assert.deepEqual(ls.map((l) => l.ms_played).sort(), [210000, 30000]);
    assert.equal((await store.get('tracks', [trackIdOf('Band', 'Song')]))?.duration_ms, 210000);

    const h = await importPath(store, 'hetrec-lastfm', hDir, opts);
    assert.deepEqual(h.totals.interactions, { read: 3, imported: 2, duplicates: 0, quarantined: 1 }, 'a play count of 0 is not a positive weight');
    assert.deepEqual(h.totals.documents, { read: 2, imported: 1, duplicates: 0, quarantined: 1 });
    assert.equal((await store.get('artists', ['lastfm:artist:1']))?.name, 'MÖTLEY');
    assert.equal((await store.get('documents', ['lastfm:tags:1']))?.body, 'metal, metal, münchen');
    const cols = await store.readInteractions({ itemKind: 'artist' });
    assert.equal(cols.weight.reduce((a, b) => a + b, 0), 13888);
    assert.deepEqual(await store.getMeta('relations', 'lastfm-friends'), { pairs: 2, users: { 'lastfm:user:2': ['lastfm:user:3'], 'lastfm:user:3': ['lastfm:user:2'] } });
    const q = (await store.listQuarantine()).map((r) => [r.file.split('/').pop(), r.line, r.field, r.code]);
    assert.deepEqual(q, [['listens.jsonl', 3, 'listened_at', 'wrong_type'], ['user_artists.dat', 4, 'weight', 'out_of_range'], ['user_taggedartists.dat', 5, 'subject_id', 'unknown_id']]);

    const i = await importPath(store, 'interactions', join(iDir, 'ratings.csv'), opts);
    assert.deepEqual(i.totals.interactions, { read: 3, imported: 2, duplicates: 0, quarantined: 1 });
    assert.equal((await store.get('interactions', ['1', 'track', '10']))?.at, '2000-07-30T18:45:03Z');
  });
});

test('validation: schema inferred from the first good batch; unknown values and drift block the pipeline; schema edit + replay releases rows', async () => {
  const first = Array.from({ length: 100 }, (_, i) => L(`a${i}`, { ms_played: 150000 + (i % 10) * 1000, platform: i % 2 ? 'ios' : 'android' }));
  const second = Array.from({ length: 100 }, (_, i) => L(`b${i}`, { ms_played: 150000 + (i % 10) * 1000, platform: i % 5 ? 'ios' : 'web' }));
  const third = Array.from({ length: 100 }, (_, i) => L(`c${i}`, { ms_played: 1000 + i, platform: 'ios' }));
  const dir = folder({ ...catalog, 'listens-1.jsonl': jl(first), 'listens-2.jsonl': jl(second), 'listens-3.jsonl': jl(third) });
  await withStore(async (store) => {
    for (const f of ['artists', 'tracks', 'users']) await importPath(store, 'jsonl', join(dir, `${f}.jsonl`), opts);
    const a = await importPath(store, 'jsonl', join(dir, 'listens-1.jsonl'), opts);
    assert.equal(a.blocked, false);
    const schema = await loadSchema(store, 'listens');
    assert.deepEqual(schema?.features.find((f) => f.name === 'platform')?.domain, ['android', 'ios']);
    await assertNotBlocked(store);

    const b = await importPath(store, 'jsonl', join(dir, 'listens-2.jsonl'), opts);
    assert.deepEqual(b.totals.listens, { read: 100, imported: 80, duplicates: 0, quarantined: 20 });
    assert.equal(b.blocked, true);
    await assert.rejects(assertNotBlocked(store), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'blocked');
      assert.match(e.message, /^validation blocks the pipeline: batch \w+\.listens \(listens from .*listens-2\.jsonl\): 20\.0% of 100 rows are anomalies \(limit 5\.0%, validation\.maxAnomalyRate\): 20 unknown_enum in platform/);
      return true;
    });

    schema!.features.find((f) => f.name === 'platform')!.domain!.push('web');
    await saveSchema(store, schema!);
    const r = await replayQuarantine(store, { clock: () => NOW });
    assert.deepEqual([r.examined, r.released, r.kept, r.imported.listens], [20, 20, 0, 20]);
    assert.equal(await store.count('listens'), 200);
    await acceptBatch(store, b.files[0].validation[0].batch, 'web player launched; schema updated and rows replayed');
    await assertNotBlocked(store);

    const c = await importPath(store, 'jsonl', join(dir, 'listens-3.jsonl'), { ...opts, validation: defaultConfig().validation });
    const v = (await latestValidation(store)).find((x) => x.entity === 'listens')!;
    assert.equal(c.blocked, true);
    assert.equal(v.status, 'blocked');
    const ms = v.drift.find((d) => d.feature === 'ms_played')!;
    assert.equal(ms.metric, 'jsd');
    assert.ok(ms.value > 0.9, `JSD ${ms.value}`);
    assert.match(v.reasons.join(' '), /ms_played drifted from batch \w+\.listens: Jensen–Shannon divergence [01]\.\d{3} > 0\.2/);
  });
});

test('an import killed halfway and run again ends with exactly the rows of one clean import', async () => {
  const rows = Array.from({ length: 6000 }, (_, i) => (i % 500 === 7 ? '{"broken": ' : JSON.stringify(L(`k${i}`, { ms_played: i % 3 === 0 ? -1 : 1000 }))));
  const dir = folder({ ...catalog, 'listens.jsonl': rows.join('\n') + '\n' });
  const clean = await withStore(async (store) => {
    await importPath(store, 'jsonl', dir, opts);
    return { listens: await store.count('listens'), quarantine: (await store.listQuarantine()).length };
  });
  const home = join(root, 'killed');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--home', home, 'import', 'jsonl', dir, '--batch-size', '100'], {
    env: { ...process.env, DEEPCUT_LOG_LEVEL: 'debug', NODE_TEST_CONTEXT: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let commits = 0;
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      commits += (d.toString().match(/"msg":"committed"/g) ?? []).length;
      if (commits >= 30 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  assert.ok(commits >= 30, `child committed ${commits} batches before it was killed`);
  await withStore(async (store) => {
    const partial = await store.count('listens');
    assert.ok(partial > 0 && partial < clean.listens, `killed import stored ${partial} of ${clean.listens}`);
    const s = await importPath(store, 'jsonl', dir, opts);
    assert.equal(s.files.at(-1)!.status, 'resumed');
    assert.equal(await store.count('listens'), clean.listens);
    assert.equal((await store.listQuarantine()).length, clean.quarantine);
  }, home);
});
