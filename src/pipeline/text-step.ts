/**
 * The text step: documents about artists (bios, reviews, tags) and about tracks (pooled into the
 * track's main artist) → TF-IDF descriptors and an LSA embedding per artist (src/text), then the
 * cold-start map: ridge regression from an artist's LSA vector to its CF vector (the mean of its
 * streamed tracks' ALS item factors), fitted on artists that have both, applied to artists with
 * documents and no streams. Artifacts in `<run>/text/`, described and read by the text family's
 * loader (src/text/artifacts.ts). A store without documents gives a text.json with no artists,
 * and no .bin files.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Step, StepContext } from './runner.ts';
import type { Snapshot } from './snapshot.ts';
import type { PlaylistInputs } from './playlists-step.ts';
import type { Recommender } from '../cf/index.ts';
import { isFactorized } from '../cf/index.ts';
import { writeArtifact } from '../cf/index.ts';
import { AnnIndex } from '../index/ann.ts';
import type { Document } from '../domain/schemas.ts';
import { buildTextFeatures, applyRidge, tokenize, topDescriptors, type Descriptor, type TextDoc, type TextFeatures, type TfidfModel } from '../text/index.ts';
import { fitTextToFactors, gatherRows } from '../text/index.ts';
import { favourites, rowSearch, LazyRanked, type Vectors } from '../playlists/index.ts';
import type { Candidate, CandidateSource, CatalogView, Reason } from '../playlists/index.ts';
import { isDeepcutError } from '../errors.ts';
import { TEXT_MAGIC, TEXT_VERSION, loadTextArtifacts, type TextArtifacts, type TextManifest } from '../text/artifacts.ts';
import { runSnapshot } from './persist.ts';
import { loadCfFactors } from '../cf/index.ts';

/** The text family's loaders (src/text/artifacts.ts), re-exported for the pipeline and its tests. */
export { TEXT_MAGIC, TEXT_VERSION, loadTextArtifacts, loadTextIndex, type TextArtifacts } from '../text/artifacts.ts';

/** LSA width; clamped by LSA to the number of artists and terms. */
const LSA_DIMS = 64;
/** Descriptors kept per artist. */
const DESCRIPTORS = 5;
/** Fewest artists with both text and streams for which the ridge map is fitted. */
const MIN_PAIRS = 10;

/**
 * Documents as text-feature input, keyed by catalog artist: artist documents as they are, track
 * documents pooled into the track's main artist; documents about subjects outside the catalog
 * are left out and counted.
 */
export function artistDocuments(docs: readonly Document[], catalog: CatalogView): { docs: TextDoc[]; unmatched: number } {
  const out: TextDoc[] = [];
  let unmatched = 0;
  for (const d of docs) {
    let artist = -1;
    if (d.subject_kind === 'artist') artist = catalog.artistRows.row(d.subject_id);
    else {
      const t = catalog.trackRows.row(d.subject_id);
      if (t >= 0) artist = catalog.tracks[t].artists[0] ?? -1;
    }
    if (artist < 0) unmatched++;
    else out.push({ subject_id: catalog.artists[artist].id, title: d.title, body: d.body });
  }
  return { docs: out, unmatched };
}

/**
 * Each catalog artist's CF vector: the mean of the item factors (`items`, tracks × f) of its
 * tracks that have streams, not normalised (the length carries popularity, which the scores u·v
 * use). `warm[a]` = 1 when artist a has a streamed track; other rows stay zero.
 */
export function artistFactorMeans(catalog: CatalogView, items: Vectors): { vectors: Vectors; warm: Uint8Array } {
  const f = items.dim;
  const data = new Float32Array(catalog.artists.length * f);
  const warm = new Uint8Array(catalog.artists.length);
  catalog.tracksByArtist.forEach((tracks, a) => {
    let n = 0;
    for (const t of tracks) {
      if (catalog.tracks[t].plays === 0) continue;
      n++;
      for (let i = 0; i < f; i++) data[a * f + i] += items.data[t * f + i];
    }
    if (n === 0) return;
    warm[a] = 1;
    for (let i = 0; i < f; i++) data[a * f + i] /= n;
  });
  return { vectors: { dim: f, data }, warm };
}

