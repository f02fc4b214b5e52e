/** The store's mirror of run manifests (run-list.ts lists it): written by the runner at each manifest write. */
import type { Store } from '../store/index.ts';
import type { RunManifest } from './runner.ts';
import { log } from '../log.ts';

/** The store's namespace of run manifests. */
export const RUNS_META = 'runs';

/** Mirror `m` into the store; a failed write is logged, not thrown (the run goes on; its folder has the manifest). */
export async function mirrorRun(store: Pick<Store, 'putMeta'> | undefined, m: RunManifest): Promise<void> {
  if (!store?.putMeta) return;
  try {
    await store.putMeta(RUNS_META, m.runId, m);
  } catch (e) {
    log('pipeline').warn({ run: m.runId, err: (e as Error).message }, 'could not mirror the run manifest into the store: other machines see it at the next write');
  }
}

