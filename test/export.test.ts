// copilog export against a real emulator over HTTPS: the store must equal the emulator's ground
// truth (same (user, id) set, identical JSON) for every user the API serves, whatever order Graph
// returns a window in, after SIGKILLs at random moments, under injected faults, and across runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { resolveConfig } from '../src/client/config.js';
import { createClient } from '../src/client/index.js';
import type { Exchange } from '../src/client/transport.js';
import { runExport, type ExportOptions, type ExportSummary } from '../src/export/engine.js';
import { RateLimiter } from '../src/export/limiter.js';
import { resolveTargets } from '../src/export/users.js';
import { openStore } from '../src/store/index.js';
import { spawn } from 'node:child_process';
import { BIN, cleanEnv, copilog, fingerprint, ROOT, startCli } from './support/cli.js';
import { parse as parseYaml } from 'yaml';
import { tempDir, withEmulator, type TestEmulator } from './support/emulator.js';
import { demoWithoutThrottling, exportPath, getPage, qs } from './support/interactions.js';
import { APPLICATION_ID } from '../src/store/sqlite.js';

let emu: TestEmulator;
let tid: string;
let dir: string;
const demo = demoWithoutThrottling();
/** The demo tenant exactly as shipped (30 requests/s), so the limiter meets the real throttle. */
const shipped = structuredClone(demo) as any;
shipped.tenants[0].behaviours = { ...shipped.tenants[0].behaviours, requestsPerSecond: 30 };

/** Users the API refuses (probed once over the wire): their history is not Graph's to give. */
let refusedByApi: string[] = [];

before(async () => {
  emu = await withEmulator(shipped);
  tid = (await emu.tenantList()).tenants[0].id;
  dir = tempDir('copilog-export-test-');
  const token = await emu.token();
  for (const u of (await emu.tenantList()).tenants[0].users) {
    const r = await getPage(emu, exportPath(u.id, qs({ $top: '1', $filter: 'createdDateTime gt 2020-01-01T00:00:00Z and createdDateTime lt 2030-01-01T00:00:00Z' })), token);
    if (r.status !== 200) refusedByApi.push(u.id);
  }
});
after(async () => {
  await emu?.close();
});

async function loadScenario(patch: { behaviours?: Record<string, unknown>; faults?: Record<string, unknown> } = {}): Promise<void> {
  const s = structuredClone(shipped);
  Object.assign(s.tenants[0].behaviours, patch.behaviours ?? {});
  s.tenants[0].faults = { ...(s.tenants[0].faults ?? {}), ...(patch.faults ?? {}) };
  await emu.control('/scenario', 'POST', s);
}

/** The emulator's ground truth, keyed by user and id. */
async function groundTruth(): Promise<Map<string, unknown>> {
  const r = await emu.fetch(`/_emulator/tenants/${tid}/interactions`);
  const out = new Map<string, unknown>();
  for (const line of (await r.text()).split('\n')) {
    if (!line) continue;
    const row = JSON.parse(line);
    out.set(`${row.userId} ${row.interaction.id}`, row.interaction);
  }
  return out;
}

/** What the store holds, keyed the same way; duplicates would show as a count mismatch. */
async function storeContents(path: string): Promise<{ map: Map<string, unknown>; rows: number }> {
  const store = await openStore(path, { readonly: true });
  const map = new Map<string, unknown>();
  let rows = 0;
  for await (const r of store.interactions({ tenantId: tid })) {
    rows++;
    map.set(`${r.userId} ${r.id}`, JSON.parse(r.json));
  }
  await store.close();
  return { map, rows };
}

async function hasInteractions(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    const s = await openStore(path, { readonly: true });
    const n = (await s.stats()).interactions;
    await s.close();
    return n > 0;
  } catch {
    return false;
  }
}

/** Ground truth restricted to the users the API serves (not those it refused). */
function served(truth: Map<string, unknown>, refusedUserIds: string[]): Map<string, unknown> {
  return new Map([...truth].filter(([k]) => !refusedUserIds.includes(k.split(' ')[0]!)));
}

async function assertEqualsTruth(path: string, refused: string[]): Promise<number> {
  const expected = served(await groundTruth(), refused);
  const { map, rows } = await storeContents(path);
  assert.equal(rows, map.size, 'no (user, id) is stored twice');
  const missing = [...expected.keys()].filter((k) => !map.has(k));
  const extra = [...map.keys()].filter((k) => !expected.has(k));
  assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5), missingCount: missing.length, extraCount: extra.length }, { missing: [], extra: [], missingCount: 0, extraCount: 0 });
  for (const [k, v] of expected) assert.deepEqual(map.get(k), v, `identical JSON for ${k}`);
  return expected.size;
}

