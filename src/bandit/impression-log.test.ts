import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImpressionLog, StoreImpressionWriter, loadImpressionLogs, recoverImpressionLogs } from './impression-log.ts';
import { DuckDbStore } from '../store/duckdb.ts';
import type { Impression } from '../domain/schemas.ts';
import { eventually } from '../util/poll.testkit.ts';

const imp = (request: string, slot: number): Impression => ({ request_id: request, user_id: 'u1', shelf: 'made-for-you', card: `t${slot}`, slot, policy: 'uniform', propensity: 0.5, shown_at: '2026-11-20T21:30:00Z' });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-implog-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the log appends JSON lines to an open file; flush closes it as .jsonl and the next append starts another', () =>
  withDir(async (dir) => {
    const l = new ImpressionLog(join(dir, 'logs'));
    l.append([imp('r1', 0), imp('r1', 1)]);
    l.append([]);
    l.append([imp('r2', 0)]);
    await eventually(() => readdirSync(join(dir, 'logs')).length === 1, 'the open log file');
    const open = readdirSync(join(dir, 'logs'));
    assert.equal(open.length, 1);
    assert.match(open[0], new RegExp(`^impressions-\\d{8}T\\d{6}Z-${process.pid}-0\\.jsonl\\.open$`));
    await l.flush();
    const closed = readdirSync(join(dir, 'logs'));
    assert.deepEqual(closed, [open[0].replace(/\.open$/, '')]);
    const lines = readFileSync(join(dir, 'logs', closed[0]), 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines.map((x) => JSON.parse(x)), [imp('r1', 0), imp('r1', 1), imp('r2', 0)]);
    l.append([imp('r3', 0)]);
    await l.close();
    assert.equal(readdirSync(join(dir, 'logs')).filter((n) => n.endsWith('.jsonl')).length, 2);
    await l.flush(); // nothing open: a no-op
  }));

test('loading puts closed files into the store, quarantines torn lines with file and line, deletes loaded files, skips open ones', () =>
  withDir(async (dir) => {
    const logs = join(dir, 'logs');
    const l = new ImpressionLog(logs);
    l.append([imp('r1', 0), imp('r1', 1)]);
    await l.flush();
    const torn = join(logs, 'impressions-20261120T000000Z-1-0.jsonl');
    writeFileSync(torn, `${JSON.stringify(imp('r2', 0))}\n\n${JSON.stringify({ ...imp('r2', 1), propensity: 2 })}\n{"request_id":"r2","us`);
    l.append([imp('r9', 0)]); // still open: not loaded
    await eventually(() => readdirSync(logs).some((n) => n.endsWith('.open')), 'the open log file');
    const store = await DuckDbStore.open({ home: join(dir, 'store') });
    try {
      const got = await loadImpressionLogs(store, logs, { batch: 1 });
      assert.deepEqual(got, { files: 2, rows: 5, inserted: 3, duplicates: 0, quarantined: 2 });
      assert.equal(await store.count('impressions'), 3);
      const q = await store.listQuarantine();
      assert.deepEqual(q.map((r) => [r.file, r.line, r.field, r.code]), [
        [torn, 3, 'propensity', 'malformed'],
        [torn, 4, null, 'malformed'],
      ]);
      assert.match(q[1].reason, /^not JSON/);
      assert.deepEqual(readdirSync(logs).filter((n) => !n.endsWith('.open')), []);
      // the open file, once closed, loads; loading a row twice (a crash before the delete) adds nothing
      await l.flush();
      const again = readdirSync(logs)[0];
      writeFileSync(join(logs, again), readFileSync(join(logs, again), 'utf8') + `${JSON.stringify(imp('r1', 0))}\n`);
      assert.deepEqual(await loadImpressionLogs(store, logs), { files: 1, rows: 2, inserted: 1, duplicates: 1, quarantined: 0 });
      assert.deepEqual(await loadImpressionLogs(store, join(dir, 'missing')), { files: 0, rows: 0, inserted: 0, duplicates: 0, quarantined: 0 });
    } finally {
      await l.close();
      await store.close();
    }
  }));

