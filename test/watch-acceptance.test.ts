// Acceptance of `copilog watch` (issue #11), end to end: the emulator over real HTTPS, the CLI as
// a user runs it (a child process, `copilog watch --emulator … --store FILE`, real SQLite), 100
// licensed users, interactions ingested in bursts through the control API.
//   a. 10,000 interactions while watch runs (basic notifications): the store equals the ground truth.
//   b. SIGKILL mid-burst, restart on the same port (subscriptions adopted, the emulator's retries
//      deliver), SIGKILL mid-burst again, restart on another port (subscriptions recreated, what
//      was queued for the old ones is gone: only the backfill brings it): nothing lost, nothing twice.
//   c. While watch is down the emulator's clock passes the subscriptions' expiry: on restart they
//      are recreated, the downtime is backfilled, new notifications arrive: the store equals the truth.
// "Settled" below means: the emulator has nothing left to deliver, the store's notification queue
// is empty and the restarted watch has finished its start-up catch-up; only then is the store
// compared, once. No timing is asserted; the waits are generous for a loaded 2-core machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { openStore } from '../src/store/index.js';
import { jsonLines, startCli, type CliRun } from './support/cli.js';
import { tempDir, withEmulator, type TestEmulator } from './support/emulator.js';

const USERS = 100;
const TENANT = '5c0e8f2a-3b1d-4c6e-9a7f-2d4b6e8f0a1c';
const scenario = {
  name: 'watch-acceptance',
  description: '100 licensed users, a few interactions each, no throttling, fast notification retries.',
  default: { tenant: 'watchload.onmicrosoft.com', app: 'watch reader', user: 'user00001@watchload.onmicrosoft.com' },
  tenants: [{
    id: TENANT,
    domain: 'watchload.onmicrosoft.com',
    displayName: 'Watch load',
    behaviours: { requestsPerSecond: null, notificationRetryBaseMs: 200, notificationRetryMaxMs: 2000 },
    interactions: { seed: 'watch-acceptance', perUser: 3, from: '-3d', to: '-1h' },
    apps: [{
      appId: '8a6c4e2f-0b9d-4f1a-8c3e-5b7d9f1a3c5e',
      displayName: 'watch reader',
      secrets: [{ value: 'watch-secret-value-not-for-production' }],
      permissions: ['AiEnterpriseInteraction.Read.All', 'User.Read.All'],
    }],
    generatedUsers: { count: USERS, prefix: 'user', licenses: [{ sku: 'Microsoft_365_Copilot' }, { sku: 'SPE_E5' }] },
  }],
};

let emu: TestEmulator;
let userIds: string[];
const dir = tempDir('copilog-watch-acceptance-');
const running = new Set<ChildProcess>();

// W11_DIAG=1 prints this process's event-loop lag every 2 s (the emulator runs here: a starved
// loop shows as connect timeouts in watch).
if (process.env.W11_DIAG) {
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  setInterval(() => { process.stderr.write(`${new Date().toISOString()} lag max ${Math.round(h.max / 1e6)} ms\n`); h.reset(); }, 2000).unref();
}
before(async () => {
  emu = await withEmulator(scenario);
  userIds = (await emu.tenantList()).tenants[0].users.map((u: any) => u.id);
  assert.equal(userIds.length, USERS);
});
after(async () => {
  for (const c of running) c.kill('SIGKILL');
  await emu?.close();
});

// ---- the CLI as a child process, its --json events read from stderr ------------------------------
interface WatchProc { child: ChildProcess; done: Promise<CliRun>; events: any[]; port: () => number | undefined }

function startWatch(store: string, port = 0, extra: string[] = []): WatchProc {
  const { child, done } = startCli(['watch', '--emulator', emu.url, '--ca', emu.ca, '--store', store, '--listen', `127.0.0.1:${port}`, '--json', ...extra]);
  running.add(child);
  void done.then(() => running.delete(child));
  const events = jsonLines(child.stderr!);
  return {
    child, done, events,
    port: () => {
      const l = events.find((e) => e.type === 'listening');
      return l ? Number(new URL(l.url).port) : undefined;
    },
  };
}

