// The PostgreSQL store's page write, the statement every fleet worker runs once per Graph page,
// against baselines in the same run:
//   - the same statement unnamed (parsed and planned for every page instead of once per connection);
//   - unnamed, with the page's JSON sent as a text[] (node-postgres quotes every element into an
//     array literal) instead of one text the server splits;
//   - the store's statement on the schema before v6, which still had interactions_by_session.
// Each variant writes into its own fresh database through one session, in blocks that rotate
// between the variants, so the machine's load falls on all alike; CPU is read from /proc for the
// node process and the session's backend over whole blocks (a page is shorter than /proc's tick).
//
// Then, unless --writers is empty, the store's statement from N sessions at once (N = 1,2,4,10 by
// default), each writing its own pages: the server's CPU per page and pages per second, which is
// what PAGE_WRITERS (the page writes one process sends at once) is chosen from.
//
//   node --import tsx bench/pg-pages.ts [--pages 1200] [--rounds 4] [--writers 1,2,4,10] [--writer-pages 1500]
//
// Prints per page: wall ms, this process's CPU ms, the backend's CPU ms, and JSON bytes per interaction.
import { benchArgs } from './args.js';
import { processCpuMs } from './proc.js';
import { generateHistory } from '../src/emulator/interactions/generator.js';
import { openPostgresStore, PAGE_STATEMENT, PAGE_UPSERT, pageParams, pageStatementParams, type PostgresStore } from '../src/store/postgres.js';
import type { AiInteraction } from '../src/client/models.js';
import type { PageWrite } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres.js';

const args = benchArgs('pg-pages.ts', ['--pages', '--rounds', '--writers', '--writer-pages']);
const PAGES = Math.floor(args.num('pages', 1200, 4, 1_000_000));
const ROUNDS = Math.floor(args.num('rounds', 4, 1, 100));
const WRITERS = args.value('writers', '1,2,4,10').split(',').filter(Boolean).map(Number);
if (!WRITERS.every((w) => Number.isInteger(w) && w >= 1 && w <= 64)) throw new Error('--writers is a list of session counts from 1 to 64, e.g. 1,2,4,10');
const WRITER_PAGES = Math.floor(args.num('writer-pages', 1500, 10, 1_000_000));
const TENANT = '6a1f0c2e-5b7d-4e21-9c3a-1d2e3f405162';
const PER_PAGE = 100;

/** A backend's CPU ms; it must still be running. */
const cpuMsOf = (pid: number): number => {
  const ms = processCpuMs(pid);
  if (ms === undefined) throw new Error(`PostgreSQL backend ${pid} is gone`);
  return ms;
};

// Twenty generated pages, reused with fresh ids, so generation stays out of the timed loops.
// Through JSON, as a worker receives them (the emulator's and the client's models meet only on the wire).
const pages: AiInteraction[][] = Array.from({ length: 20 }, (_, i) => JSON.parse(JSON.stringify(generateHistory({
  seed: `p${i}`, count: PER_PAGE, start: new Date('2025-07-01T00:00:00Z'), end: new Date('2026-01-01T00:00:00Z'), tenantId: TENANT, userId: `user-${i}`,
}))));
const pageWrite = (i: number): PageWrite => ({
  tenantId: TENANT, userId: `user-${i % 250}`, scope: 'all', runId: 1,
  items: pages[i % pages.length]!.map((it) => ({ ...it, id: `${it.id}-${i}` })), cursor: { watermarkMs: Date.now(), window: null },
});

const textArraySql = PAGE_UPSERT.replace('string_to_array($12::text, chr(30))', '$12::text[]');
if (textArraySql === PAGE_UPSERT) throw new Error('the page statement changed: update the text[] baseline');

