import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCsv } from './csv.ts';

test('csv: quotes, doubled quotes, delimiters inside quotes, an open quote', () => {
  assert.deepEqual(splitCsv('a,"b, c","say ""hi""",'), ['a', 'b, c', 'say "hi"', '']);
  assert.deepEqual(splitCsv('a\tb', '\t'), ['a', 'b']);
  assert.equal(splitCsv('a,"open'), undefined);
});
