// The emulator against Microsoft's own descriptions: $select on users (null for a property without a
// value, 400 for an unknown one, signInActivity behind AuditLog.Read.All), the unfetchable
// interactions('{id}') resource and the unknown-user answer (graph-facts §12 #7, #27), and the
// ids of delegated permissions (graph-permission-ids.json). Real HTTPS, responses validated
// against the CSDL-derived schemas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SCENARIO_DIR } from '../src/cli/scenarios.js';
import { validateCollectionResponse, validateEntity } from './support/csdl.js';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import { demoWithoutThrottling, exportPath, getPage } from './support/interactions.js';

let emu: TestEmulator;
let tid: string;
let adele: string;
let token: string;

before(async () => {
  const s = demoWithoutThrottling() as any;
  // The reader also holds AuditLog.Read.All; the legacy app does not.
  s.tenants[0].apps[0].permissions.push('AuditLog.Read.All');
  s.tenants[0].apps[1].secrets[0].expiresAt = '+10d';
  emu = await withEmulator(s);
  const t = (await emu.tenantList()).tenants[0];
  tid = t.id;
  adele = t.default.userId;
  token = await emu.token();
});
after(() => emu.close());

const stripAnnotations = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('@odata.')));

describe('$select on users', () => {
  test('a selected property without a value is null, a collection []', async () => {
    const r = await getPage(emu, `/v1.0/users/${adele}?$select=displayName,jobTitle,otherMails,proxyAddresses,department,onPremisesSyncEnabled,assignedLicenses`, token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(stripAnnotations(r.body)), ['displayName', 'jobTitle', 'otherMails', 'proxyAddresses', 'department', 'onPremisesSyncEnabled', 'assignedLicenses']);
    assert.equal(r.body.displayName, 'Adele Vance');
    assert.equal(r.body.jobTitle, null);
    assert.deepEqual(r.body.otherMails, []);
    assert.deepEqual(r.body.proxyAddresses, []);
    assert.equal(r.body.department, null);
    assert.equal(r.body.onPremisesSyncEnabled, null);
    assert.ok(r.body.assignedLicenses.length > 0);
    assert.deepEqual(validateEntity('user', stripAnnotations(r.body), { partial: true }), []);
    const list = await getPage(emu, '/v1.0/users?$select=id,otherMails,employeeId&$top=3', token);
    assert.equal(list.status, 200);
    for (const u of list.body.value) assert.deepEqual(u, { id: u.id, otherMails: [], employeeId: null });
    assert.deepEqual(validateCollectionResponse('user', list.body, { partial: true }), []);
  });

  test('property names are matched in any case and answered in Graph’s spelling', async () => {
    const r = await getPage(emu, `/v1.0/users/${adele}?$select=DISPLAYNAME,otherMAILS`, token);
    assert.equal(r.status, 200);
    assert.deepEqual(stripAnnotations(r.body), { displayName: 'Adele Vance', otherMails: [] });
  });

  test('an unknown property is a 400, on the list and on one user', async () => {
    for (const path of [`/v1.0/users/${adele}?$select=displayName,notAProperty`, '/v1.0/users?$select=notAProperty']) {
      const r = await getPage(emu, path, token);
      assert.equal(r.status, 400, path);
      assert.equal(r.body.error.code, 'Request_BadRequest');
      assert.equal(r.body.error.message, "Could not find a property named 'notAProperty' on type 'microsoft.graph.user'.");
      assert.ok(r.body.error.innerError['request-id']);
    }
  });

  test('signInActivity needs AuditLog.Read.All: refused without it, null (no sign-in recorded) with it', async () => {
    const legacy = await emu.token({ appId: '7e2d4f6a-1b3c-4d5e-8f9a-0b1c2d3e4f5a' });
    const refused = await getPage(emu, `/v1.0/users/${adele}?$select=displayName,signInActivity`, legacy);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'Authorization_RequestDenied');
    assert.match(refused.body.error.message, /AuditLog\.Read\.All/);
    const listRefused = await getPage(emu, '/v1.0/users?$select=signInActivity', legacy);
    assert.equal(listRefused.status, 403);
    const ok = await getPage(emu, `/v1.0/users/${adele}?$select=displayName,signInActivity`, token);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.signInActivity, null);
  });
});

