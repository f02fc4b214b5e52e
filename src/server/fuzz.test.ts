// Property-based fuzzing of every HTTP body (every route of routes.ts with a body, and
// /1/submit-listens) against the real stores: DuckDB always, PostgreSQL when it answers (under
// CI=true it must). Rows are valid rows with 0–2 fields replaced by hostile values (integers past
// 2^31−1, impossible dates and instants, NUL, lone surrogates, wrong types, missing fields). For
// every request: never a 5xx; every refused row named by its field; every valid row accepted;
// every accepted row stored exactly once (the store's count grows by `inserted`). Seeded, with
// few runs per route so the suite takes seconds (FUZZ_RUNS, FUZZ_SEED for longer hunts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { entityKeys, entitySchemas, type EntityKind } from '../domain/schemas.ts';
import type { Store } from '../store/index.ts';
import { buildServer } from './app.ts';
import { seedWorld } from './testing/world.ts';
import { routes } from './routes.ts';
import { backends } from './backends.testkit.ts';

/** Runs per route (FUZZ_RUNS=500 for a long hunt) and the seed (FUZZ_SEED to try another). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const SEED = Number(process.env.FUZZ_SEED ?? 15_015);

/** Values that have sunk requests before: out-of-range numbers, impossible dates, bad text, wrong types. */
const numbers = fc.constantFrom<unknown>(-1, 0, 0.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e308, -1e308, 4_102_444_801, 946_684_799);
const texts = fc.constantFrom<unknown>('', ' ', 'a\u0000b', 'x\ud800y', '\udfff', 'é'.repeat(300), 'x'.repeat(600), 'Mars/Olympus', 'trackdone', 'artist');
const times = fc.constantFrom<unknown>(
  '1999-12-31T23:59:59Z', '2024-02-30T12:00:00Z', '2023-02-29', '2023-02-29T12:00:00Z', '0000-01-01', '0000-01-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T23:60:00Z',
  '2024-05-01T12:00:00+16:00', '2024-05-01T12:00:00-15:59', '9999-12-31T23:59:59Z', '2024-05-01', '2024-13-01', '+012024-05-01T00:00:00Z',
);
const wrongTypes = fc.constantFrom<unknown>(null, true, [], {}, ['x'], [null], { a: 1 });
const anyHostile = fc.oneof(numbers, texts, times, wrongTypes);
/** Hostile values for a field, most of them of the kind that field holds (its name says which). */
function hostileFor(field: string): fc.Arbitrary<unknown> {
  const own = /_at$|since|date/.test(field) ? times : /ms|duration|slot|listened_at/.test(field) ? numbers : texts;
  return fc.oneof({ arbitrary: own, weight: 3 }, { arbitrary: anyHostile, weight: 1 });
}

/** true with probability `p`. */
const chance = (p: number) => fc.integer({ min: 0, max: 99 }).map((x) => x < p * 100);

/** A mutation: set (or delete, when `value` is undefined) the field at `path`. */
interface Mutation {
  path: string[];
  value: unknown;
  remove: boolean;
}
const mutations = (paths: string[][]) =>
  fc.array(
    fc.constantFrom(...paths).chain((path) => fc.record({ path: fc.constant(path), value: hostileFor(path[path.length - 1]), remove: chance(0.15) })),
    { maxLength: 2 },
  );

function mutate(row: Record<string, unknown>, ms: Mutation[]): Record<string, unknown> {
  const out = structuredClone(row);
  for (const m of ms) {
    let o: Record<string, unknown> = out;
    for (const p of m.path.slice(0, -1)) {
      if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {};
      o = o[p] as Record<string, unknown>;
    }
    const last = m.path[m.path.length - 1];
    if (m.remove) delete o[last];
    else o[last] = m.value;
  }
  return out;
}

let uniq = 0;
/** A valid row of each entity, with fresh ids; foreign ids point at the seeded world (artist ra, track a1). */
const validRow: Record<Exclude<EntityKind, 'interactions' | 'impressions'>, () => Record<string, unknown>> = {
  artists: () => ({ artist_id: `fz-artist-${++uniq}`, name: 'Fuzz Artist', genres: ['noise'], country: 'DE' }),
  albums: () => ({ album_id: `fz-album-${++uniq}`, title: 'Fuzz Album', artist_ids: ['ra'], release_date: '2024-01-01', album_type: 'ep' }),
  tracks: () => ({ track_id: `fz-track-${++uniq}`, title: 'Fuzz Track', artist_ids: ['ra'], duration_ms: 200_000, release_date: '2024-01-01' }),
  users: () => ({ user_id: `fz-user-${++uniq}`, time_zone: 'Europe/Berlin', country: 'DE', created_at: '2024-01-01T00:00:00Z' }),
  follows: () => ({ user_id: `fz-follower-${++uniq}`, artist_id: 'ra', since: '2024-01-01T00:00:00Z' }),
  documents: () => ({ document_id: `fz-doc-${++uniq}`, subject_kind: 'artist', subject_id: 'ra', body: 'a review', published_at: '2024-01-01T00:00:00Z' }),
  listens: () => ({ listen_id: `fz-listen-${++uniq}`, user_id: `fz-listener-${uniq % 7}`, track_id: 'a1', started_at: '2024-05-01T12:00:00Z', ms_played: 60_000 }),
};
const fieldsOf = (kind: EntityKind) => Object.keys((entitySchemas[kind] as unknown as { shape: Record<string, unknown> }).shape);

