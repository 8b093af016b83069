// Benchmark of copilog dump: builds a copilog store of USERS × PER_USER generated interactions
// (through the Store interface, as export writes them), then times the real CLI dumping it in
// each format, with and without --pseudonymize, and reports rows/s and the peak RSS of each run.
//
//   node --import tsx bench/dump.ts [users=200] [perUser=1000] [--keep]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateHistory } from '../src/emulator/interactions/generator.js';
import { openStore } from '../src/store/index.js';
import type { AiInteraction } from '../src/client/models.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const USERS = Number(positional[0] ?? 200);
const PER_USER = Number(positional[1] ?? 1000);
const TENANT = '6a1f0c2e-5b7d-4e21-9c3a-1d2e3f405162';
const BIN = fileURLToPath(new URL('../bin/copilog.js', import.meta.url));
const userId = (i: number): string => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

const dir = mkdtempSync(join(tmpdir(), 'copilog-bench-dump-'));
const file = join(dir, 'copilog.db');
const rows = USERS * PER_USER;
try {
  const t0 = Date.now();
  const store = await openStore(file);
  await store.upsertUsers(TENANT, Array.from({ length: USERS }, (_, i) => ({ id: userId(i), userPrincipalName: `user${i}@bench.example`, displayName: `Bench User ${i}` })));
  const runId = await store.beginRun(TENANT, 'bench', {});
  for (let i = 0; i < USERS; i++) {
    const items = generateHistory({ seed: 'bench', tenantId: TENANT, userId: userId(i), count: PER_USER, start: new Date('2025-07-01T00:00:00Z'), end: new Date('2026-01-01T00:00:00Z') });
    await store.upsertPage({ tenantId: TENANT, userId: userId(i), scope: '', runId, items: items as unknown as AiInteraction[], cursor: { watermarkMs: null, window: null } });
  }
  await store.finishRun(runId, 'completed', {});
  await store.close();
  console.log(`dump bench: store of ${rows.toLocaleString('en-GB')} interactions (${(statSync(file).size / 2 ** 20).toFixed(0)} MiB) built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const key = join(dir, 'key');
  writeFileSync(key, 'b'.repeat(64));
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  for (const [format, extra] of [['jsonl', []], ['csv', []], ['parquet', []], ['jsonl', ['--pseudonymize', key]], ['csv', ['--no-bodies']]] as [string, string[]][]) {
    const out = join(dir, `out.${format}`);
    const args = [BIN, 'dump', '--store', file, '--format', format, '--out', out, ...extra];
    const s = Date.now();
    const r = timeBin ? spawnSync(timeBin, ['-f', '%M', process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, args, { encoding: 'utf8' });
    const secs = (Date.now() - s) / 1000;
    if (r.status !== 0) throw new Error(`dump ${format} failed: ${r.stderr}`);
    const rssKiB = timeBin ? Number(r.stderr.trim().split('\n').pop()) : NaN;
    console.log(`  ${[format, ...extra.filter((a) => a.startsWith('--'))].join(' ').padEnd(24)} ${(rows / secs).toFixed(0).padStart(8)} rows/s  ${secs.toFixed(1).padStart(6)} s  ${(statSync(out).size / 2 ** 20).toFixed(0).padStart(5)} MiB out  peak RSS ${Number.isFinite(rssKiB) ? `${(rssKiB / 1024).toFixed(0)} MiB` : 'n/a'}`);
    rmSync(out);
  }
} finally {
  if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
