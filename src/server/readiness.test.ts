import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildServer } from './app.ts';
import { MemoryStore } from '../store/testing/memory.ts';
import { seedWorld } from './testing/world.ts';
import { WriteProbe, PROBE_NS } from './readiness.ts';

test('/readyz is 503 naming the cause while every store write fails, and ready once writes work', async () => {
  const store = new MemoryStore();
  const { state, config } = await seedWorld(store);
  config.home = '/nonexistent-deepcut-home';
  store.failWrites = new Error('IO Error: No space left on device');
  const app = await buildServer({ store, state, config });
  try {
    const r = await app.inject('/readyz');
    assert.equal(r.statusCode, 503);
    assert.deepEqual(r.json(), { error: { code: 'unavailable', message: 'not ready: the store refuses writes (IO Error: No space left on device)' } });
    assert.equal((await app.inject('/healthz')).statusCode, 200, 'alive all the same');
  } finally {
    await app.close();
  }
  // on a store that takes writes it is ready, and the probe left its mark
  const good = new MemoryStore();
  const again = await buildServer({ store: good, state, config });
  try {
    const r = await again.inject('/readyz');
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().status, 'ready');
    assert.equal(((await good.getMeta<{ pid: number }>(PROBE_NS, 'write_probe')) ?? { pid: -1 }).pid, process.pid);
  } finally {
    await again.close();
  }
});

test('the write probe writes at most once per ttl, shares a write in flight, and sees a store recover', async () => {
  const store = new MemoryStore();
  let writes = 0;
  const put = store.putMeta.bind(store);
  store.putMeta = async (ns, key, value) => {
    writes++;
    return put(ns, key, value);
  };
  let now = 0;
  const probe = new WriteProbe(store, 5_000, () => now);
  const [a, b] = await Promise.all([probe.refused(), probe.refused()]);
  assert.equal(a, undefined);
  assert.equal(b, undefined);
  assert.equal(writes, 1, 'two checks at once: one write');
  store.failWrites = new Error('read-only file system');
  now = 4_999;
  assert.equal(await probe.refused(), undefined, 'cached within the ttl');
  assert.equal(writes, 1);
  now = 5_000;
  assert.equal(await probe.refused(), 'read-only file system');
  store.failWrites = undefined;
  now = 9_999;
  assert.equal(await probe.refused(), 'read-only file system', 'a refusal is cached too');
  now = 10_000;
  assert.equal(await probe.refused(), undefined);
});
