/**
 * The HTTP server: `buildServer(deps)` returns a fastify app with every route of `routes.ts`,
 * API-key auth with scopes, per-key rate limits, failed authentications limited per client
 * address, a body size limit, Prometheus metrics, the OpenAPI spec and the web pages. The
 * ListenBrainz routes (`/1/…`) read any body as JSON whatever its Content-Type and carry
 * ListenBrainz's rate-limit headers. Errors become HTTP answers in exactly one place (the error
 * handler below, through `httpStatus`); a bad request is a 4xx, never a 500.
 */
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import type { ServingState } from '../serving/index.ts';
import { DeepcutError, httpStatus, isDeepcutError } from '../errors.ts';
import { log as makeLog } from '../log.ts';
import { AuthFailures, KeyVerifier, presentedKey, type KeyInfo } from './auth.ts';
import { Metrics } from './metrics.ts';
import { check, type RouteDef } from './route.ts';
import { routes as allRoutes } from './routes.ts';
import { openApi } from './openapi.ts';
import { registerWebFiles } from './web-files.ts';
import type { ServerContext } from './context.ts';
import { ServingSlot } from './slot.ts';
import { systemClock, type Clock } from '../core/clock.ts';

export interface ServerDeps {
  store: Store;
  state: ServingState;
  config: Config;
  /** false: no keys needed, every request has every scope (local demo only; `deepcut serve --no-auth`). */
  auth?: boolean;
  metrics?: Metrics;
  /** Verifies API keys (default: one reading keys from `store`). */
  verifier?: KeyVerifier;
  /** The swappable serving state (default: a slot holding `state`). */
  slot?: ServingSlot;
  /** An API node's link to the fleet (fleet.ts). */
  fleet?: ServerContext['fleet'];
  /** "Now" for what the server stamps (reactions); default the system clock. */
  clock?: Clock;
}

declare module 'fastify' {
  interface FastifyRequest {
    key?: KeyInfo;
    /** The serving state the request answers from, taken when it arrived. */
    serving?: ServingState;
  }
}

const LOCAL_KEY: KeyInfo = { id: 'local', name: 'local (auth off)', scopes: ['read', 'ingest', 'admin'], user_id: null };

/** Body of every error answer: `{ error: { code, message } }` (ListenBrainz routes: `{ code, error }`). */
function errorBody(url: string, status: number, code: string, message: string) {
  return url.startsWith('/1/') ? { code: status, error: message } : { error: { code, message } };
}

/** ListenBrainz's routes (`/1/…`): its error shape, its rate-limit headers, a JSON body under any content type. */
const isLb = (url: string) => url.startsWith('/1/');

/**
 * Set ListenBrainz's rate-limit headers from the limiter's (`x-ratelimit-reset` is seconds left
 * there): `X-RateLimit-Reset-In` seconds left, `X-RateLimit-Reset` the UNIX second it ends.
 */
function lbRateHeaders(reply: import('fastify').FastifyReply): void {
  const left = Number(reply.getHeader('x-ratelimit-reset'));
  if (!Number.isFinite(left)) return;
  void reply.header('X-RateLimit-Reset-In', left).header('X-RateLimit-Reset', Math.floor(Date.now() / 1000) + left);
}

