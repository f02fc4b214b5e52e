import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fieldTables, withTables } from './docs.ts';

test('docs/formats.md field tables match the zod schemas', () => {
  const text = readFileSync(fileURLToPath(new URL('../../docs/formats.md', import.meta.url)), 'utf8');
  assert.equal(withTables(text), text, 'stale: run `npx tsx src/ingest/docs.ts --write`');
  assert.match(fieldTables(), /\| `ms_played` \| integer \| yes \| >= 0, <= 2147483647 \|/);
});
