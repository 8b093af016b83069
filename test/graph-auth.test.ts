// Graph's door: the 401 gates (no, malformed, forged, unsigned, expired, not-yet-valid,
// wrong-audience and foreign-tenant tokens), the 403 role gate on every directory path, the
// permission table from Microsoft's data for every served path, and the failure-mode scenarios
// under scenarios/auth/. One emulator for the file; scenarios are swapped through the control API.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import { applicationGrants, SERVED_PATHS } from './support/reference.js';
import {
  SCENARIO_DIR, assertAadsts, assertGraphError, authScenario, defaults, graphGet, mintToken, scenarioObject, tokenRequest,
} from './fixtures/auth.js';

const EMPTY = 'Access token is empty.';
const EXPIRED = 'Access token has expired or is not yet valid.';
const BAD_AUDIENCE = 'Access token validation failure. Invalid audience.';
const DENIED = 'Insufficient privileges to complete the operation.';
const UNRELATED_ROLES = ['Mail.Read', 'MailboxSettings.Read', 'Calendars.Read'];

let emu: TestEmulator;
let tenant: any;
let app: any;
let userId: string;
let paths: Record<string, string>;

/** Back to the demo world at the real time (scenarios may freeze or move the clock). */
async function restoreDemo(): Promise<void> {
  await emu.control('/clock', 'POST', { frozen: false, now: new Date().toISOString() });
  await emu.control('/scenario', 'POST', scenarioObject(join(SCENARIO_DIR, 'demo.yaml')));
}

async function secretToken(tenantId: string, a: any, scope = 'https://graph.microsoft.com/.default') {
  const r = await tokenRequest(emu, tenantId, { grant_type: 'client_credentials', client_id: a.appId, client_secret: a.secrets[0].value, scope });
  assert.equal(r.status, 200, r.text);
  return r.body as { access_token: string; expires_in: number };
}

before(async () => {
  emu = await withEmulator('demo');
  ({ tenant, app } = await defaults(emu));
  userId = tenant.default.userId;
  paths = {
    '/users': '/v1.0/users',
    '/users/{id}': `/v1.0/users/${userId}`,
    '/users/{id}/licensedetails': `/v1.0/users/${userId}/licenseDetails`,
    '/groups/{id}/transitivemembers': '/v1.0/groups/0c2f8a1e-7d4b-4e6a-9b3c-5d8e1f2a4b6c/transitiveMembers',
    '/users/{id}/permissiongrants': `/v1.0/users/${userId}/permissionGrants`,
    '/subscribedskus': '/v1.0/subscribedSkus',
    '/organization': '/v1.0/organization',
    '/applications': '/v1.0/applications',
    '/applications/{id}': `/v1.0/applications(appId='${app.appId}')`,
    '/serviceprincipals': '/v1.0/servicePrincipals',
    '/serviceprincipals/{id}': `/v1.0/servicePrincipals/${app.servicePrincipalId}`,
    '/serviceprincipals/{id}/approleassignments': `/v1.0/servicePrincipals/${app.servicePrincipalId}/appRoleAssignments`,
  };
});
after(async () => {
  await emu?.close();
});