/**
 * Descriptors of each text row without artist names: bios name the artist and its peers ("often
 * compared to Ash Vendo"), and a name is the most distinctive term there is, but it describes
 * nothing. Left out: any term made only of words of the artist's own name, and any other
 * artist's full name or adjacent-word pair from it (single words of other names stay: "black");
 * and a word paired with itself ("anthemic anthemic").
 */
function describe(tfidf: TfidfModel, catalog: CatalogView, k: number): Descriptor[][] {
  const names = new Set<string>();
  for (const a of catalog.artists) {
    const terms = tokenize(a.name);
    for (const t of terms) if (t.includes(' ') || terms.length === 1) names.add(t);
  }
  return tfidf.subjects.toArray().map((id, r) => {
    const own = new Set(tokenize(catalog.artists[catalog.artistRows.row(id)]?.name ?? '').filter((t) => !t.includes(' ')));
    const isName = (term: string) => names.has(term) || term.split(' ').every((w) => own.has(w)) || /^(\S+) \1$/.test(term);
    return topDescriptors(tfidf, r, 4 * k).filter((d) => !isName(d.term)).slice(0, k);
  });
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(value));
  await rename(`${path}.tmp`, path);
}

/** Text features of the documents, or undefined when none hold a usable term. */
function features(docs: TextDoc[], seed: number): TextFeatures | undefined {
  if (docs.length === 0) return undefined;
  const subjects = new Set(docs.map((d) => d.subject_id)).size;
  try {
    // min df 2 drops one-off words once there are enough artists for it not to drop everything
    return buildTextFeatures(docs, { dims: LSA_DIMS, seed, minDf: subjects >= 50 ? 2 : 1 });
  } catch (e) {
    if (isDeepcutError(e) && e.code === 'invalid_input') return undefined;
    throw e;
  }
}

