// Acceptance tests for the refusals and failures of getAllEnterpriseInteractions: the gates in
// Graph's order (token → role → tenant/cloud → user → member → licence → mailbox → throttling →
// faults) reproduced by the scenarios in scenarios/interactions/ and scenarios/seed-403.yaml,
// the log line naming each gate, throttling (429 + Retry-After), and injected faults (latency,
// 5xx, connection resets, truncated bodies, seeded failure rates, empty pages).
// One emulator for the file, started with a captured JSON log; scenarios are loaded over the
// control API. Reference: graph-facts.md §7, §8, §10, §11, §12.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch as undiciFetch } from 'undici';
import { parse as parseYaml } from 'yaml';
import { SCENARIO_DIR } from '../src/cli/scenarios.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/server.js';
import { validateCollectionResponse } from './support/csdl.js';
import { TEST_DATA_DIR } from './support/emulator.js';
import { jsonOrUndefined } from './support/interactions.js';

const EXPORT_ROLE = 'AiEnterpriseInteraction.Read.All';
const EXPORT_ROLE_ID = '839c90ab-5771-41ee-aef8-a562e8487c1e';
const BUSINESS_CHAT = '3f30311c-6b1e-48a4-ab79-725b469da960';
const GRAPH_CONNECTORS = '82d30987-df9b-4486-b146-198b21d164c7';

interface Res { status: number; headers: Headers; body: any; text: string; ms: number }

let emu: RunningEmulator;
let agent: Agent;
const logs: any[] = [];
let tenant: any;

const logStream = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n')) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line));
      } catch {
        // not a JSON line
      }
    }
    done();
  },
});

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  const t0 = performance.now();
  const r = await undiciFetch(url.startsWith('https://') ? url : emu.url + url, { ...init, dispatcher: agent });
  const text = await r.text();
  const body = jsonOrUndefined(text);
  return { status: r.status, headers: r.headers as unknown as Headers, body, text, ms: performance.now() - t0 };
}

async function control(path: string, method = 'GET', body?: unknown): Promise<any> {
  const r = await call(`/_emulator${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`control ${method} ${path} → ${r.status} ${r.text}`);
  return r.body;
}

/** Load a shipped scenario (by path under scenarios/) through the control API. */
async function load(name: string): Promise<void> {
  await control('/scenario', 'POST', parseYaml(readFileSync(join(SCENARIO_DIR, `${name}.yaml`), 'utf8')));
  tenant = (await control('/tenants')).tenants[0];
}

const user = (prefix: string): string => {
  const u = tenant.users.find((x: any) => x.userPrincipalName.startsWith(prefix));
  assert.ok(u, `user ${prefix} in ${tenant.domain}`);
  return u.id;
};

/** A client-credentials token for the scenario's default app (as a client would get it). */
async function appToken(): Promise<string> {
  const app = tenant.apps.find((a: any) => a.appId === tenant.default.appId);
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: app.appId, client_secret: app.secrets[0].value, scope: tenant.default.scope ?? 'https://graph.microsoft.com/.default' });
  const r = await call(`/${tenant.id}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  assert.equal(r.status, 200, r.text);
  return r.body.access_token;
}

/** A token with any claims (delegated, other roles…), minted by the control API. */
async function mintedToken(claims: Record<string, unknown>, appId?: string): Promise<string> {
  return (await control('/tokens', 'POST', { tenant: tenant.id, appId, claims })).access_token;
}

const exportPath = (id: string, query = '', version = 'v1.0') =>
  `/${version}/copilot/users/${id}/interactionHistory/getAllEnterpriseInteractions${query ? `?${query}` : ''}`;

const get = (url: string, token: string, headers: Record<string, string> = {}) => call(url, { headers: { authorization: `Bearer ${token}`, ...headers } });

const patch = (body: Record<string, unknown>) => control(`/tenants/${tenant.id}`, 'PATCH', body);

/** The graph.refused log lines of one request. */
const refusals = (r: Res) => logs.filter((l) => l.reqId === r.headers.get('request-id') && l.event === 'graph.refused');

function assertRefused(r: Res, status: number, code: string, gate: string, message?: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.error.code, code, r.text);
  if (message !== undefined) assert.equal(r.body.error.message, message);
  assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'innerError', 'message']);
  assert.deepEqual(refusals(r).map((l) => l.gate), [gate], `log names gate ${gate}`);
  // The response says what Graph says, never which gate refused.
  assert.doesNotMatch(r.text, /gate|feature|interactionExport|mailbox|licen[cs]e|guest/i);
}

const forbidden = (r: Res, gate: string) => assertRefused(r, 403, 'Forbidden', gate, 'UnknownError');

