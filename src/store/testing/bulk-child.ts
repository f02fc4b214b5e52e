/**
 * Crash-test child for the store contract suite: `tsx bulk-child.ts '<OpenOptions JSON>' BATCHES SIZE`
 * bulk loads BATCHES batches of SIZE synthetic listens and prints `committed K` on stdout each time
 * K batches are known to be committed (bulkPut pulls batch K+1 only after batch K committed).
 * The parent SIGKILLs it part way and checks what survived.
 */
import { openStore } from '../open.ts';
import { syntheticListens } from './data.ts';
import type { Listen } from '../../domain/schemas.ts';

const [optsJson, batchesArg, sizeArg] = process.argv.slice(2);
const batches = Number(batchesArg);
const size = Number(sizeArg);
const store = await openStore(JSON.parse(optsJson));

function* reporting(): Generator<Listen[]> {
  let k = 0;
  for (const b of syntheticListens(batches * size, size, { seed: 7 })) {
    if (k > 0) process.stdout.write(`committed ${k}\n`);
    k++;
    yield b;
  }
}
await store.bulkPut('listens', reporting());
process.stdout.write(`committed ${batches}\ndone\n`);
await store.close();
