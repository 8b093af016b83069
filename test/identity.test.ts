// The emulator's Entra ID token service, over real HTTPS: the v1 access-token shape, every token
// error in Entra's shape (status, error, AADSTS code, ids), client assertions built by hand, other
// resources' audiences, and OpenID metadata + JWKS that verify what the endpoint issues.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import {
  ASSERTION_TYPE, GUID, assertAadsts, assertGraphAppToken, authScenario, clientAssertion, defaults, loadCert, scenarioObject, tokenRequest, SCENARIO_DIR,
  type SigningCert,
} from './fixtures/auth.js';

let emu: TestEmulator;
let tenant: any;
let app: any;
let legacy: any;
let cert: SigningCert;
let tokenEndpoint: string;

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const emulatorNow = async () => Math.floor(Date.parse((await emu.control('/clock')).now) / 1000);

const secretForm = (o: Record<string, string> = {}) => ({
  grant_type: 'client_credentials', client_id: app.appId, client_secret: app.secrets[0].value, scope: GRAPH_SCOPE, ...o,
});

async function assertionForm(assertion: string, o: Record<string, string> = {}) {
  return { grant_type: 'client_credentials', client_id: app.appId, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, scope: GRAPH_SCOPE, ...o };
}

before(async () => {
  emu = await withEmulator('demo');
  ({ tenant, app } = await defaults(emu));
  legacy = tenant.apps.find((a: any) => a.displayName === 'legacy reporting');
  cert = loadCert(app.certificates[0].certPath, app.certificates[0].keyPath);
  tokenEndpoint = `${emu.url}/${tenant.id}/oauth2/v2.0/token`;
});
after(async () => {
  await emu?.close();
});

function assertV1AppToken(token: string, appidacr: '1' | '2', nowSeconds: number, expiresIn: number): void {
  assertGraphAppToken(token, { tenantId: tenant.id, appId: app.appId, servicePrincipalId: app.servicePrincipalId, roles: app.roles, appidacr, nowSeconds, expiresIn });
  assert.ok(decodeJwt(token).roles!.toString().includes('AiEnterpriseInteraction.Read.All'));
}

