/**
 * Text → terms. A document body (a review, a bio, a blog post, a tag) becomes a list of terms:
 * lemmatised unigrams with stop words removed, plus the bigrams of adjacent content words
 * ("dream pop", "reverb heavy"), which stand in for noun phrases and compound descriptors.
 *
 * Steps: markup stripped (HTML tags, script/style blocks, entities, Markdown links and emphasis,
 * URLs) → emoji dropped → Unicode NFKC → lower case → words by Unicode letter classes → stop words
 * and lemmas from wink-nlp's English lexicon (each distinct word looked up once) → terms. Text in
 * other languages passes through: its words are kept as written, only ASCII words are lemmatised.
 * Empty or markup-only documents give no terms.
 */
import winkNLP from 'wink-nlp';
import model from 'wink-eng-lite-web-model';

export interface TokenizeOptions {
  /** Emit bigrams of adjacent content words (default true). */
  bigrams?: boolean;
  /** Lemmatise English words with wink-nlp (default true); false keeps the lower-cased form. */
  lemmas?: boolean;
}

type Nlp = ReturnType<typeof winkNLP>;
let nlp: Nlp | undefined;
/** The wink-nlp instance, loaded on first use (~0.1 s), tokenizer and lemmatizer only. */
function engine(): Nlp {
  nlp ??= winkNLP(model, []);
  return nlp;
}

const namedEntities: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—', hellip: '…',
  lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»', copy: '©', reg: '®', trade: '™',
  eacute: 'é', egrave: 'è', ecirc: 'ê', aacute: 'á', agrave: 'à', acirc: 'â', auml: 'ä', ouml: 'ö', uuml: 'ü',
  iacute: 'í', oacute: 'ó', uacute: 'ú', ntilde: 'ñ', ccedil: 'ç', szlig: 'ß', oslash: 'ø', aring: 'å', aelig: 'æ',
};

/** Decode HTML character references: named (a common set), decimal `&#233;` and hex `&#xE9;`. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : ' ';
    }
    return namedEntities[e.toLowerCase()] ?? m;
  });
}

const emoji = /[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u{FE0F}\u{FE0E}\u{200D}\u{20E3}]/gu;

/**
 * Plain, normalised text from a body that may hold HTML or Markdown: tags and script/style blocks
 * removed, entities decoded, Markdown links reduced to their text, URLs and emoji dropped, NFKC,
 * lower case, whitespace collapsed. `"<b>Dream&nbsp;Pop</b> 😀"` → `"dream pop"`.
 */
