// Real ListenBrainz clients, replayed byte for byte over a socket to a listening deepcut server on
// 127.0.0.1 (DuckDB store): the requests of liblistenbrainz (Python `requests`: no Content-Type,
// `data=json.dumps(...)`, token check as `?token=`) and of Navidrome's ListenBrainz agent (Go
// net/http: `Content-Type: application/json; charset=UTF-8`, a `{}` body even on the GET of
// validate-token). The fixtures below are written from those clients' documented request shapes;
// `{{HOST}}` and `{{KEY}}` are filled in, nothing else changes. The listens they send must change
// that listener's recommendations on the next request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Artist, Listen, Track } from '../domain/schemas.ts';
import type { TrackId, UserId } from '../domain/ids.ts';
import { defaultConfig } from '../config/config.ts';
import { listenConfidence } from '../signals/index.ts';
import { Catalog } from '../serving/index.ts';
import { LiveModel } from '../serving/index.ts';
import type { Store } from '../store/index.ts';
import { buildServer } from './app.ts';
import { createKey } from './auth.ts';
import { FixedFactorModel } from './testing/world.ts';
import { backends } from './backends.testkit.ts';

// ── fixtures ────────────────────────────────────────────────────────────────────────────────
// liblistenbrainz 0.5 on python-requests 2.32: `is_token_valid(token)` then `submit_single_listen`
// and `submit_multiple_listens`; requests sends no Content-Type for a str body, json.dumps uses
// ", " and ": " separators.
const LIB_HEAD = 'User-Agent: python-requests/2.32.3\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n';
const LIB_SINGLE = '{"listen_type": "single", "payload": [{"track_metadata": {"track_name": "Beta song 1", "artist_name": "Rhythm Beta", "release_name": "Beta Sessions"}, "listened_at": 1733486400}]}';
const LIB_IMPORT = '{"listen_type": "import", "payload": [{"track_metadata": {"track_name": "Beta song 2", "artist_name": "Rhythm Beta", "additional_info": {"listening_from": "mpd", "tracknumber": 2}}, "listened_at": 1733486640}, {"track_metadata": {"track_name": "Beta song 1", "artist_name": "Rhythm Beta", "release_name": "Beta Sessions"}, "listened_at": 1733486880}]}';
const liblistenbrainz = {
  validate: `GET /1/validate-token?token={{KEY}} HTTP/1.1\r\nHost: {{HOST}}\r\n${LIB_HEAD}\r\n`,
  single: `POST /1/submit-listens HTTP/1.1\r\nHost: {{HOST}}\r\n${LIB_HEAD}Authorization: Token {{KEY}}\r\nContent-Length: ${Buffer.byteLength(LIB_SINGLE)}\r\n\r\n${LIB_SINGLE}`,
  import: `POST /1/submit-listens HTTP/1.1\r\nHost: {{HOST}}\r\n${LIB_HEAD}Authorization: Token {{KEY}}\r\nContent-Length: ${Buffer.byteLength(LIB_IMPORT)}\r\n\r\n${LIB_IMPORT}`,
};

// Navidrome's core/agents/listenbrainz client (Go net/http 1.1): Host, User-Agent, Content-Length,
// then its own headers, then the transport's Accept-Encoding; compact JSON with omitempty fields.
const ND_REC_B0 = '6a0599ea-5c06-483a-ba66-f3a036da900a';
const ND_REC_B3 = '0d3d33b4-1fb4-4e0e-b2a6-5b8cde9ad2e1';
const ND_ARTIST = 'c3b8a1de-61b5-4f14-a7f9-52a2a3a0b2c4';
const ND_INFO = (rec: string, n: number) => `"additional_info":{"submission_client":"Navidrome","submission_client_version":"0.53.3 (13af8ed4)","tracknumber":${n},"recording_mbid":"${rec}","artist_mbids":["${ND_ARTIST}"],"release_mbid":"5e2b1c1e-8d0a-4b8e-9e57-2b8a1f0c7d11","duration_ms":200000}`;
const ND_NOW = `{"listen_type":"playing_now","payload":[{"track_metadata":{"artist_name":"Rhythm Beta","track_name":"Beta song 0","release_name":"Beta Sessions",${ND_INFO(ND_REC_B0, 1)}}}]}`;
const ND_SCROBBLE_B0 = `{"listen_type":"single","payload":[{"listened_at":1733487000,"track_metadata":{"artist_name":"Rhythm Beta","track_name":"Beta song 0","release_name":"Beta Sessions",${ND_INFO(ND_REC_B0, 1)}}}]}`;
const ND_SCROBBLE_B3 = `{"listen_type":"single","payload":[{"listened_at":1733487240,"track_metadata":{"artist_name":"Rhythm Beta","track_name":"Beta song 3","release_name":"Beta Sessions",${ND_INFO(ND_REC_B3, 4)}}}]}`;
const ndPost = (body: string) => `POST /1/submit-listens HTTP/1.1\r\nHost: {{HOST}}\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: ${Buffer.byteLength(body)}\r\nAuthorization: Token {{KEY}}\r\nContent-Type: application/json; charset=UTF-8\r\nAccept-Encoding: gzip\r\n\r\n${body}`;
const navidrome = {
  validate: 'GET /1/validate-token HTTP/1.1\r\nHost: {{HOST}}\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: 2\r\nAuthorization: Token {{KEY}}\r\nContent-Type: application/json; charset=UTF-8\r\nAccept-Encoding: gzip\r\n\r\n{}',
  nowPlaying: ndPost(ND_NOW),
  scrobbleB0: ndPost(ND_SCROBBLE_B0),
  scrobbleB3: ndPost(ND_SCROBBLE_B3),
};

