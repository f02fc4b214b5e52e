/**
 * A local S3 endpoint for tests and benches: s3rver (from npm) in a child process on 127.0.0.1,
 * port 0, storing in a temporary folder, with one bucket (a process of its own, so its memory and
 * CPU are not the store's); and a TCP proxy in front of it that can cut connections after a number
 * of response bytes (the fault tests' broken network). Both stop on `stop()`/`close()`; the child
 * also exits when its parent dies (its stdin closes).
 */
import { spawn } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Credentials s3rver accepts (it checks none); passed to the store, never read from the environment. */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const S3_TEST_BUCKET = 'deepcut-test';

export interface LocalS3 {
  port: number;
  endpoint: string;
  /** Folder where s3rver keeps the objects. */
  dir: string;
  /** `s3://bucket/prefix?endpoint=…` for a store on this endpoint (or on `port`, e.g. a proxy's). */
  url(prefix: string, port?: number): string;
  stop(): Promise<void>;
}

const CHILD = `
import S3rver from 's3rver';
const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: process.argv[1], configureBuckets: [{ name: process.argv[2] }] });
const { port } = await server.run();
console.log(JSON.stringify({ port }));
const stop = async () => { await server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.stdin.on('end', stop).on('error', stop).resume();
`;

export async function startS3(): Promise<LocalS3> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-s3-'));
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, dir, S3_TEST_BUCKET], { stdio: ['pipe', 'pipe', 'inherit'], cwd: new URL('../../..', import.meta.url).pathname });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`s3rver exited with code ${code} before it listened`)));
    createInterface({ input: child.stdout! }).once('line', (l) => ok((JSON.parse(l) as { port: number }).port));
  });
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    dir,
    url: (prefix, p = port) => `s3://${S3_TEST_BUCKET}/${prefix}?endpoint=${encodeURIComponent(`http://127.0.0.1:${p}`)}&region=us-east-1`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(hard);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CuttingProxy {
  port: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Cut the next `times` connections whose responses pass `afterBytes` bytes (then pass everything again). */
  cut(afterBytes: number, times: number): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `targetPort` that cuts connections on demand (see {@link CuttingProxy.cut}). */
export async function cuttingProxy(targetPort: number): Promise<CuttingProxy> {
  let plan = { afterBytes: Infinity, times: 0 };
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let down = 0;
    client.on('data', (c) => upstream.write(c));
    upstream.on('data', (c: Buffer) => {
      if (plan.times > 0 && down + c.length > plan.afterBytes) {
        client.write(c.subarray(0, Math.max(0, plan.afterBytes - down)));
        plan.times--;
        cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      down += c.length;
      if (!client.write(c)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    get cuts() {
      return cuts;
    },
    cut(afterBytes, times) {
      plan = { afterBytes, times };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
