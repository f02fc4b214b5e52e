import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { seedWorld, play } from './testing/world.ts';
import { createKey, revokeKey } from './auth.ts';
import { defaultConfig } from '../config/config.ts';
import { Catalog } from '../serving/index.ts';
import { popularityFromStore } from '../serving/index.ts';
import { trackIdOf } from '../ingest/index.ts';

interface Setup {
  app: FastifyInstance;
  store: MemoryStore;
  read: string;
  ingest: string;
  admin: string;
  lbUser: string;
  lbNoUser: string;
}

async function setup(opts: { rateLimitPerMinute?: number; bodyLimitBytes?: number; rebuildMs?: number } = {}): Promise<Setup> {
  const store = new MemoryStore();
  const { state, config } = await seedWorld(store, { rebuildMs: opts.rebuildMs });
  config.server.rateLimitPerMinute = opts.rateLimitPerMinute ?? 100_000;
  config.server.bodyLimitBytes = opts.bodyLimitBytes ?? config.server.bodyLimitBytes;
  config.home = '/nonexistent-deepcut-home';
  const app = await buildServer({ store, state, config });
  const k = async (scopes: ('read' | 'ingest' | 'admin')[], userId?: string) => (await createKey(store, { scopes, userId })).key;
  return { app, store, read: await k(['read']), ingest: await k(['ingest']), admin: await k(['admin']), lbUser: await k(['ingest'], 'lb-listener'), lbNoUser: await k(['ingest']) };
}

const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
/** A batch answer with nothing refused. */
const accepted = (inserted: number, duplicates: number) => ({ inserted, duplicates, rejected: 0, rejections: [] });

