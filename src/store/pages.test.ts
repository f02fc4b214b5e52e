import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pagesOf } from './pages.ts';
import { listInMemory } from './testing/data.ts';
import type { EntityKind, EntityRow, Follow } from '../domain/schemas.ts';
import type { ListOptions } from './store.ts';

const follows: Follow[] = ['b', 'a', 'c'].flatMap((u) => ['x2', 'x10'].map((a) => ({ user_id: u, artist_id: a, since: '2024-05-01T12:00:00Z' })));

test('pagesOf reads every row once, in key order, asking each page after the last key (never by offset)', async () => {
  const asked: ListOptions[] = [];
  const store = { list: async <K extends EntityKind>(kind: K, o: ListOptions = {}) => (asked.push(o), listInMemory(kind, follows as unknown as EntityRow<K>[], o)) };
  const sizes: number[] = [];
  const seen: string[] = [];
  for await (const rows of pagesOf(store, 'follows', {}, 2)) {
    sizes.push(rows.length);
    seen.push(...rows.map((r) => `${r.user_id}/${r.artist_id}`));
  }
  assert.deepEqual(seen, ['a/x10', 'a/x2', 'b/x10', 'b/x2', 'c/x10', 'c/x2']);
  assert.deepEqual(sizes, [2, 2, 2]);
  assert.deepEqual(asked.map((o) => o.after), [undefined, ['a', 'x2'], ['b', 'x2'], ['c', 'x2']]);
  assert.ok(asked.every((o) => o.offset === undefined && o.limit === 2));
  const filtered: string[] = [];
  for await (const rows of pagesOf(store, 'follows', { where: { artist_id: 'x2' } }, 2)) filtered.push(...rows.map((r) => r.user_id));
  assert.deepEqual(filtered, ['a', 'b', 'c']);
});
