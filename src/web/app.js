// The listener app: home shelves, Discover Weekly / Release Radar by week (downloadable), Daily
// Mixes, track and artist pages, search, history, a player with a queue, and reactions (play, like,
// skip, not for me) posted with their context so the next home reflects them.
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import { html, render, api, early, mediaUrl, failure, Cover, Status, duration, num, apiKey, setApiKey } from './common.js';

const enc = encodeURIComponent;
const initialUser = new URLSearchParams(location.search).get('user') || localStorage.getItem('deepcut.user') || '';
let withAudio = new Set();
/** The playable tracks, asked for as the page starts (index.html); the cards get their play buttons when it answers. */
const audioReady = (early('/v1/audio/tracks') || api('/v1/audio/tracks')).then((r) => {
  if (r.ok) withAudio = new Set(r.body.track_ids);
});
const coverOf = (id) => (withAudio.has(id) ? `/v1/tracks/${enc(id)}/cover` : null);

function parseRoute() {
  const [, page = 'home', ...rest] = location.hash.replace(/^#/, '').split('/');
  return { page: page || 'home', arg: decodeURIComponent(rest.join('/')) };
}

/** A link to a track or artist page. */
const TrackLink = ({ id, children }) => html`<a href=${`#/track/${enc(id)}`}>${children}</a>`;
const Artists = ({ ids = [], names = [] }) => names.map((n, i) => html`${i ? ', ' : ''}${ids[i] ? html`<a href=${`#/artist/${enc(ids[i])}`}>${n}</a>` : n}`);

function Reason({ reason }) {
  if (!reason) return null;
  const target = reason.track_id ? `#/track/${enc(reason.track_id)}` : reason.artist_id ? `#/artist/${enc(reason.artist_id)}` : null;
  return html`<p class="reason">${target ? html`<a href=${target}>${reason.text}</a>` : reason.text}</p>`;
}

/** One track: cover, title, artists, reason, and what the listener can do with it. */
function Card({ c, context, app, queue, index }) {
  const playable = withAudio.has(c.track_id);
  const title = c.title || c.track_id;
  return html`<li class="card" data-track=${c.track_id}>
    <${Cover} id=${c.album_id || c.track_id} label=${title} art=${coverOf(c.track_id)} />
    <h3 class="t"><${TrackLink} id=${c.track_id}>${title}<//></h3>
    <p class="a"><${Artists} ids=${c.artist_ids} names=${c.artist_names} /></p>
    <${Reason} reason=${c.reason} />
    <div class="actions">
      ${playable
        ? html`<button class="play" aria-label=${`Play ${title}`} onClick=${() => app.play(queue, index, context)}>▶</button>`
        : html`<span class="noaudio" title="the catalog has no audio for this track">no audio</span>`}
      <button aria-label=${`Like ${title}`} onClick=${() => app.react(c, 'like', context)}>♥</button>
      <button aria-label=${`Skip ${title}`} onClick=${() => app.react(c, 'skip', context)}>Skip</button>
      <button aria-label=${`Not for me: ${title}`} onClick=${() => app.react(c, 'not-for-me', context)}>✕</button>
    </div>
  </li>`;
}

function Shelf({ shelf, app, requestId, contextOf }) {
  const ref = useRef(null);
  useEffect(() => {
    if (!requestId || !ref.current) return;
    // an impression: the shelf half on screen while the page is visible
    const io = new IntersectionObserver((es) => {
      if (es.some((e) => e.isIntersecting) && document.visibilityState === 'visible') {
        io.disconnect();
        api(`/v1/users/${enc(app.user)}/home/viewed`, { method: 'POST', body: { request_id: requestId, shelves: [shelf.id] } });
      }
    }, { threshold: 0.5 });
    io.observe(ref.current);
    return () => io.disconnect();
  }, [requestId, shelf.id]);
  const queue = shelf.cards;
  const headingId = `shelf-${shelf.id.replace(/[^a-z0-9-]/gi, '-')}`;
  return html`<section class="shelf" ref=${ref} data-shelf=${shelf.id} aria-labelledby=${headingId}>
    <div class="shelf-head"><h2 id=${headingId}>${shelf.title}</h2>
      ${queue.some((c) => withAudio.has(c.track_id)) ? html`<button onClick=${() => app.play(queue, 0, contextOf)}>Play all</button>` : null}
      ${shelf.link ? html`<a href=${shelf.link}>See all</a>` : null}</div>
    <ul class="cards">${queue.map((c, i) => html`<${Card} key=${c.track_id} c=${c} index=${i} queue=${queue} app=${app} context=${contextOf(c)} />`)}</ul>
  </section>`;
}

function Home({ app }) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    app.say('Loading home…');
    const path = `/v1/users/${enc(app.user)}/home?impressions=on-view`;
    (early(path) || api(path)).then((r) => {
      if (!live) return;
      performance.mark('home-answer');
      setState({ r });
      app.say(r.ok ? `Home for ${app.user}: ${r.body.shelves.length} shelves` : failure(r, 'home'));
    });
    return () => (live = false);
  }, [app.user, app.version]);
  // ready once the answer is on screen
  useEffect(() => {
    if (!state.r) return;
    performance.mark('home-ready');
    document.body.dataset.loaded = app.user;
  }, [state.r]);
  if (!state.r) return html`<p>Loading…</p>`;
  const { r } = state;
  if (r.status === 404) return html`<${Unknown} app=${app} />`;
  if (!r.ok) return html`<p class="empty" data-state=${r.status === 503 ? 'not-computed' : 'error'}>${failure(r, 'home')}</p>`;
  return html`<h1 class="page-title">Home</h1>${r.body.shelves.map((s) => {
    // the weekly shelves show their first cards; their page has the whole list
    const link = s.id === 'discover-weekly' || s.id === 'release-radar' ? `#/playlist/${s.id}` : null;
    return html`<${Shelf} key=${s.id} shelf=${{ ...s, link }} app=${app} requestId=${r.body.request_id} contextOf=${(c) => `home:${s.id}:${c.track_id}`} />`;
  })}`;
}

function Unknown({ app }) {
  return html`<section class="panel" data-state="unknown-user"><h1>Unknown user</h1><p>No listener has the id <strong>${app.user}</strong>. Check the id, or pick a listener above.</p></section>`;
}

const jspf = (b) => (typeof b === 'string' ? JSON.parse(b) : b);

/** Discover Weekly or Release Radar: the week's list, past weeks, downloads. */
function Weekly({ app, kind }) {
  const label = kind === 'discover-weekly' ? 'Discover Weekly' : 'Release Radar';
  const [weeks, setWeeks] = useState(null);
  const [week, setWeek] = useState('');
  const [list, setList] = useState(null);
  useEffect(() => {
    api(`/v1/users/${enc(app.user)}/playlists/${kind}/weeks`).then((r) => {
      setWeeks(r);
      if (r.ok) setWeek(r.body.current || (r.body.weeks[0] && r.body.weeks[0].week) || '');
    });
  }, [app.user, kind]);
  useEffect(() => {
    if (!weeks || !weeks.ok) return;
    app.say(`Loading ${label}…`);
    api(`/v1/users/${enc(app.user)}/playlists/${kind}/export?format=jspf${week ? `&week=${week}` : ''}`).then((r) => {
      setList(r);
      app.say(r.ok ? `${label}: ${jspf(r.body).playlist.track.length} tracks` : failure(r, label));
      document.body.dataset.loaded = `${kind}:${week}`;
    });
  }, [weeks, week]);
  if (!weeks) return html`<p>Loading…</p>`;
  if (weeks.status === 404) return html`<${Unknown} app=${app} />`;
  if (!weeks.ok) return html`<p class="empty">${failure(weeks, label)}</p>`;
  const download = async (format) => {
    const r = await fetch(`/v1/users/${enc(app.user)}/playlists/${kind}/export?format=${format}${week ? `&week=${week}` : ''}`, { headers: apiKey() ? { authorization: `Bearer ${apiKey()}` } : {} });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = `${kind}-${week || 'latest'}.${format}`;
    a.click();
    app.say(`Downloaded ${a.download}`);
  };
  let body = html`<p>Loading…</p>`;
  if (list && !list.ok) body = html`<p class="empty" data-state="none">${list.status === 404 ? `No ${label} for ${app.user} that week yet: the next pipeline run makes it.` : failure(list, label)}</p>`;
  else if (list) {
    const p = jspf(list.body).playlist;
    const cards = p.track.map((t) => ({ track_id: t.identifier[0].replace(/^deepcut:track:/, ''), title: t.title, artist_ids: [], artist_names: [t.creator], reason: { kind: 'playlist', text: t.annotation || '' } }));
    body = html`<${Shelf} shelf=${{ id: kind, title: `${label} · ${cards.length} tracks`, cards }} app=${app} contextOf=${() => `playlist:${kind}:${app.user}:${week}`} />`;
  }
  return html`<h1 class="page-title">${label}</h1>
    <div class="toolbar">
      <label>Week of <select value=${week} onChange=${(e) => setWeek(e.target.value)}>${weeks.body.weeks.map((w) => html`<option value=${w.week}>${w.week} (${w.tracks} tracks)${w.week === weeks.body.current ? ' · this week' : ''}</option>`)}</select></label>
      ${['m3u8', 'jspf', 'xspf'].map((f) => html`<button class="download" data-format=${f} onClick=${() => download(f)}>Download ${f.toUpperCase()}</button>`)}
    </div>${body}`;
}

function Mixes({ app }) {
  const [r, setR] = useState(null);
  useEffect(() => void api(`/v1/users/${enc(app.user)}/playlists/daily-mixes`).then((x) => (setR(x), (document.body.dataset.loaded = 'mixes'))), [app.user]);
  if (!r) return html`<p>Loading…</p>`;
  if (r.status === 404) return html`<${Unknown} app=${app} />`;
  if (!r.ok) return html`<p class="empty" data-state="not-computed">${failure(r, 'Daily Mixes')}</p>`;
  if (!r.body.playlists.length) return html`<p class="empty">${r.body.reason}</p>`;
  return html`<h1 class="page-title">Daily Mixes</h1>${r.body.playlists.map((p) => html`<${Shelf} key=${p.playlist_id} shelf=${{ id: p.playlist_id, title: p.title, cards: p.tracks }} app=${app} contextOf=${() => `playlist:${p.playlist_id}`} />`)}`;
}

function Track({ app, id }) {
  const [r, setR] = useState(null);
  useEffect(() => void api(`/v1/tracks/${enc(id)}`).then((x) => (setR(x), (document.body.dataset.loaded = `track:${id}`))), [id]);
  if (!r) return html`<p>Loading…</p>`;
  if (!r.ok) return html`<p class="empty">${failure(r, 'track')}</p>`;
  const { track: t, features: f, similar, listeners } = r.body;
  const card = { ...t, reason: null };
  const sim = similar.map((s) => ({ ...s, reason: { kind: 'similar_to', text: `similar to ${t.title}`, track_id: t.track_id } }));
  return html`<article class="page">
    <div class="hero"><${Cover} id=${t.track_id} label=${t.title} size="l" art=${t.has_audio ? `/v1/tracks/${enc(t.track_id)}/cover` : null} />
      <div><h1>${t.title}</h1><p><${Artists} ids=${t.artist_ids} names=${t.artist_names} />${t.album ? ` · ${t.album}` : ''} · released ${t.release_date} · ${duration(t.duration_ms)} · ${num(listeners)} listeners</p>
        <p class="features" data-testid="features">${f ? f.summary : 'no audio features for this track'}</p>
        <div class="actions">${t.has_audio ? html`<button onClick=${() => app.play([card], 0, `track:${t.track_id}`)}>▶ Play</button>` : html`<span class="noaudio">no audio</span>`}
          <button onClick=${() => app.radio(t.track_id, t.title)}>Radio from here</button></div></div></div>
    ${f ? html`<h2>Audio features</h2><dl class="feats">${f.items.map((i) => html`<dt>${i.label}</dt><dd>${i.value}</dd>`)}</dl>` : null}
    ${sim.length ? html`<${Shelf} shelf=${{ id: 'similar', title: 'Similar tracks', cards: sim }} app=${app} contextOf=${() => `track:${t.track_id}:similar`} />` : null}
  </article>`;
}

function Artist({ app, id }) {
  const [r, setR] = useState(null);
  useEffect(() => void api(`/v1/artists/${enc(id)}`).then((x) => (setR(x), (document.body.dataset.loaded = `artist:${id}`))), [id]);
  if (!r) return html`<p>Loading…</p>`;
  if (!r.ok) return html`<p class="empty">${failure(r, 'artist')}</p>`;
  const a = r.body;
  const top = a.top_tracks.map((t) => ({ ...t, reason: null }));
  return html`<article class="page">
    <div class="hero"><${Cover} id=${a.artist_id} label=${a.name} size="l" /><div><h1>${a.name}</h1><p>${a.genres.join(', ') || 'no genres'}</p>
      <button onClick=${() => app.radio(a.artist_id, a.name)}>Radio from here</button></div></div>
    <${Shelf} shelf=${{ id: 'top', title: 'Top tracks', cards: top }} app=${app} contextOf=${() => `artist:${a.artist_id}:top`} />
    <h2>Releases</h2><ul class="plain">${a.releases.map((x) => html`<li>${x.title} · ${x.type} · ${x.release_date}</li>`)}</ul>
    <h2>Similar artists</h2><ul class="plain">${a.similar.map((s) => html`<li><a href=${`#/artist/${enc(s.artist_id)}`}>${s.name}</a></li>`)}</ul>
  </article>`;
}

function Search({ app, q }) {
  const [r, setR] = useState(null);
  useEffect(() => void (q && api(`/v1/search?q=${enc(q)}`).then((x) => (setR(x), app.say(x.ok ? `${x.body.tracks.length} tracks, ${x.body.artists.length} artists for “${q}”` : failure(x, 'search')), (document.body.dataset.loaded = `search:${q}`)))), [q]);
  if (!q) return html`<p>Search for a title, an artist or an album above.</p>`;
  if (!r) return html`<p>Searching…</p>`;
  if (!r.ok) return html`<p class="empty">${failure(r, 'search')}</p>`;
  const cards = r.body.tracks.map((t) => ({ ...t, reason: null }));
  return html`<h1 class="page-title">Results for “${q}”</h1>
    ${r.body.artists.length ? html`<h2>Artists</h2><ul class="plain">${r.body.artists.map((a) => html`<li><a href=${`#/artist/${enc(a.artist_id)}`}>${a.name}</a></li>`)}</ul>` : null}
    ${cards.length ? html`<${Shelf} shelf=${{ id: 'results', title: 'Tracks', cards }} app=${app} contextOf=${() => `search:${q}`} />` : html`<p>No tracks match.</p>`}`;
}

function History({ app }) {
  const [r, setR] = useState(null);
  const chart = useRef(null);
  useEffect(() => void api(`/v1/users/${enc(app.user)}/history`).then(setR), [app.user, app.version]);
  useEffect(() => {
    if (!r || !r.ok || !chart.current || !r.body.days.length) return;
    let plot;
    import('./charts.js').then(({ barSeries }) => {
      plot = barSeries(chart.current, r.body.days.map((d) => d.day), [{ label: 'listens', values: r.body.days.map((d) => d.listens) }]);
      document.body.dataset.loaded = 'history';
    });
    return () => plot && plot.destroy();
  }, [r]);
  if (!r) return html`<p>Loading…</p>`;
  if (r.status === 404) return html`<${Unknown} app=${app} />`;
  if (!r.ok) return html`<p class="empty">${failure(r, 'history')}</p>`;
  return html`<h1 class="page-title">Your listening</h1>
    <figure><figcaption id="activity-cap">Listens per day</figcaption><div ref=${chart} role="img" aria-labelledby="activity-cap" class="chart"></div></figure>
    <h2>Top artists and genres by week</h2>
    <div class="scroll"><table><thead><tr><th scope="col">Week of</th><th scope="col">Artists</th><th scope="col">Genres</th></tr></thead>
      <tbody>${r.body.weeks.slice(-8).reverse().map((w) => html`<tr><td>${w.week}</td><td>${w.artists.map((a, i) => html`${i ? ', ' : ''}<a href=${`#/artist/${enc(a.artist_id)}`}>${a.name}</a> (${a.streams})`)}</td><td>${w.genres.map((g) => `${g.genre} (${g.streams})`).join(', ')}</td></tr>`)}</tbody></table></div>
    <h2>Recent listens</h2><ul class="plain">${r.body.recent.map((l) => html`<li>${l.started_at.slice(0, 16).replace('T', ' ')} · <${TrackLink} id=${l.track.track_id}>${l.track.title}<//> · ${l.track.artist_names.join(', ')}${l.skipped ? ' · skipped' : ''} <span class="ctx">${l.context}</span></li>`)}</ul>`;
}

/** The player bar: the queue's current track, previous/next, the audio element. */
function Player({ player, app }) {
  const audio = useRef(null);
  const cur = player.queue[player.index];
  useEffect(() => {
    if (!cur || !audio.current) return;
    let live = true;
    mediaUrl(`/v1/tracks/${enc(cur.track_id)}/audio`).then((src) => {
      if (!live || !audio.current) return;
      if (!src) return app.say(`No audio for ${cur.title}`);
      audio.current.src = src;
      audio.current.play().catch(() => app.say(`Press play to hear ${cur.title}`));
      app.say(`Playing ${cur.title}`);
    });
    return () => (live = false);
  }, [cur && cur.track_id, player.seq]);
  const finish = (reason) => {
    const a = audio.current;
    if (cur && a) app.post(cur, reason === 'ended' ? 'play' : 'skip', player.context(cur), Math.round(a.currentTime * 1000));
  };
  if (!cur) return html`<footer class="player" aria-label="Player"><p class="dim">Nothing playing — press ▶ on a card.</p></footer>`;
  return html`<footer class="player" aria-label="Player">
    <${Cover} id=${cur.track_id} label=${cur.title} size="s" art=${coverOf(cur.track_id)} />
    <div class="now"><strong>${cur.title}</strong><span>${(cur.artist_names || []).join(', ')}</span></div>
    <button aria-label="Previous track" onClick=${() => app.step(-1)}>Previous</button>
    <button aria-label="Next track" onClick=${() => (finish('next'), app.step(1))}>Next</button>
    <audio ref=${audio} controls preload="auto" aria-label=${`Audio of ${cur.title}`} onEnded=${() => (finish('ended'), app.step(1))} onError=${() => app.say(`No audio for ${cur.title}`)}></audio>
    <span class="dim">${player.index + 1} / ${player.queue.length}</span>
  </footer>`;
}

function Header({ app }) {
  const [users, setUsers] = useState([]);
  const [q, setQ] = useState('');
  const [who, setWho] = useState(app.user);
  // the picker's 1,000 ids are asked for once the page has settled, or when the box is used first
  const asked = useRef(false);
  const loadUsers = () => {
    if (asked.current) return;
    asked.current = true;
    api('/v1/users?limit=1000').then((r) => r.ok && setUsers(r.body.users));
  };
  useEffect(() => {
    const t = setTimeout(loadUsers, 2_000);
    return () => clearTimeout(t);
  }, []);
  return html`<header class="top">
    <a class="brand" href="#/">deepcut</a>
    <nav aria-label="Main"><a href="#/">Home</a><a href="#/playlist/discover-weekly">Discover Weekly</a><a href="#/playlist/release-radar">Release Radar</a><a href="#/mixes">Daily Mixes</a><a href="#/history">History</a><a href="/admin">Admin</a></nav>
    <form role="search" onSubmit=${(e) => (e.preventDefault(), (location.hash = `#/search/${enc(q)}`))}>
      <label for="q" class="sr">Search the catalog</label><input id="q" type="search" placeholder="Search title, artist, album" value=${q} onInput=${(e) => setQ(e.target.value)} />
    </form>
    <form onSubmit=${(e) => (e.preventDefault(), app.setUser(who.trim()))}>
      <label for="user">Listener</label><input id="user" list="users" value=${who} onFocus=${loadUsers} onInput=${(e) => setWho(e.target.value)} onChange=${(e) => app.setUser(e.target.value.trim())} autocomplete="off" />
      <datalist id="users">${users.map((u) => html`<option value=${u} />`)}</datalist>
    </form>
    <details class="key"><summary>API key</summary><label for="key">API key</label><input id="key" type="password" value=${apiKey()} onChange=${(e) => (setApiKey(e.target.value), app.refresh())} /></details>
  </header>`;
}

function App() {
  const [route, setRoute] = useState(parseRoute());
  const [user, setUserState] = useState(initialUser);
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState('');
  const [player, setPlayer] = useState({ queue: [], index: 0, seq: 0, context: () => 'unknown' });
  const [, setAudioKnown] = useState(false);
  useEffect(() => void audioReady.then(() => setAudioKnown(true)), []);
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const app = {
    user,
    version,
    say: setStatus,
    refresh: () => setVersion((v) => v + 1),
    setUser(u) {
      if (!u) return;
      localStorage.setItem('deepcut.user', u);
      history.replaceState(null, '', `?user=${enc(u)}${location.hash}`);
      setUserState(u);
    },
    play(queue, index, context) {
      const ctx = typeof context === 'function' ? context : () => context;
      const playable = queue.filter((c) => withAudio.has(c.track_id));
      const at = Math.max(0, playable.indexOf(queue[index]));
      setPlayer((p) => ({ queue: playable, index: at, seq: p.seq + 1, context: ctx }));
    },
    step(d) {
      setPlayer((p) => (p.index + d >= 0 && p.index + d < p.queue.length ? { ...p, index: p.index + d, seq: p.seq + 1 } : p));
    },
    async post(c, action, context, ms) {
      const r = await api(`/v1/users/${enc(user)}/reactions`, { method: 'POST', body: { track_id: c.track_id, action, context, ...(ms !== undefined ? { ms_played: ms } : {}) } });
      return r;
    },
    async react(c, action, context) {
      const r = await app.post(c, action, context);
      const words = { like: 'Liked', skip: 'Skipped', 'not-for-me': 'Not for you:' }[action];
      setStatus(r.ok ? `${words} ${c.title}` : failure(r, action));
      if (r.ok) setVersion((v) => v + 1);
    },
    async radio(seed, name) {
      const r = await api(`/v1/radio?seed=${enc(seed)}&k=50`);
      if (!r.ok) return setStatus(failure(r, 'radio'));
      app.play(r.body.items, 0, () => `radio:${seed}`);
      setStatus(`Radio from ${name}: ${r.body.items.filter((c) => withAudio.has(c.track_id)).length} playable tracks`);
    },
  };
  let page;
  if (!user && !['track', 'artist', 'search'].includes(route.page)) page = html`<section class="panel"><h1>Pick a listener</h1><p>Type or choose a listener id in the box above to see their home.</p></section>`;
  else if (route.page === 'playlist') page = html`<${Weekly} key=${route.arg} app=${app} kind=${route.arg} />`;
  else if (route.page === 'mixes') page = html`<${Mixes} app=${app} />`;
  else if (route.page === 'track') page = html`<${Track} key=${route.arg} app=${app} id=${route.arg} />`;
  else if (route.page === 'artist') page = html`<${Artist} key=${route.arg} app=${app} id=${route.arg} />`;
  else if (route.page === 'search') page = html`<${Search} app=${app} q=${route.arg} />`;
  else if (route.page === 'history') page = html`<${History} app=${app} />`;
  else page = html`<${Home} app=${app} />`;
  return html`<${Header} app=${app} /><main id="main">${page}</main><${Status} text=${status} /><${Player} player=${player} app=${app} />`;
}

document.getElementById('app').replaceChildren();
render(html`<${App} />`, document.getElementById('app'));
document.body.dataset.ready = '1';
