/**
 * One typed configuration, validated once at start. Sources, later ones winning:
 * defaults → `deepcut.config.json` (or `--config FILE`) → environment → command-line flags.
 * Every key has an environment variable named after its path: `cf.factors` ↔ `DEEPCUT_CF_FACTORS`
 * (`DEEPCUT_HOME` and `DATABASE_URL` are the two short ones). Errors name the key, where the value
 * came from, and the expected form.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DeepcutError } from '../errors.ts';

const positiveInt = z.number().int().positive();
const fraction = z.number().min(0).max(1);

export const ConfigSchema = z
  .strictObject({
    /** Folder for the embedded store, pipeline runs and artifacts. */
    home: z.string().min(1).default('./.deepcut'),
    /** PostgreSQL URL; when set, the store is PostgreSQL instead of the embedded DuckDB. */
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres://user@host:port/db').optional(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    signals: z
      .strictObject({
        /** A stream this long or longer is interest (Spotify counts a stream at 30 s). */
        minStreamMs: positiveInt.default(30_000),
        /** A stream shorter than this, or flagged skipped, is a quick skip: negative evidence. */
        quickSkipMs: positiveInt.default(10_000),
        /** Confidence c = 1 + alpha·log(1 + plays/epsilon) (Hu, Koren, Volinsky 2008, eq. 6). */
        alpha: z.number().positive().default(1),
        epsilon: z.number().positive().default(1),
      })
      .check((c) => {
        // a listen shorter than quickSkipMs is a skip: with quickSkipMs > minStreamMs a stream would also be a skip
        if (c.value.quickSkipMs > c.value.minStreamMs)
          c.issues.push({ code: 'custom', input: c.value, path: ['quickSkipMs'], message: `signals.quickSkipMs (${c.value.quickSkipMs}) must not exceed signals.minStreamMs (${c.value.minStreamMs}): a listen cannot be both a quick skip and a stream` });
      })
      .prefault({}),
    cf: z
      .strictObject({
        factors: positiveInt.max(1024).default(64),
        iterations: positiveInt.max(1000).default(15),
        regularization: z.number().nonnegative().default(0.05),
        cgSteps: positiveInt.max(64).default(3),
        threads: positiveInt.max(256).default(2),
        seed: z.number().int().default(42),
        /**
         * The family that ranks recommendations (ALS always keeps the factor space): `auto` picks
         * the best of ALS, EASE^R, item-kNN and `blend` (EASE^R + item-kNN) on the time-ordered validation split. Default ALS:
         * on the demo world's held-out week `auto` (EASE^R, 30-day decay) lowered Discover Weekly's
         * hit rate from 0.500 to 0.476 and made the cf step 20× slower (docs/recommendations.md).
         */
        model: z.enum(['auto', 'als', 'ease', 'itemknn', 'blend']).default('als'),
        /** Half-life in days of the confidence decay (0: none), or `auto`: chosen on validation between 0 and 30. */
        halfLifeDays: z.union([z.literal('auto'), z.number().nonnegative()]).default(0),
        /**
         * The long-tail dial: the share of every block of 10 places given to long-tail tracks (outside
         * the 80% head); 0: off. 0.15, chosen on HetRec's curve (docs/recommendations.md): long-tail
         * share 0.150, coverage 0.161 at −4.0% NDCG@10. The ranking stage keeps its own quota.
         */
        tailShare: fraction.default(0.15),
        /** EASE^R's ridge λ. */
        easeLambda: z.number().positive().default(300),
        /** EASE^R is a candidate only when min(listeners, tracks) is at most this (it keeps a dense side²). */
        easeMaxSide: positiveInt.default(6000),
      })
      .prefault({}),
    rank: z
      .strictObject({
        /** The learned ranking stage over several candidate sources (the pipeline's `rank` step); false: recommendations are the CF model's. */
        enabled: z.boolean().default(true),
        /** The validation period: the ranker learns which unheard tracks listeners streamed in the last this many days, from the listens before. */
        validationDays: positiveInt.max(365).default(7),
        /** Each candidate source's proposals per listener. */
        depth: positiveInt.max(1000).default(60),
        /** The smallest long-tail share (tracks of artists outside the top 20%) the chosen tail dial must keep on validation. */
        minTailShare: fraction.default(0.3),
      })
      .prefault({}),
    validation: z
      .strictObject({
        /** L-infinity distance between a categorical feature's distributions of two batches. */
        maxCategoricalDrift: fraction.default(0.2),
        /** Jensen–Shannon divergence (base 2, 0..1) between a numeric feature's histograms. */
        maxNumericDrift: fraction.default(0.2),
        /** Share of a batch's rows that may be quarantined before the batch blocks the pipeline. */
        maxAnomalyRate: fraction.default(0.05),
      })
      .prefault({}),
    server: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        bodyLimitBytes: positiveInt.default(10 * 1024 * 1024),
        rateLimitPerMinute: positiveInt.default(6000),
        /** Failed authentications per client address per minute before it is answered 429 until the minute ends. */
        authFailuresPerMinute: positiveInt.default(30),
        /**
         * At start, listens stored since the published run's snapshot are folded into the live
         * model; at most this many, the newest (the next run learns from all of them).
         */
        startFoldInMax: z.number().int().nonnegative().default(100_000),
        /** On SIGTERM: seconds in-flight requests get to finish before open connections are cut. */
        drainSeconds: z.number().positive().default(10),
      })
      .prefault({}),
    scheduler: z
      .strictObject({
        /**
         * Whether `deepcut serve` runs the daily retrain itself. Default true with the embedded
         * store; false with `databaseUrl` (a fleet's API nodes never train: pipelines run elsewhere).
         * While it runs, answers can wait up to ~1.5 s.
         */
        enabled: z.boolean().default(true),
        /** Hour of the day (0–23, in scheduler.timeZone) at which the daily retrain starts. */
        retrainHour: z.number().int().min(0).max(23).default(3),
        timeZone: z.string().default('UTC'),
        /** `deepcut scheduler`: how often a standby tries to become the active one (seconds; it takes over within about this after the active one dies). */
        standbyPollSeconds: z.number().positive().default(2),
        /** `deepcut scheduler`: how often the active one checks whether the day's run is due (seconds). */
        tickSeconds: z.number().positive().default(30),
      })
      .prefault({}),
    queue: z
      .strictObject({
        /**
         * Redis URL of the pipeline's task queue (BullMQ), e.g. `redis://127.0.0.1:6379`. Set: the
         * pipeline's tasks run on `deepcut worker` processes. Unset: in the process that runs the pipeline.
         */
        url: z.string().regex(/^rediss?:\/\//, 'expected redis://host:port').optional(),
        /** Prefix of the queue's Redis keys (one per deployment sharing a Redis). */
        prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and -').default('deepcut'),
        /** Attempts per task (the first included) before it is dead-lettered. */
        attempts: positiveInt.default(3),
        /** Wait before a task's first retry, doubled at each retry (seconds). */
        backoffSeconds: z.number().nonnegative().default(5),
        /** A task whose worker stops renewing its lease (it died) for this long runs again on another worker (seconds). */
        leaseSeconds: z.number().positive().default(30),
      })
      .prefault({}),
    pipeline: z
      .strictObject({
        /** A run is published only if no gated metric drops by more than this fraction. */
        regressionTolerance: fraction.default(0.02),
        /**
         * Worker threads of a one-process run (`deepcut pipeline run`, `demo`) that make a step's
         * parts at once, e.g. the playlists shards; each holds its own copy of the run's inputs.
         * 1: every task in the main thread, one after another. A fleet sizes with `deepcut worker --concurrency`.
         */
        threads: positiveInt.max(64).default(2),
        /** Listeners per playlists task (shard): a large world is cut in shards that run at once (threads, workers) and resume one by one. */
        usersPerShard: positiveInt.default(10_000),
      })
      .prefault({}),
    artifacts: z
      .strictObject({
        /**
         * Where finished runs' files are stored and read back (docs/artifacts.md): a folder (relative
         * to `home`; the default `runs` is `<home>/runs`), `file:///path`, or `s3://bucket/prefix`.
         */
        url: z.string().min(1).default('runs'),
      })
      .prefault({}),
    fleet: z
      .strictObject({
        /**
         * API nodes hear of a new publication at once (PostgreSQL LISTEN/NOTIFY); they also read
         * the publication row this often, in seconds, in case a notification was missed.
         */
        pollSeconds: z.number().positive().default(5),
      })
      .prefault({}),
    bandit: z
      .strictObject({
        /** Exploration of the home page's ε-greedy policy (Thompson sampling over BART explores by its posterior). */
        epsilon: fraction.default(0.05),
      })
      .prefault({}),
  })