// ── a known-answer world whose track ids are the ones these clients' listens map to ──────────
// Two taste groups: artist Radio Alpha's songs a0..a4, Rhythm Beta's b0..b4; u0..u3 play a0..a3,
// u4..u7 play b0..b3. A listener of b-songs should be recommended b4 (and never an a-song first).
const MBID: Record<string, string> = { b0: ND_REC_B0, b3: ND_REC_B3 };
// catalog ids of the world's own; the clients' scrobbles must be matched to them (recording MBID, else names)
const trackId = (g: 'a' | 'b', i: number) => `${g}${i}`;

async function world(store: Store) {
  const artists: Artist[] = [
    { artist_id: 'ra', name: 'Radio Alpha', genres: [] },
    { artist_id: 'rb', name: 'Rhythm Beta', genres: [] },
  ];
  const group = new Map<string, 'a' | 'b'>();
  const tracks: Track[] = (['a', 'b'] as const).flatMap((g) =>
    [0, 1, 2, 3, 4].map((i) => {
      group.set(trackId(g, i), g);
      const mbid = MBID[`${g}${i}`];
      return { track_id: trackId(g, i), title: `${g === 'a' ? 'Alpha' : 'Beta'} song ${i}`, artist_ids: [`r${g}`], duration_ms: 200_000, release_date: '2024-01-01', ...(mbid ? { mbid } : {}) };
    }),
  );
  const listens: Listen[] = [];
  for (let u = 0; u < 8; u++)
    for (let i = 0; i < 4; i++)
      listens.push({ listen_id: `w-${u}-${i}`, user_id: `u${u}`, track_id: trackId(u < 4 ? 'a' : 'b', i), started_at: new Date(Date.UTC(2024, 4, 1, 12, u * 5 + i)).toISOString(), ms_played: 60_000, reason_end: 'trackdone', skipped: false, context: 'unknown', platform: 'test' });
  await store.put('artists', artists);
  await store.put('tracks', tracks);
  await store.put('listens', listens);
  const catalog = await Catalog.load(store);
  const l = await store.readListens();
  for (const t of tracks) l.tracks.add(t.track_id as TrackId);
  const m = { ...listenConfidence(l), cols: l.tracks.size };
  const item = new Float32Array(l.tracks.size * 2);
  for (let t = 0; t < l.tracks.size; t++) item[t * 2 + (group.get(l.tracks.id(t)) === 'a' ? 0 : 1)] = 1;
  const recs = new LiveModel({ recommender: new FixedFactorModel(2, item, m), users: l.users as typeof l.users & { add(id: UserId): number }, tracks: l.tracks, userItems: m, catalog, kind: 'in-process' });
  return { recs, catalog };
}

// ── raw HTTP over a socket ───────────────────────────────────────────────────────────────────
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Send `raw` as is on a new connection and read one response (Content-Length framed). */
function exchange(port: number, raw: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
      const len = Number(headers['content-length']);
      if (buf.length < end + 4 + len) return;
      sock.destroy();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
    });
    sock.write(Buffer.from(raw, 'utf8'));
  });
}

const [duck] = await backends();
let app: FastifyInstance;
let store: Store;
let cleanup: () => Promise<void>;
let port: number;
let key: string;
let reader: string;
const fill = (raw: string) => raw.replaceAll('{{HOST}}', `127.0.0.1:${port}`).replaceAll('{{KEY}}', key);

