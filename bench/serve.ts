// Benchmark of copilog serve's search and pages on a large store, over real HTTP on loopback,
// beside a baseline in the same run: the same words found by a LIKE scan of the stored JSON
// (what a store without the FTS index would do).
//
//   node --import tsx bench/serve.ts [interactions=1000000] [requests=200] [--store PATH]
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
// Words that occur in the generated text, common and rare: one store's real vocabulary.
const sample = store.db.prepare('SELECT json FROM interactions WHERE seq % 997 = 0 LIMIT 400').pluck().all() as string[];
const words = [...new Set(sample.flatMap((j) => (JSON.parse(j).body?.content ?? '').replace(/<[^>]*>/g, ' ').match(/[A-Za-z]{5,}/g) ?? []))].slice(0, 60);
const server = await startServer({ store, port: 0 });
const base = server.url;
console.log(`serve bench: ${(await store.stats()).interactions.toLocaleString()} interactions, ${REQUESTS} requests each over HTTP, ${words.length} query words; pages of 25`);
try {
  await measure('warm-up', 20, (i) => `${base}/api/search?q=${words[i % words.length]}`);
  await measure('page 1, newest first, no filter', REQUESTS, () => `${base}/api/search?limit=25`);
  let next: string | null = null;
  await measure('next page (keyset), walking 200 pages deep', REQUESTS, async () => {
    const u = `${base}/api/search?limit=25${next ? `&after=${next}` : ''}`;
    next = ((await (await fetch(u)).json()) as { next: string | null }).next;
    return u;
  });
  await measure('search one word', REQUESTS, (i) => `${base}/api/search?q=${words[i % words.length]}`);
  await measure('search two words', REQUESTS, (i) => `${base}/api/search?q=${words[i % words.length]}+${words[(i * 7 + 3) % words.length]}`);
  await measure('search one word + appClass + type filters', REQUESTS, (i) => `${base}/api/search?q=${words[i % words.length]}&app=IPM.SkypeTeams.Message.Copilot.Teams&type=userPrompt`);
  await measure('search one word + one user', REQUESTS, (i) => `${base}/api/search?q=${words[i % words.length]}&user=${userId(i % USERS)}`);
  await measure('search one word + one month', REQUESTS, (i) => `${base}/api/search?q=${words[i % words.length]}&since=2025-09-01&until=2025-09-30`);
  await measure('conversation', Math.min(REQUESTS, 100), async (i) => {
    const r = (await (await fetch(`${base}/api/search?limit=1&user=${userId(i % USERS)}`)).json()) as { hits: { conversationId: string }[] };
    return `${base}/api/conversations/${r.hits[0]!.conversationId}`;
  });
  await measure('usage (dashboard aggregates), whole store', 5, () => `${base}/api/usage`);
  // Baseline: the same one-word searches as a LIKE scan over the JSON, first page only.
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
} finally {
  await server.close();
  await store.close();
}
