// Two API nodes (real `deepcut serve` processes on loopback) on one PostgreSQL schema, sharing one
// home's runs folder: a listen posted to one node changes the other's recommendations; a new
// publication reaches both with no failed or mixed answer in between; a node killed with SIGKILL
// under ingest loses no acknowledged listen and the other keeps answering. Under CI=true an
// unreachable PostgreSQL fails; elsewhere the file is skipped with the reason printed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pgDown } from '../store/testing/postgres.ts';
import { artists, tracks, worldListens, play } from './testing/world.ts';
import { fleetWorld, until, type FleetWorld, type FleetNodeProcess } from './testing/fleet.ts';
import { listenPayloads, parseListens, catalogPayloads, parseCatalog } from './fleet.ts';
import { NOTIFY_MAX_BYTES } from '../store/index.ts';

const down = await pgDown();
if (down && process.env.CI === 'true') it('fleet: PostgreSQL must be reachable under CI', () => assert.fail(down));
else if (down) console.log(`# fleet tests skipped: ${down}`);

interface Recs {
  status: number;
  run: string | null;
  body: { items: { track_id: string }[]; model: { runId: string | null } };
}

async function recs(node: FleetNodeProcess, user: string, k = 5): Promise<Recs> {
  const r = await fetch(`${node.url}/v1/users/${user}/recommendations?k=${k}`);
  return { status: r.status, run: r.headers.get('x-deepcut-run'), body: (await r.json()) as Recs['body'] };
}

