/**
 * The store contract: every backend's test file calls {@link storeContract} with a harness that
 * gives each test fresh, empty storage. Rows are parsed with the domain schemas first, so
 * "round trip" means deep-equal to the parsed row (defaults filled in).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { entitySchemas, entityKinds, entityKeys, type EntityKind, type EntityRow, type Listen } from '../domain/schemas.ts';
import { DeepcutError } from '../errors.ts';
import type { Store, OpenOptions, QuarantinedRow } from './store.ts';
import { entityColumns } from './migrations.ts';
import { syntheticListens } from './testing/data.ts';
import { quarantinePages } from './pages.ts';

/** A store that can report and apply its migrations (both backends). */
export type MigratingStore = Store & { migrate(): Promise<number[]> };

/** Fresh storage for one test: open it (again) with {@link open}, drop it with {@link cleanup}. */
export interface Space {
  options: OpenOptions;
  open(opts?: { readOnly?: boolean }): Promise<MigratingStore>;
  cleanup(): Promise<void>;
}

/** `space()` makes fresh storage; a string instead of a harness skips the suite with that reason. */
export interface Harness {
  space(): Promise<Space>;
}

const here = dirname(fileURLToPath(import.meta.url));
const parse = <K extends EntityKind>(kind: K, raw: object): EntityRow<K> => entitySchemas[kind].parse(raw) as EntityRow<K>;

/** Two rows per entity: one with every optional field set, one with none (defaults apply). */
export const fixtures: { [K in EntityKind]: EntityRow<K>[] } = {
  artists: [
    parse('artists', { artist_id: 'a1', name: 'Aphex Twin', genres: ['idm', 'ambient'], country: 'GB', mbid: 'f22942a1-6f70-4f48-866e-238cb2308fbd' }),
    parse('artists', { artist_id: 'a2', name: 'Nobody' }),
  ],
  albums: [
    parse('albums', { album_id: 'al1', title: 'Selected Ambient Works', artist_ids: ['a1'], release_date: '1992-11-09' }),
    parse('albums', { album_id: 'al2', title: 'Split', artist_ids: ['a1', 'a2'], release_date: '2024-02-29', album_type: 'ep' }),
  ],
  tracks: [
    parse('tracks', {
      track_id: 't1',
      title: 'Xtal',
      album_id: 'al1',
      artist_ids: ['a1'],
      duration_ms: 293_000,
      release_date: '1992-11-09',
      isrc: 'GBARL9200001',
      audio_path: 'audio/xtal.mp3',
      mbid: '0ba1a8e2-f9ef-4a5c-b1c4-0f2b3b8e1a11',
    }),
    parse('tracks', { track_id: 't2', title: 'Ünïcødé "quoted", comma', artist_ids: ['a2', 'a1'], duration_ms: 1, release_date: '2024-01-01' }),
  ],
  users: [
    parse('users', { user_id: 'u1', time_zone: 'Europe/Berlin', country: 'DE', created_at: '2023-12-31T23:59:59.123Z' }),
    parse('users', { user_id: 'u2' }),
  ],
  follows: [parse('follows', { user_id: 'u1', artist_id: 'a1', since: '2024-05-01T12:00:00Z' }), parse('follows', { user_id: 'u1', artist_id: 'a2', since: '2024-05-01T12:00:00.000001Z' })],
  listens: [
    parse('listens', {
      listen_id: 'l1',
      user_id: 'u1',
      track_id: 't1',
      started_at: '2024-05-01T12:00:00Z',
      ms_played: 293_000,
      reason_end: 'trackdone',
      skipped: false,
      context: 'home:discover:c1',
      platform: 'ios',
    }),
    parse('listens', { listen_id: 'l2', user_id: 'u2', track_id: 't2', started_at: '2024-05-01T12:00:01.500Z', ms_played: 0 }),
  ],
  interactions: [
    parse('interactions', { user_id: 'u1', item_id: 't1', weight: 12, at: '2024-05-01T12:00:00Z' }),
    parse('interactions', { user_id: 'u1', item_id: 'a1', item_kind: 'artist', weight: 0.25 }),
  ],
  documents: [
    parse('documents', {
      document_id: 'd1',
      subject_kind: 'artist',
      subject_id: 'a1',
      source: 'wiki',
      url: 'https://example.org/a1',
      title: 'Bio',
      body: 'Richard D. James…\nline two',
      published_at: '2020-01-01T00:00:00Z',
    }),
    parse('documents', { document_id: 'd2', subject_kind: 'track', subject_id: 't1', body: '' }),
  ],
  impressions: [
    parse('impressions', { request_id: 'r1', user_id: 'u1', shelf: 'discover', card: 't1', slot: 0, policy: 'eps', propensity: 0.125, shown_at: '2024-05-01T12:00:00Z' }),
    parse('impressions', { request_id: 'r1', user_id: 'u1', shelf: 'discover', card: 't2', slot: 1, policy: 'eps', propensity: 1, shown_at: '2024-05-01T12:00:00Z', reward: 1, features: '{"user_feature_0":"a"}' }),
  ],
};

