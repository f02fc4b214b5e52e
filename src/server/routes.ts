/**
 * Every route of the API, declared once (see `route.ts`). Answers whose data the pipeline has not
 * computed yet are a 503 `unavailable` naming the command that computes them.
 */
import { z } from 'zod';
import { Album, Artist, Document, Follow, Listen, Track, User, type EntityKind } from '../domain/schemas.ts';
import { DeepcutError } from '../errors.ts';
import { composeHome, type PlaylistKind } from '../serving/index.ts';
import type { Recommendations } from '../serving/index.ts';
import { route, type RouteDef } from './route.ts';
import { presentedKey } from './auth.ts';
import type { ServerContext } from './context.ts';
import { LbEnvelope, LbListen, LbSubmission, lbToRows } from './listenbrainz.ts';
import { BatchAnswer, quarantined, Rejection, RowChecker, rowKey } from './batch.ts';
import { zodAnomaly } from '../validate/index.ts';
import { BATCHES_NS } from '../ingest/index.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { QuarantinedRow } from '../store/index.ts';
import { writeProbe } from './readiness.ts';
import { keyRoutes } from './keys-routes.ts';
import { ingest, storeCall } from './commit.ts';
import { currentPublication, listAllRuns } from '../pipeline/index.ts';
import { addCatalogRows, type CatalogRows } from './fleet.ts';
import { requireListener } from './listeners.ts';
import { webRoutes } from './web-routes.ts';

const NO_RUN = 'no published run yet: run `deepcut pipeline run`';
const MAX_BATCH = 10_000;

const IdParam = z.object({ id: z.string().min(1).max(512) });
const K = z.object({ k: z.coerce.number().int().min(1).max(500).default(20) });

const Reason = z.object({ kind: z.string(), text: z.string(), track_id: z.string().optional(), artist_id: z.string().optional() });
const TrackCard = z.object({ track_id: z.string(), title: z.string().nullable(), artist_ids: z.array(z.string()), artist_names: z.array(z.string()), score: z.number(), reason: Reason });
const ModelInfo = z.object({ kind: z.string(), model: z.string(), runId: z.string().nullable(), users: z.number(), tracks: z.number(), foldIn: z.boolean() });
const TrackList = z.object({ items: z.array(TrackCard), model: ModelInfo });
const Playlist = z.object({ playlist_id: z.string(), kind: z.string(), title: z.string(), made_at: z.string(), run_id: z.string().nullable(), tracks: z.array(TrackCard) });

/**
 * A batch envelope: a bare JSON array of 1–10,000 rows, or `{ rows: [...] }` (`{ listens: [...] }`
 * for listens). Only the envelope is checked here: each row is checked on its own (batch.ts), so
 * a body that is not a batch is a 400 and a bad row inside one is quarantined and listed.
 */
const batch = (field = 'rows') =>
  z.union([z.array(z.unknown()).min(1).max(MAX_BATCH), z.object({ [field]: z.array(z.unknown()).min(1).max(MAX_BATCH) }).transform((o) => o[field] as unknown[])]);
/** The same envelope with the rows' schema, for the spec. */
const batchSpec = <T extends z.ZodType>(row: T, field = 'rows') => z.union([z.array(row).min(1).max(MAX_BATCH), z.object({ [field]: z.array(row).min(1).max(MAX_BATCH) })]);
const PARTIAL = { '207': { description: 'some rows were refused: they are quarantined and listed in `rejections`; the others are stored (same shape as 200)', schema: BatchAnswer } };
const batchNote = 'Each row is checked on its own, as file import checks it; good rows are stored, bad rows are quarantined and listed (200 when none was refused, 207 otherwise)';

function recsOf(ctx: ServerContext): Recommendations {
  const r = ctx.state.recs;
  if (!r) throw new DeepcutError('unavailable', `${NO_RUN} (and the store holds no listens for the popularity fallback)`);
  return r;
}


