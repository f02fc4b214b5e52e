import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize } from './run.ts';

test('the README summary lists every figure that has a target, with its benchmark and date', () => {
  const md = [
    '<!-- bench:store -->',
    '## store',
    'Command: `npm run bench -- store` — 2026-11-27, 2 cores, Node v20',
    '| figure | value | target |',
    '|---|---|---|',
    '| rows | 1000000 |  |',
    '| load_s | 0.9 | <= 1 |',
    '<!-- /bench:store -->',
    '<!-- bench:api -->',
    'Command: `npm run bench -- api` — 2026-11-26, 2 cores',
    '| rec_p99_ms | 8 | <= 10 at 1,000 req/s |',
    '<!-- /bench:api -->',
  ].join('\n');
  assert.equal(
    summarize(md),
    ['| benchmark | figure | measured | target |', '|---|---|---|---|', '| store (2026-11-27) | load_s | 0.9 | <= 1 |', '| api (2026-11-26) | rec_p99_ms | 8 | <= 10 at 1,000 req/s |'].join('\n'),
  );
});