before(async () => {
  emu = await startEmulator({ scenario: join(SCENARIO_DIR, 'seed-403.yaml'), port: 0, dataDir: TEST_DATA_DIR, logLevel: 'info', logStream });
  agent = new Agent({ connect: { ca: readFileSync(emu.ca) } });
  tenant = (await control('/tenants')).tenants[0];
});
after(async () => {
  await emu?.close();
  await agent?.close();
});

describe('seed-403: role, consent and licence in order, still 403 Forbidden/UnknownError', () => {
  before(() => load('seed-403'));

  test('the token carries the export role with admin consent, and the directory reads succeed', async () => {
    const token = await appToken();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.idtyp, 'app');
    assert.equal(claims.scp, undefined);
    for (const role of [EXPORT_ROLE, 'User.Read.All', 'Organization.Read.All', 'Application.Read.All']) assert.ok(claims.roles.includes(role), role);
    const id = user('megan.bowen');
    const me = await get(`/v1.0/users/${id}?$select=id,userType,accountEnabled`, token);
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.userType, 'Member');
    assert.equal(me.body.accountEnabled, true);
    const lic = await get(`/v1.0/users/${id}/licenseDetails`, token);
    assert.equal(lic.status, 200, lic.text);
    const plans = lic.body.value.flatMap((l: any) => l.servicePlans);
    for (const plan of [BUSINESS_CHAT, GRAPH_CONNECTORS]) {
      assert.equal(plans.find((p: any) => p.servicePlanId === plan)?.provisioningStatus, 'Success', plan);
    }
    assert.equal((await get('/v1.0/subscribedSkus', token)).status, 200);
    const sp = await get(`/v1.0/servicePrincipals(appId='${tenant.default.appId}')`, token);
    assert.equal(sp.status, 200, sp.text);
    const grants = await get(`/v1.0/servicePrincipals/${sp.body.id}/appRoleAssignments`, token);
    assert.equal(grants.status, 200, grants.text);
    assert.ok(grants.body.value.some((g: any) => g.appRoleId === EXPORT_ROLE_ID), 'admin consent for AiEnterpriseInteraction.Read.All');
  });

  test('the export answers exactly {"error":{"code":"Forbidden","message":"UnknownError","innerError":{date,request-id,client-request-id}}}', async () => {
    const token = await appToken();
    const clientRequestId = '9965a3c1-8b1e-4f0a-9d52-3a1c2b4d5e6f';
    for (const version of ['v1.0', 'beta']) {
      const r = await get(exportPath(user('megan.bowen'), '', version), token, { 'client-request-id': clientRequestId });
      forbidden(r, 'tenant-feature');
      assert.deepEqual(Object.keys(r.body), ['error']);
      assert.deepEqual(Object.keys(r.body.error), ['code', 'message', 'innerError']);
      assert.deepEqual(Object.keys(r.body.error.innerError), ['date', 'request-id', 'client-request-id']);
      const inner = r.body.error.innerError;
      assert.match(inner.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      assert.match(inner['request-id'], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(inner['request-id'], r.headers.get('request-id'));
      assert.equal(inner['client-request-id'], clientRequestId);
      assert.equal(r.headers.get('client-request-id'), clientRequestId);
      const line = refusals(r)[0];
      assert.equal(line.tenant, tenant.id);
      assert.equal(line.appId, tenant.default.appId);
      assert.equal(line.feature, 'interactionExport');
    }
    // Without a client-request-id, innerError's equals request-id.
    const r = await get(exportPath(user('megan.bowen')), token);
    assert.equal(r.body.error.innerError['client-request-id'], r.body.error.innerError['request-id']);
  });

  test('the tenant gate comes before the user gates, and turning the feature on is the whole fix', async () => {
    const token = await appToken();
    forbidden(await get(exportPath('00000000-0000-0000-0000-000000000404'), token), 'tenant-feature');
    await patch({ features: { interactionExport: true } });
    const ok = await get(exportPath(user('megan.bowen')), token);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.value.length, 40);
    await patch({ features: { interactionExport: false } });
  });
});