describe('401 InvalidAuthenticationToken', () => {
  let good: string;
  before(async () => {
    good = (await secretToken(tenant.id, app)).access_token;
    const ok = await graphGet(emu, '/v1.0/users', good);
    assert.equal(ok.status, 200, 'the unmodified token is accepted');
  });

  test('no token, an empty bearer, or another scheme → "Access token is empty." with WWW-Authenticate', async () => {
    assertGraphError(await graphGet(emu, '/v1.0/users'), 401, 'InvalidAuthenticationToken', EMPTY, 'no header');
    assertGraphError(await graphGet(emu, '/v1.0/users', ''), 401, 'InvalidAuthenticationToken', EMPTY, 'Bearer only');
    assertGraphError(await graphGet(emu, '/v1.0/users', undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401, 'InvalidAuthenticationToken', EMPTY, 'Basic');
  });

  test('client-request-id is echoed in the header and innerError of a 401', async () => {
    const id = randomUUID();
    const r = await graphGet(emu, '/v1.0/users', undefined, { 'client-request-id': id });
    assertGraphError(r, 401, 'InvalidAuthenticationToken', EMPTY);
    assert.equal(r.headers.get('client-request-id'), id);
    assert.equal(r.body.error.innerError['client-request-id'], id);
    assert.notEqual(r.body.error.innerError['request-id'], id);
  });

  test('malformed tokens', async () => {
    for (const t of ['not-a-jwt', 'a.b', 'a.b.c', '....', `${good.split('.').slice(0, 2).join('.')}`, `${good}.extra`, '%%%.%%%.%%%']) {
      assertGraphError(await graphGet(emu, '/v1.0/users', t), 401, 'InvalidAuthenticationToken', /./, t.slice(0, 20));
    }
  });

  test('a bad signature (bytes flipped) and a changed payload', async () => {
    const [h, p, s] = good.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10]! ^= 0xff;
    sig[sig.length - 1]! ^= 0x01;
    assertGraphError(await graphGet(emu, '/v1.0/users', `${h}.${p}.${sig.toString('base64url')}`), 401, 'InvalidAuthenticationToken', /signature/i, 'flipped');
    const claims = { ...decodeJwt(good), roles: ['Directory.ReadWrite.All'] };
    assertGraphError(await graphGet(emu, '/v1.0/users', `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`), 401, 'InvalidAuthenticationToken', /./, 'payload changed');
  });

  test('alg: none (unsigned token with valid claims)', async () => {
    const claims = decodeJwt(good);
    for (const alg of ['none', 'None', 'NONE']) {
      const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg })).toString('base64url');
      const unsigned = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
      assertGraphError(await graphGet(emu, '/v1.0/users', unsigned), 401, 'InvalidAuthenticationToken', /./, alg);
    }
    const hs = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS256' })).toString('base64url');
    assertGraphError(await graphGet(emu, '/v1.0/users', `${hs}.${good.split('.')[1]}.${Buffer.from('x').toString('base64url')}`), 401, 'InvalidAuthenticationToken', /./, 'HS256');
  });

  test('expired and not-yet-valid tokens minted with issuedAt', async () => {
    const expired = await mintToken(emu, { issuedAt: '-2h', lifetimeSeconds: 3599 });
    assert.ok(decodeJwt(expired).exp! * 1000 < Date.now() - 3_000_000);
    assertGraphError(await graphGet(emu, '/v1.0/users', expired), 401, 'InvalidAuthenticationToken', EXPIRED, 'expired');
    const future = await mintToken(emu, { issuedAt: '+1h' });
    assertGraphError(await graphGet(emu, '/v1.0/users', future), 401, 'InvalidAuthenticationToken', EXPIRED, 'not yet valid');
    // Inside Graph's five-minute skew the token is still accepted.
    const recent = await mintToken(emu, { issuedAt: '-62m', lifetimeSeconds: 3600 });
    assert.equal((await graphGet(emu, '/v1.0/users', recent)).status, 200);
  });

  test('a real token expires when the emulator clock moves on', async () => {
    const t = (await secretToken(tenant.id, app)).access_token;
    assert.equal((await graphGet(emu, '/v1.0/users', t)).status, 200);
    try {
      await emu.control('/clock', 'POST', { advance: '2h' });
      assertGraphError(await graphGet(emu, '/v1.0/users', t), 401, 'InvalidAuthenticationToken', EXPIRED);
    } finally {
      await emu.control('/clock', 'POST', { now: new Date().toISOString() });
    }
    assert.equal((await graphGet(emu, '/v1.0/users', t)).status, 200, 'valid again once the clock is back');
  });

  test('wrong audience: a real Exchange Online token from the token endpoint', async () => {
    const outlook = (await secretToken(tenant.id, app, 'https://outlook.office365.com/.default')).access_token;
    assert.equal(decodeJwt(outlook).aud, 'https://outlook.office365.com');
    assertGraphError(await graphGet(emu, '/v1.0/users', outlook), 401, 'InvalidAuthenticationToken', BAD_AUDIENCE);
    const mgmt = (await secretToken(tenant.id, app, 'https://management.azure.com/.default')).access_token;
    assertGraphError(await graphGet(emu, '/v1.0/users', mgmt), 401, 'InvalidAuthenticationToken', BAD_AUDIENCE);
    // Graph also accepts its app id as the audience.
    const byId = await mintToken(emu, { audience: '00000003-0000-0000-c000-000000000000' });
    assert.equal((await graphGet(emu, '/v1.0/users', byId)).status, 200);
  });

  test('a token from a tenant the emulator does not serve, or whose iss and tid disagree', async () => {
    const other = randomUUID();
    const foreign = await mintToken(emu, { claims: { tid: other, iss: `https://sts.windows.net/${other}/`, idp: `https://sts.windows.net/${other}/` } });
    assertGraphError(await graphGet(emu, '/v1.0/users', foreign), 401, 'InvalidAuthenticationToken', /./, 'foreign tenant');
    const mixed = await mintToken(emu, { claims: { iss: `https://sts.windows.net/${other}/` } });
    assertGraphError(await graphGet(emu, '/v1.0/users', mixed), 401, 'InvalidAuthenticationToken', /./, 'iss of another tenant');
    const v2iss = await mintToken(emu, { claims: { iss: `https://login.microsoftonline.com/${other}/v2.0` } });
    assertGraphError(await graphGet(emu, '/v1.0/users', v2iss), 401, 'InvalidAuthenticationToken', /./, 'v2 iss of another tenant');
  });

  test('401 comes before any role or path check', async () => {
    assertGraphError(await graphGet(emu, `/v1.0/users/${randomUUID()}/licenseDetails`), 401, 'InvalidAuthenticationToken', EMPTY);
  });
});

