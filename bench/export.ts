// Performance acceptance of copilog export (issue 7), on the emulator over real HTTPS.
//
//   node --import tsx bench/export.ts [--baseline-sample 60] [--cold] [--scenario FILE] [--timeout 600] [--keep]
//   node --import tsx bench/export.ts --memory [--per-user 100] [--rate 1500] [--timeout 600] [--keep]
//   either mode: [--node-args '--max-old-space-size=192'] passes Node options to the copilog process
//
// Default mode, side by side in one invocation, on scenarios/bench-export.yaml (320 licensed users ×
// 250 interactions, 150–400 ms latency on the export endpoint, Graph's 30 requests/s per app per
// tenant). One emulator in a child process serves both; before each it is reset (POST
// /_emulator/reset: state, throttling, histories) and, unless --cold, every history is materialised
// through the ground-truth endpoint, so neither client pays for the emulator's lazy generation:
//   1. copilog export: the real CLI, `node bin/copilog.js export --emulator URL --ca CA --store FILE
//      --json` (default rate 30/s, concurrency auto), into a fresh SQLite store;
//   2. the baseline, bench/baseline-export.ts: @microsoft/microsoft-graph-client with PageIterator,
//      one user after another, its default retry handler, @azure/identity's ClientSecretCredential,
//      writing JSONL. At ~3 requests/s it would need minutes for every user, so by default it reads
//      a fixed pseudo-random sample of `--baseline-sample` users (0 = all) and its wall time is
//      extrapolated from its per-user time (said so in the output).
// The emulator notes every export request as it arrives (node:diagnostics_channel, no change to the
// emulator), so the request rate is measured where Graph would measure it: admitted requests (not
// 429) per 1-second bucket, min/median over the whole run and over its steady middle.
//
// --memory: copilog export alone on the 10,000-user scenario (scenarios/bench-10k.yaml with
// `--per-user` interactions each, default 100 = 1,000,000; throttling and latency off, copilog's own
// limiter at --rate 1500, its maximum), with the export process's peak RSS (VmHWM from
// /proc/PID/status, polled), its RSS over time, interactions/s and bytes per interaction in the store.
//
// Every child is killed after --timeout seconds. Prints its figures; asserts nothing.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { parse as parseYaml } from 'yaml';

const HERE = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'copilog.js');
const BASELINE = join(ROOT, 'bench', 'baseline-export.ts');
const DEFAULT_SCENARIO = join(ROOT, 'scenarios', 'bench-export.yaml');
const MEMORY_SCENARIO = join(ROOT, 'scenarios', 'bench-10k.yaml');
const EXPORT_PATH = /getAllEnterpriseInteractions/i;

// ---------------------------------------------------------------------------------------------
// Child: the emulator, noting the arrival time and status of every export request.