describe('the gates, in order', () => {
  afterEach(() => control('/reset', 'POST'));

  test('token: none, malformed, expired or for another audience → 401 InvalidAuthenticationToken, before any other gate', async () => {
    await load('seed-403');
    const id = user('megan.bowen');
    const expired = (await control('/tokens', 'POST', { tenant: tenant.id, issuedAt: '-3h', lifetimeSeconds: 3600 })).access_token;
    const otherAudience = (await control('/tokens', 'POST', { tenant: tenant.id, audience: 'https://outlook.office365.com' })).access_token;
    for (const [auth, message] of [[undefined, /empty/], ['Bearer ', /empty/], ['Bearer abc', /JWT|well formed/], [`Bearer ${expired}`, /expired/], [`Bearer ${otherAudience}`, /audience/]] as const) {
      const r = await call(exportPath(id), { headers: auth === undefined ? {} : { authorization: auth } });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.body.error.code, 'InvalidAuthenticationToken');
      assert.match(r.body.error.message, message);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm=""/);
      assert.deepEqual(refusals(r).map((l) => l.gate), ['token']);
    }
  });

  test('role: a token without AiEnterpriseInteraction.Read.All → 403 Forbidden, before the tenant gate', async () => {
    await load('seed-403');
    forbidden(await get(exportPath(user('megan.bowen')), await mintedToken({ roles: ['User.Read.All'] })), 'role');
    forbidden(await get(exportPath(user('megan.bowen')), await mintedToken({ roles: null })), 'role');
    // The message of a role refusal is configurable (graph-facts.md §12 #20); the code stays Forbidden.
    const message = 'Missing role permissions on the request. API requires one of AiEnterpriseInteraction.Read.All.';
    await patch({ behaviours: { roleMissingMessage: message } });
    const r = await get(exportPath(user('megan.bowen')), await mintedToken({ roles: ['User.Read.All'] }));
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'Forbidden');
    assert.equal(r.body.error.message, message);
    assert.deepEqual(refusals(r).map((l) => l.gate), ['role']);
  });

  test('role: a delegated token is refused, even carrying the role', async () => {
    await load('interactions/unlicensed');
    const delegated = await mintedToken({ scp: 'AiEnterpriseInteraction.Read User.Read', idtyp: 'user', roles: [EXPORT_ROLE] });
    forbidden(await get(exportPath(user('adele.vance')), delegated), 'delegated-token');
    const noIdtyp = await mintedToken({ scp: 'AiEnterpriseInteraction.Read', idtyp: null });
    forbidden(await get(exportPath(user('adele.vance')), noIdtyp), 'delegated-token');
  });

  test('role: scenarios/interactions/rsc-only — only the RSC AiEnterpriseInteraction.Read.User → 403', async () => {
    await load('interactions/rsc-only');
    const token = await appToken();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.ok(!(claims.roles ?? []).includes(EXPORT_ROLE));
    forbidden(await get(exportPath(user('adele.vance')), token), 'role');
    forbidden(await get(exportPath(user('adele.vance')), await mintedToken({ roles: ['AiEnterpriseInteraction.Read.User'] })), 'role');
  });

  test('role: scenarios/interactions/role-not-consented — requested, never consented → 403; the directory still reads', async () => {
    await load('interactions/role-not-consented');
    const token = await appToken();
    forbidden(await get(exportPath(user('adele.vance')), token), 'role');
    assert.equal((await get(`/v1.0/users/${user('adele.vance')}`, token)).status, 200);
  });

  test('cloud: scenarios/interactions/china-cloud — refused before the user is looked at', async () => {
    await load('interactions/china-cloud');
    const token = await appToken();
    for (const id of [user('adele.vance'), '00000000-0000-0000-0000-000000000404']) {
      const r = await get(exportPath(id), token);
      // 21Vianet has no Copilot segment: Graph's answer for a path it does not serve.
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error.code, 'BadRequest');
      assert.equal(r.body.error.message, "Resource not found for the segment 'copilot'.");
      assert.deepEqual(refusals(r).map((l) => l.gate), ['cloud']);
      assert.deepEqual(Object.keys(r.body.error.innerError).sort(), ['client-request-id', 'date', 'request-id']);
    }
  });

  test('user exists: 404 NotFound by default (graph-facts §12 #7); scenarios/interactions/unknown-user → 403', async () => {
    await load('interactions/unknown-user');
    const token = await appToken();
    const missing = '00000000-0000-0000-0000-000000000404';
    forbidden(await get(exportPath(missing), token), 'user-exists');
    await patch({ behaviours: { unknownUser: 'notFound' } });
    const r = await get(exportPath(missing), token);
    assert.equal(r.status, 404, r.text);
    assert.equal(r.body.error.code, 'NotFound');
    assert.deepEqual(refusals(r).map((l) => l.gate), ['user-exists']);
    // A known user, by object id or by UPN, is served.
    assert.equal((await get(exportPath(user('adele.vance')), token)).status, 200);
    assert.equal((await get(exportPath('adele.vance@unknownuser.onmicrosoft.com'), token)).status, 200);
  });

  test('member: scenarios/interactions/guest — guests are refused before their licence is checked', async () => {
    await load('interactions/guest');
    const token = await appToken();
    forbidden(await get(exportPath(user('pat.partner')), token), 'user-member');
    forbidden(await get(exportPath(user('ari.auditor')), token), 'user-member');
    assert.equal((await get(exportPath(user('adele.vance')), token)).status, 200);
    await patch({ behaviours: { guestUser: 'empty' } });
    const r = await get(exportPath(user('pat.partner')), token);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.value, []);
  });

  test('licence: scenarios/interactions/unlicensed — 403 by default, an empty 200 with unlicensedUser: empty', async () => {
    await load('interactions/unlicensed');
    const token = await appToken();
    const r = await get(exportPath(user('patti.fernandez')), token);
    forbidden(r, 'licence');
    assert.equal(refusals(r)[0].plan, 'M365_COPILOT_BUSINESS_CHAT');
    await patch({ behaviours: { unlicensedUser: 'empty' } });
    for (const version of ['v1.0', 'beta']) {
      const e = await get(exportPath(user('patti.fernandez'), '$top=10', version), token);
      assert.equal(e.status, 200, e.text);
      assert.deepEqual(e.body.value, []);
      assert.equal(e.body['@odata.nextLink'], undefined);
      assert.deepEqual(validateCollectionResponse('microsoft.graph.aiInteraction', e.body), []);
    }
  });

  test('licence: scenarios/interactions/plan-disabled — Copilot SKU with M365_COPILOT_BUSINESS_CHAT disabled → 403', async () => {
    await load('interactions/plan-disabled');
    const token = await appToken();
    forbidden(await get(exportPath(user('miriam.graham')), token), 'licence');
  });

  test('account enabled: scenarios/interactions/disabled-account → 403 with disabledUser: forbidden, served by default', async () => {
    await load('interactions/disabled-account');
    const token = await appToken();
    forbidden(await get(exportPath(user('debra.berger')), token), 'user-enabled');
    await patch({ behaviours: { disabledUser: 'allow' } });
    assert.equal((await get(exportPath(user('debra.berger')), token)).status, 200);
  });

  test('mailbox: scenarios/interactions/onprem-mailbox — 403 (forbidden), 404 (notFound), served (allow); licence first', async () => {
    await load('interactions/onprem-mailbox');
    const token = await appToken();
    const irvin = user('irvin.sayers');
    const r = await get(exportPath(irvin), token);
    forbidden(r, 'mailbox');
    assert.equal(refusals(r)[0].mailbox, 'onPremises');
    forbidden(await get(exportPath(user('pradeep.gupta')), token), 'licence');
    await patch({ behaviours: { mailboxOnPremises: 'notFound' } });
    const nf = await get(exportPath(irvin), token);
    assert.equal(nf.status, 404, nf.text);
    assert.deepEqual(refusals(nf).map((l) => l.gate), ['mailbox']);
    await patch({ behaviours: { mailboxOnPremises: 'allow' } });
    assert.equal((await get(exportPath(irvin), token)).status, 200);
  });

  test('mailbox: scenarios/interactions/no-mailbox — 404 with mailboxNone: notFound', async () => {
    await load('interactions/no-mailbox');
    const token = await appToken();
    const r = await get(exportPath(user('emily.braun')), token);
    assert.equal(r.status, 404, r.text);
    assert.equal(r.body.error.code, 'NotFound');
    assert.deepEqual(refusals(r).map((l) => l.gate), ['mailbox']);
  });

  test('mailbox: scenarios/interactions/mailbox-excluded — 403 for a policy-excluded mailbox the directory shows as healthy', async () => {
    await load('interactions/mailbox-excluded');
    const token = await appToken();
    const lidia = user('lidia.holloway');
    const r = await get(exportPath(lidia), token);
    forbidden(r, 'mailbox');
    assert.equal(refusals(r)[0].mailbox, 'excludedByPolicy');
    assert.equal((await get(exportPath(user('megan.bowen')), token)).status, 200);
    // The directory cannot tell: the licence and the Exchange provisioning look like anyone's.
    const u = await get(`/v1.0/users/${lidia}?$select=mail,provisionedPlans`, token);
    assert.equal(u.status, 200, u.text);
    assert.ok(u.body.mail);
    assert.ok(u.body.provisionedPlans.some((p: any) => p.service === 'exchange' && p.provisioningStatus === 'Success'));
    await patch({ behaviours: { mailboxExcludedByPolicy: 'allow' } });
    assert.equal((await get(exportPath(lidia), token)).status, 200);
  });

  test('throttling comes after the user gates, faults after throttling, and faults never hide a refusal', async () => {
    await load('interactions/onprem-mailbox');
    const token = await appToken();
    await patch({ behaviours: { requestsPerSecond: 1 }, faults: { errorRate: 1, errorStatuses: [503] } });
    // A refused request takes nothing from the bucket and draws no fault.
    forbidden(await get(exportPath(user('irvin.sayers')), token), 'mailbox');
    forbidden(await get(exportPath(user('irvin.sayers')), token), 'mailbox');
    // An admitted request takes the one token, then meets the injected fault.
    const first = await get(exportPath(user('adele.vance')), token);
    assert.equal(first.status, 503, first.text);
    // The bucket is empty: throttled before any fault is drawn.
    const second = await get(exportPath(user('adele.vance')), token);
    assert.equal(second.status, 429, second.text);
    assert.deepEqual(refusals(second).map((l) => l.gate), ['throttle']);
    // Gates still come first when throttled.
    forbidden(await get(exportPath(user('pradeep.gupta')), token), 'licence');
  });
});

