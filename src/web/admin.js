// The admin dashboard: serving model, daily listens and listeners, impressions and click-through per
// shelf, runs with per-step timings (and dead letters where the runs carry them), gated metrics
// against their baseline and the previous run, a comparison of any two runs, the bandit's off-policy
// report, actions (run the pipeline, publish, roll back: each confirmed first), a user inspector,
// validation reports and the quarantine, audio feature distributions. Refreshes every 30 s, every
// 3 s while a pipeline run started here is running.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, render, api, failure, num, apiKey, setApiKey, Status } from './common.js';
import { barSeries } from './charts.js';

const KEYS = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];
const REFRESH_MS = 30_000;
const REFRESH_RUNNING_MS = 3_000;
const enc = encodeURIComponent;

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

/** A run's dead letters (tasks the queue gave up on), when the runs answer carries them: one line each. */
const letterText = (x) => {
  if (typeof x !== 'object' || x === null) return String(x);
  // the API's shape: { step, id, kind, attempts, error }
  const task = x.step && x.id ? `${x.step} ${x.id}` : x.task || x.name || x.id;
  const tries = typeof x.attempts === 'number' ? ` after ${x.attempts} attempt${x.attempts === 1 ? '' : 's'}` : '';
  return [task ? task + tries : '', x.error || x.reason || x.message].filter(Boolean).join(': ') || JSON.stringify(x);
};

