// Benchmark of copilog serve's search and pages on a large store, over real HTTP on loopback,
// beside a baseline in the same run: the same words found by a LIKE scan of the stored JSON
// (what a store without the FTS index would do).
//
//   node --import tsx bench/serve.ts [interactions=1000000] [requests=200] [--store PATH] [--only REGEX]
//
// --only runs the measurements whose name matches (the warm-up always runs).
//
// Builds the store once (generated histories written through SqliteStore.upsertPage, so the
// search index is maintained as export maintains it) and reuses it on later runs.
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AiInteraction } from '../src/client/models.js';
import { generateHistory } from '../src/emulator/interactions/generator.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import { startServer } from '../src/serve/server.js';

const args = process.argv.slice(2);
const flag = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const storeFlag = flag('--store');
const only = flag('--only');
const TOTAL = Number(args[0] ?? 1_000_000);
const REQUESTS = Number(args[1] ?? 200);
const PER_USER = 500;
const USERS = Math.ceil(TOTAL / PER_USER);
const TENANT = '6a1f0c2e-5b7d-4e21-9c3a-1d2e3f405162';
const file = storeFlag ?? join(tmpdir(), `copilog-bench-serve-${TOTAL}.db`);
const userId = (i: number): string => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const fmt = (n: number, d = 1) => n.toLocaleString('en-GB', { maximumFractionDigits: d, minimumFractionDigits: d });

async function build(): Promise<SqliteStore> {
  const fresh = !existsSync(file);
  const store = await openSqliteStore(file);
  const have = (await store.stats()).interactions;
  if (!fresh && have >= TOTAL) {
    console.log(`reusing ${file}: ${have.toLocaleString()} interactions, ${fmt(statSync(file).size / 2 ** 20)} MiB`);
    return store;
  }
  const t0 = Date.now();
  const runId = await store.beginRun(TENANT, 'bench', {});
  await store.upsertUsers(TENANT, Array.from({ length: USERS }, (_, i) => ({ id: userId(i), userPrincipalName: `user${i}@contoso.example`, displayName: `User ${i}` })));
  for (let i = 0; i < USERS; i++) {
    const items = generateHistory({ seed: 'bench-serve', tenantId: TENANT, userId: userId(i), count: PER_USER, start: new Date('2025-07-01T00:00:00Z'), end: new Date('2026-01-01T00:00:00Z') });
    await store.upsertPage({ tenantId: TENANT, userId: userId(i), scope: '', runId, items: items as unknown as AiInteraction[], cursor: { watermarkMs: null, window: null } });
    if (i % 200 === 199) process.stderr.write(`\r  built ${((i + 1) * PER_USER).toLocaleString()} interactions, ${fmt((Date.now() - t0) / 1000)} s`);
  }
  await store.finishRun(runId, 'completed', {});
  process.stderr.write('\n');
  console.log(`built ${file}: ${(await store.stats()).interactions.toLocaleString()} interactions in ${fmt((Date.now() - t0) / 1000)} s, ${fmt(statSync(file).size / 2 ** 20)} MiB`);
  return store;
}

function pct(lat: number[]): { p50: number; p95: number; max: number } {
  const s = [...lat].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length * 0.5)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!, max: s[s.length - 1]! };
}

async function measure(name: string, n: number, url: (i: number) => string | Promise<string>): Promise<void> {
  if (only && name !== 'warm-up' && !new RegExp(only).test(name)) return;
  const lat: number[] = [];
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const u = await url(i);
    const t = performance.now();
    const r = await fetch(u);
    const j = await r.json() as { hits?: unknown[] };
    lat.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`${u} → ${r.status} ${JSON.stringify(j)}`);
    hits += j.hits?.length ?? 0;
  }
  const p = pct(lat);
  console.log(`  ${name.padEnd(44)} n=${String(n).padStart(4)}  p50 ${fmt(p.p50).padStart(8)} ms  p95 ${fmt(p.p95).padStart(8)} ms  max ${fmt(p.max).padStart(8)} ms  (${fmt(hits / n, 1)} hits/page)`);
}

