// Admin view: serving model, pipeline runs, metrics across runs (line charts), validation reports,
// audio feature distributions (histograms). Sections without data say so.
import { api, el, notYet, lineChart, histogram, setupKeyBox } from './common.js';

const body = (id) => document.getElementById(id).querySelector('.body');
const empty = (text) => el('div', { class: 'empty', 'data-state': 'not-computed' }, text);

async function serving() {
  const r = await api('/readyz');
  if (!r.ok) return body('serving').replaceChildren(notYet(r, 'serving'));
  const m = r.body.model;
  body('serving').replaceChildren(
    el('div', { class: 'panel' }, `store: ${r.body.store} · `, m ? `model ${m.model} (${m.kind}${m.runId ? ', run ' + m.runId : ''}) · ${m.users} users × ${m.tracks} tracks · fold-in ${m.foldIn ? 'on' : 'off'}` : 'no model yet: not computed yet'),
  );
}

async function runs() {
  const r = await api('/v1/admin/runs');
  if (!r.ok) return body('runs').replaceChildren(notYet(r, 'pipeline runs'));
  if (!r.body.runs.length) return body('runs').replaceChildren(empty('no pipeline runs yet: not computed yet (run `deepcut pipeline run`)'));
  const rows = r.body.runs
    .slice()
    .reverse()
    .map((x) => {
      const steps = Object.entries(x.steps);
      const secs = steps.reduce((a, [, s]) => a + (s.seconds || 0), 0);
      const status = x.blocked ? el('td', { class: 'blocked', title: x.blocked.reason }, `blocked at ${x.blocked.step}`) : el('td', {}, x.status);
      return el('tr', {}, el('td', {}, x.runId + (x.runId === r.body.published ? ' ★ published' : '')), status, el('td', {}, x.createdAt), el('td', {}, `${steps.filter(([, s]) => s.status === 'done').length}/${steps.length}`), el('td', {}, secs.toFixed(1)));
    });
  // a retrain stopped by validation is said first, with the anomaly that stopped it
  const latest = r.body.runs[r.body.runs.length - 1];
  const banner = latest.blocked ? [el('div', { class: 'panel blocked', 'data-state': 'blocked' }, `retraining is blocked: run ${latest.runId} stopped at ${latest.blocked.step}: ${latest.blocked.reason} The published run${r.body.published ? ' ' + r.body.published : ''} keeps serving.`)] : [];
  body('runs').replaceChildren(...banner, el('table', {}, el('tr', {}, ...['run', 'status', 'created', 'steps done', 'seconds'].map((h) => el('th', {}, h))), ...rows));
}

async function metrics() {
  const r = await api('/v1/admin/metrics');
  if (!r.ok) return body('metrics').replaceChildren(notYet(r, 'model metrics'));
  const names = [...new Set(r.body.runs.flatMap((x) => Object.keys(x.metrics)))].sort();
  if (!names.length) return body('metrics').replaceChildren(empty('no model metrics yet: not computed yet (a pipeline run records them)'));
  body('metrics').replaceChildren(
    el('div', { class: 'charts' }, ...names.map((n) => lineChart(n, r.body.runs.filter((x) => n in x.metrics).map((x) => [x.runId, x.metrics[n]])))),
  );
}

async function validation() {
  const r = await api('/v1/admin/validation');
  if (!r.ok) return body('validation').replaceChildren(notYet(r, 'validation reports'));
  const kids = [el('div', {}, `quarantined rows: ${r.body.quarantined}`)];
  if (!r.body.reports.length) kids.push(empty('no validation reports yet: not computed yet (`deepcut import` writes them)'));
  for (const rep of r.body.reports.slice(-10)) kids.push(el('h3', {}, rep.key), el('pre', {}, JSON.stringify(rep.value, null, 2).slice(0, 3000)));
  body('validation').replaceChildren(...kids);
}

async function audio() {
  const r = await api('/v1/admin/audio-distributions');
  if (!r.ok) return body('audio').replaceChildren(notYet(r, 'audio feature distributions'));
  const f = Object.entries(r.body.features);
  if (!f.length) return body('audio').replaceChildren(empty('no audio features yet: not computed yet'));
  body('audio').replaceChildren(el('div', { class: 'charts' }, ...f.map(([n, v]) => histogram(n, v))));
}

async function all() {
  await Promise.all([serving(), runs(), metrics(), validation(), audio()]);
  document.body.dataset.ready = '1';
}
setupKeyBox(all);
await all();