const exportCli = (store: string, args: string[] = []) => ['export', '--emulator', emu.url, '--ca', emu.ca, '--store', store, '--json', ...args];

async function guestIds(): Promise<string[]> {
  const t = (await emu.tenantList()).tenants[0];
  return t.users.filter((u: any) => u.userType === 'Guest').map((u: any) => u.id);
}

for (const sortOrder of ['ascending', 'descending'] as const) {
  describe(`export with Graph returning windows ${sortOrder}`, () => {
    test('the store equals the ground truth; the guest is refused with its verdict; a second run reads nothing new with one request a user', async () => {
      await loadScenario({ behaviours: { sortOrder } });
      // The switch itself: a window's first page runs oldest first, or newest first.
      const joni = (await emu.tenantList()).tenants[0].users.find((u: any) => u.userPrincipalName.startsWith('joni.sherman')).id;
      const page = await getPage(emu, exportPath(joni, qs({ $top: '50', $filter: 'createdDateTime gt 2020-01-01T00:00:00Z and createdDateTime lt 2030-01-01T00:00:00Z' })), await emu.token());
      const times = page.body.value.map((i: any) => Date.parse(i.createdDateTime));
      const sorted = [...times].sort((a, b) => (sortOrder === 'ascending' ? a - b : b - a));
      assert.deepEqual(times, sorted);
      assert.notEqual(times[0], times[times.length - 1]);
      const store = join(dir, `truth-${sortOrder}.db`);
      const first = await copilog(exportCli(store));
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stderr, '', 'off a terminal, nothing but the summary');
      const s = first.json;
      for (const k of ['users', 'exported', 'new', 'pages', 'requests', 'throttled', 'retries', 'failures', 'durationMs']) assert.ok(k in s, `summary has ${k}`);
      assert.equal(s.failures.length, 1, JSON.stringify(s.failures));
      const [guest] = s.failures;
      assert.equal(guest.outcome, 'refused');
      assert.equal(guest.status, 403);
      assert.equal(guest.code, 'Forbidden');
      assert.equal(guest.verdict, 'user.guest');
      assert.match(guest.requestId, /^[0-9a-f-]{36}$/);
      assert.ok((await guestIds()).includes(guest.userId));
      const n = await assertEqualsTruth(store, refusedByApi);
      assert.equal(s.new, n);
      assert.equal(s.exported, n);

      const second = await copilog(exportCli(store));
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.json.new, 0);
      assert.equal(second.json.requests, second.json.users, 'nothing new: exactly one request a user');
      await assertEqualsTruth(store, refusedByApi);
    });

    test('SIGKILL at random moments, ten times, then resume: equal to the ground truth, no duplicates', async () => {
      // Slow pages and a low rate stretch the run so the kills land mid-export.
      await loadScenario({ behaviours: { sortOrder }, faults: { latencyMs: 20, latencyJitterMs: 40, latencyDistribution: 'uniform' } });
      const store = join(dir, `kill-${sortOrder}.db`);
      const delays: number[] = [];
      let killedMidRun = 0;
      for (let i = 0; i < 10; i++) {
        // A rate of 5 requests/s: at 20 a run on an idle machine could finish the rest of the
        // tenant before the kill (seen once the transport stopped re-parsing its CA per connection).
        const { child, done } = startCli(exportCli(store, ['--rate', '5', '--concurrency', '2']));
        const delay = 700 + Math.floor(Math.random() * 2300);
        delays.push(delay);
        const exited = await Promise.race([done.then(() => true), sleep(delay).then(() => false)]);
        if (!exited) {
          child.kill('SIGKILL');
          const r = await done;
          if (r.signal === 'SIGKILL') killedMidRun++;
        }
      }
      assert.ok(killedMidRun >= 5, `most runs were killed before they finished (delays ${delays.join(', ')})`);
      const last = await copilog(exportCli(store));
      assert.equal(last.code, 0, last.stderr);
      await assertEqualsTruth(store, refusedByApi);
      // Killed runs are not left looking as if they were still running.
      const s = await openStore(store, { readonly: true });
      const runs = await s.runs(tid);
      await s.close();
      assert.deepEqual(runs.filter((r) => r.status === 'running').map((r) => r.id), [], 'killed runs are marked interrupted');
      assert.equal(runs[0]!.status, 'completed');
    });
  });
}

