// The Graph directory slice, over real HTTPS: every response validates against the v1.0 CSDL
// types (test/support/csdl.ts), the consent-check chain (Graph SP → appRoles → appRoleAssignments),
// $filter/$count/$top/$select and paging on /users, Graph's standard headers, its error envelope,
// and licence expansion against Microsoft's SKU table. Expected values come from the demo scenario
// file and Microsoft's reference data, never from the emulator itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import { validateCollectionResponse, validateEntity } from './support/csdl.js';
import { applicationRoleIds, ref } from './support/reference.js';
import { GRAPH_APP_ID, GUID, SCENARIO_DIR, assertGraphError, defaults, graphGet, scenarioObject, type Reply } from './fixtures/auth.js';

const COPILOT_SKU = '639dec6b-bb19-468b-871c-c5c441c4b0cb';
const BUSINESS_CHAT_PLAN = '3f30311c-6b1e-48a4-ab79-725b469da960';
const AI_READ_ALL = '839c90ab-5771-41ee-aef8-a562e8487c1e';
const USER_SELECT = 'id,userPrincipalName,assignedLicenses,assignedPlans,userType,accountEnabled,provisionedPlans';

interface DemoUser { userPrincipalName: string; userType?: string; accountEnabled?: boolean; licenses?: { sku: string; disabledPlans?: string[] }[] }

let emu: TestEmulator;
let token: string;
let tenant: any;
let app: any;
let demoUsers: DemoUser[];
/** Microsoft's licensing CSV: skuId → { skuPartNumber, plans: name → id }. */
let skus: Map<string, { partNumber: string; plans: Map<string, string> }>;
const skuIdByPart = new Map<string, string>();

const get = (path: string, headers: Record<string, string> = {}) => graphGet(emu, path, token, headers);
const q = (path: string, params: Record<string, string>) => `${path}?${new URLSearchParams(params).toString()}`;

function assertValidCollection(type: string, r: Reply, partial = false): void {
  assert.equal(r.status, 200, r.text.slice(0, 400));
  assert.deepEqual(validateCollectionResponse(type, r.body, { partial }), [], `${type} collection`);
}

function assertValidEntity(type: string, r: Reply, partial = false): void {
  assert.equal(r.status, 200, r.text.slice(0, 400));
  assert.match(r.body['@odata.context'], /\$entity$/);
  assert.deepEqual(validateEntity(type, r.body, { partial }), [], type);
}

/** Every page of a collection, following @odata.nextLink. */
async function allPages(path: string, headers: Record<string, string> = {}): Promise<{ pages: Reply[]; items: any[] }> {
  const pages: Reply[] = [];
  let next: string | undefined = path;
  while (next) {
    const r = await get(next, headers);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    pages.push(r);
    next = r.body['@odata.nextLink'];
    assert.ok(pages.length < 100, 'paging terminates');
  }
  return { pages, items: pages.flatMap((p) => p.body.value) };
}

before(async () => {
  emu = await withEmulator('demo');
  ({ tenant, app } = await defaults(emu));
  token = await emu.token();
  const demo = scenarioObject(join(SCENARIO_DIR, 'demo.yaml')) as { tenants: { users: DemoUser[] }[] };
  demoUsers = demo.tenants[0]!.users;
  const rows = parseCsv(readFileSync(ref('licensing-service-plans.csv')), { columns: true, bom: true, skip_empty_lines: true }) as Record<string, string>[];
  skus = new Map();
  for (const r of rows) {
    const skuId = r.GUID!.toLowerCase();
    const e = skus.get(skuId) ?? { partNumber: r.String_Id!, plans: new Map<string, string>() };
    e.plans.set(r.Service_Plan_Name!, r.Service_Plan_Id!.toLowerCase());
    skus.set(skuId, e);
    skuIdByPart.set(r.String_Id!.toLowerCase(), skuId);
  }
});
after(async () => {
  await emu?.close();
});

const upnsWhere = (pred: (u: DemoUser) => boolean) => demoUsers.filter(pred).map((u) => u.userPrincipalName.toLowerCase()).sort();
const upnsOf = (items: any[]) => items.map((u) => String(u.userPrincipalName).toLowerCase()).sort();

