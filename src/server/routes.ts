/**
 * Every route of the API, declared once (see `route.ts`). Answers whose data the pipeline has not
 * computed yet are a 503 `unavailable` naming the command that computes them.
 */
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Album, Artist, Document, Follow, Listen, Track, User, type EntityKind } from '../domain/schemas.ts';
import { DeepcutError } from '../errors.ts';
import { composeHome, type PlaylistKind } from '../serving/state.ts';
import type { Recommendations } from '../serving/recommendations.ts';
import { route, type RouteDef } from './route.ts';
import type { ServerContext } from './context.ts';
import { LbSubmission, lbToRows } from './listenbrainz.ts';

const NO_RUN = 'no published run yet: run `deepcut pipeline run`';
const MAX_BATCH = 10_000;

const IdParam = z.object({ id: z.string().min(1).max(512) });
const K = z.object({ k: z.coerce.number().int().min(1).max(500).default(20) });

const Reason = z.object({ kind: z.string(), text: z.string(), track_id: z.string().optional(), artist_id: z.string().optional() });
const TrackCard = z.object({ track_id: z.string(), title: z.string().nullable(), artist_ids: z.array(z.string()), artist_names: z.array(z.string()), score: z.number(), reason: Reason });
const ModelInfo = z.object({ kind: z.string(), model: z.string(), runId: z.string().nullable(), users: z.number(), tracks: z.number(), foldIn: z.boolean() });
const TrackList = z.object({ items: z.array(TrackCard), model: ModelInfo });
const PutAnswer = z.object({ inserted: z.number().int(), duplicates: z.number().int() });
const Playlist = z.object({ playlist_id: z.string(), kind: z.string(), title: z.string(), made_at: z.string(), run_id: z.string().nullable(), tracks: z.array(TrackCard) });

/** A batch: a bare JSON array of rows, or `{ rows: [...] }` (`{ listens: [...] }` for listens). */
const batch = <T extends z.ZodType>(row: T, field = 'rows') =>
  z.union([z.array(row).min(1).max(MAX_BATCH), z.object({ [field]: z.array(row).min(1).max(MAX_BATCH) }).transform((o) => o[field] as z.infer<T>[])]);

function recsOf(ctx: ServerContext): Recommendations {
  const r = ctx.state.recs;
  if (!r) throw new DeepcutError('unavailable', `${NO_RUN} (and the store holds no listens for the popularity fallback)`);
  return r;
}

/** Run a store operation; a failure counts in the metrics and answers 503, not 500. */
async function storeCall<T>(ctx: ServerContext, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DeepcutError) throw e;
    ctx.metrics.storeErrors.inc({ op });
    ctx.log.error({ err: e, op }, 'store operation failed');
    throw new DeepcutError('unavailable', `store ${op} failed: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** Commit listens, then let the live model see them (acknowledged only after the commit). */
async function ingest(ctx: ServerContext, rows: Listen[], endpoint: string) {
  const r = await storeCall(ctx, 'put listens', () => ctx.store.put('listens', rows));
  ctx.metrics.listens.inc({ endpoint }, r.inserted);
  ctx.metrics.duplicates.inc({ endpoint }, r.duplicates);
  ctx.state.recs?.observe(rows);
  return r;
}

function catalogRoutes(): RouteDef<any, any, any>[] {
  const entities: { kind: EntityKind; path: string; schema: z.ZodType; after?: (ctx: ServerContext, rows: any[]) => void }[] = [
    { kind: 'artists', path: 'artists', schema: Artist, after: (ctx, rows) => ctx.state.catalog.addArtists(rows) },
    { kind: 'albums', path: 'albums', schema: Album },
    { kind: 'tracks', path: 'tracks', schema: Track, after: (ctx, rows) => ctx.state.catalog.addTracks(rows) },
    { kind: 'users', path: 'users', schema: User },
    { kind: 'follows', path: 'follows', schema: Follow },
    { kind: 'documents', path: 'documents', schema: Document },
  ];
  const out: RouteDef<any, any, any>[] = [];
  for (const e of entities) {
    for (const method of ['PUT', 'POST'] as const) {
      out.push(
        route({
          method,
          url: `/v1/${e.path}`,
          summary: `Store ${e.kind} (a JSON array or { rows: [...] }, at most ${MAX_BATCH}); rows whose key is stored already count as duplicates and are left unchanged`,
          tag: 'catalog',
          scope: 'ingest',
          body: batch(e.schema),
          response: PutAnswer,
          async handler({ body, ctx }) {
            const rows = body as any[];
            const r = await storeCall(ctx, `put ${e.kind}`, () => ctx.store.put(e.kind, rows));
            e.after?.(ctx, rows);
            return r;
          },
        }),
      );
    }
  }
  return out;
}

function playlistRoute(kind: PlaylistKind): RouteDef<any, any, any> {
  return route({
    method: 'GET',
    url: `/v1/users/:id/playlists/${kind}`,
    summary: `The user's ${kind.replace('-', ' ')} playlist(s) from the published run`,
    tag: 'listener',
    scope: 'read',
    params: IdParam,
    response: z.object({ user_id: z.string(), playlists: z.array(Playlist) }),
    async handler({ params, ctx }) {
      const src = ctx.state.playlists;
      if (!src) throw new DeepcutError('unavailable', NO_RUN);
      const p = await src.get(params.id, kind);
      if (!p) throw new DeepcutError('not_found', `the published run made no ${kind} for user ${params.id}`);
      return { user_id: params.id, playlists: p };
    },
  });
}

