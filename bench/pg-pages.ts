// The PostgreSQL store's page write, the statement every fleet worker runs once per Graph page,
// against a baseline in the same run: the same statement with the page's JSON sent as a text[]
// (node-postgres quotes every element into an array literal) instead of one text split by the
// server. Pages alternate between the two, one at a time, on one database, so the machine's load
// falls on both alike.
//
//   node --import tsx bench/pg-pages.ts [--pages 1000] [--per-page 100]
//
// Prints per page: wall ms, this process's CPU ms, and the database backends' CPU ms (from /proc),
// plus statement bytes per interaction.
import { readFileSync } from 'node:fs';
import { benchArgs } from './args.js';
import { generateHistory } from '../src/emulator/interactions/generator.js';
import { openStore } from '../src/store/index.js';
import { PAGE_UPSERT, pageParams, PostgresStore } from '../src/store/postgres.js';
import type { AiInteraction } from '../src/client/models.js';
import { createTestDatabase } from '../test/support/postgres.js';

const args = benchArgs('pg-pages.ts', ['--pages', '--per-page']);
const PAGES = args.num('pages', 1000, 2, 1_000_000);
const PER_PAGE = args.num('per-page', 100, 1, 1000);
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
const base = tally();
let oursDbMs = 0;
let baseDbMs = 0;

for (let i = 0; i < PAGES; i++) {
  // Through JSON, as a worker receives them (the emulator's and the client's models meet only on the wire).
  const items: AiInteraction[] = JSON.parse(JSON.stringify(generateHistory({ seed: `p${i}`, count: PER_PAGE, start: new Date('2025-07-01T00:00:00Z'), end: new Date('2026-01-01T00:00:00Z'), tenantId: TENANT, userId: `user-${i}` })));
  const useBaseline = i % 2 === 1;
  const t = useBaseline ? base : ours;
  const page = { tenantId: TENANT, userId: `user-${i}`, scope: 'all', runId, items, cursor: { watermarkMs: Date.now(), window: null } };
  const dbBefore = await backendCpuMs();
  const cpu = process.cpuUsage();
  const start = performance.now();
  // The baseline builds the same parameters and leaves the page's JSON as the array of strings.
  if (useBaseline) await store.pool.query(baselineSql, pageParams(page));
  else await store.upsertPage(page);
  t.wallMs += performance.now() - start;
  const used = process.cpuUsage(cpu);
  t.cpuMs += (used.user + used.system) / 1000;
  const dbMs = (await backendCpuMs()) - dbBefore;
  if (useBaseline) baseDbMs += dbMs;
  else oursDbMs += dbMs;
  // Bytes of the JSON parameter, counted after the timing: the joined text, or what node-postgres
  // sends for a text[] (each element quoted, with " and \ escaped).
  const strings = items.map((it) => JSON.stringify(it));
  t.bytes += useBaseline
    ? strings.reduce((s, j) => s + j.length + 3 + (j.match(/["\\]/g)?.length ?? 0), 0)
    : strings.reduce((s, j) => s + j.length + 1, 0);
  t.pages++;
}

const stored = await store.pool.query('SELECT count(*)::int AS n FROM interactions');
if (stored.rows[0].n !== PAGES * PER_PAGE) throw new Error(`stored ${stored.rows[0].n}, expected ${PAGES * PER_PAGE}`);
const line = (name: string, t: Tally, dbMs: number) =>
  `${name.padEnd(32)} ${(t.wallMs / t.pages).toFixed(2).padStart(6)} ms wall  ${(t.cpuMs / t.pages).toFixed(2).padStart(6)} ms node CPU  ${(dbMs / t.pages).toFixed(2).padStart(6)} ms server CPU  ${(t.bytes / (t.pages * PER_PAGE)).toFixed(0)} B/interaction of JSON parameter`;
console.log(`bench/pg-pages: ${PAGES} pages of ${PER_PAGE} generated interactions, alternating; per page:`);
console.log(line('JSON as one text, split (store)', ours, oursDbMs));
console.log(line('JSON as text[] (baseline)', base, baseDbMs));
console.log(`node CPU per page: ${(100 * (1 - ours.cpuMs / ours.pages / (base.cpuMs / base.pages))).toFixed(0)}% less than the baseline; wall: ${(100 * (1 - ours.wallMs / ours.pages / (base.wallMs / base.pages))).toFixed(0)}% less`);
await store.close();
await db.drop();