/**
 * Check a batch of `kind` row by row (batch.ts), store the good rows (after the users that new
 * listeners introduce), quarantine the bad ones, and answer 200, or 207 when a row was refused.
 */
async function storeBatch(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, kind: EntityKind, raw: unknown[]): Promise<{ answer: BatchAnswer; rows: Record<string, unknown>[] }> {
  const now = new Date();
  const checker = await storeCall(ctx, `look up ids for ${kind}`, () => RowChecker.open(ctx.store, now.getTime(), [[kind, raw]]));
  const at = { batch: `http.${kind}`, entity: kind, format: 'jsonl', file: `${req.method} ${req.routeOptions.url}`, now };
  const rows: Record<string, unknown>[] = [];
  const keys = new Set<string>();
  const rejections: Rejection[] = [];
  const q: QuarantinedRow[] = [];
  let repeated = 0;
  for (let index = 0; index < raw.length; index++) {
    const r = checker.check(kind, raw[index]);
    if (!r.ok) {
      rejections.push({ index, field: r.field, code: r.code, reason: r.reason });
      q.push(quarantined(at, index, raw[index], r));
      continue;
    }
    const row = r.row as Record<string, unknown>;
    const key = rowKey(kind, row);
    if (keys.has(key)) {
      repeated++;
      continue;
    }
    keys.add(key);
    checker.accept(kind, row);
    rows.push(row);
  }
  const users = checker.newUsers();
  if (users.length) await storeCall(ctx, 'put users', () => ctx.store.put('users', users));
  checker.usersStored();
  const put = kind === 'listens' ? await ingest(ctx, rows as Listen[], 'v1') : rows.length ? await storeCall(ctx, `put ${kind}`, () => ctx.store.put(kind, rows as never[])) : { inserted: 0, duplicates: 0 };
  if (q.length) await storeCall(ctx, 'quarantine', () => ctx.store.quarantine(q));
  void reply.status(rejections.length ? 207 : 200);
  return { answer: { inserted: put.inserted, duplicates: put.duplicates + repeated, rejected: rejections.length, rejections }, rows };
}

/** ListenBrainz's rate-limit headers, on every answer of its routes (app.ts sets them). */
const LB_RATE_HEADERS = {
  'X-RateLimit-Limit': 'requests allowed in the current window (one minute)',
  'X-RateLimit-Remaining': 'requests left in the current window',
  'X-RateLimit-Reset-In': 'seconds until the current window ends',
  'X-RateLimit-Reset': 'UNIX second at which the current window ends',
};

const LbAnswer = z.object({
  status: z.literal('ok'),
  inserted: z.number().int().optional().describe('listens newly stored (absent for playing_now)'),
  duplicates: z.number().int().optional(),
  rejected: z.number().int().optional().describe('listens of an import refused and quarantined'),
  rejections: z.array(Rejection).optional(),
});

/** Where a failure in a row made from a ListenBrainz listen is, in the listen's own terms. */
const LB_FIELD: Record<string, string | null> = {
  'listens.started_at': 'listened_at',
  'listens.ms_played': 'track_metadata.additional_info.duration_ms',
  'listens.track_id': 'track_metadata.additional_info.recording_mbid',
  'listens.user_id': null,
  'artists.name': 'track_metadata.artist_name',
  'artists.artist_id': 'track_metadata.additional_info.artist_mbids',
  'artists.mbid': 'track_metadata.additional_info.artist_mbids',
  'albums.title': 'track_metadata.release_name',
  'tracks.title': 'track_metadata.track_name',
  'tracks.duration_ms': 'track_metadata.additional_info.duration_ms',
  'tracks.track_id': 'track_metadata.additional_info.recording_mbid',
  'tracks.artist_ids': 'track_metadata.additional_info.artist_mbids',
};

/**
 * `POST /1/submit-listens` for `user`: each listen parsed, mapped to rows (lbToRows) and checked
 * with the import's validator; a listen stands or falls with its artist and track rows.
 */