async function runText(ctx: StepContext): Promise<{ metrics: Record<string, number> }> {
  const t0 = performance.now();
  const s = await runSnapshot(ctx);
  const { docs, unmatched } = artistDocuments(await ctx.store.list('documents'), s.catalog);
  const seed = ctx.config.cf.seed;
  const tf = features(docs, seed);
  const manifest: TextManifest = { magic: TEXT_MAGIC, version: TEXT_VERSION, runId: ctx.runId, createdAt: ctx.clock.now().toISOString(), documents: docs.length, vocabulary: 0, artists: [], descriptors: [], lsa: null, cfMap: null };
  const metrics: Record<string, number> = { documents: docs.length, documents_unmatched: unmatched, artists_with_documents: 0, vocabulary: 0 };
  if (!tf) {
    await writeJsonAtomic(join(ctx.dir, 'text.json'), manifest);
    ctx.log.info({ documents: docs.length }, 'no usable documents: text features skipped');
    return { metrics: { ...metrics, seconds: (performance.now() - t0) / 1000 } };
  }
  const { tfidf, lsa } = tf;
  const n = tfidf.subjects.size;
  manifest.vocabulary = tfidf.terms.length;
  manifest.artists = [...tfidf.subjects.toArray()];
  manifest.descriptors = describe(tfidf, s.catalog, DESCRIPTORS).map((ds) => ds.map((d) => [d.term, +d.weight.toFixed(4)] as [string, number]));
  manifest.lsa = { file: 'lsa.bin', dims: lsa.dims, index: 'lsa.index' };
  await writeArtifact(join(ctx.dir, 'lsa.bin'), { kind: 'text-lsa', runId: ctx.runId, metric: 'cosine', params: { artists: n, dims: lsa.dims, vocabulary: tfidf.terms.length, seed } }, [{ name: 'embedding', data: lsa.embedding, shape: [n, lsa.dims] }]);
  // one thread: a graph built on several depends on their timing, and a re-run must write the same bytes
  const index = AnnIndex.build(lsa.embedding, lsa.dims, 'cos', { threads: 1 });
  await index.save(join(ctx.dir, manifest.lsa.index), { runId: ctx.runId });
  Object.assign(metrics, { artists_with_documents: n, vocabulary: tfidf.terms.length, lsa_dims: lsa.dims, index_recall_at_10: index.report?.recall_at_10 ?? 1 });

  // the factor space alone: the map reads only item factors
  const model = await loadCfFactors(ctx.dirOf('cf'), s, ctx.config.cf.threads);
  try {
    if (!model) ctx.log.info('no factor model: cold-start map skipped');
    else {
      const f = model.factors;
      const artistRow = Int32Array.from(manifest.artists, (id) => s.catalog.artistRows.row(id));
      const { vectors, warm } = artistFactorMeans(s.catalog, { dim: f, data: model.itemFactors() });
      const pairs = manifest.artists.map((_, r) => r).filter((r) => warm[artistRow[r]] === 1);
      metrics.artists_with_documents_and_streams = pairs.length;
      if (pairs.length < MIN_PAIRS) ctx.log.info({ pairs: pairs.length }, `fewer than ${MIN_PAIRS} artists with both documents and streams: cold-start map skipped`);
      else {
        const fit = fitTextToFactors(gatherRows(lsa.embedding, lsa.dims, pairs), gatherRows(vectors.data, f, pairs.map((r) => artistRow[r])), pairs.length, lsa.dims, f, seed);
        const mapped = applyRidge(fit.map, lsa.embedding, n);
        const isWarm = Int32Array.from(artistRow, (a) => warm[a]);
        for (let r = 0; r < n; r++) if (isWarm[r]) mapped.set(vectors.data.subarray(artistRow[r] * f, (artistRow[r] + 1) * f), r * f);
        const coldArtists = n - pairs.length;
        await writeArtifact(join(ctx.dir, 'cf-map.bin'), { kind: 'text-cf-map', runId: ctx.runId, metric: 'inner_product', params: { artists: n, factors: f, lambda: fit.map.lambda, lsaDims: lsa.dims } }, [
          { name: 'vectors', data: mapped, shape: [n, f] },
          { name: 'warm', data: isWarm, shape: [n] },
        ]);
        manifest.cfMap = { file: 'cf-map.bin', factors: f, lambda: fit.map.lambda, validationR2: fit.validationR2, coldArtists };
        Object.assign(metrics, { cold_artists: coldArtists, ridge_lambda: fit.map.lambda, ridge_validation_r2: fit.validationR2 });
      }
    }
  } finally {
    await (model as Partial<{ close(): Promise<void> }> | undefined)?.close?.();
  }
  await writeJsonAtomic(join(ctx.dir, 'text.json'), manifest);
  return { metrics: { ...metrics, seconds: (performance.now() - t0) / 1000 } };
}

export const textStep: Step = { name: 'text', after: ['cf'], run: runText };

/** "described as: …" for an artist with descriptors; else "described like <seed>". */
function textReason(t: TextArtifacts, row: number, seed: string | undefined): Reason {
  const terms = t.descriptors[row].slice(0, 3).map((d) => d.term);
  return terms.length || !seed ? { kind: 'described_as', terms } : { kind: 'similar_to_seed', seed, by: 'text' };
}

/**
 * The `text` candidate source: tracks of artists the user has not played, alternating between
 * (1) cold-start artists (no streams) ranked by u·ŷ, the user's factors against the artist's
 * vector mapped from text, and (2) artists whose LSA embedding is closest to the user's profile
 * (the mean embedding of the artists of their favourite tracks). At most two tracks per artist,
 * most streamed first; scores fall with rank (the two rankings are not on one scale).
 */
