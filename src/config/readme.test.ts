import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configKeys } from './config.ts';

/** The README's config table is the user's reference: every key, its variable and its default. */
test('the README lists every config key with its environment variable and default', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const k of configKeys()) {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${k.key}\` |`));
    assert.ok(row, `README has no row for ${k.key}`);
    assert.ok(row.includes(`\`${k.env}\``), `README row of ${k.key} misses ${k.env}`);
    const d = k.default === undefined ? 'unset' : `\`${String(k.default)}\``;
    assert.ok(row.includes(d), `README row of ${k.key} should show the default ${d}`);
  }
});
