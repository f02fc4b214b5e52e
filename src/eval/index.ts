/** The eval stage's public surface. */
export { type EvalReport } from './suite.ts';
export * from './suites/index.ts';