async function until(what: string, f: () => Promise<boolean> | boolean, ms = 300_000, w?: WatchProc): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (w && w.child.exitCode !== null) throw new Error(`watch exited (${w.child.exitCode}) while waiting for ${what}: ${(await w.done).stderr.slice(-2000)}`);
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** Up: a subscription per user created or adopted, and the start-up catch-up done. */
async function ready(w: WatchProc): Promise<void> {
  await until('subscriptions and the start-up catch-up', () => w.events.some((e) => e.type === 'processed' && e.reason === 'catch-up'), 600_000, w);
  const subs = w.events.filter((e) => e.type === 'subscription');
  assert.deepEqual(subs.filter((e) => e.action === 'refused'), [], 'no subscription refused');
  assert.equal(new Set(subs.filter((e) => e.action === 'created' || e.action === 'adopted').map((e) => e.userId)).size, USERS, 'one subscription per user');
}

async function kill(w: WatchProc): Promise<void> {
  w.child.kill('SIGKILL');
  const r = await w.done;
  assert.equal(r.signal, 'SIGKILL', 'killed, not exited on its own');
}

async function stop(w: WatchProc): Promise<void> {
  w.child.kill('SIGTERM');
  const r = await w.done;
  assert.equal(r.code, 0, r.stderr.slice(-2000));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---- the emulator's side ----------------------------------------------------------------------------
const subscriptions = async (): Promise<any[]> => (await emu.control(`/tenants/${TENANT}/subscriptions`)).value;
const ingest = (uid: string, count: number) => emu.control(`/tenants/${TENANT}/users/${uid}/interactions`, 'POST', { count });

/** One burst: `perUser` new interactions for every user, four POSTs at a time. */
async function burst(perUser: number): Promise<void> {
  const queue = [...userIds];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let u = queue.shift(); u !== undefined; u = queue.shift()) await ingest(u, perUser);
  }));
}

async function truth(): Promise<Map<string, string>> {
  const r = await emu.fetch(`/_emulator/tenants/${TENANT}/interactions`);
  assert.equal(r.status, 200);
  const out = new Map<string, string>();
  for (const line of (await r.text()).split('\n')) {
    if (!line) continue;
    const row = JSON.parse(line);
    out.set(`${row.userId} ${row.interaction.id}`, JSON.stringify(row.interaction));
  }
  return out;
}

// ---- the store (read-only, beside the running watch: SQLite WAL) -------------------------------------
async function withStore<T>(path: string, f: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const s = await openStore(path, { readonly: true });
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}
const queued = (path: string) => withStore(path, async (s) => (await s.pendingNotifications(TENANT, 1)).length);

async function settled(path: string, w: WatchProc): Promise<void> {
  await until('the emulator delivered everything and the queue is empty', async () => {
    const subs = await subscriptions();
    if (subs.reduce((a, s) => a + s.delivery.pending, 0) > 0) return false;
    return (await queued(path)) === 0;
  }, 600_000, w);
}

async function assertEqualsTruth(path: string): Promise<number> {
  const want = await truth();
  const { map, rows } = await withStore(path, async (s) => {
    const map = new Map<string, string>();
    let rows = 0;
    for await (const r of s.interactions({ tenantId: TENANT })) {
      rows++;
      map.set(`${r.userId} ${r.id}`, r.json);
    }
    return { map, rows };
  });
  assert.equal(rows, map.size, 'no (user, id) is stored twice');
  const missing = [...want.keys()].filter((k) => !map.has(k));
  const extra = [...map.keys()].filter((k) => !want.has(k));
  assert.deepEqual({ missing: missing.length, extra: extra.length, someMissing: missing.slice(0, 3), someExtra: extra.slice(0, 3) }, { missing: 0, extra: 0, someMissing: [], someExtra: [] });
  for (const [k, v] of want) if (map.get(k) !== v) assert.deepEqual(JSON.parse(map.get(k)!), JSON.parse(v), `identical JSON for ${k}`);
  return want.size;
}

