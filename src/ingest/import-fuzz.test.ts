/**
 * Property-based fuzzing of every import format (issue 15): rows with random good and bad values
 * (integers past 2^31 − 1, impossible dates and instants, wrong types, missing fields, NUL, lone
 * surrogates, invalid UTF-8, over-long lines, truncated JSON) imported into a fresh embedded store.
 * For every sample: the import never throws; every record is read exactly once; each rejected
 * value names its field; the store holds exactly the imported rows, each valid for its schema; the quarantine holds exactly
 * the quarantined ones; importing again adds nothing. Seeded and bounded (fast-check `seed`,
 * `numRuns`), so a failure replays.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { entityKinds, entitySchemas, type EntityKind } from '../domain/schemas.ts';
import { fieldsOf } from '../domain/fields.ts';
import { UNKNOWN_RELEASE_DATE } from '../domain/schemas.ts';
import { importPath, type ImportOptions, type ImportSummary } from './import.ts';

const NOW = new Date('2024-06-01T00:00:00Z');
const MAX_LINE = 4096;
const OPTS: ImportOptions = { clock: () => NOW, maxLineBytes: MAX_LINE, batchSize: 7 };
/** Samples per format (FUZZ_RUNS=100 for a longer hunt, FUZZ_SEED to try other seeds, as the HTTP fuzz suite); each imports twice into its own store. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 4);
const SEED_BASE = process.env.FUZZ_SEED === undefined ? 0 : Number(process.env.FUZZ_SEED);
// stores in memory-backed /dev/shm when there is one: the fuzz measures the importer, not fsync
const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'deepcut-fuzz-'));
let n = 0;
after(() => rmSync(root, { recursive: true, force: true })); // memory-backed: leave nothing behind

/** Codes that are about one value: the quarantined row must name its field. */
const VALUE_CODES = new Set(['missing', 'wrong_type', 'invalid_value', 'out_of_range', 'unknown_enum', 'unknown_id']);

// ---- values ----

const BAD: unknown[] = [
  2 ** 31, 3_000_000_000, 2 ** 53, -(2 ** 53), 1e308, -1, 1.5, 0, true, false, null, [], {}, 'abc', '', ' ',
  '2024-02-30', '2024-13-01', '0000-01-01', '10000-01-01', '2024-02-30T12:00:00Z', '2024-05-01T24:00:00Z',
  '2024-05-01T12:00:00+16:00', '1999-12-31T23:59:59Z', '2099-01-01T00:00:00Z', '+275760-09-13T00:00:00Z',
  'a\u0000b', '\ud800', 'x\udc00y', '\u0000', 'x'.repeat(600), ['a0', 'nope'], ['\u0000'], [3], { nested: { deep: [1] } },
];
/** A bad (or odd) value: a listed trap, or anything fast-check makes up. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...BAD) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
/** A bad cell of a text file (CSV, .dat): the same traps as text. */
const badCell: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', 'abc', '-1', '1.5', '1e400', 'NaN', '3000000000', '99999999999999999999', '2024-02-30', '2024-05-01T24:00:00Z', 'a\u0000b', '\u0000', '"', 'a"b', 'x'.repeat(300), '0'),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

/** How one record is damaged after it is written: mostly not at all. */
type Damage = 'none' | 'truncate' | 'utf8' | 'long' | 'blank';
const damage: fc.Arbitrary<Damage> = fc.oneof({ weight: 12, arbitrary: fc.constant<Damage>('none') }, { weight: 1, arbitrary: fc.constantFrom<Damage>('truncate', 'utf8', 'long', 'blank') });

function damaged(text: string, d: Damage): Buffer {
  const b: Buffer = Buffer.from(text, 'utf8');
  switch (d) {
    case 'none':
      return b;
    case 'truncate':
      return b.subarray(0, Math.max(1, Math.floor(b.length / 2)));
    case 'utf8':
      return Buffer.concat([b.subarray(0, 3), Buffer.from([0xff, 0xc3]), b.subarray(3)]);
    case 'long':
      return Buffer.concat([b, Buffer.from(' '.repeat(MAX_LINE + 10))]);
    case 'blank':
      return Buffer.from('   ');
  }
}
const hasContent = (b: Buffer) => b.some((x) => x !== 0x20 && x !== 0x09 && x !== 0x0d);

