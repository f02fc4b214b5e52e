// The HTTP edge for real clients and bad input: ListenBrainz clients' bodies and headers, batches
// checked row by row with the import's validator (good rows stored, bad rows quarantined and
// listed), failed authentications limited per address.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { seedWorld, play } from './testing/world.ts';
import { createKey } from './auth.ts';
import { trackIdOf } from '../ingest/index.ts';
import { replayQuarantine } from '../ingest/index.ts';

interface Setup {
  app: FastifyInstance;
  store: MemoryStore;
  read: string;
  ingest: string;
  lb: string;
}

async function setup(opts: { rateLimitPerMinute?: number; authFailuresPerMinute?: number } = {}): Promise<Setup> {
  const store = new MemoryStore();
  const { state, config } = await seedWorld(store);
  config.server.rateLimitPerMinute = opts.rateLimitPerMinute ?? 100_000;
  config.server.authFailuresPerMinute = opts.authFailuresPerMinute ?? config.server.authFailuresPerMinute;
  config.home = '/nonexistent-deepcut-home';
  const app = await buildServer({ store, state, config });
  const k = async (scopes: ('read' | 'ingest')[], userId?: string) => (await createKey(store, { scopes, userId })).key;
  return { app, store, read: await k(['read']), ingest: await k(['ingest']), lb: await k(['ingest'], 'lb-listener') };
}

const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const token = (k: string) => ({ authorization: `Token ${k}` });
const lbListen = (at: number | undefined, track = 'Vantablack', extra: Record<string, unknown> = {}) => ({
  ...(at === undefined ? {} : { listened_at: at }),
  track_metadata: { artist_name: 'Dool', track_name: track, additional_info: { duration_ms: 240_000, ...extra } },
});
const MAY_2024 = 1_714_564_800;

describe('ListenBrainz clients', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(async () => {
    await s.app.close();
  });

  test('a JSON body without Content-Type (liblistenbrainz) or as text/plain is read as JSON', async () => {
    const body = JSON.stringify({ listen_type: 'single', payload: [lbListen(MAY_2024)] });
    let r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: token(s.lb), payload: body });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().status, 'ok');
    r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: { ...token(s.lb), 'content-type': 'text/plain' }, payload: JSON.stringify({ listen_type: 'single', payload: [lbListen(MAY_2024 + 300)] }) });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((await s.store.list('listens', { where: { user_id: 'lb-listener' } })).length, 2);
    r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: token(s.lb), payload: '{"listen_type": "single", payload' });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 400);
    assert.match(r.json().error, /^body is not valid JSON: /);
    // deepcut's own routes still want application/json
    r = await s.app.inject({ method: 'POST', url: '/v1/listens', headers: bearer(s.ingest), payload: JSON.stringify([play('u1', 'a1')]) });
    assert.equal(r.statusCode, 415);
  });

  test('validate-token takes the token as ?token= (liblistenbrainz) or in the Authorization header', async () => {
    let r = await s.app.inject({ url: `/1/validate-token?token=${s.lb}` });
    assert.deepEqual(r.json(), { code: 200, message: 'Token valid.', valid: true, user_name: 'lb-listener' });
    r = await s.app.inject({ url: '/1/validate-token', headers: token(s.lb) });
    assert.equal(r.json().valid, true);
    r = await s.app.inject({ url: '/1/validate-token?token=dc_000000000000_' + 'x'.repeat(43) });
    assert.deepEqual(r.json(), { code: 200, message: 'Token invalid.', valid: false });
  });

  test('every /1/ answer carries ListenBrainz rate-limit headers; over the limit is 429 with Retry-After and X-RateLimit-Reset-In', async () => {
    const t = await setup({ rateLimitPerMinute: 2 });
    const send = () => t.app.inject({ method: 'POST', url: '/1/submit-listens', headers: token(t.lb), payload: { listen_type: 'playing_now', payload: [lbListen(undefined)] } });
    let r = await send();
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-ratelimit-limit'], '2');
    assert.equal(r.headers['x-ratelimit-remaining'], '1');
    const resetIn = Number(r.headers['x-ratelimit-reset-in']);
    assert.ok(resetIn > 0 && resetIn <= 60, String(resetIn));
    const reset = Number(r.headers['x-ratelimit-reset']);
    assert.ok(Math.abs(reset - (Date.now() / 1000 + resetIn)) < 5, `X-RateLimit-Reset ${reset} is the UNIX second the window ends`);
    r = await t.app.inject({ url: `/1/validate-token?token=${t.lb}` });
    assert.ok(r.headers['x-ratelimit-reset-in'], 'validate-token is rate limited too (per address)');
    await send();
    r = await send();
    assert.equal(r.statusCode, 429);
    assert.equal(r.json().code, 429);
    assert.ok(Number(r.headers['retry-after']) > 0);
    assert.ok(Number(r.headers['x-ratelimit-reset-in']) > 0);
    assert.equal(r.headers['x-ratelimit-remaining'], '0');
    await t.app.close();
  });

  test('an import stores the good listens and lists the bad ones; a bad single listen is a 400 naming its field; both are quarantined', async () => {
    const before = (await s.store.listQuarantine()).length;
    let r = await s.app.inject({
      method: 'POST',
      url: '/1/submit-listens',
      headers: token(s.lb),
      payload: { listen_type: 'import', payload: [lbListen(MAY_2024 + 600, 'Oweynagat'), lbListen(631_152_000, 'Old'), { track_metadata: { artist_name: 'Dool' } }, lbListen(4_000_000_000, 'Future'), lbListen(MAY_2024 + 900, 'Nul\u0000') ] },
    });
    assert.equal(r.statusCode, 200, r.body);
    const a = r.json();
    assert.equal(a.status, 'ok');
    assert.equal(a.inserted, 1);
    assert.deepEqual(
      a.rejections.map((x: { index: number; field: string; code: string }) => [x.index, x.field, x.code]),
      [
        [1, 'listened_at', 'out_of_range'],
        [2, 'track_metadata.track_name', 'missing'],
        [3, 'listened_at', 'out_of_range'],
        [4, 'track_metadata.track_name', 'invalid_value'],
      ],
    );
    assert.match(a.rejections[0].reason, /before 2000-01-01/);
    assert.ok(await s.store.get('tracks', [trackIdOf('Dool', 'Oweynagat')]));
    assert.equal(await s.store.get('tracks', [trackIdOf('Dool', 'Old')]), undefined, "a refused listen's track is not stored");
    r = await s.app.inject({ method: 'POST', url: '/1/submit-listens', headers: token(s.lb), payload: { listen_type: 'single', payload: [lbListen(100)] } });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error, /^payload\.0\.listened_at: 1970-01-01T00:01:40\.000Z is before 2000-01-01/);
    const q = (await s.store.listQuarantine()).slice(before);
    assert.equal(q.length, 5);
    assert.deepEqual(q.map((x) => [x.line, x.field, x.format, x.batch]).slice(0, 2), [
      [2, 'listened_at', 'listenbrainz', 'http-listenbrainz.lb-listener'],
      [3, 'track_metadata.track_name', 'listenbrainz', 'http-listenbrainz.lb-listener'],
    ]);
    assert.deepEqual(JSON.parse(q[0].raw), lbListen(631_152_000, 'Old'));
  });
});