interface RunJson {
  runId: string;
  createdAt: string;
  status: string;
  steps: Record<string, { status: string; seconds?: number; output?: { metrics?: Record<string, number> }; error?: string }>;
  /** Set when a gate (validation) stopped the run: the step and the reason. */
  blocked?: { step: string; reason: string; at: string };
}
const RunBlockZ = z.object({ step: z.string(), reason: z.string(), at: z.string() }).describe('the gate that stopped the run (validation anomalies): step and reason; the published run keeps serving');

/** Pipeline runs from `<home>/runs/<id>/run.json` (the runner's manifests), oldest first. */
async function readRuns(home: string): Promise<{ runs: RunJson[]; published: string | null }> {
  const dir = join(home, 'runs');
  if (!existsSync(dir)) return { runs: [], published: null };
  const runs: RunJson[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name, 'run.json');
    if (!existsSync(p)) continue;
    try {
      runs.push(JSON.parse(await readFile(p, 'utf8')) as RunJson);
    } catch {
      /* a manifest being rewritten: skip this time */
    }
  }
  const pub = join(dir, 'PUBLISHED.json');
  const published = existsSync(pub) ? ((JSON.parse(await readFile(pub, 'utf8')) as { runId?: string }).runId ?? null) : null;
  return { runs, published };
}

