// The PostgreSQL store's page write, the statement every fleet worker runs once per Graph page,
// against two baselines in the same run: the same statement unnamed (parsed and planned for every
// page), and unnamed with the page's JSON sent as a text[] (node-postgres quotes every element into
// an array literal) instead of one text split by the server. Pages rotate between the three, one
// at a time, on one database, so the machine's load falls on all alike.
//
// Then, unless --writers is empty, the store's statement from N sessions at once (N = 1,2,4,10 by
// default), each writing its own pages: the server's CPU per page and pages per second, which is
// what PAGE_WRITERS (the page writes one process sends at once) is chosen from.
//
//   node --import tsx bench/pg-pages.ts [--pages 1000] [--per-page 100] [--writers 1,2,4,10] [--writer-pages 600]
//
// Prints per page: wall ms, this process's CPU ms, and the database backends' CPU ms (from /proc),
// plus statement bytes per interaction.
import { readFileSync } from 'node:fs';
import { benchArgs } from './args.js';
import { generateHistory } from '../src/emulator/interactions/generator.js';
import { openStore } from '../src/store/index.js';
import { openPostgresStore, PAGE_JSON, PAGE_STATEMENT, PAGE_UPSERT, pageParams, PostgresStore } from '../src/store/postgres.js';
import type { AiInteraction } from '../src/client/models.js';
import { createTestDatabase } from '../test/support/postgres.js';

const args = benchArgs('pg-pages.ts', ['--pages', '--per-page', '--writers', '--writer-pages']);
const PAGES = args.num('pages', 1000, 2, 1_000_000);
const PER_PAGE = args.num('per-page', 100, 1, 1000);
const WRITERS = args.value('writers', '1,2,4,10').split(',').filter(Boolean).map(Number);
if (!WRITERS.every((w) => Number.isInteger(w) && w >= 1 && w <= 64)) throw new Error('--writers is a list of session counts from 1 to 64, e.g. 1,2,4,10');
const WRITER_PAGES = args.num('writer-pages', 600, 10, 1_000_000);
const TENANT = '6a1f0c2e-5b7d-4e21-9c3a-1d2e3f405162';

const db = await createTestDatabase('pgpages');
const store = (await openStore(db.url)) as PostgresStore;
const runId = await store.beginRun(TENANT, 'bench', {});
const baselineSql = PAGE_UPSERT.replace('string_to_array($12::text, chr(30))', '$12::text[]');
if (baselineSql === PAGE_UPSERT) throw new Error('the page statement changed: update the baseline');

const ticks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
const backendCpuMs = async (): Promise<number> => {
  const r = await store.pool.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  return r.rows.reduce((s: number, row: { pid: number }) => s + ticks(row.pid), 0) * 10; // USER_HZ = 100
};

interface Tally { pages: number; wallMs: number; cpuMs: number; bytes: number }
const tally = (): Tally => ({ pages: 0, wallMs: 0, cpuMs: 0, bytes: 0 });
const ours = tally();
const unnamed = tally();
const base = tally();
const dbMs = new Map<Tally, number>([[ours, 0], [unnamed, 0], [base, 0]]);

const generated = (seed: string, userId: string): AiInteraction[] =>
  // Through JSON, as a worker receives them (the emulator's and the client's models meet only on the wire).
  JSON.parse(JSON.stringify(generateHistory({ seed, count: PER_PAGE, start: new Date('2025-07-01T00:00:00Z'), end: new Date('2026-01-01T00:00:00Z'), tenantId: TENANT, userId })));