const delivered = async () => (await subscriptions()).reduce((a, s) => a + s.delivery.delivered, 0);
const notificationsIn = (w: WatchProc) => w.events.filter((e) => e.type === 'received').reduce((a, e) => a + e.accepted, 0);
const addedByNotifications = (w: WatchProc) => w.events.filter((e) => e.type === 'processed' && e.reason === 'notifications').reduce((a, e) => a + e.added, 0);

/** 10,000 interactions in 10 bursts (10 per user) while w runs; then the store equals the truth. */
async function tenThousandInBursts(store: string, w: WatchProc): Promise<void> {
  const before = await truth();
  for (let b = 0; b < 10; b++) {
    await burst(10);
    await sleep(300);
  }
  await settled(store, w);
  const after = await truth();
  assert.equal(after.size - before.size, 10_000, '10,000 interactions ingested');
  await assertEqualsTruth(store);
}

// ---- the scenarios ------------------------------------------------------------------------------------
test('a. 100 users, 10,000 interactions ingested in bursts while watch runs: the store equals the ground truth', async () => {
  const store = join(dir, 'a.db');
  const w = startWatch(store);
  await ready(w);
  const deliveredBefore = await delivered();
  await tenThousandInBursts(store, w);
  // Everything ingested came through notifications: the start-up catch-up was over before the
  // first burst and the next periodic one is an hour away.
  assert.ok((await delivered()) - deliveredBefore >= 10_000, 'the emulator delivered a notification per interaction');
  assert.ok(notificationsIn(w) >= 10_000, `watch acknowledged ${notificationsIn(w)} notifications`);
  assert.equal(addedByNotifications(w), 10_000, 'the notifications brought the 10,000 interactions');
  assert.equal(w.events.filter((e) => e.type === 'processed' && e.reason === 'catch-up').length, 1, 'no catch-up besides the start-up one');
  await stop(w);
});

test('b. SIGKILL mid-burst, restart (same port, then another): nothing lost, nothing duplicated', async () => {
  const store = join(dir, 'b.db');
  const port = await freePort();
  let w = startWatch(store, port);
  await ready(w);

  // Bursts in the background; watch is killed while they are arriving.
  let bursts = 0;
  const ingesting = (async () => {
    for (; bursts < 8; bursts++) {
      await burst(5);
      await sleep(200);
    }
  })();
  await until('two bursts in', () => bursts >= 2 && notificationsIn(w) > 0, 300_000, w);
  const before = notificationsIn(w);
  await kill(w);
  assert.ok(before > 0, 'the killed watch had acknowledged notifications');
  await until('a failed delivery to the dead receiver', async () => (await subscriptions()).some((s) => s.delivery.failedAttempts > 0));

  // Same port: the subscriptions (same URL) are adopted and the emulator's retries get through.
  w = startWatch(store, port);
  await ready(w);
  assert.equal(w.events.filter((e) => e.type === 'subscription' && e.action === 'adopted').length, USERS, 'all adopted');
  assert.equal(w.events.filter((e) => e.type === 'subscription' && e.action === 'created').length, 0);
  const subsAdopted = new Set((await subscriptions()).map((s) => s.id));

  // Killed again once the bursts are over and processed (its queue empty, so nothing queued can
  // bring the users' windows back), interactions arrive while it is down, restarted at
  // another port: the old subscriptions are replaced and what the emulator had queued for them is
  // never delivered; only the start-up backfill can bring it (checked before anything new arrives).
  await ingesting;
  await settled(store, w);
  await kill(w);
  await burst(3);
  const pendingForOld = (await subscriptions()).reduce((a, s) => a + s.delivery.pending, 0);
  assert.ok(pendingForOld > 0, 'notifications wait at the emulator for the old subscriptions');
  w = startWatch(store, 0);
  await ready(w);
  assert.notEqual(w.port(), port);
  assert.equal(w.events.filter((e) => e.type === 'subscription' && e.action === 'created').length, USERS, 'all recreated at the new URL');
  const subsNow = await subscriptions();
  assert.equal(subsNow.length, USERS);
  assert.ok(subsNow.every((s) => !subsAdopted.has(s.id)), 'the old subscriptions were deleted');
  await settled(store, w);
  await assertEqualsTruth(store);
  await burst(2);
  await settled(store, w);
  const n = await assertEqualsTruth(store);
  assert.ok(n >= USERS * (3 + 8 * 5 + 3 + 2));
  await stop(w);
});

