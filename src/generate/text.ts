/**
 * Texts about the world's artists and tracks: bios, album reviews, blog posts and tag lists. Words
 * come from the artist's genre vocabulary and its own signature words, mixed with words every music
 * text uses, everyday filler, another genre's words now and then, and a few non-English words, so
 * text similarity carries real but imperfect signal. Some bodies carry HTML markup and entities.
 */
import type { Document } from '../domain/schemas.ts';
import { Rng } from '../util/rng.ts';
import type { Catalog } from './catalog.ts';
import { FOREIGN_WORDS, GENRES, NOISE_WORDS, SHARED_WORDS } from './genres.ts';
import { DAY_MS, hash32, isoSeconds } from './util.ts';

export interface TextOptions {
  seed: number;
  clockMs: number;
}

/** Documents for every artist (2–5 each) and reviews of some tracks, oldest artist first. */
export function generateDocuments(cat: Catalog, o: TextOptions): Document[] {
  const docs: Document[] = [];
  const byGenre: number[][] = GENRES.map(() => []);
  cat.artistGenre.forEach((g, a) => byGenre[g].push(a));
  for (let a = 0; a < cat.artists.length; a++) {
    const rng = new Rng(hash32(o.seed, 0x7e47, a));
    const artist = cat.artists[a];
    const truth = cat.artistTruth[a];
    const g = cat.artistGenre[a];
    const words = new Bag(rng, GENRES[g].words, truth.signature, GENRES[(g + 1 + rng.int(GENRES.length - 1)) % GENRES.length].words);
    const debutMs = Date.parse(truth.debut + 'T00:00:00Z');
    const when = () => isoSeconds(debutMs + rng.next() * Math.max(DAY_MS, o.clockMs - debutMs));
    const peers = byGenre[g].filter((b) => b !== a);
    rng.shuffle(peers);
    let peerAt = 0;
    const peer = () => (peers.length ? cat.artists[peers[peerAt++ % peers.length]].name : artist.name);
    const html = rng.next() < 0.3;
    let n = 0;
    const add = (d: Omit<Document, 'document_id'>) => docs.push({ document_id: `doc-${cat.artists[a].artist_id.slice(3)}-${n++}`, ...d });

    // Bio.
    const bio = [
      `${artist.name} ${rng.pick(['is a', 'are a', 'started as a'])} ${words.genre()} ${rng.pick(['act', 'project', 'band', 'artist'])} from ${artist.country ?? 'somewhere'}, ${words.sentence(8)}.`,
      `Since ${truth.debut.slice(0, 4)} the ${words.genre()} sound has ${words.sentence(10)}.`,
      `Often compared to ${peer()} and ${peer()}, ${words.sentence(9)}.`,
      rng.next() < 0.5 ? `${words.sentence(12)}.` : '',
    ].filter(Boolean);
    add({ subject_kind: 'artist', subject_id: artist.artist_id, source: 'bio', url: `https://bios.example/${artist.artist_id}`, title: `About ${artist.name}`, body: markup(rng, bio, html), published_at: when() });

    // Tags: mostly genre and signature words, some noise.
    const tags = new Set<string>();
    for (let k = 0; k < 6 + rng.int(6); k++) tags.add(rng.next() < 0.75 ? words.genre() : rng.next() < 0.5 ? rng.pick(SHARED_WORDS) : rng.pick(NOISE_WORDS));
    if (rng.next() < 0.4) tags.add(GENRES[g].name);
    add({ subject_kind: 'artist', subject_id: artist.artist_id, source: 'tags', body: [...tags].join(', ') });

    // Reviews of up to two releases; some track reviews.
    const tracks = cat.artistTracks[a].filter((t) => cat.trackArtist[t] === a);
    const albums = [...new Set(tracks.map((t) => cat.trackAlbum[t]))];
    for (let r = 0; r < Math.min(2, albums.length); r++) {
      if (rng.next() > 0.6) continue;
      const al = cat.albums[albums[rng.int(albums.length)]];
      const score = (truth.quality * 10 + rng.normal()).toFixed(1);
      const paras = [
        `${al.title} is the ${rng.pick(['new', 'latest', 'long-awaited', 'third', 'second'])} ${al.album_type} by ${artist.name}: ${words.sentence(10)}.`,
        `${cap(words.sentence(12))}; ${words.sentence(8)}.`,
        `Fans of ${peer()} will find ${words.sentence(8)}.`,
        `Score: ${Math.max(1, Math.min(10, Number(score)))}/10.`,
      ];
      add({
        subject_kind: 'artist',
        subject_id: artist.artist_id,
        source: 'review',
        url: `https://reviews.example/${al.album_id}`,
        title: `Review: ${artist.name} – ${al.title}`,
        body: markup(rng, paras, html || rng.next() < 0.3),
        published_at: isoSeconds(Math.max(Date.parse(al.release_date + 'T00:00:00Z'), Math.min(o.clockMs - 1000, Date.parse(al.release_date + 'T00:00:00Z') + rng.int(21) * DAY_MS))),
      });
    }
    if (tracks.length && rng.next() < 0.35) {
      const t = rng.pick(tracks);
      add({ subject_kind: 'track', subject_id: cat.tracks[t].track_id, source: 'review', title: cat.tracks[t].title, body: `${cap(words.sentence(14))}. ${cap(words.sentence(10))}.`, published_at: isoSeconds(Math.min(o.clockMs - 1000, cat.trackReleaseMs[t] + rng.int(30) * DAY_MS)) });
    }
    // Blog post: noisier, more everyday words.
    if (rng.next() < 0.45) {
      const paras = [`${cap(words.sentence(10, 0.4))}.`, `I put on ${artist.name} ${rng.pick(['last night', 'on the train', 'this morning', 'all weekend'])} and ${words.sentence(12, 0.4)}.`, `${cap(words.sentence(9, 0.4))}!`];
      add({ subject_kind: 'artist', subject_id: artist.artist_id, source: 'blog', url: `https://blog.example/posts/${hash32(o.seed, a).toString(36)}`, title: `${cap(rng.pick(NOISE_WORDS))} ${rng.pick(['with', 'and', 'after'])} ${artist.name}`, body: markup(rng, paras, true), published_at: when() });
    }
  }
  return docs;
}

