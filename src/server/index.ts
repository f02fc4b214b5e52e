/** The server stage's public surface. */
export { buildServer } from './app.ts';
export * from './auth.ts';
export { createKey, type KeyInfo } from './auth.ts';
export * from './local-admin.ts';
export { Metrics } from './metrics.ts';
export * from './run.ts';
