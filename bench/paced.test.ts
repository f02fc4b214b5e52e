import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { paced } from './paced.ts';

/** A server that answers each request after `delayMs`, with 500 for paths containing "bad". */
async function server(delayMs: number): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const s = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    setTimeout(() => {
      res.statusCode = req.url?.includes('bad') ? 500 : 200;
      res.end('ok');
    }, delayMs);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, paths, close: () => new Promise((r) => s.close(() => r())) };
}

test('paced sends rate × seconds requests after the warm-up, and counts non-2xx as errors', async () => {
  const s = await server(0);
  try {
    const r = await paced({ url: s.url, rate: 100, seconds: 0.5, warmupSeconds: 0.2, path: (i) => (i % 10 === 0 ? `/bad/${i}` : `/ok/${i}`) });
    // Requests due in the same tick (after a stall of the generator) travel on different sockets and
    // may arrive in any order: the server must have seen each path once, whatever the order.
    const expected = Array.from({ length: 70 }, (_, i) => (i % 10 === 0 ? `/bad/${i}` : `/ok/${i}`));
    assert.deepEqual([...s.paths].sort(), expected.sort());
    assert.equal(r.sent, 50);
    // Requests 20..69 are measured; 20, 30, …, 60 are bad.
    assert.equal(r.errors, 5);
    assert.equal(r.ok, 45);
    assert.ok(r.p50_ms <= r.p90_ms && r.p90_ms <= r.p99_ms && r.p99_ms <= r.max_ms);
  } finally {
    await s.close();
  }
});

test('latency counts from each due time, so a server that falls behind shows it (no coordinated omission)', async () => {
  // One socket, a 30 ms answer, a request due every 20 ms: each request waits longer than the last.
  // 25 requests take ≥ 750 ms to serve but are all due within 500 ms, so the last waits ≥ 250 ms;
  // a closed-loop client would have reported about 30 ms for every one.
  const s = await server(30);
  try {
    const r = await paced({ url: s.url, rate: 50, seconds: 0.5, warmupSeconds: 0, sockets: 1, path: (i) => `/${i}` });
    assert.equal(r.sent, 25);
    assert.ok(r.p50_ms >= 30, `p50 ${r.p50_ms}`);
    assert.ok(r.max_ms >= 250, `max ${r.max_ms}`);
  } finally {
    await s.close();
  }
});
