/**
 * Durability over a real port: listens acknowledged by `deepcut serve` survive a SIGKILL of the
 * server (embedded DuckDB store), and a restarted server answers from them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/index.ts';
import { play } from './testing/world.ts';
import { startServe } from './testing/serve.ts';


/** Start `deepcut serve --no-auth --port 0` and resolve with its URL. */
const startServer = (home: string) => startServe(home, ['serve', '--port', '0', '--no-auth']);

test('every acknowledged listen is in the store after the server is SIGKILLed mid-ingestion', { timeout: 60_000 }, async () => {
  const home = await mkdtemp(join(tmpdir(), 'deepcut-kill-'));
  try {
    const { proc, url } = await startServer(home);
    // listens name stored tracks (a listen of an unknown track is refused, as in file import)
    const put = (path: string, rows: unknown[]) => fetch(`${url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rows) });
    assert.equal((await put('/v1/artists', [{ artist_id: 'kr', name: 'Kill Radio' }])).status, 200);
    assert.equal((await put('/v1/tracks', Array.from({ length: 50 }, (_, i) => ({ track_id: `t${i}`, title: `Track ${i}`, artist_ids: ['kr'], duration_ms: 200_000, release_date: '2024-01-01' })))).status, 200);
    const acked: string[] = [];
    let batch = 0;
    let killed = false;
    const exited = new Promise((r) => proc.on('exit', r));
    // Several writers post batches of 200 until the kill; the kill lands while batches are in flight.
    const writer = async (w: number) => {
      while (!killed) {
        const listens = Array.from({ length: 200 }, (_, i) => play(`k${w}`, `t${i % 50}`, batch * 200 + i));
        batch++;
        try {
          const r = await fetch(`${url}/v1/listens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(listens) });
          if (r.status === 200) acked.push(...listens.map((l) => l.listen_id));
        } catch {
          /* connection cut by the kill: not acknowledged */
        }
      }
    };
    const writers = [0, 1, 2].map(writer);
    while (acked.length < 2_000) await new Promise((r) => setTimeout(r, 20));
    proc.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    await exited;
    assert.ok(acked.length >= 2_000);

    const store = await openStore({ home, readOnly: true });
    const stored = new Set((await store.list('listens')).map((l) => l.listen_id));
    await store.close();
    const lost = acked.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged listens lost`);

    // a restarted server answers from them
    const again = await startServer(home);
    const r = await fetch(`${again.url}/v1/users/k0/recommendations?k=3`);
    assert.equal(r.status, 200);
    const stop = new Promise((res) => again.proc.on('exit', res));
    again.proc.kill('SIGTERM');
    assert.equal(await stop, 0, 'graceful stop exits 0');
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
