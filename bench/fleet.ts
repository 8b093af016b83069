// Performance acceptance of the fleet (issue 9): throughput of `copilog worker` processes sharing one
// PostgreSQL store and its rate limits, against the ceiling Graph's limits allow.
//
//   node --import tsx bench/fleet.ts [--tenants 10] [--users 25] [--per-user 800] [--workers 1,2,4]
//     [--tenant-rate 30] [--app-rate 1500] [--timeout 300] [--pg postgres://…] [--cpu-prof DIR] [--keep]
//   npm run bench:fleet
//
// One emulator in a child process serves `--tenants` generated customer tenants of `--users`
// licensed users with `--per-user` interactions each (pages of 100), one multi-tenant app consented
// in all of them, 150–400 ms latency (uniform) on the export endpoint, Graph's 30 requests/s per app
// per tenant and 1,500 per app across tenants. For each worker count: the emulator is reset and every
// history is materialised through the ground-truth endpoint (so lazy generation is not measured), a
// fresh PostgreSQL database is made, every tenant is registered (`fleet add --all-tenants`) and
// queued (`fleet run`), then N `copilog worker --exit-when-idle` processes share the tenants
// (--concurrency ceil(tenants / N) each, so every tenant runs at once whatever N is).
//
// Figures per run: interactions/s from the first job's start to the last job's end, against the
// ceiling min(tenants × tenant-rate, app-rate) × 100 (30,000/s for 10 tenants), its percentage;
// PostgreSQL bytes per interaction (the store's tables and indexes) and the write rate (rows/s,
// table MB/s, WAL MB/s — WAL is the whole server's, other users of it included); CPU of the emulator,
// the workers and this database's PostgreSQL backends (from /proc/PID/stat, sampled), and of the
// whole machine (/proc/stat); the emulator's request counts, 429s and peak one-second rates; and
// which resource stopped growth: the limit (≥ 85% of the ceiling), the machine's CPU (≥ 90% busy),
// or neither (the requests in flight: latency × rate). `--cpu-prof DIR` writes a V8 CPU profile of
// every worker and of the emulator into DIR. Prints its figures; asserts nothing.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Agent, fetch } from 'undici';
import { benchArgs } from './args.js';
import { processCpuMs } from './proc.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'copilog.js');
const APP = '3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99';
const SECRET = 'fleet-bench-secret-not-for-production';
const PAGE = 100;

// ---------------------------------------------------------------------------------------------
// Child: the emulator.

