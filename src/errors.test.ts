import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeepcutError, httpStatus, exitCode, formatWhere } from './errors.ts';

test('messages lead with file, line and field', () => {
  const e = new DeepcutError('invalid_input', 'expected a number', { file: 'listens.csv', line: 12, field: 'ms_played' });
  assert.equal(e.message, 'listens.csv:12: field ms_played: expected a number');
  assert.equal(formatWhere({ line: 3 }), 'line 3: ');
  assert.equal(formatWhere({}), '');
});

test('each error kind maps to one HTTP status and exit code; bugs to 500 and 1', () => {
  assert.equal(httpStatus(new DeepcutError('not_found', 'x')), 404);
  assert.equal(httpStatus(new DeepcutError('invalid_input', 'x')), 400);
  assert.equal(httpStatus(new Error('bug')), 500);
  assert.equal(exitCode(new DeepcutError('invalid_input', 'x')), 2);
  assert.equal(exitCode(new DeepcutError('blocked', 'x')), 7);
  assert.equal(exitCode(new TypeError('bug')), 1);
});

test('the README exit-code list matches the mapping: every code documented, every kind under its number', async () => {
  const { readFileSync } = await import('node:fs');
  const { errorCodes, exitCodeOf } = await import('./errors.ts');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const sentence = /^Exit codes: ([\s\S]*?)\.\n/m.exec(readme)?.[1].replace(/\s+/g, ' ');
  assert.ok(sentence, 'README has its "Exit codes:" sentence');
  const documented = new Map(sentence.split('; ').map((part) => [Number(/^(\d+) /.exec(part)![1]), part.replace(/^\d+ /, '')]));
  assert.deepEqual([...documented.keys()], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // how the README names each kind; a new kind fails here until it is documented
  const words: Record<string, RegExp> = {
    invalid_input: /invalid input/,
    config: /bad configuration/,
    not_found: /not found/,
    unknown_id: /unknown id/,
    conflict: /conflict/,
    unavailable: /unavailable/,
    blocked: /blocked/,
    unauthorized: /unauthorized/,
    forbidden: /forbidden/,
    rate_limited: /rate limited/,
  };
  assert.deepEqual([...errorCodes].sort(), Object.keys(words).sort());
  for (const k of errorCodes) {
    const n = exitCodeOf(k);
    assert.equal(exitCode(new DeepcutError(k, 'x')), n);
    assert.match(documented.get(n) ?? '', words[k], `exit ${n} (${k}) in the README: "${documented.get(n)}"`);
  }
  assert.match(documented.get(0)!, /^ok$/);
  assert.match(documented.get(1)!, /^internal error/);
  assert.equal(exitCode(new Error('bug')), 1);
});
