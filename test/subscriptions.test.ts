// The emulator's /subscriptions service over real HTTPS, with a real HTTPS receiver: every
// creation rule (status, code, message), CRUD, the CSDL shape, deliveries, retries, lifecycle
// notifications, and rich notifications (decrypted, HMAC and validation tokens checked).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createDecipheriv, createHmac, privateDecrypt, X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { assertValid, validateCollectionResponse } from './support/csdl.js';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import { demoWithoutThrottling } from './support/interactions.js';
import { startReceiver, type Receiver } from './support/receiver.js';

let emu: TestEmulator;
let rx: Receiver;
let token: string;
let tid: string;
let appId: string;
let users: { id: string; userPrincipalName: string }[];
const USER_RESOURCE = (id: string) => `/copilot/users/${id}/interactionHistory/getAllEnterpriseInteractions`;
const TENANT_RESOURCE = '/copilot/interactionHistory/getAllEnterpriseInteractions';

before(async () => {
  emu = await withEmulator(demoWithoutThrottling());
  rx = await startReceiver(emu);
  const t = (await emu.tenantList()).tenants[0];
  tid = t.id;
  appId = t.default.appId;
  users = t.users;
  token = await emu.token();
});
after(async () => {
  await rx?.close();
  await emu?.close();
});
beforeEach(async () => {
  await emu.control('/reset', 'POST');
  await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { notificationRetryBaseMs: 100, notificationRetryMaxMs: 400 } });
  rx.mode = { validation: 'echo', notify: 202 };
  token = await emu.token();
  rx.notifications.length = 0;
  rx.lifecycle.length = 0;
});