async function serve(): Promise<void> {
  const { startEmulator } = await import('../src/emulator/server.js');
  const [scenario, dataDir] = process.argv.slice(3) as [string, string];
  const emu = await startEmulator({ scenario, port: 0, dataDir, logLevel: 'warn' });
  process.send!({ type: 'ready', url: emu.url, ca: emu.ca });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'stop') {
      await emu.close();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Parent.

interface Options { tenants: number; users: number; perUser: number; workers: number[]; tenantRate: number; appRate: number; timeout: number; pg: string; cpuProf?: string; keep: boolean }

function options(): Options {
  const { argv, value, num } = benchArgs('fleet.ts', ['--tenants', '--users', '--per-user', '--workers', '--tenant-rate', '--app-rate', '--timeout', '--pg', '--cpu-prof', '--keep']);
  const workers = value('workers', '1,2,4').split(',').map(Number);
  if (!workers.every((w) => Number.isInteger(w) && w >= 1 && w <= 16)) throw new Error('--workers is a list of worker counts from 1 to 16, e.g. 1,2,4');
  const cpuProf = argv.includes('--cpu-prof') ? value('cpu-prof', '') : undefined;
  return {
    tenants: Math.floor(num('tenants', 10, 1, 200)), users: Math.floor(num('users', 25, 1, 10_000)), perUser: Math.floor(num('per-user', 800, 1, 100_000)),
    workers, tenantRate: num('tenant-rate', 30, 1, 1000), appRate: num('app-rate', 1500, 1, 100_000), timeout: num('timeout', 300, 10, 3600),
    pg: value('pg', process.env.COPILOG_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'), ...(cpuProf ? { cpuProf } : {}), keep: argv.includes('--keep'),
  };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
/** Busy and total ticks of the whole machine. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** CPU seconds per group of processes, from the first to the last sample of each process. */
class CpuSampler {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly group = new Map<number, string>();
  private timer?: NodeJS.Timeout;
  private m0 = machineTicks();
  private m1 = this.m0;

  constructor(private readonly pids: () => Promise<[number, string][]>) {}

  start(): void {
    this.m0 = machineTicks();
    const tick = async () => {
      for (const [pid, g] of await this.pids().catch(() => [] as [number, string][])) {
        const t = processCpuMs(pid);
        if (t === undefined) continue;
        if (!this.first.has(pid)) this.first.set(pid, t);
        this.last.set(pid, t);
        this.group.set(pid, g);
      }
      this.m1 = machineTicks();
    };
    void tick();
    this.timer = setInterval(() => void tick(), 250);
  }

  stop(): { seconds: Record<string, number>; machineBusy: number } {
    clearInterval(this.timer);
    const seconds: Record<string, number> = {};
    for (const [pid, g] of this.group) seconds[g] = (seconds[g] ?? 0) + ((this.last.get(pid) ?? 0) - (this.first.get(pid) ?? 0)) / 1000;
    const busy = (this.m1.busy - this.m0.busy) / Math.max(1, this.m1.total - this.m0.total);
    return { seconds, machineBusy: busy };
  }
}

function scenario(o: Options): Record<string, unknown> {
  return {
    name: 'bench-fleet',
    description: `${o.tenants} customer tenants × ${o.users} users × ${o.perUser} interactions, 150–400 ms on the export endpoint`,
    storage: 'memory',
    default: { tenant: 'contoso-msp.onmicrosoft.com', app: 'fleet bench', user: 'ops@contoso-msp.onmicrosoft.com' },
    appRequestsPerSecond: o.appRate,
    tenants: [{ id: '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d', domain: 'contoso-msp.onmicrosoft.com', displayName: 'Contoso MSP', users: [{ userPrincipalName: 'ops@contoso-msp.onmicrosoft.com', licenses: [{ sku: 'SPE_E5' }] }] }],
    generatedTenants: {
      count: o.tenants, prefix: 'benchcust', usersPerTenant: o.users, licenses: [{ sku: 'Microsoft_365_Copilot' }],
      interactions: { seed: 'bench-fleet', perUser: o.perUser, from: '-180d', to: '-1h' },
      behaviours: { requestsPerSecond: o.tenantRate },
      faults: { latencyMs: 150, latencyJitterMs: 250, latencyDistribution: 'uniform', scope: 'interactions', seed: 'bench-fleet' },
    },
    multiTenantApps: [{
      appId: APP, displayName: 'fleet bench', homeTenant: 'contoso-msp.onmicrosoft.com', consentedIn: 'all',
      secrets: [{ value: SECRET, displayName: 'bench' }],
      permissions: ['AiEnterpriseInteraction.Read.All', 'User.Read.All', 'Organization.Read.All', 'Application.Read.All', 'GroupMember.Read.All'],
    }],
  };
}

function cli(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('AZURE_') && !k.startsWith('COPILOG_') && k !== 'NODE_EXTRA_CA_CERTS') base[k] = v;
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

async function must(args: string[]): Promise<string> {
  const r = await cli(args).done;
  if (r.code !== 0) throw new Error(`copilog ${args[0]} ${args[1] ?? ''} exited ${r.code}: ${r.stderr.slice(-1500)}`);
  return r.stdout;
}

function dbUrl(admin: string, name: string): string {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T = any>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

interface RunResult {
  workers: number; interactions: number; spanS: number; wallS: number; perSecond: number; ceiling: number; share: number;
  bytes: number; walBytes: number; cpu: Record<string, number>; machineBusy: number; requests: number; throttled: number;
  appPeak: number; tenantPeak: number; lateSlots: number; failed: number; load: string; verdict: string;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') return serve();
  const o = options();
  const dir = mkdtempSync(join(tmpdir(), 'copilog-bench-fleet-'));
  const scenarioFile = join(dir, 'scenario.json');
  writeFileSync(scenarioFile, JSON.stringify(scenario(o)));
  if (o.cpuProf) mkdirSync(o.cpuProf, { recursive: true });
  const emuArgs = o.cpuProf ? ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', o.cpuProf] : ['--import', 'tsx'];
  const emulator = fork(HERE, ['--serve', scenarioFile, dir], { execArgv: emuArgs, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ url: string; ca: string }>((resolve, reject) => {
    emulator.once('message', (m: any) => (m?.type === 'ready' ? resolve(m) : reject(new Error('emulator did not start'))));
    emulator.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
  const agent = new Agent({ connect: { ca: readFileSync(ready.ca) } });
  const control = async (path: string, method = 'GET'): Promise<any> => {
    const r = await fetch(`${ready.url}/_emulator${path}`, { method, dispatcher: agent });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return path.endsWith('/interactions') ? text : text ? JSON.parse(text) : undefined;
  };
  const ceiling = Math.min(o.tenants * o.tenantRate, o.appRate) * PAGE;
  const cores = cpus().length;
  console.log(`bench/fleet: ${o.tenants} tenants × ${o.users} users × ${o.perUser} interactions = ${fmt(o.tenants * o.users * o.perUser)} per run; 150–400 ms export latency; limits ${o.tenantRate}/s per tenant, ${o.appRate}/s per app`);
  console.log(`ceiling min(${o.tenants} × ${o.tenantRate}, ${o.appRate}) × ${PAGE} = ${fmt(ceiling)} interactions/s; ${cores} cores; load before: ${load()}`);

  const results: RunResult[] = [];
  try {
    for (const n of o.workers) {
      await control('/reset', 'POST');
      const customers = (await control('/tenants')).tenants.filter((t: any) => t.domain.startsWith('benchcust')).map((t: any) => t.id as string);
      for (const t of customers) await control(`/tenants/${t}/interactions`);
      const name = `copilog_bench_fleet_${process.pid}_${n}`;
      await admin(o.pg, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin(o.pg, `CREATE DATABASE ${name}`);
      const url = dbUrl(o.pg, name);
      try {
        await must(['fleet', 'add', '--store', url, '--emulator', ready.url, '--ca', ready.ca, '--all-tenants', '--client-id', APP, '--credential-env', 'FLEET_SECRET', '--json']);
        await must(['fleet', 'run', '--store', url]);
        const sizeSql = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 AS b FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind IN ('r', 'm')";
        const bytes0 = (await admin(url, sizeSql))[0].b as number;
        const wal0 = (await admin(url, 'SELECT pg_current_wal_lsn()::text AS l'))[0].l as string;
        const concurrency = Math.ceil(o.tenants / n);
        const workers = Array.from({ length: n }, () => cli(['worker', '--store', url, '--exit-when-idle', '--concurrency', String(concurrency), '--tenant-rate', String(o.tenantRate), '--app-rate', String(o.appRate)],
          { FLEET_SECRET: SECRET }, o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] : []));
        const pgPool = new pg.Pool({ connectionString: o.pg, max: 1 });
        const sampler = new CpuSampler(async () => {
          const backends = (await pgPool.query("SELECT pid, backend_type FROM pg_stat_activity WHERE datname = $1 OR backend_type IN ('walwriter', 'checkpointer', 'background writer')", [name])).rows;
          return [[emulator.pid!, 'emulator'], ...workers.map((w) => [w.child.pid!, 'workers'] as [number, string]), ...backends.map((b) => [b.pid as number, 'postgres'] as [number, string])];
        });
        sampler.start();
        const t0 = Date.now();
        const killer = setTimeout(() => workers.forEach((w) => w.child.kill('SIGKILL')), o.timeout * 1000);
        const outs = await Promise.all(workers.map((w) => w.done));
        clearTimeout(killer);
        const wallS = (Date.now() - t0) / 1000;
        const cpu = sampler.stop();
        await pgPool.end();
        const lines = outs.flatMap((r) => r.stderr.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        const starts = lines.filter((l) => l.event === 'job.start').map((l) => Date.parse(l.time));
        const dones = lines.filter((l) => l.event === 'job.done');
        const spanS = (Math.max(...dones.map((l) => Date.parse(l.time))) - Math.min(...starts)) / 1000;
        const interactions = (await admin(url, 'SELECT count(*)::int AS n FROM interactions'))[0].n as number;
        const bytes = (await admin(url, sizeSql))[0].b as number - bytes0;
        const walBytes = (await admin(url, 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 AS d', [wal0]))[0].d as number;
        const stats = await control('/stats');
        const app = stats.apps[APP] ?? { requests: 0, throttled: 0, peakArrivalsPerSecond: 0 };
        const tenantPeak = Math.max(0, ...Object.values<any>(stats.tenants).map((t) => t.peakArrivalsPerSecond as number));
        const perSecond = interactions / spanS;
        const share = perSecond / ceiling;
        const busiest = Object.entries(cpu.seconds).sort((a, b) => b[1] - a[1])[0];
        const ours = Object.values(cpu.seconds).reduce((a, b) => a + b, 0) / wallS;
        const others = Math.max(0, cpu.machineBusy * cores - ours);
        const verdict = share >= 0.85 ? 'the rate limit (the ceiling)'
          : cpu.machineBusy >= 0.9 ? `the machine's CPU (${fmt(cpu.machineBusy * 100)}% busy: this run ${fmt(ours, 2)} cores, most ${busiest?.[0]}; other processes ${fmt(others, 2)} cores)`
            : `neither CPU (${fmt(cpu.machineBusy * 100)}% busy) nor the limit: requests in flight (latency × rate)`;
        results.push({
          workers: n, interactions, spanS, wallS, perSecond, ceiling, share, bytes, walBytes, cpu: cpu.seconds, machineBusy: cpu.machineBusy, requests: app.requests, throttled: app.throttled,
          appPeak: app.peakArrivalsPerSecond, tenantPeak, lateSlots: dones.reduce((a, l) => a + (l.lateSlots ?? 0), 0), failed: outs.filter((r) => r.code !== 0).length, load: load(), verdict,
        });
        const r = results[results.length - 1]!;
        console.log(`\n${n} worker(s) × concurrency ${concurrency}: ${fmt(interactions)} interactions in ${fmt(spanS, 1)} s of jobs (${fmt(wallS, 1)} s wall) = ${fmt(perSecond)} interactions/s = ${fmt(share * 100, 1)}% of ${fmt(ceiling)}`);
        console.log(`  PostgreSQL: ${fmt(bytes / Math.max(1, interactions))} bytes/interaction; wrote ${fmt(perSecond)} rows/s, ${fmt(bytes / spanS / 1e6, 1)} MB/s of tables, ${fmt(walBytes / spanS / 1e6, 1)} MB/s of WAL (whole server)`);
        console.log(`  CPU over the run (cores): ${Object.entries(cpu.seconds).map(([g, s]) => `${g} ${fmt(s / wallS, 2)}`).join(', ')}; machine ${fmt(cpu.machineBusy * 100)}% busy of ${cores} cores`);
        console.log(`  emulator: ${fmt(app.requests)} export requests, ${app.throttled} answered 429, peak ${app.peakArrivalsPerSecond}/s for the app, ${tenantPeak}/s for a tenant; ${r.lateSlots} late slots taken again; ${r.failed} worker(s) failed`);
        // Where the jobs' time went: started apart (queue polling), or each ran long.
        const jobS = dones.map((l) => (l.ms as number) / 1000).sort((a, b) => a - b);
        const medianJob = jobS[jobS.length >> 1] ?? 0;
        console.log(`  jobs: started at most ${fmt((Math.max(...starts) - Math.min(...starts)) / 1000, 1)} s apart; each ran ${fmt(jobS[0] ?? 0, 1)}–${fmt(jobS[jobS.length - 1] ?? 0, 1)} s, ${fmt(app.requests / Math.max(1, dones.length) / Math.max(0.001, medianJob), 1)} requests/s per tenant over the median job`);
        console.log(`  stopped by: ${verdict}; load ${r.load}`);
        if (r.failed) console.log(outs.map((x) => x.stderr.slice(-800)).join('\n'));
      } finally {
        if (!o.keep) await admin(o.pg, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      }
    }
  } finally {
    emulator.send({ type: 'stop' });
    await new Promise((r) => emulator.once('exit', r));
    await agent.close();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }

  console.log('\nworkers  interactions/s  % of ceiling  bytes/interaction  429s  app peak/s  tenant peak/s  machine busy  stopped by');
  for (const r of results) {
    console.log(`${String(r.workers).padStart(7)}  ${fmt(r.perSecond).padStart(14)}  ${fmt(r.share * 100, 1).padStart(11)}%  ${fmt(r.bytes / Math.max(1, r.interactions)).padStart(17)}  ${String(r.throttled).padStart(4)}  ${String(r.appPeak).padStart(10)}  ${String(r.tenantPeak).padStart(13)}  ${fmt(r.machineBusy * 100).padStart(11)}%  ${r.verdict}`);
  }
  // Growth from one worker count to the next: throughput that stops growing (or falls) while the
  // machine gets busier says the CPU, not the limits or the workers' number, is what stops it.
  for (let i = 1; i < results.length; i++) {
    const [a, b] = [results[i - 1]!, results[i]!];
    const change = (b.perSecond / a.perSecond - 1) * 100;
    const cpuBound = change < 10 && b.machineBusy > a.machineBusy && b.share < 0.85;
    console.log(`${a.workers} → ${b.workers} workers: ${change >= 0 ? '+' : ''}${fmt(change)}% interactions/s, machine ${fmt(a.machineBusy * 100)}% → ${fmt(b.machineBusy * 100)}% busy${cpuBound ? ": more workers bought CPU contention, not throughput (the machine's CPU stops growth)" : ''}`);
  }
  if (o.cpuProf) console.log(`\nCPU profiles: ${readdirSync(o.cpuProf).filter((f) => f.endsWith('.cpuprofile')).length} files in ${o.cpuProf} (open in Chrome DevTools or speedscope)`);
  console.log(`load after: ${load()}`);
}

await main();