async function serve(): Promise<void> {
  const dc = await import('node:diagnostics_channel');
  const { startEmulator } = await import('../src/emulator/server.js');
  const [scenario, dataDir] = process.argv.slice(3) as [string, string];
  let arrivals: [number, number][] = [];
  let count = 0;
  const started = new WeakMap<object, number>();
  dc.subscribe('http.server.request.start', (m: any) => {
    if (EXPORT_PATH.test(m.request.url ?? '')) started.set(m.request, Date.now());
  });
  dc.subscribe('http.server.response.finish', (m: any) => {
    const t = started.get(m.request);
    if (t === undefined) return;
    arrivals.push([t, m.response.statusCode]);
    count++;
  });
  // The emulator's own stalls (event-loop delay, GC) per second, so a dip in the request rate can
  // be told apart from a client that did not send.
  const { monitorEventLoopDelay, PerformanceObserver } = await import('node:perf_hooks');
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let stalls: [number, number, number][] = [];
  let gcMs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    stalls.push([Date.now(), delay.max / 1e6, gcMs]);
    delay.reset();
    gcMs = 0;
  }, 1000).unref();
  const emu = await startEmulator({ scenario, port: 0, dataDir, logLevel: 'warn' });
  process.send!({ type: 'ready', url: emu.url, ca: emu.ca, tenants: emu.tenants });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'arrivals') {
      process.send!({ type: 'arrivals', list: arrivals, stalls });
      arrivals = [];
      stalls = [];
    }
    if (m.type === 'count') process.send!({ type: 'count', count, rss: process.memoryUsage().rss });
    if (m.type === 'stop') {
      await emu.close();
      process.send!({ type: 'stopped' }, () => process.exit(0));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Parent.

interface Options { memory: boolean; cold: boolean; nodeArgs: string[]; baselineSample: number; scenario: string; timeout: number; perUser: number; rate: number; keep: boolean }

function options(): Options {
  const argv = process.argv.slice(2);
  const value = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith('--') && name !== 'node-args')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const v = Number(value(name, String(fallback)));
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return v;
  };
  const known = new Set(['--memory', '--cold', '--node-args', '--baseline-sample', '--scenario', '--timeout', '--per-user', '--rate', '--keep']);
  const unknown = argv.filter((a, i) => a.startsWith('--') && !known.has(a) && argv[i - 1] !== '--node-args');
  if (unknown.length) throw new Error(`unknown option(s) ${unknown.join(' ')}; see the header of bench/export.ts`);
  return {
    memory: argv.includes('--memory'),
    cold: argv.includes('--cold'),
    nodeArgs: value('node-args', '').split(' ').filter(Boolean),
    baselineSample: Math.floor(num('baseline-sample', 60, 0, 1_000_000)),
    scenario: value('scenario', DEFAULT_SCENARIO),
    timeout: num('timeout', 600, 10, 3600),
    perUser: Math.floor(num('per-user', 100, 1, 10_000)),
    rate: num('rate', 1500, 1, 1500),
    keep: argv.includes('--keep'),
  };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const mib = (kb: number) => `${fmt(kb / 1024, 0)} MiB`;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};
const quantile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** VmHWM of the process, kB (polled; the last poll before exit). */
  peakRssKb: number;
  /** [ms since start, VmRSS kB] samples. */
  rssTimeline: [number, number][];
  timedOut: boolean;
}

/** Run a process to its end (or the timeout), polling /proc/PID/status for its memory. */
function runChild(args: string[], env: NodeJS.ProcessEnv, timeoutSec: number, onSample?: (ms: number) => void): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakRssKb = 0;
    const rssTimeline: [number, number][] = [];
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
    const poll = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peakRssKb = Math.max(peakRssKb, hwm);
        if (rss > 0) rssTimeline.push([performance.now() - t0, rss]);
        onSample?.(performance.now() - t0);
      } catch {
        // gone, or no /proc (not Linux): no memory figures
      }
    };
    const poller = setInterval(poll, 200);
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSec * 1000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poller);
      clearTimeout(killer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - t0, peakRssKb, rssTimeline, timedOut });
    });
  });
}

/** A clean environment for a client: no tenant configuration from the caller's shell. */
function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AZURE_') && !k.startsWith('COPILOG_') && k !== 'NODE_EXTRA_CA_CERTS') env[k] = v;
  return { ...env, ...extra };
}

