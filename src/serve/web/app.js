// copilog serve's page: search, conversation view and dashboard over the JSON API. The URL holds
// the view, the filters and the open conversation, so any state is a link. Stored strings are
// written with textContent; only the server-sanitized `html` of a body is set as markup.
const $ = (s) => document.querySelector(s);
const state = { facets: null, hits: [], selected: -1, next: null, users: new Map() };

function el(tag, attrs, children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of [].concat(children ?? [])) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path) {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  const j = await r.json();
  if (!r.ok) throw new Error(j.error ? j.error.message : `HTTP ${r.status}`);
  return j;
}

const params = () => new URLSearchParams(location.search);
const FILTERS = ['q', 'user', 'app', 'type', 'since', 'until'];

function setUrl(change, push) {
  const p = params();
  for (const [k, v] of Object.entries(change)) (v ? p.set(k, v) : p.delete(k));
  const url = `${location.pathname}${p.toString() ? `?${p}` : ''}`;
  (push ? history.pushState : history.replaceState).call(history, null, '', url);
}

const userLabel = (id) => { const u = state.users.get(id); return u ? (u.userPrincipalName || u.displayName || id) : id; };
const userId = (v) => { for (const u of state.users.values()) if (u.userPrincipalName && u.userPrincipalName.toLowerCase() === v.toLowerCase()) return u.id; return v; };

/** Text with the query words marked, built from text nodes only. */
function highlighted(text, words) {
  const frag = document.createDocumentFragment();
  if (!words.length) { frag.append(text); return frag; }
  const re = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'gi');
  let last = 0;
  for (const m of text.matchAll(re)) {
    frag.append(text.slice(last, m.index));
    frag.append(el('mark', {}, m[0]));
    last = m.index + m[0].length;
  }
  frag.append(text.slice(last));
  return frag;
}
const queryWords = () => (params().get('q') || '').toLowerCase().match(/[\p{L}\p{N}]+/gu) || [];

async function loadFacets() {
  state.facets = await api('/api/facets');
  for (const u of state.facets.users) state.users.set(u.id, u);
  $('#users').replaceChildren(...state.facets.users.slice(0, 5000).map((u) => el('option', { value: u.userPrincipalName || u.id }, `${u.displayName || ''} (${u.interactions})`)));
  $('#app').append(...state.facets.appClasses.map((a) => el('option', { value: a.appClass }, `${a.appClass.replace('IPM.SkypeTeams.Message.Copilot.', '')} (${a.interactions})`)));
}

function formToUrl() {
  const change = {};
  for (const k of FILTERS) change[k] = $(`#${k}`).value.trim();
  if (change.user) change.user = userId(change.user);
  setUrl({ ...change, open: '', view: 'search' }, true);
}

function urlToForm() {
  const p = params();
  for (const k of FILTERS) $(`#${k}`).value = k === 'user' && p.get(k) ? userLabel(p.get(k)) : (p.get(k) || '');
}

function searchQuery(after) {
  const p = params();
  const q = new URLSearchParams();
  for (const k of FILTERS) if (p.get(k)) q.set(k, p.get(k));
  q.set('limit', '25');
  if (after) q.set('after', after);
  return `/api/search?${q}`;
}

async function search(after) {
  const page = await api(searchQuery(after));
  if (!after) { state.hits = []; $('#results').replaceChildren(); state.selected = -1; }
  const words = queryWords();
  for (const h of page.hits) {
    const i = state.hits.length;
    state.hits.push(h);
    const li = el('li', { role: 'option', 'data-index': String(i), 'aria-selected': 'false' }, [
      el('span', { class: 'when' }, `${h.createdDateTime.replace('T', ' ').slice(0, 16)} · ${userLabel(h.userId)} · ${(h.appClass || '').replace('IPM.SkypeTeams.Message.Copilot.', '')} · ${h.interactionType === 'userPrompt' ? 'prompt' : 'response'}`),
      el('span', { class: 'snippet' }, highlighted(h.snippet, words)),
    ]);
    li.addEventListener('click', () => select(i, true));
    $('#results').append(li);
  }
  state.next = page.next;
  $('#more').hidden = !page.next;
  $('#count').textContent = `${page.total.toLocaleString()}${page.totalCapped ? '+' : ''} interaction${page.total === 1 ? '' : 's'}`;
}

function select(i, open) {
  const items = $('#results').children;
  if (i < 0 || i >= items.length) return;
  if (state.selected >= 0 && items[state.selected]) items[state.selected].setAttribute('aria-selected', 'false');
  state.selected = i;
  items[i].setAttribute('aria-selected', 'true');
  items[i].scrollIntoView({ block: 'nearest' });
  if (open) {
    const h = state.hits[i];
    if (h.conversationId) { setUrl({ open: h.conversationId, focus: h.id }, true); void showConversation(); }
  }
}