/** The engine in this process, so a test can watch every exchange. */
async function exportInProcess(store: string, extra: Partial<ExportOptions> = {}): Promise<{ summary: ExportSummary; exchanges: Exchange[] }> {
  const config = await resolveConfig({ emulator: emu.url, ca: emu.ca }, {});
  const client = createClient(config, { transport: { keepTrace: false } });
  const exchanges: Exchange[] = [];
  client.transport.addExchangeListener((e) => exchanges.push(e));
  const s = await openStore(store);
  try {
    const users = await resolveTargets(client.graph, { kind: 'licensed' });
    const summary = await runExport({
      tenantId: config.tenantId, store: s, graphBaseUrl: config.graphBaseUrl, credential: client.credential, scope: config.scope, transport: client.transport,
      users, ...extra,
    });
    return { summary, exchanges };
  } finally {
    await s.close();
    await client.close();
  }
}

test('Ctrl-C stops at a page boundary with exit 130; the next run resumes and completes', async () => {
  await loadScenario({ faults: { latencyMs: 30 } });
  const store = join(dir, 'sigint.db');
  const { child, done } = startCli(exportCli(store, ['--rate', '10', '--concurrency', '2']));
  // Interrupt once pages are being written (start-up on a busy machine takes a while).
  for (let i = 0; i < 600 && !(await hasInteractions(store)); i++) await sleep(100);
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.json.status, 'interrupted');
  assert.match(r.stderr, /stopping at the next page boundary/);
  const again = await copilog(exportCli(store));
  assert.equal(again.code, 0, again.stderr);
  await assertEqualsTruth(store, refusedByApi);
});

describe('export under injected faults', () => {
  test('a 429 storm: Graph allows 6 requests/s, copilog asks for 30; Retry-After holds every worker and the run completes', async () => {
    await loadScenario({ behaviours: { requestsPerSecond: 6 } });
    const store = join(dir, 'storm.db');
    const { summary, exchanges } = await exportInProcess(store, { rate: 30 });
    assert.equal(summary.status, 'completed');
    assert.ok(summary.throttled > 0, 'Graph answered 429s');
    assert.ok(exchanges.some((e) => e.status === 429 && e.retryAfter !== undefined), '429s carried Retry-After');
    assert.deepEqual(summary.failures.map((f) => f.outcome), ['refused']);
    await assertEqualsTruth(store, refusedByApi);
  });

  test('503s, connection resets, truncated bodies, empty pages with a nextLink and slow pages: the run completes and equals the truth', async () => {
    await loadScenario({
      faults: { errorRate: 0.15, errorStatuses: [503, 504], errorRetryAfter: 0, resetRate: 0.05, truncateRate: 0.05, emptyPageEvery: 4, latencyMs: 5, latencyJitterMs: 300, latencyDistribution: 'exponential' },
    });
    const store = join(dir, 'faults.db');
    const { summary, exchanges } = await exportInProcess(store, { rate: 200 });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    assert.ok(exchanges.some((e) => e.status === 503 || e.status === 504), 'some 5xx were served');
    assert.ok(exchanges.some((e) => e.status === 0), 'some connections failed');
    assert.ok(summary.retries > 0);
    await assertEqualsTruth(store, refusedByApi);
  });

  test('a token that expires mid-run (the emulator clock jumps past it): a 401, a fresh token, and the run completes', async () => {
    await loadScenario({ behaviours: { tokenLifetimeSeconds: 900 }, faults: { latencyMs: 40 } });
    const store = join(dir, 'token.db');
    let jumped = false;
    const { summary, exchanges } = await exportInProcess(store, {
      rate: 10,
      concurrency: 2,
      onEvent: (e) => {
        if (e.type === 'page' && !jumped) {
          jumped = true;
          void emu.control('/clock', 'POST', { advance: '20m' });
        }
      },
    });
    assert.ok(jumped);
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    assert.ok(exchanges.some((e) => e.status === 401), 'Graph refused the expired token');
    assert.ok(exchanges.filter((e) => /oauth2\/v2\.0\/token/.test(e.url)).length >= 2, 'a second token was acquired');
    await assertEqualsTruth(store, refusedByApi);
  });
});

