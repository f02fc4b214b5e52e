/**
 * The eval stage's front door: the real-data evaluation suites (`npm run eval`) and their report.
 */
export { type EvalReport } from './suite.ts';
export * from './suites/index.ts';