function lastJson(text: string): any {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Admitted export requests (status ≠ 429) per 1-second bucket from the first arrival; full seconds only. */
function rateBuckets(arrivals: [number, number][]): { perSecond: number[]; spanMs: number; admitted: number; throttled: number; throttledAt: number[] } {
  if (arrivals.length === 0) return { perSecond: [], spanMs: 0, admitted: 0, throttled: 0, throttledAt: [] };
  const times = arrivals.map((a) => a[0]);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const full = Math.floor((t1 - t0) / 1000);
  const perSecond = new Array<number>(full).fill(0);
  let admitted = 0;
  let throttled = 0;
  const throttledAt = new Set<number>();
  for (const [t, status] of arrivals) {
    if (status === 429) {
      throttled++;
      throttledAt.add(Math.floor((t - t0) / 1000) + 1);
      continue;
    }
    admitted++;
    const b = Math.floor((t - t0) / 1000);
    if (b < full) perSecond[b]!++;
  }
  return { perSecond, spanMs: t1 - t0, admitted, throttled, throttledAt: [...throttledAt] };
}

function rateReport(name: string, limit: number | null, arrivals: [number, number][]): string[] {
  const r = rateBuckets(arrivals);
  const lines: string[] = [];
  if (r.perSecond.length === 0) return [`${name}: fewer than 1 s of export requests`];
  // The steady middle: without the first and last 10% of the run's seconds (at least 1 each).
  const cut = Math.max(1, Math.floor(r.perSecond.length * 0.1));
  const middle = r.perSecond.length > 2 * cut ? r.perSecond.slice(cut, r.perSecond.length - cut) : r.perSecond;
  const share = (xs: number[]) => (limit ? xs.filter((x) => x >= 0.9 * limit).length / xs.length : NaN);
  lines.push(`${name}: ${fmt(r.admitted)} admitted + ${fmt(r.throttled)} throttled export requests over ${fmt(r.spanMs / 1000, 1)} s at the emulator; admitted per second (1-s buckets):`);
  lines.push(`  whole run (${r.perSecond.length} full seconds): min ${fmt(Math.min(...r.perSecond))}, median ${fmt(median(r.perSecond), 1)}, max ${fmt(Math.max(...r.perSecond))}${limit ? `; ${fmt(share(r.perSecond) * 100)}% of seconds ≥ 90% of ${limit}/s` : ''}`);
  lines.push(`  steady middle (seconds ${cut + 1}–${r.perSecond.length - cut}): min ${fmt(Math.min(...middle))}, p10 ${fmt(quantile(middle, 0.1))}, median ${fmt(median(middle), 1)}${limit ? `; min = ${fmt((Math.min(...middle) / limit) * 100)}% of the limit, ${fmt(share(middle) * 100)}% of seconds ≥ 90%` : ''}`);
  const shown = r.perSecond.slice(0, 120);
  lines.push(`  per second: ${shown.join(' ')}${r.perSecond.length > shown.length ? ' …' : ''}`);
  if (r.throttled) lines.push(`  429s in second(s) ${r.throttledAt.slice(0, 20).join(', ')}${r.throttledAt.length > 20 ? ', …' : ''} (counted from 1)`);
  return lines;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) total += statSync(path + suffix).size;
  return total;
}