async function submitListens(ctx: ServerContext, user: string, body: z.infer<typeof LbEnvelope>) {
  const now = new Date();
  const type = body.listen_type;
  const rejections: Rejection[] = [];
  const groups: { index: number; rows: ReturnType<typeof lbToRows> }[] = [];
  body.payload.forEach((v, index) => {
    const p = LbListen.safeParse(v);
    if (!p.success) return void rejections.push({ index, ...zodAnomaly(p.error, v) });
    if (type !== 'playing_now' && p.data.listened_at === undefined) return void rejections.push({ index, field: 'listened_at', code: 'missing', reason: `listened_at is required for listen_type ${type}` });
    if (type !== 'playing_now') groups.push({ index, rows: lbToRows(user, { listen_type: type, payload: [p.data] }, ctx.config.signals.minStreamMs, ctx.state.catalog.matcher) });
  });
  for (const g of groups) ctx.metrics.countMatches('listenbrainz', g.rows.outcomes);
  const checker = await storeCall(ctx, 'look up ids for listens', () =>
    RowChecker.open(ctx.store, now.getTime(), [
      ['listens', groups.flatMap((g) => g.rows.listens)],
      ['tracks', groups.flatMap((g) => g.rows.tracks)],
      ['albums', groups.flatMap((g) => g.rows.albums)],
    ]),
  );
  const out = { artists: new Map<string, Record<string, unknown>>(), albums: new Map<string, Record<string, unknown>>(), tracks: new Map<string, Record<string, unknown>>(), listens: new Map<string, Record<string, unknown>>() };
  let repeated = 0;
  for (const g of groups) {
    const added: ['artists' | 'albums' | 'tracks', string][] = [];
    let failure: Rejection | undefined;
    const accepted: { kind: 'artists' | 'albums' | 'tracks' | 'listens'; row: Record<string, unknown> }[] = [];
    for (const kind of ['artists', 'albums', 'tracks', 'listens'] as const) {
      for (const raw of g.rows[kind]) {
        const r = checker.check(kind, raw);
        if (!r.ok) {
          const field = r.field === null ? null : `${kind}.${r.field.split('.')[0]}` in LB_FIELD ? LB_FIELD[`${kind}.${r.field.split('.')[0]}`] : r.field;
          failure = { index: g.index, field, code: r.code, reason: r.reason };
          break;
        }
        const row = r.row as Record<string, unknown>;
        if (kind !== 'listens') {
          const id = String(row[kind === 'artists' ? 'artist_id' : kind === 'albums' ? 'album_id' : 'track_id']);
          if (kind === 'artists' ? !checker.known.artists.has(id) : kind === 'albums' ? !checker.known.albums.has(id) : !checker.known.tracks.has(id)) added.push([kind, id]);
        }
        checker.accept(kind, row);
        accepted.push({ kind, row });
      }
      if (failure) break;
    }
    if (failure) {
      for (const [k, id] of added) checker.forget(k, id);
      rejections.push(failure);
      continue;
    }
    for (const a of accepted) {
      const key = rowKey(a.kind, a.row);
      if (out[a.kind].has(key)) {
        if (a.kind === 'listens') repeated++;
      } else out[a.kind].set(key, a.row);
    }
  }
  rejections.sort((a, b) => a.index - b.index);
  if (rejections.length) {
    const batch = `http-listenbrainz.${user}`;
    const at = { batch, entity: 'listens', format: 'listenbrainz', file: 'POST /1/submit-listens', now };
    await storeCall(ctx, 'quarantine', async () => {
      await ctx.store.putMeta(BATCHES_NS, batch, { parser: 'listenbrainz', file: at.file, entity: 'listens', context: { user } });
      await ctx.store.quarantine(rejections.map((r) => quarantined(at, r.index, body.payload[r.index], r)));
    });
    if (type !== 'import') {
      const r = rejections[0];
      throw new DeepcutError('invalid_input', `payload.${r.index}${r.field ? '.' + r.field : ''}: ${r.reason}`);
    }
  }
  if (type === 'playing_now') return { status: 'ok' as const };
  const artists = [...out.artists.values()] as Artist[];
  const albums = [...out.albums.values()] as Album[];
  const tracks = [...out.tracks.values()] as Track[];
  const users = checker.newUsers();
  if (users.length) await storeCall(ctx, 'put users', () => ctx.store.put('users', users));
  checker.usersStored();
  if (artists.length) await storeCall(ctx, 'put artists', () => ctx.store.put('artists', artists));
  if (albums.length) await storeCall(ctx, 'put albums', () => ctx.store.put('albums', albums));
  if (tracks.length) await storeCall(ctx, 'put tracks', () => ctx.store.put('tracks', tracks));
  await addToCatalog(ctx, { kind: 'artists', rows: artists.filter((a) => !ctx.state.catalog.artistName(a.artist_id)) });
  await addToCatalog(ctx, { kind: 'albums', rows: albums.filter((a) => !ctx.state.catalog.album(a.album_id)) });
  await addToCatalog(ctx, { kind: 'tracks', rows: tracks.filter((t) => !ctx.state.catalog.hasTrack(t.track_id)) });
  const put = await ingest(ctx, [...out.listens.values()] as Listen[], 'listenbrainz');
  return { status: 'ok' as const, inserted: put.inserted, duplicates: put.duplicates + repeated, rejected: rejections.length, rejections };
}

