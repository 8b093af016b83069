// The usage dashboard, shared by copilog serve and copilog report (a classic script: the report
// inlines it). Builds every element with textContent: no stored string is ever parsed as HTML.
(function () {
  'use strict';
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of [].concat(children || [])) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  const APP_PREFIX = 'IPM.SkypeTeams.Message.Copilot.';
  const shortApp = (a) => (a || '(none)').startsWith(APP_PREFIX) ? a.slice(APP_PREFIX.length) : (a || '(none)');
  const person = (u) => u.userPrincipalName || u.displayName || u.id;
  const dark = () => window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;

  function chart(card, config) {
    const canvas = el('canvas', { role: 'img', 'aria-label': card.querySelector('h3').textContent });
    card.append(canvas);
    if (!window.Chart) { card.append(el('p', { class: 'muted' }, 'chart library not loaded')); return; }
    window.Chart.defaults.color = dark() ? '#e6e6e6' : '#1b1b1b';
    window.Chart.defaults.borderColor = dark() ? '#333' : '#ddd';
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: true }, config.options || {});
    const c = new window.Chart(canvas, config);
    (window.copilogCharts = window.copilogCharts || []).push(c);
  }

  function table(head, rows) {
    return el('table', {}, [el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))), el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c == null ? '' : c)))))]);
  }

  function render(root, data) {
    root.replaceChildren();
    window.copilogCharts = [];
    const u = data.usage;
    const t = u.totals;
    root.append(el('div', { class: 'totals' }, [
      ['Interactions', t.interactions], ['Prompts', t.prompts], ['Responses', t.responses], ['Users', t.users], ['Sessions', t.sessions],
    ].map(([k, v]) => el('div', {}, [el('b', {}, Number(v).toLocaleString()), k]))));
    const cards = el('div', { class: 'cards' });
    root.append(cards);
    const card = (title, id) => { const c = el('section', { class: 'card', id }, el('h3', {}, title)); cards.append(c); return c; };
    const days = u.perDay.map((d) => d.day);
    chart(card('Interactions per day', 'chart-per-day'), { type: 'bar', data: { labels: days, datasets: [
      { label: 'interactions', data: u.perDay.map((d) => d.interactions), backgroundColor: '#4e8fd6' },
      { label: 'prompts', data: u.perDay.map((d) => d.prompts), backgroundColor: '#9cc3ee' }] } });
    chart(card('Active users per day', 'chart-active-users'), { type: 'line', data: { labels: days, datasets: [
      { label: 'active users', data: u.perDay.map((d) => d.activeUsers), borderColor: '#2a9d5b', backgroundColor: '#2a9d5b', tension: 0.2 }] } });
    chart(card('Interactions per app', 'chart-per-app'), { type: 'bar', data: { labels: u.perApp.map((a) => shortApp(a.appClass)), datasets: [
      { label: 'interactions', data: u.perApp.map((a) => a.interactions), backgroundColor: '#d67e4e' }] }, options: { indexAxis: 'y' } });
    chart(card(`Top ${u.topUsers.length} users`, 'chart-top-users'), { type: 'bar', data: { labels: u.topUsers.map(person), datasets: [
      { label: 'interactions', data: u.topUsers.map((x) => x.interactions), backgroundColor: '#8a63d2' }] }, options: { indexAxis: 'y' } });
    const runs = card('Export runs', 'runs');
    if (!data.runs || data.runs.length === 0) runs.append(el('p', { class: 'muted' }, 'no runs recorded'));
    for (const r of data.runs || []) {
      const s = r.run.summary || {};
      runs.append(el('p', {}, `Run ${r.run.id} · ${r.run.kind} · ${r.run.status} · started ${r.run.startedAt}` + (s.exported !== undefined ? ` · ${s.exported} read, ${s.new} new` : '')));
      const bad = (r.outcomes || []).filter((o) => o.outcome !== 'exported');
      const counts = {};
      for (const o of r.outcomes || []) counts[o.outcome] = (counts[o.outcome] || 0) + 1;
      runs.append(el('p', { class: 'muted' }, Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') || 'no per-user outcomes'));
      if (bad.length) runs.append(table(['user', 'outcome', 'status', 'code', 'request-id', 'doctor'], bad.map((o) => [o.userPrincipalName || o.userId, o.outcome, o.status, o.code, o.requestId, o.verdict])));
    }
  }
  window.copilogDashboard = { render: render };
})();
