// Bad input never crashes the emulator: property-based fuzzing (fast-check) of the token endpoint
// (random form fields and values, random bytes, huge values, wrong content types, odd tenants)
// and of Graph's $filter/$top/$select/$count on /users, over the real HTTPS server. Every answer
// must be a 200 or a well-formed AADSTS or Graph error, never a 5xx, and the server must still
// answer afterwards. Bounded to a few hundred requests per property.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fetch as undiciFetch } from 'undici';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import { ASSERTION_TYPE, defaults, isAadstsError, isGraphError, type Reply } from './fixtures/auth.js';
import { jsonOrUndefined } from './support/interactions.js';

let emu: TestEmulator;
let tenant: any;
let app: any;
let graphToken: string;

const RUNS = Number(process.env.COPILOG_FUZZ_RUNS ?? 250);
const SEED = process.env.COPILOG_FUZZ_SEED ? Number(process.env.COPILOG_FUZZ_SEED) : undefined;
/** fast-check's report, cut short: counterexamples may hold megabytes. */
function reporter<T>(d: fc.RunDetails<T>): void {
  if (!d.failed) return;
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
  const example = cut(fc.stringify(d.counterexample), 1500);
  const cause = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance);
  throw new Error(`Property failed after ${d.numRuns} runs (seed ${d.seed}, path "${d.counterexamplePath}")\ncounterexample: ${example}\n${cut(cause, 1500)}`);
}
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true, reporter: reporter as (d: fc.RunDetails<any>) => void };

async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Reply> {
  const res = await undiciFetch(emu.url + path, { method: init.method ?? 'GET', headers: init.headers, body: init.body, dispatcher: emu.agent });
  const text = await res.text();
  const body = jsonOrUndefined(text);
  return { status: res.status, headers: res.headers as unknown as Headers, body, text };
}

/** /v1.0/… and /beta/… are Graph's whatever follows; any other first segment before /oauth2/… or /v2.0/… is a tenant. */
const serviceOf = (tenantKey: string): 'identity' | 'graph' => (/^(v1\.0|beta)$/i.test(tenantKey) ? 'graph' : 'identity');

/** A 200 the caller accepts, or an error in the shape of the service the path belongs to. */
function assertWellFormed(r: Reply, what: string, ok: (r: Reply) => boolean, service: 'identity' | 'graph'): void {
  assert.ok(r.status < 500, `${what} → ${r.status} ${r.text.slice(0, 300)}`);
  const shaped = service === 'identity' ? isAadstsError(r) : isGraphError(r);
  assert.ok(ok(r) || shaped, `${what} → ${r.status}, not a well-formed ${service === 'identity' ? 'AADSTS' : 'Graph'} answer: ${r.text.slice(0, 300)}`);
}

