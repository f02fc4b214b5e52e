/**
 * The server stage's front door: the HTTP app (routes declared once with zod and OpenAPI), `runServer`
 * as `deepcut serve` runs it, API keys, the local admin file `deepcut keys` finds a running server by,
 * and the Prometheus metrics.
 */
export { buildServer } from './app.ts';
export * from './auth.ts';
export * from './local-admin.ts';
export { Metrics } from './metrics.ts';
export * from './run.ts';
