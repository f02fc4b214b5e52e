import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdMap, TrackId } from './ids.ts';

test('IdMap assigns dense rows in insertion order and reports unknown ids as -1', () => {
  const m = new IdMap<TrackId>();
  assert.equal(m.add(TrackId('b')), 0);
  assert.equal(m.add(TrackId('a')), 1);
  assert.equal(m.add(TrackId('b')), 0);
  assert.equal(m.size, 2);
  assert.equal(m.row('a'), 1);
  assert.equal(m.row('zzz'), -1);
  assert.equal(m.id(1), 'a');
  assert.throws(() => m.id(2), /row 2 is outside 0\.\.1/);
});