describe('server routes', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(async () => {
    await s.app.close();
  });

  test('health, readiness and the OpenAPI spec generated from the route schemas', async () => {
    assert.deepEqual((await s.app.inject('/healthz')).json(), { status: 'ok' });
    const ready = (await s.app.inject('/readyz')).json();
    assert.equal(ready.status, 'ready');
    assert.equal(ready.model.model, 'fixed-factors');
    const spec = (await s.app.inject('/openapi.json')).json();
    assert.equal(spec.openapi, '3.1.0');
    for (const p of ['/v1/listens', '/1/submit-listens', '/v1/users/{id}/recommendations', '/v1/users/{id}/home', '/v1/users/{id}/playlists/discover-weekly', '/v1/radio', '/v1/tracks/{id}/similar', '/v1/artists/{id}/similar', '/v1/tracks/{id}/audio-features', '/v1/admin/runs', '/v1/admin/validation', '/v1/admin/metrics', '/v1/tracks', '/v1/users'])
      assert.ok(spec.paths[p], `spec lacks ${p}`);
    const body = spec.paths['/v1/listens'].post.requestBody.content['application/json'].schema;
    assert.ok(JSON.stringify(body).includes('started_at'), 'listen schema in the spec');
    assert.deepEqual(spec.paths['/v1/users/{id}/recommendations'].get.parameters.map((p: { name: string }) => p.name), ['id', 'k']);
  });

  test('keys: missing, malformed, unknown, wrong scope and revoked keys are refused with clear messages', async () => {
    const url = '/v1/users/u0/recommendations';
    let r = await s.app.inject(url);
    assert.equal(r.statusCode, 401);
    assert.match(r.json().error.message, /missing API key/);
    r = await s.app.inject({ url, headers: bearer('nope') });
    assert.equal(r.statusCode, 401);
    assert.match(r.json().error.message, /malformed API key/);
    r = await s.app.inject({ url, headers: bearer('dc_000000000000_' + 'x'.repeat(43)) });
    assert.deepEqual(r.json(), { error: { code: 'unauthorized', message: 'unknown API key' } });
    r = await s.app.inject({ url, headers: bearer(s.ingest) });
    assert.equal(r.statusCode, 403);
    assert.match(r.json().error.message, /lacks scope read/);
    const { key, info } = await createKey(s.store, { scopes: ['read'], name: 'soon-revoked' });
    assert.equal((await s.app.inject({ url, headers: bearer(key) })).statusCode, 200);
    await revokeKey(s.store, info.name);
    const s2 = await setup(); // fresh verifier cache
    s2.store = s.store;
    const app2 = await buildServer({ store: s.store, state: (await seedWorld(new MemoryStore())).state, config: defaultConfig() });
    r = await app2.inject({ url, headers: bearer(key) });
    assert.equal(r.statusCode, 401);
    assert.match(r.json().error.message, /was revoked/);
    await app2.close();
    await s2.app.close();
  });

  test('recommendations answer with reasons; a posted listen shows without a retrain (fold-in)', async () => {
    let r = await s.app.inject({ url: '/v1/users/u0/recommendations?k=3', headers: bearer(s.read) });
    assert.equal(r.statusCode, 200);
    const first = r.json();
    assert.equal(first.items[0].track_id, 'a4');
    assert.equal(first.items[0].reason.kind, 'because_you_played');
    assert.match(first.items[0].reason.text, /because you played Alpha song/);
    assert.equal(first.items[0].artist_names[0], 'Radio Alpha');
    // u0 now plays b0..b3 three times each: their taste moves to b, b4 (unheard) comes first
    const listens = [0, 1, 2].flatMap((rep) => [0, 1, 2, 3].map((i) => play('u0', `b${i}`, 30 + rep * 4 + i)));
    r = await s.app.inject({ method: 'POST', url: '/v1/listens', headers: bearer(s.ingest), payload: { listens } });
    assert.deepEqual(r.json(), accepted(12, 0));
    r = await s.app.inject({ url: '/v1/users/u0/recommendations?k=3', headers: bearer(s.read) });
    const after = r.json();
    assert.equal(after.items[0].track_id, 'b4');
    assert.ok(!after.items.some((c: { track_id: string }) => /^b[0-3]$/.test(c.track_id)), 'heard tracks are left out');
    // an id that is no listener: 404 (not a believable page of popular tracks); their own taste after one batch
    r = await s.app.inject({ url: '/v1/users/newbie/recommendations?k=2', headers: bearer(s.read) });
    assert.equal(r.statusCode, 404);
    assert.match(r.json().error.message, /^unknown user newbie: no listener has this id/);
    assert.equal((await s.app.inject({ url: '/v1/users/newbie/home', headers: bearer(s.read) })).statusCode, 404);
    await s.app.inject({ method: 'POST', url: '/v1/listens', headers: bearer(s.ingest), payload: [play('newbie', 'a1', 1), play('newbie', 'a2', 2)] });
    r = await s.app.inject({ url: '/v1/users/newbie/recommendations?k=2', headers: bearer(s.read) });
    assert.ok(['a0', 'a3', 'a4'].includes(r.json().items[0].track_id), JSON.stringify(r.json().items));
    // the same batch again: all duplicates
    assert.deepEqual((await s.app.inject({ method: 'POST', url: '/v1/listens', headers: bearer(s.ingest), payload: { listens } })).json(), accepted(0, 12));
  });

  test('similar tracks and artists; unknown ids are 404 unknown_id', async () => {
    let r = await s.app.inject({ url: '/v1/tracks/a0/similar?k=2', headers: bearer(s.read) });
    assert.ok(r.json().items.every((c: { track_id: string }) => c.track_id.startsWith('a')));
    r = await s.app.inject({ url: '/v1/artists/ra/similar', headers: bearer(s.read) });
    assert.equal(r.statusCode, 200);
    r = await s.app.inject({ url: '/v1/tracks/zzz/similar', headers: bearer(s.read) });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json(), { error: { code: 'unknown_id', message: 'unknown track zzz: the model never saw it' } });
    r = await s.app.inject({ url: '/v1/radio?seed=b1&k=3', headers: bearer(s.read) });
    assert.ok(r.json().items.every((c: { track_id: string }) => c.track_id.startsWith('b')));
  });

  test('home from the live model; playlists and audio features not computed yet are 503 with the command to run', async () => {
    let r = await s.app.inject({ url: '/v1/users/u5/home', headers: bearer(s.read) });
    assert.equal(r.statusCode, 200);
    const home = r.json();
    assert.equal(home.shelves[0].id, 'made-for-you');
    assert.equal(home.shelves[0].cards[0].track_id, 'b4');
    for (const kind of ['discover-weekly', 'release-radar', 'daily-mixes']) {
      r = await s.app.inject({ url: `/v1/users/u5/playlists/${kind}`, headers: bearer(s.read) });
      assert.equal(r.statusCode, 503);
      assert.deepEqual(r.json(), { error: { code: 'unavailable', message: 'no published run yet: run `deepcut pipeline run`' } });
    }
    r = await s.app.inject({ url: '/v1/tracks/a1/audio-features', headers: bearer(s.read) });
    assert.equal(r.statusCode, 503);
  });

  test('catalog upserts validate rows and update the catalog the answers use', async () => {
    let r = await s.app.inject({ method: 'PUT', url: '/v1/artists', headers: bearer(s.ingest), payload: [{ artist_id: 'rc', name: 'Choir Gamma' }] });
    assert.deepEqual(r.json(), accepted(1, 0));
    r = await s.app.inject({ method: 'POST', url: '/v1/tracks', headers: bearer(s.ingest), payload: { rows: [{ track_id: 'c0', title: 'Gamma', artist_ids: ['rc'], duration_ms: 1000, release_date: '2024-13-01x' }] } });
    assert.equal(r.statusCode, 207);
    assert.equal(r.json().rejections[0].field, 'release_date');
    assert.match(r.json().rejections[0].reason, /expected a calendar date YYYY-MM-DD/);
    r = await s.app.inject({ method: 'PUT', url: '/v1/users', headers: bearer(s.ingest), payload: [{ user_id: 'u9', time_zone: 'Mars/Olympus' }] });
    assert.equal(r.statusCode, 207);
    assert.equal(r.json().rejections[0].field, 'time_zone');
    assert.match(r.json().rejections[0].reason, /IANA time zone/);
    assert.equal((await s.app.inject({ method: 'PUT', url: '/v1/follows', headers: bearer(s.ingest), payload: [{ user_id: 'u1', artist_id: 'ra', since: '2024-01-01T00:00:00Z' }] })).statusCode, 200);
  });

  test('ListenBrainz submit-listens: single, import, playing_now, errors in ListenBrainz shape', async () => {
    const lb = (k: string) => ({ authorization: `Token ${k}` });
    const listen = (at: number, track = 'Vantablack') => ({ listened_at: at, track_metadata: { artist_name: 'Dool', track_name: track, release_name: 'Here Now, There Then', additional_info: { duration_ms: 240000, tracknumber: 1 } } });
    let r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: lb(s.lbUser), payload: { listen_type: 'single', payload: [listen(1714564800)] } });
    assert.deepEqual(r.json(), { status: 'ok', ...accepted(1, 0) });
    const tid = trackIdOf('Dool', 'Vantablack');
    const stored = await s.store.list('listens', { where: { user_id: 'lb-listener' } });
    assert.equal(stored.length, 1);
    assert.equal(stored[0].track_id, tid);
    assert.equal(stored[0].started_at, '2024-05-01T12:00:00Z');
    assert.equal(stored[0].ms_played, 240000);
    assert.equal((await s.store.get('tracks', [tid]))?.title, 'Vantablack');
    r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: lb(s.lbUser), payload: { listen_type: 'import', payload: [listen(1714564800), listen(1714565100, 'Oweynagat')] } });
    assert.equal(r.statusCode, 200);
    assert.equal((await s.store.list('listens', { where: { user_id: 'lb-listener' } })).length, 2, 'resubmitted listen is a duplicate');
    r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: lb(s.lbUser), payload: { listen_type: 'playing_now', payload: [{ track_metadata: { artist_name: 'Dool', track_name: 'Sulphur & Starlight' } }] } });
    assert.equal(r.statusCode, 200);
    assert.equal((await s.store.list('listens', { where: { user_id: 'lb-listener' } })).length, 2, 'playing_now stores no listen');
    r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: lb(s.lbUser), payload: { listen_type: 'single', payload: [listen(1), listen(2)] } });
    assert.deepEqual(r.json(), { code: 400, error: 'body.payload: listen_type single takes exactly one listen, got 2' });
    r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: lb(s.lbNoUser), payload: { listen_type: 'single', payload: [listen(5)] } });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error, /not bound to a user/);
    r = await s.app.inject({ url: '/1/validate-token', headers: lb(s.lbUser) });
    assert.deepEqual(r.json(), { code: 200, message: 'Token valid.', valid: true, user_name: 'lb-listener' });
    assert.equal((await s.app.inject({ url: '/1/validate-token', headers: lb('bad') })).json().valid, false);
  });

  test('bad requests are 4xx, never 500, and the server keeps answering', async () => {
    const post = (payload: string, url = '/v1/listens') => s.app.inject({ method: 'POST', url, headers: { ...bearer(s.ingest), 'content-type': 'application/json' }, payload });
    const cases: [string, number, RegExp][] = [
      ['{not json', 400, /JSON/i],
      ['', 400, /body/i],
      ['null', 400, /body/],
      ['[]', 400, /body/],
      ['{"listens": 5}', 400, /body/],
      [JSON.stringify({ __proto__: { x: 1 }, listens: [play('u1', 'a1')] }).replace('"listens"', '"__proto__":{"a":1},"listens"'), 400, /./],
    ];
    for (const [payload, status, msg] of cases) {
      const r = await post(payload);
      assert.equal(r.statusCode, status, `${payload.slice(0, 60)} → ${r.statusCode} ${r.body.slice(0, 200)}`);
      assert.match(r.json().error.message, msg, payload.slice(0, 60));
    }
    // a bad row inside a batch is refused on its own: 207, named by index and field, quarantined
    const rowCases: [string, string | null, RegExp][] = [
      ['['.repeat(50_000) + ']'.repeat(50_000), null, /expected a JSON object, got an array/],
      [JSON.stringify([{ ...play('u1', 'a1'), ms_played: '60000' }]), 'ms_played', /expected number/],
      ['[' + JSON.stringify({ ...play('u1', 'a1') }).replace('60000', '1e400') + ']', 'ms_played', /./],
      [JSON.stringify([{ ...play('u1', 'a1'), ms_played: 2 ** 53 + 10 }]), 'ms_played', /./],
      [JSON.stringify([{ ...play('u1', 'a1'), started_at: 'yesterday' }]), 'started_at', /expected an ISO 8601/],
    ];
    for (const [payload, field, reason] of rowCases) {
      const r = await post(payload);
      assert.equal(r.statusCode, 207, `${payload.slice(0, 60)} → ${r.statusCode} ${r.body.slice(0, 200)}`);
      const a = r.json();
      assert.equal(a.inserted, 0);
      assert.equal(a.rejections[0].index, 0);
      assert.equal(a.rejections[0].field, field, payload.slice(0, 60));
      assert.match(a.rejections[0].reason, reason);
    }
    let r = await s.app.inject({ method: 'POST', url: '/v1/listens', headers: { ...bearer(s.ingest), 'content-type': 'text/plain' }, payload: 'hello' });
    assert.ok(r.statusCode === 415 || r.statusCode === 400, String(r.statusCode));
    r = await s.app.inject({ url: '/v1/users/u0/recommendations?k=abc', headers: bearer(s.read) });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error.message, /query\.k/);
    r = await s.app.inject({ url: '/v1/users/u0/recommendations?k=100000', headers: bearer(s.read) });
    assert.equal(r.statusCode, 400);
    r = await s.app.inject({ url: '/no/such/route' });
    assert.deepEqual(r.json(), { error: { code: 'not_found', message: 'no route GET /no/such/route' } });
    r = await s.app.inject({ method: 'DELETE', url: '/v1/listens', headers: bearer(s.ingest) });
    assert.equal(r.statusCode, 404);
    assert.equal((await s.app.inject('/healthz')).statusCode, 200, 'still up');
  });

  test('metrics in Prometheus text format count requests per route and ingested listens', async () => {
    const text = (await s.app.inject('/metrics')).body;
    assert.match(text, /# TYPE deepcut_http_requests_total counter/);
    assert.match(text, /deepcut_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]/);
    assert.match(text, /deepcut_http_request_duration_seconds_bucket\{method="GET",route="\/v1\/users\/:id\/recommendations",le="\+Inf"\} [1-9]/);
    assert.match(text, /deepcut_listens_ingested_total\{endpoint="v1"\} 14/);
    assert.match(text, /deepcut_listens_ingested_total\{endpoint="listenbrainz"\} 2/);
  });
});