/** Traps for a field of a known kind: what a real file gets wrong about that kind. */
const TYPED: Record<'integer' | 'number' | 'timestamp' | 'date' | 'text', unknown[]> = {
  integer: [2 ** 31, 3_000_000_000, 2 ** 53, -1, 1.5, 1e308, '100'],
  number: [0, -1, 1e308, Number.MIN_VALUE, '1'],
  timestamp: ['2024-02-30T12:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01T12:60:00Z', '2024-05-01T12:00:00+16:00', '1999-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', '2024-05-01', 1714564800],
  date: ['2024-02-30', '2023-02-29', '0000-01-01', '2024-1-1', '2024-01-01T00:00:00Z'],
  text: ['a\u0000b', '\ud800', 'x\udc00', '', ' '],
};
type FieldKind = keyof typeof TYPED;
const kindOfType = (t: string): FieldKind => (t === 'integer' ? 'integer' : t === 'number' ? 'number' : t === 'timestamp' ? 'timestamp' : t === 'date' ? 'date' : 'text');

/**
 * Mutations of a row: set a field (by index into `keys`, or an unknown one) to a trap for its kind,
 * to any bad value, or delete it. `kinds` gives each key's kind.
 */
const mutations = fc.array(fc.tuple(fc.nat(), fc.oneof({ weight: 1, arbitrary: fc.constant('delete' as const) }, { weight: 4, arbitrary: fc.nat().map((i) => ({ typed: i })) }, { weight: 2, arbitrary: badValue.map((v) => ({ any: v })) })), { maxLength: 2 });
type Mutation = [number, 'delete' | { typed: number } | { any: unknown }];
function mutate(row: Record<string, unknown>, keys: string[], ms: Mutation[], kinds: Record<string, FieldKind> = {}): Record<string, unknown> {
  const out = structuredClone(row);
  for (const [i, m] of ms) {
    const path = i % (keys.length + 1) === keys.length ? 'unknown_extra' : keys[i % (keys.length + 1)];
    const parts = path.split('.');
    let o = out as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) o = (o[p] && typeof o[p] === 'object' ? o[p] : (o[p] = {})) as Record<string, unknown>;
    const last = parts[parts.length - 1];
    if (m === 'delete') delete o[last];
    else if ('typed' in m) {
      const traps = TYPED[kinds[path] ?? 'text'];
      o[last] = traps[m.typed % traps.length];
    } else o[last] = m.any;
  }
  return out;
}

/** One fuzzed record: mutations, damage, and whether it repeats the record before it. */
const record = fc.record({ m: mutations, d: damage, repeat: fc.nat(9).map((x) => x === 0) });
type Rec = { m: Mutation[]; d: Damage; repeat: boolean };
const records = fc.array(record, { minLength: 1, maxLength: 10 }) as fc.Arbitrary<Rec[]>;

// ---- deepcut's own rows ----

/** A valid row of each entity; ids `<prefix><i>`, foreign ids into the base rows (index 0). */
function goodRow(kind: EntityKind, i: number): Record<string, unknown> {
  switch (kind) {
    case 'artists':
      return { artist_id: `a${i}`, name: `Artist ${i}`, genres: ['rock'], country: 'DE', mbid: 'm' };
    case 'albums':
      return { album_id: `al${i}`, title: `Album ${i}`, artist_ids: ['a0'], release_date: '2020-01-01', album_type: 'album' };
    case 'tracks':
      // the base track's length is a placeholder (unknown release date), so no play time is refused for being longer than it
      return { track_id: `t${i}`, title: `Track ${i}`, album_id: 'al0', artist_ids: ['a0'], duration_ms: 200000, release_date: i === 0 ? UNKNOWN_RELEASE_DATE : '2020-02-29', isrc: 'USABC1234567' };
    case 'users':
      return { user_id: `u${i}`, time_zone: 'Europe/Berlin', country: 'DE', created_at: '2023-01-01T00:00:00Z' };
    case 'follows':
      return { user_id: 'u0', artist_id: `a${i % 2 ? 0 : i}`, since: '2023-01-01T00:00:00+02:00' };
    case 'listens':
      return { listen_id: `l${i}`, user_id: 'u0', track_id: 't0', started_at: '2024-05-01T12:00:00Z', ms_played: 1000 + i, reason_end: 'trackdone', skipped: false, context: 'search', platform: 'ios' };
    case 'interactions':
      return { user_id: 'u0', item_id: `i${i}`, item_kind: 'track', weight: 2, at: '2024-01-01T00:00:00Z' };
    case 'documents':
      return { document_id: `d${i}`, subject_kind: 'artist', subject_id: 'a0', source: 'blog', title: 'T', body: 'text', published_at: '2024-01-01T00:00:00Z' };
    case 'impressions':
      return { request_id: `r${i}`, user_id: 'u0', shelf: 's', card: 'c', slot: 1, policy: 'p', propensity: 0.5, shown_at: '2024-05-01T00:00:00Z' };
  }
}