describe('403 Authorization_RequestDenied on directory paths', () => {
  test('a token with only unrelated roles is refused on every directory path', async () => {
    const t = await mintToken(emu, { claims: { roles: ['Mail.Read'] } });
    for (const [template, path] of Object.entries(paths)) {
      assertGraphError(await graphGet(emu, path, t), 403, 'Authorization_RequestDenied', DENIED, template);
    }
  });

  test('a token with no roles claim is refused', async () => {
    const t = await mintToken(emu, { claims: { roles: null } });
    assert.equal(decodeJwt(t).roles, undefined);
    for (const [template, path] of Object.entries(paths)) {
      assertGraphError(await graphGet(emu, path, t), 403, 'Authorization_RequestDenied', DENIED, template);
    }
  });

  test('a delegated token (scp, idtyp user) is refused, with or without roles', async () => {
    const withRoles = await mintToken(emu, { claims: { scp: 'User.Read', idtyp: 'user' } });
    assert.ok(Array.isArray(decodeJwt(withRoles).roles));
    const withoutRoles = await mintToken(emu, { claims: { scp: 'User.Read User.Read.All Directory.Read.All', idtyp: 'user', roles: null } });
    for (const t of [withRoles, withoutRoles]) {
      for (const [template, path] of Object.entries(paths)) {
        assertGraphError(await graphGet(emu, path, t), 403, 'Authorization_RequestDenied', DENIED, template);
      }
    }
  });
});

describe('the role gate follows Microsoft’s permission table for every served path', () => {
  const grants = applicationGrants();
  for (const template of SERVED_PATHS.filter((p) => !p.startsWith('/copilot'))) {
    test(template, async () => {
      const listed = grants.get(template);
      assert.ok(listed && listed.length > 0, `Microsoft's data lists application permissions for ${template}`);
      const least = listed.filter((g) => g.least);
      assert.ok(least.length > 0, `a least-privileged application permission for ${template}`);
      const path = paths[template];
      assert.ok(path, `a concrete request for ${template}`);
      // Each least-privileged permission alone opens the path; so does every other listed one.
      for (const g of [...least, ...listed.filter((x) => !x.least)]) {
        const t = await mintToken(emu, { claims: { roles: [g.name] } });
        const r = await graphGet(emu, path!, t);
        assert.equal(r.status, 200, `${template} with only ${g.name}${g.least ? ' (least)' : ''}: ${r.text.slice(0, 300)}`);
      }
      const unrelated = UNRELATED_ROLES.filter((n) => !listed.some((g) => g.name === n));
      assert.ok(unrelated.length > 0);
      const t = await mintToken(emu, { claims: { roles: unrelated } });
      assertGraphError(await graphGet(emu, path!, t), 403, 'Authorization_RequestDenied', DENIED, `${template} with ${unrelated.join(', ')}`);
    });
  }
});