describe('incremental runs', () => {
  test('new interactions and late arrivals within the overlap are picked up; a run with nothing new makes one request a user', async () => {
    await loadScenario();
    const store = join(dir, 'incremental.db');
    const first = await exportInProcess(store);
    assert.equal(first.summary.status, 'completed');
    const t = (await emu.tenantList()).tenants[0];
    const adele = t.users.find((u: any) => u.userPrincipalName.startsWith('adele.vance')).id;
    const lee = t.users.find((u: any) => u.userPrincipalName.startsWith('lee.gu')).id;
    // Five new ones now, and one that Graph only shows after the run although it is older than
    // the watermark (10 minutes before it, within the 60-minute overlap).
    await emu.control(`/tenants/${tid}/users/${adele}/interactions`, 'POST', { count: 5 });
    const late = new Date(Date.now() - 10 * 60_000).toISOString();
    await emu.control(`/tenants/${tid}/users/${lee}/interactions`, 'POST', { interactions: [{ createdDateTime: late }] });
    await sleep(1100);
    const second = await exportInProcess(store);
    assert.equal(second.summary.new, 6);
    await assertEqualsTruth(store, refusedByApi);
    const third = await exportInProcess(store);
    assert.equal(third.summary.new, 0);
    assert.equal(third.summary.requests, third.summary.users);
    assert.equal(third.exchanges.filter((e) => /getAllEnterpriseInteractions/i.test(e.url)).length, third.summary.users);
  });

  test('a window left open by an interrupted run is finished, then brought up to date, in the next run', async () => {
    await loadScenario();
    const store = join(dir, 'stopped.db');
    const stop = new AbortController();
    let pages = 0;
    const first = await exportInProcess(store, { stop: stop.signal, concurrency: 2, onEvent: (e) => { if (e.type === 'page' && ++pages === 3) stop.abort(); } });
    assert.equal(first.summary.status, 'interrupted');
    const second = await exportInProcess(store);
    assert.equal(second.summary.status, 'completed');
    await assertEqualsTruth(store, refusedByApi);
  });
});

describe('choosing the users', () => {
  const PILOT = '0c2f8a1e-7d4b-4e6a-9b3c-5d8e1f2a4b6c';
  test('the emulator lists a group\'s transitive members, typed or not, under GroupMember.Read.All only', async () => {
    await loadScenario();
    const token = await emu.token();
    for (const path of [`/v1.0/groups/${PILOT}/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName`, `/v1.0/groups/${PILOT}/transitiveMembers`]) {
      const r = await getPage(emu, path, token);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const upns = r.body.value.map((u: any) => u.userPrincipalName.split('@')[0]).sort();
      assert.deepEqual(upns, ['adele.vance', 'isaiah.langer', 'joni.sherman', 'lee.gu', 'miriam.graham'], 'nested members once each');
    }
    const missing = await getPage(emu, '/v1.0/groups/11111111-2222-3333-4444-555555555555/transitiveMembers', token);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'Request_ResourceNotFound');
    // User.Read.All alone does not open a group's membership.
    const userOnly = (await emu.control('/tokens', 'POST', { claims: { roles: ['User.Read.All'] } })).access_token;
    const denied = await getPage(emu, `/v1.0/groups/${PILOT}/transitiveMembers`, userOnly);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
  });

  test('--group exports its members; the one whose chat plan is off is refused with the doctor\'s verdict', async () => {
    const store = join(dir, 'group.db');
    const r = await copilog(exportCli(store, ['--group', PILOT]));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.users, 5);
    assert.deepEqual(r.json.failures.map((f: any) => [f.userPrincipalName.split('@')[0], f.outcome, f.verdict]), [['miriam.graham', 'refused', 'license.plan-disabled']]);
    assert.equal(r.json.store.users, 4);
  });

  test('--users FILE: ids and UPNs, comments and blank lines; an unknown user is recorded as not found', async () => {
    const t = (await emu.tenantList()).tenants[0];
    const lee = t.users.find((u: any) => u.userPrincipalName.startsWith('lee.gu')).id;
    const f = join(dir, 'users-ok.txt');
    writeFileSync(f, `# pilot\nadele.vance@contoso.onmicrosoft.com\n\n${lee}\nno.such.person@contoso.onmicrosoft.com\nADELE.VANCE@contoso.onmicrosoft.com\n`);
    const store = join(dir, 'file.db');
    const r = await copilog(exportCli(store, ['--users', f]));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.users, 3, 'duplicates (any case) count once');
    assert.deepEqual(r.json.failures.map((f: any) => [f.userId, f.outcome, f.status, f.verdict]), [['no.such.person@contoso.onmicrosoft.com', 'notFound', 404, 'user.not-found']]);
    const store2 = await openStore(store, { readonly: true });
    const users = (await store2.users(tid)).map((u) => u.userPrincipalName);
    await store2.close();
    assert.ok(users.includes('lee.gu@contoso.onmicrosoft.com'), 'an id line is resolved to its UPN');
  });
});