describe('resource-specific (RSC) grants', () => {
  test('GET /users/{id}/permissionGrants lists an app\'s AiEnterpriseInteraction.Read.User grant, gated by ResourceSpecificPermissionGrant.ReadForUser.All', async () => {
    const s = demoWithoutThrottling() as any;
    s.name = 'rsc-grants';
    s.tenants[0].apps[0].permissions.push('ResourceSpecificPermissionGrant.ReadForUser.All');
    s.tenants[0].apps[1].rsc = ['AiEnterpriseInteraction.Read.User'];
    s.tenants[0].apps[1].secrets[0].expiresAt = '+10d';
    await emu.control('/scenario', 'POST', s);
    try {
      const reader = await emu.token();
      const r = await getPage(emu, `/v1.0/users/${adele}/permissionGrants`, reader);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(validateCollectionResponse('resourceSpecificPermissionGrant', r.body), []);
      assert.equal(r.body.value.length, 1);
      const [g] = r.body.value;
      assert.equal(g.permission, 'AiEnterpriseInteraction.Read.User');
      assert.equal(g.permissionType, 'Application');
      assert.equal(g.clientId, '7e2d4f6a-1b3c-4d5e-8f9a-0b1c2d3e4f5a');
      assert.equal(g.resourceAppId, '00000003-0000-0000-c000-000000000000');
      // The legacy app itself holds only User.Read.All: the list is refused to it.
      const legacy = await emu.token({ appId: '7e2d4f6a-1b3c-4d5e-8f9a-0b1c2d3e4f5a' });
      assert.equal((await getPage(emu, `/v1.0/users/${adele}/permissionGrants`, legacy)).status, 403);
      // The RSC grant never reaches the tenant-wide token.
      const [, payload] = legacy.split('.');
      assert.deepEqual(JSON.parse(Buffer.from(payload!, 'base64url').toString()).roles, ['User.Read.All']);
    } finally {
      const again = demoWithoutThrottling() as any;
      again.tenants[0].apps[0].permissions.push('AuditLog.Read.All');
      again.tenants[0].apps[1].secrets[0].expiresAt = '+10d';
      await emu.control('/scenario', 'POST', again);
      token = await emu.token();
    }
  });
});

describe('interaction resources Graph does not serve, and unknown users', () => {
  test("GET …/interactions('{id}') answers 404 NotFound (graph-facts §12 #27), both forms", async () => {
    for (const path of [`/v1.0/copilot/interactionHistory/interactions('1767261600123')`, `/beta/copilot/users/${adele}/interactionHistory/interactions('1767261600123')`]) {
      const r = await getPage(emu, path, token);
      assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'NotFound');
      assert.ok(r.body.error.innerError['request-id']);
    }
  });

  test('an unknown user answers 404 NotFound (graph-facts §12 #7)', async () => {
    const r = await getPage(emu, exportPath('00000000-0000-4000-8000-000000000000', '$top=1'), token);
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NotFound');
  });
});

describe("delegated permissions under Microsoft's ids", () => {
  test('requiredResourceAccess lists AiEnterpriseInteraction.Read as Scope 859cceb9-…; the Graph SP publishes the same id', async () => {
    const scenario = parseYaml(readFileSync(join(SCENARIO_DIR, 'auth', 'delegated-only.yaml'), 'utf8'));
    await emu.control('/scenario', 'POST', scenario);
    try {
      const t = (await emu.tenantList()).tenants[0];
      // The app has no roles of its own: read with a token minted for it carrying Application.Read.All.
      const minted = await emu.control('/tokens', 'POST', { claims: { roles: ['Application.Read.All'] } });
      const app = await getPage(emu, `/v1.0/applications(appId='${t.default.appId}')`, minted.access_token);
      assert.equal(app.status, 200, JSON.stringify(app.body));
      const access = app.body.requiredResourceAccess[0].resourceAccess;
      assert.deepEqual(access, [
        { id: 'a154be20-db9c-4678-8ab7-66f6cc099a59', type: 'Scope' }, // User.Read.All (delegated)
        { id: '859cceb9-2ec2-4e48-bcd7-b8490b5248a5', type: 'Scope' }, // AiEnterpriseInteraction.Read
      ]);
      const sp = await getPage(emu, "/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')", minted.access_token);
      const scope = sp.body.oauth2PermissionScopes.find((s: any) => s.value === 'AiEnterpriseInteraction.Read');
      assert.equal(scope.id, '859cceb9-2ec2-4e48-bcd7-b8490b5248a5');
      assert.deepEqual(validateEntity('servicePrincipal', stripAnnotations(sp.body)), []);
    } finally {
      await emu.control('/reset', 'POST');
      await emu.control('/scenario', 'POST', { ...demoWithoutThrottling(), name: 'demo-again' });
      token = await emu.token();
      tid = (await emu.tenantList()).tenants[0].id;
    }
  });

  test('a scenario naming an unknown delegated permission is refused, naming the field', async () => {
    const s = demoWithoutThrottling() as any;
    s.tenants[0].apps[0].delegated = ['Not.A.Permission'];
    const r = await emu.fetch('/_emulator/scenario', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /apps\[0\]\.delegated\[0\]: unknown delegated permission Not\.A\.Permission/);
    assert.ok(tid);
  });
});
