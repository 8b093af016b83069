// copilog serve over a store the real export engine wrote from the demo tenant: the JSON API
// directly (400s, the token beyond loopback, the Host check), then the page in real headless
// Chromium (search, conversation, filters, dashboard, no script from stored markup). Screenshots
// go to test-artifacts/ (gitignored).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { resolveConfig } from '../src/client/config.js';
import { createClient } from '../src/client/index.js';
import { runExport } from '../src/export/engine.js';
import { resolveTargets } from '../src/export/users.js';
import { isStoreReader, openStore, type Store, type StoreReader } from '../src/store/index.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { copilog, ROOT } from './support/cli.js';
import { tempDir, withEmulator, type TestEmulator } from './support/emulator.js';
import { demoWithoutThrottling } from './support/interactions.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const XSS = '<p>Quarterly zanzibar summary</p><script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"><a href="javascript:window.__pwned=3">link</a>';
let emu: TestEmulator;
let dir: string;
let storePath: string;
let store: Store & StoreReader;
let server: RunningServer;
let knownPrompt: { userId: string; words: string; id: string; requestId: string };

before(async () => {
  emu = await withEmulator(demoWithoutThrottling());
  dir = tempDir('copilog-serve-test-');
  storePath = join(dir, 'demo.db');
  const tenant = (await emu.tenantList()).tenants[0];
  const config = await resolveConfig({ emulator: emu.url, ca: emu.ca }, {});
  const client = createClient(config, { transport: { keepTrace: false } });
  const users = await resolveTargets(client.graph, { kind: 'licensed' });
  // Stored markup that must never run: a response whose HTML body carries script and handlers.
  const member = tenant.users.find((u: any) => u.userType !== 'Guest' && users.some((x) => x.id === u.id));
  const emuNow = Date.parse((await emu.control('/clock')).now);
  const at = new Date(Math.min(emuNow, Date.now()) - 3_600_000).toISOString();
  await emu.control(`/tenants/${tenant.id}/users/${member.id}/interactions`, 'POST', {
    interactions: [{ interactionType: 'aiResponse', createdDateTime: at, body: { contentType: 'html', content: XSS } }],
  });
  const s = await openStore(storePath);
  await runExport({ tenantId: config.tenantId, store: s, graphBaseUrl: config.graphBaseUrl, credential: client.credential, scope: config.scope, transport: client.transport, users });
  await s.close();
  await client.close();
  const opened = await openStore(storePath, { mustExist: true });
  assert.ok(isStoreReader(opened));
  store = opened;
  // A known prompt: three words of a stored prompt's body.
  for await (const r of store.interactions()) {
    const item = JSON.parse(r.json);
    const words = (item.body?.content ?? '').replace(/<[^>]*>/g, ' ').match(/[A-Za-z]{4,}/g) ?? [];
    if (item.interactionType === 'userPrompt' && item.requestId && words.length >= 3) {
      knownPrompt = { userId: r.userId, words: words.slice(0, 3).join(' '), id: item.id, requestId: item.requestId };
      break;
    }
  }
  assert.ok(knownPrompt, 'the demo tenant has prompts');
  server = await startServer({ store, port: 0 });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await server?.close();
  await store?.close();
  await emu?.close();
});

const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await fetch(url, { headers, redirect: 'manual' });
  const text = await r.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
};

