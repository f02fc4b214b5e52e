/**
 * Run the server until SIGTERM/SIGINT: open the store (the serving process owns it), load the
 * published run (or the popularity fallback), listen, start the daily retrain when
 * `scheduler.enabled` (retrain.ts), and on a signal stop the retrain schedule (waiting for a running
 * retrain), stop accepting, finish in-flight requests and close the store. Used by
 * `deepcut serve` and `deepcut demo`.
 *
 * With a store that can notify (PostgreSQL: a fleet's API node, fleet.ts) the server listens at
 * once and loads the published run in the background (`/readyz` answers 503 until it serves it),
 * follows publications, and shares accepted listens with the other nodes.
 */
import type { Config } from '../config/config.ts';
import { openStore, canNotify } from '../store/index.ts';
import { buildServer } from './app.ts';
import { loadServingState } from '../serving/index.ts';
import { log } from '../log.ts';
import { startRetrainSchedule } from './retrain.ts';
import { impressionLogDir, recoverImpressionLogs } from '../bandit/index.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Scheduler } from '../pipeline/index.ts';
import { reapDeadRunsEverywhere } from '../pipeline/index.ts';
import { KeyVerifier } from './auth.ts';
import { publishLocalAdmin, withdrawLocalAdmin } from './local-admin.ts';
import { Catalog } from '../serving/index.ts';
import { ServingSlot } from './slot.ts';
import { FleetNode } from './fleet.ts';
import { Metrics } from './metrics.ts';

export interface RunServerOptions {
  port: number;
  host: string;
  auth: boolean;
  /** Called with the URL once listening. */
  onListening?: (url: string) => void;
  /** "Now" for playlists, the home page, reactions and the retrain (default: the system clock; the demo: its world's day). */
  clock?: Clock;
}

export async function runServer(config: Config, o: RunServerOptions): Promise<never> {
  const l = log('serve');
  if (!o.auth) l.warn('AUTH IS OFF (--no-auth): every request has read, ingest and admin scope. Local demo only; bound to 127.0.0.1.');
  const store = await openStore({ home: config.home, databaseUrl: config.databaseUrl });
  // once per process, not per loaded run: files a crashed server left open become loadable
  const logDir = impressionLogDir(config.home);
  const recovered = await recoverImpressionLogs(logDir);
  if (recovered) l.info({ files: recovered, dir: logDir }, 'closed impression logs left open by a stopped server');
  for (const m of await reapDeadRunsEverywhere(store, config.home)) l.warn({ run: m.runId, why: m.error }, 'pipeline run left running by a process that died: marked failed');
  let app: Awaited<ReturnType<typeof buildServer>> | undefined;
  let schedule: Scheduler | undefined;
  let fleet: FleetNode | undefined;
  try {
    const metrics = new Metrics(config.home, store);
    let slot: ServingSlot;
    if (canNotify(store)) {
      // an API node: answers (503 where a run is needed) while the published run loads
      slot = new ServingSlot({ recs: undefined, catalog: new Catalog() });
      fleet = new FleetNode({ store, config, slot, metrics });
    } else {
      const state = await loadServingState(store, config, { clock: o.clock });
      if (!state.recs) l.warn('no listens in the store and no published run: recommendation routes answer 503 until there are');
      else l.info({ model: state.recs.info }, 'serving model loaded');
      slot = new ServingSlot(state);
    }
    const verifier = new KeyVerifier(store);
    app = await buildServer({ store, state: slot.current, slot, config, auth: o.auth, verifier, metrics, clock: o.clock, ...(fleet ? { fleet } : {}) });
    const url = await app.listen({ port: o.port, host: o.host });
    l.info({ url }, 'listening');
    if (fleet) await fleet.start();
    else setImmediate(() => slot.current.warmUp?.());
    // `deepcut keys` on this machine manages keys through this server while it holds the store
    try {
      publishLocalAdmin(config.home, url, verifier);
    } catch (e) {
      l.warn({ err: e }, 'cannot write <home>/server.json: `deepcut keys` needs --server and an admin key while this server runs');
    }
    if (config.scheduler.enabled) {
      schedule = startRetrainSchedule(store, config, slot.current, { clock: o.clock ?? systemClock });
      l.info({ hour: config.scheduler.retrainHour, timeZone: config.scheduler.timeZone }, 'daily retrain scheduled');
    }
    o.onListening?.(url);
  } catch (e) {
    withdrawLocalAdmin(config.home);
    await fleet?.stop();
    await schedule?.stop();
    await app?.close();
    await store.close();
    throw e;
  }
  const server = app;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    l.info({ signal }, 'stopping: finishing in-flight requests');
    try {
      await fleet?.stop();
      await schedule?.stop();
      // in-flight requests get server.drainSeconds; then every connection still open is cut (a
      // client's idle preconnected socket would otherwise hold close() until Node times it out)
      const deadline = setTimeout(() => server.server.closeAllConnections(), config.server.drainSeconds * 1000);
      deadline.unref();
      await server.close();
    } finally {
      withdrawLocalAdmin(config.home);
      await store.close();
      l.info('stopped');
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return new Promise<never>(() => {});
}