/** A batch of 1–6 rows, each valid or mutated; sometimes a row twice; array or `{ rows }` envelope. */
function batchArb(kind: keyof typeof validRow) {
  const paths = [...fieldsOf(kind).map((f) => [f]), ['extra_field']];
  return fc.record({
    rows: fc.array(fc.tuple(fc.boolean(), mutations(paths)), { minLength: 1, maxLength: 6 }),
    repeat: chance(0.2),
    wrapped: fc.boolean(),
  });
}

const keyOf = (kind: EntityKind, row: Record<string, unknown>) => (entityKeys[kind] as readonly string[]).map((k) => (typeof row[k] === 'string' ? (row[k] as string).trim() : String(row[k])));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Rejection {
  index: number;
  field: string | null;
  code: string;
  reason: string;
}

/** The batch routes (every route of routes.ts with a body except ListenBrainz's). */
const batchRoutes = routes()
  .filter((r) => r.body && !r.url.startsWith('/1/') && !r.url.startsWith('/v1/admin/') && !r.url.includes('/:id/'))
  .map((r) => ({ method: r.method, url: r.url, kind: r.url.slice('/v1/'.length) as keyof typeof validRow }));
/** Body routes that take one document, not a batch of rows (the admin API, a listener's reactions and seen shelves): fuzzed for "never a 5xx, a 4xx names the field". */
const otherBodyRoutes = routes().filter((r) => r.body && (r.url.startsWith('/v1/admin/') || r.url.includes('/:id/')));