;

export type Config = z.infer<typeof ConfigSchema>;

/** The configuration with every default, as the README lists it. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Origin = Map<string, string>; // dotted key → where its value came from

const envNameOf = (path: string[]) =>
  'DEEPCUT_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');

/** Every leaf key of the config as a dotted path with its environment variable name. */
export function configKeys(): { key: string; env: string; default: unknown }[] {
  const out: { key: string; env: string; default: unknown }[] = [];
  const walk = (obj: Record<string, unknown>, path: string[]) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, [...path, k]);
      else out.push({ key: [...path, k].join('.'), env: envNameOf([...path, k]), default: v });
    }
  };
  const d = defaultConfig() as unknown as Record<string, unknown>;
  // optional keys without a default are absent from the defaults: listed all the same
  walk({ ...d, databaseUrl: undefined, queue: { url: undefined, ...(d.queue as Record<string, unknown>) } }, []);
  return out.map((k) => (k.key === 'home' ? { ...k, env: 'DEEPCUT_HOME' } : k.key === 'databaseUrl' ? { ...k, env: 'DATABASE_URL' } : k));
}

function setPath(obj: Record<string, Json>, path: string[], value: Json) {
  let o = obj;
  for (const p of path.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {};
    o = o[p] as Record<string, Json>;
  }
  o[path[path.length - 1]] = value;
}