describe('JSON API', () => {
  test('meta, facets and an unfiltered page', async () => {
    const meta = await get(`${server.url}/api/meta`);
    assert.equal(meta.status, 200);
    assert.ok(meta.json.interactions > 0);
    assert.match(meta.headers.get('content-security-policy')!, /script-src 'self'/);
    const facets = await get(`${server.url}/api/facets`);
    assert.ok(facets.json.appClasses.length > 0 && facets.json.users.length > 0);
    const page = await get(`${server.url}/api/search?limit=5`);
    assert.equal(page.json.hits.length, 5);
    assert.ok(page.json.next);
    const next = await get(`${server.url}/api/search?limit=5&after=${page.json.next}`);
    assert.equal(next.json.hits.length, 5);
    assert.ok(next.json.hits[0].createdDateTime <= page.json.hits[4].createdDateTime, 'newest first, pages continue');
    assert.notDeepEqual(next.json.hits.map((h: any) => h.id), page.json.hits.map((h: any) => h.id));
  });

  test('search finds the known prompt and its conversation pairs the response', async () => {
    const r = await get(`${server.url}/api/search?q=${encodeURIComponent(knownPrompt.words)}&type=userPrompt&limit=200`);
    assert.equal(r.status, 200);
    const hit = r.json.hits.find((h: any) => h.id === knownPrompt.id);
    assert.ok(hit, `found ${knownPrompt.words}`);
    const c = await get(`${server.url}/api/conversations/${hit.conversationId}`);
    const turn = c.json.turns.find((t: any) => t.requestId === knownPrompt.requestId);
    assert.equal(turn.prompt.id, knownPrompt.id);
    assert.ok(turn.responses.length >= 1, 'the paired response');
  });

  test('stored HTML is sanitized before it leaves the server', async () => {
    const r = await get(`${server.url}/api/search?q=zanzibar`);
    assert.equal(r.json.total, 1);
    const c = await get(`${server.url}/api/conversations/${r.json.hits[0].conversationId}`);
    const html = JSON.stringify(c.json);
    assert.match(html, /zanzibar/);
    assert.doesNotMatch(html, /<script|onerror|javascript:/i);
  });

  test('bad query parameters are clear 400s', async () => {
    const cases: [string, RegExp][] = [
      ['/api/search?since=yesterday', /'since' must be a date/],
      ['/api/search?limit=0', /'limit' must be a whole number from 1 to 200/],
      ['/api/search?limit=abc', /'limit'/],
      ['/api/search?type=bogus', /'type' must be one of userPrompt/],
      ['/api/search?since=2025-10-01&until=2025-09-01', /must be before 'until'/],
      ['/api/search?after=%21%21', /not a page cursor/],
      ['/api/search?colour=red', /unknown query parameter 'colour'/],
      ['/api/search?q=a&q=b', /given 2 times/],
      ['/api/usage?top=1000', /'top' must be a whole number from 1 to 100/],
      ['/api/conversations/not-an-id', /not a conversation id/],
      ['/api/runs/abc', /run id is a whole number/],
    ];
    for (const [path, re] of cases) {
      const r = await get(server.url + path);
      assert.equal(r.status, 400, path);
      assert.equal(r.json.error.code, 'badRequest');
      assert.match(r.json.error.message, re, path);
    }
    assert.equal((await get(`${server.url}/api/runs/99999`)).status, 404);
    assert.equal((await fetch(`${server.url}/api/search`, { method: 'POST' })).status, 405);
  });

  test('usage and runs', async () => {
    const u = await get(`${server.url}/api/usage?top=3`);
    assert.ok(u.json.perDay.length > 0 && u.json.perApp.length > 0);
    assert.equal(u.json.topUsers.length, 3);
    assert.equal(u.json.perDay.reduce((a: number, d: any) => a + d.interactions, 0), u.json.totals.interactions);
    const runs = await get(`${server.url}/api/runs`);
    assert.equal(runs.json.runs.length, 1);
    const run = await get(`${server.url}/api/runs/${runs.json.runs[0].id}`);
    assert.ok(run.json.outcomes.length > 0);
  });

  test('a foreign Host header is refused (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((res, rej) => {
      const r = request(`${server.url}/api/meta`, { headers: { host: 'evil.example:80' } }, (m) => { m.resume(); res(m.statusCode!); });
      r.on('error', rej);
      r.end();
    });
    assert.equal(status, 421);
  });

  test('beyond loopback: refused without a token; the token is checked on every request', async () => {
    await assert.rejects(startServer({ store, host: '0.0.0.0', port: 0 }), /access token/);
    const token = 'a-test-token-of-enough-length-0123';
    const s = await startServer({ store, host: '0.0.0.0', port: 0, token });
    try {
      const base = `http://127.0.0.1:${s.port}`;
      for (const path of ['/api/meta', '/api/search?q=x', '/', '/app.js']) assert.equal((await get(base + path)).status, 401, path);
      assert.equal((await get(`${base}/api/meta`, { authorization: 'Bearer wrong-token-wrong-token' })).status, 401);
      assert.equal((await get(`${base}/api/meta`, { authorization: `Bearer ${token}` })).status, 200);
      // The link form: the token becomes a cookie and leaves the address.
      const link = await get(`${base}/?token=${token}`);
      assert.equal(link.status, 303);
      assert.equal(link.headers.get('location'), '/');
      const cookie = link.headers.get('set-cookie')!.split(';')[0]!;
      assert.match(link.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict/);
      assert.equal((await get(`${base}/api/facets`, { cookie })).status, 200);
      assert.equal((await get(`${base}/api/facets`, { cookie: 'copilog_token=nope' })).status, 401);
    } finally {
      await s.close();
    }
  });

  test('copilog serve refuses a missing store and creates nothing; copilog report writes one self-contained file', async () => {
    const missing = join(dir, 'missing.db');
    const r = await copilog(['serve', '--store', missing, '--port', '0']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no copilog store/);
    assert.equal((await import('node:fs')).existsSync(missing), false);
    const beyond = await copilog(['serve', '--store', storePath, '--host', '0.0.0.0', '--port', '0']);
    assert.equal(beyond.code, 2);
    assert.match(beyond.stderr, /access token/);
    const key = join(dir, 'k.key');
    writeFileSync(key, 'x'.repeat(64));
    const out = join(dir, 'report.html');
    const rep = await copilog(['report', '--store', storePath, '--out', out, '--pseudonymize', key]);
    assert.equal(rep.code, 0, rep.stderr);
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /<script src=|<link /, 'nothing loaded from elsewhere');
    assert.match(html, /pseudonymized\.invalid/);
    const upn = (await store.users())[0]!.userPrincipalName!;
    assert.ok(!html.includes(upn), 'no UPN in a pseudonymized report');
  });
});

