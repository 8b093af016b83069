// End-to-end benchmark of the emulator's export endpoint over real HTTPS.
//
//   node --import tsx bench/interactions.ts [--duration 20] [--baseline 5] [--connections 8]
//                                           [--top 100] [--warm-share 0.5] [--scenario FILE] [--keep]
//
// Starts the emulator in a child process on scenarios/bench-10k.yaml (10,000 users × 500
// interactions, lazily generated, file storage, no throttling) with a temporary data dir, then:
//   1. baselines: the same concurrent loop against GET /_emulator/health (the HTTPS + framework
//      floor) and GET /v1.0/users/{id}?$select=id (the Graph pipeline with token validation);
//   2. the export: `connections` concurrent clients (undici, keep-alive) each pick a random user and
//      follow @odata.nextLink with $top=N to the end, for `duration` seconds. A share of the picks
//      (`warm-share`) revisits users already read, the rest go to users never touched, whose
//      history the emulator materialises on that first request ("first-touch" pages).
// Prints a table of pages/s, interactions/s and p50/p99/max latency per kind of page, the child's
// RSS (after load, peak, end) and the store size; deletes the data dir unless --keep.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Agent } from 'undici';
import { benchArgs } from './args.js';

const HERE = fileURLToPath(import.meta.url);
const DEFAULT_SCENARIO = fileURLToPath(new URL('../scenarios/bench-10k.yaml', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Child: the emulator, alone in its process so its RSS is its own.

async function serve(): Promise<void> {
  const { startEmulator } = await import('../src/emulator/server.js');
  const [scenario, dataDir] = process.argv.slice(3) as [string, string];
  const t0 = performance.now();
  const emu = await startEmulator({ scenario, port: 0, dataDir, logLevel: 'warn' });
  process.send!({ type: 'ready', url: emu.url, ca: emu.ca, tenants: emu.tenants, loadMs: performance.now() - t0, rss: process.memoryUsage().rss });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'rss') process.send!({ type: 'rss', rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed });
    if (m.type === 'stop') {
      await emu.close();
      process.send!({ type: 'stopped' }, () => process.exit(0));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Parent: the clients.

interface Options { duration: number; baseline: number; connections: number; top: number; warmShare: number; scenario: string; keep: boolean }

function options(): Options {
  const { argv, value, num } = benchArgs('interactions.ts', ['--duration', '--baseline', '--connections', '--top', '--warm-share', '--scenario', '--keep']);
  return {
    duration: num('duration', 20, 1, 3600),
    baseline: num('baseline', 5, 0, 600),
    connections: Math.floor(num('connections', 8, 1, 256)),
    top: Math.floor(num('top', 100, 1, 1000)),
    warmShare: num('warm-share', 0.5, 0, 1),
    scenario: value('scenario', DEFAULT_SCENARIO),
    keep: argv.includes('--keep'),
  };
}

class Stats {
  readonly lat: number[] = [];
  items = 0;
  errors = 0;
  add(ms: number, items = 0): void {
    this.lat.push(ms);
    this.items += items;
  }
  summary() {
    const s = Float64Array.from(this.lat).sort();
    const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : NaN);
    return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1]! : NaN };
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–');
const mib = (bytes: number) => `${fmt(bytes / 2 ** 20, 0)} MiB`;

function dirSize(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return total;
}

async function main(): Promise<void> {
  const o = options();
  const dataDir = mkdtempSync(join(tmpdir(), 'copilog-bench-'));
  let child: ChildProcess | undefined;
  const messages: ((m: any) => boolean)[] = [];
  const next = (type: string) => new Promise<any>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${type}' from the emulator within 120 s`)), 120_000);
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
    console.log(`copilog interaction export bench — scenario ${o.scenario}`);
    console.log(`data dir ${dataDir}${o.keep ? ' (kept)' : ' (deleted at the end)'}`);
    child = fork(HERE, ['--serve', o.scenario, dataDir], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m: any) => {
      const i = messages.findIndex((f) => f(m));
      if (i >= 0) messages.splice(i, 1);
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`emulator exited with ${code}`);
    });
    const ready = await next('ready');
    const rss = { load: ready.rss as number, peak: ready.rss as number, end: 0 };
    const sampleRss = async () => {
      child!.send({ type: 'rss' });
      const r = (await next('rss')).rss as number;
      rss.peak = Math.max(rss.peak, r);
      return r;
    };

    const agent = new Agent({ connect: { ca: readFileSync(ready.ca) }, connections: o.connections, pipelining: 1, keepAliveTimeout: 60_000 });
    const origin = ready.url as string;
    const get = async (path: string, headers: Record<string, string> = {}): Promise<any> => {
      const res = await agent.request({ origin, path, method: 'GET', headers });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`GET ${path} → ${res.statusCode} ${text.slice(0, 300)}`);
      return JSON.parse(text);
    };

    // Credentials and user ids, over the wire like any client.
    const tenants = await get('/_emulator/tenants');
    const tenant = tenants.tenants[0];
    const app = tenant.apps.find((a: any) => a.appId === tenant.default.appId);
    const tokenRes = await agent.request({
      origin, path: `/${tenant.id}/oauth2/v2.0/token`, method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.appId, client_secret: app.secrets[0].value, scope: 'https://graph.microsoft.com/.default' }).toString(),
    });
    const token = (await tokenRes.body.json() as any).access_token as string;
    if (!token) throw new Error('no token');
    const auth = { authorization: `Bearer ${token}` };
    const t0Users = performance.now();
    const ids: string[] = [];
    for (let link: string | undefined = '/v1.0/users?$select=id&$top=999'; link;) {
      const page = await get(link.replace(origin, ''), auth);
      ids.push(...page.value.map((u: any) => u.id));
      link = page['@odata.nextLink'];
    }
    const usersMs = performance.now() - t0Users;
    console.log(`emulator ready in ${fmt(ready.loadMs)} ms (RSS ${mib(ready.rss)}); ${fmt(ids.length)} users listed in ${fmt(usersMs)} ms; ${o.connections} connections, $top=${o.top}`);

    // A tiny deterministic PRNG, so runs are comparable.
    let seed = 0x9e3779b9;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;

    const rssTimer = setInterval(() => void sampleRss().catch(() => undefined), 500);

    // 1. Baselines: the same concurrent loop on cheap endpoints.
    const loop = async (seconds: number, path: () => string, headers: Record<string, string>) => {
      const stats = new Stats();
      const end = performance.now() + seconds * 1000;
      await Promise.all(Array.from({ length: o.connections }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          try {
            await get(path(), headers);
            stats.add(performance.now() - t);
          } catch {
            stats.errors++;
          }
        }
      }));
      return { stats, seconds };
    };
    const baselines: { name: string; r: Awaited<ReturnType<typeof loop>> }[] = [];
    if (o.baseline > 0) {
      baselines.push({ name: 'GET /_emulator/health', r: await loop(o.baseline, () => '/_emulator/health', {}) });
      baselines.push({ name: 'GET /v1.0/users/{id}?$select=id', r: await loop(o.baseline, () => `/v1.0/users/${pick(ids)}?$select=id`, auth) });
    }

    // 2. The export.
    const touched: string[] = [];
    const touchedSet = new Set<string>();
    const busy = new Set<string>();
    const first = new Stats();
    const warmFirst = new Stats();
    const warmNext = new Stats();
    let usersRead = 0;
    let fullPages = 0;
    const end = performance.now() + o.duration * 1000;
    const tStart = performance.now();
    await Promise.all(Array.from({ length: o.connections }, async () => {
      while (performance.now() < end) {
        // A warm pick revisits a stored user; if it lands on one another client is reading, or
        // on a cold pick, draw from the whole tenant (most of which is still untouched).
        let user = touched.length > 0 && rand() < o.warmShare ? pick(touched) : pick(ids);
        while (busy.has(user)) user = pick(ids);
        const firstTouch = !touchedSet.has(user);
        busy.add(user);
        if (firstTouch) {
          touchedSet.add(user);
          touched.push(user);
        }
        let link: string | undefined = `/v1.0/copilot/users/${user}/interactionHistory/getAllEnterpriseInteractions?$top=${o.top}`;
        let n = 0;
        while (link && performance.now() < end) {
          const t = performance.now();
          let page: any;
          try {
            page = await get(link.startsWith('https://') ? link.slice(origin.length) : link, auth);
          } catch (e) {
            (n === 0 && firstTouch ? first : warmNext).errors++;
            if (first.errors + warmNext.errors < 5) console.error(String(e));
            break;
          }
          const ms = performance.now() - t;
          const items = page.value.length as number;
          (n === 0 ? (firstTouch ? first : warmFirst) : warmNext).add(ms, items);
          if (items === o.top) fullPages++;
          n++;
          link = page['@odata.nextLink'];
        }
        if (!link) usersRead++;
        busy.delete(user);
      }
    }));
    const elapsed = (performance.now() - tStart) / 1000;
    clearInterval(rssTimer);
    rss.end = await sampleRss();

    // Report.
    const all = new Stats();
    for (const s of [first, warmFirst, warmNext]) for (const l of s.lat) all.add(l);
    all.items = first.items + warmFirst.items + warmNext.items;
    all.errors = first.errors + warmFirst.errors + warmNext.errors;
    const rows: string[][] = [];
    const row = (name: string, s: Stats, seconds: number, items: boolean) => {
      const m = s.summary();
      rows.push([name, fmt(m.n), fmt(m.n / seconds, 0), items ? fmt(s.items / seconds, 0) : '', fmt(m.p50, 2), fmt(m.p99, 2), fmt(m.max, 1), fmt(s.errors)]);
    };
    for (const b of baselines) row(`baseline: ${b.name}`, b.r.stats, b.r.seconds, false);
    row(`export: all pages ($top=${o.top})`, all, elapsed, true);
    row('  first-touch pages (user materialised)', first, elapsed, true);
    row('  warm first pages (user already stored)', warmFirst, elapsed, true);
    row('  warm nextLink pages', warmNext, elapsed, true);
    const header = ['', 'requests', 'req/s', 'items/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log('');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(line(r));
    console.log('');
    console.log(`export run: ${fmt(elapsed, 1)} s, ${fmt(fullPages)} full pages of ${o.top} = ${fmt(fullPages / elapsed, 0)} pages of ${o.top}/s; ${fmt(touchedSet.size)} users touched (${fmt(first.summary().n / elapsed, 1)} materialised/s), ${fmt(usersRead)} read to the end`);
    console.log(`emulator RSS: ${mib(rss.load)} after load, ${mib(rss.peak)} peak, ${mib(rss.end)} at the end`);

    await agent.close();
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    child.send({ type: 'stop' });
    await next('stopped').catch(() => undefined);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);

    // What the store holds once the emulator has stopped: only the users the clients touched.
    for (const f of readdirSync(dataDir).filter((x) => x.endsWith('.sqlite'))) {
      const db = new Database(join(dataDir, f), { readonly: true });
      const users = db.prepare('SELECT count(*) FROM materialised_users').pluck().get() as number;
      const rows = db.prepare('SELECT count(*) FROM interactions').pluck().get() as number;
      db.close();
      console.log(`store ${f}: ${fmt(users)} of ${fmt(ids.length)} users materialised (${fmt(rows)} interactions, generated lazily); data dir ${mib(dirSize(dataDir))}`);
    }
  } finally {
    cleanup();
  }
}

if (process.argv[2] === '--serve') await serve();
else await main();
