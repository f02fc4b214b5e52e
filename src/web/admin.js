// The admin dashboard: serving model, daily listens and listeners, impressions and click-through per
// shelf, runs with per-step timings, gated metrics against their baseline and the previous run,
// validation reports and the quarantine, audio feature distributions. Refreshes every 30 s.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, render, api, failure, num, apiKey, setApiKey, Status } from './common.js';
import { barSeries } from './charts.js';

const KEYS = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];
const REFRESH_MS = 30_000;

/** A chart with a visible caption that also names it for screen readers. */
function Chart({ id, caption, labels, series, bars = false }) {
  const ref = useRef(null);
  useEffect(() => {
    if (!ref.current || !labels.length) return;
    ref.current.replaceChildren();
    const p = barSeries(ref.current, labels, series, { bars });
    return () => p.destroy();
  }, [JSON.stringify([labels, series])]);
  return html`<figure class="chart-box"><figcaption id=${id}>${caption}</figcaption>${labels.length ? html`<div ref=${ref} role="img" aria-labelledby=${id}></div>` : html`<p class="empty">no data yet</p>`}</figure>`;
}

const Section = ({ id, title, children }) => html`<section id=${id} aria-labelledby=${`${id}-h`}><h2 id=${`${id}-h`}>${title}</h2>${children}</section>`;
const noPaths = (s) => String(s).replace(/(?:[A-Za-z]:)?(?:\/[^\s/"',:]+)+\/([^\s/"',:]+)/g, '…/$1');

function Series({ s }) {
  if (!s.ok) return html`<p class="empty">${failure(s, 'series')}</p>`;
  const d = s.body;
  const labels = d.days.map((x) => x.slice(5));
  const shelves = Object.entries(d.shelves).filter(([, v]) => v.impressions.some((x) => x > 0) || v.clicks.some((x) => x > 0));
  const ctr = shelves.map(([k, v]) => ({ label: k, values: v.impressions.map((n, i) => (n ? v.clicks[i] / n : null)) }));
  return html`<p>Today (server clock): ${d.today.slice(0, 16).replace('T', ' ')} UTC</p>
    <div class="charts">
      <${Chart} id="c-listens" caption="Listens per day" labels=${labels} series=${[{ label: 'listens', values: d.listens }]} bars=${true} />
      <${Chart} id="c-listeners" caption="Active listeners per day" labels=${labels} series=${[{ label: 'listeners', values: d.listeners }]} bars=${true} />
      <${Chart} id="c-impr" caption="Impressions per home shelf per day" labels=${labels} series=${shelves.map(([k, v]) => ({ label: k, values: v.impressions }))} />
      <${Chart} id="c-ctr" caption="Click-through per home shelf (listens started from a card ÷ impressions)" labels=${labels} series=${ctr} />
    </div>`;
}

function Runs({ runs, metrics }) {
  if (!runs.ok) return html`<p class="empty">${failure(runs, 'pipeline runs')}</p>`;
  const list = runs.body.runs.slice().reverse();
  if (!list.length) return html`<p class="empty" data-state="not-computed">no pipeline runs yet: not computed yet (run \`deepcut pipeline run\`)</p>`;
  const latest = runs.body.runs[runs.body.runs.length - 1];
  const steps = [...new Set(list.flatMap((r) => Object.keys(r.steps)))];
  const m = metrics.ok ? new Map(metrics.body.runs.map((r) => [r.runId, r.metrics])) : new Map();
  const done = metrics.ok ? metrics.body.runs.filter((r) => r.metrics['cf.ndcg_at_10'] !== undefined) : [];
  const gate = done.length ? done[done.length - 1] : null;
  const prev = done.length > 1 ? done[done.length - 2] : null;
  const delta = (a, b) => (b === undefined ? '' : ` (${a - b >= 0 ? '+' : '−'}${num(Math.abs(a - b))})`);
  return html`
    ${latest.blocked ? html`<p class="panel blocked" data-state="blocked">Retraining is blocked: run ${latest.runId} stopped at ${latest.blocked.step}: ${noPaths(latest.blocked.reason)} The published run ${runs.body.published || ''} keeps serving.</p>` : null}
    ${gate ? html`<div class="panel gate"><h3>Gated metric: NDCG@10 of run ${gate.runId}</h3>
      <p><strong>${num(gate.metrics['cf.ndcg_at_10'])}</strong> against the popularity baseline ${num(gate.metrics['cf.popularity_ndcg_at_10'])}
      (${gate.metrics['cf.popularity_ndcg_at_10'] ? `${num(gate.metrics['cf.ndcg_at_10'] / gate.metrics['cf.popularity_ndcg_at_10'], 2)}×` : '—'})${prev ? html`; previous run ${prev.runId}: ${num(prev.metrics['cf.ndcg_at_10'])}${delta(gate.metrics['cf.ndcg_at_10'], prev.metrics['cf.ndcg_at_10'])}` : ''}.</p></div>` : null}
    <div class="scroll" tabindex="0" aria-label="Runs table (scrolls sideways)"><table><caption>Runs, newest first, seconds per step</caption>
      <thead><tr><th scope="col">Run</th><th scope="col">Status</th>${steps.map((s) => html`<th scope="col">${s}</th>`)}<th scope="col">NDCG@10</th></tr></thead>
      <tbody>${list.map((r) => html`<tr><td>${r.runId}${r.runId === runs.body.published ? ' ★ published' : ''}</td><td>${r.blocked ? `blocked at ${r.blocked.step}` : r.status}</td>
        ${steps.map((s) => html`<td class="n">${r.steps[s] ? (r.steps[s].seconds !== undefined ? num(r.steps[s].seconds, 1) : r.steps[s].status) : '—'}</td>`)}
        <td class="n">${num((m.get(r.runId) || {})['cf.ndcg_at_10'])}</td></tr>`)}</tbody></table></div>
    ${metrics.ok && gate ? html`<h3>Every metric of the latest run against the previous</h3><div class="scroll" tabindex="0" aria-label="Metrics table"><table><thead><tr><th scope="col">Metric</th><th scope="col">${gate.runId}</th><th scope="col">${prev ? prev.runId : 'previous'}</th></tr></thead>
      <tbody>${Object.keys(gate.metrics).sort().map((k) => html`<tr><td>${k.replace(/_/g, ' ')}</td><td class="n">${num(gate.metrics[k])}</td><td class="n">${prev ? num(prev.metrics[k]) : '—'}</td></tr>`)}</tbody></table></div>` : null}`;
}

function Validation({ v }) {
  if (!v.ok) return html`<p class="empty">${failure(v, 'validation')}</p>`;
  return html`<p>Rows in quarantine: <strong>${num(v.body.quarantined)}</strong> (inspect with \`deepcut quarantine list\`)</p>
    ${v.body.reports.length ? html`<div class="scroll" tabindex="0" aria-label="Validation reports"><table><thead><tr><th scope="col">Report</th><th scope="col">Summary</th></tr></thead><tbody>
      ${v.body.reports.slice(-10).reverse().map((r) => html`<tr><td>${noPaths(r.key)}</td><td>${summarise(r.value)}</td></tr>`)}</tbody></table></div>` : html`<p class="empty">no validation reports yet (\`deepcut import\` writes them)</p>`}`;
}

/** A validation report in words: its scalar fields, paths cut to file names. */
function summarise(v) {
  if (!v || typeof v !== 'object') return noPaths(v);
  return Object.entries(v)
    .filter(([, x]) => x === null || typeof x !== 'object')
    .slice(0, 8)
    .map(([k, x]) => `${k.replace(/_/g, ' ')}: ${typeof x === 'number' ? num(x) : noPaths(x)}`)
    .join(' · ');
}

function Audio({ a }) {
  if (!a.ok) return html`<p class="empty" data-state="not-computed">${failure(a, 'audio features')}</p>`;
  const f = a.body.features;
  const charts = [];
  if (f.key) {
    const counts = new Array(12).fill(0);
    for (const k of f.key) counts[((Math.round(k) % 12) + 12) % 12]++;
    charts.push(html`<${Chart} id="h-key" caption=${`Key (n=${f.key.length})`} labels=${KEYS} series=${[{ label: 'tracks', values: counts }]} bars=${true} />`);
  }
  const hist = (name, caption, step) => {
    const vs = f[name];
    if (!vs || !vs.length) return;
    const lo = Math.floor(Math.min(...vs) / step) * step;
    const n = Math.min(40, Math.floor((Math.max(...vs) - lo) / step) + 1);
    const counts = new Array(n).fill(0);
    for (const v of vs) counts[Math.min(n - 1, Math.floor((v - lo) / step))]++;
    charts.push(html`<${Chart} id=${`h-${name}`} caption=${`${caption} (n=${vs.length})`} labels=${counts.map((_, i) => num(lo + i * step))} series=${[{ label: 'tracks', values: counts }]} bars=${true} />`);
  };
  hist('tempo_bpm', 'Tempo, BPM', 10);
  hist('loudness_lufs', 'Loudness, LUFS', 2);
  hist('energy', 'Energy, 0–1', 0.1);
  return html`<div class="charts">${charts}</div>`;
}

function Admin() {
  const [d, setD] = useState(null);
  const [status, setStatus] = useState('Loading the dashboard…');
  const load = async () => {
    const [ready, series, runs, metrics, validation, audio] = await Promise.all(['/readyz', '/v1/admin/series?days=60', '/v1/admin/runs', '/v1/admin/metrics', '/v1/admin/validation', '/v1/admin/audio-distributions'].map((p) => api(p)));
    setD({ ready, series, runs, metrics, validation, audio });
    setStatus(`Updated ${new Date().toLocaleTimeString('en-GB')}`);
    document.body.dataset.ready = '1';
  };
  useEffect(() => {
    load();
    const t = setInterval(() => document.visibilityState === 'visible' && load(), REFRESH_MS);
    return () => clearInterval(t);
  }, []);
  const m = d && d.ready.ok ? d.ready.body.model : null;
  return html`<header class="top"><a class="brand" href="/">deepcut</a><nav aria-label="Main"><a href="/">Listener app</a></nav>
      <details class="key"><summary>API key</summary><label for="key">Admin API key</label><input id="key" type="password" value=${apiKey()} onChange=${(e) => (setApiKey(e.target.value), load())} /></details></header>
    <main id="main"><h1 class="page-title">Dashboard</h1>
    ${!d ? html`<p>Loading…</p>` : html`
      <${Section} id="serving" title="Serving">${d.ready.ok ? html`<p class="panel">Store ${d.ready.body.store} · ${m ? `model ${m.model} (${m.kind}${m.runId ? `, run ${m.runId}` : ''}) · ${num(m.users)} listeners × ${num(m.tracks)} tracks · fold-in ${m.foldIn ? 'on' : 'off'}` : 'no model yet'}</p>` : html`<p class="empty">${failure(d.ready, 'serving')}</p>`}<//>
      <${Section} id="activity" title="Activity"><${Series} s=${d.series} /><//>
      <${Section} id="runs" title="Pipeline runs"><${Runs} runs=${d.runs} metrics=${d.metrics} /><//>
      <${Section} id="validation" title="Validation and quarantine"><${Validation} v=${d.validation} /><//>
      <${Section} id="audio" title="Audio features across the catalog"><${Audio} a=${d.audio} /><//>`}
    </main><${Status} text=${status} />`;
}

document.getElementById('app').replaceChildren();
render(html`<${Admin} />`, document.getElementById('app'));