for (const backend of await backends()) {
  describe(`HTTP bodies fuzzed on ${backend.name}`, { skip: backend.down && process.env.CI !== 'true' ? backend.down : false }, () => {
    let app: FastifyInstance;
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      if (backend.down) assert.fail(`${backend.name} must be reachable under CI: ${backend.down}`);
      ({ store, cleanup } = await backend.open());
      const { state, config } = await seedWorld(store);
      config.home = '/nonexistent-deepcut-home';
      app = await buildServer({ store, state, config, auth: false });
    });
    after(async () => {
      await app?.close();
      await cleanup?.();
    });

    otherBodyRoutes.forEach((route, i) => {
      test(`${route.method} ${route.url}: any JSON body is answered without a 5xx; a refusal names the field`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.record({ scopes: fc.array(fc.oneof(fc.constantFrom('read', 'ingest', 'admin'), fc.string())), name: fc.option(fc.string()), user_id: fc.option(fc.string()) })), async (body) => {
            const r = await app.inject({ method: route.method, url: route.url.replace(':id', 'u1'), payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
            assert.ok(r.statusCode < 500, `${r.statusCode} ${r.body}`);
            if (r.statusCode === 400) assert.match((r.json() as { error: { message: string } }).error.message, /^body/, r.body);
          }),
          { seed: SEED + 100 + i, numRuns: RUNS },
        );
      });
    });

    test('every batch route has a fuzz case', () => {
      assert.deepEqual(new Set(batchRoutes.map((r) => r.kind)), new Set(Object.keys(validRow)));
      assert.equal(batchRoutes.length, 13);
    });

    batchRoutes.forEach((route, i) => {
      test(`${route.method} ${route.url}: no 5xx, refused rows named, valid rows stored exactly once`, async () => {
        const fields = new Set(fieldsOf(route.kind));
        await fc.assert(
          fc.asyncProperty(batchArb(route.kind), async ({ rows: spec, repeat, wrapped }) => {
            const rows: unknown[] = spec.map(([valid, ms]) => (valid ? validRow[route.kind]() : mutate(validRow[route.kind](), ms)));
            const clean = spec.map(([valid, ms]) => valid || ms.length === 0);
            if (repeat) {
              rows.push(structuredClone(rows[0]));
              clean.push(clean[0]);
            }
            const before = await store.count(route.kind);
            const payload = wrapped ? { [route.kind === 'listens' ? 'listens' : 'rows']: rows } : rows;
            const r = await app.inject({ method: route.method, url: route.url, payload: payload as object });
            assert.ok(r.statusCode < 500, `${r.statusCode} ${r.body}`);
            assert.ok(r.statusCode === 200 || r.statusCode === 207, `a batch of rows is never refused whole: ${r.statusCode} ${r.body}`);
            const a = r.json() as { inserted: number; duplicates: number; rejected: number; rejections: Rejection[] };
            assert.equal(r.statusCode === 207, a.rejected > 0);
            assert.equal(a.inserted + a.duplicates + a.rejected, rows.length, r.body);
            for (const x of a.rejections) {
              assert.ok(!clean[x.index], `a valid row was refused: ${JSON.stringify(rows[x.index])} → ${x.field}: ${x.reason}`);
              if (isObject(rows[x.index])) {
                assert.ok(x.field, `refused without naming a field: ${x.reason}`);
                assert.ok(fields.has(x.field.split('.')[0]), `${x.field} is not a field of ${route.kind}`);
              }
              assert.ok(x.reason.length > 0);
            }
            const refused = new Set(a.rejections.map((x) => x.index));
            assert.equal(await store.count(route.kind), before + a.inserted, 'the store grew by exactly the rows inserted');
            for (let j = 0; j < rows.length; j++) if (!refused.has(j)) assert.ok(await store.get(route.kind, keyOf(route.kind, rows[j] as Record<string, unknown>)), `accepted row ${j} is stored`);
          }),
          { seed: SEED + i, numRuns: RUNS },
        );
        assert.equal((await app.inject('/healthz')).statusCode, 200);
      });
    });

    test('POST /1/submit-listens: no 5xx, refused listens named, good listens stored exactly once', async () => {
      const paths = [['listened_at'], ['track_metadata'], ['track_metadata', 'artist_name'], ['track_metadata', 'track_name'], ['track_metadata', 'release_name'], ['track_metadata', 'additional_info'], ['track_metadata', 'additional_info', 'duration_ms'], ['track_metadata', 'additional_info', 'duration'], ['track_metadata', 'additional_info', 'artist_mbids'], ['track_metadata', 'additional_info', 'recording_mbid'], ['track_metadata', 'additional_info', 'submission_client']];
      let at = 1_714_564_800;
      const listen = () => ({ listened_at: ++at, track_metadata: { artist_name: `Fuzz Band ${at % 5}`, track_name: `Song ${at}`, additional_info: { duration_ms: 200_000 } } });
      const arb = fc.record({
        type: fc.constantFrom('import', 'import', 'single', 'playing_now'),
        listens: fc.array(fc.tuple(fc.boolean(), mutations(paths)), { minLength: 1, maxLength: 5 }),
        envelope: fc.option(fc.record({ path: fc.constantFrom(['listen_type'], ['payload']), value: anyHostile }), { freq: 8 }),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ type, listens: spec, envelope }) => {
          const specs = type === 'import' ? spec : spec.slice(0, 1);
          let payload: unknown[] = specs.map(([valid, ms]) => (valid ? listen() : mutate(listen(), ms)));
          let clean = specs.map(([valid, ms]) => valid || ms.length === 0);
          const body: Record<string, unknown> = { listen_type: type, payload };
          if (envelope) body[envelope.path[0]] = envelope.value;
          if (envelope?.path[0] === 'payload') {
            payload = Array.isArray(envelope.value) ? envelope.value : [];
            clean = payload.map(() => false);
          }
          const before = await store.count('listens');
          const r = await app.inject({ method: 'POST', url: '/1/submit-listens', payload: JSON.stringify(body) });
          assert.ok(r.statusCode < 500, `${r.statusCode} ${r.body}`);
          const a = r.json();
          if (r.statusCode !== 200) {
            assert.equal(r.statusCode, 400, r.body);
            assert.match(a.error, /^(body\.(listen_type|payload)|payload\.\d+(\.\w+)*: )/, 'a refusal names the field');
            assert.ok(envelope || clean.some((c) => !c), `a valid submission was refused: ${r.body}`);
            assert.equal(await store.count('listens'), before);
            return;
          }
          assert.equal(a.status, 'ok');
          if (type === 'playing_now') return assert.equal(await store.count('listens'), before);
          assert.equal(a.inserted + a.duplicates + a.rejected, payload.length, r.body);
          for (const x of a.rejections as Rejection[]) {
            assert.ok(!clean[x.index], `a valid listen was refused: ${x.field}: ${x.reason}`);
            if (isObject(payload[x.index])) assert.ok(x.field, `refused without naming a field: ${x.reason}`);
          }
          assert.equal(await store.count('listens'), before + a.inserted, 'the store grew by exactly the listens inserted');
        }),
        { seed: SEED + 99, numRuns: RUNS * 3 },
      );
    });
  });
}
