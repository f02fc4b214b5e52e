// Listener view: pick a user, see their home shelves, playlists and a track's audio features.
import { api, el, notYet, barChart, setupKeyBox } from './common.js';

const $ = (id) => document.getElementById(id);
const body = (id) => $(id).querySelector('.body');

function card(c) {
  return el(
    'div',
    { class: 'card', 'data-track': c.track_id, title: c.track_id, onclick: () => showFeatures(c) },
    el('div', { class: 't' }, c.title || c.track_id),
    el('div', { class: 'a' }, (c.artist_names || []).join(', ') || '—'),
    el('div', { class: 'r' }, c.reason ? c.reason.text : ''),
  );
}

const shelf = (cards) => el('div', { class: 'shelf' }, ...cards.map(card));

async function showFeatures(c) {
  const b = body('features');
  b.replaceChildren(el('div', {}, `loading ${c.title || c.track_id}…`));
  const r = await api(`/v1/tracks/${encodeURIComponent(c.track_id)}/audio-features`);
  if (!r.ok) return b.replaceChildren(notYet(r, `audio features of ${c.title || c.track_id}`));
  const pairs = Object.entries(r.body.features);
  b.replaceChildren(el('h3', {}, `${c.title || c.track_id} — ${(c.artist_names || []).join(', ')}`), barChart(pairs));
}

async function loadHome(user) {
  const b = body('home');
  const r = await api(`/v1/users/${encodeURIComponent(user)}/home`);
  if (!r.ok) return b.replaceChildren(notYet(r, 'home'));
  b.replaceChildren(...r.body.shelves.flatMap((s) => [el('h3', { 'data-shelf': s.id }, s.title), s.cards.length ? shelf(s.cards) : el('div', { class: 'empty' }, 'no cards on this shelf yet')]));
}

async function loadPlaylists(user, kind, label) {
  const b = body(kind);
  const r = await api(`/v1/users/${encodeURIComponent(user)}/playlists/${kind}`);
  if (!r.ok) return b.replaceChildren(notYet(r, label));
  if (!r.body.playlists.length) return b.replaceChildren(el('div', { class: 'empty', 'data-state': 'none' }, `${label}: ${r.body.reason || 'none yet'}`));
  b.replaceChildren(...r.body.playlists.flatMap((p) => [el('h3', {}, `${p.title} · ${p.tracks.length} tracks · made ${p.made_at.slice(0, 10)}`), shelf(p.tracks)]));
}

async function show(user) {
  if (!user) return;
  history.replaceState(null, '', `?user=${encodeURIComponent(user)}`);
  document.title = `deepcut — ${user}`;
  await Promise.all([loadHome(user), loadPlaylists(user, 'discover-weekly', 'Discover Weekly'), loadPlaylists(user, 'release-radar', 'Release Radar'), loadPlaylists(user, 'daily-mixes', 'Daily Mixes')]);
  document.body.dataset.loaded = user;
}

async function loadUsers() {
  const r = await api('/v1/users?limit=200');
  const sel = $('user-select');
  sel.replaceChildren(el('option', { value: '' }, r.ok ? 'pick a user…' : 'users: ' + (r.body.error ? r.body.error.message : r.status)));
  if (r.ok) for (const u of r.body.users) sel.append(el('option', { value: u }, u));
}

$('user-select').addEventListener('change', (e) => {
  $('user').value = e.target.value;
  show(e.target.value);
});
$('go').addEventListener('click', () => show($('user').value.trim()));
$('user').addEventListener('keydown', (e) => e.key === 'Enter' && show($('user').value.trim()));
setupKeyBox(() => {
  loadUsers();
  show($('user').value.trim());
});

await loadUsers();
const initial = new URLSearchParams(location.search).get('user');
if (initial) {
  $('user').value = initial;
  await show(initial);
}
document.body.dataset.ready = '1';