describe('failure-mode scenarios (scenarios/auth/)', () => {
  afterEach(restoreDemo);

  async function load(name: string) {
    await emu.control('/scenario', 'POST', scenarioObject(authScenario(name)));
    return defaults(emu);
  }

  test('missing-role: only unrelated roles consented → 403 on directory paths', async () => {
    const { tenant: t, app: a } = await load('missing-role');
    const token = (await secretToken(t.id, a)).access_token;
    assert.deepEqual([...(decodeJwt(token).roles as string[])].sort(), ['Mail.Read', 'MailboxSettings.Read']);
    for (const p of ['/v1.0/users', '/v1.0/subscribedSkus', '/v1.0/organization', `/v1.0/servicePrincipals/${a.servicePrincipalId}/appRoleAssignments`]) {
      assertGraphError(await graphGet(emu, p, token), 403, 'Authorization_RequestDenied', DENIED, p);
    }
  });

  test('no-consent: requested but never consented → token without roles, 403, no appRoleAssignments', async () => {
    const { tenant: t, app: a } = await load('no-consent');
    assert.deepEqual(a.roles, []);
    assert.ok(a.permissions.includes('AiEnterpriseInteraction.Read.All'));
    const token = (await secretToken(t.id, a)).access_token;
    assert.equal(decodeJwt(token).roles, undefined);
    assertGraphError(await graphGet(emu, '/v1.0/users', token), 403, 'Authorization_RequestDenied', DENIED);
    // An administrator's view (a token with Application.Read.All) shows no assignments.
    const admin = await mintToken(emu, { claims: { roles: ['Application.Read.All'] } });
    const ra = await graphGet(emu, `/v1.0/servicePrincipals/${a.servicePrincipalId}/appRoleAssignments`, admin);
    assert.equal(ra.status, 200, ra.text);
    assert.deepEqual(ra.body.value, []);
  });

  test('consent-pending: a token issued before the grant keeps lacking the roles; a new one has them', async () => {
    const { tenant: t, app: a } = await load('consent-pending');
    const before = (await secretToken(t.id, a)).access_token;
    assert.equal(decodeJwt(before).roles, undefined);
    assertGraphError(await graphGet(emu, '/v1.0/users', before), 403, 'Authorization_RequestDenied', DENIED);
    await emu.control('/clock', 'POST', { advance: '2h' });
    assertGraphError(await graphGet(emu, '/v1.0/users', before), 403, 'Authorization_RequestDenied', DENIED, 'old token, after the grant');
    const afterGrant = (await secretToken(t.id, a)).access_token;
    assert.deepEqual([...(decodeJwt(afterGrant).roles as string[])].sort(), ['AiEnterpriseInteraction.Read.All', 'User.Read.All']);
    assert.equal((await graphGet(emu, '/v1.0/users', afterGrant)).status, 200);
  });

  test('wrong-audience: the default client’s scope gives an Exchange token → 401 Invalid audience', async () => {
    const { tenant: t, app: a } = await load('wrong-audience');
    assert.equal(t.default.scope, 'https://outlook.office365.com/.default');
    const token = (await secretToken(t.id, a, t.default.scope)).access_token;
    assert.equal(decodeJwt(token).aud, 'https://outlook.office365.com');
    assertGraphError(await graphGet(emu, '/v1.0/users', token), 401, 'InvalidAuthenticationToken', BAD_AUDIENCE);
  });

  test('other-tenant: the app is not in the other tenant; each tenant’s token sees its own directory only', async () => {
    const { tenant: contoso, app: reader, all } = await load('other-tenant');
    const fabrikam = all.find((x: any) => x.domain === 'fabrikam.onmicrosoft.com');
    assert.ok(fabrikam);
    // The Contoso app's credentials at Fabrikam's token endpoint.
    const wrong = await tokenRequest(emu, fabrikam.id, { grant_type: 'client_credentials', client_id: reader.appId, client_secret: reader.secrets[0].value, scope: 'https://graph.microsoft.com/.default' });
    assertAadsts(wrong, 400, 'unauthorized_client', 700016);
    // Fabrikam's own token lists Fabrikam's users, and Contoso's users are not found.
    const fab = (await secretToken(fabrikam.id, fabrikam.apps[0])).access_token;
    assert.equal(decodeJwt(fab).tid, fabrikam.id);
    const list = await graphGet(emu, '/v1.0/users', fab);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.value.map((u: any) => u.userPrincipalName), ['bianca.pisani@fabrikam.onmicrosoft.com']);
    assertGraphError(await graphGet(emu, `/v1.0/users/${contoso.default.userId}`, fab), 404, 'Request_ResourceNotFound');
    // A Contoso token whose tid names Fabrikam but whose iss names Contoso is not valid.
    const mixed = await mintToken(emu, { claims: { tid: fabrikam.id } });
    assertGraphError(await graphGet(emu, '/v1.0/users', mixed), 401, 'InvalidAuthenticationToken', /./);
    // A token for a tenant outside the scenario.
    const stranger = randomUUID();
    const foreign = await mintToken(emu, { claims: { tid: stranger, iss: `https://sts.windows.net/${stranger}/` } });
    assertGraphError(await graphGet(emu, '/v1.0/users', foreign), 401, 'InvalidAuthenticationToken', /./);
  });

  test('expired-token: a 60-second token and a frozen clock; moving the clock expires it', async () => {
    const { tenant: t, app: a } = await load('expired-token');
    const clock = await emu.control('/clock');
    assert.equal(clock.now, '2026-03-02T09:00:00.000Z');
    assert.equal(clock.frozen, true);
    const issued = await secretToken(t.id, a);
    assert.equal(issued.expires_in, 60);
    const c = decodeJwt(issued.access_token);
    assert.equal(c.iat, Date.parse('2026-03-02T09:00:00Z') / 1000);
    assert.equal(c.exp! - c.iat!, 60);
    const ok = await graphGet(emu, '/v1.0/users', issued.access_token);
    assert.equal(ok.status, 200, ok.text);
    await emu.control('/clock', 'POST', { advance: '10m' });
    assertGraphError(await graphGet(emu, '/v1.0/users', issued.access_token), 401, 'InvalidAuthenticationToken', EXPIRED);
    const fresh = (await secretToken(t.id, a)).access_token;
    assert.equal((await graphGet(emu, '/v1.0/users', fresh)).status, 200, 'a new token works');
  });

  test('delegated-only: the app-only token has no roles; a delegated token is refused too', async () => {
    const { tenant: t, app: a } = await load('delegated-only');
    const token = (await secretToken(t.id, a)).access_token;
    assert.equal(decodeJwt(token).roles, undefined);
    assert.equal(decodeJwt(token).scp, undefined);
    assertGraphError(await graphGet(emu, '/v1.0/users', token), 403, 'Authorization_RequestDenied', DENIED);
    const delegated = await mintToken(emu, { claims: { scp: 'User.Read.All', idtyp: 'user', roles: null } });
    assertGraphError(await graphGet(emu, '/v1.0/users', delegated), 403, 'Authorization_RequestDenied', DENIED);
  });

  test('rsc-only: the RSC grant is not in the tenant-wide token → 403', async () => {
    const { tenant: t, app: a } = await load('rsc-only');
    const token = (await secretToken(t.id, a)).access_token;
    assert.equal(decodeJwt(token).roles, undefined);
    assertGraphError(await graphGet(emu, '/v1.0/users', token), 403, 'Authorization_RequestDenied', DENIED);
  });

  test('every scenario under scenarios/auth/ loads', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(authScenario('x').replace(/x\.yaml$/, '')).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 9);
    for (const f of files) {
      const r = await emu.control('/scenario', 'POST', scenarioObject(authScenario(f.replace(/\.yaml$/, ''))));
      assert.equal(r.ok, true, f);
    }
  });
});
