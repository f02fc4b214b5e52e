// Shared helpers for the listener and admin pages: API calls with the stored key, DOM building,
// and small hand-drawn SVG charts (bars, line, histogram). Plain JS, no build step.
export const keyInput = () => document.getElementById('key');

export function apiKey() {
  return localStorage.getItem('deepcut.key') || '';
}

/** GET a JSON route; resolves { ok, status, body } and never throws on HTTP errors. */
export async function api(path) {
  const headers = apiKey() ? { authorization: `Bearer ${apiKey()}` } : {};
  try {
    const r = await fetch(path, { headers });
    const body = await r.json().catch(() => ({}));
    return { ok: r.ok, status: r.status, body };
  } catch (e) {
    return { ok: false, status: 0, body: { error: { code: 'network', message: String(e) } } };
  }
}

/** Element builder: el('div', { class: 'x' }, 'text', child). Text goes in as text, never HTML. */
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

/** The honest empty state for a section whose data is not there: says why. */
export function notYet(res, what) {
  const msg = res.body && res.body.error ? res.body.error.message : `HTTP ${res.status}`;
  const label = res.status === 503 ? `${what}: not computed yet — ${msg}` : res.status === 401 || res.status === 403 ? `${what}: ${msg} (enter an API key above)` : `${what}: ${msg}`;
  return el('div', { class: 'empty', 'data-state': res.status === 503 ? 'not-computed' : 'error' }, label);
}

const NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...kids) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

/**
 * Horizontal bars, one per [label, value]. Values within [-1, 1] are drawn against 1 (shares,
 * probabilities); larger ones (tempo, loudness) against the largest of them.
 */
export function barChart(pairs, { width = 320, row = 18 } = {}) {
  const big = Math.max(1, ...pairs.map(([, v]) => Math.abs(v)));
  const h = pairs.length * row + 4;
  const s = svg('svg', { width, height: h, viewBox: `0 0 ${width} ${h}`, role: 'img' });
  pairs.forEach(([label, v], i) => {
    const y = i * row + 2;
    const w = Math.max(1, (Math.abs(v) / (Math.abs(v) <= 1 ? 1 : big)) * (width - 170));
    s.append(svg('text', { x: 0, y: y + 12 }, label));
    s.append(svg('rect', { x: 110, y, width: w, height: row - 5, fill: '#1db954', rx: 2 }));
    s.append(svg('text', { x: 114 + w, y: y + 12 }, Number(v).toPrecision(3)));
  });
  return s;
}

/** A line over runs: points [x label, y]; min/max labelled. */
export function lineChart(title, points, { width = 300, height = 120 } = {}) {
  const s = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  s.append(svg('text', { x: 4, y: 12 }, title));
  const ys = points.map((p) => p[1]);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const span = hi - lo || 1;
  const X = (i) => 30 + (points.length === 1 ? (width - 40) / 2 : (i * (width - 40)) / (points.length - 1));
  const Y = (v) => height - 18 - ((v - lo) / span) * (height - 40);
  s.append(svg('polyline', { points: points.map((p, i) => `${X(i)},${Y(p[1])}`).join(' '), fill: 'none', stroke: '#1db954', 'stroke-width': 2 }));
  points.forEach((p, i) => s.append(svg('circle', { cx: X(i), cy: Y(p[1]), r: 3, fill: '#1db954' }, svg('title', {}, `${p[0]}: ${p[1]}`))));
  s.append(svg('text', { x: 2, y: Y(hi) + 4 }, hi.toPrecision(3)));
  if (hi !== lo) s.append(svg('text', { x: 2, y: Y(lo) + 4 }, lo.toPrecision(3)));
  return s;
}

/** Histogram of `values` in `bins` equal-width bins. */
export function histogram(title, values, { width = 260, height = 110, bins = 20 } = {}) {
  const s = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  s.append(svg('text', { x: 4, y: 12 }, `${title} (n=${values.length})`));
  if (!values.length) return s;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo || 1)) * bins))]++;
  const top = Math.max(...counts);
  const bw = (width - 10) / bins;
  counts.forEach((c, i) => {
    const h = (c / top) * (height - 36);
    s.append(svg('rect', { x: 5 + i * bw, y: height - 18 - h, width: bw - 1, height: h, fill: '#1db954' }));
  });
  s.append(svg('text', { x: 4, y: height - 4 }, lo.toPrecision(3)));
  s.append(svg('text', { x: width - 40, y: height - 4 }, hi.toPrecision(3)));
  return s;
}

/** Wire the API key box in the header (kept in localStorage). */
export function setupKeyBox(onChange) {
  const k = keyInput();
  if (!k) return;
  k.value = apiKey();
  k.addEventListener('change', () => {
    localStorage.setItem('deepcut.key', k.value.trim());
    onChange();
  });
}