function Runs({ runs, metrics, act }) {
  if (!runs.ok) return html`<p class="empty">${failure(runs, 'pipeline runs')}</p>`;
  const list = runs.body.runs.slice().reverse();
  if (!list.length) return html`<p class="empty" data-state="not-computed">no pipeline runs yet: not computed yet (run \`deepcut pipeline run\`, or Run the pipeline now above)</p>`;
  const latest = runs.body.runs[runs.body.runs.length - 1];
  const steps = [...new Set(list.flatMap((r) => Object.keys(r.steps)))];
  const m = metrics.ok ? new Map(metrics.body.runs.map((r) => [r.runId, r.metrics])) : new Map();
  const done = metrics.ok ? metrics.body.runs.filter((r) => r.metrics['cf.ndcg_at_10'] !== undefined) : [];
  const gate = done.length ? done[done.length - 1] : null;
  const prev = done.length > 1 ? done[done.length - 2] : null;
  const delta = (a, b) => (b === undefined ? '' : ` (${a - b >= 0 ? '+' : '−'}${num(Math.abs(a - b))})`);
  // dead letters come with the runs answer of a fleet's queue; without the field, no column
  const letters = list.some((r) => Array.isArray(r.deadLetters));
  const withLetters = list.filter((r) => Array.isArray(r.deadLetters) && r.deadLetters.length);
  return html`
    ${latest.blocked ? html`<p class="panel blocked" data-state="blocked">Retraining is blocked: run ${latest.runId} stopped at ${latest.blocked.step}: ${noPaths(latest.blocked.reason)} The published run ${runs.body.published || ''} keeps serving.</p>` : null}
    ${gate ? html`<div class="panel gate"><h3>Gated metric: NDCG@10 of run ${gate.runId}</h3>
      <p><strong>${num(gate.metrics['cf.ndcg_at_10'])}</strong> against the popularity baseline ${num(gate.metrics['cf.popularity_ndcg_at_10'])}
      (${gate.metrics['cf.popularity_ndcg_at_10'] ? `${num(gate.metrics['cf.ndcg_at_10'] / gate.metrics['cf.popularity_ndcg_at_10'], 2)}×` : '—'})${prev ? html`; previous run ${prev.runId}: ${num(prev.metrics['cf.ndcg_at_10'])}${delta(gate.metrics['cf.ndcg_at_10'], prev.metrics['cf.ndcg_at_10'])}` : ''}.</p></div>` : null}
    <div class="scroll" tabindex="0" aria-label="Runs table (scrolls sideways)"><table><caption>Runs, newest first, seconds per step</caption>
      <thead><tr><th scope="col">Run</th><th scope="col">Status</th>${steps.map((s) => html`<th scope="col">${s}</th>`)}<th scope="col">NDCG@10</th>${letters ? html`<th scope="col">Dead letters</th>` : null}<th scope="col">Action</th></tr></thead>
      <tbody>${list.map((r) => html`<tr data-run=${r.runId}><td>${r.runId}${r.runId === runs.body.published ? ' ★ published' : ''}</td><td>${r.blocked ? `blocked at ${r.blocked.step}` : r.status}</td>
        ${steps.map((s) => html`<td class="n">${r.steps[s] ? (r.steps[s].seconds !== undefined ? num(r.steps[s].seconds, 1) : r.steps[s].status) : '—'}</td>`)}
        <td class="n">${num((m.get(r.runId) || {})['cf.ndcg_at_10'])}</td>
        ${letters ? html`<td class="n">${Array.isArray(r.deadLetters) ? r.deadLetters.length : '—'}</td>` : null}
        <td>${r.status === 'succeeded' && r.runId !== runs.body.published ? html`<button class="publish" aria-label=${`Publish run ${r.runId}`} onClick=${() => act.publish(r.runId)}>Publish</button>` : ''}</td></tr>`)}</tbody></table></div>
    ${letters ? html`<h3>Dead letters</h3>${withLetters.length ? html`<ul class="plain" data-testid="dead-letters">${withLetters.map((r) => html`<li>Run ${r.runId}: ${r.deadLetters.length} task${r.deadLetters.length === 1 ? '' : 's'} given up<ul>${r.deadLetters.slice(0, 20).map((x) => html`<li>${noPaths(letterText(x))}</li>`)}</ul></li>`)}</ul>` : html`<p class="dim" data-testid="dead-letters">No dead letters: every task of every run finished.</p>`}` : null}
    ${metrics.ok && gate ? html`<h3>Every metric of the latest run against the previous</h3><div class="scroll" tabindex="0" aria-label="Metrics table"><table><thead><tr><th scope="col">Metric</th><th scope="col">${gate.runId}</th><th scope="col">${prev ? prev.runId : 'previous'}</th></tr></thead>
      <tbody>${Object.keys(gate.metrics).sort().map((k) => html`<tr><td>${k.replace(/_/g, ' ')}</td><td class="n">${num(gate.metrics[k])}</td><td class="n">${prev ? num(prev.metrics[k]) : '—'}</td></tr>`)}</tbody></table></div>` : null}`;
}

/** Any two runs side by side: step timings and every metric, with the difference. */
function Compare({ runs, metrics }) {
  const ids = runs.ok ? runs.body.runs.map((r) => r.runId).reverse() : [];
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  if (ids.length < 2) return html`<p class="dim">Two runs are needed for a comparison (${ids.length} so far).</p>`;
  const ra = a || ids[1];
  const rb = b || ids[0];
  const run = (id) => runs.body.runs.find((r) => r.runId === id) || { steps: {} };
  const ms = (id) => (metrics.ok ? (metrics.body.runs.find((r) => r.runId === id) || { metrics: {} }).metrics : {});
  const rows = [
    ...[...new Set([...Object.keys(run(ra).steps), ...Object.keys(run(rb).steps)])].map((s) => [`${s} step, s`, run(ra).steps[s]?.seconds, run(rb).steps[s]?.seconds]),
    ...[...new Set([...Object.keys(ms(ra)), ...Object.keys(ms(rb))])].sort().map((k) => [k.replace(/_/g, ' '), ms(ra)[k], ms(rb)[k]]),
  ];
  const diff = (x, y) => (typeof x === 'number' && typeof y === 'number' ? `${y - x >= 0 ? '+' : '−'}${num(Math.abs(y - x))}` : '—');
  const pick = (id, value, set, label) => html`<label>${label} <select id=${id} value=${value} onChange=${(e) => set(e.target.value)}>${ids.map((i) => html`<option value=${i}>${i}</option>`)}</select></label>`;
  return html`<div class="toolbar">${pick('cmp-a', ra, setA, 'Run A')}${pick('cmp-b', rb, setB, 'Run B')}</div>
    <div class="scroll" tabindex="0" aria-label="Run comparison table"><table data-testid="compare"><thead><tr><th scope="col">Figure</th><th scope="col">A: ${ra}</th><th scope="col">B: ${rb}</th><th scope="col">B − A</th></tr></thead>
      <tbody>${rows.map(([k, x, y]) => html`<tr><td>${k}</td><td class="n">${num(x)}</td><td class="n">${num(y)}</td><td class="n">${diff(x, y)}</td></tr>`)}</tbody></table></div>`;
}