describe('batches: every row checked as file import checks it', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(async () => {
    await s.app.close();
  });

  test('good rows stored, bad rows quarantined and listed by index, field and reason (207)', async () => {
    const good = play('u2', 'a1', 7);
    const rows = [
      good,
      { ...play('u2', 'a2'), started_at: '1999-12-31T23:59:59Z' },
      { ...play('u2', 'a2'), started_at: new Date(Date.now() + 3_600_000).toISOString() },
      play('u2', 'no-such-track'),
      { ...play('u2', 'a3'), ms_played: 2_000_000 },
      { ...play('u2', 'a3'), ms_played: 2 ** 31 },
      { ...play('u2', 'a3'), context: 'a\u0000b' },
      'not a row',
      { ...play('u2', 'a3'), started_at: '2024-02-30T12:00:00Z' },
      good,
    ];
    const r = await s.app.inject({ method: 'POST', url: '/v1/listens', headers: bearer(s.ingest), payload: { listens: rows } });
    assert.equal(r.statusCode, 207, r.body);
    const a = r.json();
    assert.equal(a.inserted, 1, r.body);
    assert.equal(a.duplicates, 1, 'the repeated row');
    assert.equal(a.rejected, 8);
    assert.deepEqual(
      a.rejections.map((x: { index: number; field: string | null; code: string }) => [x.index, x.field, x.code]),
      [
        [1, 'started_at', 'out_of_range'],
        [2, 'started_at', 'out_of_range'],
        [3, 'track_id', 'unknown_id'],
        [4, 'ms_played', 'out_of_range'],
        [5, 'ms_played', 'out_of_range'],
        [6, 'context', 'invalid_value'],
        [7, null, 'wrong_type'],
        [8, 'started_at', 'invalid_value'],
      ],
    );
    assert.match(a.rejections[3].reason, /far beyond the track's duration of 200000 ms/);
    assert.ok(await s.store.get('listens', [good.listen_id]));
    const q = await s.store.listQuarantine({ batch: 'http.listens' });
    assert.deepEqual(q.map((x) => x.line), [2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(q[0].format, 'jsonl');
    assert.equal(q[0].file, 'POST /v1/listens');
    assert.deepEqual(JSON.parse(q[0].raw), rows[1]);
    assert.equal(JSON.parse(q[5].raw).context, 'a\u0000b', 'the raw row is kept as JSON text, NUL escaped');
  });

  test('a quarantined listen is replayed by `deepcut quarantine replay` once its track is stored', async () => {
    const r = await s.app.inject({ method: 'PUT', url: '/v1/tracks', headers: bearer(s.ingest), payload: [{ track_id: 'no-such-track', title: 'Late', artist_ids: ['ra'], duration_ms: 180_000, release_date: '2024-01-01' }] });
    assert.equal(r.statusCode, 200, r.body);
    const replay = await replayQuarantine(s.store, { batch: 'http.listens' });
    assert.equal(replay.imported.listens, 1, JSON.stringify(replay));
    assert.equal(replay.released, 1);
    assert.equal((await s.store.list('listens', { where: { track_id: 'no-such-track' } })).length, 1);
  });

  test('a listen from a new user is accepted and creates that user; their recommendations follow it', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/v1/listens', headers: bearer(s.ingest), payload: [play('fresh', 'b1', 1), play('fresh', 'b2', 2)] });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(await s.store.get('users', ['fresh']), { user_id: 'fresh', time_zone: 'UTC' });
    const recs = await s.app.inject({ url: '/v1/users/fresh/recommendations?k=2', headers: bearer(s.read) });
    assert.ok(recs.json().items.every((c: { track_id: string }) => c.track_id.startsWith('b')), recs.body);
  });

  test('catalog rows: foreign ids must be stored or earlier in the batch', async () => {
    const r = await s.app.inject({
      method: 'PUT',
      url: '/v1/tracks',
      headers: bearer(s.ingest),
      payload: [
        { track_id: 't-ok', title: 'Ok', artist_ids: ['ra'], duration_ms: 1000, release_date: '2024-01-01' },
        { track_id: 't-orphan', title: 'Orphan', artist_ids: ['nobody'], duration_ms: 1000, release_date: '2024-01-01' },
        { track_id: 't-long', title: 'Long', artist_ids: ['ra'], duration_ms: 2 ** 31, release_date: '2024-01-01' },
        { track_id: 't-day', title: 'Day', artist_ids: ['ra'], duration_ms: 1000, release_date: '2023-02-29' },
      ],
    });
    assert.equal(r.statusCode, 207);
    assert.deepEqual(
      r.json().rejections.map((x: { index: number; field: string }) => [x.index, x.field]),
      [
        [1, 'artist_ids'],
        [2, 'duration_ms'],
        [3, 'release_date'],
      ],
    );
    assert.equal(r.json().inserted, 1);
  });

  test('a body that is not a batch is a 400', async () => {
    for (const payload of ['{}', '{"rows": 3}', '[]', '"x"', 'null'])
      assert.equal((await s.app.inject({ method: 'PUT', url: '/v1/artists', headers: { ...bearer(s.ingest), 'content-type': 'application/json' }, payload })).statusCode, 400, payload);
  });

  test('the spec shows the rows, the 207 answer and the ListenBrainz body', async () => {
    const spec = (await s.app.inject('/openapi.json')).json();
    const post = spec.paths['/v1/listens'].post;
    assert.ok(JSON.stringify(post.requestBody).includes('started_at'));
    assert.ok(post.responses['207'].content['application/json'].schema.properties.rejections);
    assert.ok(JSON.stringify(spec.paths['/1/submit-listens'].post.requestBody).includes('artist_name'));
    assert.deepEqual(spec.paths['/1/validate-token'].get.parameters.map((p: { name: string }) => p.name), ['token']);
    const lb = spec.paths['/1/submit-listens'].post.responses;
    assert.deepEqual(Object.keys(lb['200'].headers), ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset-In', 'X-RateLimit-Reset']);
    assert.ok(lb['429'].headers['Retry-After'] && lb['429'].headers['X-RateLimit-Reset-In']);
  });
});

describe('failed authentications', () => {
  test('N failures per minute from one address → 429 with Retry-After; other addresses and keys verified before are not slowed', async () => {
    const s = await setup({ authFailuresPerMinute: 3 });
    const url = '/v1/users/u0/recommendations';
    const bad = bearer('dc_000000000000_' + 'y'.repeat(43));
    assert.equal((await s.app.inject({ url, headers: bearer(s.read), remoteAddress: '10.0.0.9' })).statusCode, 200);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await s.app.inject({ url, headers: bad, remoteAddress: '10.0.0.9' })).statusCode);
    assert.deepEqual(codes, [401, 401, 401, 429]);
    const r = await s.app.inject({ url, headers: bad, remoteAddress: '10.0.0.9' });
    assert.equal(r.json().error.code, 'rate_limited');
    assert.match(r.json().error.message, /too many failed authentications from 10\.0\.0\.9; retry in \d+ s/);
    const wait = Number(r.headers['retry-after']);
    assert.ok(wait > 0 && wait <= 60, String(wait));
    assert.equal((await s.app.inject({ url, headers: bearer(s.read), remoteAddress: '10.0.0.9' })).statusCode, 200, 'a key verified a moment ago still works');
    assert.equal((await s.app.inject({ url, headers: bad, remoteAddress: '10.0.0.8' })).statusCode, 401, 'another address has its own count');
    assert.equal((await s.app.inject({ url: `/1/validate-token?token=${bad.authorization.slice(7)}`, remoteAddress: '10.0.0.9' })).statusCode, 429, 'validate-token is no way around it');
    // validate-token failures count too
    for (let i = 0; i < 3; i++) assert.equal((await s.app.inject({ url: '/1/validate-token?token=nope', remoteAddress: '10.0.0.7' })).json().valid, false);
    assert.equal((await s.app.inject({ url, headers: bad, remoteAddress: '10.0.0.7' })).statusCode, 429);
    await s.app.close();
  });
});
