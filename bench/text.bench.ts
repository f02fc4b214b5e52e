/**
 * `npm run bench -- text [--artists N] [--docs N] [--dims N]`: text features (tokenize + TF-IDF +
 * LSA) for 20,000 artists × 10 documents each, generated seeded: short reviews of 20–60 words
 * drawn from a per-genre vocabulary of made-up descriptor words plus English function words,
 * some HTML and punctuation, a few non-Latin words and emoji.
 */
import type { Bench } from './bench.ts';
import { numFlag, peakRssMb } from './bench.ts';
import { Rng } from '../src/util/rng.ts';
import { countTerms, fitTfidf } from '../src/text/tfidf.ts';
import { fitLsa } from '../src/text/lsa.ts';


const syllables = ['ka', 'lo', 'mi', 'ren', 'sha', 'tor', 'vel', 'dri', 'ng', 'po', 'ze', 'qua', 'bel', 'sto', 'rum', 'fi', 'gaze', 'wave', 'core', 'dub'];
const glue = ['the', 'a', 'and', 'with', 'of', 'is', 'their', 'this', 'record', 'album', 'band', 'sound', 'songs', 'very', 'but', 'on', 'in', 'guitars', 'vocals', 'live'];

/** `artists × docs` seeded documents; genre g favours words g·40 … g·40+39 of the vocabulary. */
export function* generateDocs(artists: number, docs: number, seed: number): Generator<{ subject_id: string; body: string }> {
  const rng = new Rng(seed);
  const vocab: string[] = [];
  for (let i = 0; i < 4000; i++) vocab.push(syllables[i % 20] + syllables[Math.floor(i / 20) % 20] + (i >= 400 ? syllables[Math.floor(i / 400) % 20] : ''));
  const genres = 100;
  for (let a = 0; a < artists; a++) {
    const genre = rng.int(genres);
    for (let d = 0; d < docs; d++) {
      const n = 20 + rng.int(41);
      const words: string[] = [];
      for (let w = 0; w < n; w++) {
        const r = rng.next();
        if (r < 0.4) words.push(rng.pick(glue));
        else if (r < 0.8) words.push(vocab[genre * 40 + Math.floor(40 * rng.next() ** 2)]);
        else words.push(vocab[Math.floor(vocab.length * rng.next() ** 3)]);
        if (rng.next() < 0.08) words.push(rng.pick([',', '.', '!', ' — ']));
      }
      if (rng.next() < 0.1) words.push('<b>', 'ロック', 'рок', '</b>', '🎸');
      yield { subject_id: `artist-${a}`, body: words.join(' ').replace(/ ([,.!])/g, '$1') };
    }
  }
}

const bench: Bench = {
  name: 'text',
  description: 'Text features (tokenize with wink-nlp lemmas + bigrams, TF-IDF per artist, LSA by randomized SVD) for 20,000 artists × 10 generated documents.',
  async run(args) {
    const artists = numFlag(args, 'artists', 20_000);
    const docs = numFlag(args, 'docs', 10);
    const dims = numFlag(args, 'dims', 64);
    const all = [...generateDocs(artists, docs, 42)];
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    const c0 = cpu();
    const t0 = performance.now();
    const counts = countTerms(all);
    const t1 = performance.now();
    const c1 = cpu();
    const tfidf = fitTfidf(counts, { minDf: 2, maxVocab: 50_000 });
    const t2 = performance.now();
    const c2 = cpu();
    const lsa = fitLsa(tfidf.matrix, { dims, seed: 42 });
    const t3 = performance.now();
    const c3 = cpu();
    const total = (t3 - t0) / 1000;
    return {
      figures: {
        artists,
        documents: all.length,
        terms_seen: counts.counts.cols,
        vocabulary: tfidf.terms.length,
        tfidf_nnz: tfidf.matrix.indices.length,
        lsa_dims: lsa.dims,
        tokenize_s: (t1 - t0) / 1000,
        tfidf_s: (t2 - t1) / 1000,
        lsa_s: (t3 - t2) / 1000,
        total_s: total,
        tokenize_cpu_s: c1 - c0,
        tfidf_cpu_s: c2 - c1,
        lsa_cpu_s: c3 - c2,
        total_cpu_s: c3 - c0,
        docs_per_s: all.length / total,
        peak_rss_mb: peakRssMb(),
      },
      targets: { total_s: '<= 30' },
      notes: ['cpu_s figures are this process\'s CPU time (user + system): on a machine shared with other work they are the fairer figure; wall time is the target.', 'LSA: 10 oversampling directions, 2 power iterations, min df 2, vocabulary cap 50,000; one thread.'],
    };
  },
};
export default bench;