interface Variant {
  name: string;
  /** Run once on the variant's fresh store. */
  setup?: string;
  send: (s: PostgresStore, i: number) => Promise<unknown>;
  /** Bytes of the page's JSON parameter (what node-postgres sends for it). */
  bytes: (strings: string[]) => number;
  db?: TestDatabase;
  store?: PostgresStore;
  backend?: number;
  pages: number; wallMs: number; nodeMs: number; serverMs: number; jsonBytes: number;
}
/** A variant with its tallies at zero. */
const variant = (v: Pick<Variant, 'name' | 'setup' | 'send' | 'bytes'>): Variant => ({ ...v, pages: 0, wallMs: 0, nodeMs: 0, serverMs: 0, jsonBytes: 0 });
const joined = (strings: string[]) => strings.reduce((n, j) => n + j.length + 1, 0);
const variants: Variant[] = [
  variant({ name: 'store (named, one text)', send: (s, i) => s.upsertPage(pageWrite(i)), bytes: joined }),
  variant({ name: 'unnamed, one text', send: (s, i) => s.pool.query(PAGE_UPSERT, pageStatementParams(pageWrite(i))), bytes: joined }),
  variant({
    name: 'unnamed, text[]',
    send: (s, i) => s.pool.query(textArraySql, pageParams(pageWrite(i))),
    // Each element quoted, with " and \ escaped.
    bytes: (strings) => strings.reduce((n, j) => n + j.length + 3 + (j.match(/["\\]/g)?.length ?? 0), 0),
  }),
  variant({
    name: 'store, schema before v6',
    setup: 'CREATE INDEX interactions_by_session ON interactions (tenant_id, user_id, session_id, created_ms, id)',
    send: (s, i) => s.upsertPage(pageWrite(i)), bytes: joined,
  }),
];

for (const v of variants) {
  v.db = await createTestDatabase('pgpages');
  // One session: every statement of the variant runs on the backend measured.
  v.store = await openPostgresStore(v.db.url, { poolSize: 1 });
  if (v.setup) await v.store.pool.query(v.setup);
  v.backend = (await v.store.pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
}
const block = Math.max(1, Math.floor(PAGES / ROUNDS));
let next = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const v of variants) {
    const server = cpuMsOf(v.backend!);
    const node = process.cpuUsage();
    const start = performance.now();
    for (let k = 0; k < block; k++) await v.send(v.store!, next + k);
    v.wallMs += performance.now() - start;
    const used = process.cpuUsage(node);
    v.nodeMs += (used.user + used.system) / 1000;
    v.serverMs += cpuMsOf(v.backend!) - server;
    v.pages += block;
  }
  next += block;
}
for (const v of variants) {
  v.jsonBytes = v.bytes(pageWrite(0).items.map((it) => JSON.stringify(it))) / PER_PAGE;
  const stored = await v.store!.pool.query('SELECT count(*)::int AS n FROM interactions');
  if (stored.rows[0].n !== v.pages * PER_PAGE) throw new Error(`${v.name}: stored ${stored.rows[0].n}, expected ${v.pages * PER_PAGE}`);
  await v.store!.close();
  await v.db!.drop();
}

const per = (v: Variant, x: number) => (x / v.pages).toFixed(2).padStart(6);
const less = (a: number, b: number) => (a <= b ? `${(100 * (1 - a / b)).toFixed(0)}% less` : `${(100 * (a / b - 1)).toFixed(0)}% more`);
const [store, unnamed, textArray, before] = variants as [Variant, Variant, Variant, Variant];
console.log(`bench/pg-pages: ${store.pages} pages of ${PER_PAGE} interactions per variant, ${ROUNDS} rounds of ${block}; per page:`);
for (const v of variants) {
  console.log(`${v.name.padEnd(26)} ${per(v, v.wallMs)} ms wall  ${per(v, v.nodeMs)} ms node CPU  ${per(v, v.serverMs)} ms server CPU  ${v.jsonBytes.toFixed(0)} B/interaction of JSON parameter`);
}
const server = (v: Variant) => v.serverMs / v.pages;
console.log(`named against unnamed: server CPU ${less(server(store), server(unnamed))}`);
console.log(`one text against text[]: node CPU ${less(unnamed.nodeMs / unnamed.pages, textArray.nodeMs / textArray.pages)}, server CPU ${less(server(unnamed), server(textArray))}`);
console.log(`v6 schema against the one before: server CPU ${less(server(store), server(before))}`);

// ---------------------------------------------------------------------------------------------
// Concurrent sessions: N connections each writing their own pages with the store's statement.

if (WRITERS.length) {
  console.log(`\nconcurrent writers: ${WRITER_PAGES} pages each run, a fresh database per run; per page:`);
  const results: { writers: number; serverMs: number; perSecond: number }[] = [];
  for (const writers of WRITERS) {
    const wdb = await createTestDatabase('pgwriters');
    const wstore = await openPostgresStore(wdb.url, { poolSize: writers });
    const sessions = await Promise.all(Array.from({ length: writers }, () => wstore.pool.connect()));
    const pids: number[] = await Promise.all(sessions.map(async (c) => (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p as number));
    const cpu = () => pids.reduce((s, p) => s + cpuMsOf(p), 0);
    const before = cpu();
    let taken = 0;
    const start = performance.now();
    await Promise.all(sessions.map(async (c) => {
      for (let i = taken++; i < WRITER_PAGES; i = taken++) {
        await c.query({ name: PAGE_STATEMENT, text: PAGE_UPSERT, values: pageStatementParams(pageWrite(i)) });
      }
    }));
    const seconds = (performance.now() - start) / 1000;
    results.push({ writers, serverMs: (cpu() - before) / WRITER_PAGES, perSecond: WRITER_PAGES / seconds });
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
