// copilog watch against the in-process emulator over real HTTPS: notifications for ingested
// interactions bring the store to the emulator's ground truth; a receiver that was down (retries,
// then `missed` with dropped notifications) loses nothing; a wrong clientState is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { resolveConfig } from '../src/client/config.js';
import { createClient, type CopilogClient } from '../src/client/index.js';
import { resolveTargets, type TargetUser } from '../src/export/users.js';
import { openStore, type Store } from '../src/store/index.js';
import { generateKeyPair, SignJWT } from 'jose';
import { encryptResource } from '../src/emulator/subscriptions.js';
import { encryptionKeyPath, ensureEncryptionKey, type EncryptionKey } from '../src/watch/rich.js';
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

// ---- watch --rich --------------------------------------------------------------------------------

async function startRich(store: Store, key: EncryptionKey, into: WatchEvent[]): Promise<Watcher> {
  const config = client.config;
  return startWatch({
    tenantId: tid, store, graph: client.graph, graphBaseUrl: config.graphBaseUrl, credential: client.credential, scope: config.scope, transport: client.transport,
    users, tenantWide: false, listen: { host: '127.0.0.1', port: 0 }, tls, onEvent: (e) => into.push(e),
    rich: { key, appId: config.clientId, authority: config.authority },
  });
}
const storedFromRich = (ev: WatchEvent[]) => ev.reduce((a, e) => a + (e.type === 'received' ? e.stored ?? 0 : 0), 0);

/** A rich watcher on a store at path, stopped even when an assertion fails (its timers would keep the file running until the timeout). */
async function richWatcher(t: { after: (f: () => Promise<void>) => void }, path: string, key: EncryptionKey) {
  const store = await openStore(path);
  const ev: WatchEvent[] = [];
  const w = await startRich(store, key, ev);
  t.after(async () => {
    await w.stop({ cleanup: true });
    await store.close();
  });
  return { store, ev, w };
}

test('watch --rich: bursts of rich notifications with valid validationTokens are stored from the payload (no window read) → the store equals the ground truth', async (t) => {
  const path = join(dir, 'rich.db');
  const keyPath = encryptionKeyPath(path, tid);
  const key = await ensureEncryptionKey(keyPath);
  assert.equal(statSync(keyPath).mode & 0o777, 0o600, 'the private key is readable by its owner only');
  assert.equal((await ensureEncryptionKey(keyPath)).id, key.id, 'the same key pair on the next start');
  const { store, ev, w } = await richWatcher(t, path, key);
  const subs = (await emu.control(`/tenants/${tid}/subscriptions`)).value;
  assert.ok(subs.length >= served.size);
  for (const s of subs) {
    assert.equal(s.includeResourceData, true);
    assert.equal(s.encryptionCertificateId, key.id);
  }
  await w.idle();
  const targets = [...served].slice(0, 5);
  let sent = 0;
  for (let burst = 0; burst < 3; burst++) {
    for (const u of targets) {
      await ingest(u, 20);
      sent += 20;
    }
  }
  await until('all notifications delivered', async () => (await delivered()).pending === 0);
  await w.idle();
  assert.equal(storedFromRich(ev), sent, 'every notification stored from its payload');
  assert.ok(!ev.some((e) => e.type === 'processed' && e.reason === 'notifications'), 'no window was read for them');
  const got = await contents(store);
  const want = await truth();
  assert.equal(got.rows, want.size);
  assert.deepEqual(got.map, want);
});