describe('in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  before(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1366, height: 850 } });
    page.on('pageerror', (e) => errors.push(e.message));
  });
  after(async () => {
    await browser?.close();
  });
  const ready = async () => page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `serve-${name}.png`), fullPage: true });

  test('search finds a known prompt; opening it shows the paired response; the URL holds both', async () => {
    await page.goto(`${server.url}/`);
    await ready();
    await page.fill('#q', knownPrompt.words);
    await page.press('#q', 'Enter');
    await page.waitForFunction((w) => document.querySelector('#results li .snippet')?.textContent?.toLowerCase().includes((w.split(' ')[0] ?? '').toLowerCase()), knownPrompt.words, { timeout: 30_000 });
    const items = await page.$$eval('#results li', (lis) => lis.map((l) => l.textContent));
    assert.ok(items.length >= 1);
    // Open the known prompt by keyboard: j to it, Enter.
    const index = await page.evaluate(() => 0);
    await page.locator('#results').focus();
    for (let i = 0; i <= index; i++) await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#conversation .msg.response', { timeout: 30_000 });
    assert.match(page.url(), /[?&]open=/);
    assert.match(page.url(), /[?&]q=/);
    const turnHasBoth = await page.$$eval('#conversation .turn', (ts) => ts.some((t) => t.querySelector('.msg.prompt') && t.querySelector('.msg.response')));
    assert.ok(turnHasBoth, 'a prompt with its response');
    await shot('search-conversation');
    // The deep link alone restores the view.
    const p2 = await browser.newPage();
    await p2.goto(page.url());
    await p2.waitForSelector('#conversation .msg.response', { timeout: 30_000 });
    assert.equal(await p2.inputValue('#q'), knownPrompt.words);
    await p2.close();
  });

  test('filters change the results', async () => {
    await page.goto(`${server.url}/?type=userPrompt`);
    await ready();
    const prompts = await page.$$eval('#results li .when', (x) => x.map((e) => e.textContent!));
    assert.ok(prompts.length > 0 && prompts.every((t) => t.includes('prompt')));
    const countAll = await page.textContent('#count');
    await page.selectOption('#type', 'aiResponse');
    await page.waitForFunction(() => [...document.querySelectorAll('#results li .when')].every((e) => e.textContent!.includes('response')), undefined, { timeout: 30_000 });
    const apps = await page.$$eval('#app option', (o) => o.map((x) => (x as HTMLOptionElement).value).filter(Boolean));
    await page.selectOption('#app', apps[apps.length - 1]!);
    await page.waitForFunction((c) => document.querySelector('#count')!.textContent !== c, countAll, { timeout: 30_000 });
    assert.match(page.url(), /app=/);
    assert.notEqual(await page.textContent('#count'), countAll);
    await shot('filters');
  });

  test('the dashboard renders charts with data', async () => {
    await page.goto(`${server.url}/?view=dashboard`);
    await ready();
    await page.waitForSelector('#chart-per-day canvas', { timeout: 30_000 });
    const charts = await page.evaluate(() => (window as any).copilogCharts.map((c: any) => c.data.datasets[0].data.reduce((a: number, b: number) => a + b, 0)));
    assert.equal(charts.length, 4);
    assert.ok(charts.every((n: number) => n > 0), JSON.stringify(charts));
    await shot('dashboard');
  });

  test('stored <script> and onerror= markup does not run', async () => {
    await page.goto(`${server.url}/?q=zanzibar`);
    await ready();
    await page.click('#results li');
    await page.waitForFunction(() => document.querySelector('#conversation')!.textContent!.includes('zanzibar'), undefined, { timeout: 30_000 });
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => (window as any).__pwned), undefined);
    assert.equal(await page.$('#conversation script, #conversation img, #conversation [onerror]'), null);
    await shot('xss');
    assert.deepEqual(errors, []);
  });

  test('the report opens offline and draws its charts', async () => {
    const out = join(dir, 'report-browser.html');
    const rep = await copilog(['report', '--store', storePath, '--out', out]);
    assert.equal(rep.code, 0, rep.stderr);
    const p = await browser.newPage();
    await p.goto(`file://${out}`);
    await p.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.equal(await p.evaluate(() => (window as any).copilogCharts.length), 4);
    await p.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await p.close();
  });
});

