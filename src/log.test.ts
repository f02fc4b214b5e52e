import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logFormatFor, loggerTo, textLine } from './log.ts';

test('a terminal gets text logs; --json, files and pipes get JSON lines', () => {
  assert.equal(logFormatFor({ json: false, isTTY: true }), 'text');
  assert.equal(logFormatFor({ json: true, isTTY: true }), 'json');
  assert.equal(logFormatFor({ json: false, isTTY: false }), 'json');
});

test('text logs read as one line per record: time, level, component, message, fields', () => {
  const out: string[] = [];
  const l = loggerTo((s) => out.push(s), 'text').child({ component: 'serve' });
  l.warn({ port: 8080, url: 'http://127.0.0.1:8080', note: 'two words' }, 'AUTH IS OFF');
  l.error({ err: new Error('disk full') }, 'could not write');
  assert.equal(out.length, 2);
  assert.match(out[0], /^\d\d:\d\d:\d\d WARN  serve: AUTH IS OFF port=8080 url=http:\/\/127\.0\.0\.1:8080 note="two words"\n$/);
  assert.match(out[1], /^\d\d:\d\d:\d\d ERROR serve: could not write \(disk full\)\n$/);
  assert.ok(!out.join('').includes('{"level"'), 'no raw JSON on a terminal');
  const json: string[] = [];
  loggerTo((s) => json.push(s), 'json').info({ rows: 3 }, 'loaded');
  assert.equal(JSON.parse(json[0]).rows, 3);
  assert.equal(textLine('not json'), 'not json\n');
});