const post = (node: FleetNodeProcess, rows: unknown[]) => fetch(`${node.url}/v1/listens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rows) });

describe('fleet: two API nodes on one PostgreSQL', { skip: down ? down : false, timeout: 180_000 }, () => {
  let w: FleetWorld;
  let a: FleetNodeProcess;
  let b: FleetNodeProcess;
  let run1: string;

  before(async () => {
    w = await fleetWorld(async (store) => {
      await store.put('artists', artists);
      await store.put('tracks', tracks);
      await store.put('listens', worldListens());
    });
    run1 = await w.runAndPublish();
    // node B names its connections, so a test can cut its LISTEN connection
    [a, b] = await Promise.all([w.node(), w.node({ DATABASE_URL: `${w.databaseUrl}&application_name=fleet-b` })]);
    // ready = serving the published run
    for (const n of [a, b]) await until(`${n.url} ready`, 60_000, async () => ((await fetch(`${n.url}/readyz`)).status === 200 ? true : undefined), 200);
  });
  after(async () => {
    await w?.cleanup();
  });

  it('both nodes serve the published run and name it on every answer', async () => {
    for (const n of [a, b]) {
      const r = await recs(n, 'u0');
      assert.equal(r.status, 200);
      assert.equal(r.run, run1);
      assert.equal(r.body.model.runId, run1);
    }
  });

  it('a home page answered by a node has its impressions in the shared store already', async () => {
    const r = await fetch(`${a.url}/v1/users/u0/home`);
    assert.equal(r.status, 200);
    const page = (await r.json()) as { request_id: string; shelves: { cards: unknown[] }[] };
    const cards = page.shelves.reduce((n, s) => n + s.cards.length, 0);
    assert.ok(cards > 0);
    const rows = await w.store.list('impressions', { where: { request_id: page.request_id } });
    assert.equal(rows.length, cards, 'every card shown is committed before the answer');
  });

  it('a page rendered by node A with impressions on view, reported seen to node B: its shelves are logged once, with their propensities', async () => {
    const r = await fetch(`${a.url}/v1/users/u0/home?impressions=on-view`);
    assert.equal(r.status, 200);
    const page = (await r.json()) as { request_id: string; propensities: number[]; policy: string; shelves: { id: string; cards: { track_id: string }[] }[] };
    assert.ok(page.shelves.length >= 2, 'two shelves or more');
    assert.equal((await w.store.list('impressions', { where: { request_id: page.request_id } })).length, 0, 'nothing logged before a shelf is seen');
    const seen = [page.shelves[0], page.shelves[page.shelves.length - 1]];
    const viewed = (node: FleetNodeProcess, shelves: string[], user = 'u0') =>
      fetch(`${node.url}/v1/users/${user}/home/viewed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: page.request_id, shelves }) });
    const logged = async (res: Response) => {
      assert.equal(res.status, 200);
      return ((await res.json()) as { logged: number }).logged;
    };
    assert.equal(await logged(await viewed(b, [seen[0].id], 'u1')), 0, "another listener cannot report u0's page");
    // node B logs a shelf of node A's page
    assert.equal(await logged(await viewed(b, [seen[0].id])), seen[0].cards.length);
    // the same report to both nodes at once: each shelf logged once between them
    const [x, y] = await Promise.all([viewed(b, seen.map((s) => s.id)), viewed(a, seen.map((s) => s.id))]);
    assert.equal((await logged(x)) + (await logged(y)), seen[1].cards.length);
    const cards = seen.reduce((n, s) => n + s.cards.length, 0);
    assert.equal(await logged(await viewed(b, seen.map((s) => s.id))), 0, 'reported again: nothing more');
    const rows = await w.store.list('impressions', { where: { request_id: page.request_id } });
    assert.equal(rows.length, cards);
    for (const row of rows) {
      const at = page.shelves.findIndex((s) => s.id === row.shelf);
      assert.ok(at === 0 || at === page.shelves.length - 1, `only seen shelves: ${row.shelf}`);
      assert.equal(row.propensity, page.propensities[at], `${row.shelf}: the propensity of its position`);
      assert.equal(row.policy, page.policy);
      assert.equal(row.card, page.shelves[at].cards[row.slot % 1000].track_id);
    }
  });

  it('a listen posted to node A changes node B\'s recommendations for that listener', async () => {
    const user = 'newcomer-1';
    // a listener joins through node A (an unknown id is a 404 on every node); B reads them from the shared store
    const joined = await fetch(`${a.url}/v1/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ user_id: user, time_zone: 'UTC' }]) });
    assert.equal(joined.status, 200);
    const before = await recs(b, user, 10);
    assert.equal(before.status, 200);
    const target = before.body.items[0].track_id;
    assert.ok(target, 'B recommends something to a newcomer (popular tracks)');
    assert.equal((await post(a, [play(user, target, 1), play(user, target, 2)])).status, 200);
    // heard tracks are never recommended: once B folded the listens in, `target` is gone from its answer
    await until(`B drops ${target} for ${user}`, 10_000, async () => ((await recs(b, user, 10)).body.items.some((i) => i.track_id === target) ? undefined : true), 50);
  });

  it('listens sent while node B\'s LISTEN connection is down are caught up from the store once it is back', async () => {
    const user = 'newcomer-2';
    assert.equal((await fetch(`${a.url}/v1/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ user_id: user, time_zone: 'UTC' }]) })).status, 200);
    const target = (await recs(b, user, 10)).body.items[0].track_id;
    // cut B's listens channel; it reconnects after 1 s, so what A sends at once is never delivered to B
    const admin = new pg.Client({ connectionString: w.databaseUrl });
    await admin.connect();
    try {
      const cut = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'fleet-b' AND query ILIKE 'LISTEN %listens%'`);
      assert.equal(cut.rowCount, 1, "B's LISTEN connection on the listens channel");
    } finally {
      await admin.end();
    }
    // started after the run's latest listen (as live listens do), so a reload folds them in
    assert.equal((await post(a, [play(user, target, 5000), play(user, target, 5001)])).status, 200);
    await until(`B drops ${target} for ${user} after its reconnect`, 30_000, async () => ((await recs(b, user, 10)).body.items.some((i) => i.track_id === target) ? undefined : true), 100);
    assert.match(await (await fetch(`${b.url}/metrics`)).text(), /^deepcut_fleet_catch_ups_total [1-9]/m);
    assert.match(b.log(), /listens channel reconnected: reloading the run/);
  });

  it('catalog rows posted to node A reach node B\'s catalog: a listen submitted to B by name resolves to the track', async () => {
    const artist = { artist_id: 'fleet-artist', name: 'Fleet Artist', genres: [] };
    const album = { album_id: 'fleet-album', title: 'Fleet Album', artist_ids: ['fleet-artist'], release_date: '2026-11-01', album_type: 'album' };
    const track = { track_id: 'fleet-track', title: 'Only On A', artist_ids: ['fleet-artist'], duration_ms: 200_000, release_date: '2026-11-01' };
    assert.equal((await fetch(`${a.url}/v1/artists`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify([artist]) })).status, 200);
    assert.equal((await fetch(`${a.url}/v1/albums`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify([album]) })).status, 200);
    assert.equal((await fetch(`${a.url}/v1/tracks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify([track]) })).status, 200);
    await until('B has the three rows (artist, album, track)', 10_000, async () => (/^deepcut_fleet_catalog_rows_total 3$/m.test(await (await fetch(`${b.url}/metrics`)).text()) ? true : undefined), 50);
    // a listen submitted to B by name (ListenBrainz) resolves to the track posted to A, not to a new one
    const lb = await fetch(`${b.url}/1/submit-listens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ listen_type: 'single', payload: [{ listened_at: 1_780_000_000, track_metadata: { artist_name: 'Fleet Artist', track_name: 'Only On A' } }] }) });
    assert.equal(lb.status, 200, await lb.text());
    const stored = await w.store.list('listens', { where: { user_id: 'local' } });
    assert.deepEqual(stored.map((l) => l.track_id), ['fleet-track']);
  });

  it('a new publication reaches both nodes; no answer in between fails or mixes runs', async () => {
    const seen = { a: [] as string[], b: [] as string[] };
    let stop = false;
    const failures: string[] = [];
    const poll = async (n: FleetNodeProcess, name: 'a' | 'b') => {
      while (!stop) {
        const r = await recs(n, 'u1');
        if (r.status !== 200 || r.run === null || r.run !== r.body.model.runId) failures.push(`${name}: ${r.status} header ${r.run} body ${r.body.model?.runId}`);
        else if (seen[name].at(-1) !== r.run) seen[name].push(r.run);
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    const pollers = [poll(a, 'a'), poll(b, 'b')];
    try {
      const run2 = await w.runAndPublish();
      await until('both nodes serve the new run', 30_000, async () => (seen.a.at(-1) === run2 && seen.b.at(-1) === run2 ? true : undefined), 50);
      stop = true;
      await Promise.all(pollers);
      assert.deepEqual(failures, []);
      // each node went from the old run to the new one, once, never back
      assert.deepEqual(seen.a, [run1, run2]);
      assert.deepEqual(seen.b, [run1, run2]);
      const m = await (await fetch(`${a.url}/metrics`)).text();
      assert.match(m, new RegExp(`deepcut_run_served\\{run="${run2}"\\} 1`));
      // the first load counts as a swap too
      assert.match(m, /deepcut_run_swaps_total 2/);
    } finally {
      stop = true;
      await Promise.all(pollers);
    }
  });

  it('node A killed with SIGKILL under ingest: every acknowledged listen is stored, node B keeps answering', async () => {
    const acked: string[] = [];
    let killed = false;
    let seq = 0;
    // bounded load: 4 writers, batches of 100, at most 60 batches each, spread over both nodes
    const writer = async (wi: number) => {
      for (let i = 0; i < 60; i++) {
        const node = (wi + i) % 2 === 0 ? a : b;
        if (node === a && killed) continue;
        const rows = Array.from({ length: 100 }, (_, j) => play(`kill-${wi}`, tracks[j % tracks.length].track_id, 10_000 + seq++ * 100 + j));
        try {
          const r = await post(node, rows);
          if (r.status === 200) acked.push(...rows.map((l) => l.listen_id));
        } catch {
          /* cut by the kill: not acknowledged */
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await until('some listens acknowledged', 30_000, async () => (acked.length >= 1_000 ? true : undefined), 10);
    assert.equal(await a.stop('SIGKILL'), 'SIGKILL');
    killed = true;
    await Promise.all(writers);
    const stored = new Set((await w.store.list('listens', { where: {} })).map((l) => l.listen_id));
    const lost = acked.filter((id) => !stored.has(id));
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${acked.length} acknowledged listens are not in the store`);
    const r = await recs(b, 'u2');
    assert.equal(r.status, 200);
    assert.equal((await fetch(`${b.url}/readyz`)).status, 200);
  });

  it('SIGTERM drains node B: it exits 0', async () => {
    assert.equal(await b.stop('SIGTERM'), 0);
  });
});