const inMinutes = (m: number, from = Date.now()) => new Date(from + m * 60_000).toISOString();
async function now(): Promise<number> {
  return Date.parse((await emu.control('/clock')).now);
}
async function call(method: string, path: string, body?: unknown, version = 'v1.0') {
  const r = await emu.fetch(`/${version}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
const user = (i = 0) => users.find((u) => u.userPrincipalName.startsWith(['adele', 'alex', 'diego', 'megan'][i]!))!;
const subBody = (o: Record<string, unknown> = {}) => ({
  changeType: 'created', notificationUrl: `${rx.url}/notify`, resource: USER_RESOURCE(user().id), expirationDateTime: inMinutes(50), clientState: 'secret-state', ...o,
});
function assertError(r: { status: number; body: any }, status: number, code: string, message: string | RegExp) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error.code, code);
  if (typeof message === 'string') assert.equal(r.body.error.message, message);
  else assert.match(r.body.error.message, message);
  assert.ok(r.body.error.innerError['request-id']);
}
async function until(what: string, f: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('subscriptions: CRUD and shape', () => {
  test('POST creates (201, the CSDL subscription, clientState echoed, 45-minute floor), GET lists and reads, PATCH renews, DELETE removes', async () => {
    const t0 = await now();
    const created = await call('POST', '/subscriptions', subBody({ expirationDateTime: inMinutes(5, t0) }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assertValid('subscription', created.body);
    assert.match(created.body['@odata.context'], /\/v1\.0\/\$metadata#subscriptions\/\$entity$/);
    assert.equal(created.body.clientState, 'secret-state');
    assert.equal(created.body.applicationId, appId);
    assert.equal(created.body.includeResourceData, false);
    const lifetime = Date.parse(created.body.expirationDateTime) - t0;
    assert.ok(lifetime >= 45 * 60_000 - 1000 && lifetime < 46 * 60_000, `raised to 45 minutes, got ${lifetime} ms`);
    assert.ok(rx.validations >= 1, 'the validation handshake reached the receiver');

    const list = await call('GET', '/subscriptions');
    assert.equal(list.status, 200);
    assert.deepEqual(validateCollectionResponse('subscription', list.body), []);
    assert.deepEqual(list.body.value.map((s: any) => s.id), [created.body.id]);
    const one = await call('GET', `/subscriptions/${created.body.id}`, undefined, 'beta');
    assert.equal(one.status, 200);
    assert.equal(one.body.id, created.body.id);

    const renewed = await call('PATCH', `/subscriptions/${created.body.id}`, { expirationDateTime: inMinutes(59, t0) });
    assert.equal(renewed.status, 200);
    assertValid('subscription', renewed.body);
    assert.ok(Date.parse(renewed.body.expirationDateTime) > Date.parse(created.body.expirationDateTime));

    assert.equal((await call('DELETE', `/subscriptions/${created.body.id}`)).status, 204);
    assertError(await call('GET', `/subscriptions/${created.body.id}`), 404, 'ResourceNotFound', /not found/);
    assert.deepEqual((await call('GET', '/subscriptions')).body.value, []);
  });

  test('a subscription past its expirationDateTime is gone (the clock moved)', async () => {
    const created = await call('POST', '/subscriptions', subBody());
    assert.equal(created.status, 201);
    await emu.control('/clock', 'POST', { advance: '2h' });
    token = await emu.token();
    assertError(await call('GET', `/subscriptions/${created.body.id}`), 404, 'ResourceNotFound', /not found/);
  });

  test('the tenant-wide resource, and a top-level $filter on appClass', async () => {
    const r = await call('POST', '/subscriptions', subBody({ resource: `${TENANT_RESOURCE}?$filter=appClass eq 'IPM.SkypeTeams.Message.Copilot.Teams'` }));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assertValid('subscription', r.body);
  });
});

describe('subscriptions: creation rules', () => {
  test('required properties, changeType, resource and filter', async () => {
    for (const f of ['changeType', 'notificationUrl', 'resource', 'expirationDateTime']) {
      const b: Record<string, unknown> = subBody();
      delete b[f];
      assertError(await call('POST', '/subscriptions', b), 400, 'InvalidRequest', `${f} is a required property for subscription creation.`);
    }
    assertError(await call('POST', '/subscriptions', subBody({ changeType: 'moved' })), 400, 'InvalidRequest', /Invalid changeType 'moved'/);
    assertError(await call('POST', '/subscriptions', subBody({ resource: '/users' })), 400, 'InvalidRequest', /not supported for change notifications/);
    assertError(await call('POST', '/subscriptions', subBody({ resource: `${USER_RESOURCE(user().id)}/more` })), 400, 'InvalidRequest', /not supported for change notifications/);
    assertError(await call('POST', '/subscriptions', subBody({ resource: `${TENANT_RESOURCE}?$filter=from/user/id eq 'x'` })), 400, 'InvalidRequest', /nested property path/);
    assertError(await call('POST', '/subscriptions', subBody({ resource: `${TENANT_RESOURCE}?$top=5` })), 400, 'InvalidRequest', /Only a \$filter/);
  });

  test('notificationUrl must be https; the httpLoopback switch takes http on loopback only', async () => {
    assertError(await call('POST', '/subscriptions', subBody({ notificationUrl: 'http://127.0.0.1:9/notify' })), 400, 'InvalidRequest', /must be an https URL/);
    await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { notificationUrlScheme: 'httpLoopback' } });
    assertError(await call('POST', '/subscriptions', subBody({ notificationUrl: 'http://example.com/notify' })), 400, 'InvalidRequest', /must be an https URL/);
    // Accepted as a URL; the handshake then fails (nothing listens on port 9).
    assertError(await call('POST', '/subscriptions', subBody({ notificationUrl: 'http://127.0.0.1:9/notify' })), 400, 'ValidationError', /must respond with 200 OK/);
  });

  test('lifetime: over 4,320 minutes refused (or clamped), over an hour needs lifecycleNotificationUrl', async () => {
    const t0 = await now();
    assertError(await call('POST', '/subscriptions', subBody({ expirationDateTime: inMinutes(4330, t0), lifecycleNotificationUrl: `${rx.url}/lifecycle` })), 400, 'InvalidRequest',
      'Subscription expiration can only be 4320 minutes in the future for this resource.');
    assertError(await call('POST', '/subscriptions', subBody({ expirationDateTime: inMinutes(61, t0) })), 400, 'InvalidRequest',
      'lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour.');
    await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { subscriptionLifetimeAboveMax: 'clamp' } });
    const r = await call('POST', '/subscriptions', subBody({ expirationDateTime: inMinutes(9000, t0), lifecycleNotificationUrl: `${rx.url}/lifecycle` }));
    assert.equal(r.status, 201);
    assert.ok(Date.parse(r.body.expirationDateTime) - t0 <= 4320 * 60_000 + 5000);
    assert.equal(r.body.lifecycleNotificationUrl, `${rx.url}/lifecycle`);
  });

  test('clientState up to 128 characters; includeResourceData needs a certificate', async () => {
    assertError(await call('POST', '/subscriptions', subBody({ clientState: 'x'.repeat(129) })), 400, 'InvalidRequest', 'clientState can be at most 128 characters.');
    assertError(await call('POST', '/subscriptions', subBody({ includeResourceData: true })), 400, 'InvalidRequest', 'encryptionCertificate is required when includeResourceData is true.');
    assertError(await call('POST', '/subscriptions', subBody({ includeResourceData: true, encryptionCertificate: 'bm90IGEgY2VydA==', encryptionCertificateId: 'c1' })), 400, 'InvalidRequest', /RSA key of 2048 to 4096 bits/);
  });

  test('validation handshake failures: not 200, wrong echo, not text/plain, no answer within 10 s', async () => {
    rx.mode.validation = 'fail';
    assertError(await call('POST', '/subscriptions', subBody()), 400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
    rx.mode.validation = 'wrong';
    assertError(await call('POST', '/subscriptions', subBody()), 400, 'ValidationError', 'Subscription validation request failed. Response must exactly match validationToken query parameter.');
    rx.mode.validation = 'json';
    assertError(await call('POST', '/subscriptions', subBody()), 400, 'ValidationError', 'Subscription validation request failed. Response must exactly match validationToken query parameter.');
    rx.mode.validation = 'hang';
    assertError(await call('POST', '/subscriptions', subBody()), 400, 'InvalidRequest', 'Subscription validation request timed out.');
    // The lifecycle URL is validated too.
    rx.mode.validation = 'echo';
    assertError(await call('POST', '/subscriptions', subBody({ lifecycleNotificationUrl: 'https://127.0.0.1:9/lifecycle' })), 400, 'ValidationError', /must respond with 200 OK/);
    assert.deepEqual((await call('GET', '/subscriptions')).body.value, []);
  });

  test('permissions and licences per resource', async () => {
    const noRole = (await emu.control('/tokens', 'POST', { claims: { roles: ['User.Read.All'] } })).access_token;
    const r = await emu.fetch('/v1.0/subscriptions', { method: 'POST', headers: { authorization: `Bearer ${noRole}`, 'content-type': 'application/json' }, body: JSON.stringify(subBody({ resource: TENANT_RESOURCE })) });
    assertError({ status: r.status, body: await r.json() }, 403, 'Forbidden', /AiEnterpriseInteraction\.Read\.All/);
    const unlicensed = users.find((u) => u.userPrincipalName.startsWith('patti'))!;
    assertError(await call('POST', '/subscriptions', subBody({ resource: USER_RESOURCE(unlicensed.id) })), 403, 'Forbidden', /3f30311c/);
    assertError(await call('POST', '/subscriptions', subBody({ resource: USER_RESOURCE('00000000-0000-0000-0000-000000000001') })), 404, 'NotFound', /not found/);
  });

  test('quotas: 1 per app per user, 1 per app per tenant for the tenant-wide resource (403 naming the limit)', async () => {
    assert.equal((await call('POST', '/subscriptions', subBody())).status, 201);
    assertError(await call('POST', '/subscriptions', subBody()), 403, 'Forbidden', /limit of 1 subscription per app per user/);
    assert.equal((await call('POST', '/subscriptions', subBody({ resource: USER_RESOURCE(user(1).id) }))).status, 201);
    assert.equal((await call('POST', '/subscriptions', subBody({ resource: TENANT_RESOURCE }))).status, 201);
    assertError(await call('POST', '/subscriptions', subBody({ resource: TENANT_RESOURCE })), 403, 'Forbidden', /limit of 1 subscription per app per tenant/);
  });
});

describe('subscriptions: deliveries', () => {
  const ingest = (uid: string, count: number) => emu.control(`/tenants/${tid}/users/${uid}/interactions`, 'POST', { count });

  test('ingested interactions arrive as created notifications, batched in value[], with clientState; a tenant-wide filter narrows them', async () => {
    const s = (await call('POST', '/subscriptions', subBody())).body;
    const all = (await call('POST', '/subscriptions', subBody({ resource: `${TENANT_RESOURCE}?$filter=appClass eq 'IPM.SkypeTeams.Message.Copilot.BizChat'`, clientState: 'tw' }))).body;
    const created = (await ingest(user().id, 30)).created;
    await until('30 notifications', () => rx.notifications.flatMap((b) => b.value).filter((n) => n.subscriptionId === s.id).length >= 30);
    const mine = rx.notifications.flatMap((b) => b.value).filter((n) => n.subscriptionId === s.id);
    assert.deepEqual(mine.map((n) => n.resourceData.id).sort(), created.map((c: any) => c.id).sort());
    for (const n of mine) {
      assert.equal(n.changeType, 'created');
      assert.equal(n.clientState, 'secret-state');
      assert.equal(n.tenantId, tid);
      assert.equal(n.resource, `copilot/users('${user().id}')/interactionHistory/interactions('${n.resourceData.id}')`);
      assert.equal(n.resourceData['@odata.type'], '#Microsoft.Graph.aiInteraction');
      assert.equal(n.encryptedContent, undefined);
      assert.ok(Date.parse(n.subscriptionExpirationDateTime) > 0);
    }
    assert.ok(rx.notifications.every((b) => b.validationTokens === undefined));
    const bizChat = created.filter((c: any) => c.appClass === 'IPM.SkypeTeams.Message.Copilot.BizChat').map((c: any) => c.id).sort();
    await until('tenant-wide notifications', () => rx.notifications.flatMap((b) => b.value).filter((n) => n.subscriptionId === all.id).length >= bizChat.length);
    const tw = rx.notifications.flatMap((b) => b.value).filter((n) => n.subscriptionId === all.id);
    assert.deepEqual(tw.map((n) => n.resourceData.id).sort(), bizChat);
    assert.ok(tw.every((n) => n.resource === `copilot/interactionHistory/interactions('${n.resourceData.id}')` && n.clientState === 'tw'));
  });

  test('a failing receiver gets the batch again with back-off; nothing is lost', async () => {
    const s = (await call('POST', '/subscriptions', subBody())).body;
    rx.mode.notify = 503;
    const created = (await ingest(user().id, 5)).created;
    await until('3 failed attempts', async () => (await emu.control(`/tenants/${tid}/subscriptions`)).value[0].delivery.failedAttempts >= 3);
    rx.mode.notify = 202;
    await until('delivered', async () => (await emu.control(`/tenants/${tid}/subscriptions`)).value[0].delivery.delivered === 5);
    const ids = new Set(rx.notifications.flatMap((b) => b.value).filter((n) => n.subscriptionId === s.id).map((n) => n.resourceData.id));
    assert.deepEqual([...ids].sort(), created.map((c: any) => c.id).sort());
  });

  test('after 4 hours of the emulator clock undelivered notifications are dropped and `missed` is sent; lifecycle events on demand', async () => {
    const t0 = await now();
    const s = (await call('POST', '/subscriptions', subBody({ lifecycleNotificationUrl: `${rx.url}/lifecycle`, expirationDateTime: inMinutes(4000, t0) }))).body;
    rx.mode.notify = 500;
    await ingest(user().id, 2);
    await until('a failed attempt', async () => (await emu.control(`/tenants/${tid}/subscriptions`)).value[0].delivery.failedAttempts >= 1);
    await emu.control('/clock', 'POST', { advance: '5h' });
    token = await emu.token();
    await until('missed', () => rx.lifecycle.some((b) => b.value[0].lifecycleEvent === 'missed'));
    const stats = (await emu.control(`/tenants/${tid}/subscriptions`)).value[0].delivery;
    assert.equal(stats.dropped, 2);
    assert.equal(stats.pending, 0);
    const missed = rx.lifecycle.find((b) => b.value[0].lifecycleEvent === 'missed').value[0];
    assert.equal(missed.subscriptionId, s.id);
    assert.equal(missed.clientState, 'secret-state');

    rx.mode.notify = 202;
    const reauth = await emu.control(`/tenants/${tid}/subscriptions/${s.id}/lifecycle`, 'POST', { lifecycleEvent: 'reauthorizationRequired' });
    assert.equal(reauth.receiverStatus, 202);
    assert.equal((await call('POST', `/subscriptions/${s.id}/reauthorize`)).status, 204);
    await emu.control(`/tenants/${tid}/subscriptions/${s.id}/lifecycle`, 'POST', { lifecycleEvent: 'subscriptionRemoved' });
    assert.ok(rx.lifecycle.some((b) => b.value[0].lifecycleEvent === 'subscriptionRemoved'));
    assertError(await call('GET', `/subscriptions/${s.id}`), 404, 'ResourceNotFound', /not found/);
  });

  test('includeResourceData: the interaction encrypted to the certificate (RSA-OAEP key, AES-CBC data, HMAC), validationTokens from the change-tracking app', async () => {
    const cert = await emu.control('/receiver-certificate');
    const der = new X509Certificate(cert.certPem).raw.toString('base64');
    const s = (await call('POST', '/subscriptions', subBody({ includeResourceData: true, encryptionCertificate: der, encryptionCertificateId: 'cert-1' }))).body;
    assert.equal(s.includeResourceData, true);
    assert.equal(s.encryptionCertificateId, 'cert-1');
    const created = (await ingest(user().id, 3)).created;
    await until('3 rich notifications', () => rx.notifications.flatMap((b) => b.value).length >= 3);
    const jwks = createLocalJWKSet(await (await emu.fetch(`/${tid}/discovery/v2.0/keys`)).json());
    for (const batch of rx.notifications) {
      assert.ok(Array.isArray(batch.validationTokens) && batch.validationTokens.length > 0);
      for (const vt of batch.validationTokens) {
        // What copilog watch --rich checks: signature, issuer and tenant, audience, caller, expiry on the emulator's clock.
        const { payload } = await jwtVerify(vt, jwks, { audience: appId, issuer: `https://sts.windows.net/${tid}/`, algorithms: ['RS256'], requiredClaims: ['exp'], currentDate: new Date(await now()) });
        assert.equal(payload.tid, tid);
        assert.equal(payload.azp, '0bf30f3b-4a52-48df-9a82-234910c4a086');
        assert.equal(payload.appid, '0bf30f3b-4a52-48df-9a82-234910c4a086');
      }
    }
    const seen = new Map<string, any>();
    for (const n of rx.notifications.flatMap((b) => b.value)) {
      const e = n.encryptedContent;
      assert.equal(e.encryptionCertificateId, 'cert-1');
      assert.match(e.encryptionCertificateThumbprint, /^[0-9A-F]{40}$/);
      const key = privateDecrypt({ key: cert.keyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(e.dataKey, 'base64'));
      assert.equal(createHmac('sha256', key).update(Buffer.from(e.data, 'base64')).digest('base64'), e.dataSignature);
      const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
      const item = JSON.parse(Buffer.concat([d.update(Buffer.from(e.data, 'base64')), d.final()]).toString('utf8'));
      assertValid('aiInteraction', item);
      seen.set(item.id, item);
    }
    for (const c of created) assert.deepEqual(seen.get(c.id), c);
    // Without the change-tracking prerequisite Graph sends no validationTokens.
    await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { changeTrackingPrerequisite: false } });
    rx.notifications.length = 0;
    await ingest(user().id, 1);
    await until('1 more', () => rx.notifications.length >= 1);
    assert.equal(rx.notifications[0].validationTokens, undefined);
  });
});
