/**
 * The web app in Chromium on the default demo world (`deepcut demo` first): listener home ready
 * (navigation to every shelf rendered, `body[data-loaded]`) and admin ready (every dashboard
 * section answered, `body[data-ready]`), cold (new browser context) and warm (reload), median of
 * `--runs` (5); page weight of the listener home, compressed as sent (transfer sizes, cold). The
 * breakdown of a cold home: when the home's answer arrived and when it was on screen (the page's
 * `home-answer` / `home-ready` marks), the server's time to first byte for it, the page's main-thread
 * busy time (Chrome's TaskDuration, ScriptDuration) — and the server's CPU per request (in-process,
 * so a loaded machine inflates the walls but not these).
 * `npm run bench -- web [--home DIR] [--runs N]` (DIR: a home where `deepcut demo` ran).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { flag, median, numFlag, type Bench } from './bench.ts';
import { defaultConfig } from '../src/config/config.ts';
import { openStore } from '../src/store/index.ts';
import { loadServingState } from '../src/serving/index.ts';
import { buildServer } from '../src/server/index.ts';
import { ShiftedClock } from '../src/core/clock.ts';
import { DEFAULT_CLOCK } from '../src/generate/index.ts';

const CHROMIUM = '/usr/bin/chromium';

const bench: Bench = {
  name: 'web',
  description: 'Listener home and admin dashboard ready in Chromium (loopback, auth off) on the default demo world; page weight of the listener home as sent (gzip).',
  async run(args) {
    const home = flag(args, 'home') ?? defaultConfig().home;
    const runs = numFlag(args, 'runs', 5);
    if (!existsSync(join(home, 'runs', 'PUBLISHED.json'))) throw new Error(`no published run in ${home}: run \`deepcut demo --no-serve --home ${home}\` first`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
    const config = { ...defaultConfig(), home };
    const store = await openStore({ home });
    const clock = new ShiftedClock(DEFAULT_CLOCK);
    const state = await loadServingState(store, config, { clock });
    const app = await buildServer({ store, state, config, auth: false, clock });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    state.warmUp?.();
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const users = state.recs!.knownUsers(runs * 2 + 1);
    const timeTo = async (page: import('playwright-core').Page, target: string, selector: string) => {
      const t = performance.now();
      // ready = the selector (every shelf rendered), not the load event: cover images and the like
      // may still be on their way then, and the page is usable without them
      await page.goto(target, { waitUntil: 'commit' });
      await page.waitForSelector(selector, { timeout: 60_000 });
      return performance.now() - t;
    };
    const homeCold: number[] = [];
    const answerAt: number[] = [];
    const readyAt: number[] = [];
    const homeTtfb: number[] = [];
    const mainThread: number[] = [];
    const scriptMs: number[] = [];
    const layoutMs: number[] = [];
    const homeWarm: number[] = [];
    const adminCold: number[] = [];
    let weight = 0;
    const serverCpu: Record<string, number[]> = {};
    try {
      // one unmeasured visit: the app's catalog index and the run's lazy readers are built on first use
      {
        const c = await browser.newContext();
        await timeTo(await c.newPage(), `${url}/?user=${users[0]}`, `body[data-loaded="${users[0]}"]`);
        await timeTo(await c.newPage(), `${url}/admin`, 'body[data-ready="1"]');
        await c.close();
      }
      for (let i = 0; i < runs; i++) {
        const u = users[i + 1];
        const c = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const p = await c.newPage();
        const cdp = await c.newCDPSession(p);
        await cdp.send('Performance.enable');
        homeCold.push(await timeTo(p, `${url}/?user=${u}`, `body[data-loaded="${u}"]`));
        // (no named functions inside: the page has no __name helper tsx would call)
        const marks = await p.evaluate(() => {
          const home = performance.getEntriesByType('resource').find((e) => e.name.includes('/home?')) as PerformanceResourceTiming | undefined;
          return { answer: performance.getEntriesByName('home-answer')[0]?.startTime ?? NaN, ready: performance.getEntriesByName('home-ready')[0]?.startTime ?? NaN, ttfb: home ? home.responseStart - home.requestStart : NaN };
        });
        answerAt.push(marks.answer);
        readyAt.push(marks.ready);
        homeTtfb.push(marks.ttfb);
        const metric = (ms: { name: string; value: number }[], n: string) => (ms.find((x) => x.name === n)?.value ?? NaN) * 1000;
        const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
        mainThread.push(metric(metrics, 'TaskDuration'));
        scriptMs.push(metric(metrics, 'ScriptDuration'));
        layoutMs.push(metric(metrics, 'LayoutDuration') + metric(metrics, 'RecalcStyleDuration'));
        await cdp.detach();
        if (i === 0) weight = await p.evaluate(() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].reduce((s, e) => s + ((e as PerformanceResourceTiming).transferSize || 0), 0));
        const v = users[runs + i + 1];
        homeWarm.push(await timeTo(p, `${url}/?user=${v}`, `body[data-loaded="${v}"]`));
        await c.close();
        const a = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        adminCold.push(await timeTo(await a.newPage(), `${url}/admin`, 'body[data-ready="1"]'));
        await a.close();
      }
      // the server's CPU per request of a cold home, asked in-process (no browser): median over listeners
      for (const u of users.slice(1, runs + 1)) {
        for (const [name, path] of [['home', `/v1/users/${u}/home?impressions=on-view`], ['audio_tracks', '/v1/audio/tracks'], ['page', '/'], ['app_js', '/web/app.js']] as const) {
          const c0 = process.cpuUsage();
          await app.inject({ url: path, headers: { 'accept-encoding': 'gzip' } });
          const c = process.cpuUsage(c0);
          (serverCpu[name] ??= []).push((c.user + c.system) / 1000);
        }
      }
    } finally {
      await browser.close();
      app.server.closeAllConnections();
      await app.close();
      await state.home?.close?.();
      await store.close();
    }
    return {
      figures: {
        listener_home_ready_cold_ms: Math.round(median(homeCold)),
        listener_home_ready_warm_ms: Math.round(median(homeWarm)),
        admin_ready_cold_ms: Math.round(median(adminCold)),
        listener_page_weight_kb: Math.round(weight / 1024),
        home_answer_at_ms: Math.round(median(answerAt)),
        home_on_screen_at_ms: Math.round(median(readyAt)),
        home_request_ttfb_ms: Math.round(median(homeTtfb)),
        page_main_thread_ms: Math.round(median(mainThread)),
        page_script_ms: Math.round(median(scriptMs)),
        page_layout_style_ms: Math.round(median(layoutMs)),
        ...Object.fromEntries(Object.entries(serverCpu).map(([k, v]) => [`server_cpu_${k}_ms`, Number(median(v).toFixed(1))])),
        users: state.recs!.info.users,
        tracks: state.recs!.info.tracks,
        load_avg_1m: Number(loadavg()[0].toFixed(1)),
      },
      targets: { listener_home_ready_cold_ms: '<= 500', listener_home_ready_warm_ms: '<= 500', admin_ready_cold_ms: '<= 1000', listener_page_weight_kb: '<= 300' },
      notes: [
        `median of ${runs} visits each, from navigation to the page's ready mark (not its load event: cover images may load after it); cold = a new browser context (nothing cached), warm = the next listener in the same tab; the machine is shared (load average above)`,
        'breakdown of a cold home (page clock from navigation start): home_answer_at = its answer arrived, home_on_screen_at = rendered; home_request_ttfb = the server\'s first byte for it; page_main_thread / page_script / page_layout_style = Chrome\'s busy time (wall) of the page\'s main thread / in script / in layout and style over the visit; server_cpu_* = CPU ms per request in the server process',
      ],
    };
  },
};
export default bench;