async function main(): Promise<void> {
  const o = options();
  const dataDir = mkdtempSync(join(tmpdir(), 'copilog-bench-export-'));
  let child: ChildProcess | undefined;
  const messages: ((m: any) => boolean)[] = [];
  const next = (type: string, timeoutMs = 120_000) => new Promise<any>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${type}' from the emulator within ${timeoutMs / 1000} s`)), timeoutMs);
    messages.push((m) => {
      if (m.type !== type) return false;
      clearTimeout(t);
      resolve(m);
      return true;
    });
  });
  const cleanup = () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (!o.keep) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  try {
    let scenarioPath = o.scenario;
    if (o.memory) {
      // bench-10k with N interactions per user; no throttling, no latency.
      const raw = parseYaml(readFileSync(MEMORY_SCENARIO, 'utf8'));
      raw.name = `bench-10k-${o.perUser}`;
      raw.description = `bench-10k with ${o.perUser} interactions per user (bench/export.ts --memory)`;
      raw.tenants[0].interactions.perUser = o.perUser;
      raw.tenants[0].behaviours = { ...raw.tenants[0].behaviours, requestsPerSecond: null };
      delete raw.tenants[0].faults;
      scenarioPath = join(dataDir, 'scenario.json');
      writeFileSync(scenarioPath, JSON.stringify(raw));
    }
    console.log(`copilog export bench${o.memory ? ' --memory' : ''} — scenario ${o.memory ? `${MEMORY_SCENARIO} with ${o.perUser} interactions per user` : scenarioPath}`);
    console.log(`data dir ${dataDir}${o.keep ? ' (kept)' : ' (deleted at the end)'}; ${process.version}, load average ${load()} at start${o.nodeArgs.length ? `; copilog runs with node ${o.nodeArgs.join(' ')}` : ''}`);
    child = fork(HERE, ['--serve', scenarioPath, dataDir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m: any) => {
      const i = messages.findIndex((f) => f(m));
      if (i >= 0) messages.splice(i, 1);
    });
    const ready = await next('ready');
    const url = ready.url as string;
    const ca = ready.ca as string;
    const agent = new Agent({ connect: { ca: readFileSync(ca) } });
    const control = async (method: 'GET' | 'POST', path: string): Promise<any> => {
      const res = await agent.request({ origin: url, path, method });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode} ${text.slice(0, 300)}`);
      return JSON.parse(text);
    };
    const tenants = await control('GET', '/_emulator/tenants');
    const tenant = tenants.tenants[0];
    const limit: number | null = tenant.behaviours?.requestsPerSecond ?? (o.memory ? null : 30);
    let lastStalls: [number, number, number][] = [];
    let runArrivals: [number, number][] = [];
    const arrivals = async (): Promise<[number, number][]> => {
      child!.send({ type: 'arrivals' });
      const m = await next('arrivals');
      lastStalls = m.stalls;
      runArrivals = m.list;
      return m.list;
    };
    /** The emulator's longest event-loop stall and its GC time over the last run. */
    const stallReport = (name: string): string => {
      if (lastStalls.length === 0) return `${name}: no emulator samples`;
      const worst = lastStalls.reduce((a, b) => (b[1] > a[1] ? b : a));
      const over = lastStalls.filter((x) => x[1] >= 250).length;
      const gc = lastStalls.reduce((a, b) => a + b[2], 0);
      const t0 = Math.min(...runArrivals.map((a) => a[0]));
      const early = lastStalls.filter((x) => x[0] > t0).slice(0, 12).map((x) => fmt(x[1]));
      return `${name}: the emulator's event loop stalled up to ${fmt(worst[1])} ms (${over} of ${lastStalls.length} seconds with a stall ≥ 250 ms); GC ${fmt(gc)} ms in all; longest stall in each of its first seconds (ms): ${early.join(' ')}`;
    };

    /**
     * Reset the emulator (state, throttling, histories). Unless --cold, then materialise every
     * user's history through the ground-truth endpoint, so neither client pays for the emulator's
     * lazy generation (real Graph has none); returns how many interactions the tenant holds.
     */
    const resetTenant = async (): Promise<number | undefined> => {
      await control('POST', '/_emulator/reset');
      let truth: number | undefined;
      if (!o.cold) {
        const t = performance.now();
        const res = await agent.request({ origin: url, path: `/_emulator/tenants/${tenant.id}/interactions`, method: 'GET' });
        truth = 0;
        for await (const chunk of res.body) for (const byte of chunk as Buffer) if (byte === 10) truth++;
        console.log(`    (emulator reset; ${fmt(truth)} interactions materialised in ${fmt((performance.now() - t) / 1000, 1)} s before the run)`);
      }
      await arrivals(); // forget anything before
      return truth;
    };

    const copilog = async (store: string, extra: string[]) => {
      // The memory run keeps the emulator's lazy generation: materialising 1,000,000 up front costs minutes.
      let truth: number | undefined;
      if (o.memory) {
        await control('POST', '/_emulator/reset');
        await arrivals();
      } else truth = await resetTenant();
      const loadBefore = load();
      const run = await runChild([...o.nodeArgs, CLI, 'export', '--emulator', url, '--ca', ca, '--store', store, '--json', '--no-progress', ...extra], clientEnv(), o.timeout);
      const summary = lastJson(run.stdout);
      if (run.timedOut) console.log(`copilog export was killed after ${o.timeout} s (--timeout)`);
      if (!summary || run.code !== 0) console.log(`copilog export exited ${run.code}: ${run.stderr.trim().slice(-2000)}`);
      if (truth !== undefined && summary && summary.exported !== truth) console.log(`copilog exported ${summary.exported} interactions, the emulator holds ${truth}`);
      const list = await arrivals();
      return { run, summary, arrivals: list, stalls: stallReport('copilog run'), loadBefore, loadAfter: load() };
    };

    if (o.memory) {
      console.log(`copilog export --rate ${o.rate} (concurrency auto) on ${fmt(tenant.userCount ?? 10_000)} users × ${o.perUser}; timeout ${o.timeout} s`);
      const store = join(dataDir, 'copilog-memory.db');
      const c = await copilog(store, ['--rate', String(o.rate)]);
      const s = c.summary ?? {};
      const secs = c.run.wallMs / 1000;
      const engineSecs = (s.durationMs ?? NaN) / 1000;
      const onDisk = fileBytes(store);
      console.log('');
      for (const l of table(['', 'value'], [
        ['interactions exported', fmt(s.exported)],
        ['users', `${fmt(s.users)} (${fmt(s.failures?.length ?? NaN)} failures)`],
        ['requests (export endpoint)', `${fmt(s.requests)} (${fmt(s.retries)} retries, ${fmt(s.throttled)} throttled)`],
        ['wall time (process)', `${fmt(secs, 1)} s (engine ${fmt(engineSecs, 1)} s)`],
        ['interactions/s', `${fmt(s.exported / secs)} over the process wall time, ${fmt(s.exported / engineSecs)} over the engine's run`],
        ['requests/s', `${fmt(s.requests / secs, 1)} (wall), ${fmt(s.requests / engineSecs, 1)} (engine)`],
        ['peak RSS (VmHWM)', `${mib(c.run.peakRssKb)}${c.run.peakRssKb < 300 * 1024 ? ' (under 300 MB)' : ' (NOT under 300 MB)'}`],
        ['store', `${fmt(s.store?.interactions)} interactions, ${fmt(s.store?.bytes)} bytes (page_count × page_size) = ${fmt(s.store?.bytes / s.store?.interactions)} bytes/interaction; on disk after exit ${fmt(onDisk)} bytes (db+wal+shm) = ${fmt(onDisk / s.store?.interactions)} bytes/interaction`],
        ['load average', `${c.loadBefore} before, ${c.loadAfter} after`],
      ])) console.log(l);
      // RSS over the run, in tenths of the wall time: flat or growing?
      const tl = c.run.rssTimeline;
      if (tl.length) {
        const marks: string[] = [];
        for (let i = 1; i <= 10; i++) {
          const at = (c.run.wallMs * i) / 10;
          const sample = tl.filter(([ms]) => ms <= at).pop();
          if (sample) marks.push(`${i * 10}%: ${fmt(sample[1] / 1024)}`);
        }
        console.log(`RSS over the run (MiB at each tenth of the wall time): ${marks.join(', ')}`);
      }
      for (const l of rateReport('copilog export (memory run)', null, c.arrivals)) console.log(l);
      console.log(c.stalls);
    } else {
      // 1. copilog export.
      console.log(`1/2 copilog export (rate 30/s, concurrency auto) on ${fmt(tenant.userCount)} users; timeout ${o.timeout} s …`);
      const c = await copilog(join(dataDir, 'copilog.db'), []);
      const cs = c.summary ?? {};
      console.log(`    ${fmt(c.run.wallMs / 1000, 1)} s, ${fmt(cs.exported)} interactions, ${fmt(cs.requests)} requests`);

      // 2. The baseline.
      await resetTenant();
      const app = tenant.apps.find((a: any) => a.appId === tenant.default.appId);
      const sample = o.baselineSample > 0 && o.baselineSample < (tenant.userCount ?? Infinity) ? o.baselineSample : 0;
      console.log(`2/2 baseline (Graph SDK, PageIterator, one user after another) on ${sample ? `a fixed random sample of ${sample} of the ${fmt(tenant.userCount)} users (extrapolated below)` : 'every user'}; timeout ${o.timeout} s …`);
      const bLoadBefore = load();
      const bRun = await runChild([
        '--import', 'tsx', BASELINE,
        JSON.stringify({ url, tenantId: tenant.id, clientId: app.appId, secret: app.secrets[0].value, out: join(dataDir, 'baseline.jsonl'), ...(sample ? { sample, seed: 7 } : {}) }),
      ], clientEnv({ NODE_EXTRA_CA_CERTS: ca }), o.timeout);
      const bLoadAfter = load();
      const bs = lastJson(bRun.stdout) ?? {};
      if (bRun.timedOut) console.log(`the baseline was killed after ${o.timeout} s (--timeout)`);
      if (bRun.code !== 0) console.log(`the baseline exited ${bRun.code}: ${bRun.stdout.trim().slice(-1000)} ${bRun.stderr.trim().slice(-1000)}`);
      const bArrivals = await arrivals();
      const bStalls = stallReport('baseline run');
      console.log(`    ${fmt(bRun.wallMs / 1000, 1)} s, ${fmt(bs.exported)} interactions, ${fmt(bs.requests)} requests`);

      // Extrapolate the baseline from its sample: the fixed cost (process start, token, user list)
      // once, the per-user export time × every user.
      const factor = bs.sampled ? bs.users / bs.sampled : NaN;
      const bWall = bRun.wallMs / 1000;
      const bExport = bs.exportMs / 1000;
      const bWallAll = sample ? bWall - bExport + bExport * factor : bWall;
      const bRequestsAll = sample ? bs.requests * factor : bs.requests;
      const bExportedAll = sample ? bs.exported * factor : bs.exported;
      const cWall = c.run.wallMs / 1000;
      const cEngine = cs.durationMs / 1000;

      console.log('');
      const rows: string[][] = [
        ['copilog export', fmt(cs.users), fmt(cWall, 1), fmt(cEngine, 1), fmt(cs.requests), fmt(cs.requests / cWall, 1), fmt(cs.requests / cEngine, 1), fmt(cs.exported), fmt(cs.exported / cWall), fmt(cs.throttled), mib(c.run.peakRssKb)],
        [`baseline${sample ? ` (${sample} users measured)` : ''}`, fmt(bs.sampled), fmt(bWall, 1), fmt(bExport, 1), fmt(bs.requests), fmt(bs.requests / bWall, 1), fmt(bs.requests / bExport, 1), fmt(bs.exported), fmt(bs.exported / bWall), fmt(bs.throttled), mib(bRun.peakRssKb)],
      ];
      if (sample) rows.push([`baseline, extrapolated to ${fmt(bs.users)} users`, fmt(bs.users), fmt(bWallAll, 1), fmt(bExport * factor, 1), fmt(bRequestsAll), fmt(bRequestsAll / bWallAll, 1), fmt(bs.requests / bExport, 1), fmt(bExportedAll), fmt(bExportedAll / bWallAll), '', '']);
      for (const l of table(['', 'users', 'wall s', 'export s', 'requests', 'req/s wall', 'req/s export', 'interactions', 'interactions/s', '429s', 'peak RSS'], rows)) console.log(l);
      console.log('(wall = the process from spawn to exit, with Node start-up, token and user listing; export = copilog\'s durationMs, the baseline\'s time after listing users)');
      console.log('');
      console.log(`copilog is ${fmt(bWallAll / cWall, 1)}× faster than the baseline on wall time (${fmt(bWallAll, 1)} s${sample ? ' extrapolated' : ''} / ${fmt(cWall, 1)} s) and ${fmt((bExport * (sample ? factor : 1)) / cEngine, 1)}× on the export phase; target ≥ 5× on ≥ 300 users${cs.users >= 300 ? '' : ` (this tenant has only ${cs.users})`}.`);
      if (sample) console.log(`The baseline read ${bs.sampled} of ${bs.users} users (a fixed sample, seed 7); its figures for ${bs.users} users are its per-user time × ${bs.users} plus its measured fixed cost. Run with --baseline-sample 0 to measure every user.`);
      console.log(`interactions/s ceiling at 30 requests/s × 100 per page: 3,000; copilog reached ${fmt(cs.exported / cEngine)} over its export phase.`);
      console.log('');
      for (const l of rateReport('copilog export', limit, c.arrivals)) console.log(l);
      for (const l of rateReport('baseline', limit, bArrivals)) console.log(l);
      console.log('');
      console.log(c.stalls);
      console.log(bStalls);
      console.log(`load average (1/5/15 min): copilog run ${c.loadBefore} before, ${c.loadAfter} after; baseline run ${bLoadBefore} before, ${bLoadAfter} after (2 cores shared with the emulator)`);
    }

    await agent.close();
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    child.send({ type: 'stop' });
    await next('stopped', 30_000).catch(() => undefined);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  } finally {
    cleanup();
  }
}

if (process.argv[2] === '--serve') await serve();
else await main();
