/**
 * The index stage's front door: vector retrieval behind one interface ({@link VectorIndex}): exact
 * search and an inverted file with ball bounds that answers top-k exactly, each saved as a
 * self-describing file. The usearch HNSW index is a door of its own (`index/ann.ts`): it loads a
 * native addon, which only code that builds or reads HNSW files should pay for.
 */
export * from './vector-index.ts';
export * from './exact.ts';
export * from './ivf.ts';
