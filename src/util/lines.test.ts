import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonArray, readLines, sniffJson, type Frame } from './lines.ts';

const dir = mkdtempSync(join(tmpdir(), 'deepcut-lines-'));
let n = 0;
const fixture = (content: string | Buffer) => {
  const f = join(dir, `f${n++}`);
  writeFileSync(f, content);
  return f;
};
async function all(it: AsyncGenerator<Frame[]>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

test('lines: BOM stripped, CRLF and LF ends, blank lines kept for numbering, no final newline', async () => {
  const f = fixture(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b\r\n\r\nc\nd')]));
  const lines = await all(readLines(f));
  assert.deepEqual(lines.map((l) => [l.line, l.text]), [[1, 'a,b'], [2, ''], [3, 'c'], [4, 'd']]);
});

test('lines: records split across tiny chunks come back whole, multi-byte characters intact', async () => {
  const f = fixture('héllo wörld\nzweite Zeile 🎵\n');
  const lines = await all(readLines(f, { chunkBytes: 3 }));
  assert.deepEqual(lines.map((l) => l.text), ['héllo wörld', 'zweite Zeile 🎵']);
});

test('lines: a 10 MB line is reported (not kept) and the lines after it still come', async () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const f = fixture(`first\n{"a":"${big}"}\nlast\n`);
  const lines = await all(readLines(f));
  assert.equal(lines.length, 3);
  assert.equal(lines[1].line, 2);
  assert.equal(lines[1].issue?.code, 'line_too_long');
  assert.match(lines[1].issue!.reason, /^record is 10,485,768 bytes, over the limit of 1,048,576/);
  assert.equal(lines[1].text.length, 200);
  assert.deepEqual([lines[0].text, lines[2].text], ['first', 'last']);
});

test('lines: Latin-1 bytes in a UTF-8 file are an encoding issue; latin1 and auto decode them', async () => {
  const f = fixture(Buffer.concat([Buffer.from('ok\n'), Buffer.from([0x42, 0x6a, 0xf6, 0x72, 0x6b]), Buffer.from('\nreal \ufffd kept\n')]));
  const strict = await all(readLines(f));
  assert.equal(strict[1].issue?.code, 'encoding');
  assert.match(strict[1].issue!.reason, /not valid UTF-8 \(byte 0xf6 at offset 2\)/);
  assert.equal(strict[1].text, 'Björk');
  assert.equal(strict[2].issue, undefined, 'a real U+FFFD in the data is not an encoding error');
  const latin1 = await all(readLines(f, { encoding: 'latin1' }));
  assert.equal(latin1[1].text, 'Björk');
  const auto = await all(readLines(f, { encoding: 'auto' }));
  assert.deepEqual(auto.map((l) => [l.text, l.issue]), [['ok', undefined], ['Björk', undefined], ['real \ufffd kept', undefined]]);
});

test('json array: objects with their start lines, nested braces and escaped quotes inside strings', async () => {
  const f = fixture('[\n  {"a": "}{\\"", "b": [1, {"c": 2}]},\n  {"a": 2}\n]\n');
  for (const chunkBytes of [1, 5, 1 << 20]) {
    const frames = await all(readJsonArray(f, { chunkBytes }));
    assert.deepEqual(frames.map((x) => [x.line, JSON.parse(x.text)]), [[2, { a: '}{"', b: [1, { c: 2 }] }], [3, { a: 2 }]]);
  }
});

test('json array: a truncated file yields the complete objects, then a truncated issue at the broken one', async () => {
  const f = fixture('[\n{"a":1},\n{"a":2},\n{"a":3, "b": "unfinis');
  const frames = await all(readJsonArray(f, { chunkBytes: 4 }));
  assert.deepEqual(frames.slice(0, 2).map((x) => x.text), ['{"a":1}', '{"a":2}']);
  assert.equal(frames[2].line, 4);
  assert.equal(frames[2].issue?.code, 'truncated');
  const missingBracket = await all(readJsonArray(fixture('[{"a":1},\n{"a":2}\n')));
  assert.equal(missingBracket.length, 3);
  assert.equal(missingBracket[2].issue?.code, 'truncated');
});

test('json array: not an array, an empty file, a BOM', async () => {
  const notArray = await all(readJsonArray(fixture('{"a":1}')));
  assert.equal(notArray[0].issue?.code, 'invalid_json');
  assert.deepEqual(await all(readJsonArray(fixture(''))), []);
  const bom = await all(readJsonArray(fixture(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"a":1}]')]))));
  assert.deepEqual(bom.map((x) => x.text), ['{"a":1}']);
  assert.equal(await sniffJson(fixture('  [ {}]')), 'array');
  assert.equal(await sniffJson(fixture('{"a":1}\n')), 'lines');
  assert.equal(await sniffJson(fixture('\n\n')), 'empty');
});

test('a .gz file reads as its uncompressed lines (and JSON array); a missing or corrupt one rejects instead of hanging', async () => {
  const { gzipSync } = await import('node:zlib');
  const gz = join(dir, `g${n++}.jsonl.gz`);
  writeFileSync(gz, gzipSync('{"a":1}\r\n\n{"b":2}\n'));
  const lines: Frame[] = [];
  for await (const b of readLines(gz, { chunkBytes: 4 })) lines.push(...b);
  assert.deepEqual(lines.map((f) => [f.line, f.text]), [[1, '{"a":1}'], [2, ''], [3, '{"b":2}']]);
  const arr = join(dir, `g${n++}.json.gz`);
  writeFileSync(arr, gzipSync('[{"a":1},{"b":2}]'));
  const objs: string[] = [];
  for await (const b of readJsonArray(arr)) objs.push(...b.map((f) => f.text));
  assert.deepEqual(objs, ['{"a":1}', '{"b":2}']);
  await assert.rejects(async () => {
    for await (const _ of readLines(join(dir, 'missing.csv.gz'))) void _;
  }, /ENOENT/);
  const bad = join(dir, `g${n++}.csv.gz`);
  writeFileSync(bad, 'not gzip at all');
  await assert.rejects(async () => {
    for await (const _ of readLines(bad)) void _;
  }, /incorrect header check/);
});
