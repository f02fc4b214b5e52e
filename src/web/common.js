// Shared by the listener app and the admin dashboard: Preact + htm (no build step), API calls with
// the stored key, cover tiles, number formatting. The libraries come from the package itself
// (/web/vendor/, see src/server/web-files.ts), mapped by each page's import map.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);
export { render };

export const apiKey = () => localStorage.getItem('deepcut.key') || '';
export const setApiKey = (k) => localStorage.setItem('deepcut.key', k);

/** Call the API; resolves { ok, status, body } and never throws on HTTP errors. */
export function api(path, { method = 'GET', body } = {}) {
  const headers = apiKey() ? { authorization: `Bearer ${apiKey()}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  return answer(fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
}

/** A fetch's response as { ok, status, body }: JSON or text; a network failure as status 0. */
export async function answer(response) {
  try {
    const r = await response;
    const type = r.headers.get('content-type') || '';
    const b = type.includes('json') ? await r.json().catch(() => ({})) : await r.text();
    return { ok: r.ok, status: r.status, body: b };
  } catch (e) {
    return { ok: false, status: 0, body: { error: { code: 'network', message: String(e) } } };
  }
}

/**
 * A request the page started before its modules loaded (index.html's inline script), taken once:
 * the answer when `path` is what it asked for, else undefined (then call {@link api}).
 */
export function early(path) {
  const e = globalThis.deepcutEarly && globalThis.deepcutEarly[path];
  if (!e) return undefined;
  delete globalThis.deepcutEarly[path];
  return answer(e);
}

/**
 * A URL for a media element (audio, img) of an API path: the path itself when no key is set (auth
 * off: the demo), else a blob URL of the answer fetched with the key (media elements send no
 * Authorization header). Resolves null when the answer has no body to show (204, 404).
 */
export async function mediaUrl(path) {
  if (!apiKey()) return path;
  const r = await fetch(path, { headers: { authorization: `Bearer ${apiKey()}` } }).catch(() => null);
  if (!r || !r.ok || r.status === 204) return null;
  return URL.createObjectURL(await r.blob());
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

/**
 * A cover tile: a generated one from the album's (or track's) id — two hues and an angle, the same
 * id always the same tile — with the art embedded in the audio file laid over it when `art` (an
 * API path) gives one; a file without art answers 204 and the tile stays.
 */
export function Cover({ id, label, size = 'm', art = null }) {
  const x = hash(id || '?');
  const a = x % 360;
  const b = (a + 40 + ((x >>> 9) % 140)) % 360;
  const style = `background: linear-gradient(${(x >>> 17) % 360}deg, hsl(${a} 55% 38%), hsl(${b} 60% 22%))`;
  const [src, setSrc] = useState(null);
  useEffect(() => {
    if (!art) return;
    let live = true;
    mediaUrl(art).then((u) => live && setSrc(u));
    return () => (live = false);
  }, [art]);
  return html`<div class=${`cover cover-${size}`} style=${style} aria-hidden="true"><span>${(label || '?').slice(0, 1).toUpperCase()}</span>${art && src ? html`<img src=${src} alt="" loading="lazy" decoding="async" onError=${() => setSrc(null)} />` : null}</div>`;
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
