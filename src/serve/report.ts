// copilog report: the dashboard as one self-contained HTML file (styles, chart.js, the dashboard
// script and the data inline) to send to people without the tool. It holds aggregates and run
// outcomes only, no prompt or response text. Its own CSP allows exactly its inline scripts (by
// hash) and nothing from the network.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pseudonymizer } from '../formats/pseudonymize.js';
import type { RunRecord, Store, StoreReader, Usage, UserOutcome } from '../store/index.js';
import { chartJsPath, WEB_DIR } from './assets.js';

export interface ReportData {
  generatedAt: string;
  usage: Usage;
  runs: { run: RunRecord; outcomes: UserOutcome[] }[];
}

export async function reportData(store: Store & StoreReader, o: { tenantId?: string; sinceMs?: number; untilMs?: number; top?: number; runs?: number; pseudonymizer?: Pseudonymizer }): Promise<ReportData> {
  const usage = await store.usage({ tenantId: o.tenantId, sinceMs: o.sinceMs, untilMs: o.untilMs, top: o.top ?? 10 });
  const runs = await Promise.all((await store.runs(o.tenantId, o.runs ?? 5)).map(async (run) => ({ run, outcomes: await store.outcomes(run.id) })));
  const p = o.pseudonymizer;
  if (p) {
    for (const u of await store.users(o.tenantId)) p.learn(u);
    for (const u of usage.topUsers) {
      u.id = p.userId(u.id);
      u.userPrincipalName = u.userPrincipalName ? p.upn(u.userPrincipalName) : null;
      u.displayName = u.displayName ? p.name(u.displayName) : null;
    }
    for (const r of runs) {
      r.run.options = JSON.parse(p.text(JSON.stringify(r.run.options))) as Record<string, unknown>;
      if (r.run.summary) r.run.summary = JSON.parse(p.text(JSON.stringify(r.run.summary))) as Record<string, unknown>;
      for (const x of r.outcomes) {
        x.userId = p.userId(x.userId);
        if (x.userPrincipalName) x.userPrincipalName = p.upn(x.userPrincipalName);
        if (x.message) x.message = p.text(x.message);
      }
    }
  }
  return { generatedAt: new Date().toISOString(), usage, runs };
}

const sha = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
/** JSON inside <script type="application/json">: no '<' can close the element early. */
const jsonForScript = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
/** A script's text inline: a literal </script> inside it would end the element. */
const inlineScript = (s: string): string => s.replace(/<\/script/gi, '<\\/script');

export function renderReport(data: ReportData, title = 'copilog usage report'): string {
  const css = readFileSync(join(WEB_DIR, 'style.css'), 'utf8');
  const chart = inlineScript(readFileSync(chartJsPath(), 'utf8'));
  const dashboard = inlineScript(readFileSync(join(WEB_DIR, 'dashboard.js'), 'utf8'));
  const boot = "window.copilogDashboard.render(document.getElementById('dashboard'), JSON.parse(document.getElementById('copilog-data').textContent)); document.body.dataset.ready = 'true';";
  const csp = `default-src 'none'; script-src ${[chart, dashboard, boot].map(sha).join(' ')}; style-src ${sha(css)}; img-src data:; base-uri 'none'; form-action 'none'`;
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style>
</head>
<body>
<header><h1>${esc(title)}</h1><span class="muted">generated ${esc(data.generatedAt)} by copilog report</span></header>
<main><div id="dashboard"></div></main>
<script type="application/json" id="copilog-data">${jsonForScript(data)}</script>
<script>${chart}</script>
<script>${dashboard}</script>
<script>${boot}</script>
</body>
</html>
`;
}
