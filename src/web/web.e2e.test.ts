/**
 * The listener app and the admin dashboard end to end in real Chromium (playwright-core + Debian's
 * /usr/bin/chromium) on the small generated world through the pipeline: a track plays (the audio
 * element advances), a like is stored as a listen with its home context and the next home shows
 * it, each playlist format downloads and parses, no page scrolls sideways at 390 px, axe-core finds
 * no serious or critical violation on any page, and nothing is logged as a console error. The
 * dashboard: the bandit's report, the user inspector, run the pipeline / roll back / publish each
 * asked first (Cancel does nothing), the runs' dead letters (none, then one faked into the answer).
 * Screenshots of every page at 1280 and 390 px go to test-output/web/ (not in git).
 * Skipped with a printed reason when Chromium is missing, unless CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../server/index.ts';
import { servedWorld } from '../server/testing/served-world.ts';
import { loadServingState } from '../serving/index.ts';
import type { AudioFeatureSource } from '../serving/index.ts';
import { ShiftedClock } from '../core/clock.ts';
import { encodeWav } from '../generate/index.ts';
import { PNG, id3WithPicture, wavWithTag } from '../server/testing/cover-files.ts';

const CHROMIUM = '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
const SHOTS = join(process.cwd(), 'test-output', 'web');
const USER = 'u-000003';

if (missing && process.env.CI !== 'true') console.log(`# skipping web e2e test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

/** A 6 s 440 Hz tone, 22.05 kHz mono. */
function tone(): Buffer {
  const sr = 22_050;
  const pcm = new Float32Array(sr * 6);
  for (let i = 0; i < pcm.length; i++) pcm[i] = 0.2 * Math.sin((2 * Math.PI * 440 * i) / sr);
  return encodeWav(pcm, sr);
}