/** The bandit step's off-policy report per run: estimates with intervals, promoted or not, why. */
function Bandit({ b }) {
  if (!b.ok) return html`<p class="empty">${failure(b, 'bandit report')}</p>`;
  const list = b.body.runs.slice().reverse();
  if (!list.length) return html`<p class="empty" data-state="not-computed">no bandit report yet: not computed yet (the pipeline's bandit step writes one per run)</p>`;
  const est = (e) => (e ? `${num(e.value)}${e.lo !== null && e.hi !== null ? ` [${num(e.lo)}, ${num(e.hi)}]` : ''}` : '—');
  const last = list[0];
  return html`<p class="panel" data-testid="bandit-latest">Run ${last.run_id}: the home page's reward model was <strong>${last.promoted ? 'promoted' : 'not promoted'}</strong> — ${last.reason}</p>
    <div class="scroll" tabindex="0" aria-label="Bandit reports table"><table><caption>Off-policy estimates (SNIPS, streams per home request, 95% interval) on the logged home requests, newest first</caption>
      <thead><tr><th scope="col">Run</th><th scope="col">Logged requests</th><th scope="col">Candidate</th><th scope="col">Live policy</th><th scope="col">Promoted</th><th scope="col">Why</th></tr></thead>
      <tbody>${list.map((r) => html`<tr><td>${r.run_id}</td><td class="n">${num(r.logged_requests)}</td><td class="n">${est(r.candidate)}</td><td class="n">${est(r.live)}</td><td>${r.promoted ? 'yes' : 'no'}</td><td class="wrap">${r.reason}</td></tr>`)}</tbody></table></div>`;
}

/** Run the pipeline now and roll back, with the state of the run started here. */
function Actions({ job, runs, act }) {
  const j = job.ok ? job.body : null;
  const published = runs.ok ? runs.body.published : null;
  return html`<div class="toolbar">
      <button id="run-pipeline" onClick=${act.run} disabled=${j && j.state === 'running'}>Run the pipeline now</button>
      <button id="rollback" onClick=${act.rollback} disabled=${!published}>Roll back</button>
    </div>
    <p data-testid="job">${!j ? failure(job, 'pipeline job') : j.state === 'idle' ? 'No run started from here yet; the scheduler runs the daily retrain.' : j.state === 'running' ? `A pipeline run started at ${j.started_at.slice(11, 19)} is running (this page refreshes every 3 s).` : j.state === 'succeeded' ? `The run started at ${j.started_at.slice(11, 19)} finished and run ${j.run_id} is published.` : html`<span class="empty">The run started at ${j.started_at.slice(11, 19)} failed: ${noPaths(j.error)} The published run keeps serving.</span>`}</p>`;
}