test('a schema v1 store gets its search index when serve opens it; nothing else changes', async () => {
  const { default: Database } = await import('better-sqlite3');
  const { MIGRATIONS } = await import('../src/store/schema.js');
  const { APPLICATION_ID } = await import('../src/store/sqlite.js');
  const path = join(tempDir('copilog-serve-v1-'), 'v1.db');
  const db = new Database(path);
  db.exec(MIGRATIONS[0]!.sqlite);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma('user_version = 1');
  const item = { id: 'i1', appClass: 'IPM.SkypeTeams.Message.Copilot.Teams', createdDateTime: '2025-09-01T10:00:00Z', interactionType: 'userPrompt', sessionId: 's1', requestId: 'r1', locale: 'en', from: {},
    body: { contentType: 'text', content: 'hello' }, attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: JSON.stringify({ type: 'AdaptiveCard', body: [{ type: 'TextBlock', text: 'Budget walrus forecast' }] }) }] };
  db.prepare(`INSERT INTO interactions (tenant_id, user_id, id, created_ms, created_date_time, app_class, interaction_type, session_id, request_id, json) VALUES ('t', 'u', 'i1', ?, ?, ?, 'userPrompt', 's1', 'r1', ?)`)
    .run(Date.parse(item.createdDateTime), item.createdDateTime, item.appClass, JSON.stringify(item));
  db.close();
  const s = await openStore(path, { mustExist: true });
  assert.ok(isStoreReader(s));
  const page = await s.search({ text: 'walrus', limit: 10 });
  assert.deepEqual(page.hits.map((h) => h.id), ['i1'], 'adaptive-card text is searchable after the migration');
  assert.equal((await s.interaction('t', 'u', 'i1'))!.id, 'i1');
  // A changed item is re-indexed: the old words go, the new ones are found.
  await s.upsertPage({ tenantId: 't', userId: 'u', scope: '', runId: 1, items: [{ ...item, attachments: [], body: { contentType: 'text', content: 'narwhal' } } as any], cursor: { watermarkMs: null, window: null } });
  assert.equal((await s.search({ text: 'walrus', limit: 10 })).total, 0);
  assert.equal((await s.search({ text: 'narwhal', limit: 10 })).total, 1);
  await s.close();
});