/** Draws words: the genre's, the artist's own, shared, filler, another genre's, foreign. */
class Bag {
  constructor(
    private readonly rng: Rng,
    private readonly genreWords: readonly string[],
    private readonly signature: readonly string[],
    private readonly otherGenre: readonly string[],
  ) {}

  genre(): string {
    return this.rng.next() < 0.25 ? this.rng.pick(this.signature) : this.rng.pick(this.genreWords);
  }

  /** `n` words; `noise` is the share of everyday filler. */
  sentence(n: number, noise = 0.25): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = this.rng.next();
      if (r < noise) out.push(this.rng.pick(NOISE_WORDS));
      else if (r < noise + 0.35) out.push(this.genre());
      else if (r < noise + 0.55) out.push(this.rng.pick(SHARED_WORDS));
      else if (r < noise + 0.62) out.push(this.rng.pick(this.otherGenre));
      else if (r < noise + 0.64) out.push(this.rng.pick(FOREIGN_WORDS));
      else out.push(this.rng.pick(NOISE_WORDS));
    }
    return out.join(' ');
  }
}

/** Paragraphs as plain text, or as HTML with a few tags and entities. */
function markup(rng: Rng, paras: string[], html: boolean): string {
  if (!html) return paras.join('\n\n');
  return paras
    .map((p) => {
      let s = p.replace(/&/g, '&amp;').replace(/ - /g, ' &ndash; ');
      if (rng.next() < 0.4) s = s.replace(/^(\S+ \S+)/, '<b>$1</b>');
      if (rng.next() < 0.2) s += ` <a href="https://example.org/${rng.int(1000)}">more</a>`;
      return `<p>${s}</p>`;
    })
    .join('\n');
}

const cap = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);