/** Stored catalog rows into this node's catalog, and (an API node of a fleet) every other node's. */
async function addToCatalog(ctx: ServerContext, c: CatalogRows): Promise<void> {
  if (c.rows.length === 0) return;
  addCatalogRows(ctx.state.catalog, c);
  await ctx.fleet?.announceCatalog(c);
}

function catalogRoutes(): RouteDef<any, any, any>[] {
  const entities: { kind: EntityKind; path: string; schema: z.ZodType; after?: (ctx: ServerContext, rows: any[]) => Promise<void> }[] = [
    { kind: 'artists', path: 'artists', schema: Artist, after: (ctx, rows) => addToCatalog(ctx, { kind: 'artists', rows }) },
    { kind: 'albums', path: 'albums', schema: Album, after: (ctx, rows) => addToCatalog(ctx, { kind: 'albums', rows }) },
    { kind: 'tracks', path: 'tracks', schema: Track, after: (ctx, rows) => addToCatalog(ctx, { kind: 'tracks', rows }) },
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
          summary: `Store ${e.kind} (a JSON array or { rows: [...] }, at most ${MAX_BATCH}); rows whose key is stored already count as duplicates and are left unchanged. ${batchNote}`,
          tag: 'catalog',
          scope: 'ingest',
          body: batch(),
          bodySpec: batchSpec(e.schema),
          response: BatchAnswer,
          otherAnswers: PARTIAL,
          async handler({ body, req, reply, ctx }) {
            const { answer, rows } = await storeBatch(ctx, req, reply, e.kind, body as unknown[]);
            if (rows.length) await e.after?.(ctx, rows);
            return answer;
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
    summary: `The user's ${kind.replace('-', ' ')} playlist(s) from the published run; none, with the reason, for a listener the run has not made one for (a new listener: the next run makes it)`,
    tag: 'listener',
    scope: 'read',
    params: IdParam,
    response: z.object({ user_id: z.string(), playlists: z.array(Playlist), reason: z.string().optional() }),
    async handler({ params, ctx }) {
      const src = ctx.state.playlists;
      if (!src) throw new DeepcutError('unavailable', NO_RUN);
      await requireListener(ctx, params.id);
      const p = await src.get(params.id, kind);
      if (p?.length) return { user_id: params.id, playlists: p };
      return { user_id: params.id, playlists: [], reason: (await src.whyNone?.(params.id, kind)) ?? `the published run made no ${kind} for user ${params.id}` };
    },
  });
}

