import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localDate, weekStart, addDays, ShiftedClock } from './clock.ts';

test('the same instant is a different weekday on each side of the date line', () => {
  const at = new Date('2026-11-22T12:30:00Z'); // Sunday in UTC
  assert.deepEqual(localDate(at, 'UTC'), { date: '2026-11-22', weekday: 0, hour: 12 });
  assert.equal(localDate(at, 'Pacific/Auckland').date, '2026-11-23'); // already Monday 01:30
  assert.equal(localDate(at, 'Pacific/Auckland').weekday, 1);
  assert.equal(localDate(at, 'Pacific/Honolulu').date, '2026-11-22'); // Sunday 02:30
});

test('weekStart finds the Monday (or Friday) of the local week', () => {
  const at = new Date('2026-11-22T12:30:00Z');
  assert.equal(weekStart(at, 'Pacific/Auckland', 1), '2026-11-23');
  assert.equal(weekStart(at, 'Pacific/Honolulu', 1), '2026-11-16');
  assert.equal(weekStart(at, 'UTC', 5), '2026-11-20');
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
});

test('a shifted clock starts at its start and runs at real speed', () => {
  let real = 1_000_000;
  const c = new ShiftedClock('2026-11-20T12:00:00Z', () => real);
  assert.equal(c.now().toISOString(), '2026-11-20T12:00:00.000Z');
  real += 61_000;
  assert.equal(c.now().toISOString(), '2026-11-20T12:01:01.000Z');
});