export function normalizeText(raw: string): string {
  return clean(raw).replace(/[*_`~#>|]+/g, ' ').replace(/\s+/g, ' ').trim();
}

const nonAscii = /[^\x00-\x7f]/;

/** {@link normalizeText} without the whitespace and Markdown-punctuation clean-up the scanner does not need. */
function clean(raw: string): string {
  let s = raw;
  if (s.includes('<')) {
    s = s.replace(/<!--[\s\S]*?-->/g, ' ');
    s = s.replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ');
    s = s.replace(/<\/?[a-zA-Z][^>]*>/g, ' ');
  }
  if (s.includes('&')) s = decodeEntities(s);
  if (s.includes('](')) s = s.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1');
  if (s.includes('://') || s.includes('www.')) s = s.replace(/\b(?:https?:\/\/|www\.)\S+/gi, ' ');
  if (nonAscii.test(s)) s = s.replace(emoji, ' ').normalize('NFKC'); // ASCII is already NFKC
  return s.toLowerCase();
}

/** Character classes for the scanner. */
const SPACE = 0, WORD = 1, APOS = 2, JOIN = 3, AT = 4, PUNCT = 5, UNSEEN = 255;
const classes = new Uint8Array(65536).fill(UNSEEN);
const wordChar = /[\p{L}\p{M}\p{N}]/u;
const spaceChar = /\s/u;
function classify(ch: string): number {
  if (ch === "'" || ch === '’') return APOS;
  if (ch === '-' || ch === '‐' || ch === '‑' || ch === '/') return JOIN;
  if (ch === '@') return AT;
  if (wordChar.test(ch)) return WORD;
  return spaceChar.test(ch) ? SPACE : PUNCT;
}
/** Class of the character at `i` (a surrogate pair counts as one astral character). */
function classAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) return classify(String.fromCodePoint(s.codePointAt(i)!));
  let k = classes[c];
  if (k === UNSEEN) k = classes[c] = classify(s[i]);
  return k;
}
const width = (s: string, i: number) => (s.charCodeAt(i) >= 0xd800 && s.charCodeAt(i) <= 0xdbff ? 2 : 1);

/** Extra stop words beyond wink-nlp's list: chat filler. */
const extraStop = new Set(['also', 'would', 'could', 'like', 'just', 'really', 'get', 'one']);
const hasLetter = /\p{L}/u;
const ascii = /^[a-z]+$/;
const contraction = /['’](m|re|ve|ll|d|t)$/;
/** What the lexicon says about one word: drop it (stop word, number) or keep it as `lemma`. */
export interface WordInfo {
  /** False for stop words, numbers, contractions: dropped, and they break bigram adjacency. */
  keep: boolean;
  /** The term for the word on its own. */
  lemma: string;
  /** The word as written (possessive 's removed): the first half of a bigram. */
  surface: string;
  /**
   * Scratch for one term-counting pass (`countTerms`), valid while `pass` matches it: the
   * lemma's term id and the surface's id. Saves hashing a string per word occurrence.
   */
  scratch?: { pass: number; term: number; surface: number };
}

const lexicon = new Map<string, WordInfo>();
const lemmaLexicon = new Map<string, WordInfo>();
const DROP: WordInfo = { keep: false, lemma: '', surface: '' };

/**
 * Look a word up once and memoise: wink-nlp's stop-word flag and its lemma of the word read on its
 * own (the same context-free lemma it gives without a POS pipe). Words with no letter, single
 * ASCII letters and contractions are dropped; non-ASCII words are kept as written.
 */
function wordInfo(word: string, lemmas: boolean): WordInfo {
  const memo = lemmas ? lemmaLexicon : lexicon;
  let info = memo.get(word);
  if (info) return info;
  let w = word;
  if (w.endsWith("'s") || w.endsWith('’s')) w = w.slice(0, -2); // possessive
  if (!hasLetter.test(w) || (w.length < 2 && ascii.test(w)) || contraction.test(w) || extraStop.has(w)) info = DROP;
  else if (!ascii.test(w)) info = { keep: true, lemma: w, surface: w };
  else {
    const { its } = engine();
    const tokens = engine().readDoc(w).tokens();
    const stop = (tokens.out(its.stopWordFlag) as unknown as boolean[]).some(Boolean);
    if (stop) info = DROP;
    else if (!lemmas || tokens.length() !== 1) info = { keep: true, lemma: w, surface: w };
    else {
      const l = (tokens.out(its.lemma as unknown as Parameters<typeof tokens.out>[0]) as string[])[0];
      const lemma = l && ascii.test(l) ? l : w;
      info = extraStop.has(lemma) ? DROP : { keep: true, lemma, surface: w };
    }
  }
  if (memo.size >= 1_000_000) memo.clear();
  memo.set(word, info);
  return info;
}

/**
 * Terms of one document: unigrams (lemmas) then bigrams, in text order within each group.
 * Bigrams join two adjacent content words of the same clause: the first word as written, the
 * second as its lemma ("heavy guitars" → "heavy guitar"); hyphenated words count as adjacent
 * words, so "post-rock" and "post rock" give the same terms. Stop words, numbers, mentions and
 * punctuation break adjacency.
 *
 * @example tokenize('Dreamy shoegaze, reverb-heavy guitars') →
 *   ['dreamy', 'shoegaze', 'reverb', 'heavy', 'guitar', 'dreamy shoegaze', 'reverb heavy', 'heavy guitar']
 */
export function tokenize(raw: string, opts: TokenizeOptions = {}): string[] {
  const bigrams = opts.bigrams ?? true;
  const unigrams: string[] = [];
  const pairs: string[] = [];
  let prev: WordInfo | null = null;
  scanWords(raw, opts.lemmas ?? true, (w) => {
    if (w === null) prev = null;
    else {
      unigrams.push(w.lemma);
      if (bigrams && prev !== null) pairs.push(prev.surface + ' ' + w.lemma);
      prev = w;
    }
  });
  for (const b of pairs) unigrams.push(b);
  return unigrams;
}

/**
 * The low-level scan behind {@link tokenize}: calls `visit` with each kept word in text order, and
 * with `null` wherever adjacency breaks (stop word, number, punctuation, mention). Words are found
 * by one pass over characters classed by Unicode property and looked up in a memoised lexicon
 * backed by wink-nlp, so wink-nlp reads each distinct word once, not every document. The
 * WordInfo objects are shared and their strings canonical (cheap to use as Map keys).
 */
export function scanWords(raw: string, lemmas: boolean, visit: (w: WordInfo | null) => void): void {
  const text = clean(raw);
  const n = text.length;
  let i = 0;
  while (i < n) {
    const k = classAt(text, i);
    if (k === SPACE || k === JOIN) {
      i++; // a hyphen or slash between words keeps them adjacent ("post-rock")
      continue;
    }
    if (k === AT && i + 1 < n && classAt(text, i + 1) === WORD) {
      i++; // a mention: skip the handle, a clause boundary
      while (i < n && (classAt(text, i) === WORD || text[i] === '_' || text[i] === '.')) i += width(text, i);
      visit(null);
      continue;
    }
    if (k !== WORD) {
      i += width(text, i);
      visit(null);
      continue;
    }
    // A word: word characters, with inner apostrophes ("don't", "band's").
    const start = i;
    i += width(text, i);
    for (;;) {
      if (i < n && classAt(text, i) === WORD) i += width(text, i);
      else if (i + 1 < n && classAt(text, i) === APOS && classAt(text, i + 1) === WORD) i += 1;
      else break;
    }
    const info = wordInfo(text.slice(start, i), lemmas);
    visit(info.keep ? info : null);
  }
}

/**
 * A tokenizer with a memo for short texts, for corpora where the same short document repeats
 * (tags: "dream pop" applied by a thousand listeners is tokenized once). Texts longer than
 * `maxMemoChars` are tokenized each time. Returned arrays are shared: do not mutate them.
 */
export function memoTokenizer(opts: TokenizeOptions = {}, maxMemoChars = 64, maxEntries = 200_000): (text: string) => readonly string[] {
  const memo = new Map<string, string[]>();
  return (text) => {
    if (text.length > maxMemoChars) return tokenize(text, opts);
    let t = memo.get(text);
    if (!t) {
      t = tokenize(text, opts);
      if (memo.size >= maxEntries) memo.clear();
      memo.set(text, t);
    }
    return t;
  };
}
