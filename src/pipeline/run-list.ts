/**
 * Runs as every machine of a fleet sees them: the runner mirrors each run's manifest into the
 * store (`meta`, namespace `runs`) whenever it rewrites it (each step, each heartbeat), so the
 * admin page of any API node, `deepcut pipeline runs` anywhere and a scheduler on another host list
 * the same runs, and find runs whose process died, without the builder's `<home>/runs` folder.
 * The builder's own folder stays the working copy of the runs it builds: where it holds a
 * manifest, that one is listed (it is written first), unless it still says running where the
 * store's has moved on: another machine took the run over (a standby scheduler) or marked it dead.
 */
import type { Store } from '../store/index.ts';
import { latestRun, listRuns, type RunManifest } from './runner.ts';
import { mirrorRun, RUNS_META } from './run-mirror.ts';
import { deadOwner, markDead, reapDeadRuns, type LivenessOptions } from './liveness.ts';

/**
 * Every run, oldest first: the store's manifests and this machine's folder's, one per run (see the
 * file comment for which). Without a store (an embedded home whose DuckDB file a server holds), the folder's.
 */
export async function listAllRuns(store: Pick<Store, 'listMeta'> | undefined, home: string): Promise<RunManifest[]> {
  const byId = new Map<string, RunManifest>();
  if (store) for (const { key, value } of await store.listMeta<RunManifest>(RUNS_META)) byId.set(key, value);
  for (const m of await listRuns(home)) byId.set(m.runId, preferred(m, byId.get(m.runId)));
  return [...byId.values()].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
}

/**
 * The newest run as {@link listAllRuns} would list it last, reading only this machine's newest
 * manifest and the store's mirror (a metrics scrape on an API node, whose folder holds no run).
 */
export async function latestOfAllRuns(store: Pick<Store, 'listMeta'> | undefined, home: string): Promise<RunManifest | undefined> {
  const local = await latestRun(home);
  let mirrored: RunManifest | undefined;
  if (store) for (const { value } of await store.listMeta<RunManifest>(RUNS_META)) if (!mirrored || value.runId > mirrored.runId) mirrored = value;
  if (!local || !mirrored) return local ?? mirrored;
  return local.runId === mirrored.runId ? preferred(local, mirrored) : local.runId > mirrored.runId ? local : mirrored;
}

/**
 * Of one run's two manifests, the folder's copy, unless it still says running where the store's
 * has moved on (another machine took the run over, or marked its owner dead).
 */
function preferred(folder: RunManifest, mirrored: RunManifest | undefined): RunManifest {
  return mirrored && folder.status === 'running' && mirrored.status !== 'running' ? mirrored : folder;
}

/**
 * Mark failed the runs whose process died, in this machine's folder ({@link reapDeadRuns}) and in
 * the store's mirror (an owner on another host is judged by its heartbeat); returns them.
 */
export async function reapDeadRunsEverywhere(store: Pick<Store, 'listMeta' | 'putMeta'> | undefined, home: string, o: LivenessOptions = {}): Promise<RunManifest[]> {
  const out = new Map((await reapDeadRuns(home, o)).map((m) => [m.runId, m]));
  if (!store) return [...out.values()];
  const now = o.now ?? new Date();
  for (const { value: m } of await store.listMeta<RunManifest>(RUNS_META)) {
    const reaped = out.get(m.runId);
    if (reaped) {
      await mirrorRun(store, reaped);
      continue;
    }
    const why = deadOwner(m, new Date(m.owner?.heartbeatAt ?? m.createdAt), { ...o, now });
    if (!why) continue;
    out.set(m.runId, markDead(m, why, now));
    await mirrorRun(store, m);
  }
  return [...out.values()].sort((a, b) => (a.runId < b.runId ? -1 : 1));
}