test('watch --rich: forged and broken input is refused, logged without bodies or secrets, never stored; unproven rich data is only a hint; the receiver keeps serving', async (t) => {
  const path = join(dir, 'rich-forged.db');
  const key = await ensureEncryptionKey(encryptionKeyPath(path, tid));
  const { store, ev, w } = await richWatcher(t, path, key);
  await w.idle();
  const appId = client.config.clientId;
  const otherApp = (await emu.tenantList()).tenants[0].apps.map((a: any) => a.appId).find((a: string) => a !== appId);
  assert.ok(otherApp, 'the demo tenant has a second app');
  const u = [...served][0]!;
  const sub = (await store.watchSubscriptions(tid)).find((s) => s.userId === u)!;
  await ingest(u, 2);
  await until('delivered', async () => (await delivered()).pending === 0);
  await w.idle();
  const [real] = [...(await truth()).entries()].filter(([k]) => k.startsWith(`${u} `)).map(([, v]) => JSON.parse(v));
  let n = 0;
  const fake = () => ({ ...real, id: String(Date.parse(real.createdDateTime) + 1 + n++), body: { contentType: 'text', content: 'FAKE-SECRET-BODY' } });
  const item = (f: Record<string, unknown>, content: Record<string, string> = encryptResource({ encryptionCertificate: key.certificate, encryptionCertificateId: key.id }, f), clientState = sub.clientState) => ({
    subscriptionId: sub.id, clientState, changeType: 'created', tenantId: tid, resource: `copilot/users('${u}')/interactionHistory/interactions('${f.id}')`,
    resourceData: { id: f.id, '@odata.type': '#Microsoft.Graph.aiInteraction' }, encryptedContent: content,
  });
  const mint = async (audience: string, claims: Record<string, unknown>, o: Record<string, unknown> = {}) => (await emu.control('/tokens', 'POST', { tenant: tid, audience, claims, ...o })).access_token as string;
  const CT = '0bf30f3b-4a52-48df-9a82-234910c4a086';
  const good = await mint(appId, { appid: CT, azp: CT });
  const caPem = (await emu.control('/receiver-certificate')).caPem;
  const agent = new Agent({ connect: { ca: caPem } });
  t.after(() => agent.close());
  const post = async (body: string, type = 'application/json') => {
    const r = await request(`${w.url}/notifications`, { method: 'POST', dispatcher: agent, headers: { 'content-type': type }, body });
    await r.body.dump();
    return r.statusCode;
  };
  const fakes: string[] = [];
  const secrets = [sub.clientState, good, 'FAKE-SECRET-BODY'];
  async function refused(what: string, batch: Record<string, unknown>, reason: RegExp, status = 403) {
    const before = ev.length;
    assert.equal(await post(JSON.stringify(batch)), status, what);
    const logged = ev.slice(before).filter((e) => e.type === 'received');
    assert.ok(logged.some((e) => e.type === 'received' && reason.test(e.reason ?? '')), `${what}: logged as ${reason} (got ${JSON.stringify(logged)})`);
    for (const x of batch.value as { resourceData: { id: string } }[]) fakes.push(x.resourceData.id);
  }
  const sign = async (claims: Record<string, unknown>) => {
    const { privateKey } = await generateKeyPair('RS256');
    const kid = (await (await emu.fetch(`/${tid}/discovery/v2.0/keys`)).json()).keys[0].kid;
    const now = Math.floor(Date.parse((await emu.control('/clock')).now) / 1000);
    return new SignJWT({ aud: appId, iss: `https://sts.windows.net/${tid}/`, tid, iat: now, nbf: now, exp: now + 3600, ...claims }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
  };

  // Proven batches that fail one check each.
  await refused('tokens signed by another key', { value: [item(fake())], validationTokens: [await sign({ appid: CT, azp: CT })] }, /bad signature/);
  const [h, p, s] = good.split('.');
  const flipped = s!.slice(0, 10) + (s![10] === 'A' ? 'B' : 'A') + s!.slice(11);
  await refused('a token with a bad signature', { value: [item(fake())], validationTokens: [`${h}.${p}.${flipped}`] }, /bad signature/);
  await refused('a token for another audience', { value: [item(fake())], validationTokens: [await mint(otherApp, { appid: CT, azp: CT })] }, /wrong audience/);
  await refused('a token of another caller', { value: [item(fake())], validationTokens: [await mint(appId, {})] }, /Change Tracking/);
  await refused('an expired token', { value: [item(fake())], validationTokens: [await mint(appId, { appid: CT, azp: CT }, { issuedAt: '-3h', lifetimeSeconds: 3600 })] }, /expired/);
  await refused('one bad token among good ones', { value: [item(fake())], validationTokens: [good, await mint(otherApp, { appid: CT, azp: CT })] }, /wrong audience/);
  await refused('the wrong clientState', { value: [item(fake(), undefined, 'guess')], validationTokens: [good] }, /clientState/);
  const f1 = fake();
  const tampered = encryptResource({ encryptionCertificate: key.certificate, encryptionCertificateId: key.id }, f1);
  const bytes = Buffer.from(tampered.data!, 'base64');
  bytes[bytes.length - 20]! ^= 1;
  await refused('tampered data', { value: [item(f1, { ...tampered, data: bytes.toString('base64') })], validationTokens: [good] }, /HMAC/);
  const f2 = fake();
  await refused('an unknown certificate id', { value: [item(f2, encryptResource({ encryptionCertificate: key.certificate, encryptionCertificateId: 'someone-else' }, f2))], validationTokens: [good] }, /unknown encryption certificate/);
  const f3 = fake();
  const other = (await emu.control('/receiver-certificate')).certPem as string;
  await refused('a payload encrypted to another certificate under our id', { value: [item(f3, encryptResource({ encryptionCertificate: new X509Certificate(other).raw.toString('base64'), encryptionCertificateId: key.id }, f3))], validationTokens: [good] }, /dataKey/);
  for (const [what, body, type, status] of [
    ['an oversized body', JSON.stringify({ value: [], pad: 'x'.repeat(5 * 1024 * 1024) }), 'application/json', 413],
    ['malformed JSON', '{"value": [', 'application/json', 400],
    ['a non-JSON body', 'hello FAKE-SECRET-BODY', 'text/plain', 400],
    ['a body of another type', 'hello', 'application/octet-stream', 415],
  ] as const) {
    const before = ev.length;
    assert.equal(await post(body, type), status, what);
    assert.ok(ev.slice(before).some((e) => e.type === 'received' && e.status === status), `${what} logged`);
  }
  assert.equal((await store.pendingNotifications(tid, 10)).length, 0, 'nothing refused was queued');

  // Unproven: correctly encrypted to our certificate with the right clientState, no validationTokens
  // (as Graph sends without the Change Tracking prerequisite). A hint: the user's window is read
  // from Graph, which brings the real interactions and not the fake one.
  await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { changeTrackingPrerequisite: false } });
  try {
    const processedBefore = ev.filter((e) => e.type === 'processed' && e.reason === 'notifications').length;
    const storedBefore = storedFromRich(ev);
    const f4 = fake();
    fakes.push(f4.id);
    assert.equal(await post(JSON.stringify({ value: [item(f4)] })), 202, 'a hint is acknowledged');
    await ingest(u, 3);
    await until('delivered', async () => (await delivered()).pending === 0);
    await w.idle();
    assert.equal(storedFromRich(ev), storedBefore, 'nothing stored from unproven payloads');
    assert.ok(ev.filter((e) => e.type === 'processed' && e.reason === 'notifications').length > processedBefore, 'the hints were read through the export endpoint');
  } finally {
    await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { changeTrackingPrerequisite: true } });
  }

  // Still serving: proven notifications are stored again, and the store is Graph's truth.
  await ingest(u, 2);
  await until('delivered', async () => (await delivered()).pending === 0);
  await w.idle();
  const got = await contents(store);
  const want = await truth();
  assert.deepEqual(got.map, want);
  for (const id of fakes) assert.ok(![...got.map.keys()].some((k) => k.endsWith(` ${id}`)), `fake ${id} not stored`);
  const log = JSON.stringify(ev);
  for (const x of secrets) assert.ok(!log.includes(x), 'no clientState, token or body in the log');

  // The control: the same fake, proven by a valid token, is stored — the refusals above came from their faults.
  const f5 = fake();
  assert.equal(await post(JSON.stringify({ value: [item(f5)], validationTokens: [good] })), 202);
  assert.ok((await contents(store)).map.has(`${u} ${f5.id}`));
});