for (let i = 0; i < PAGES; i++) {
  const items = generated(`p${i}`, `user-${i}`);
  const t = [ours, unnamed, base][i % 3]!;
  const page = { tenantId: TENANT, userId: `user-${i}`, scope: 'all', runId, items, cursor: { watermarkMs: Date.now(), window: null } };
  const dbBefore = await backendCpuMs();
  const cpu = process.cpuUsage();
  const start = performance.now();
  if (t === ours) await store.upsertPage(page);
  else {
    // The baselines build the same parameters; the text[] one leaves the page's JSON as the array of strings.
    const params = pageParams(page);
    if (t === unnamed) params[PAGE_JSON] = (params[PAGE_JSON] as string[]).join('\x1e');
    await store.pool.query(t === unnamed ? PAGE_UPSERT : baselineSql, params);
  }
  t.wallMs += performance.now() - start;
  const used = process.cpuUsage(cpu);
  t.cpuMs += (used.user + used.system) / 1000;
  dbMs.set(t, dbMs.get(t)! + (await backendCpuMs()) - dbBefore);
  // Bytes of the JSON parameter, counted after the timing: the joined text, or what node-postgres
  // sends for a text[] (each element quoted, with " and \ escaped).
  const strings = items.map((it) => JSON.stringify(it));
  t.bytes += t === base
    ? strings.reduce((s, j) => s + j.length + 3 + (j.match(/["\\]/g)?.length ?? 0), 0)
    : strings.reduce((s, j) => s + j.length + 1, 0);
  t.pages++;
}

const stored = await store.pool.query('SELECT count(*)::int AS n FROM interactions');
if (stored.rows[0].n !== PAGES * PER_PAGE) throw new Error(`stored ${stored.rows[0].n}, expected ${PAGES * PER_PAGE}`);
const line = (name: string, t: Tally) =>
  `${name.padEnd(34)} ${(t.wallMs / t.pages).toFixed(2).padStart(6)} ms wall  ${(t.cpuMs / t.pages).toFixed(2).padStart(6)} ms node CPU  ${(dbMs.get(t)! / t.pages).toFixed(2).padStart(6)} ms server CPU  ${(t.bytes / (t.pages * PER_PAGE)).toFixed(0)} B/interaction of JSON parameter`;
const less = (a: number, b: number) => `${(100 * (1 - a / b)).toFixed(0)}%`;
console.log(`bench/pg-pages: ${PAGES} pages of ${PER_PAGE} generated interactions, in rotation; per page:`);
console.log(line('store: named, JSON as one text', ours));
console.log(line('unnamed, JSON as one text', unnamed));
console.log(line('unnamed, JSON as text[] (baseline)', base));
console.log(`named against unnamed: server CPU per page ${less(dbMs.get(ours)! / ours.pages, dbMs.get(unnamed)! / unnamed.pages)} less`);
console.log(`store against the text[] baseline: node CPU per page ${less(ours.cpuMs / ours.pages, base.cpuMs / base.pages)} less; wall ${less(ours.wallMs / ours.pages, base.wallMs / base.pages)} less`);
await store.close();
await db.drop();

// ---------------------------------------------------------------------------------------------
// Concurrent sessions: N connections each writing their own pages with the store's statement.

if (WRITERS.length) {
  // Twenty generated pages, reused with fresh ids, so generation stays out of the timed loop.
  const pages = Array.from({ length: 20 }, (_, i) => generated(`w${i}`, `user-${i}`));
  console.log(`\nconcurrent writers: ${WRITER_PAGES} pages each run, a fresh database per run; per page:`);
  const results: { writers: number; serverMs: number; perSecond: number }[] = [];
  for (const writers of WRITERS) {
    const wdb = await createTestDatabase('pgwriters');
    const wstore = await openPostgresStore(wdb.url, { poolSize: writers });
    const sessions = await Promise.all(Array.from({ length: writers }, () => wstore.pool.connect()));
    const pids: number[] = await Promise.all(sessions.map(async (c) => (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p as number));
    const before = pids.reduce((s, p) => s + ticks(p), 0);
    let next = 0;
    const start = performance.now();
    await Promise.all(sessions.map(async (c) => {
      for (let i = next++; i < WRITER_PAGES; i = next++) {
        const items = pages[i % pages.length]!.map((it) => ({ ...it, id: `${it.id}-${i}` }));
        const params = pageParams({ tenantId: TENANT, userId: `user-${i % 250}`, scope: 'all', runId: 1, items, cursor: { watermarkMs: Date.now(), window: null } });
        params[PAGE_JSON] = (params[PAGE_JSON] as string[]).join('\x1e');
        await c.query({ name: PAGE_STATEMENT, text: PAGE_UPSERT, values: params });
      }
    }));
    const seconds = (performance.now() - start) / 1000;
    const serverMs = ((pids.reduce((s, p) => s + ticks(p), 0) - before) * 10) / WRITER_PAGES;
    results.push({ writers, serverMs, perSecond: WRITER_PAGES / seconds });
    for (const c of sessions) c.release();
    await wstore.close();
    await wdb.drop();
  }
  const first = results[0]!;
  for (const r of results) {
    console.log(`${String(r.writers).padStart(3)} writer(s)  ${r.serverMs.toFixed(2).padStart(6)} ms server CPU  ${r.perSecond.toFixed(0).padStart(5)} pages/s` +
      (r === first ? '' : `  (CPU per page ${((100 * r.serverMs) / first.serverMs - 100).toFixed(0)}% against ${first.writers})`));
  }
}