function message(v, cls, focus) {
  const box = el('div', { class: `msg ${cls}${v.id === focus ? ' focus' : ''}`, 'data-id': v.id });
  box.append(el('div', { class: 'when' }, `${cls === 'prompt' ? 'Prompt' : 'Response'} · ${v.from || ''} · ${v.createdDateTime.replace('T', ' ').slice(0, 19)} · ${(v.appClass || '').replace('IPM.SkypeTeams.Message.Copilot.', '')}`));
  const body = el('div', { class: 'text' });
  if (v.body && v.body.html !== undefined) body.innerHTML = v.body.html; // sanitized by the server (sanitize-html); CSP blocks script anyway
  else if (v.body) body.textContent = v.body.text;
  box.append(body);
  const extra = [];
  for (const a of v.attachments) extra.push(`Attachment: ${a.name || a.contentType || ''}${a.text ? `\n${a.text}` : ''}`);
  for (const l of v.links) extra.push(`Link: ${l.displayName || ''} ${l.linkUrl || ''}`);
  for (const m of v.mentions) extra.push(`Mention: ${m.mentionText || m.name || ''}`);
  for (const c of v.contexts) extra.push(`Context (${c.contextType || 'reference'}): ${c.displayName || c.contextReference || ''}`);
  if (extra.length) box.append(el('div', { class: 'extra' }, extra.join('\n')));
  return box;
}

async function showConversation() {
  const p = params();
  const id = p.get('open');
  const pane = $('#conversation');
  if (!id) { pane.replaceChildren(); return; }
  try {
    const c = await api(`/api/conversations/${encodeURIComponent(id)}`);
    const focus = p.get('focus');
    pane.replaceChildren(el('h2', {}, `${userLabel(c.userId)} · ${c.startedAt.slice(0, 16).replace('T', ' ')} → ${c.lastAt.slice(0, 16).replace('T', ' ')}`),
      el('p', { class: 'muted' }, `session ${c.sessionId} · ${c.turns.length} turn${c.turns.length === 1 ? '' : 's'}`));
    for (const t of c.turns) {
      const turn = el('section', { class: 'turn', 'data-request-id': t.requestId || '' });
      if (t.prompt) turn.append(message(t.prompt, 'prompt', focus));
      for (const r of t.responses) turn.append(message(r, 'response', focus));
      pane.append(turn);
    }
    const f = pane.querySelector('.msg.focus');
    if (f) f.scrollIntoView({ block: 'nearest' });
  } catch (e) {
    pane.replaceChildren(el('p', { class: 'muted' }, e.message));
  }
}

async function showDashboard() {
  const p = params();
  const q = new URLSearchParams();
  for (const k of ['since', 'until', 'app']) if (p.get(k)) q.set(k, p.get(k));
  const [usage, runs] = await Promise.all([api(`/api/usage?${q}`), api('/api/runs?limit=5')]);
  const detailed = await Promise.all(runs.runs.map((r) => api(`/api/runs/${r.id}`)));
  window.copilogDashboard.render($('#dashboard'), { usage, runs: detailed });
}

async function route() {
  const view = params().get('view') === 'dashboard' ? 'dashboard' : 'search';
  $('#search-view').hidden = view !== 'search';
  $('#dashboard-view').hidden = view !== 'dashboard';
  for (const a of document.querySelectorAll('header nav a')) { if (a.dataset.view === view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current'); }
  if (view === 'dashboard') return showDashboard();
  urlToForm();
  await search();
  await showConversation();
}

function go(view) { setUrl({ view }, true); void route(); }

async function main() {
  const meta = await api('/api/meta');
  $('#meta').textContent = `${meta.interactions.toLocaleString()} interactions · ${meta.users.toLocaleString()} users · ${(meta.firstDateTime || '').slice(0, 10)} – ${(meta.lastDateTime || '').slice(0, 10)}`;
  await loadFacets();
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); formToUrl(); void route(); });
  for (const k of ['app', 'type', 'since', 'until']) $(`#${k}`).addEventListener('change', () => { formToUrl(); void route(); });
  $('#more').addEventListener('click', () => state.next && search(state.next));
  for (const a of document.querySelectorAll('header nav a')) a.addEventListener('click', (e) => { e.preventDefault(); go(a.dataset.view); });
  window.addEventListener('popstate', () => void route());
  document.addEventListener('keydown', (e) => {
    const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName);
    if (e.key === 'Escape') { if (typing) e.target.blur(); else { setUrl({ open: '', focus: '' }, true); void showConversation(); } return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') { e.preventDefault(); $('#q').focus(); }
    else if (e.key === 'j' || e.key === 'ArrowDown') { e.preventDefault(); select(state.selected + 1, false); }
    else if (e.key === 'k' || e.key === 'ArrowUp') { e.preventDefault(); select(Math.max(0, state.selected - 1), false); }
    else if (e.key === 'Enter') select(state.selected, true);
    else if (e.key === 'n' && state.next) void search(state.next);
    else if (e.key === 'd') go('dashboard');
    else if (e.key === 's') go('search');
  });
  await route();
  document.body.dataset.ready = 'true';
}

main().catch((e) => { document.body.dataset.ready = 'error'; $('#count').textContent = e.message; });
