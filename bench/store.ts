// Benchmark of the interaction store: lazy materialisation and keyset page reads, against
// baselines run on the same database in the same process.
//
//   node --import tsx bench/store.ts [users=1000] [perUser=500] [reads=20000] [--keep]
//
// Prints: generation-only rate, generation+insert rate, keyset page reads/s with p50/p99 latency,
// the same for three baselines (per-user OFFSET paging, table-wide OFFSET paging, and the keyset
// query forced off the index), RSS and database size.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateHistory } from '../src/emulator/interactions/generator.js';
import { InteractionStore } from '../src/emulator/interactions/store.js';
import { Rng } from '../src/emulator/interactions/prng.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const keep = process.argv.includes('--keep');
const USERS = Number(positional[0] ?? 1000);
const PER_USER = Number(positional[1] ?? 500);
const READS = Number(positional[2] ?? 20_000);
const PAGE = 100;
for (const [name, v] of [['users', USERS], ['perUser', PER_USER], ['reads', READS]] as const) {
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
}

const TENANT = '6a1f0c2e-5b7d-4e21-9c3a-1d2e3f405162';
const START = new Date('2025-07-01T00:00:00.000Z');
const END = new Date('2026-01-01T00:00:00.000Z');
const plan = { seed: 'bench', count: PER_USER, start: START, end: END };
const userId = (i: number): string => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number): string => `${fmt(bytes / 2 ** 20, 1)} MiB`;
const sizeOf = (p: string): number => { try { return statSync(p).size; } catch { return 0; } };

interface Result { name: string; reads: number; seconds: number; p50: number; p99: number; rows: number }

function measure(name: string, reads: number, read: (rng: Rng) => number): Result {
  const rng = Rng.of('bench-reads', name);
  for (let i = 0; i < Math.min(50, reads); i++) read(rng); // warm-up
  const lat = new Float64Array(reads);
  let rows = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) {
    const s = process.hrtime.bigint();
    rows += read(rng);
    lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort();
  return { name, reads, seconds, p50: lat[Math.floor(reads * 0.5)]!, p99: lat[Math.min(reads - 1, Math.floor(reads * 0.99))]!, rows };
}

const dir = mkdtempSync(join(tmpdir(), 'copilog-bench-store-'));
const file = join(dir, 'interactions.sqlite');
console.log(`store bench: ${fmt(USERS)} users × ${fmt(PER_USER)} interactions, ${fmt(READS)} page reads of ${PAGE}; db ${file}`);

