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