/** Build the app (not listening yet): `await app.listen({ port, host })`, or `app.inject()` in tests. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const auth = deps.auth ?? true;
  const log = makeLog('server');
  const failures = new AuthFailures(deps.config.server.authFailuresPerMinute);
  const slot = deps.slot ?? new ServingSlot(deps.state);
  const ctx: ServerContext = { store: deps.store, state: slot.current, slot, ...(deps.fleet ? { fleet: deps.fleet } : {}), config: deps.config, metrics: deps.metrics ?? new Metrics(deps.config.home, deps.store), verifier: deps.verifier ?? new KeyVerifier(deps.store), authFailures: failures, auth, log, clock: deps.clock ?? systemClock };
  const app = Fastify({ logger: false, bodyLimit: deps.config.server.bodyLimitBytes, return503OnClosing: true, forceCloseConnections: 'idle' });
  ctx.metrics.served ??= () => ({ run: slot.runId, publishedAt: slot.publishedAt });
  const defs = allRoutes();
  const spec = openApi(defs, '0.1.0');

  // The one place errors become HTTP answers.
  app.setErrorHandler((e: FastifyError | DeepcutError | Error, req, reply) => {
    let status: number;
    let code: string;
    if (isDeepcutError(e)) {
      status = httpStatus(e);
      code = e.code;
      if (e.retryAfterS !== undefined && !reply.hasHeader('retry-after')) void reply.header('Retry-After', e.retryAfterS);
    } else if ('statusCode' in e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      // fastify's own input errors: malformed JSON, body too large, bad content type
      status = e.statusCode;
      code = status === 413 ? 'too_large' : status === 415 ? 'invalid_input' : status === 429 ? 'rate_limited' : 'invalid_input';
    } else {
      status = 500;
      code = 'internal';
      log.error({ err: e, url: req.url }, 'internal error');
    }
    const message = status === 500 ? 'internal error (logged)' : e.message;
    void reply.status(status).send(errorBody(req.url, status, code, message));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(errorBody(req.url, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));
  });

  // impressions the home page buffered are written before whoever closes the server closes the store
  app.addHook('onClose', async () => {
    await slot.current.home?.flush?.();
  });
  // each request answers from the run served when it arrived, and says which (a swap never mixes two)
  app.addHook('onRequest', async (req) => {
    req.serving = slot.current;
  });
  app.addHook('onSend', async (req, reply) => {
    void reply.header('X-Deepcut-Run', (req.serving ?? slot.current).recs?.info.runId ?? 'none');
  });
  app.addHook('onResponse', async (req, reply) => {
    const routeUrl = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.requests.inc({ method: req.method, route: routeUrl, status: String(reply.statusCode) });
    ctx.metrics.latency.observe({ method: req.method, route: routeUrl }, reply.elapsedTime / 1000);
  });

  // Authentication runs for every request before rate limiting, so limits are per key. Failed
  // attempts are counted per client address: past the limit the address gets 429 (without a store
  // read) until its minute ends, except for keys this process verified a moment ago.
  const scopeOf = new Map<string, RouteDef<any, any, any>['scope']>();
  for (const d of defs) scopeOf.set(`${d.method} ${d.url}`, d.scope);
  app.addHook('onRequest', async (req, reply) => {
    const scope = scopeOf.get(`${req.method} ${req.routeOptions.url}`);
    if (!scope || scope === 'public') return;
    if (!auth) {
      req.key = LOCAL_KEY;
      return;
    }
    const presented = presentedKey(req.headers.authorization);
    const wait = failures.blockedFor(req.ip);
    if (wait > 0) {
      const cached = presented ? ctx.verifier.verifyCached(presented) : undefined;
      if (!cached) {
        void reply.header('Retry-After', wait);
        if (isLb(req.url)) void reply.header('X-RateLimit-Reset-In', wait).header('X-RateLimit-Reset', Math.floor(Date.now() / 1000) + wait);
        throw new DeepcutError('rate_limited', `too many failed authentications from ${req.ip}; retry in ${wait} s`);
      }
      req.key = cached;
    } else {
      try {
        if (!presented) throw new DeepcutError('unauthorized', 'missing API key: send `Authorization: Bearer <key>` (create one with `deepcut keys create`)');
        req.key = await ctx.verifier.verify(presented);
      } catch (e) {
        if (isDeepcutError(e) && e.code === 'unauthorized') failures.fail(req.ip);
        throw e;
      }
    }
    if (!req.key.scopes.includes(scope)) throw new DeepcutError('forbidden', `API key ${req.key.name} lacks scope ${scope} (has ${req.key.scopes.join(', ')})`);
  });
  app.addHook('onSend', async (req, reply) => {
    if (isLb(req.url)) lbRateHeaders(reply);
  });

  await app.register(rateLimit, {
    global: true,
    max: deps.config.server.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: (req) => req.key?.id ?? req.ip,
    errorResponseBuilder: (_req, c) => new DeepcutError('rate_limited', `rate limit of ${c.max} requests per minute exceeded; retry in ${Math.ceil(c.ttl / 1000)} s`),
  });

  const register = (scope: FastifyInstance, d: RouteDef<any, any, any>) =>
    scope.route({
      method: d.method,
      url: d.url,
      // public routes are not rate limited, except ListenBrainz's, whose clients pace themselves by the headers
      config: d.scope === 'public' && !isLb(d.url) ? { rateLimit: false } : {},
      handler: async (req, reply) => {
        const params = d.params ? check(d.params, req.params, 'params') : {};
        const query = d.query ? check(d.query, req.query, 'query') : {};
        if (d.body && req.body === undefined) throw new DeepcutError('invalid_input', 'missing JSON body (Content-Type: application/json)');
        const body = d.body ? check(d.body, req.body, 'body') : undefined;
        return d.handler({ params, query, body, key: req.key ?? LOCAL_KEY, req, reply, ctx: { ...ctx, state: req.serving ?? slot.current } });
      },
    });
  for (const d of defs) if (!isLb(d.url)) register(app, d);
  // ListenBrainz clients post JSON without a Content-Type (liblistenbrainz) or as text/plain: on
  // these routes every body is read as JSON, whatever its declared type.
  const lbJson = app.getDefaultJsonParser('error', 'error');
  await app.register(async (lb) => {
    lb.removeAllContentTypeParsers();
    lb.addContentTypeParser('*', { parseAs: 'string' }, (req, text, done) => {
      if (text === '') return done(null, undefined);
      lbJson(req, String(text), (e: Error | null, v?: unknown) => {
        if (e) return done(Object.assign(new Error(`body is not valid JSON: ${e.message}`), { statusCode: 400 }), undefined);
        done(null, v);
      });
    });
    for (const d of defs) if (isLb(d.url)) register(lb, d);
  });

  app.get('/openapi.json', { config: { rateLimit: false } }, async () => spec);
  app.get('/metrics', { config: { rateLimit: false } }, async (_req, reply) => {
    void reply.type('text/plain; version=0.0.4; charset=utf-8');
    return ctx.metrics.render();
  });

  registerWebFiles(app);

  return app;
}