async function stillAlive(): Promise<void> {
  const h = await send('/_emulator/health');
  assert.equal(h.status, 200);
  const t = await send(`/${tenant.id}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.appId, client_secret: app.secrets[0].value, scope: 'https://graph.microsoft.com/.default' }).toString(),
  });
  assert.equal(t.status, 200, t.text);
  const g = await send('/v1.0/users?$top=1', { headers: { authorization: `Bearer ${t.body.access_token}` } });
  assert.equal(g.status, 200, g.text);
}

before(async () => {
  emu = await withEmulator('demo');
  ({ tenant, app } = await defaults(emu));
  graphToken = await emu.token();
});
after(async () => {
  await emu?.close();
});

const isTokenResponse = (r: Reply) => r.status === 200 && r.body?.token_type === 'Bearer' && typeof r.body.access_token === 'string';

describe('token endpoint fuzzing', () => {
  const FIELDS = ['grant_type', 'client_id', 'client_secret', 'scope', 'client_assertion', 'client_assertion_type', 'resource', 'tenant', 'assertion', 'requested_token_use', '__proto__', 'constructor', 'toString', 'hasOwnProperty'];
  const goodValue = (k: string): string => {
    const good: Record<string, string> = {
    grant_type: 'client_credentials', client_id: app.appId, client_secret: app.secrets[0].value, scope: 'https://graph.microsoft.com/.default',
    client_assertion_type: ASSERTION_TYPE, client_assertion: 'eyJhbGciOiJQUzI1NiJ9.e30.', resource: 'https://graph.microsoft.com',
    };
    return Object.hasOwn(good, k) ? good[k]! : 'x';
  };

  const value = (key: string) => fc.oneof(
    fc.constant(goodValue(key)),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom('', ' ', '\u0000', '%', '%zz', '+', '&=&', 'null', '[]', '{}', "' OR 1=1 --", '../../etc/passwd', 'client_credentials ', 'CLIENT_CREDENTIALS', '/.default', ' /.default', 'https://graph.microsoft.com/.default https://outlook.office365.com/.default', 'a.b.c', `${'A'.repeat(2000)}.${'B'.repeat(2000)}.C`),
    fc.uuid().map(String),
    fc.integer({ min: 1, max: 200_000 }).map((n) => 'x'.repeat(n)),
  );

  const form = fc.uniqueArray(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ minLength: 1, maxLength: 12 })), { maxLength: 8 })
    .chain((keys) => fc.tuple(...keys.map((k) => value(k).map((v) => [k, v] as [string, string]))))
    .chain((pairs) => fc.tuple(fc.constant(pairs), fc.boolean()).map(([p, dup]) => (dup && p.length ? [...p, p[0]!] : p)));

  const contentType = fc.constantFrom(
    'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'APPLICATION/X-WWW-FORM-URLENCODED',
    'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', '', '*/*', ';;;', 'application/x-www-form-urlencoded; charset=utf-16',
  );

  const tenantSegment = fc.oneof(
    fc.constant(tenant?.id ?? 'x'),
    fc.constantFrom('common', 'organizations', 'consumers', 'contoso.onmicrosoft.com', '00000000-0000-0000-0000-000000000000', 'v1.0', 'beta', '_emulator', '..', '%2e%2e', '%00', 'a%2Fb'),
    fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent),
  );

  test('random forms, content types and tenants', async () => {
    await fc.assert(fc.asyncProperty(tenantSegment, form, contentType, fc.boolean(), async (t, pairs, ct, basic) => {
      const tenantKey = t === 'x' ? tenant.id : t;
      const headers: Record<string, string> = ct ? { 'content-type': ct } : {};
      // (within Node's 16 kB header limit; oversized headers are tested on their own below)
      if (basic) headers.authorization = `Basic ${Buffer.from(`${app.appId}:${(pairs[0]?.[1] ?? '').slice(0, 4000)}`).toString('base64')}`;
      const body = ct.startsWith('application/json') ? JSON.stringify(Object.fromEntries(pairs)) : new URLSearchParams(pairs).toString();
      const r = await send(`/${tenantKey}/oauth2/v2.0/token`, { method: 'POST', headers, body });
      assertWellFormed(r, `POST /${tenantKey}/oauth2/v2.0/token [${ct}] ${body.slice(0, 200)}`, isTokenResponse, serviceOf(tenantKey));
    }), params);
    await stillAlive();
  });

  test('the real tenant with mostly valid forms (deep paths: scope, resource, secret, assertion)', async () => {
    const nearlyValid = fc.record({
      grant_type: fc.oneof(fc.constant('client_credentials'), fc.string({ maxLength: 20 })),
      client_id: fc.oneof(fc.constant(app.appId as string), fc.uuid().map(String), fc.string({ maxLength: 40 })),
      scope: fc.oneof(
        fc.constantFrom('https://graph.microsoft.com/.default', 'https://outlook.office365.com/.default', '00000003-0000-0000-c000-000000000000/.default', 'https://graph.microsoft.com//.default', '.default', '/.default', 'https://graph.microsoft.com/User.Read'),
        fc.webUrl().map((u) => `${u}/.default`),
        fc.string({ maxLength: 60 }),
      ),
      cred: fc.oneof(
        fc.record({ client_secret: fc.oneof(fc.constant(app.secrets[0].value as string), fc.string({ maxLength: 60 })) }),
        fc.record({
          client_assertion_type: fc.oneof(fc.constant(ASSERTION_TYPE), fc.string({ maxLength: 20 })),
          client_assertion: fc.oneof(
            fc.string({ maxLength: 200 }),
            fc.tuple(fc.json(), fc.json(), fc.string({ maxLength: 40 })).map(([h, p, s]) => `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.${Buffer.from(s).toString('base64url')}`),
            fc.record({ alg: fc.constantFrom('PS256', 'RS256', 'none', 'HS256', 'ES256', ''), x5t: fc.string({ maxLength: 30 }), 'x5t#S256': fc.string({ maxLength: 50 }) }, { requiredKeys: [] })
              .chain((h) => fc.json().map((p) => `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from(p).toString('base64url')}.AAAA`)),
          ),
        }, { requiredKeys: [] }),
      ),
    });
    await fc.assert(fc.asyncProperty(nearlyValid, async (f) => {
      const { cred, ...rest } = f;
      const body = new URLSearchParams({ ...rest, ...(cred as Record<string, string>) }).toString();
      const r = await send(`/${tenant.id}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      assertWellFormed(r, `POST token ${body.slice(0, 300)}`, isTokenResponse, 'identity');
    }), params);
    await stillAlive();
  });

  test('random bytes as the body, under every content type', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), contentType, async (bytes, ct) => {
      const r = await send(`/${tenant.id}/oauth2/v2.0/token`, { method: 'POST', headers: ct ? { 'content-type': ct } : {}, body: bytes });
      assertWellFormed(r, `POST token [${ct}] ${bytes.length} random bytes`, isTokenResponse, 'identity');
    }), { ...params, numRuns: Math.ceil(RUNS / 2) });
    await stillAlive();
  });

  test('huge values: a 1 MB secret, a 9 MB body (over the body limit), a 10 kB tenant segment, 5,000 fields', async () => {
    const huge = async (path: string, body: string, ct = 'application/x-www-form-urlencoded') => {
      const r = await send(path, { method: 'POST', headers: { 'content-type': ct }, body });
      assertWellFormed(r, `${path.slice(0, 60)} ${body.length} bytes`, isTokenResponse, 'identity');
      return r;
    };
    const base = { grant_type: 'client_credentials', client_id: app.appId, scope: 'https://graph.microsoft.com/.default' };
    const r1 = await huge(`/${tenant.id}/oauth2/v2.0/token`, new URLSearchParams({ ...base, client_secret: 's'.repeat(1 << 20) }).toString());
    assert.equal(r1.status, 401);
    await huge(`/${tenant.id}/oauth2/v2.0/token`, new URLSearchParams({ ...base, client_secret: 's'.repeat(9 << 20) }).toString());
    await huge(`/${'t'.repeat(10_000)}/oauth2/v2.0/token`, new URLSearchParams(base).toString());
    const many = new URLSearchParams(base);
    for (let i = 0; i < 5000; i++) many.append(`f${i}`, String(i));
    await huge(`/${tenant.id}/oauth2/v2.0/token`, many.toString());
    await huge(`/${tenant.id}/oauth2/v2.0/token`, JSON.stringify({ ...base, nested: Array.from({ length: 2000 }, () => ({ a: [1, 2, 3] })) }), 'application/json');
    // Headers over Node's 16 kB limit are refused by the HTTP parser itself (431), not a 5xx.
    const big = await send(`/${tenant.id}/oauth2/v2.0/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${'A'.repeat(20_000)}` }, body: new URLSearchParams(base).toString(),
    });
    assert.equal(big.status, 431);
    await stillAlive();
  });

  test('other methods on the token endpoint and metadata for random tenants', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), tenantSegment, async (method, t) => {
      const tenantKey = t === 'x' ? tenant.id : t;
      const r = await send(`/${tenantKey}/oauth2/v2.0/token`, { method });
      assertWellFormed(r, `${method} /${tenantKey}/oauth2/v2.0/token`, () => method === 'OPTIONS' && r.status < 300, serviceOf(tenantKey));
      const m = await send(`/${tenantKey}/v2.0/.well-known/openid-configuration`);
      assertWellFormed(m, `GET /${tenantKey}/v2.0/.well-known/openid-configuration`, (x) => x.status === 200 && typeof x.body?.issuer === 'string', serviceOf(tenantKey));
    }), { ...params, numRuns: Math.ceil(RUNS / 4) });
    await stillAlive();
  });
});