test('upgrading a store of 10,000+ interactions says so before the re-index; a small one upgrades quietly', async () => {
  const { default: Database } = await import('better-sqlite3');
  const { MIGRATIONS, SCHEMA_VERSION } = await import('../src/store/schema.js');
  const { APPLICATION_ID } = await import('../src/store/sqlite.js');
  const v1Store = (rows: number): string => {
    const path = join(tempDir('copilog-upgrade-'), 'v1.db');
    const db = new Database(path);
    db.exec(MIGRATIONS[0]!.sqlite);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('user_version = 1');
    const put = db.prepare(`INSERT INTO interactions (tenant_id, user_id, id, created_ms, created_date_time, app_class, interaction_type, session_id, request_id, json) VALUES ('t', 'u', ?, ?, ?, 'IPM.SkypeTeams.Message.Copilot.Teams', 'userPrompt', 's1', ?, ?)`);
    db.transaction(() => {
      for (let i = 0; i < rows; i++) {
        const at = new Date(Date.UTC(2025, 8, 1) + i * 1000).toISOString();
        put.run(`i${i}`, Date.parse(at), at, `r${i}`, JSON.stringify({ id: `i${i}`, createdDateTime: at, body: { contentType: 'text', content: `prompt ${i}` } }));
      }
    })();
    db.close();
    return path;
  };
  const told: string[] = [];
  const big = await openStore(v1Store(10_000), { onUpgrade: (m) => told.push(m) });
  assert.equal(told.length, 1);
  assert.match(told[0]!, new RegExp(`from schema version 1 to ${SCHEMA_VERSION}: re-indexing 10,000 interactions`));
  assert.equal((await big.stats()).interactions, 10_000);
  await big.close();
  const small = await openStore(v1Store(50), { onUpgrade: (m) => told.push(m) });
  assert.equal(told.length, 1, 'a small store upgrades without a message');
  await small.close();
});

test('usage answers are kept until the store changes: a write through this store or another connection shows at once', async () => {
  const path = join(tempDir('copilog-usage-memo-'), 'memo.db');
  const writer = await openStore(path);
  const item = (id: string, at: string) => ({ id, appClass: 'IPM.SkypeTeams.Message.Copilot.Teams', createdDateTime: at, interactionType: 'userPrompt', sessionId: 's1', requestId: id, locale: 'en', from: {}, body: { contentType: 'text', content: 'hello' }, attachments: [] });
  await writer.upsertPage({ tenantId: 't', userId: 'u', scope: '', runId: 1, items: [item('a', '2025-09-01T10:00:00Z')] as any, cursor: { watermarkMs: null, window: null } });
  const reader = await openStore(path, { mustExist: true });
  assert.ok(isStoreReader(reader) && isStoreReader(writer));
  assert.equal((await reader.usage({ top: 5 })).totals.interactions, 1);
  assert.equal((await reader.usage({ top: 5 })).totals.interactions, 1);
  // Another connection commits: the reader's next answer counts it.
  await writer.upsertPage({ tenantId: 't', userId: 'u', scope: '', runId: 1, items: [item('b', '2025-09-02T10:00:00Z')] as any, cursor: { watermarkMs: null, window: null } });
  assert.equal((await reader.usage({ top: 5 })).totals.interactions, 2);
  // This connection writes: its own next answer counts it too.
  assert.equal((await writer.usage({ top: 5 })).totals.interactions, 2);
  await writer.upsertPage({ tenantId: 't', userId: 'v', scope: '', runId: 1, items: [item('c', '2025-09-03T10:00:00Z')] as any, cursor: { watermarkMs: null, window: null } });
  const u = await writer.usage({ top: 5 });
  assert.equal(u.totals.interactions, 3);
  assert.equal(u.totals.users, 2);
  assert.deepEqual(u.perDay.map((d) => d.day), ['2025-09-01', '2025-09-02', '2025-09-03']);
  await reader.close();
  await writer.close();
});
