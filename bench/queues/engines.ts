/**
 * The three queue engines behind one small driver, for bench/queue-engines.bench.ts and its
 * killed-worker child: enqueue many, run a worker with a concurrency, stop, and clean up what the
 * bench made (a queue / schema / key prefix of its own per run, on the machine's Redis and
 * PostgreSQL). Each engine is configured for fast crash recovery where it offers a knob.
 */
import { Queue, Worker } from 'bullmq';
import PgBoss from 'pg-boss';
import { run, makeWorkerUtils, Logger, type Runner } from 'graphile-worker';
import pg from 'pg';

export type EngineName = 'bullmq' | 'pg-boss' | 'graphile-worker';
export const ENGINES: EngineName[] = ['bullmq', 'pg-boss', 'graphile-worker'];

export const REDIS = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Seconds after which each engine treats a started task of a silent worker as lost (its lease). */
export const LEASE_S = 10;

export interface Driver {
  enqueue(payloads: object[]): Promise<void>;
  /** Run `handler` for each task, `concurrency` at a time; resolves when the worker is ready. */
  work(concurrency: number, handler: (payload: Record<string, unknown>) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /** Remove the queue, schema or keys (call once, from the process that made them). */
  drop(): Promise<void>;
}

/** A driver for `engine` on queue/namespace `ns` (letters, digits, underscore). */
export async function driver(engine: EngineName, ns: string): Promise<Driver> {
  if (engine === 'bullmq') {
    const prefix = `deepcut_bench_${ns}`;
    const q = new Queue('tasks', { connection: REDIS, prefix });
    const workers: Worker[] = [];
    return {
      async enqueue(ps) {
        for (let i = 0; i < ps.length; i += 500) await q.addBulk(ps.slice(i, i + 500).map((data) => ({ name: 't', data, opts: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true } })));
      },
      async work(concurrency, handler) {
        const w = new Worker('tasks', async (job) => handler(job.data as Record<string, unknown>), { connection: REDIS, prefix, concurrency, lockDuration: LEASE_S * 1000, stalledInterval: (LEASE_S * 1000) / 2 });
        workers.push(w);
        await w.waitUntilReady();
      },
      async stop() {
        await Promise.all(workers.map((w) => w.close(true)));
        await q.close();
      },
      async drop() {
        const c = new Queue('tasks', { connection: REDIS, prefix });
        await c.obliterate({ force: true });
        await c.close();
      },
    };
  }
  if (engine === 'pg-boss') {
    const schema = `deepcut_bench_pgboss_${ns}`;
    const boss = new PgBoss({ connectionString: PG_URL, schema, maintenanceIntervalSeconds: 1, monitorStateIntervalSeconds: 1, supervise: true, max: 8 });
    boss.on('error', () => undefined);
    await boss.start();
    await boss.createQueue('tasks').catch(() => undefined);
    return {
      async enqueue(ps) {
        for (let i = 0; i < ps.length; i += 500) await boss.insert(ps.slice(i, i + 500).map((data) => ({ name: 'tasks', data, retryLimit: 2, retryDelay: 1, retryBackoff: true, expireInSeconds: LEASE_S })));
      },
      async work(concurrency, handler) {
        // pg-boss 10 runs one fetch loop per work() call: one loop per slot of concurrency
        for (let i = 0; i < concurrency; i++) await boss.work<Record<string, unknown>>('tasks', { pollingIntervalSeconds: 0.5, batchSize: 1 }, async ([job]) => handler(job.data));
      },
      async stop() {
        await boss.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => undefined);
      },
      async drop() {
        await dropSchema(schema);
      },
    };
  }
  const schema = `deepcut_bench_gw_${ns}`;
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema });
  await utils.migrate();
  const runners: Runner[] = [];
  return {
    async enqueue(ps) {
      for (let i = 0; i < ps.length; i += 100) await Promise.all(ps.slice(i, i + 100).map((p) => utils.addJob('t', p, { maxAttempts: 3 })));
    },
    async work(concurrency, handler) {
      runners.push(await run({ connectionString: PG_URL, schema, concurrency, noHandleSignals: true, pollInterval: 500, taskList: { t: async (p) => handler(p as Record<string, unknown>) }, logger: quietLogger() }));
    },
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
      await utils.release();
    },
    async drop() {
      await dropSchema(schema);
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}

/** graphile-worker's logger, silenced: the bench prints only its figures. */
const quietLogger = () => new Logger(() => () => undefined);