describe('export refuses bad input with exit 2 and leaves the store as it was', () => {
  let good: string;
  before(async () => {
    await loadScenario();
    good = join(dir, 'good.db');
    const r = await copilog(exportCli(good));
    assert.equal(r.code, 0, r.stderr);
  });

  const refuses = async (store: string, args: string[], pattern: RegExp) => {
    const before = existsSync(store) ? fingerprint(store) : undefined;
    const r = await copilog(exportCli(store, args));
    assert.equal(r.code, 2, `exit 2\n${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(existsSync(store) ? fingerprint(store) : undefined, before, 'the store is unchanged');
  };

  test('--since after --until', () => refuses(good, ['--since', '2026-02-01', '--until', '2026-01-01'], /--since .* must be before --until/));
  test('a date that is not ISO', () => refuses(good, ['--since', 'yesterday'], /--since must be an ISO 8601 date/));
  test('a malformed users file', async () => {
    const f = join(dir, 'users.txt');
    writeFileSync(f, 'adele.vance@contoso.onmicrosoft.com\nnot a user\n');
    await refuses(good, ['--users', f], /line 2: 'not a user'/);
  });
  test('a users file that does not exist', () => refuses(good, ['--users', join(dir, 'nope.txt')], /cannot read the users file/));
  test('--rate and --concurrency out of range', async () => {
    await refuses(good, ['--rate', '0'], /--rate must be a number above 0/);
    await refuses(good, ['--concurrency', 'lots'], /--concurrency must be a whole number/);
  });
  test('a foreign SQLite database', async () => {
    const f = join(dir, 'foreign.db');
    const db = new Database(f);
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (9.5)');
    db.close();
    await refuses(f, [], /another application .* not a copilog store; it was not modified/);
  });
  test('a file that is not a database', async () => {
    const f = join(dir, 'notes.db');
    writeFileSync(f, 'these are my notes, not a database\n'.repeat(50));
    await refuses(f, [], /not a copilog store \(not a SQLite database/);
  });
  test('a corrupt store', async () => {
    const f = join(dir, 'corrupt.db');
    const bytes = Buffer.alloc(8192, 0x5a);
    Buffer.from('SQLite format 3\u0000', 'latin1').copy(bytes, 0);
    writeFileSync(f, bytes);
    await refuses(f, [], /corrupt|cannot open the store/);
  });
  test('a store written by a newer copilog', async () => {
    const f = join(dir, 'newer.db');
    const db = new Database(f);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('user_version = 99');
    db.exec('CREATE TABLE future (x)');
    db.close();
    await refuses(f, [], /newer copilog \(store schema 99/);
  });
  test('a store path that is a directory, or under a file', async () => {
    const d = join(dir, 'a-directory');
    mkdirSync(d, { recursive: true });
    await refuses(d, [], /is a directory/);
    await refuses(join(good, 'inside.db'), [], /cannot create the store's folder/);
  });
});

test('on a terminal, a progress bar on stderr: users done/total, interactions, requests/s, throttled, ETA', async () => {
  await loadScenario();
  const store = join(dir, 'tty.db');
  // script(1) gives the CLI a pseudo-terminal, as a user's shell would.
  const cmd = [process.execPath, BIN, 'export', '--emulator', emu.url, '--ca', emu.ca, '--store', store].map((a) => `'${a}'`).join(' ');
  const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: cleanEnv({ COLUMNS: '160' }) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /\d+\/19 users \| [\d,]+ interactions \| [\d.]+ req\/s \| throttled \d+ \| ETA/);
  assert.match(r.out, /copilog export: completed/);
});

test('Graph refusing every licensed user (the seed-403 tenant): the run stops, says the cause is tenant-wide and to run the doctor, exit 1', async () => {
  const seedFile = join(ROOT, 'scenarios', 'seed-403.yaml');
  await emu.control('/scenario', 'POST', parseYaml(readFileSync(seedFile, 'utf8')));
  try {
    const store = join(dir, 'seed.db');
    const r = await copilog(exportCli(store));
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.json.status, 'failed');
    assert.match(r.json.abortedBecause, /tenant-wide .* copilog doctor/);
    assert.ok(r.json.failures.every((f: any) => f.status === 403 && f.code === 'Forbidden'));
  } finally {
    await loadScenario();
  }
});
