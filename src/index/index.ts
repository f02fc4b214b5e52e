/** The index stage's public surface. */
export { AnnIndex } from './ann.ts';
export * from './ivf.ts';
export { IvfIndex } from './ivf.ts';