function parseScalar(s: string): Json {
  try {
    return JSON.parse(s) as Json;
  } catch {
    return s;
  }
}

export interface LoadOptions {
  /** Path of the config file; default `deepcut.config.json` in the working directory if present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** `key=value` overrides from flags, e.g. `cf.factors=32`. */
  overrides?: Record<string, string | number | boolean>;
}

/** Load and validate the configuration; throws a DeepcutError('config') naming every bad key. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const raw: Record<string, Json> = {};
  const origin: Origin = new Map();
  const file = opts.file ?? (existsSync('deepcut.config.json') ? 'deepcut.config.json' : undefined);
  if (file) {
    const path = resolve(file);
    if (!existsSync(path)) throw new DeepcutError('config', `config file not found`, { file });
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new DeepcutError('config', `not valid JSON: ${(e as Error).message}`, { file });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DeepcutError('config', 'expected a JSON object', { file });
    Object.assign(raw, parsed);
    const mark = (o: Record<string, unknown>, p: string[]) => {
      for (const [k, v] of Object.entries(o)) {
        if (v && typeof v === 'object' && !Array.isArray(v)) mark(v as Record<string, unknown>, [...p, k]);
        else origin.set([...p, k].join('.'), `file ${file}`);
      }
    };
    mark(parsed as Record<string, unknown>, []);
  }
  for (const k of configKeys()) {
    const v = env[k.env];
    if (v === undefined || v === '') continue;
    setPath(raw, k.key.split('.'), k.key === 'home' || k.key === 'databaseUrl' ? v : parseScalar(v));
    origin.set(k.key, `env ${k.env}`);
  }
  for (const [key, v] of Object.entries(opts.overrides ?? {})) {
    setPath(raw, key.split('.'), typeof v === 'string' && key !== 'home' && key !== 'databaseUrl' ? parseScalar(v) : v);
    origin.set(key, `flag --set ${key}`);
  }
  // the fleet default: with a shared PostgreSQL, serve never trains unless told to
  if (typeof raw.databaseUrl === 'string' && (raw.scheduler as Record<string, Json> | undefined)?.enabled === undefined) setPath(raw, ['scheduler', 'enabled'], false);
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const key = i.path.join('.');
      const first = i.code === 'unrecognized_keys' ? [key, i.keys[0]].filter(Boolean).join('.') : key;
      const from = origin.get(first) ?? 'defaults';
      const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      return `${key || '(top level)'}${keys} from ${from}: ${i.message}`;
    });
    throw new DeepcutError('config', `invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return r.data;
}