before(async () => {
  ({ store, cleanup } = await duck.open());
  const state = await world(store);
  const config = { ...defaultConfig(), home: '/nonexistent-deepcut-home' };
  app = await buildServer({ store, state, config });
  key = (await createKey(store, { scopes: ['ingest'], userId: 'lb-listener', name: 'scrobbler' })).key;
  reader = (await createKey(store, { scopes: ['read'] })).key;
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
after(async () => {
  await app?.close();
  await cleanup?.();
});

async function recommendations(user: string): Promise<{ track_id: string; reason: { kind: string } }[]> {
  const r = await exchange(port, `GET /v1/users/${user}/recommendations?k=3 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${reader}\r\n\r\n`);
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body).items;
}

test('the fixtures are well-formed HTTP/1.1 requests with the bodies their Content-Length says', () => {
  for (const raw of [...Object.values(liblistenbrainz), ...Object.values(navidrome)]) {
    const [head, body] = raw.split('\r\n\r\n');
    const len = /\r\nContent-Length: (\d+)/.exec(head)?.[1];
    assert.equal(Number(len ?? 0), Buffer.byteLength(body), head.split('\r\n')[0]);
    if (body) JSON.parse(body);
  }
  assert.ok(!/content-type/i.test(liblistenbrainz.single), 'liblistenbrainz sends no Content-Type');
});

test('liblistenbrainz: token check, single and import submissions; the listener’s recommendations follow', async () => {
  const cold = await exchange(port, `GET /v1/users/lb-listener/recommendations?k=3 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${reader}\r\n\r\n`);
  assert.equal(cold.status, 404, 'a listener before their first listen is no listener yet');

  let r = await exchange(port, fill(liblistenbrainz.validate));
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { code: 200, message: 'Token valid.', valid: true, user_name: 'lb-listener' });
  for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset-in', 'x-ratelimit-reset']) assert.match(r.headers[h] ?? '', /^\d+$/, `${h} on validate-token`);

  r = await exchange(port, fill(liblistenbrainz.single));
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).status, 'ok');
  assert.match(r.headers['x-ratelimit-reset-in'] ?? '', /^\d+$/);
  r = await exchange(port, fill(liblistenbrainz.import));
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { status: 'ok', inserted: 2, duplicates: 0, rejected: 0, rejections: [] });

  const stored = await store.list('listens', { where: { user_id: 'lb-listener' } });
  assert.deepEqual(stored.map((l) => l.track_id).sort(), [trackId('b', 1), trackId('b', 1), trackId('b', 2)].sort());
  assert.equal(stored.find((l) => l.started_at.startsWith('2024-12-06T12:00:00'))?.track_id, trackId('b', 1));

  const warm = await recommendations('lb-listener');
  assert.notEqual(warm[0].reason.kind, 'popular');
  assert.ok(warm.every((c) => c.track_id !== trackId('b', 1) && c.track_id !== trackId('b', 2)), 'heard songs are left out');
  assert.equal(warm[0].track_id === trackId('b', 0) || warm[0].track_id === trackId('b', 3) || warm[0].track_id === trackId('b', 4), true, `a Beta song first: ${JSON.stringify(warm)}`);
  assert.ok(!warm.slice(0, 3).some((c) => [0, 1, 2, 3, 4].some((i) => c.track_id === trackId('a', i))), 'no Alpha song in the top 3');
});

test('Navidrome: token check (GET with a JSON body), playing_now, scrobbles with MusicBrainz ids; the listener’s recommendations follow', async () => {
  let r = await exchange(port, fill(navidrome.validate));
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).valid, true);
  const before = await store.count('listens');
  r = await exchange(port, fill(navidrome.nowPlaying));
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
  assert.equal(await store.count('listens'), before, 'playing_now stores no listen');
  for (const raw of [navidrome.scrobbleB0, navidrome.scrobbleB3]) {
    r = await exchange(port, fill(raw));
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).inserted, 1, r.body);
  }
  const l = await store.list('listens', { where: { user_id: 'lb-listener', track_id: trackId('b', 3) } });
  assert.equal(l.length, 1);
  assert.equal(l[0].ms_played, 200_000, 'duration_ms is the play time');
  assert.equal(l[0].platform, 'Navidrome');
  // having heard b0..b3, the one Beta song left comes first
  const warm = await recommendations('lb-listener');
  assert.equal(warm[0].track_id, trackId('b', 4), JSON.stringify(warm));
});