it('listens are cut into NOTIFY payloads under the limit, every row once, in order', () => {
  const rows = Array.from({ length: 500 }, (_, i) => ({ user_id: `user-${i % 7}-${'é'.repeat(i % 30)}`, track_id: `t${i}`, ms_played: i * 1000, skipped: i % 3 === 0 }));
  const payloads = listenPayloads('node-1', rows, 1234);
  assert.ok(payloads.length > 1);
  for (const p of payloads) assert.ok(Buffer.byteLength(p) <= NOTIFY_MAX_BYTES, `${Buffer.byteLength(p)} bytes`);
  const back = payloads.flatMap((p) => parseListens(p)!.rows);
  assert.deepEqual(back, rows);
  assert.deepEqual(parseListens(payloads[0])!.node, 'node-1');
  assert.equal(parseListens('not json'), undefined);
  assert.throws(() => listenPayloads('n', [{ user_id: 'x'.repeat(200), track_id: 't', ms_played: 1, skipped: false }], 0, 100), /does not fit/);
});

it('catalog rows are cut into NOTIFY payloads under the limit; a row too large for one goes by its id', () => {
  const rows = Array.from({ length: 300 }, (_, i) => ({ track_id: `t${i}`, title: `Title ${'é'.repeat(i % 40)}`, artist_ids: [`a${i % 9}`], release_date: '2026-01-01' }));
  const huge = { track_id: 'huge', title: 'x'.repeat(9000), artist_ids: ['a'], release_date: '2026-01-01' };
  const payloads = catalogPayloads('node-1', { kind: 'tracks', rows: [...rows.slice(0, 150), huge, ...rows.slice(150)] });
  assert.ok(payloads.length > 1);
  for (const p of payloads) assert.ok(Buffer.byteLength(p) <= NOTIFY_MAX_BYTES, `${Buffer.byteLength(p)} bytes`);
  const back = payloads.map((p) => parseCatalog(p)!);
  assert.deepEqual(back.flatMap((m) => m.rows), rows);
  assert.deepEqual(back.flatMap((m) => m.ids), ['huge']);
  assert.ok(back.every((m) => m.node === 'node-1' && m.kind === 'tracks'));
  const albums = catalogPayloads('node-1', { kind: 'albums', rows: [{ album_id: 'al1', title: 'Ágætis byrjun', release_date: '1999-06-12', album_type: 'album' }] });
  assert.deepEqual(albums.map((p) => parseCatalog(p)), [{ node: 'node-1', kind: 'albums', rows: [{ album_id: 'al1', title: 'Ágætis byrjun', release_date: '1999-06-12', album_type: 'album' }], ids: [] }]);
  assert.equal(parseCatalog('{"n":"x","k":"playlists"}'), undefined);
  assert.equal(parseCatalog('nope'), undefined);
});
