/**
 * The text family's loader: a run's text artifacts (`<run>/text/`, written by the pipeline's text
 * step) read and checked, and the nearest-neighbour index over their LSA embedding. It imports no
 * tokenizer or fitting code, so serving and the CLI can read a run's text cheaply.
 *
 *   text.json   magic `deepcut-text`, version, run id; artist ids (the row order of both .bin
 *               files), top descriptors per artist, document and vocabulary counts, ridge facts
 *   lsa.bin     `text-lsa` (cosine): embedding, artists × dims, unit rows
 *   lsa.index   usearch HNSW index (cos) over the embedding (src/index/ann.ts), rows as above
 *   cf-map.bin  `text-cf-map` (inner_product): vectors, artists × factors (warm artists: their CF
 *               vector; cold ones: mapped from text), and warm, 1 per artist with streams
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readArtifact } from '../cf/index.ts';
import { AnnIndex } from '../index/ann.ts';
import { IdMap, type ArtistId } from '../domain/ids.ts';
import type { Descriptor } from './tfidf.ts';
import { DeepcutError } from '../errors.ts';

export const TEXT_MAGIC = 'deepcut-text';
export const TEXT_VERSION = 1;
/** Row-major vectors: rows × dim. */
export interface TextVectors {
  dim: number;
  data: Float32Array;
}

/** `<run>/text/text.json`: what the text step made, and the row order of its .bin files. */
export interface TextManifest {
  magic: typeof TEXT_MAGIC;
  version: typeof TEXT_VERSION;
  runId: string;
  createdAt: string;
  documents: number;
  vocabulary: number;
  /** Artist ids: row i of lsa.bin and cf-map.bin is artists[i]. */
  artists: string[];
  /** Top descriptor terms per artist row: [term, TF-IDF weight]. */
  descriptors: [string, number][][];
  lsa: { file: string; dims: number; index: string } | null;
  cfMap: { file: string; factors: number; lambda: number; validationR2: number; coldArtists: number } | null;
}

/** A run's text artifacts, loaded and checked. Rows of every matrix follow `artists`. */
export interface TextArtifacts {
  runId: string;
  documents: number;
  vocabulary: number;
  artists: IdMap<ArtistId>;
  descriptors: Descriptor[][];
  /** Unit LSA rows, artists × dims, and the index file over them (absent when there were no usable documents). */
  lsa?: TextVectors & { indexPath: string };
  /** CF-space vectors, artists × factors; `warm[i]` = 1 when artist i has streams (else mapped from text). */
  cf?: TextVectors & { warm: Int32Array; lambda: number; validationR2: number };
}

/**
 * Load and check a run's text artifacts from its `text/` folder. `not_found` when the folder has
 * none (the run predates the text step); `invalid_input` naming the mismatch when a file is of
 * another kind, version, run or shape.
 */
export async function loadTextArtifacts(dir: string): Promise<TextArtifacts> {
  const path = join(dir, 'text.json');
  if (!existsSync(path)) throw new DeepcutError('not_found', `no text artifacts in ${dir}: run \`deepcut pipeline run\` (with the text step) to build them`);
  const m = JSON.parse(await readFile(path, 'utf8')) as TextManifest;
  if (m.magic !== TEXT_MAGIC) throw new DeepcutError('invalid_input', `${path}: not a deepcut text manifest (magic ${JSON.stringify(m.magic)}, expected "${TEXT_MAGIC}")`);
  if (m.version !== TEXT_VERSION) throw new DeepcutError('invalid_input', `${path}: format version ${m.version}, this deepcut reads version ${TEXT_VERSION}`);
  const n = m.artists.length;
  const out: TextArtifacts = {
    runId: m.runId,
    documents: m.documents,
    vocabulary: m.vocabulary,
    artists: new IdMap(m.artists as ArtistId[]),
    descriptors: m.descriptors.map((ds) => ds.map(([term, weight]) => ({ term, weight }))),
  };
  if (m.lsa) {
    const a = await readArtifact(join(dir, m.lsa.file), { kind: 'text-lsa', metric: 'cosine', runId: m.runId, shapes: { embedding: [n, m.lsa.dims] } });
    out.lsa = { dim: m.lsa.dims, data: a.arrays.embedding as Float32Array, indexPath: join(dir, m.lsa.index) };
  }
  if (m.cfMap) {
    const a = await readArtifact(join(dir, m.cfMap.file), { kind: 'text-cf-map', metric: 'inner_product', runId: m.runId, shapes: { vectors: [n, m.cfMap.factors], warm: [n] } });
    out.cf = { dim: m.cfMap.factors, data: a.arrays.vectors as Float32Array, warm: a.arrays.warm as Int32Array, lambda: m.cfMap.lambda, validationR2: m.cfMap.validationR2 };
  }
  return out;
}

/**
 * The nearest-neighbour index over a run's LSA embedding (cosine; rows follow `t.artists`), checked
 * against the embedding's width; undefined when the run had no usable documents.
 */
export async function loadTextIndex(t: TextArtifacts): Promise<AnnIndex | undefined> {
  if (!t.lsa) return undefined;
  const index = await AnnIndex.load(t.lsa.indexPath, { metric: 'cos', dims: t.lsa.dim });
  if (index.size !== t.artists.size) throw new DeepcutError('invalid_input', `${t.lsa.indexPath}: ${index.size} rows, the run has ${t.artists.size} artists with text`);
  return index;
}