export function textSource(t: TextArtifacts, s: Snapshot, model: Recommender): CandidateSource {
  const { catalog } = s;
  const n = t.artists.size;
  const catalogRow = Int32Array.from(t.artists.toArray(), (id) => catalog.artistRows.row(id));
  const textRow = new Int32Array(catalog.artists.length).fill(-1);
  catalogRow.forEach((a, r) => a >= 0 && (textRow[a] = r));
  const userF = isFactorized(model) && t.cf && t.cf.dim === model.factors ? model.userFactors() : undefined;
  const inCatalog = Array.from({ length: n }, (_, r) => r).filter((r) => catalogRow[r] >= 0);
  // the two rankings are searched in indexes over the artists, never by scoring every artist per listener
  const cold = t.cf ? rowSearch(t.cf.data, t.cf.dim, inCatalog.filter((r) => t.cf!.warm[r] === 0)) : undefined;
  const lsa = t.lsa ? rowSearch(t.lsa.data, t.lsa.dim, inCatalog) : undefined;
  // each artist's tracks, most streamed first (ties: lower row), sorted when first needed
  const byPlays: (number[] | undefined)[] = [];
  return {
    name: 'text',
    candidates(user, k) {
      const shut = new Set<number>();
      for (const tr of user.plays.keys()) for (const a of catalog.tracks[tr].artists) if (textRow[a] >= 0) shut.add(textRow[a]);
      for (const a of user.dislikedArtists) if (textRow[a] >= 0) shut.add(textRow[a]);
      const exclude = [...shut];
      const lists: LazyRanked[] = [];
      const u = s.users.row(user.id);
      const depth = Math.ceil(k / 2);
      if (userF && t.cf && cold && u >= 0 && u * t.cf.dim < userF.length) lists.push(new LazyRanked(cold, userF.subarray(u * t.cf.dim, (u + 1) * t.cf.dim), exclude, depth));
      const favArtists = [...new Set(favourites(user, 30).map((tr) => textRow[catalog.tracks[tr].artists[0]]).filter((r) => r >= 0))];
      let seed: string | undefined;
      if (t.lsa && lsa && favArtists.length) {
        const { dim, data } = t.lsa;
        const profile = new Float32Array(dim);
        for (const r of favArtists) for (let i = 0; i < dim; i++) profile[i] += data[r * dim + i];
        lists.push(new LazyRanked(lsa, profile, exclude, depth));
        seed = catalog.artists[catalogRow[favArtists[0]]].name;
      }
      const out: Candidate[] = [];
      const taken = new Set<number>();
      for (let i = 0; out.length < k && lists.some((l) => l.at(i) !== undefined); i++) {
        for (const l of lists) {
          const r = l.at(i);
          if (r === undefined || taken.has(r)) continue;
          taken.add(r);
          // the artist's two most streamed tracks the user has not heard nor disliked
          let two = 0;
          for (const tr of (byPlays[r] ??= [...catalog.tracksByArtist[catalogRow[r]]].sort((a, b) => catalog.tracks[b].plays - catalog.tracks[a].plays || a - b))) {
            if (two === 2) break;
            if (user.plays.has(tr) || user.dislikedTracks.has(tr)) continue;
            two++;
            if (out.length < k) out.push({ track: tr, score: k - out.length, source: 'text', reason: textReason(t, r, seed) });
          }
        }
      }
      return out;
    },
  };
}

/**
 * What the text step adds to the playlists step: the `text` candidate source (see
 * {@link textSource}) read from the run's `text/` folder; nothing when the run had no documents.
 */
export async function textPlaylistInputs(textDir: string, snapshot: Snapshot, model: Recommender): Promise<PlaylistInputs> {
  const t = await loadTextArtifacts(textDir);
  return t.artists.size === 0 ? {} : { sources: [textSource(t, snapshot, model)] };
}