describe('token endpoint: successful client-credentials grants', () => {
  test('client secret → Bearer token in the v1 claim shape with appidacr 1', async () => {
    const now = await emulatorNow();
    const r = await tokenRequest(emu, tenant.id, secretForm());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, 3599);
    assert.equal(typeof r.body.access_token, 'string');
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
    assertV1AppToken(r.body.access_token, '1', now, r.body.expires_in);
  });

  test('the tenant may be named by its domain', async () => {
    const r = await tokenRequest(emu, tenant.domain, secretForm());
    assert.equal(r.status, 200, r.text);
    assert.equal(decodeJwt(r.body.access_token).tid, tenant.id);
  });

  test('HTTP Basic client authentication (client_secret_basic) works', async () => {
    const enc = (s: string) => encodeURIComponent(s);
    const basic = Buffer.from(`${enc(app.appId)}:${enc(app.secrets[0].value)}`).toString('base64');
    const r = await tokenRequest(emu, tenant.id, { grant_type: 'client_credentials', scope: GRAPH_SCOPE }, { authorization: `Basic ${basic}` });
    assert.equal(r.status, 200, r.text);
    const c = decodeJwt(r.body.access_token);
    assert.equal(c.appid, app.appId);
    assert.equal(c.appidacr, '1');
    // A wrong secret in the Basic header is refused like a wrong form secret.
    const bad = Buffer.from(`${app.appId}:not-the-secret`).toString('base64');
    assertAadsts(await tokenRequest(emu, tenant.id, { grant_type: 'client_credentials', scope: GRAPH_SCOPE }, { authorization: `Basic ${bad}` }), 401, 'invalid_client', 7000215);
  });

  for (const alg of ['PS256', 'RS256'] as const) {
    test(`certificate assertion ${alg} (${alg === 'PS256' ? 'x5t#S256' : 'x5t'}) → appidacr 2`, async () => {
      const now = await emulatorNow();
      const assertion = await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, alg, nowSeconds: now });
      const r = await tokenRequest(emu, tenant.id, await assertionForm(assertion));
      assert.equal(r.status, 200, r.text);
      assertV1AppToken(r.body.access_token, '2', now, r.body.expires_in);
    });
  }

  test('an assertion addressed to login.microsoftonline.com/{tenant}/oauth2/v2.0/token is accepted', async () => {
    const now = await emulatorNow();
    for (const key of [tenant.id, tenant.domain]) {
      const assertion = await clientAssertion({ ...cert, clientId: app.appId, aud: `https://login.microsoftonline.com/${key}/oauth2/v2.0/token`, nowSeconds: now });
      const r = await tokenRequest(emu, tenant.id, await assertionForm(assertion));
      assert.equal(r.status, 200, `${key}: ${r.text}`);
    }
  });

  for (const [scope, aud, appId] of [
    ['https://outlook.office365.com/.default', 'https://outlook.office365.com', '00000002-0000-0ff1-ce00-000000000000'],
    ['https://management.azure.com/.default', 'https://management.azure.com', '797f4846-ba00-4fd7-ba43-dac1f8f63013'],
  ] as const) {
    test(`a token for ${aud} carries its own audience and no Graph roles`, async () => {
      const r = await tokenRequest(emu, tenant.id, secretForm({ scope }));
      assert.equal(r.status, 200, r.text);
      const c = decodeJwt(r.body.access_token);
      assert.equal(c.aud, aud);
      assert.equal(c.tid, tenant.id);
      assert.equal(c.iss, `https://sts.windows.net/${tenant.id}/`);
      assert.equal(c.roles, undefined, 'Graph application permissions are not roles of another resource');
      // The resource may also be named by its app id.
      const byId = await tokenRequest(emu, tenant.id, secretForm({ scope: `${appId}/.default` }));
      assert.equal(byId.status, 200, byId.text);
      assert.equal(decodeJwt(byId.body.access_token).aud, aud);
    });
  }

  test('the Graph resource may be named by its app id (00000003-…/.default)', async () => {
    const r = await tokenRequest(emu, tenant.id, secretForm({ scope: '00000003-0000-0000-c000-000000000000/.default' }));
    assert.equal(r.status, 200, r.text);
    assert.equal(decodeJwt(r.body.access_token).aud, 'https://graph.microsoft.com');
  });
});