test('listener app and admin dashboard in Chromium: play, like, download, 390 px, accessibility, no console errors', { skip: missing && process.env.CI !== 'true' ? `${CHROMIUM} missing` : false, timeout: 900_000 }, async () => {
  assert.ok(!missing, `${CHROMIUM} is required when CI=true`);
  const { chromium } = await import('playwright-core');
  const root = mkdtempSync(join(tmpdir(), 'dc-web-'));
  // audio (a short tone) for the 40 most streamed tracks, written beside the catalog before it is imported
  const audioSet = new Set<string>();
  const w = await servedWorld(root, {
    size: 'small',
    seed: 3,
    audioClips: 0,
    prepare(world) {
      const plays = new Map<string, number>();
      for (const l of readFileSync(join(world, 'listens.jsonl'), 'utf8').trim().split('\n')) {
        const x = JSON.parse(l) as { track_id: string };
        plays.set(x.track_id, (plays.get(x.track_id) ?? 0) + 1);
      }
      for (const [id] of [...plays].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 40)) audioSet.add(id);
      mkdirSync(join(world, 'audio'), { recursive: true });
      const wav = tone();
      const tracks = readFileSync(join(world, 'tracks.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { track_id: string; audio_path?: string });
      // the most streamed track's file carries cover art (an ID3 APIC frame in its WAV)
      const withArt = wavWithTag(id3WithPicture(PNG, 'image/png'), wav);
      for (const t of tracks) if (audioSet.has(t.track_id)) (t.audio_path = `audio/${t.track_id}.wav`), writeFileSync(join(world, t.audio_path), t.track_id === [...audioSet][0] ? withArt : wav);
      writeFileSync(join(world, 'tracks.jsonl'), tracks.map((t) => JSON.stringify(t)).join('\n') + '\n');
    },
  });
  await w.state.home?.close?.();
  const clock = new ShiftedClock('2026-11-23T06:00:00Z');
  const state = await loadServingState(w.store, w.config, { clock });
  // a recommendation shelf with two playable cards and one more to like
  const home0 = await state.home!.home(USER, state.recs!, { deferImpressions: true });
  const shelf0 = home0.shelves.find((s) => s.id !== 'jump-back-in' && s.cards.filter((c) => audioSet.has(c.track_id)).length >= 2)!;
  assert.ok(shelf0, 'a shelf with playable cards');
  const withAudio = shelf0.cards.filter((c) => audioSet.has(c.track_id)).slice(0, 2).map((c) => c.track_id);
  const audio: AudioFeatureSource = {
    get: async (t) => (withAudio.includes(t) ? { key: 9, mode: 0, tempo_bpm: 121.6, time_signature: 3, loudness_lufs: -9.4, energy: 0.62, danceability: 0.5, duration_s: 6 } : undefined),
    distributions: async () => ({ key: [0, 0, 2, 7, 9, 9, 11], tempo_bpm: [92, 101, 120, 122, 128, 140], loudness_lufs: [-14, -11.2, -9.4, -8], energy: [0.2, 0.5, 0.7] }),
  };
  // the dashboard's pipeline run must publish whatever its figures after the likes below (the gate has its own tests)
  w.config.pipeline.regressionTolerance = 1;
  const app = await buildServer({ store: w.store, state: { ...state, audio }, config: w.config, auth: false, clock });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  mkdirSync(SHOTS, { recursive: true });
  const axePath = join(createRequire(import.meta.url).resolve('axe-core'), '..', 'axe.min.js');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'] });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await ctx.newPage();
    const errors: string[] = [];
    let allow404 = false;
    page.on('pageerror', (e) => errors.push(`pageerror: ${e}`));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (allow404 && /status of 404/.test(m.text())) return;
      errors.push(`${page.url()}: ${m.text()} ${JSON.stringify(m.location())}`);
    });

    /** axe-core on the current page: no serious or critical violation. */
    const audit = async (name: string) => {
      await page.addScriptTag({ path: axePath });
      const v = await page.evaluate(async () => {
        const r = await (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run({ resultTypes: ['violations'] });
        return r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical').map((x) => `${x.id} (${x.impact}) at ${x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
      });
      assert.deepEqual(v, [], `axe on ${name}`);
    };
    /** Screenshot at both sizes, the 390 px one checked for sideways scrolling. */
    const shots = async (name: string) => {
      await page.screenshot({ path: join(SHOTS, `${name}-1280.png`) });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(150);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(over <= 0, `${name} scrolls sideways by ${over} px at 390 px`);
      await page.screenshot({ path: join(SHOTS, `${name}-390.png`) });
      await page.setViewportSize({ width: 1280, height: 900 });
    };
    const visit = async (hash: string, loaded: string) => {
      await page.goto(`${url}/?user=${USER}${hash}`);
      await page.waitForSelector(loaded.endsWith(':') ? `body[data-loaded^="${loaded}"]` : `body[data-loaded="${loaded}"]`);
    };

    // home: shelves with titles, artists and reasons; the weekly shelves link to their pages
    await visit('', USER);
    const shelves = await page.$$eval('section.shelf', (ss) => ss.map((s) => s.getAttribute('data-shelf')));
    assert.ok(shelves.length >= 4, shelves.join(','));
    assert.ok(shelves.includes('discover-weekly') && shelves.includes('release-radar'), shelves.join(','));
    // impressions are logged for the shelves on screen, not for the page view
    await page.waitForTimeout(300);
    await audit('home');
    await shots('home');

    // play: the first card with audio, the audio element advances
    await page.click(`section[data-shelf="${shelf0.id}"] li[data-track="${withAudio[0]}"] button.play`);
    await page.waitForFunction(() => (document.querySelector('footer.player audio') as HTMLAudioElement | null)?.currentTime! > 0.5, undefined, { timeout: 20_000 });
    assert.equal(await page.textContent('footer.player .now strong'), shelf0.cards.find((c) => c.track_id === withAudio[0])!.title);
    await page.click('button[aria-label="Next track"]');
    await page.waitForFunction((id) => (document.querySelector('footer.player audio') as HTMLAudioElement).src.includes(id), withAudio[1]);

    // like a card: stored as a listen with its home context, and the next home no longer offers it as new
    const liked = shelf0.cards.find((c) => !withAudio.includes(c.track_id))!.track_id;
    const before = await page.$$eval('li.card', (ls) => ls.map((l) => l.getAttribute('data-track')).join(','));
    await page.click(`section[data-shelf="${shelf0.id}"] li[data-track="${liked}"] button[aria-label^="Like"]`);
    await page.waitForFunction((id) => !document.querySelector(`section.shelf:not([data-shelf="jump-back-in"]) li[data-track="${id}"]`), liked, { timeout: 10_000 });
    assert.notEqual(await page.$$eval('li.card', (ls) => ls.map((l) => l.getAttribute('data-track')).join(',')), before, 'the next home changed');
    const stored = await w.store.list('listens', { where: { user_id: USER, track_id: liked } });
    assert.ok(stored.some((l) => l.context === `home:${shelf0.id}:${liked}` && !l.skipped && l.platform === 'deepcut-web'), JSON.stringify(stored));

    // Discover Weekly: each format downloads and parses
    await visit('#/playlist/discover-weekly', 'discover-weekly:');
    const n = await page.locator('section.shelf li.card').count();
    assert.ok(n >= 10, `${n} tracks`);
    for (const format of ['m3u8', 'jspf', 'xspf']) {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`button.download[data-format="${format}"]`)]);
      const text = readFileSync((await dl.path())!, 'utf8');
      if (format === 'm3u8') {
        assert.match(text, /^#EXTM3U\n/);
        assert.equal(text.split('\n').filter((l) => l.startsWith('#EXTINF:')).length, n);
      } else if (format === 'jspf') assert.equal(JSON.parse(text).playlist.track.length, n);
      else {
        const tracks = await page.evaluate((x) => new DOMParser().parseFromString(x, 'application/xml').getElementsByTagName('track').length, text);
        assert.equal(tracks, n);
      }
      assert.ok(!text.includes(root), `${format} exposes no server path`);
    }
    await audit('discover-weekly');
    await shots('discover-weekly');

    await visit('#/playlist/release-radar', 'release-radar:');
    assert.ok((await page.locator('section.shelf li.card').count()) > 0, 'Release Radar has tracks');
    await audit('release-radar');
    await shots('release-radar');

    await visit('#/mixes', 'mixes');
    const mixTitles = await page.$$eval('section.shelf h2', (hs) => hs.map((h) => h.textContent));
    assert.equal(new Set(mixTitles).size, mixTitles.length, mixTitles.join(' | '));
    await audit('daily-mixes');
    await shots('daily-mixes');

    await visit(`#/track/${withAudio[0]}`, `track:${withAudio[0]}`);
    assert.equal(await page.textContent('[data-testid="features"]'), 'A minor · 122 BPM · 3/4 · −9.4 LUFS');
    await audit('track');
    await shots('track');
    // the track whose file carries art shows it over its tile; the others keep the generated tile
    assert.equal(await page.locator('.hero .cover img').count(), 0, 'no art in the tone files');
    const artTrack = [...audioSet][0];
    await visit(`#/track/${artTrack}`, `track:${artTrack}`);
    await page.waitForFunction(() => (document.querySelector('.hero .cover img') as HTMLImageElement | null)?.naturalWidth === 1, undefined, { timeout: 10_000 });

    const artist = (await w.store.get('tracks', [withAudio[0]]))!.artist_ids[0];
    await visit(`#/artist/${artist}`, `artist:${artist}`);
    await audit('artist');
    await shots('artist');

    const word = shelf0.cards.find((c) => c.track_id === withAudio[0])!.title!.split(' ').pop()!;
    await visit(`#/search/${encodeURIComponent(word)}`, `search:${word}`);
    assert.ok((await page.locator(`li[data-track="${withAudio[0]}"]`).count()) === 1, 'search finds the track by a word of its title');
    await audit('search');
    await shots('search');

    await visit('#/history', 'history');
    await audit('history');
    await shots('history');

    allow404 = true;
    await page.goto(`${url}/?user=no-such-listener`);
    await page.waitForSelector('[data-state="unknown-user"]');
    allow404 = false;
    await audit('unknown-user');
    await shots('unknown-user');

    await page.goto(`${url}/admin`);
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForSelector('#activity .uplot');
    assert.match((await page.textContent('#runs')) ?? '', /against the popularity baseline/);
    assert.equal(await page.locator('#h-key').count(), 1);
    // the bandit's report: the first run had no logged requests, so nothing was promoted, and it says why
    assert.match((await page.textContent('[data-testid="bandit-latest"]')) ?? '', /not promoted — \d+ logged home requests/);
    assert.match((await page.textContent('#compare')) ?? '', /Two runs are needed/);
    // every task of the undisturbed runs finished: the dead letters section says so
    assert.match((await page.textContent('[data-testid="dead-letters"]')) ?? '', /No dead letters/);
    await audit('admin');
    await shots('admin');

    // the user inspector: history beside recommendations, each with its reason
    await page.fill('#inspect', USER);
    await page.click('#inspector button[type="submit"]');
    await page.waitForSelector(`body[data-inspected="${USER}"]`);
    const inspected = (await page.textContent('[data-testid="inspector"]')) ?? '';
    assert.match(inspected, /Latest listens/);
    assert.ok((await page.locator('[data-testid="inspector"] .reason').count()) >= 10, 'recommendations with reasons');
    await audit('admin-inspector');
    await page.locator('#inspector').scrollIntoViewIfNeeded();
    await shots('admin-inspector');

    // run the pipeline: asked first; Cancel does nothing
    const published = async () => (await w.store.getPublication())?.runId;
    await page.click('#run-pipeline');
    await page.waitForSelector('dialog.confirm[open]');
    assert.equal(await page.textContent('#confirm-h'), 'Run the pipeline now?');
    await audit('admin-confirm');
    await page.screenshot({ path: join(SHOTS, 'admin-confirm-1280.png') });
    await page.click('#confirm-no');
    await page.waitForSelector('dialog.confirm:not([open])', { state: 'attached' });
    assert.match((await page.textContent('[data-testid="job"]')) ?? '', /No run started from here yet/);
    // confirmed: the run starts, the page follows it to its end, and the new run is published
    await page.click('#run-pipeline');
    await page.click('#confirm-yes');
    await page.waitForFunction(() => /finished and run \S+ is published/.test(document.querySelector('[data-testid="job"]')?.textContent ?? ''), undefined, { timeout: 600_000 });
    const second = (await published())!;
    assert.notEqual(second, w.runId);
    await page.waitForFunction((id) => document.querySelector(`#runs tr[data-run="${id}"]`)?.textContent?.includes('published'), second);
    assert.match((await page.textContent('#compare')) ?? '', /B − A/);
    // roll back (confirmed): the first run is published again; then publish the second from its row
    await page.click('#rollback');
    await page.click('#confirm-yes');
    await page.waitForFunction((id) => document.querySelector(`#runs tr[data-run="${id}"]`)?.textContent?.includes('published'), w.runId);
    assert.equal(await published(), w.runId);
    await page.click(`#runs tr[data-run="${second}"] button.publish`);
    assert.match((await page.textContent('#confirm-h')) ?? '', new RegExp(`Publish run ${second}`));
    await page.click('#confirm-yes');
    await page.waitForFunction((id) => document.querySelector(`#runs tr[data-run="${id}"]`)?.textContent?.includes('published'), second);
    assert.equal(await published(), second);
    await page.locator('#runs').scrollIntoViewIfNeeded();
    await shots('admin-runs');

    // dead letters, when the runs answer carries them (a fleet's queue): a count per run and the tasks
    await page.route('**/v1/admin/runs', async (route) => {
      const r = await route.fetch();
      const body = (await r.json()) as { runs: Record<string, unknown>[] };
      body.runs.forEach((x, i) => (x.deadLetters = i === 0 ? [{ step: 'audio', id: 'audio:batch-3', kind: 'part', attempts: 3, error: 'cannot decode t042.wav' }] : []));
      await route.fulfill({ response: r, json: body });
    });
    await page.reload();
    await page.waitForSelector('[data-testid="dead-letters"]');
    assert.match((await page.textContent('[data-testid="dead-letters"]')) ?? '', new RegExp(`Run ${w.runId}: 1 task given up.*audio audio:batch-3 after 3 attempts: cannot decode t042\\.wav`));
    await audit('admin-dead-letters');
    await page.unroute('**/v1/admin/runs');

    assert.deepEqual(errors, []);
    console.log(`# screenshots in ${SHOTS}`);
  } finally {
    await browser.close();
    app.server.closeAllConnections();
    await app.close();
    await state.home?.close?.();
    await w.store.close();
    rmSync(root, { recursive: true, force: true });
  }
});