function csvText(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = Array.isArray(v) ? v.map((x) => String(x)).join(';') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// ---- the checks ----

/** Import, check the invariants, import again, check nothing was added. `records`: entity → records in its files, when countable. */
async function checkImport(format: string, path: string, opts: ImportOptions, records: Partial<Record<EntityKind, number>>): Promise<void> {
  const home = join(root, `h${n++}`);
  const store = await openStore({ home });
  try {
    let s: ImportSummary;
    try {
      s = await importPath(store, format, path, opts);
    } catch (e) {
      assert.fail(`import threw: ${(e as Error).stack}`);
    }
    for (const [kind, expected] of Object.entries(records)) assert.equal(s.totals[kind as EntityKind]?.read ?? 0, expected, `${kind}: every record is read exactly once`);
    const before = await snapshot(store);
    let quarantined = 0;
    for (const k of entityKinds) {
      const c = s.totals[k];
      if (!c) continue;
      assert.equal(c.read, c.imported + c.duplicates + c.quarantined, `${k}: read = imported + duplicates + quarantined`);
      assert.equal(before.counts[k], c.imported, `${k}: the store holds exactly the imported rows`);
      quarantined += c.quarantined;
    }
    assert.equal(before.quarantine.length, quarantined, 'the quarantine holds every quarantined row once');
    for (const k of entityKinds) {
      for (const row of await store.list(k, { limit: 10_000 })) {
        const r = entitySchemas[k].safeParse(row);
        assert.ok(r.success, `${k}: a stored row breaks the domain schema (${r.error?.issues[0]?.path.join('.')}: ${r.error?.issues[0]?.message}): ${JSON.stringify(row)}`);
      }
    }
    for (const q of before.quarantine) {
      assert.ok(q.line >= 1 && q.file.length > 0, `quarantined row without file and line: ${JSON.stringify(q)}`);
      if (VALUE_CODES.has(q.code)) assert.ok(q.field, `a ${q.code} reject must name its field: ${JSON.stringify(q)}`);
    }
    const again = await importPath(store, format, path, { ...opts, force: true });
    for (const k of entityKinds) assert.equal(again.totals[k]?.imported ?? 0, 0, `${k}: importing again adds nothing`);
    assert.deepEqual(await snapshot(store), before, 'importing again changes neither the store nor the quarantine');
  } finally {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
}

async function snapshot(store: Store) {
  const counts: Partial<Record<EntityKind, number>> = {};
  for (const k of entityKinds) counts[k] = await store.count(k);
  const quarantine = (await store.listQuarantine()).map(({ batch, file, line, field, code }) => ({ batch, file, line, field, code }));
  return { counts, quarantine };
}

const folder = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const property = (arb: fc.Arbitrary<unknown>, run: (v: never) => Promise<void>, seed: number) => fc.assert(fc.asyncProperty(arb, run as (v: unknown) => Promise<void>), { seed: seed + SEED_BASE, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true });

// ---- one property per format ----

const ownEntities = fc.record(Object.fromEntries(entityKinds.map((k) => [k, records])) as Record<EntityKind, fc.Arbitrary<Rec[]>>);

/** Write one file per entity: the base row, then the fuzzed ones. Returns records per entity. */
function writeOwn(dir: string, recs: Record<EntityKind, Rec[]>, kind: 'jsonl' | 'csv'): Partial<Record<EntityKind, number>> {
  const count: Partial<Record<EntityKind, number>> = {};
  for (const k of entityKinds) {
    const keys = fieldsOf(k).map((f) => f.name);
    const kinds = Object.fromEntries(fieldsOf(k).map((f) => [f.name, kindOfType(f.type)]));
    const lines: Buffer[] = [];
    if (kind === 'csv') lines.push(Buffer.from(keys.join(',')));
    const rows = [goodRow(k, 0), ...recs[k].map((r, i) => (r.repeat && i > 0 ? null : mutate(goodRow(k, i + 1), keys, r.m, kinds)))];
    let prev: Buffer | undefined;
    rows.forEach((row, i) => {
      const d = i === 0 ? 'none' : recs[k][i - 1].d;
      const text = row === null ? undefined : kind === 'jsonl' ? JSON.stringify(row) : keys.map((f) => csvText(row[f])).join(',');
      const b = text === undefined ? prev! : damaged(text, d);
      lines.push(b);
      prev = b;
    });
    count[k] = lines.slice(kind === 'csv' ? 1 : 0).filter(hasContent).length;
    writeFileSync(join(dir, `${k}.${kind}`), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  }
  return count;
}

test('fuzz: own jsonl, every entity', async () => {
  await property(ownEntities, async (recs: Record<EntityKind, Rec[]>) => {
    const dir = folder();
    const count = writeOwn(dir, recs, 'jsonl');
    await checkImport('jsonl', dir, OPTS, count);
    rmSync(dir, { recursive: true });
  }, 1501);
});

test('fuzz: own csv, every entity', async () => {
  await property(ownEntities, async (recs: Record<EntityKind, Rec[]>) => {
    const dir = folder();
    writeOwn(dir, recs, 'csv'); // a damaged quote can join records: their count is not checked
    await checkImport('csv', dir, OPTS, {});
    rmSync(dir, { recursive: true });
  }, 1502);
});

const spotifyKeys = ['ts', 'platform', 'ms_played', 'master_metadata_track_name', 'master_metadata_album_artist_name', 'master_metadata_album_album_name', 'reason_end', 'skipped', 'episode_name'];
const accountKeys = ['endTime', 'artistName', 'trackName', 'msPlayed'];
const historyKinds: Record<string, FieldKind> = { ts: 'timestamp', ms_played: 'integer', msPlayed: 'integer', endTime: 'timestamp', listened_at: 'integer', 'track_metadata.additional_info.duration_ms': 'integer', 'track_metadata.additional_info.duration': 'number' };

test('fuzz: spotify history, extended and account files', async () => {
  await property(fc.record({ ext: records, acc: records }), async ({ ext, acc }: { ext: Rec[]; acc: Rec[] }) => {
    const dir = folder();
    const array = (recs: Rec[], good: (i: number) => Record<string, unknown>, keys: string[]) => {
      const items = recs.map((r, i) => damaged(JSON.stringify(mutate(good(i), keys, r.m, historyKinds)), r.d === 'blank' ? 'none' : r.d));
      return Buffer.concat([Buffer.from('[\n'), ...items.flatMap((b, i) => (i ? [Buffer.from(',\n'), b] : [b])), Buffer.from('\n]\n')]);
    };
    writeFileSync(
      join(dir, 'Streaming_History_Audio_2024.json'),
      array(ext, (i) => ({ ts: `2024-05-01T12:${String(i % 60).padStart(2, '0')}:00Z`, platform: 'android', ms_played: 1000 * i, master_metadata_track_name: `Song ${i % 4}`, master_metadata_album_artist_name: `Band ${i % 3}`, master_metadata_album_album_name: 'Album', reason_end: 'trackdone', skipped: false }), spotifyKeys),
    );
    writeFileSync(join(dir, 'StreamingHistory0.json'), array(acc, (i) => ({ endTime: `2024-05-02 12:${String(i % 60).padStart(2, '0')}`, artistName: `Band ${i % 3}`, trackName: `Song ${i % 4}`, msPlayed: 1000 * i }), accountKeys));
    const clean = [...ext, ...acc].every((r) => r.d === 'none' || r.d === 'blank');
    await checkImport('spotify-history', dir, { ...OPTS, user: 'me' }, clean ? { listens: ext.length + acc.length } : {});
    rmSync(dir, { recursive: true });
  }, 1503);
});

const lbKeys = ['user_name', 'listened_at', 'track_metadata', 'track_metadata.artist_name', 'track_metadata.track_name', 'track_metadata.release_name', 'track_metadata.additional_info', 'track_metadata.additional_info.duration_ms', 'track_metadata.additional_info.duration', 'track_metadata.additional_info.media_player', 'track_metadata.additional_info.artist_mbids'];

test('fuzz: listenbrainz export (JSON Lines)', async () => {
  await property(records, async (recs: Rec[]) => {
    const dir = folder();
    const lines = recs.map((r, i) => damaged(JSON.stringify(mutate({ user_name: 'rob', listened_at: 1714564800 + i, track_metadata: { artist_name: `Band ${i % 3}`, track_name: `Song ${i % 4}`, release_name: 'Album', additional_info: { duration_ms: 200000, media_player: 'mpv', artist_mbids: ['x'] } } }, lbKeys, r.m, historyKinds)), r.d));
    writeFileSync(join(dir, 'listens.jsonl'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    await checkImport('listenbrainz', dir, OPTS, { listens: lines.filter(hasContent).length });
    rmSync(dir, { recursive: true });
  }, 1504);
});

const cells = fc.array(fc.tuple(fc.nat(), badCell), { maxLength: 2 });
const datRows = fc.array(fc.record({ c: cells, d: damage }), { minLength: 1, maxLength: 14 });
type DatRow = { c: [number, string][]; d: Damage };

function datFile(header: string, rows: DatRow[], good: (i: number) => string[]): Buffer {
  const lines: Buffer[] = [Buffer.from(header)];
  rows.forEach((r, i) => {
    const c = good(i);
    for (const [j, v] of r.c) c[j % (c.length + 1)] = v; // index past the end adds a column
    lines.push(damaged(c.join('\t'), r.d));
  });
  return Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
}

test('fuzz: hetrec-lastfm folder (artists, play counts, tags, friends)', async () => {
  await property(fc.record({ artists: datRows, plays: datRows, tagged: datRows, tags: datRows, friends: datRows }), async (r: Record<'artists' | 'plays' | 'tagged' | 'tags' | 'friends', DatRow[]>) => {
    const dir = folder();
    writeFileSync(join(dir, 'artists.dat'), datFile('id\tname\turl\tpictureURL', r.artists, (i) => [String(i + 1), `Artist ${i}`, 'http://x', 'http://y']));
    writeFileSync(join(dir, 'user_artists.dat'), datFile('userID\tartistID\tweight', r.plays, (i) => [String(2 + (i % 3)), String(1 + (i % 5)), String(10 * i + 1)]));
    writeFileSync(join(dir, 'user_taggedartists.dat'), datFile('userID\tartistID\ttagID\tday\tmonth\tyear', r.tagged, (i) => [String(2 + (i % 3)), String(1 + (i % 4)), String(1 + (i % 6)), '1', '5', '2009']));
    writeFileSync(join(dir, 'tags.dat'), datFile('tagID\ttagValue', r.tags, (i) => [String(i + 1), `tag ${i}`]));
    writeFileSync(join(dir, 'user_friends.dat'), datFile('userID\tfriendID', r.friends, (i) => [String(2 + (i % 3)), String(5 + i)]));
    await checkImport('hetrec-lastfm', dir, OPTS, {});
    rmSync(dir, { recursive: true });
  }, 1505);
});

test('fuzz: generic interactions CSV', async () => {
  await property(datRows, async (rows: DatRow[]) => {
    const dir = folder();
    const file = join(dir, 'plays.csv');
    const text = datFile('user\titem\tweight\ttimestamp', rows, (i) => [`u${i % 3}`, `i${i % 5}`, String(i + 1), String(1714564800 + i)]);
    writeFileSync(file, text);
    await checkImport('interactions', file, OPTS, {});
    rmSync(dir, { recursive: true });
  }, 1506);
});