test('c. the clock passes the subscriptions\' expiry while watch is down: recreated on restart, downtime backfilled', async () => {
  const store = join(dir, 'c.db');
  const port = await freePort();
  let w = startWatch(store, port);
  await ready(w);
  await burst(2);
  await settled(store, w);
  await assertEqualsTruth(store);
  const old = new Set((await subscriptions()).map((s) => s.id));
  const expiry = Math.max(...(await subscriptions()).map((s) => Date.parse(s.expirationDateTime)));
  await kill(w);

  // Down: interactions arrive (their notifications fail), then the clock passes every expiry.
  await burst(3);
  const clock = await emu.control('/clock');
  const advanceMs = expiry - Date.parse(clock.now) + 10 * 60_000;
  assert.ok(advanceMs > 45 * 60_000, 'the subscriptions were made for more than 45 minutes');
  await emu.control('/clock', 'POST', { advance: advanceMs });
  assert.deepEqual(await subscriptions(), [], 'expired: Graph forgets them');
  await burst(2);

  w = startWatch(store, port);
  await ready(w);
  assert.equal(w.events.filter((e) => e.type === 'subscription' && e.action === 'created').length, USERS, 'all recreated');
  assert.equal(w.events.filter((e) => e.type === 'subscription' && e.action === 'adopted').length, 0);
  const now = await subscriptions();
  assert.equal(now.length, USERS);
  assert.ok(now.every((s) => !old.has(s.id)));
  const graphNow = Date.parse((await emu.control('/clock')).now);
  assert.ok(now.every((s) => Date.parse(s.expirationDateTime) > graphNow + 45 * 60_000), 'new expiry on the emulator clock');
  // The downtime comes from the start-up backfill alone (nothing new has arrived since)...
  await settled(store, w);
  await assertEqualsTruth(store);
  // ...and new interactions by notification on the recreated subscriptions.
  const byNotificationsBefore = addedByNotifications(w);
  await burst(4);
  await settled(store, w);
  await assertEqualsTruth(store);
  assert.equal(addedByNotifications(w) - byNotificationsBefore, USERS * 4, 'notifications on the recreated subscriptions');
  await stop(w);
});

test('d. rich notifications: 100 users, 10,000 interactions in bursts, stored from the verified payloads; the store equals the ground truth', async () => {
  const store = join(dir, 'd.db');
  const w = startWatch(store, 0, ['--rich']);
  await ready(w);
  await tenThousandInBursts(store, w);
  // Per-user rich notifications carry validationTokens: every one is stored from its payload,
  // and none needs a read of the user's window.
  const received = w.events.filter((e) => e.type === 'received');
  const stored = received.reduce((a, e) => a + (e.stored ?? 0), 0);
  assert.ok(stored >= 10_000, `stored from rich payloads: ${stored}`);
  assert.equal(received.reduce((a, e) => a + e.refused, 0), 0, 'nothing refused');
  assert.equal(addedByNotifications(w), 0, 'no window read was needed');
  await stop(w);
});