export function routes(): RouteDef<any, any, any>[] {
  return [
    route({
      method: 'GET',
      url: '/healthz',
      summary: 'Liveness: the process answers',
      tag: 'ops',
      scope: 'public',
      response: z.object({ status: z.literal('ok') }),
      async handler() {
        return { status: 'ok' };
      },
    }),
    route({
      method: 'GET',
      url: '/readyz',
      summary: 'Readiness: the store answers; says which model serves',
      tag: 'ops',
      scope: 'public',
      response: z.object({ status: z.literal('ready'), store: z.string(), model: ModelInfo.nullable() }),
      async handler({ ctx }) {
        await storeCall(ctx, 'readiness', () => ctx.store.count('tracks'));
        return { status: 'ready', store: ctx.store.backend, model: ctx.state.recs?.info ?? null };
      },
    }),
    route({
      method: 'POST',
      url: '/v1/listens',
      summary: `Store a batch of listens (a JSON array or { listens: [...] }, at most ${MAX_BATCH}); answered after the store committed them`,
      tag: 'ingest',
      scope: 'ingest',
      body: batch(Listen, 'listens'),
      response: PutAnswer,
      async handler({ body, ctx }) {
        return ingest(ctx, body as Listen[], 'v1');
      },
    }),
    route({
      method: 'POST',
      url: '/1/submit-listens',
      summary: 'ListenBrainz-compatible listen submission (Authorization: Token <key>; the key must be bound to a user)',
      tag: 'ingest',
      scope: 'ingest',
      body: LbSubmission,
      response: z.object({ status: z.literal('ok') }),
      async handler({ body, key, ctx }) {
        const user = key.user_id ?? (ctx.auth ? undefined : 'local');
        if (!user) throw new DeepcutError('invalid_input', `API key ${key.name} is not bound to a user; create one with \`deepcut keys create --scope ingest --user <user_id>\``);
        const rows = lbToRows(user, body, ctx.config.signals.minStreamMs, ctx.state.catalog.matcher);
        if (rows.listens.length) {
          ctx.metrics.countMatches('listenbrainz', rows.outcomes);
          await storeCall(ctx, 'put artists', () => ctx.store.put('artists', rows.artists));
          await storeCall(ctx, 'put albums', () => ctx.store.put('albums', rows.albums));
          await storeCall(ctx, 'put tracks', () => ctx.store.put('tracks', rows.tracks));
          ctx.state.catalog.addArtists(rows.artists.filter((a) => !ctx.state.catalog.artistName(a.artist_id)));
          ctx.state.catalog.addTracks(rows.tracks.filter((t) => !ctx.state.catalog.hasTrack(t.track_id)));
          await ingest(ctx, rows.listens, 'listenbrainz');
        }
        return { status: 'ok' };
      },
    }),
    route({
      method: 'GET',
      url: '/1/validate-token',
      summary: 'ListenBrainz-compatible token check',
      tag: 'ingest',
      scope: 'public',
      response: z.object({ code: z.number(), message: z.string(), valid: z.boolean(), user_name: z.string().optional() }),
      async handler({ req, ctx }) {
        const m = /^(?:Token|Bearer)\s+(\S+)/i.exec(req.headers.authorization ?? '');
        try {
          if (!m) throw new Error('no token');
          const k = await ctx.verifier.verify(m[1]);
          return { code: 200, message: 'Token valid.', valid: true, user_name: k.user_id ?? k.name };
        } catch {
          return { code: 200, message: 'Token invalid.', valid: false };
        }
      },
    }),
    ...catalogRoutes(),
    route({
      method: 'GET',
      url: '/v1/users',
      summary: 'User ids for a picker: stored users first, then users the model knows',
      tag: 'listener',
      scope: 'read',
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: z.object({ users: z.array(z.string()) }),
      async handler({ query, ctx }) {
        const stored = await storeCall(ctx, 'list users', () => ctx.store.list('users', { limit: query.limit }));
        const ids = new Set(stored.map((u) => u.user_id));
        for (const u of ctx.state.recs?.knownUsers(query.limit) ?? []) if (ids.size < query.limit) ids.add(u);
        return { users: [...ids] };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/users/:id/recommendations',
      summary: 'Top-k unheard tracks for a user, each with its reason; reflects listens posted a moment ago (fold-in)',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      query: K,
      response: TrackList,
      async handler({ params, query, ctx }) {
        const recs = recsOf(ctx);
        return { items: recs.forUser(params.id, query.k), model: recs.info };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/users/:id/home',
      summary: 'Home page shelves of cards for a user',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      response: z.object({ user_id: z.string(), source: z.string(), shelves: z.array(z.object({ id: z.string(), title: z.string(), cards: z.array(TrackCard) })) }),
      async handler({ params, ctx }) {
        const recs = ctx.state.recs;
        if (ctx.state.home && recs) return ctx.state.home.home(params.id, recs);
        if (!recs || recs.info.kind === 'store-popularity') throw new DeepcutError('unavailable', NO_RUN);
        return composeHome(params.id, recs);
      },
    }),
    playlistRoute('discover-weekly'),
    playlistRoute('release-radar'),
    playlistRoute('daily-mixes'),
    route({
      method: 'GET',
      url: '/v1/radio',
      summary: 'Radio from a seed track or artist id: its neighbours blended with at most 2 per artist and album (as `deepcut playlist radio`); before a run is published, the seed track\'s similar tracks',
      tag: 'listener',
      scope: 'read',
      query: z.object({ seed: z.string().min(1).max(512), k: z.coerce.number().int().min(1).max(500).default(50) }),
      response: z.object({ seed: z.string(), items: z.array(TrackCard) }),
      async handler({ query, ctx }) {
        const viaRun = await ctx.state.playlists?.radio?.(query.seed, query.k);
        const items = viaRun ?? recsOf(ctx).similarTracks(query.seed, query.k);
        if (!items) throw new DeepcutError('unknown_id', `unknown seed ${query.seed}: not a track or artist the model knows`);
        return { seed: query.seed, items };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/tracks/:id/similar',
      summary: 'Tracks most like this one',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      query: K,
      response: TrackList,
      async handler({ params, query, ctx }) {
        const recs = recsOf(ctx);
        const items = recs.similarTracks(params.id, query.k);
        if (!items) throw new DeepcutError('unknown_id', `unknown track ${params.id}: the model never saw it`);
        return { items, model: recs.info };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/artists/:id/similar',
      summary: 'Artists most like this one',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      query: K,
      response: z.object({ items: z.array(z.object({ artist_id: z.string(), name: z.string().nullable(), score: z.number() })), model: ModelInfo }),
      async handler({ params, query, ctx }) {
        const recs = recsOf(ctx);
        const items = recs.similarArtists(params.id, query.k);
        if (!items) throw new DeepcutError('unknown_id', `unknown artist ${params.id}: the model knows none of their tracks`);
        return { items, model: recs.info };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/tracks/:id/audio-features',
      summary: "A track's audio features (tempo, energy, …)",
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      response: z.object({ track_id: z.string(), features: z.record(z.string(), z.number()) }),
      async handler({ params, ctx }) {
        if (!ctx.state.audio) throw new DeepcutError('unavailable', `audio features are not computed yet: ${NO_RUN.replace('no published run yet: ', '')}`);
        const f = await ctx.state.audio.get(params.id);
        if (!f) throw new DeepcutError('not_found', `no audio features for track ${params.id}`);
        return { track_id: params.id, features: f };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/admin/runs',
      summary: 'Pipeline runs, oldest first, and the published one',
      tag: 'admin',
      scope: 'admin',
      response: z.object({ published: z.string().nullable(), runs: z.array(z.object({ runId: z.string(), createdAt: z.string(), status: z.string(), blocked: RunBlockZ.optional(), steps: z.record(z.string(), z.object({ status: z.string(), seconds: z.number().optional(), error: z.string().optional() })) })) }),
      async handler({ ctx }) {
        const { runs, published } = await readRuns(ctx.config.home);
        return { published, runs: runs.map((r) => ({ runId: r.runId, createdAt: r.createdAt, status: r.status, blocked: r.blocked, steps: Object.fromEntries(Object.entries(r.steps ?? {}).map(([k, s]) => [k, { status: s.status, seconds: s.seconds, error: s.error }])) })) };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/admin/metrics',
      summary: 'Offline model metrics of every run (step.metric → value), for charts across runs',
      tag: 'admin',
      scope: 'admin',
      response: z.object({ runs: z.array(z.object({ runId: z.string(), status: z.string(), metrics: z.record(z.string(), z.number()) })), serving: ModelInfo.nullable() }),
      async handler({ ctx }) {
        const { runs } = await readRuns(ctx.config.home);
        return {
          serving: ctx.state.recs?.info ?? null,
          runs: runs.map((r) => {
            const metrics: Record<string, number> = {};
            for (const [step, s] of Object.entries(r.steps ?? {})) for (const [m, v] of Object.entries(s.output?.metrics ?? {})) if (typeof v === 'number') metrics[`${step}.${m}`] = v;
            return { runId: r.runId, status: r.status, metrics };
          }),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/admin/validation',
      summary: 'Import validation reports (store meta namespace `validation`) and the quarantine size',
      tag: 'admin',
      scope: 'admin',
      response: z.object({ reports: z.array(z.object({ key: z.string(), value: z.unknown() })), quarantined: z.number().int() }),
      async handler({ ctx }) {
        const reports = await storeCall(ctx, 'list validation', () => ctx.store.listMeta('validation'));
        const q = await storeCall(ctx, 'list quarantine', () => ctx.store.listQuarantine({ limit: 10_000 }));
        return { reports, quarantined: q.length };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/admin/audio-distributions',
      summary: 'Samples of every audio feature across the catalog, for histograms',
      tag: 'admin',
      scope: 'admin',
      response: z.object({ features: z.record(z.string(), z.array(z.number())) }),
      async handler({ ctx }) {
        if (!ctx.state.audio) throw new DeepcutError('unavailable', `audio features are not computed yet: ${NO_RUN.replace('no published run yet: ', '')}`);
        return { features: await ctx.state.audio.distributions() };
      },
    }),
  ];
}