describe('server limits and failures', () => {
  test('per-key rate limit answers 429 rate_limited', async () => {
    const s = await setup({ rateLimitPerMinute: 3 });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await s.app.inject({ url: '/v1/users/u0/recommendations', headers: bearer(s.read) })).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 429]);
    const r = await s.app.inject({ url: '/v1/users/u0/recommendations', headers: bearer(s.read) });
    assert.equal(r.json().error.code, 'rate_limited');
    assert.equal((await s.app.inject({ url: '/v1/users/u1/recommendations', headers: bearer(s.admin) })).statusCode, 403, 'other keys have their own budget');
    await s.app.close();
  });

  test('a body over server.bodyLimitBytes is 413 too_large', async () => {
    const s = await setup({ bodyLimitBytes: 2_000 });
    const listens = Array.from({ length: 20 }, (_, i) => play('u1', 'a1', i));
    const r = await s.app.inject({ method: 'POST', url: '/v1/listens', headers: bearer(s.ingest), payload: listens });
    assert.equal(r.statusCode, 413);
    assert.equal(r.json().error.code, 'too_large');
    await s.app.close();
  });

  test('a failing store is 503 and counted; nothing is acknowledged', async () => {
    const s = await setup();
    s.store.failWrites = new Error('disk on fire');
    const r = await s.app.inject({ method: 'POST', url: '/v1/listens', headers: bearer(s.ingest), payload: [play('u1', 'a1', 50)] });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().error.message, 'store put users failed: disk on fire', 'u1 is a new user: created before the listen');
    assert.equal(r.headers['retry-after'], '1', 'a store failure is transient: clients are told when to retry');
    assert.match((await s.app.inject('/metrics')).body, /deepcut_store_errors_total\{op="put users"\} 1/);
    await s.app.close();
  });

  test('with only the popularity fallback, home is 503 and recommendations are popular tracks', async () => {
    const store = new MemoryStore();
    await seedWorld(store);
    const catalog = await Catalog.load(store);
    const recs = await popularityFromStore(store, catalog);
    const app = await buildServer({ store, state: { recs, catalog }, config: defaultConfig(), auth: false });
    const r = await app.inject('/v1/users/u0/recommendations?k=2');
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().model.kind, 'store-popularity');
    assert.equal((await app.inject('/v1/users/u0/home')).statusCode, 503);
    const empty = await buildServer({ store: new MemoryStore(), state: { recs: await popularityFromStore(new MemoryStore(), catalog), catalog }, config: defaultConfig(), auth: false });
    const e = await empty.inject('/v1/users/u0/recommendations');
    assert.equal(e.statusCode, 503);
    assert.match(e.json().error.message, /no published run yet/);
    await app.close();
    await empty.close();
  });
});
