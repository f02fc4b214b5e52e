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