test('watch: a subscription Graph refuses is explained with the doctor\'s verdict and fix (a user without Copilot, a user not in the directory); the rest go on', async () => {
  const all = (await emu.tenantList()).tenants[0].users as { id: string }[];
  const licensed = new Set(users.map((u) => u.id));
  const unlicensed = all.find((u) => !licensed.has(u.id));
  assert.ok(unlicensed, 'the demo tenant has a user without the Copilot plan');
  const missing = '00000000-0000-4000-8000-00000000dead';
  const store = await openStore(join(dir, 'refusals.db'));
  const seen: WatchEvent[] = [];
  const w = await startWatch({
    tenantId: tid, store, graph: client.graph, graphBaseUrl: client.config.graphBaseUrl, credential: client.credential, scope: client.config.scope, transport: client.transport,
    users: [users[0]!, { id: unlicensed!.id, userPrincipalName: null, displayName: null }, { id: missing, userPrincipalName: null, displayName: null }],
    tenantWide: false, listen: { host: '127.0.0.1', port: 0 }, tls, onEvent: (e) => seen.push(e),
  });
  try {
    await until('three subscription outcomes', () => seen.filter((e) => e.type === 'subscription').length >= 3);
    const refused = seen.filter((e): e is Extract<WatchEvent, { type: 'subscription' }> => e.type === 'subscription' && e.action === 'refused');
    const by = new Map(refused.map((e) => [e.userId, e]));
    assert.equal(by.get(unlicensed!.id)?.verdict, 'license.no-copilot', JSON.stringify(refused));
    assert.match(by.get(unlicensed!.id)!.fix!, /Copilot licence.*copilog doctor --user/);
    assert.equal(by.get(missing)?.verdict, 'user.not-found', JSON.stringify(refused));
    assert.ok(seen.some((e) => e.type === 'subscription' && e.action === 'created' && e.userId === users[0]!.id), 'the licensed user is subscribed');
  } finally {
    await w.stop({ cleanup: true });
    await store.close();
  }
});