test('recovery closes files left open by a dead process, never a live one', () =>
  withDir(async (dir) => {
    // pid 2^22+1 is above Linux's pid_max: no such process
    const dead = `impressions-20261120T000000Z-${2 ** 22 + 1}-0.jsonl.open`;
    const mine = `impressions-20261120T000000Z-${process.pid}-0.jsonl.open`;
    const parent = `impressions-20261120T000000Z-${process.ppid}-0.jsonl.open`;
    for (const n of [dead, mine, parent]) writeFileSync(join(dir, n), '');
    assert.equal(await recoverImpressionLogs(dir), 1);
    assert.deepEqual(readdirSync(dir).sort(), [dead.replace(/\.open$/, ''), mine, parent].sort());
    assert.equal(await recoverImpressionLogs(join(dir, 'missing')), 0);
  }));

test('a write error (the folder removed) loses that file only: flush does not hang, the next append writes a new file', () =>
  withDir(async (dir) => {
    const logs = join(dir, 'logs');
    const l = new ImpressionLog(logs);
    rmSync(logs, { recursive: true });
    l.append([imp('r1', 0)]);
    await new Promise((r) => setTimeout(r, 50)); // the open fails asynchronously
    await l.flush();
    mkdirSync(logs);
    l.append([imp('r2', 0)]);
    await l.close();
    const files = readdirSync(logs);
    assert.equal(files.length, 1);
    assert.deepEqual(JSON.parse(readFileSync(join(logs, files[0]), 'utf8')), imp('r2', 0));
  }));

test('store writer: a delay timer that finds nothing left (a full batch took it all) does not stop later writes', async () => {
  const writes: number[] = [];
  const w = new StoreImpressionWriter({ put: async (_k: string, r: readonly unknown[]) => (writes.push(r.length), { inserted: r.length, duplicates: 0 }) }, 30);
  const rows = (n: number, from: number) => Array.from({ length: n }, (_, i) => imp(`r${from + i}`, 0));
  w.append(rows(900, 0)); // starts the delay timer
  w.append(rows(100, 900)); // a full batch: written now, nothing left
  await new Promise((r) => setTimeout(r, 80)); // the timer fires on an empty buffer
  assert.deepEqual(writes, [1000]);
  w.append(rows(10, 1000));
  await eventually(() => writes.length === 2, 'the write of the next rows after the delay, without flush');
  assert.deepEqual(writes, [1000, 10]);
  w.append(rows(5, 2000));
  await w.flush();
  assert.deepEqual(writes, [1000, 10, 5]);
});

test('store writer, durable: each page resolves once its rows are committed; pages that wait share a write; a failed write rejects its pages only', async () => {
  const writes: string[][] = [];
  let release: (() => void) | undefined;
  let fail = false;
  const w = new StoreImpressionWriter({
    put: async (_k: string, r: readonly unknown[]) => {
      writes.push((r as { request_id: string }[]).map((x) => x.request_id));
      if (writes.length === 1) await new Promise<void>((res) => (release = res));
      if (fail) throw new Error('connection reset');
      return { inserted: r.length, duplicates: 0 };
    },
  });
  const done: string[] = [];
  const page = (id: string) => w.durable([imp(id, 0), imp(id, 1)]).then(() => void done.push(id));
  const p1 = page('p1');
  await eventually(() => release !== undefined, 'the first write started at once');
  const p2 = page('p2');
  const p3 = page('p3');
  assert.deepEqual(done, [], 'nothing resolves before its commit');
  release!();
  await Promise.all([p1, p2, p3]);
  assert.deepEqual(writes, [['p1', 'p1'], ['p2', 'p2', 'p3', 'p3']], 'p2 and p3 waited together: one write');
  assert.deepEqual(done, ['p1', 'p2', 'p3']);
  fail = true;
  await assert.rejects(w.durable([imp('p4', 0)]), /connection reset/);
  fail = false;
  await w.durable([imp('p5', 0)]);
});
