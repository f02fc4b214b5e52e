// Shared by the listener app and the admin dashboard: Preact + htm (no build step), API calls with
// the stored key, cover tiles, number formatting. The libraries come from the package itself
// (/web/vendor/, see src/server/web-files.ts), mapped by each page's import map.
import { h, render } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
export { render };

export const apiKey = () => localStorage.getItem('deepcut.key') || '';
export const setApiKey = (k) => localStorage.setItem('deepcut.key', k);

/** Call the API; resolves { ok, status, body } and never throws on HTTP errors. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = apiKey() ? { authorization: `Bearer ${apiKey()}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const type = r.headers.get('content-type') || '';
    const b = type.includes('json') ? await r.json().catch(() => ({})) : await r.text();
    return { ok: r.ok, status: r.status, body: b };
  } catch (e) {
    return { ok: false, status: 0, body: { error: { code: 'network', message: String(e) } } };
  }
}

/** The message of a failed answer, in words: "not computed yet — …" for 503, the key hint for 401/403. */
export function failure(r, what) {
  const msg = r.body && r.body.error ? r.body.error.message : `HTTP ${r.status}`;
  if (r.status === 503) return `${what}: not computed yet — ${msg}`;
  if (r.status === 401 || r.status === 403) return `${what}: ${msg} (enter an API key)`;
  return `${what}: ${msg}`;
}

/** A 32-bit FNV-1a hash of a string: the same id always gives the same tile. */
export function hash(s) {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return x;
}

/** A generated cover tile for an album (or a track without one): two hues and an angle from its id. */
export function Cover({ id, label, size = 'm' }) {
  const x = hash(id || '?');
  const a = x % 360;
  const b = (a + 40 + ((x >>> 9) % 140)) % 360;
  const style = `background: linear-gradient(${(x >>> 17) % 360}deg, hsl(${a} 55% 38%), hsl(${b} 60% 22%))`;
  return html`<div class=${`cover cover-${size}`} style=${style} aria-hidden="true"><span>${(label || '?').slice(0, 1).toUpperCase()}</span></div>`;
}

/** 1234567 → "1,234,567"; 0.123456 → "0.123"; never scientific notation. */
export function num(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? v.toLocaleString('en-US', { maximumFractionDigits: 1 }) : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: Math.min(digits, 2) });
}

export const duration = (ms) => `${Math.floor(ms / 60000)}:${String(Math.floor((ms % 60000) / 1000)).padStart(2, '0')}`;

/** A polite live region's text: what the page is doing ("Loading home…", "Liked X"). */
export function Status({ text }) {
  return html`<div class="status" role="status" aria-live="polite">${text}</div>`;
}