describe('responses validate against the Graph v1.0 CSDL', () => {
  test('GET /users (default property set) and with $select', async () => {
    const all = await get('/v1.0/users');
    assertValidCollection('user', all, true);
    assert.equal(all.body.value.length, demoUsers.length);
    assert.deepEqual(upnsOf(all.body.value), upnsWhere(() => true));
    const sel = await get(q('/v1.0/users', { $select: USER_SELECT }));
    assertValidCollection('user', sel, true);
    for (const u of sel.body.value) assert.deepEqual(Object.keys(u).sort(), USER_SELECT.split(',').sort(), 'exactly the selected properties');
    assert.match(sel.body['@odata.context'], /\$metadata#users\(id,userPrincipalName,/);
  });

  test('GET /users/{id} and /users/{upn}', async () => {
    const byId = await get(`/v1.0/users/${tenant.default.userId}`);
    assertValidEntity('user', byId, true);
    assert.equal(byId.body.id, tenant.default.userId);
    const byUpn = await get(`/v1.0/users/${encodeURIComponent('adele.vance@contoso.onmicrosoft.com')}`);
    assertValidEntity('user', byUpn, true);
    assert.equal(byUpn.body.id, tenant.default.userId);
    const guest = await get(`/v1.0/users/${encodeURIComponent('partner_fabrikam.com#EXT#@contoso.onmicrosoft.com')}?$select=${USER_SELECT}`);
    assertValidEntity('user', guest, true);
    assert.equal(guest.body.userType, 'Guest');
    const quoted = await get(`/v1.0/users('${tenant.default.userId}')`);
    assert.equal(quoted.status, 200);
    assertGraphError(await get(`/v1.0/users/${randomUUID()}`), 404, 'Request_ResourceNotFound');
  });

  test('GET /users/{id}/licenseDetails, /subscribedSkus, /organization', async () => {
    const ld = await get(`/v1.0/users/${tenant.default.userId}/licenseDetails`);
    assertValidCollection('licenseDetails', ld);
    assert.ok(ld.body.value.length >= 1);
    const ss = await get('/v1.0/subscribedSkus');
    assertValidCollection('subscribedSku', ss);
    const org = await get('/v1.0/organization');
    assertValidCollection('organization', org);
    assert.equal(org.body.value.length, 1);
    assert.equal(org.body.value[0].id, tenant.id);
  });

  test('GET /applications(appId=…) and /servicePrincipals?$filter=appId eq …', async () => {
    const a = await get(`/v1.0/applications(appId='${app.appId}')`);
    assertValidEntity('application', a);
    assert.equal(a.body.appId, app.appId);
    const sps = await get(q('/v1.0/servicePrincipals', { $filter: `appId eq '${app.appId}'` }));
    assertValidCollection('servicePrincipal', sps);
    assert.equal(sps.body.value.length, 1);
    assert.equal(sps.body.value[0].id, app.servicePrincipalId);
    const spById = await get(`/v1.0/servicePrincipals/${app.servicePrincipalId}`);
    assertValidEntity('servicePrincipal', spById);
    const spByAppId = await get(`/v1.0/servicePrincipals(appId='${app.appId}')`);
    assertValidEntity('servicePrincipal', spByAppId);
    assert.equal(spByAppId.body.id, app.servicePrincipalId);
  });

  test('the consent check: Graph’s service principal, its appRoles, and the app’s appRoleAssignments', async () => {
    const graphSp = await get(`/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')`);
    assertValidEntity('servicePrincipal', graphSp);
    assert.equal(graphSp.body.appId, GRAPH_APP_ID);
    assert.match(graphSp.body.id, GUID);
    const reference = applicationRoleIds();
    assert.ok(graphSp.body.appRoles.length > 0);
    for (const role of graphSp.body.appRoles) {
      assert.equal(role.id, reference.get(role.value), `appRole ${role.value} has Microsoft's id`);
      assert.ok(role.allowedMemberTypes.includes('Application'));
    }
    assert.ok(graphSp.body.appRoles.some((r: any) => r.id === AI_READ_ALL && r.value === 'AiEnterpriseInteraction.Read.All'));

    const ra = await get(`/v1.0/servicePrincipals/${app.servicePrincipalId}/appRoleAssignments`);
    assertValidCollection('appRoleAssignment', ra);
    const ai = ra.body.value.find((x: any) => x.appRoleId === AI_READ_ALL);
    assert.ok(ai, 'the app holds AiEnterpriseInteraction.Read.All');
    assert.equal(ai.resourceId, graphSp.body.id);
    assert.equal(ai.principalId, app.servicePrincipalId);
    assert.equal(ai.principalType, 'ServicePrincipal');
    assert.equal(ai.resourceDisplayName, 'Microsoft Graph');
    assert.ok(!Number.isNaN(Date.parse(ai.createdDateTime)));
    // One assignment per consented role, each with Microsoft's role id.
    assert.deepEqual(ra.body.value.map((x: any) => x.appRoleId).sort(), app.roles.map((r: string) => reference.get(r)).sort());
  });
});

describe('$filter, $count, $top and paging on /users', () => {
  const filters: [string, (u: DemoUser) => boolean][] = [
    ["userType eq 'Guest'", (u) => u.userType === 'Guest'],
    ['accountEnabled eq false', (u) => u.accountEnabled === false],
    [`assignedLicenses/any(x:x/skuId eq ${COPILOT_SKU})`, (u) => (u.licenses ?? []).some((l) => skuIdByPart.get(l.sku.toLowerCase()) === COPILOT_SKU)],
    ["startsWith(userPrincipalName,'a')", (u) => u.userPrincipalName.toLowerCase().startsWith('a')],
  ];
  for (const [filter, pred] of filters) {
    test(`$filter=${filter} returns exactly the matching demo users`, async () => {
      const expected = upnsWhere(pred);
      assert.ok(expected.length > 0 && expected.length < demoUsers.length, 'a discriminating filter');
      const r = await get(q('/v1.0/users', { $filter: filter, $select: USER_SELECT }));
      assertValidCollection('user', r, true);
      assert.deepEqual(upnsOf(r.body.value), expected);
    });
  }

  test('$count=true needs ConsistencyLevel: eventual', async () => {
    const r = await get(q('/v1.0/users', { $count: 'true' }), { ConsistencyLevel: 'eventual' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body['@odata.count'], demoUsers.length);
    const filtered = await get(q('/v1.0/users', { $count: 'true', $filter: "userType eq 'Guest'" }), { ConsistencyLevel: 'eventual' });
    assert.equal(filtered.body['@odata.count'], upnsWhere((u) => u.userType === 'Guest').length);
    const paged = await get(q('/v1.0/users', { $count: 'true', $top: '3' }), { ConsistencyLevel: 'eventual' });
    assert.equal(paged.body['@odata.count'], demoUsers.length, 'the count is of the whole collection');
    assert.equal(paged.body.value.length, 3);
    const noHeader = await get(q('/v1.0/users', { $count: 'true' }));
    assertGraphError(noHeader, 400, noHeader.body?.error?.code ?? '?', /ConsistencyLevel/);
  });

  for (const top of [1, 5, 7, 25]) {
    test(`$top=${top}: following @odata.nextLink returns every user exactly once`, async () => {
      const { pages, items } = await allPages(q('/v1.0/users', { $top: String(top), $select: 'id,userPrincipalName' }));
      assert.equal(pages.length, Math.ceil(demoUsers.length / top));
      for (const p of pages.slice(0, -1)) assert.equal(p.body.value.length, top);
      assert.equal(pages.at(-1)!.body['@odata.nextLink'], undefined);
      const ids = items.map((u) => u.id);
      assert.equal(new Set(ids).size, ids.length, 'no duplicates');
      assert.deepEqual(upnsOf(items), upnsWhere(() => true), 'nobody missing');
      for (const p of pages) for (const u of p.body.value) assert.deepEqual(Object.keys(u).sort(), ['id', 'userPrincipalName'], '$select survives paging');
    });
  }

  test('paging keeps the filter', async () => {
    const filter = `assignedLicenses/any(x:x/skuId eq ${COPILOT_SKU})`;
    const { items } = await allPages(q('/v1.0/users', { $top: '4', $filter: filter }));
    assert.deepEqual(upnsOf(items), upnsWhere((u) => (u.licenses ?? []).some((l) => skuIdByPart.get(l.sku.toLowerCase()) === COPILOT_SKU)));
  });

  test('bad query options → 400 in Graph’s envelope', async () => {
    for (const params of <Record<string, string>[]>[{ $top: '0' }, { $top: 'x' }, { $filter: "userType eq 'Guest" }, { $filter: 'noSuchProperty eq 1' }, { $select: 'id,,x' }, { $skiptoken: 'tampered' }]) {
      const r = await get(q('/v1.0/users', params));
      assert.equal(r.status, 400, `${JSON.stringify(params)}: ${r.text}`);
      assertGraphError(r, 400, r.body.error.code, /./, JSON.stringify(params));
    }
  });
});

describe('headers and errors', () => {
  const paths = () => ['/v1.0/users', `/v1.0/users/${tenant.default.userId}`, `/v1.0/users/${tenant.default.userId}/licenseDetails`, '/v1.0/subscribedSkus', '/v1.0/organization', `/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')`];

  test('every response carries request-id, client-request-id, Date, x-ms-ags-diagnostic, OData-Version and @odata.context', async () => {
    for (const path of paths()) {
      for (const sent of [undefined, randomUUID()]) {
        const r = await get(path, sent ? { 'client-request-id': sent } : {});
        assert.equal(r.status, 200, path);
        const requestId = r.headers.get('request-id');
        assert.match(requestId ?? '', GUID, `${path} request-id`);
        assert.equal(r.headers.get('client-request-id'), sent ?? requestId, `${path} client-request-id`);
        assert.ok(!Number.isNaN(Date.parse(r.headers.get('date') ?? '')), `${path} Date`);
        const diag = JSON.parse(r.headers.get('x-ms-ags-diagnostic') ?? '{}');
        assert.equal(typeof diag.ServerInfo?.DataCenter, 'string', `${path} x-ms-ags-diagnostic`);
        assert.equal(r.headers.get('odata-version'), '4.0', path);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        assert.match(r.body['@odata.context'], new RegExp(`^${emu.url.replace(/[.]/g, '\\.')}/v1\\.0/\\$metadata#`), path);
      }
    }
  });

  test('error responses carry the same headers and ids', async () => {
    const sent = randomUUID();
    const r = await get('/v1.0/usersx', { 'client-request-id': sent });
    assertGraphError(r, 400, 'BadRequest', /usersx/);
    assert.equal(r.body.error.innerError['client-request-id'], sent);
    assert.equal(r.headers.get('odata-version'), '4.0');
    assert.ok(r.headers.get('x-ms-ags-diagnostic'));
    assert.ok(r.headers.get('date'));
  });

  test('an unknown segment → 400 "Resource not found for the segment"', async () => {
    for (const [path, segment] of [['/v1.0/usersx', 'usersx'], [`/v1.0/users/${tenant.default.userId}/nope`, 'nope'], ['/v1.0/organizations', 'organizations']] as const) {
      assertGraphError(await get(path), 400, 'BadRequest', `Resource not found for the segment '${segment}'.`, path);
    }
  });

  test('paths match case-insensitively, and beta is served too', async () => {
    assert.equal((await get('/v1.0/SubscribedSKUs')).status, 200);
    assert.equal((await get(`/v1.0/USERS/${tenant.default.userId}/LICENSEDETAILS`)).status, 200);
    assert.equal((await get('/beta/users?$top=1')).status, 200);
  });
});

describe('licence expansion matches Microsoft’s SKU table', () => {
  test('licenseDetails and assignedLicenses of every demo user follow the scenario and the CSV', async () => {
    for (const du of demoUsers) {
      const upn = encodeURIComponent(du.userPrincipalName);
      const u = await get(`/v1.0/users/${upn}?$select=id,assignedLicenses,assignedPlans`);
      assert.equal(u.status, 200, du.userPrincipalName);
      const ld = await get(`/v1.0/users/${upn}/licenseDetails`);
      assertValidCollection('licenseDetails', ld);
      const wanted = (du.licenses ?? []).map((l) => ({ skuId: skuIdByPart.get(l.sku.toLowerCase())!, disabled: l.disabledPlans ?? [] }));
      assert.deepEqual(ld.body.value.map((d: any) => d.skuId).sort(), wanted.map((w) => w.skuId).sort(), du.userPrincipalName);
      assert.deepEqual(u.body.assignedLicenses.map((l: any) => l.skuId).sort(), wanted.map((w) => w.skuId).sort());
      for (const w of wanted) {
        const sku = skus.get(w.skuId)!;
        const disabledIds = w.disabled.map((name) => sku.plans.get(name) ?? name.toLowerCase()).sort();
        const detail = ld.body.value.find((d: any) => d.skuId === w.skuId);
        assert.equal(detail.skuPartNumber, sku.partNumber);
        assert.deepEqual(detail.servicePlans.map((p: any) => p.servicePlanId).sort(), [...sku.plans.values()].sort(), `${du.userPrincipalName} ${sku.partNumber}: the CSV's plans`);
        for (const p of detail.servicePlans) {
          assert.equal(p.servicePlanName, [...sku.plans.entries()].find(([, id]) => id === p.servicePlanId)![0]);
          if (disabledIds.includes(p.servicePlanId)) assert.equal(p.provisioningStatus, 'Disabled', `${du.userPrincipalName} ${p.servicePlanName}`);
          else assert.notEqual(p.provisioningStatus, 'Disabled', `${du.userPrincipalName} ${p.servicePlanName}`);
        }
        const assigned = u.body.assignedLicenses.find((l: any) => l.skuId === w.skuId);
        assert.deepEqual([...assigned.disabledPlans].sort(), disabledIds, `${du.userPrincipalName} ${sku.partNumber} disabledPlans`);
      }
    }
  });

  test('miriam.graham: Copilot with the Graph-grounded chat plan disabled', async () => {
    const upn = 'miriam.graham@contoso.onmicrosoft.com';
    const ld = await get(`/v1.0/users/${upn}/licenseDetails`);
    const copilot = ld.body.value.find((d: any) => d.skuId === COPILOT_SKU);
    assert.equal(copilot.servicePlans.find((p: any) => p.servicePlanId === BUSINESS_CHAT_PLAN).provisioningStatus, 'Disabled');
    const u = await get(`/v1.0/users/${upn}?$select=assignedLicenses,assignedPlans`);
    assert.deepEqual(u.body.assignedLicenses.find((l: any) => l.skuId === COPILOT_SKU).disabledPlans, [BUSINESS_CHAT_PLAN]);
    assert.ok(u.body.assignedPlans.some((p: any) => p.servicePlanId === BUSINESS_CHAT_PLAN && p.capabilityStatus !== 'Enabled'));
  });

  test('subscribedSkus: consumed units and plans per SKU', async () => {
    const ss = await get('/v1.0/subscribedSkus');
    const consumed = new Map<string, number>();
    for (const u of demoUsers) for (const l of u.licenses ?? []) {
      const id = skuIdByPart.get(l.sku.toLowerCase())!;
      consumed.set(id, (consumed.get(id) ?? 0) + 1);
    }
    assert.deepEqual(ss.body.value.map((s: any) => s.skuId).sort(), [...consumed.keys()].sort());
    for (const s of ss.body.value) {
      assert.equal(s.consumedUnits, consumed.get(s.skuId), s.skuPartNumber);
      assert.equal(s.skuPartNumber, skus.get(s.skuId)!.partNumber);
      assert.deepEqual(s.servicePlans.map((p: any) => p.servicePlanId).sort(), [...skus.get(s.skuId)!.plans.values()].sort(), s.skuPartNumber);
      assert.ok(s.prepaidUnits.enabled >= s.consumedUnits);
    }
  });
});
