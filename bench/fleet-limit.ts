// Does the fleet keep to the per-app limit across tenants? The set-up of test/fleet.test.ts's limit
// check, with the limit as a knob, printing what the emulator saw instead of asserting it:
//
//   LIMIT=20 W=8 [NICE=10] node --import tsx bench/fleet-limit.ts
//
// A real emulator in this process (scenarios/fleet-12.yaml: 12 customer tenants × 25 users), a fresh
// PostgreSQL database, W `copilog worker --concurrency 1 --app-rate LIMIT` processes. Prints the
// workers' job.done lines (with lateSlots, maxLatenessMs), the emulator's stats for the app (requests,
// 429s, peak admitted and peak arrivals in any one second), each tenant's peak, and the peak measured
// independently at the HTTP server (node:diagnostics_channel). A limit low enough for the fleet to
// saturate on the machine at hand (20 or 30 on a loaded 2-core machine) is the harder test.
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parse as parseYaml } from 'yaml';
import dc from 'node:diagnostics_channel';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { copilog, startCli } from '../test/support/cli.js';
import { withEmulator } from '../test/support/emulator.js';
import { createTestDatabase } from '../test/support/postgres.js';
const APP = '5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const fleetScenario = parseYaml(readFileSync('scenarios/fleet-12.yaml', 'utf8'));
const LIMIT = Number(process.env.LIMIT ?? 60);
const arr: number[] = [];
dc.subscribe('http.server.request.start', (m: any) => { if (/getAllEnterprise/.test(m.request.url)) arr.push(Date.now()); });
const emu = await withEmulator('fleet-12');
// The emulator stamps arrivals on this process's event loop: a stalled loop stamps a burst.
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
await emu.control('/scenario', 'POST', { ...fleetScenario, appRequestsPerSecond: LIMIT });
const db = await createTestDatabase('scratch');
const url = db.url;
const t0 = Date.now();
const a = await copilog(['fleet', 'add', '--store', url, '--emulator', emu.url, '--ca', emu.ca, '--all-tenants', '--client-id', APP, '--credential-env', 'FLEET_SECRET', '--json']);
if (a.code) throw new Error(a.stderr);
await copilog(['fleet', 'run', '--store', url]);
const extra = (process.env.WARGS ?? '').split(' ').filter(Boolean);
const ws = Array.from({ length: Number(process.env.W ?? 8) }, () => startCli(['worker', '--store', url, '--exit-when-idle', '--lease', '20s', '--concurrency', '1', '--app-rate', String(LIMIT), ...extra], { env: { FLEET_SECRET: 'fleet-secret-value-not-for-production' } }));
// As in the test, the workers yield the CPU to the emulator (Graph's door has CPUs of its own); NICE=0 shares it.
const nice = Number(process.env.NICE ?? 10);
if (nice) for (const w of ws) setPriority(w.child.pid!, nice);
const rs = await Promise.all(ws.map((w) => w.done));
const t1 = Date.now();
const lines = rs.flatMap((r) => r.stderr.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return { raw: l }; } }));
for (const l of lines) if (l.event !== 'job.start' && l.event !== 'worker.start' && l.event !== 'worker.stop') console.log(JSON.stringify(l).slice(0, 1500));
console.log('codes', rs.map((r) => r.code).join(','), 'wall', t1 - t0);
const stats = await emu.control('/stats');
console.log('app', JSON.stringify(stats.apps[APP]));
console.log('tenant peaks', Object.values(stats.tenants).map((x: any) => x.peakArrivalsPerSecond).join(','));
// socket-level arrivals sliding peak
// The busiest sliding second: its count, and where it starts.
arr.sort((x, y) => x - y); let peak = 0; let at = 0;
for (let i = 0, h = 0; i < arr.length; i++) { while (arr[h]! <= arr[i]! - 1000) h++; if (i - h + 1 > peak) { peak = i - h + 1; at = h; } }
console.log('http-start arrivals', arr.length, 'peak', peak, 'span', arr.length ? arr[arr.length - 1]! - arr[0]! : 0);
console.log(`emulator loop delay: p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`);
// The gaps between arrivals in the busiest second: a burst shows as a run of near-zero gaps.
console.log('busiest second gaps (ms)', arr.slice(at + 1, at + peak).map((x, k) => x - arr[at + k]!).join(' '));
// per second histogram
const hist: Record<number, number> = {}; for (const x of arr) hist[Math.floor((x - arr[0]!) / 1000)] = (hist[Math.floor((x - arr[0]!) / 1000)] ?? 0) + 1;
console.log('per-second', JSON.stringify(hist));
await emu.close(); await db.drop();