try {
  // 1. Generation alone (no SQLite), to separate it from insert cost.
  const genUsers = Math.min(USERS, 200);
  let t = performance.now();
  let generated = 0;
  for (let i = 0; i < genUsers; i++) generated += generateHistory({ ...plan, tenantId: TENANT, userId: `gen-only-${i}` }).length;
  const genSeconds = (performance.now() - t) / 1000;
  console.log(`generate only      ${fmt(generated / genSeconds)} interactions/s  (${fmt((genSeconds * 1000) / genUsers, 2)} ms per ${PER_USER}-item user)`);

  // 2. Lazy materialisation: generate + insert, one transaction per user.
  const store = new InteractionStore(file);
  t = performance.now();
  for (let i = 0; i < USERS; i++) {
    store.ensureUser(TENANT, userId(i), plan);
    if (USERS >= 100 && (i + 1) % Math.floor(USERS / 4) === 0) {
      process.stdout.write(`  … ${fmt(i + 1)} users, ${fmt(((i + 1) * PER_USER) / ((performance.now() - t) / 1000))} interactions/s\n`);
    }
  }
  const matSeconds = (performance.now() - t) / 1000;
  const total = store.count(TENANT);
  console.log(`generate + insert  ${fmt(total / matSeconds)} interactions/s  (${fmt(total)} rows in ${fmt(matSeconds, 1)} s; ${fmt((matSeconds * 1000) / USERS, 2)} ms per user)`);

  // 3. Keyset page reads through the store: random user, random cursor in the window.
  const span = END.getTime() - START.getTime();
  const keyset = measure('keyset (store.page)', READS, (rng) => {
    const after = { createdMs: START.getTime() + rng.int(span), id: '' };
    return store.page(TENANT, userId(rng.int(USERS)), { after, limit: PAGE }).length;
  });
  // A full export walk per user, page after page (what an exporter does).
  const walkUsers = Math.min(USERS, 500);
  let walkPages = 0;
  t = performance.now();
  for (let i = 0; i < walkUsers; i++) {
    let after: { createdMs: number; id: string } | undefined;
    for (;;) {
      const page = store.page(TENANT, userId(i), { after, limit: PAGE });
      walkPages++;
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!;
      after = { createdMs: Date.parse(last.createdDateTime), id: last.id };
    }
  }
  const walkSeconds = (performance.now() - t) / 1000;

  // 4. Baselines on a second connection to the same file (WAL allows concurrent readers).
  const raw = new Database(file, { readonly: true });
  const parse = (rows: string[]): number => rows.map((j) => JSON.parse(j)).length;
  const offsetUser = raw.prepare('SELECT json FROM interactions WHERE tenant_id = ? AND user_id = ? ORDER BY created_ms, id LIMIT ? OFFSET ?').pluck();
  const offsetTable = raw.prepare('SELECT json FROM interactions ORDER BY tenant_id, user_id, created_ms, id LIMIT ? OFFSET ?').pluck();
  const noIndex = raw.prepare(`SELECT json FROM interactions NOT INDEXED WHERE tenant_id = ? AND user_id = ? AND (created_ms, id) > (?, ?)
    ORDER BY created_ms, id LIMIT ?`).pluck();
  const keysetRaw = raw.prepare(`SELECT json FROM interactions WHERE tenant_id = ? AND user_id = ? AND (created_ms, id) > (?, ?)
    ORDER BY created_ms, id LIMIT ?`).pluck();
  const keysetRawResult = measure('keyset (raw SQL, 2nd connection)', READS, (rng) =>
    parse(keysetRaw.all(TENANT, userId(rng.int(USERS)), START.getTime() + rng.int(span), '', PAGE) as string[]));
  const offsetUserResult = measure('per-user OFFSET paging', READS, (rng) =>
    parse(offsetUser.all(TENANT, userId(rng.int(USERS)), PAGE, rng.int(Math.max(1, PER_USER - PAGE))) as string[]));
  const offsetTableResult = measure('table-wide OFFSET paging', Math.min(READS, 200), (rng) =>
    parse(offsetTable.all(PAGE, rng.int(Math.max(1, total - PAGE))) as string[]));
  const noIndexResult = measure('keyset without the index', Math.min(READS, 20), (rng) =>
    parse(noIndex.all(TENANT, userId(rng.int(USERS)), START.getTime() + rng.int(span), '', PAGE) as string[]));

  console.log('\npage reads of 100 (JSON parsed)       reads/s      p50 ms     p99 ms   reads  rows/read');
  for (const r of [keyset, keysetRawResult, offsetUserResult, offsetTableResult, noIndexResult]) {
    console.log(`${r.name.padEnd(36)} ${fmt(r.reads / r.seconds).padStart(9)} ${fmt(r.p50, 3).padStart(11)} ${fmt(r.p99, 3).padStart(10)} ${fmt(r.reads).padStart(7)} ${fmt(r.rows / r.reads, 1).padStart(10)}`);
  }
  console.log(`full per-user walks: ${fmt(walkUsers)} users, ${fmt(walkPages)} pages in ${fmt(walkSeconds, 2)} s = ${fmt(walkPages / walkSeconds)} pages/s`);
  console.log(`keyset vs table-wide OFFSET: ${fmt(offsetTableResult.p50 / keyset.p50, 0)}× faster at p50; vs no index: ${fmt(noIndexResult.p50 / keyset.p50, 0)}×`);

  raw.close();
  store.close();
  const checkpoint = new Database(file);
  checkpoint.pragma('wal_checkpoint(TRUNCATE)');
  checkpoint.close();
  const dbBytes = sizeOf(file) + sizeOf(`${file}-wal`) + sizeOf(`${file}-shm`);
  console.log(`\nRSS ${mib(process.memoryUsage().rss)}; DB ${mib(dbBytes)} (${fmt(dbBytes / total)} bytes per interaction)`);
} finally {
  if (keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