const keyOf = <K extends EntityKind>(kind: K, row: EntityRow<K>): string[] =>
  (entityKeys[kind] as readonly string[]).map((k) => String((row as Record<string, unknown>)[k]));

const qrow = (batch: string, line: number, field: string | null): QuarantinedRow => ({
  batch,
  entity: 'listens',
  format: 'jsonl',
  file: 'in/listens.jsonl',
  line,
  field,
  code: 'invalid_type',
  reason: 'expected number',
  raw: `{"line":${line},"x":"é, \\"q\\""}`,
  quarantined_at: '2024-05-01T12:00:00Z',
});

/** Every listen of `rows` sorted as readListens returns them. */
const byTime = (rows: Listen[]) => [...rows].sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at) || (a.listen_id < b.listen_id ? -1 : 1));

/** Cases a backend may skip, each with its reason. */
export interface StoreContractOptions {
  skip?: Partial<Record<'crash', string>>;
}

/** Run the contract against one backend; `harness` resolves to a skip reason when the backend is unavailable. */
export function storeContract(name: string, harness: Harness | string, opts: StoreContractOptions = {}): void {
  const skip = typeof harness === 'string' ? harness : false;
  if (skip) console.log(`# store contract ${name}: skipped: ${skip}`);
  const h = harness as Harness;

  async function withStore(fn: (s: MigratingStore, space: Space) => Promise<void>): Promise<void> {
    const space = await h.space();
    let store: MigratingStore | undefined;
    try {
      store = await space.open();
      await fn(store, space);
    } finally {
      await store?.close();
      await space.cleanup();
    }
  }

  describe(`store contract: ${name}`, { skip }, () => {
    it('starts empty and migrated; migrating again applies nothing', () =>
      withStore(async (s, space) => {
        for (const k of entityKinds) assert.equal(await s.count(k), 0, k);
        assert.deepEqual(await s.migrate(), []);
        await s.close();
        const again = await space.open();
        try {
          assert.deepEqual(await again.migrate(), []);
          assert.equal(await again.count('listens'), 0);
        } finally {
          await again.close();
        }
      }));

    it('publication: one row switched by compare-and-set on its generation; survives a reopen; read-only refuses', () =>
      withStore(async (s, space) => {
        assert.equal(await s.getPublication(), undefined);
        const first = { runId: 'r1', publishedAt: '2024-05-01T12:00:00.000Z', history: [] };
        assert.deepEqual(await s.switchPublication(first, 0), { ...first, generation: 1 });
        // a second "first" publication lost the race: nothing changes
        assert.equal(await s.switchPublication({ ...first, runId: 'other' }, 0), undefined);
        const second = { runId: 'r2', publishedAt: '2024-05-02T12:00:00.5Z', history: [{ runId: 'r1', publishedAt: first.publishedAt }] };
        assert.equal(await s.switchPublication(second, 0), undefined, 'stale generation');
        assert.deepEqual(await s.switchPublication(second, 1), { ...second, publishedAt: '2024-05-02T12:00:00.500Z', generation: 2 });
        await s.close();
        const again = await space.open();
        try {
          assert.deepEqual(await again.getPublication(), { ...second, publishedAt: '2024-05-02T12:00:00.500Z', generation: 2 });
        } finally {
          await again.close();
        }
        const ro = await space.open({ readOnly: true });
        try {
          assert.equal((await ro.getPublication())?.runId, 'r2');
          await assert.rejects(ro.switchPublication(first, 2), (e: unknown) => e instanceof DeepcutError && e.code === 'conflict');
        } finally {
          await ro.close();
        }
      }));

    it('staged shelves: read back for their user until they expire, each deleted once, expired ones dropped; survive a reopen; read-only refuses', () =>
      withStore(async (s, space) => {
        const imp = fixtures.impressions;
        const a = { requestId: 'h1', userId: 'u1', shelf: 'discover', impressions: imp, expiresAt: '2024-05-01T12:30:00Z' };
        const b = { requestId: 'h1', userId: 'u1', shelf: 'popular-now', impressions: [imp[0]], expiresAt: '2024-05-01T12:30:00Z' };
        const old = { requestId: 'h0', userId: 'u2', shelf: 'discover', impressions: [imp[1]], expiresAt: '2024-05-01T11:00:00Z' };
        await s.stageShelves([a, b, old]);
        // staged again: the first row stays
        await s.stageShelves([{ ...a, impressions: [] }]);
        const at = '2024-05-01T12:00:00Z';
        const expect = (x: typeof a) => ({ ...x, expiresAt: new Date(x.expiresAt).toISOString() });
        assert.deepEqual(await s.stagedShelves('u1', 'h1', ['popular-now', 'nope', 'discover', 'discover'], at), [expect(b), expect(a)], 'in the order asked, each once');
        assert.deepEqual(await s.stagedShelves('u2', 'h1', ['discover'], at), [], "another user's request");
        assert.deepEqual(await s.stagedShelves('u2', 'h0', ['discover'], at), [], 'expired');
        assert.deepEqual(await s.stagedShelves('u1', 'h1', [], at), []);
        await s.close();
        const again = await space.open();
        try {
          assert.deepEqual((await again.stagedShelves('u1', 'h1', ['discover'], at)).map((x) => x.impressions), [imp], 'after a reopen');
          // two deletes at once: each shelf goes to exactly one
          const [x, y] = await Promise.all([again.unstageShelves('h1', ['discover', 'popular-now']), again.unstageShelves('h1', ['discover', 'popular-now'])]);
          assert.deepEqual([...x, ...y].sort(), ['discover', 'popular-now']);
          assert.deepEqual(await again.unstageShelves('h1', ['discover']), []);
          assert.deepEqual(await again.stagedShelves('u1', 'h1', ['discover', 'popular-now'], at), []);
          assert.equal(await again.expireStagedShelves(at), 1);
          assert.equal(await again.expireStagedShelves(at), 0);
          assert.deepEqual(await again.stagedShelves('u2', 'h0', ['discover'], '2024-05-01T10:00:00Z'), [], 'dropped');
        } finally {
          await again.close();
        }
        const ro = await space.open({ readOnly: true });
        try {
          await assert.rejects(ro.stageShelves([a]), (e: unknown) => e instanceof DeepcutError && e.code === 'conflict');
          await assert.rejects(ro.unstageShelves('h1', ['discover']), (e: unknown) => e instanceof DeepcutError && e.code === 'conflict');
        } finally {
          await ro.close();
        }
      }));

    it('round-trips every entity, optional fields absent when not set', () =>
      withStore(async (s) => {
        for (const kind of entityKinds) {
          const rows = fixtures[kind] as EntityRow<EntityKind>[];
          assert.deepEqual(await s.put(kind, rows), { inserted: rows.length, duplicates: 0 }, kind);
          assert.equal(await s.count(kind), rows.length, kind);
          for (const row of rows) assert.deepEqual(await s.get(kind, keyOf(kind, row)), row, `${kind} get`);
          const sorted = [...rows].sort((a, b) => (keyOf(kind, a).join('\u0000') < keyOf(kind, b).join('\u0000') ? -1 : 1));
          assert.deepEqual(await s.list(kind), sorted, `${kind} list`);
          assert.deepEqual(Object.keys(entitySchemas[kind].shape).sort(), entityColumns[kind].map((c) => c.name).sort(), `${kind} columns`);
        }
        assert.equal(await s.get('artists', ['nope']), undefined);
      }));

    it('normalises instants to UTC with Z', () =>
      withStore(async (s) => {
        await s.put('follows', [parse('follows', { user_id: 'u9', artist_id: 'a9', since: '2024-05-01T14:00:00+02:00' })]);
        assert.deepEqual(await s.get('follows', ['u9', 'a9']), { user_id: 'u9', artist_id: 'a9', since: '2024-05-01T12:00:00Z' });
      }));

    it('lists with filters, limit and offset; an unknown column is invalid_input', () =>
      withStore(async (s) => {
        await s.put('listens', [...syntheticListens(30, 30, { users: 3, seed: 3 })][0]);
        const all = await s.list('listens');
        const u1 = await s.list('listens', { where: { user_id: 'u1' } });
        assert.deepEqual(u1, all.filter((r) => r.user_id === 'u1'));
        assert.ok(u1.length > 0);
        assert.deepEqual(await s.list('listens', { limit: 5, offset: 10 }), all.slice(10, 15));
        assert.deepEqual(await s.list('impressions', { where: { slot: '0' } }), []);
        await assert.rejects(s.list('listens', { where: { nope: 'x' } }), (e: unknown) => e instanceof DeepcutError && e.code === 'invalid_input' && /unknown column "nope"/.test(e.message));
      }));

    it('lists a time range, and page by page after a key (composite, with an integer part) reads every row once', () =>
      withStore(async (s) => {
        const rows = [];
        for (const r of ['r1', 'r10', 'r2', 'R0']) for (const slot of [0, 2, 10, 1001]) rows.push(parse('impressions', { request_id: r, user_id: 'u1', shelf: 'x', card: `${r}-${slot}`, slot, policy: 'p', propensity: 0.5, shown_at: `2024-05-0${1 + (slot % 3)}T12:00:00+02:00` }));
        await s.put('impressions', rows);
        const all = await s.list('impressions');
        assert.deepEqual(all.map((r) => `${r.request_id}/${r.slot}`).slice(0, 6), ['R0/0', 'R0/2', 'R0/10', 'R0/1001', 'r1/0', 'r1/2']);
        const paged: typeof all = [];
        for (let after: string[] | undefined; ; ) {
          const page = await s.list('impressions', { limit: 3, ...(after ? { after } : {}) });
          paged.push(...page);
          if (page.length < 3) break;
          const last = page[page.length - 1];
          after = [last.request_id, String(last.slot)];
        }
        assert.deepEqual(paged, all);
        // shown on day 1 + slot % 3 at 10:00Z: slot 0 on day 1, slot 10 on day 2, slots 2 and 1001 on day 3
        const day2 = await s.list('impressions', { range: { field: 'shown_at', from: '2024-05-02T10:00:00Z', until: '2024-05-03T10:00:00Z' } });
        assert.deepEqual(day2, all.filter((r) => r.shown_at === '2024-05-02T10:00:00Z'));
        assert.equal(day2.length, 4);
        const open = await s.list('impressions', { range: { field: 'shown_at', until: '2024-05-02T10:00:00Z' }, where: { request_id: 'r2' } });
        assert.deepEqual(open.map((r) => r.slot), [0]);
        await assert.rejects(s.list('impressions', { range: { field: 'card' } }), (e: unknown) => e instanceof DeepcutError && e.code === 'invalid_input' && /"card" is not an instant column/.test(e.message));
        await assert.rejects(s.list('impressions', { range: { field: 'shown_at', from: 'soon' } }), /"soon" is not an ISO 8601 instant/);
        await assert.rejects(s.list('impressions', { after: ['r1'] }), /the key is request_id, slot; got 1 values/);
        await assert.rejects(s.list('impressions', { after: ['r1', 'x'] }), /slot must be an integer/);
      }));

    it('counts duplicates by key and leaves the stored row unchanged', () =>
      withStore(async (s) => {
        const a = fixtures.artists;
        await s.put('artists', a);
        const changed = { ...a[0], name: 'Changed' };
        assert.deepEqual(await s.put('artists', [changed, a[1]]), { inserted: 0, duplicates: 2 });
        assert.equal((await s.get('artists', ['a1']))?.name, 'Aphex Twin');
        const fresh = parse('artists', { artist_id: 'a3', name: 'Three' });
        assert.deepEqual(await s.put('artists', [fresh, fresh, a[0]]), { inserted: 1, duplicates: 2 });
        assert.equal(await s.count('artists'), 3);
        assert.deepEqual(await s.put('artists', []), { inserted: 0, duplicates: 0 });
      }));

    it('bulkPut is idempotent: the same rows twice add nothing the second time', () =>
      withStore(async (s) => {
        assert.deepEqual(await s.bulkPut('listens', syntheticListens(5000, 1000, { seed: 5 })), { inserted: 5000, duplicates: 0 });
        assert.deepEqual(await s.bulkPut('listens', syntheticListens(5000, 700, { seed: 5 })), { inserted: 0, duplicates: 5000 });
        async function* more() {
          yield* syntheticListens(6000, 1500, { seed: 5 });
        }
        assert.deepEqual(await s.bulkPut('listens', more()), { inserted: 1000, duplicates: 5000 });
        assert.equal(await s.count('listens'), 6000);
        const sample = [...syntheticListens(6000, 6000, { seed: 5 })][0][4321];
        assert.deepEqual(await s.get('listens', [sample.listen_id]), sample);
      }));

    it('readListens returns every listen as dictionary-encoded typed columns', () =>
      withStore(async (s) => {
        const rows = [...syntheticListens(2500, 2500, { users: 40, tracks: 300, seed: 11 })][0];
        await s.bulkPut('listens', [rows.slice(0, 1200), rows.slice(1200)]);
        const cols = await s.readListens();
        const want = byTime(rows);
        assert.equal(cols.user.length, want.length);
        assert.equal(cols.users.size, new Set(rows.map((r) => r.user_id)).size);
        assert.equal(cols.tracks.size, new Set(rows.map((r) => r.track_id)).size);
        want.forEach((r, i) => {
          assert.equal(cols.users.id(cols.user[i]), r.user_id);
          assert.equal(cols.tracks.id(cols.track[i]), r.track_id);
          assert.equal(cols.msPlayed[i], r.ms_played);
          assert.equal(cols.startedAt[i], Date.parse(r.started_at));
          assert.equal(cols.skipped[i], r.skipped ? 1 : 0);
        });
        const since = new Date(want[1000].started_at);
        const until = new Date(want[2000].started_at);
        const part = await s.readListens({ since, until });
        assert.equal(part.user.length, 1000);
        assert.equal(part.startedAt[0], since.getTime());
        assert.equal(part.users.id(part.user[999]), want[1999].user_id);
        const empty = await s.readListens({ since: new Date('2100-01-01T00:00:00Z') });
        assert.equal(empty.user.length, 0);
        assert.equal(empty.users.size, 0);
      }));

    it('readInteractions returns one item kind as typed columns', () =>
      withStore(async (s) => {
        const rows = [
          parse('interactions', { user_id: 'u2', item_id: 't1', weight: 3 }),
          parse('interactions', { user_id: 'u1', item_id: 't2', weight: 1.5 }),
          parse('interactions', { user_id: 'u1', item_id: 't1', weight: 2 }),
          parse('interactions', { user_id: 'u1', item_id: 'a1', item_kind: 'artist', weight: 7 }),
        ];
        await s.put('interactions', rows);
        const t = await s.readInteractions();
        assert.deepEqual([...t.users.toArray()], ['u1', 'u2']);
        assert.deepEqual([...t.items.toArray()], ['t1', 't2']);
        assert.deepEqual([...t.user], [0, 0, 1]);
        assert.deepEqual([...t.item], [0, 1, 0]);
        assert.deepEqual([...t.weight], [2, 1.5, 3]);
        const a = await s.readInteractions({ itemKind: 'artist' });
        assert.deepEqual([...a.items.toArray()], ['a1']);
        assert.deepEqual([...a.weight], [7]);
      }));

    it('keeps quarantined rows, lists them by batch, releases them by id', () =>
      withStore(async (s) => {
        await s.quarantine([qrow('b1', 3, 'ms_played'), qrow('b1', 9, null), qrow('b2', 1, 'user_id')]);
        const all = await s.listQuarantine();
        assert.equal(all.length, 3);
        assert.deepEqual(
          all.map(({ id, ...r }) => r),
          [qrow('b1', 3, 'ms_played'), qrow('b1', 9, null), qrow('b2', 1, 'user_id')],
        );
        assert.ok(all.every((r) => typeof r.id === 'number'));
        const b1 = await s.listQuarantine({ batch: 'b1' });
        assert.deepEqual(b1.map((r) => r.line), [3, 9]);
        assert.deepEqual((await s.listQuarantine({ limit: 1, offset: 1 })).map((r) => r.line), [9]);
        assert.deepEqual((await s.listQuarantine({ afterId: all[0].id, limit: 1 })).map((r) => r.line), [9]);
        assert.deepEqual((await s.listQuarantine({ batch: 'b1', afterId: all[1].id })).map((r) => r.line), []);
        const paged: number[] = [];
        for await (const page of quarantinePages(s, {}, 2)) paged.push(...page.map((r) => r.line));
        assert.deepEqual(paged, [3, 9, 1]);
        await assert.rejects(s.listQuarantine({ afterId: -1 }), /afterId must be a non-negative integer/);
        assert.equal(await s.releaseQuarantine(b1.map((r) => r.id!)), 2);
        assert.equal(await s.releaseQuarantine(b1.map((r) => r.id!)), 0);
        assert.deepEqual((await s.listQuarantine()).map((r) => r.batch), ['b2']);
      }));

    it('stores, replaces, lists and deletes meta documents', () =>
      withStore(async (s) => {
        assert.equal(await s.getMeta('runs', 'r1'), undefined);
        await s.putMeta('runs', 'r2', { ok: true, n: [1, 2], s: 'é' });
        await s.putMeta('runs', 'r1', 1);
        await s.putMeta('runs', 'r1', { replaced: 'yes' });
        await s.putMeta('other', 'r1', null);
        assert.deepEqual(await s.getMeta('runs', 'r1'), { replaced: 'yes' });
        assert.equal(await s.getMeta('other', 'r1'), null);
        assert.deepEqual(await s.listMeta('runs'), [
          { key: 'r1', value: { replaced: 'yes' } },
          { key: 'r2', value: { ok: true, n: [1, 2], s: 'é' } },
        ]);
        assert.equal(await s.deleteMeta('runs', 'r1'), true);
        assert.equal(await s.deleteMeta('runs', 'r1'), false);
        assert.deepEqual(await s.listMeta('runs'), [{ key: 'r2', value: { ok: true, n: [1, 2], s: 'é' } }]);
        await assert.rejects(s.putMeta('runs', 'x', undefined), /meta value must be JSON-serialisable/);
      }));

    it('claims a meta key once: of racing claims exactly one wins, and the first value stays', () =>
      withStore(async (s) => {
        const wins = await Promise.all(['a', 'b', 'c', 'd'].map((who) => s.claimMeta('days', '2026-12-06', { who })));
        assert.equal(wins.filter(Boolean).length, 1);
        const winner = ['a', 'b', 'c', 'd'][wins.indexOf(true)];
        assert.deepEqual(await s.getMeta('days', '2026-12-06'), { who: winner });
        assert.equal(await s.claimMeta('days', '2026-12-06', { who: 'late' }), false);
        assert.equal(await s.claimMeta('days', '2026-12-07', { who: 'late' }), true);
      }));

    it('read-only: reads work, every write is refused with conflict', () =>
      withStore(async (s, space) => {
        await s.put('artists', fixtures.artists);
        await s.put('listens', fixtures.listens);
        await s.close();
        const ro = await space.open({ readOnly: true });
        try {
          assert.equal(ro.readOnly, true);
          assert.equal(await ro.count('artists'), 2);
          // Training reads run on read-only opens too (they number ids in temp tables on DuckDB).
          assert.equal((await ro.readListens()).user.length, fixtures.listens.length);
          assert.equal((await ro.readInteractions()).user.length, 0);
          const refused = (op: string) => (e: unknown) => e instanceof DeepcutError && e.code === 'conflict' && e.message === `the store is open read-only: ${op} refused`;
          await assert.rejects(ro.put('artists', fixtures.artists), refused('put artists'));
          await assert.rejects(ro.bulkPut('listens', [fixtures.listens]), refused('bulkPut listens'));
          await assert.rejects(ro.quarantine([qrow('b', 1, null)]), refused('quarantine'));
          await assert.rejects(ro.putMeta('a', 'b', 1), refused('putMeta'));
          await assert.rejects(ro.deleteMeta('a', 'b'), refused('deleteMeta'));
          await assert.rejects(ro.releaseQuarantine([1]), refused('releaseQuarantine'));
        } finally {
          await ro.close();
        }
      }));

    it('a reader never sees a partly loaded batch while a writer loads', () =>
      withStore(async (s) => {
        const size = 2000;
        let loading = true;
        const load = s.bulkPut('listens', syntheticListens(10 * size, size, { seed: 13 })).finally(() => (loading = false));
        const seen: number[] = [];
        try {
          while (loading) {
            const n = await s.count('listens');
            const cols = await s.readListens();
            seen.push(n, cols.user.length);
            assert.equal(n % size, 0, `count ${n} is not a whole number of batches`);
            assert.equal(cols.user.length % size, 0, `readListens saw ${cols.user.length} rows`);
            assert.ok(cols.user.every((u) => u >= 0 && u < cols.users.size));
          }
        } finally {
          await load.catch(() => undefined);
        }
        assert.deepEqual(await load, { inserted: 10 * size, duplicates: 0 });
        assert.equal(await s.count('listens'), 10 * size);
        assert.ok(seen.length > 0);
      }));

    it('an unclean kill during a bulk load loses no committed batch and leaves the store openable', { skip: opts.skip?.crash }, () =>
      withStore(async (s, space) => {
        await s.close();
        const batches = 40;
        const size = 2500;
        const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'testing', 'bulk-child.ts'), JSON.stringify(space.options), String(batches), String(size)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let committed = 0;
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, sig) => res(sig ?? code)));
        await new Promise<void>((res) => {
          let buf = '';
          child.stdout.on('data', (d: Buffer) => {
            buf += d.toString();
            const ms = [...buf.matchAll(/committed (\d+)/g)];
            if (ms.length) committed = Number(ms[ms.length - 1][1]);
            if (committed >= 3) {
              child.kill('SIGKILL');
              res();
            }
          });
          child.on('exit', () => res());
        });
        const how = await exited;
        assert.equal(how, 'SIGKILL', `child ended with ${how} before the kill: ${stderr}`);
        assert.ok(committed >= 3 && committed < batches, `committed ${committed}`);
        const again = await space.open();
        try {
          const n = await again.count('listens');
          assert.ok(n >= committed * size, `${n} rows after the kill, ${committed * size} were committed`);
          assert.equal(n % size, 0, `a partial batch survived: ${n} rows`);
          const want = [...syntheticListens(committed * size, committed * size, { seed: 7 })][0];
          assert.deepEqual(await again.get('listens', [want[want.length - 1].listen_id]), want[want.length - 1]);
          const stored = new Set((await again.list('listens')).map((r) => r.listen_id));
          assert.ok(want.every((r) => stored.has(r.listen_id)), 'a reported-committed row is missing');
          assert.deepEqual(await again.put('listens', [{ ...fixtures.listens[0], listen_id: 'after-kill' }]), { inserted: 1, duplicates: 0 });
          assert.equal(await again.count('listens'), n + 1);
        } finally {
          await again.close();
        }
      }));
  });
}