describe('token endpoint: errors in Entra’s shape', () => {
  test('unknown tenant (by GUID and by domain) → 400 invalid_request AADSTS90002', async () => {
    assertAadsts(await tokenRequest(emu, randomUUID(), secretForm()), 400, 'invalid_request', 90002, 'guid');
    assertAadsts(await tokenRequest(emu, 'nowhere.onmicrosoft.com', secretForm()), 400, 'invalid_request', 90002, 'domain');
  });

  test('unknown app in the tenant → 400 unauthorized_client AADSTS700016', async () => {
    const r = await tokenRequest(emu, tenant.id, secretForm({ client_id: randomUUID() }));
    assertAadsts(r, 400, 'unauthorized_client', 700016);
    assert.match(r.body.error_description, new RegExp(tenant.domain.replace(/\./g, '\\.')));
  });

  test('client_id that is not a GUID → 400 AADSTS700038', async () => {
    assertAadsts(await tokenRequest(emu, tenant.id, secretForm({ client_id: 'copilog reader' })), 400, 'unauthorized_client', 700038);
  });

  test('wrong secret → 401 invalid_client AADSTS7000215', async () => {
    assertAadsts(await tokenRequest(emu, tenant.id, secretForm({ client_secret: 'definitely-not-the-secret' })), 401, 'invalid_client', 7000215);
  });

  test('expired secret (demo "legacy reporting") → 401 invalid_client AADSTS7000222', async () => {
    assert.ok(Date.parse(legacy.secrets[0].expiresAt) < Date.now(), 'the demo secret is expired');
    const r = await tokenRequest(emu, tenant.id, { grant_type: 'client_credentials', client_id: legacy.appId, client_secret: legacy.secrets[0].value, scope: GRAPH_SCOPE });
    assertAadsts(r, 401, 'invalid_client', 7000222);
  });

  test('no credential at all → 401 invalid_client', async () => {
    const r = await tokenRequest(emu, tenant.id, { grant_type: 'client_credentials', client_id: app.appId, scope: GRAPH_SCOPE });
    assertAadsts(r, 401, 'invalid_client', 7000218);
  });

  test('correlation_id is the caller’s client-request-id', async () => {
    const id = randomUUID();
    const r = await tokenRequest(emu, tenant.id, secretForm({ client_secret: 'wrong-secret-value' }), { 'client-request-id': id });
    assertAadsts(r, 401, 'invalid_client', 7000215);
    assert.equal(r.body.correlation_id, id);
  });

  describe('certificate credentials', () => {
    test('an unregistered certificate (a real cert and its key, not on the app) → 401 AADSTS700027', async () => {
      const ca = loadCert(join(emu.dataDir, 'pki', 'ca.crt'), join(emu.dataDir, 'pki', 'ca.key'));
      for (const alg of ['PS256', 'RS256'] as const) {
        const assertion = await clientAssertion({ ...ca, clientId: app.appId, aud: tokenEndpoint, alg, nowSeconds: await emulatorNow() });
        const r = await tokenRequest(emu, tenant.id, await assertionForm(assertion));
        assertAadsts(r, 401, 'invalid_client', 700027, alg);
        assert.match(r.body.error_description, /not registered/);
      }
    });

    test('assertion naming the registered certificate but signed by another key → 401 AADSTS700027', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      for (const alg of ['PS256', 'RS256'] as const) {
        const assertion = await clientAssertion({ certPem: cert.certPem, key: privateKey, clientId: app.appId, aud: tokenEndpoint, alg, nowSeconds: await emulatorNow() });
        assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(assertion)), 401, 'invalid_client', 700027, alg);
      }
    });

    test('assertion with a wrong audience → 401 AADSTS700027', async () => {
      for (const aud of [`${emu.url}/${randomUUID()}/oauth2/v2.0/token`, 'https://example.com/token', `${emu.url}/v1.0/users`, 'https://graph.microsoft.com']) {
        const assertion = await clientAssertion({ ...cert, clientId: app.appId, aud, nowSeconds: await emulatorNow() });
        assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(assertion)), 401, 'invalid_client', 700027, aud);
      }
    });

    test('assertion whose iss/sub is not the client_id → 401 AADSTS700021', async () => {
      const other = randomUUID();
      for (const claims of [{ iss: other, sub: other }, { iss: other }, { sub: other }]) {
        const assertion = await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, nowSeconds: await emulatorNow(), claims });
        assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(assertion)), 401, 'invalid_client', 700021, JSON.stringify(claims));
      }
    });

    test('expired assertion (and one without exp) → 401 AADSTS700024', async () => {
      const now = await emulatorNow();
      const expired = await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, nowSeconds: now - 7200 });
      assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(expired)), 401, 'invalid_client', 700024, 'expired');
      const future = await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, nowSeconds: now + 7200 });
      assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(future)), 401, 'invalid_client', 700024, 'not yet valid');
      const noExp = await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, nowSeconds: now, claims: { exp: undefined } });
      assert.equal(decodeJwt(noExp).exp, undefined);
      assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(noExp)), 401, 'invalid_client', 700024, 'no exp');
    });

    test('a replayed assertion (same jti) is refused the second time → 401 AADSTS700027', async () => {
      const assertion = await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, nowSeconds: await emulatorNow() });
      const first = await tokenRequest(emu, tenant.id, await assertionForm(assertion));
      assert.equal(first.status, 200, first.text);
      const second = await tokenRequest(emu, tenant.id, await assertionForm(assertion));
      assertAadsts(second, 401, 'invalid_client', 700027);
      assert.match(second.body.error_description, /jti/);
    });

    test('a malformed assertion, an unsupported alg, or a missing thumbprint header → 401 AADSTS700027', async () => {
      const now = await emulatorNow();
      assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm('not-a-jwt')), 401, 'invalid_client', 700027, 'garbage');
      const noX5t = await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, nowSeconds: now, header: { 'x5t#S256': undefined } });
      assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(noX5t)), 401, 'invalid_client', 700027, 'no x5t#S256');
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const { SignJWT } = await import('jose');
      const es256 = await new SignJWT({ aud: tokenEndpoint, iss: app.appId, sub: app.appId, jti: randomUUID(), exp: now + 600, nbf: now })
        .setProtectedHeader({ alg: 'ES256', x5t: 'AAAA' }).sign(ec.privateKey);
      assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(es256)), 401, 'invalid_client', 700027, 'ES256');
    });

    test('a wrong client_assertion_type → 400 invalid_request', async () => {
      const assertion = await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, nowSeconds: await emulatorNow() });
      assertAadsts(await tokenRequest(emu, tenant.id, await assertionForm(assertion, { client_assertion_type: 'jwt' })), 400, 'invalid_request', 50027);
    });
  });

  test('scope missing → 400 invalid_scope', async () => {
    const { scope: _omit, ...noScope } = secretForm();
    assertAadsts(await tokenRequest(emu, tenant.id, noScope), 400, 'invalid_scope', 70011, 'missing');
    assertAadsts(await tokenRequest(emu, tenant.id, secretForm({ scope: '' })), 400, 'invalid_scope', 70011, 'empty');
  });

  test('scope without /.default (client credentials) → 400 invalid_scope', async () => {
    for (const scope of ['https://graph.microsoft.com/User.Read.All', 'User.Read', 'https://graph.microsoft.com', 'openid', `${GRAPH_SCOPE} offline_access`]) {
      const r = await tokenRequest(emu, tenant.id, secretForm({ scope }));
      assertAadsts(r, 400, 'invalid_scope', 1002012, scope);
    }
  });

  test('unknown resource → 400 invalid_resource AADSTS500011', async () => {
    const r = await tokenRequest(emu, tenant.id, secretForm({ scope: 'https://unknown.example.com/.default' }));
    assertAadsts(r, 400, 'invalid_resource', 500011);
    assert.match(r.body.error_description, /https:\/\/unknown\.example\.com/);
  });

  test('unsupported grant type → 400 unsupported_grant_type AADSTS70003', async () => {
    for (const grant of ['password', 'authorization_code', 'urn:ietf:params:oauth:grant-type:device_code']) {
      assertAadsts(await tokenRequest(emu, tenant.id, secretForm({ grant_type: grant })), 400, 'unsupported_grant_type', 70003, grant);
    }
  });

  test('malformed requests: missing grant_type, missing client_id, JSON body instead of a form → 400 invalid_request AADSTS900144', async () => {
    const { grant_type: _g, ...noGrant } = secretForm();
    assertAadsts(await tokenRequest(emu, tenant.id, noGrant), 400, 'invalid_request', 900144, 'no grant_type');
    const { client_id: _c, ...noClient } = secretForm();
    const r = await tokenRequest(emu, tenant.id, noClient);
    assertAadsts(r, 400, 'invalid_request', 900144, 'no client_id');
    assert.match(r.body.error_description, /client_id/);
    const json = await emu.fetch(`/${tenant.id}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(secretForm()) });
    assertAadsts({ status: json.status, headers: json.headers, body: await json.json(), text: '' }, 400, 'invalid_request', 900144, 'json');
    const empty = await emu.fetch(`/${tenant.id}/oauth2/v2.0/token`, { method: 'POST' });
    assertAadsts({ status: empty.status, headers: empty.headers, body: await empty.json(), text: '' }, 400, 'invalid_request', 900144, 'no body');
  });
});

describe('OpenID metadata and JWKS', () => {
  test('metadata by tenant GUID and by domain name the emulator’s endpoints; JWKS verifies issued tokens', async () => {
    const tokens = [
      (await tokenRequest(emu, tenant.id, secretForm())).body.access_token as string,
      (await tokenRequest(emu, tenant.id, secretForm({ scope: 'https://outlook.office365.com/.default' }))).body.access_token as string,
      (await tokenRequest(emu, tenant.id, await assertionForm(await clientAssertion({ ...cert, clientId: app.appId, aud: tokenEndpoint, alg: 'RS256', nowSeconds: await emulatorNow() })))).body.access_token as string,
    ];
    for (const key of [tenant.id, tenant.domain]) {
      const r = await emu.fetch(`/${key}/v2.0/.well-known/openid-configuration`);
      assert.equal(r.status, 200, key);
      const meta = await r.json();
      assert.equal(meta.issuer, `${emu.url}/${tenant.id}/v2.0`, key);
      assert.equal(meta.token_endpoint, `${emu.url}/${tenant.id}/oauth2/v2.0/token`);
      assert.equal(meta.authorization_endpoint, `${emu.url}/${tenant.id}/oauth2/v2.0/authorize`);
      assert.equal(meta.jwks_uri, `${emu.url}/${tenant.id}/discovery/v2.0/keys`);
      assert.ok(meta.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
      const jr = await emu.fetch(meta.jwks_uri);
      assert.equal(jr.status, 200);
      const jwks = await jr.json();
      assert.ok(Array.isArray(jwks.keys) && jwks.keys.length > 0);
      for (const k of jwks.keys) {
        assert.equal(k.kty, 'RSA');
        assert.equal(k.use, 'sig');
        assert.equal(typeof k.kid, 'string');
      }
      const keySet = createLocalJWKSet(jwks);
      for (const t of tokens) {
        const header = decodeProtectedHeader(t);
        assert.equal(header.alg, 'RS256');
        assert.ok(jwks.keys.some((k: any) => k.kid === header.kid), 'the token’s kid is in the JWKS');
        const { payload } = await jwtVerify(t, keySet);
        assert.equal(payload.tid, tenant.id);
      }
      // A token changed after signing does not verify.
      const [h, p, s] = tokens[0]!.split('.');
      const forged = Buffer.from(JSON.stringify({ ...decodeJwt(tokens[0]!), roles: ['Directory.ReadWrite.All'] })).toString('base64url');
      await assert.rejects(jwtVerify(`${h}.${forged}.${s}`, keySet));
      void p;
    }
  });

  test('metadata for an unknown tenant → 400 AADSTS90002', async () => {
    const r = await emu.fetch(`/${randomUUID()}/v2.0/.well-known/openid-configuration`);
    assertAadsts({ status: r.status, headers: r.headers, body: await r.json(), text: '' }, 400, 'invalid_request', 90002);
  });
});

describe('expired registered certificate (scenarios/auth/expired-certificate.yaml)', () => {
  test('an assertion signed with the expired certificate → 401 AADSTS700027', async () => {
    await emu.control('/scenario', 'POST', scenarioObject(authScenario('expired-certificate')));
    try {
      const { tenant: t, app: a } = await defaults(emu);
      assert.equal(t.domain, 'expiredcert.onmicrosoft.com');
      const c = a.certificates[0];
      assert.ok(Date.parse(c.notAfter) < Date.now(), 'the registered certificate is expired');
      const signer = loadCert(c.certPath, c.keyPath);
      for (const alg of ['PS256', 'RS256'] as const) {
        const assertion = await clientAssertion({ ...signer, clientId: a.appId, aud: `${emu.url}/${t.id}/oauth2/v2.0/token`, alg, nowSeconds: await emulatorNow() });
        const r = await tokenRequest(emu, t.id, { grant_type: 'client_credentials', client_id: a.appId, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, scope: GRAPH_SCOPE });
        assertAadsts(r, 401, 'invalid_client', 700027, alg);
        assert.match(r.body.error_description, /expired/);
      }
    } finally {
      await emu.control('/scenario', 'POST', scenarioObject(join(SCENARIO_DIR, 'demo.yaml')));
    }
  });

  test('an expired secret (scenarios/auth/expired-secret.yaml) → AADSTS7000222, a wrong one → AADSTS7000215', async () => {
    await emu.control('/scenario', 'POST', scenarioObject(authScenario('expired-secret')));
    try {
      const { tenant: t, app: a } = await defaults(emu);
      const form = { grant_type: 'client_credentials', client_id: a.appId, client_secret: a.secrets[0].value, scope: GRAPH_SCOPE };
      assertAadsts(await tokenRequest(emu, t.id, form), 401, 'invalid_client', 7000222);
      assertAadsts(await tokenRequest(emu, t.id, { ...form, client_secret: 'some-other-value' }), 401, 'invalid_client', 7000215);
      assert.match(t.id, GUID);
    } finally {
      await emu.control('/scenario', 'POST', scenarioObject(join(SCENARIO_DIR, 'demo.yaml')));
    }
  });
});
