import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Listen, Track, User, entitySchemas, entityKeys, entityKinds } from './schemas.ts';

test('a listen takes its defaults and keeps its fields', () => {
  const l = Listen.parse({ listen_id: 'l1', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 31000 });
  assert.deepEqual(l, { listen_id: 'l1', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 31000, reason_end: 'unknown', skipped: false, context: 'unknown', platform: 'unknown' });
});

test('bad values are refused with the field named', () => {
  const r = Listen.safeParse({ listen_id: 'l1', user_id: 'u1', track_id: 't1', started_at: '2024-05-01', ms_played: -5 });
  assert.equal(r.success, false);
  const fields = r.error!.issues.map((i) => i.path.join('.')).sort();
  assert.deepEqual(fields, ['ms_played', 'started_at']);
  assert.equal(User.safeParse({ user_id: 'u', time_zone: 'Mars/Olympus' }).success, false);
  assert.equal(User.parse({ user_id: 'u', time_zone: 'Pacific/Auckland' }).time_zone, 'Pacific/Auckland');
  assert.equal(Track.safeParse({ track_id: 't', title: 'x', artist_ids: [], duration_ms: 1000, release_date: '2020-01-01' }).success, false);
});

test('every entity has a schema and a key made of its fields', () => {
  for (const k of entityKinds) {
    const shape = (entitySchemas[k] as unknown as { shape: Record<string, unknown> }).shape;
    for (const f of entityKeys[k]) assert.ok(String(f) in shape, `${k}.${String(f)}`);
  }
});

test('values a store cannot hold are refused at the schema, with the field named', () => {
  const listen = { listen_id: 'l1', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 1000 };
  const track = { track_id: 't', title: 'x', artist_ids: ['a'], duration_ms: 1000, release_date: '2020-01-01' };
  const bad = (schema: typeof Listen | typeof Track, row: object, field: string) => {
    const r = schema.safeParse(row);
    assert.equal(r.success, false, JSON.stringify(row));
    assert.deepEqual([...new Set(r.error!.issues.map((i) => i.path.join('.')))], [field]);
  };
  bad(Listen, { ...listen, ms_played: 2 ** 31 }, 'ms_played');
  bad(Listen, { ...listen, ms_played: 2 ** 53 }, 'ms_played');
  assert.equal(Listen.safeParse({ ...listen, ms_played: 2 ** 31 - 1 }).success, true);
  bad(Track, { ...track, duration_ms: 3_000_000_000 }, 'duration_ms');
  for (const d of ['2024-02-30', '0000-00-00', '2023-02-29', '2024-13-01', '0000-01-01']) bad(Track, { ...track, release_date: d }, 'release_date');
  assert.equal(Track.safeParse({ ...track, release_date: '2024-02-29' }).success, true);
  for (const t of ['0000-01-01T00:00:00Z', '2024-01-01T00:00:00+23:59', '2024-02-30T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T10:60:00Z'])
    bad(Listen, { ...listen, started_at: t }, 'started_at');
  assert.equal(Listen.safeParse({ ...listen, started_at: '2024-01-01T00:00:00+14:00' }).success, true);
  bad(Listen, { ...listen, platform: 'a\u0000b' }, 'platform');
  bad(Listen, { ...listen, user_id: 'u\ud800' }, 'user_id');
  bad(Track, { ...track, title: '\udc00x' }, 'title');
  assert.equal(Track.safeParse({ ...track, title: 'Ünïcødé 🎵' }).success, true);
});
