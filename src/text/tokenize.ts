/**
 * Text → terms. A document body (a review, a bio, a blog post, a tag) becomes a list of terms:
 * lemmatised unigrams with stop words removed, plus the bigrams of adjacent content words
 * ("dream pop", "reverb heavy"), which stand in for noun phrases and compound descriptors.
 *
 * Steps: markup stripped (HTML tags, script/style blocks, entities, Markdown links and emphasis,
 * URLs) → emoji dropped → Unicode NFKC → lower case → wink-nlp tokens and lemmas (English model,
 * no POS pipe: measured 20k × 30-word documents in 0.3 s) → stop words and non-letter tokens
 * dropped. Text in other languages passes through: tokens are kept by Unicode letter classes and
 * only English-looking (ASCII) words are lemmatised. Empty or markup-only documents give no terms.
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
  let s = raw;
  if (s.includes('<')) {
    s = s.replace(/<!--[\s\S]*?-->/g, ' ');
    s = s.replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ');
    s = s.replace(/<\/?[a-zA-Z][^>]*>/g, ' ');
  }
  if (s.includes('&')) s = decodeEntities(s);
  if (s.includes('](')) s = s.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1');
  if (s.includes('://') || s.includes('www.')) s = s.replace(/\b(?:https?:\/\/|www\.)\S+/gi, ' ');
  s = s.replace(/[*_`~#>|]+/g, ' ');
  s = s.replace(emoji, ' ');
  s = s.normalize('NFKC').toLowerCase();
  return s.replace(/\s+/g, ' ').trim();
}

/** Extra stop words beyond wink-nlp's list: contractions' pieces and chat filler. */
const extraStop = new Set(["n't", "'s", "'re", "'ve", "'ll", "'d", "'m", 'also', 'would', 'could', 'like', 'just', 'really', 'get', 'one']);
const hasLetter = /\p{L}/u;
const edgeJunk = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;
const ascii = /^[a-z]+$/;
const innerBreak = /[^\p{L}\p{M}\p{N}'’]+/u;
const contraction = /^(i|you|we|they|he|she|it|that|there|what|who|let)['’](m|re|s|ve|ll|d)$/;
const skipTypes = new Set(['punctuation', 'symbol', 'emoji', 'emoticon', 'url', 'email', 'mention', 'number', 'ordinal', 'time', 'currency', 'quoted_phrase']);

/**
 * Terms of one document: unigrams (lemmas) then bigrams, in text order within each group.
 * Bigrams join two adjacent content words of the same clause: the first word as written, the
 * second as its lemma ("heavy guitars" → "heavy guitar"); hyphenated words count as adjacent
 * words, so "post-rock" and "post rock" give the same terms.
 *
 * @example tokenize('Dreamy shoegaze, reverb-heavy guitars') →
 *   ['dreamy', 'shoegaze', 'reverb', 'heavy', 'guitar', 'dreamy shoegaze', 'reverb heavy', 'heavy guitar']
 */
export function tokenize(raw: string, opts: TokenizeOptions = {}): string[] {
  const text = normalizeText(raw);
  if (!text) return [];
  const useLemmas = opts.lemmas ?? true;
  const { its } = engine();
  const doc = engine().readDoc(text);
  const tokens = doc.tokens();
  const values = tokens.out(its.value) as string[];
  const types = tokens.out(its.type) as string[];
  const stops = tokens.out(its.stopWordFlag) as unknown as boolean[];
  const lemmas = useLemmas ? (tokens.out(its.lemma as unknown as Parameters<typeof tokens.out>[0]) as string[]) : values;
  const unigrams: string[] = [];
  const bigrams: string[] = [];
  // The previous content word's surface form, or null at a clause boundary / after a stop word.
  let prev: string | null = null;
  const push = (surface: string, lemma: string) => {
    unigrams.push(lemma);
    if (prev !== null) bigrams.push(prev + ' ' + lemma);
    prev = surface;
  };
  for (let i = 0; i < values.length; i++) {
    const type = types[i];
    const value = values[i];
    if (value === '-' || value === '‐' || value === '/') continue; // hyphen between words keeps adjacency
    if (skipTypes.has(type)) {
      if (type !== 'emoji' && type !== 'emoticon') prev = null;
      continue;
    }
    if (stops[i] || extraStop.has(value)) {
      prev = null;
      continue;
    }
    const body = value.replace(edgeJunk, '');
    if (!body || !hasLetter.test(body)) {
      prev = null;
      continue;
    }
    if (contraction.test(body)) {
      prev = null;
      continue;
    }
    if (innerBreak.test(body)) {
      // A hyphenated or run-together word ("post-rock", "ロック、ポップ"): each part a word of its
      // own, adjacent to the next.
      for (const part of body.split(innerBreak)) {
        const p = part.replace(edgeJunk, '');
        if (!p || !hasLetter.test(p) || (p.length < 2 && ascii.test(p))) continue;
        push(p, p);
      }
      continue;
    }
    if (body.length < 2 && ascii.test(body)) {
      prev = null;
      continue;
    }
    const lemma = body === value && ascii.test(body) ? lemmas[i].replace(edgeJunk, '') || body : body;
    push(body, lemma);
  }
  if (opts.bigrams === false) return unigrams;
  for (const b of bigrams) unigrams.push(b);
  return unigrams;
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
