/**
 * The index stage's front door: vector retrieval behind one interface (exact, usearch HNSW, and an
 * inverted file with ball bounds that answers top-k exactly), each saved as a self-describing file.
 */
export { AnnIndex } from './ann.ts';
export * from './ivf.ts';