interface RunJson {
  runId: string;
  createdAt: string;
  status: string;
  steps: Record<string, { status: string; seconds?: number; output?: { metrics?: Record<string, number> }; error?: string; deadLetters?: DeadLetterJson[] }>;
  /** Set when a gate (validation) stopped the run: the step and the reason. */
  blocked?: { step: string; reason: string; at: string };
}
interface DeadLetterJson {
  id: string;
  kind: string;
  attempts: number;
  error: string;
}
const DeadLetterZ = z.object({ step: z.string(), id: z.string(), kind: z.string(), attempts: z.number().int(), error: z.string() }).describe('a task that failed every attempt, with its last error');
const RunBlockZ = z.object({ step: z.string(), reason: z.string(), at: z.string() }).describe('the gate that stopped the run (validation anomalies): step and reason; the published run keeps serving');

/** Pipeline runs as every node sees them (the store's mirror of the runner's manifests, and this machine's `<home>/runs`), oldest first, and the published one (the store's row). */
async function readRuns(ctx: ServerContext): Promise<{ runs: RunJson[]; published: string | null }> {
  const published = (await storeCall(ctx, 'read publication', () => currentPublication(ctx.store, ctx.config.home)))?.runId ?? null;
  const runs = await storeCall(ctx, 'read runs', () => listAllRuns(ctx.store, ctx.config.home));
  return { runs: runs as RunJson[], published };
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
      summary: 'Readiness: the store answers reads and takes writes (a small probe write, at most one per 5 s), and, on an API node of a fleet, a published run is loaded; says which model serves. 503 with the reason when not',
      tag: 'ops',
      scope: 'public',
      response: z.object({ status: z.literal('ready'), store: z.string(), model: ModelInfo.nullable() }),
      async handler({ ctx }) {
        await storeCall(ctx, 'readiness', () => ctx.store.count('tracks'));
        const refused = await writeProbe(ctx.store).refused();
        if (refused) throw new DeepcutError('unavailable', `not ready: the store refuses writes (${refused})`);
        // an API node is ready once it serves a published run (while it loads the next one it serves the current)
        const published = ctx.fleet?.published;
        if (ctx.fleet && ctx.slot.runId === null)
          throw new DeepcutError('unavailable', published ? `not ready: loading the published run ${published.runId}${ctx.slot.failure ? ` (last attempt failed: ${ctx.slot.failure})` : ''}` : `not ready: ${NO_RUN}`);
        return { status: 'ready', store: ctx.store.backend, model: ctx.state.recs?.info ?? null };
      },
    }),
    route({
      method: 'POST',
      url: '/v1/listens',
      summary: `Store a batch of listens (a JSON array or { listens: [...] }, at most ${MAX_BATCH}); answered after the store committed them. ${batchNote}. A listen from a user the store does not hold creates that user; its track must be stored`,
      tag: 'ingest',
      scope: 'ingest',
      body: batch('listens'),
      bodySpec: batchSpec(Listen, 'listens'),
      response: BatchAnswer,
      otherAnswers: PARTIAL,
      async handler({ body, req, reply, ctx }) {
        return (await storeBatch(ctx, req, reply, 'listens', body as unknown[])).answer;
      },
    }),
    route({
      method: 'POST',
      url: '/1/submit-listens',
      summary: 'ListenBrainz-compatible listen submission (Authorization: Token <key>; the key must be bound to a user). Any Content-Type (or none) with a JSON body. Each listen is checked on its own as file import checks it: a bad `single` or `playing_now` listen is a 400 naming its field; an `import` stores the good listens and quarantines and lists the bad ones (still 200, as ListenBrainz clients expect)',
      tag: 'ingest',
      scope: 'ingest',
      body: LbEnvelope,
      bodySpec: LbSubmission,
      response: LbAnswer,
      answerHeaders: LB_RATE_HEADERS,
      async handler({ body, key, ctx }) {
        const user = key.user_id ?? (ctx.auth ? undefined : 'local');
        if (!user) throw new DeepcutError('invalid_input', `API key ${key.name} is not bound to a user; create one with \`deepcut keys create --scope ingest --user <user_id>\``);
        return submitListens(ctx, user, body);
      },
    }),
    route({
      method: 'GET',
      url: '/1/validate-token',
      summary: 'ListenBrainz-compatible token check: the token as `?token=` (liblistenbrainz) or `Authorization: Token <key>`. Failed checks count as failed authentications of the client address',
      tag: 'ingest',
      scope: 'public',
      query: z.object({ token: z.string().max(1024).optional().describe('the key to check; else the Authorization header') }),
      answerHeaders: LB_RATE_HEADERS,
      response: z.object({ code: z.number(), message: z.string(), valid: z.boolean(), user_name: z.string().optional() }),
      async handler({ query, req, reply, ctx }) {
        const presented = query.token?.trim() || presentedKey(req.headers.authorization);
        const wait = ctx.authFailures.blockedFor(req.ip);
        if (wait > 0) {
          const k = presented ? ctx.verifier.verifyCached(presented) : undefined;
          if (k) return { code: 200, message: 'Token valid.', valid: true, user_name: k.user_id ?? k.name };
          void reply.header('Retry-After', wait).header('X-RateLimit-Reset-In', wait).header('X-RateLimit-Reset', Math.floor(Date.now() / 1000) + wait);
          throw new DeepcutError('rate_limited', `too many failed authentications from ${req.ip}; retry in ${wait} s`);
        }
        try {
          if (!presented) throw new DeepcutError('unauthorized', 'no token');
          const k = await ctx.verifier.verify(presented);
          return { code: 200, message: 'Token valid.', valid: true, user_name: k.user_id ?? k.name };
        } catch (e) {
          if (!(e instanceof DeepcutError)) throw e;
          ctx.authFailures.fail(req.ip);
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
      summary: 'Top-k unheard tracks for a user, each with its reason; reflects listens posted a moment ago (fold-in). 404 for an id that is no listener',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      query: K,
      response: TrackList,
      async handler({ params, query, ctx }) {
        const recs = recsOf(ctx);
        await requireListener(ctx, params.id);
        return { items: recs.forUser(params.id, query.k), model: recs.info };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/users/:id/home',
      summary: 'Home page shelves of cards for a user; 404 for an id that is no listener (nothing logged)',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      query: z.object({ impressions: z.enum(['on-fetch', 'on-view']).default('on-fetch').describe('on-view: log impressions only for the shelves later posted to /v1/users/{id}/home/viewed (the web app)') }),
      response: z.object({ user_id: z.string(), source: z.string(), request_id: z.string().optional(), shelves: z.array(z.object({ id: z.string(), title: z.string(), cards: z.array(TrackCard) })) }),
      async handler({ params, query, ctx }) {
        const recs = ctx.state.recs;
        if (recs) await requireListener(ctx, params.id);
        if (ctx.state.home && recs) return ctx.state.home.home(params.id, recs, { deferImpressions: query.impressions === 'on-view' });
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
      response: z.object({ published: z.string().nullable(), runs: z.array(z.object({ runId: z.string(), createdAt: z.string(), status: z.string(), blocked: RunBlockZ.optional(), deadLetters: z.array(DeadLetterZ), steps: z.record(z.string(), z.object({ status: z.string(), seconds: z.number().optional(), error: z.string().optional() })) })) }),
      async handler({ ctx }) {
        const { runs, published } = await readRuns(ctx);
        return {
          published,
          runs: runs.map((r) => ({
            runId: r.runId,
            createdAt: r.createdAt,
            status: r.status,
            blocked: r.blocked,
            deadLetters: Object.entries(r.steps ?? {}).flatMap(([step, s]) => (s.deadLetters ?? []).map((d) => ({ step, id: d.id, kind: d.kind, attempts: d.attempts, error: d.error }))),
            steps: Object.fromEntries(Object.entries(r.steps ?? {}).map(([k, s]) => [k, { status: s.status, seconds: s.seconds, error: s.error }])),
          })),
        };
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
        const { runs } = await readRuns(ctx);
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
    ...keyRoutes(),
    ...webRoutes(),
  ];
}
