import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntities, memoTokenizer, normalizeText, tokenize } from './tokenize.ts';

test('lemmas, stop words and bigrams of adjacent content words', () => {
  assert.deepEqual(tokenize('Dreamy shoegaze, reverb-heavy guitars'), [
    'dreamy', 'shoegaze', 'reverb', 'heavy', 'guitar',
    'dreamy shoegaze', 'reverb heavy', 'heavy guitar',
  ]);
  // stop words break bigrams; verbs and plurals are lemmatised
  assert.deepEqual(tokenize('The Beatles were singing songs about love'), ['beatles', 'singing', 'song', 'love', 'singing song']);
  assert.deepEqual(tokenize('dream pop', { bigrams: false }), ['dream', 'pop']);
  assert.deepEqual(tokenize('Songs', { lemmas: false }), ['songs']);
});

test('hyphenated and spaced compounds give the same terms', () => {
  assert.deepEqual(tokenize('post-rock'), tokenize('post rock'));
  assert.deepEqual(tokenize('post-rock'), ['post', 'rock', 'post rock']);
});

test('HTML tags, scripts, entities, Markdown and URLs are stripped', () => {
  assert.equal(normalizeText('<p>Dream&nbsp;<b>Pop</b></p><script>var x = "evil";</script>'), 'dream pop');
  assert.equal(decodeEntities('caf&eacute; &#233; &#xE9; &amp; &unknown; &#0;'), 'café é é & &unknown;  ');
  assert.equal(normalizeText('see [Slowdive](https://example.com/slowdive) **live** at https://x.org/a?b=1'), 'see slowdive live at');
  assert.deepEqual(tokenize('<div class="review">Lush <i>shoegaze</i> &amp; noise</div>'), ['lush', 'shoegaze', 'noise', 'lush shoegaze']);
});

test('unicode is NFKC-normalised and lower-cased', () => {
  assert.equal(normalizeText('ﬁne ＦＵＬＬＷＩＤＴＨ Ｒｏｃｋ'), 'fine fullwidth rock');
  // composed and decomposed é give the same token
  assert.deepEqual(tokenize('Cafe\u0301 Tacvba'), tokenize('Café Tacvba'));
});

test('emoji are dropped and do not glue words together', () => {
  assert.deepEqual(tokenize('🎸🔥'), []);
  assert.deepEqual(tokenize('dream😀pop 👍🏽'), ['dream', 'pop', 'dream pop']);
  assert.equal(normalizeText('🇮🇸 👨‍👩‍👧 sigur rós'), 'sigur rós');
});

test('empty and markup-only documents give no terms', () => {
  for (const s of ['', '   ', '<br/>', '&nbsp;', '...!!!', '123 456', 'the and of']) assert.deepEqual(tokenize(s), [], JSON.stringify(s));
});

test('other languages keep their words by Unicode letter class', () => {
  assert.deepEqual(tokenize('Кино — советская рок-группа'), ['кино', 'советская', 'рок', 'группа', 'советская рок', 'рок группа']);
  // CJK has no spaces: runs of letters between punctuation are the words; 、 ends a clause
  assert.deepEqual(tokenize('日本語のテキスト、ロック。'), ['日本語のテキスト', 'ロック']);
  const fr = tokenize('Émilie Simon chante très bien.');
  assert.ok(fr.includes('émilie') && fr.includes('chante') && fr.includes('émilie simon'));
  assert.deepEqual(tokenize('موسيقى جميلة'), ['موسيقى', 'جميلة', 'موسيقى جميلة']);
});

test('contractions, mentions, numbers and URLs are not terms', () => {
  assert.deepEqual(tokenize("I'm loving it's 80s synth-pop @bob http://x.com/a #shoegaze 1999"), ['loving', '80s', 'synth', 'pop', 'shoegaze', '80s synth', 'synth pop']);
});

test('possessives and contractions', () => {
  assert.deepEqual(tokenize("The band's sound, don't miss it; they've got lush songs"), ['band', 'sound', 'miss', 'lush', 'song', 'band sound', 'lush song']);
});

test('memoTokenizer returns the same terms as tokenize', () => {
  const tok = memoTokenizer();
  assert.deepEqual(tok('seen live'), tokenize('seen live'));
  assert.equal(tok('seen live'), tok('seen live')); // memoised: the same array
  const long = 'a long review about dreamy guitars '.repeat(5);
  assert.deepEqual(tok(long), tokenize(long));
});
