// copilog watch against the in-process emulator over real HTTPS: notifications for ingested
// interactions bring the store to the emulator's ground truth; a receiver that was down (retries,
// then `missed` with dropped notifications) loses nothing; a wrong clientState is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { resolveConfig } from '../src/client/config.js';
import { createClient, type CopilogClient } from '../src/client/index.js';
import { resolveTargets, type TargetUser } from '../src/export/users.js';
import { openStore, type Store } from '../src/store/index.js';
import { startWatch, type Watcher, type WatchEvent } from '../src/watch/watch.js';
import { tempDir, withEmulator, type TestEmulator } from './support/emulator.js';
import { demoWithoutThrottling, exportPath, getPage, qs } from './support/interactions.js';

let emu: TestEmulator;
let client: CopilogClient;
let tid: string;
let users: TargetUser[];
let served: Set<string>;
let tls: { cert: string; key: string };
const dir = tempDir('copilog-watch-test-');
const events: WatchEvent[] = [];

before(async () => {
  emu = await withEmulator(demoWithoutThrottling());
  tid = (await emu.tenantList()).tenants[0].id;
  await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { notificationRetryBaseMs: 200, notificationRetryMaxMs: 1000 } });
  const config = await resolveConfig({ emulator: emu.url, ca: emu.ca }, {} as NodeJS.ProcessEnv);
  client = createClient(config, { transport: { keepTrace: false } });
  users = await resolveTargets(client.graph, { kind: 'licensed' });
  const c = await emu.control('/receiver-certificate');
  tls = { cert: c.certPem, key: c.keyPem };
  const token = await emu.token();
  served = new Set();
  for (const u of users) {
    const r = await getPage(emu, exportPath(u.id, qs({ $top: '1', $filter: 'createdDateTime gt 2020-01-01T00:00:00Z and createdDateTime lt 2030-01-01T00:00:00Z' })), token);
    if (r.status === 200) served.add(u.id);
  }
});
after(async () => {
  await client?.close();
  await emu?.close();
});

async function start(store: Store): Promise<Watcher> {
  const config = client.config;
  return startWatch({
    tenantId: tid, store, graph: client.graph, graphBaseUrl: config.graphBaseUrl, credential: client.credential, scope: config.scope, transport: client.transport,
    users, tenantWide: false, listen: { host: '127.0.0.1', port: 0 }, tls, onEvent: (e) => events.push(e),
  });
}

async function truth(): Promise<Map<string, string>> {
  const r = await emu.fetch(`/_emulator/tenants/${tid}/interactions`);
  const out = new Map<string, string>();
  for (const line of (await r.text()).split('\n')) {
    if (!line) continue;
    const row = JSON.parse(line);
    if (served.has(row.userId)) out.set(`${row.userId} ${row.interaction.id}`, JSON.stringify(row.interaction));
  }
  return out;
}
async function contents(store: Store): Promise<{ map: Map<string, string>; rows: number }> {
  const map = new Map<string, string>();
  let rows = 0;
  for await (const r of store.interactions({ tenantId: tid })) {
    rows++;
    map.set(`${r.userId} ${r.id}`, r.json);
  }
  return { map, rows };
}
async function delivered(): Promise<{ pending: number; delivered: number; ids: string[] }> {
  const subs = (await emu.control(`/tenants/${tid}/subscriptions`)).value;
  return { pending: subs.reduce((a: number, s: any) => a + s.delivery.pending, 0), delivered: subs.reduce((a: number, s: any) => a + s.delivery.delivered, 0), ids: subs.map((s: any) => s.id) };
}
async function until(what: string, f: () => Promise<boolean> | boolean, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const ingest = (uid: string, count: number) => emu.control(`/tenants/${tid}/users/${uid}/interactions`, 'POST', { count });

test('watch: subscriptions per user, notifications of ingested bursts → the store equals the ground truth; a restart with lost notifications loses nothing; forged clientState refused', async () => {
  const path = join(dir, 'watch.db');
  let store = await openStore(path);
  let w = await start(store);
  const subs = await delivered();
  assert.ok(subs.ids.length >= served.size, 'a subscription per served user');
  await w.idle();

  const targets = [...served].slice(0, 5);
  for (let burst = 0; burst < 3; burst++) for (const u of targets) await ingest(u, 20);
  await until('all notifications delivered', async () => (await delivered()).pending === 0);
  await w.idle();
  let got = await contents(store);
  let want = await truth();
  assert.equal(got.rows, want.size, 'no duplicates, nothing missing');
  assert.deepEqual(got.map, want);
  assert.ok(events.some((e) => e.type === 'processed' && e.reason === 'notifications' && e.added > 0), 'notifications brought interactions');

  // A forged notification (right subscription id, wrong clientState) is refused and never queued.
  const agent = new Agent({ connect: { ca: tls.cert.includes('BEGIN') ? (await emu.control('/receiver-certificate')).caPem : undefined } });
  const forged = await request(`${w.url}/notifications`, {
    method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: [{ subscriptionId: subs.ids[0], clientState: 'guess', changeType: 'created', tenantId: tid, resourceData: { id: 'x' } }] }),
  });
  assert.equal(forged.statusCode, 403);
  await forged.body.dump();
  const broken = await request(`${w.url}/notifications`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: '{"value": 3}' });
  assert.equal(broken.statusCode, 400);
  await broken.body.dump();
  const echo = await request(`${w.url}/notifications?validationToken=${encodeURIComponent('a b&c')}`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'text/plain' }, body: '' });
  assert.equal(await echo.body.text(), 'a b&c');
  await agent.close();
  assert.equal((await store.pendingNotifications(tid, 10)).length, 0);

  // The receiver goes away; interactions arrive; the emulator retries, then some are lost (missed).
  await w.stop();
  await store.close();
  for (const u of targets) await ingest(u, 7);
  await until('a failed delivery', async () => (await emu.control(`/tenants/${tid}/subscriptions`)).value.some((s: any) => s.delivery.failedAttempts > 0));
  for (const id of subs.ids.slice(0, 2)) await emu.control(`/tenants/${tid}/subscriptions/${id}/lifecycle`, 'POST', { lifecycleEvent: 'missed', dropPending: true });
  store = await openStore(path);
  w = await start(store);
  for (const u of targets) await ingest(u, 3);
  await until('all notifications delivered', async () => (await delivered()).pending === 0);
  await w.idle();
  got = await contents(store);
  want = await truth();
  assert.equal(got.rows, want.size);
  assert.deepEqual(got.map, want);
  await w.stop({ cleanup: true });
  assert.equal((await delivered()).ids.length, 0, '--cleanup deleted the subscriptions');
  await store.close();
});
