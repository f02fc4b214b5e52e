/** Seeded bytes for the artifact tests and bench: the same objects on every run. */
import { createHash } from 'node:crypto';
import { Rng } from '../../util/rng.ts';

/** `total` seeded bytes in chunks of `chunk` bytes, made as they are read. */
export async function* seededBytes(seed: number, total: number, chunk = 1 << 20): AsyncGenerator<Buffer> {
  const rng = new Rng(seed);
  for (let done = 0; done < total; done += chunk) {
    const n = Math.min(chunk, total - done);
    const b = Buffer.allocUnsafe(n + 3);
    for (let i = 0; i < n; i += 4) b.writeUInt32LE(rng.nextU32(), i);
    yield b.subarray(0, n);
  }
}

/** SHA-256 and size of a stream, read to its end. */
export async function digest(s: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of s) {
    h.update(c);
    size += c.length;
  }
  return { sha256: h.digest('hex'), size };
}