describe('Graph query-option fuzzing on /users', () => {
  const PROPS = ['id', 'displayName', 'userPrincipalName', 'userType', 'accountEnabled', 'mail', 'usageLocation', 'createdDateTime', 'assignedLicenses', 'givenName', 'surname', 'noSuchProp', 'assignedLicenses/skuId', 'x/y'];
  const literal = fc.oneof(
    fc.string({ maxLength: 12 }).map((s) => `'${s.replace(/'/g, "''")}'`),
    fc.string({ maxLength: 12 }).map((s) => `'${s}'`),
    fc.integer().map(String),
    fc.double({ noNaN: false }).map(String),
    fc.constantFrom('true', 'false', 'null', '639dec6b-bb19-468b-871c-c5c441c4b0cb', '2026-01-01T00:00:00Z', "'Guest'", "'Member'", 'INF', '-INF', 'NaN', "''", "'"),
  );
  const filterExpr: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(fc.constantFrom(...PROPS), fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in', 'has', 'EQ', 'eq eq'), literal).map(([p, o, l]) => `${p} ${o} ${l}`),
      fc.tuple(fc.constantFrom('startsWith', 'endsWith', 'contains', 'tolower', 'length', 'startswith', 'nope'), fc.constantFrom(...PROPS), literal).map(([f, p, l]) => `${f}(${p},${l})`),
      fc.tuple(fc.constantFrom('any', 'all'), fc.constantFrom('x', 'y', ''), fc.constantFrom('skuId', 'disabledPlans', ''), literal).map(([q, v, p, l]) => `assignedLicenses/${q}(${v}:${v}/${p} eq ${l})`),
      fc.tuple(tie('expr'), fc.constantFrom('and', 'or', 'AND', ''), tie('expr')).map(([a, o, b]) => `${a} ${o} ${b}`),
      tie('expr').map((e) => `not (${e})`),
      tie('expr').map((e) => `(${e}`),
      tie('expr').map((e) => `(${e})`),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
    ),
  })).expr;

  const top = fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), fc.constantFrom('', '1e3', '0x10', '3.5', '99999999999999999999', ' 5', '+5', '５'), fc.string({ maxLength: 6 }));
  const select = fc.oneof(
    fc.uniqueArray(fc.constantFrom(...PROPS), { maxLength: 5 }).map((a) => a.join(',')),
    fc.constantFrom('', ',', 'id,', '*', 'id displayName', '$value'),
    fc.string({ maxLength: 20 }),
  );
  const options = fc.record({ $filter: filterExpr, $top: top, $select: select, $count: fc.constantFrom('true', 'false', 'TRUE', 'yes', ''), $skiptoken: fc.oneof(fc.string({ maxLength: 10 }), fc.constant('bzU')), $orderby: fc.constantFrom('displayName', 'x desc', '') }, { requiredKeys: [] });

  test('random $filter/$top/$select/$count/$skiptoken (sometimes repeated) never crash /users', async () => {
    await fc.assert(fc.asyncProperty(options, fc.boolean(), fc.boolean(), async (o, repeat, eventual) => {
      const sp = new URLSearchParams(o as Record<string, string>);
      if (repeat) for (const [k, v] of [...sp.entries()].slice(0, 2)) sp.append(k, v);
      const path = `/v1.0/users?${sp.toString()}`;
      const r = await send(path, { headers: { authorization: `Bearer ${graphToken}`, ...(eventual ? { ConsistencyLevel: 'eventual' } : {}) } });
      assertWellFormed(r, `GET ${path}`, (x) => x.status === 200 && Array.isArray(x.body?.value), 'graph');
      if (r.status >= 400) assert.equal(r.status, 400, `a bad query is a 400: GET ${path} → ${r.text.slice(0, 200)}`);
    }), params);
    await stillAlive();
  });

  test('raw (not URL-encoded) query strings and odd paths', async () => {
    const raw = fc.string({ maxLength: 60 }).map((s) => s.replace(/[#\s]/g, ''));
    await fc.assert(fc.asyncProperty(raw, fc.constantFrom('users', 'users/', 'subscribedSkus', 'organization', 'servicePrincipals', 'users(', "users('x", 'users/%', 'users/%00/licenseDetails'), async (query, p) => {
      let path = `/v1.0/${p}?${query}`;
      try {
        new URL(emu.url + path);
      } catch {
        path = `/v1.0/${p}?${encodeURIComponent(query)}`;
      }
      const r = await send(path, { headers: { authorization: `Bearer ${graphToken}` } });
      assertWellFormed(r, `GET ${path}`, (x) => x.status === 200 && typeof x.body?.['@odata.context'] === 'string', 'graph');
    }), { ...params, numRuns: Math.ceil(RUNS / 2) });
    await stillAlive();
  });
});
