/**
 * Crash-test child for the bulk import: `tsx bulk-kill.testkit.ts '<OpenOptions JSON>' FILE STAGE`
 * imports FILE (Parquet when it ends `.parquet`, else deepcut jsonl; bulk on, the test clock) and kills itself with SIGKILL when the
 * import reaches STAGE (`staged`, `judged`, `inserted`, `quarantined`), or after the import
 * (`after`). The parent runs the import again and compares with a clean one.
 */
import { openStore } from '../store/index.ts';
import { importPath } from './import.ts';
import { NOW } from './bulk.testkit.ts';

const [optsJson, file, stage] = process.argv.slice(2);
const store = await openStore(JSON.parse(optsJson));
await importPath(store, file.endsWith('.parquet') ? 'parquet' : 'jsonl', file, {
  clock: () => NOW,
  bulk: 'on',
  entity: 'listens',
  onStage: (s) => {
    if (s.stage === stage) process.kill(process.pid, 'SIGKILL');
  },
});
if (stage === 'after') process.kill(process.pid, 'SIGKILL');
await store.close();