/** A confirmation dialog (modal): what will happen, Confirm or Cancel. */
function Confirm({ ask, close }) {
  const ref = useRef(null);
  useEffect(() => {
    if (ask && ref.current && !ref.current.open) ref.current.showModal();
    if (!ask && ref.current && ref.current.open) ref.current.close();
  }, [ask]);
  return html`<dialog ref=${ref} class="panel confirm" aria-labelledby="confirm-h" onClose=${() => ask && close()}>
    ${ask ? html`<h2 id="confirm-h">${ask.title}</h2><p>${ask.text}</p>
      <div class="toolbar"><button class="danger" id="confirm-yes" onClick=${() => (close(), ask.action())}>${ask.verb}</button><button id="confirm-no" autofocus onClick=${close}>Cancel</button></div>` : null}
  </dialog>`;
}

const Cards = ({ cards }) => html`<ol class="plain">${cards.map((c) => html`<li><a href=${`/#/track/${enc(c.track_id)}`}>${c.title || c.track_id}</a> · ${(c.artist_names || []).join(', ')} <span class="reason">${c.reason ? c.reason.text : ''}</span></li>`)}</ol>`;

/** A listener inspected: history beside recommendations and home shelves, each with its reason. */
function Inspector() {
  const [who, setWho] = useState('');
  const [users, setUsers] = useState([]);
  // the picker's ids when the box is first used, not with the dashboard
  const asked = useRef(false);
  const loadUsers = () => {
    if (asked.current) return;
    asked.current = true;
    api('/v1/users?limit=1000').then((r) => r.ok && setUsers(r.body.users));
  };
  const [r, setR] = useState(null);
  const look = async (e) => {
    e.preventDefault();
    if (!who.trim()) return;
    setR({ loading: true });
    const x = await api(`/v1/admin/users/${enc(who.trim())}?k=20`);
    setR(x);
    document.body.dataset.inspected = x.ok ? x.body.user_id : `error:${x.status}`;
  };
  let body = null;
  if (r && r.loading) body = html`<p>Loading…</p>`;
  else if (r && !r.ok) body = html`<p class="empty" data-state=${r.status === 404 ? 'unknown-user' : 'error'}>${failure(r, 'listener')}</p>`;
  else if (r) {
    const u = r.body;
    body = html`<p>${u.user_id}: ${num(u.listens)} listens · served by ${u.model || 'no model'}</p>
      <div class="cols" data-testid="inspector">
        <div><h3>What they played</h3><h4>Most played</h4><ol class="plain">${u.most_played.map((t) => html`<li>${t.title || t.track_id} · ${t.artists.join(', ')}</li>`)}</ol>
          <h4>Latest listens</h4><ul class="plain">${u.recent.map((l) => html`<li>${l.started_at.slice(0, 16).replace('T', ' ')} · ${l.title || l.track_id}${l.skipped ? ' · skipped' : ''} <span class="ctx">${l.context}</span></li>`)}</ul></div>
        <div><h3>What they are recommended</h3><${Cards} cards=${u.recommendations} />
          <h3>Their home</h3>${u.shelves.map((s) => html`<h4>${s.title}</h4><${Cards} cards=${s.cards.slice(0, 6)} />`)}</div>
      </div>`;
  }
  return html`<form class="toolbar" onSubmit=${look}><label for="inspect">Listener id</label><input id="inspect" list="inspect-users" value=${who} onFocus=${loadUsers} onInput=${(e) => setWho(e.target.value)} autocomplete="off" />
      <datalist id="inspect-users">${users.map((u) => html`<option value=${u} />`)}</datalist><button type="submit">Inspect</button></form>${body}`;
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
  const [ask, setAsk] = useState(null);
  const load = async () => {
    const paths = ['/readyz', '/v1/admin/series?days=60', '/v1/admin/runs', '/v1/admin/metrics', '/v1/admin/validation', '/v1/admin/audio-distributions', '/v1/admin/bandit', '/v1/admin/pipeline/job'];
    const [ready, series, runs, metrics, validation, audio, bandit, job] = await Promise.all(paths.map((p) => api(p)));
    setD({ ready, series, runs, metrics, validation, audio, bandit, job });
    setStatus(`Updated ${new Date().toLocaleTimeString('en-GB')}`);
    document.body.dataset.ready = '1';
    return job;
  };
  const running = d && d.job.ok && d.job.body.state === 'running';
  useEffect(() => void load(), []);
  useEffect(() => {
    const t = setInterval(() => document.visibilityState === 'visible' && load(), running ? REFRESH_RUNNING_MS : REFRESH_MS);
    return () => clearInterval(t);
  }, [running]);
  /** Do `call` and say what came of it. */
  const doing = async (what, call, done) => {
    setStatus(`${what}…`);
    const r = await call();
    setStatus(r.ok ? done(r.body) : failure(r, what));
    await load();
  };
  const act = {
    run: () => setAsk({ title: 'Run the pipeline now?', verb: 'Run the pipeline', text: 'A full run starts in this server: signals, models, playlists and the bandit, then the promotion gate. If it passes, it is published and served at once; if not, the published run keeps serving. It takes a while and uses the CPU.', action: () => doing('Starting a pipeline run', () => api('/v1/admin/pipeline/run', { method: 'POST', body: { confirm: true } }), () => 'Pipeline run started') }),
    publish: (id) => setAsk({ title: `Publish run ${id}?`, verb: 'Publish', text: `Run ${id} goes through the promotion gate against the published run; if it passes, every listener is served from it at once.`, action: () => doing(`Publishing ${id}`, () => api('/v1/admin/publish', { method: 'POST', body: { run_id: id } }), (b) => `Published ${b.published}; serving ${b.serving || b.published}`) }),
    rollback: () => setAsk({ title: 'Roll back?', verb: 'Roll back', text: 'The run published before the current one is published again and served at once.', action: () => doing('Rolling back', () => api('/v1/admin/rollback', { method: 'POST', body: { confirm: true } }), (b) => `Rolled back to ${b.published}`) }),
  };
  const m = d && d.ready.ok ? d.ready.body.model : null;
  return html`<header class="top"><a class="brand" href="/">deepcut</a><nav aria-label="Main"><a href="/">Listener app</a></nav>
      <details class="key"><summary>API key</summary><label for="key">Admin API key</label><input id="key" type="password" value=${apiKey()} onChange=${(e) => (setApiKey(e.target.value), load())} /></details></header>
    <main id="main"><h1 class="page-title">Dashboard</h1>
    ${!d ? html`<p>Loading…</p>` : html`
      <${Section} id="serving" title="Serving">${d.ready.ok ? html`<p class="panel">Store ${d.ready.body.store} · ${m ? `model ${m.model} (${m.kind}${m.runId ? `, run ${m.runId}` : ''}) · ${num(m.users)} listeners × ${num(m.tracks)} tracks · fold-in ${m.foldIn ? 'on' : 'off'}` : 'no model yet'}</p>` : html`<p class="empty">${failure(d.ready, 'serving')}</p>`}
        <${Actions} job=${d.job} runs=${d.runs} act=${act} /><//>
      <${Section} id="activity" title="Activity"><${Series} s=${d.series} /><//>
      <${Section} id="runs" title="Pipeline runs"><${Runs} runs=${d.runs} metrics=${d.metrics} act=${act} /><//>
      <${Section} id="compare" title="Compare two runs"><${Compare} runs=${d.runs} metrics=${d.metrics} /><//>
      <${Section} id="bandit" title="Home page bandit"><${Bandit} b=${d.bandit} /><//>
      <${Section} id="inspector" title="Listener inspector"><${Inspector} /><//>
      <${Section} id="validation" title="Validation and quarantine"><${Validation} v=${d.validation} /><//>
      <${Section} id="audio" title="Audio features across the catalog"><${Audio} a=${d.audio} /><//>`}
    </main><${Confirm} ask=${ask} close=${() => setAsk(null)} /><${Status} text=${status} />`;
}

document.getElementById('app').replaceChildren();
render(html`<${Admin} />`, document.getElementById('app'));