describe('throttling (token bucket per app per tenant)', () => {
  before(() => load('demo'));
  afterEach(() => control('/reset', 'POST'));
  const adele = () => user('adele.vance');

  async function exhaust(token: string, id: string): Promise<Res> {
    for (let i = 0; i < 20; i++) {
      const r = await get(exportPath(id, '$top=1'), token);
      if (r.status === 429) return r;
      assert.equal(r.status, 200, r.text);
    }
    throw new Error('never throttled');
  }

  test('429 TooManyRequests with an integer Retry-After; retrying early is throttled again; waiting succeeds', async () => {
    await patch({ behaviours: { requestsPerSecond: 2 } });
    const token = await appToken();
    const r = await exhaust(token, adele());
    assert.deepEqual(Object.keys(r.body), ['error']);
    assert.equal(r.body.error.code, 'TooManyRequests');
    assert.equal(r.body.error.message, 'Please retry again later.');
    const inner = r.body.error.innerError;
    for (const k of ['date', 'request-id', 'client-request-id']) assert.ok(inner[k], k);
    assert.equal(inner['request-id'], r.headers.get('request-id'));
    const retryAfter = r.headers.get('retry-after')!;
    assert.match(retryAfter, /^[1-9]\d*$/);
    assert.ok(Number(retryAfter) <= 1, 'at 2 rps one token is back within a second');
    // Retrying before Retry-After has elapsed: throttled again, at once and at 60% of the wait
    // (by then the bucket alone would have refilled a token: the advertised wait is what counts).
    const early = await get(exportPath(adele(), '$top=1'), token);
    assert.equal(early.status, 429);
    assert.match(early.headers.get('retry-after')!, /^[1-9]\d*$/);
    await sleep(Number(retryAfter) * 600);
    const stillEarly = await get(exportPath(adele(), '$top=1'), token);
    assert.equal(stillEarly.status, 429, 'a retry at 60% of Retry-After is throttled again');
    await sleep(Number(retryAfter) * 400 + 50);
    const late = await get(exportPath(adele(), '$top=1'), token);
    assert.equal(late.status, 200, late.text);
  });

  test('Retry-After is fractional seconds with retryAfter: decimal', async () => {
    await patch({ behaviours: { requestsPerSecond: 2, retryAfter: 'decimal' } });
    const token = await appToken();
    const r = await exhaust(token, adele());
    const retryAfter = r.headers.get('retry-after')!;
    assert.match(retryAfter, /^\d+\.\d+$/);
    assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 0.5, retryAfter);
    await sleep(Number(retryAfter) * 1000 / 4);
    assert.equal((await get(exportPath(adele(), '$top=1'), token)).status, 429, 'still early');
    await sleep(Number(retryAfter) * 1000 + 50);
    assert.equal((await get(exportPath(adele(), '$top=1'), token)).status, 200);
  });

  test('each app has its own bucket; a throttled app does not throttle another', async () => {
    await patch({ behaviours: { requestsPerSecond: 2 } });
    const token = await appToken();
    await exhaust(token, adele());
    const legacy = tenant.apps.find((a: any) => a.displayName === 'legacy reporting').appId;
    const other = await mintedToken({ roles: [EXPORT_ROLE] }, legacy);
    assert.equal((await get(exportPath(adele(), '$top=1'), other)).status, 200);
    assert.equal((await get(exportPath(adele(), '$top=1'), token)).status, 429);
  });

  test('each tenant has its own bucket for the same (multi-tenant) app', async () => {
    const appId = '3c5e7a9b-1d2f-4b6c-8e0a-2c4e6a8b0d1f';
    const tenantOf = (id: string, domain: string) => ({
      id, domain, behaviours: { requestsPerSecond: 2 },
      apps: [{ appId, displayName: 'multi-tenant exporter', secrets: [{ value: `secret-for-${domain}` }], permissions: [EXPORT_ROLE] }],
      users: [{ userPrincipalName: `adele.vance@${domain}`, licenses: [{ sku: 'Microsoft_365_Copilot' }] }],
    });
    await control('/scenario', 'POST', {
      name: 'two-tenants', default: { tenant: 'a.onmicrosoft.com', app: appId, user: 'adele.vance@a.onmicrosoft.com' },
      tenants: [tenantOf('2a000000-0000-4000-8000-00000000000a', 'a.onmicrosoft.com'), tenantOf('2a000000-0000-4000-8000-00000000000b', 'b.onmicrosoft.com')],
    });
    const [a, b] = (await control('/tenants')).tenants;
    const tokenFor = async (t: any) => {
      const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: appId, client_secret: t.apps[0].secrets[0].value, scope: 'https://graph.microsoft.com/.default' });
      return (await call(`/${t.id}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })).body.access_token;
    };
    const [ta, tb] = [await tokenFor(a), await tokenFor(b)];
    await exhaust(ta, a.users[0].id);
    assert.equal((await get(exportPath(b.users[0].id, '$top=1'), tb)).status, 200);
    assert.equal((await get(exportPath(a.users[0].id, '$top=1'), ta)).status, 429);
    await load('demo');
  });

  test('the default is 30 requests per second: a burst of 60 gets some 429s, but never before 30 succeed', async () => {
    const token = await appToken();
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 60 }, () => get(exportPath(adele(), '$top=1'), token)));
    const elapsed = (performance.now() - t0) / 1000;
    const ok = results.filter((r) => r.status === 200).length;
    const throttled = results.filter((r) => r.status === 429).length;
    assert.equal(ok + throttled, 60);
    assert.ok(ok >= 30, `${ok} succeeded`);
    assert.ok(ok <= 30 + Math.ceil(elapsed * 30) + 1, `${ok} succeeded in ${elapsed}s`);
    if (elapsed < 0.9) assert.ok(throttled > 0, 'some were throttled');
  });
});

describe('faults', () => {
  before(() => load('demo'));
  afterEach(() => control('/reset', 'POST'));
  const joni = () => user('joni.sherman');
  const off = { behaviours: { requestsPerSecond: null } };

  test('fixed latency delays the export endpoint only', async () => {
    const token = await appToken();
    // 3 s of latency against a 2.5 s bound for the directory: room for a loaded machine.
    await patch({ ...off, faults: { latencyMs: 3000 } });
    const r = await get(exportPath(joni(), '$top=1'), token);
    assert.equal(r.status, 200);
    assert.ok(r.ms >= 2990, `${r.ms} ms`);
    const dir = await get(`/v1.0/users/${joni()}`, token);
    assert.equal(dir.status, 200);
    assert.ok(dir.ms < 2500, `directory ${dir.ms} ms`);
  });

  test('latency distributions: uniform stays within [latencyMs, latencyMs + jitter] and varies; exponential varies', async () => {
    const token = await appToken();
    await patch({ ...off, faults: { latencyMs: 40, latencyJitterMs: 160, latencyDistribution: 'uniform', seed: 'lat' } });
    const uniform: number[] = [];
    for (let i = 0; i < 10; i++) uniform.push((await get(exportPath(joni(), '$top=1'), token)).ms);
    assert.ok(Math.min(...uniform) >= 38, uniform.join());
    assert.ok(Math.max(...uniform) < 200 + 400, uniform.join());
    assert.ok(Math.max(...uniform) - Math.min(...uniform) > 20, `uniform spread ${uniform.join()}`);
    await patch({ faults: { latencyMs: 0, latencyJitterMs: 60, latencyDistribution: 'exponential', seed: 'lat' } });
    const exp: number[] = [];
    for (let i = 0; i < 10; i++) exp.push((await get(exportPath(joni(), '$top=1'), token)).ms);
    assert.ok(Math.max(...exp) - Math.min(...exp) > 10, `exponential spread ${exp.join()}`);
  });

  test('503 and 504 with Retry-After (integer, or decimal by switch)', async () => {
    const token = await appToken();
    await patch({ ...off, faults: { errorRate: 1, errorStatuses: [503], errorRetryAfter: 3 } });
    const a = await get(exportPath(joni()), token);
    assert.equal(a.status, 503);
    assert.equal(a.headers.get('retry-after'), '3');
    assert.deepEqual(Object.keys(a.body.error.innerError).sort(), ['client-request-id', 'date', 'request-id']);
    await patch({ faults: { errorStatuses: [504], errorRetryAfter: 2 } });
    const b = await get(exportPath(joni()), token);
    assert.equal(b.status, 504);
    assert.equal(b.headers.get('retry-after'), '2');
    assert.equal(typeof b.body.error.code, 'string');
    await patch({ behaviours: { retryAfter: 'decimal' }, faults: { errorRetryAfter: 1.5 } });
    const c = await get(exportPath(joni()), token);
    assert.equal(c.status, 504);
    assert.match(c.headers.get('retry-after')!, /^1\.50*$/);
    // Faults stay on the export endpoint.
    assert.equal((await get(`/v1.0/users/${joni()}`, token)).status, 200);
  });

  test('a random failure rate is deterministic by seed', async () => {
    const token = await appToken();
    const run = async (seed: string) => {
      await patch({ ...off, faults: { errorRate: 0.3, errorStatuses: [503, 504], seed } });
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await get(exportPath(joni(), '$top=1'), token)).status);
      return out;
    };
    const a1 = await run('alpha');
    const a2 = await run('alpha');
    const b = await run('beta');
    assert.deepEqual(a1, a2, 'the same seed replays the same failures');
    assert.notDeepEqual(a1, b, 'another seed fails differently');
    const failures = a1.filter((s) => s !== 200).length;
    assert.ok(failures >= 4 && failures <= 24, `${failures} of 40 failed at rate 0.3`);
    assert.ok(a1.every((s) => [200, 503, 504].includes(s)));
    assert.ok(a1.includes(503) || a1.includes(504));
  });

  /** A raw HTTPS GET that reports what arrived and how the connection ended. */
  function raw(url: string, token: string): Promise<{ outcome: string; code?: string; status?: number; contentLength?: number; requestId?: string; received: Buffer }> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let contentLength: number | undefined;
      let requestId: string | undefined;
      const done = (outcome: string, code?: string) => resolve({ outcome, code, status, contentLength, requestId, received: Buffer.concat(chunks) });
      const req = httpsRequest(emu.url + url, { headers: { authorization: `Bearer ${token}` }, ca: readFileSync(emu.ca), agent: false }, (res) => {
        status = res.statusCode;
        contentLength = Number(res.headers['content-length']);
        requestId = String(res.headers['request-id'] ?? '');
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(res.complete ? 'complete' : 'incomplete'));
        res.on('aborted', () => done('aborted'));
        res.on('error', (e: NodeJS.ErrnoException) => done('error', e.code));
      });
      req.on('error', (e: NodeJS.ErrnoException) => done('error', e.code));
      req.end();
    });
  }

  test('connection reset mid-response: the client sees a socket error, and the emulator keeps serving', async () => {
    const token = await appToken();
    await patch({ ...off, faults: { resetRate: 1 } });
    const r = await raw(exportPath(joni(), '$top=5'), token);
    assert.ok(r.outcome === 'error' || r.outcome === 'aborted', JSON.stringify({ ...r, received: r.received.length }));
    if (r.outcome === 'error') assert.match(r.code ?? '', /ECONNRESET|ECONNABORTED|EPIPE/);
    await assert.rejects(call(exportPath(joni(), '$top=5'), { headers: { authorization: `Bearer ${token}` } }), (e: any) => {
      assert.match(String(e.cause?.code ?? e.code ?? e.message), /UND_ERR_SOCKET|ECONNRESET|terminated/);
      return true;
    });
    await patch({ faults: { resetRate: 0 } });
    assert.equal((await get(exportPath(joni(), '$top=5'), token)).status, 200);
  });

  test('truncated body: fewer bytes than Content-Length, and the JSON does not parse', async () => {
    const token = await appToken();
    await patch({ ...off, faults: { truncateRate: 1 } });
    const r = await raw(exportPath(joni(), '$top=5'), token);
    assert.equal(r.status, 200);
    assert.ok(r.contentLength! > 0);
    assert.ok(r.received.length < r.contentLength!, `${r.received.length} < ${r.contentLength}`);
    assert.ok(r.received.length > 0);
    assert.throws(() => JSON.parse(r.received.toString('utf8')), SyntaxError);
    await assert.rejects(call(exportPath(joni(), '$top=5'), { headers: { authorization: `Bearer ${token}` } }));
    await patch({ faults: { truncateRate: 0 } });
    assert.equal((await get(exportPath(joni(), '$top=5'), token)).status, 200);
  });

  test('reset and truncation rates are seeded too', async () => {
    const token = await appToken();
    const run = async () => {
      await patch({ ...off, faults: { resetRate: 0.3, truncateRate: 0.3, seed: 'broken' } });
      const out: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await raw(exportPath(joni(), '$top=2'), token);
        // What the emulator injected (its log), checked against what the client saw.
        const fault = logs.find((l) => l.reqId === r.requestId && l.event === 'graph.fault')?.fault;
        if (fault === undefined) assert.equal(r.outcome, 'complete');
        else assert.ok(r.outcome !== 'complete' && r.received.length < (r.contentLength ?? 0), `${fault}: ${r.outcome}`);
        out.push(fault ?? 'ok');
      }
      return out;
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
    assert.ok(a.includes('ok') && a.includes('reset') && a.includes('truncate'), a.join());
  });

  test('empty pages with a nextLink (emptyPageEvery) lose nothing', async () => {
    const token = await appToken();
    await patch({ ...off, faults: { emptyPageEvery: 3 } });
    const ids: string[] = [];
    let empty = 0;
    let next: string | undefined = exportPath(joni(), '$top=100');
    while (next) {
      const r = await get(next, token);
      assert.equal(r.status, 200, r.text);
      if (r.body.value.length === 0) {
        empty++;
        assert.ok(r.body['@odata.nextLink'], 'an empty page still links on');
        assert.equal(r.body['@odata.count'], 0);
      }
      ids.push(...r.body.value.map((i: any) => i.id));
      next = r.body['@odata.nextLink'];
    }
    assert.ok(empty >= 3, `${empty} empty pages`);
    const truth = (await call(`/_emulator/tenants/${tenant.id}/interactions?user=${joni()}`)).text.split('\n').filter(Boolean).map((l) => JSON.parse(l).interaction.id);
    assert.equal(ids.length, 1200);
    assert.deepEqual(ids, truth);
  });

  test('emptyPageEvery counts per tenant fault setting: the same walk after re-applying the faults gives the same pages', async () => {
    const token = await appToken();
    const walk = async () => {
      const sizes: number[] = [];
      let next: string | undefined = exportPath(user('adele.vance'), '$top=25');
      while (next) {
        const r = await get(next, token);
        assert.equal(r.status, 200, r.text);
        sizes.push(r.body.value.length);
        next = r.body['@odata.nextLink'];
      }
      return sizes;
    };
    await patch({ ...off, faults: { emptyPageEvery: 3 } });
    const first = await walk();
    // Another user's pages in between, then the faults applied again: the count starts over.
    await get(exportPath(user('joni.sherman'), '$top=10'), token);
    await patch({ faults: { emptyPageEvery: 3 } });
    assert.deepEqual(await walk(), first);
    assert.ok(first.includes(0), first.join());
  });

  test('emptyPageEvery: 1 empties every other response, never the one after an empty page, so paging still ends', async () => {
    const token = await appToken();
    await patch({ ...off, faults: { emptyPageEvery: 1 } });
    const ids: string[] = [];
    const sizes: number[] = [];
    let next: string | undefined = exportPath(user('adele.vance'), '$top=25');
    for (let i = 0; next && i < 50; i++) {
      const r = await get(next, token);
      assert.equal(r.status, 200, r.text);
      sizes.push(r.body.value.length);
      ids.push(...r.body.value.map((x: any) => x.id));
      next = r.body['@odata.nextLink'];
    }
    assert.equal(next, undefined, `paging ended (${sizes.join()})`);
    assert.deepEqual(sizes, [0, 25, 0, 25, 0, 10]);
    assert.equal(new Set(ids).size, 60);
  });

  test('scenarios/interactions/flaky — faults from the scenario file; a retrying client still gets everything once', async () => {
    await load('interactions/flaky');
    const token = await appToken();
    const id = user('adele.vance');
    const ids: string[] = [];
    const statuses = new Map<number, number>();
    let empty = 0;
    let next: string | undefined = exportPath(id, '$top=20');
    for (let attempts = 0; next && attempts < 500; attempts++) {
      const r = await get(next, token);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 503 || r.status === 504) {
        assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
        continue; // retry the same link
      }
      assert.equal(r.status, 200, r.text);
      if (r.body.value.length === 0 && r.body['@odata.nextLink']) empty++;
      ids.push(...r.body.value.map((i: any) => i.id));
      next = r.body['@odata.nextLink'];
    }
    assert.equal(next, undefined, 'paging finished');
    assert.ok((statuses.get(503) ?? 0) + (statuses.get(504) ?? 0) > 0, JSON.stringify([...statuses]));
    assert.ok(empty > 0);
    const truth = (await call(`/_emulator/tenants/${tenant.id}/interactions?user=${id}`)).text.split('\n').filter(Boolean).map((l) => JSON.parse(l).interaction.id);
    assert.equal(truth.length, 300);
    assert.deepEqual(ids, truth);
  });
});