const store = await build();
// Words and phrases that occur in the generated text, common and rare: one store's real vocabulary.
const sample = store.db.prepare('SELECT json FROM interactions WHERE seq % 997 = 0 LIMIT 400').pluck().all() as string[];
const texts = sample.map((j) => (JSON.parse(j).body?.content ?? '').replace(/<[^>]*>/g, ' ') as string);
const words = [...new Set(texts.flatMap((t) => t.match(/[A-Za-z]{5,}/g) ?? []))].slice(0, 60);
const phrases = [...new Set(texts.flatMap((t) => [...t.matchAll(/(?=\b([A-Za-z]{3,} [A-Za-z]{3,})\b)/g)].map((m) => m[1]!)))].slice(0, 60);
const server = await startServer({ store, port: 0 });
const base = server.url;
const q = (s: string) => encodeURIComponent(s);
const word = (i: number) => words[i % words.length]!;
const TEAMS = 'IPM.SkypeTeams.Message.Copilot.Teams';
console.log(`serve bench: ${(await store.stats()).interactions.toLocaleString()} interactions, ${REQUESTS} requests each over HTTP, ${words.length} query words, ${phrases.length} phrases; pages of 25`);
/** Walks pages of one query: every request is the next page of the one before; a new walk starts when a query runs out or after `depth` pages. */
const walk = (depth: number, query: (chain: number) => string) => {
  let next: string | null = null;
  let chain = 0;
  let pages = 0;
  return async () => {
    if (pages >= depth) { chain++; pages = 0; next = null; }
    const u = `${base}/api/search?limit=25${query(chain)}${next ? `&after=${next}` : ''}`;
    next = ((await (await fetch(u)).json()) as { next: string | null }).next;
    pages++;
    if (!next) { chain++; pages = 0; }
    return u;
  };
};
try {
  await measure('warm-up', 20, (i) => `${base}/api/search?q=${word(i)}`);
  await measure('page 1, newest first, no filter', REQUESTS, () => `${base}/api/search?limit=25`);
  await measure('next page (keyset), walking 200 pages deep', REQUESTS, walk(200, () => ''));
  await measure('filter: one user', REQUESTS, (i) => `${base}/api/search?user=${userId((i * 37) % USERS)}`);
  await measure('filter: appClass + type', REQUESTS, (i) => `${base}/api/search?app=${TEAMS}&type=${i % 2 ? 'userPrompt' : 'aiResponse'}`);
  await measure('filter: one month', REQUESTS, (i) => `${base}/api/search?since=2025-${String(7 + (i % 6)).padStart(2, '0')}-01&until=2025-${String(7 + (i % 6)).padStart(2, '0')}-28`);
  await measure('filter: appClass + type, 50 pages deep', REQUESTS, walk(50, () => `&app=${TEAMS}&type=userPrompt`));
  await measure('search one word', REQUESTS, (i) => `${base}/api/search?q=${word(i)}`);
  await measure('search one word, 20 pages deep', REQUESTS, walk(20, (c) => `&q=${word(c * 7)}`));
  await measure('search word prefix (word*)', REQUESTS, (i) => `${base}/api/search?q=${q(`${word(i).slice(0, 4)}*`)}`);
  await measure('search two words', REQUESTS, (i) => `${base}/api/search?q=${word(i)}+${word(i * 7 + 3)}`);
  await measure('search three words', REQUESTS, (i) => `${base}/api/search?q=${word(i)}+${word(i * 7 + 3)}+${word(i * 13 + 5)}`);
  await measure('search phrase ("two words")', REQUESTS, (i) => `${base}/api/search?q=${q(`"${phrases[i % phrases.length]}"`)}`);
  await measure('search one word + appClass', REQUESTS, (i) => `${base}/api/search?q=${word(i)}&app=${TEAMS}`);
  await measure('search one word + appClass + type filters', REQUESTS, (i) => `${base}/api/search?q=${word(i)}&app=${TEAMS}&type=userPrompt`);
  await measure('search one word + one user', REQUESTS, (i) => `${base}/api/search?q=${word(i)}&user=${userId(i % USERS)}`);
  await measure('search one word + one month', REQUESTS, (i) => `${base}/api/search?q=${word(i)}&since=2025-09-01&until=2025-09-30`);
  await measure('search one word + one day', REQUESTS, (i) => `${base}/api/search?q=${word(i)}&since=2025-09-${String(1 + (i % 28)).padStart(2, '0')}&until=2025-09-${String(1 + (i % 28)).padStart(2, '0')}`);
  await measure('search two words + appClass + month', REQUESTS, (i) => `${base}/api/search?q=${word(i)}+${word(i * 7 + 3)}&app=${TEAMS}&since=2025-10-01&until=2025-10-31`);
  await measure('conversation', Math.min(REQUESTS, 100), async (i) => {
    const r = (await (await fetch(`${base}/api/search?limit=1&user=${userId(i % USERS)}`)).json()) as { hits: { conversationId: string }[] };
    return `${base}/api/conversations/${r.hits[0]!.conversationId}`;
  });
  await measure('usage (dashboard aggregates), whole store', 5, () => `${base}/api/usage`);
  // Baseline: the same one-word searches as a LIKE scan over the JSON, first page only.
  if (!only || new RegExp(only).test('baseline: LIKE scan')) {
    const like = store.db.prepare(`SELECT seq FROM interactions WHERE json LIKE ? ORDER BY created_ms DESC, seq DESC LIMIT 25`);
    const lat: number[] = [];
    const n = Math.min(20, REQUESTS);
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      like.all(`%${words[i % words.length]}%`);
      lat.push(performance.now() - t);
    }
    const p = pct(lat);
    console.log(`  ${'baseline: LIKE scan of the JSON, one word'.padEnd(44)} n=${String(n).padStart(4)}  p50 ${fmt(p.p50).padStart(8)} ms  p95 ${fmt(p.p95).padStart(8)} ms  max ${fmt(p.max).padStart(8)} ms  (in process, no HTTP)`);
  }
} finally {
  await server.close();
  await store.close();
}
