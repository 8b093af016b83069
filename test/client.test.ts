// The client library against the emulator, over the wire: configuration, the transport's ids,
// retries and time limits, MSAL with a secret or a certificate, TokenCredential-shaped objects,
// typed errors and paging. One emulator for the file; cases that change switches reload it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { parse as parseYaml } from 'yaml';
import {
  CLOUDS, ConfigError, CopilogError, createClient, CrossOriginError, GraphClient, GraphRequestError, GraphResponseError, interactionHistoryPath,
  interactionQuery, MsalCredential, NO_RETRY, parseAadstsBody, parseGraphErrorBody, parseRetryAfter, readCertificate, resolveConfig,
  sanitizeUrl, StaticTokenCredential, TokenAcquisitionError, Transport, TransportError, type TokenCredentialLike,
} from '../src/client/index.js';
import { SCENARIO_DIR } from '../src/cli/scenarios.js';
import { cleanDir, tempDir, withEmulator, type TestEmulator } from './support/emulator.js';
import { silentServer } from './support/net.js';

const OK = join(SCENARIO_DIR, 'doctor', 'ok.yaml');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
let emu: TestEmulator;
let tenant: any;

const okScenario = () => parseYaml(readFileSync(OK, 'utf8'));
async function loadOk(edit: (t: any) => void = () => undefined) {
  const s = okScenario();
  edit(s.tenants[0]);
  await emu.control('/scenario', 'POST', s);
  tenant = (await emu.tenantList()).tenants[0];
}
const emulatorConfig = (extra: Record<string, string> = {}) => resolveConfig({ emulator: emu.url, ca: emu.ca, ...extra }, {});

/** A plain-HTTP server on loopback for the cases the emulator cannot produce; counts what it got. */
async function loopback(handle: (req: IncomingMessage, res: ServerResponse, body: string, n: number) => void) {
  const hits: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      hits.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handle(req, res, body, hits.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}


const json = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
};
const staticGraph = (baseUrl: string, transport: Transport) => new GraphClient({ baseUrl, credential: new StaticTokenCredential('static-test-token'), scope: 'https://graph.microsoft.com/.default', transport });

before(async () => {
  emu = await withEmulator(OK);
  tenant = (await emu.tenantList()).tenants[0];
});
after(async () => {
  await emu?.close();
});

describe('configuration', () => {
  test('emulator mode takes the default tenant, app, credential, scope and user; flags override', async () => {
    const c = await emulatorConfig();
    assert.equal(c.mode, 'emulator');
    assert.equal(c.tenantId, tenant.id);
    assert.equal(c.clientId, tenant.default.appId);
    assert.equal(c.credential.kind, 'secret');
    assert.equal(c.scope, 'https://graph.microsoft.com/.default');
    assert.equal(c.authority, `${emu.url}/${tenant.id}`);
    assert.equal(c.graphBaseUrl, `${emu.url}/v1.0`);
    assert.deepEqual(c.knownAuthorities, [new URL(emu.url).host]);
    assert.equal(c.emulator?.defaultUser, 'megan.bowen@northwind.onmicrosoft.com');
    assert.deepEqual(c.problems, []);
    const o = await emulatorConfig({ tenant: 'contoso.onmicrosoft.com', scope: 'https://outlook.office365.com/.default' });
    assert.equal(o.tenantId, 'contoso.onmicrosoft.com');
    assert.equal(o.sources.tenant, 'flag');
    assert.equal(o.scope, 'https://outlook.office365.com/.default');
  });

  test('Azure SDK environment variables and national clouds, without touching the network', async () => {
    const env = { AZURE_TENANT_ID: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', AZURE_CLIENT_ID: '5C3E1A9B-7D2F-4E6A-9B8C-1D2E3F4A5B6C', AZURE_CLIENT_SECRET: 'from-the-environment' };
    const g = await resolveConfig({}, env);
    assert.equal(g.mode, 'cloud');
    assert.equal(g.authority, 'https://login.microsoftonline.com/0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9');
    assert.equal(g.graphBaseUrl, 'https://graph.microsoft.com/v1.0');
    assert.equal(g.clientId, '5c3e1a9b-7d2f-4e6a-9b8c-1d2e3f4a5b6c');
    assert.deepEqual(g.credential, { kind: 'secret', secret: 'from-the-environment', source: 'env' });
    for (const [cloud, authority, graph] of [['usgov', 'login.microsoftonline.us', 'graph.microsoft.us'], ['usgovdod', 'login.microsoftonline.us', 'dod-graph.microsoft.us'], ['china', 'login.chinacloudapi.cn', 'microsoftgraph.chinacloudapi.cn']]) {
      const c = await resolveConfig({ cloud }, env);
      assert.equal(new URL(c.authority).host, authority);
      assert.equal(c.graphBaseUrl, `https://${graph}/v1.0`);
      assert.equal(c.scope, `https://${graph}/.default`);
    }
    assert.equal(CLOUDS.china.interactionExport, false);
    const bad = await resolveConfig({ cloud: 'mars' }, { ...env, AZURE_CLIENT_ID: 'my-app', AZURE_CLIENT_SECRET: '11111111-2222-3333-4444-555555555555' });
    const settings = bad.problems.map((p) => `${p.setting}:${p.source}`).sort();
    assert.deepEqual(settings, ['clientId:env', 'clientSecret:env', 'cloud:flag']);
    const cert = await resolveConfig({}, { AZURE_TENANT_ID: env.AZURE_TENANT_ID, AZURE_CLIENT_ID: env.AZURE_CLIENT_ID, AZURE_CLIENT_CERTIFICATE_PATH: '/x.pem', AZURE_CLIENT_CERTIFICATE_PASSWORD: 'pw' });
    assert.deepEqual(cert.credential, { kind: 'certificate', certificatePath: '/x.pem', password: 'pw', source: 'env' });
    assert.deepEqual(cert.ignoredCredentials, []);
  });

  test('credential precedence: a flag before the environment; a secret before a certificate (as EnvironmentCredential)', async () => {
    const ids = { AZURE_TENANT_ID: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', AZURE_CLIENT_ID: '5c3e1a9b-7d2f-4e6a-9b8c-1d2e3f4a5b6c' };
    const both = { ...ids, AZURE_CLIENT_SECRET: 'env-secret', AZURE_CLIENT_CERTIFICATE_PATH: '/env.pem' };
    // --client-secret while AZURE_CLIENT_CERTIFICATE_PATH is set: the flag wins.
    let c = await resolveConfig({ clientSecret: 'flag-secret' }, { ...ids, AZURE_CLIENT_CERTIFICATE_PATH: '/env.pem' });
    assert.deepEqual(c.credential, { kind: 'secret', secret: 'flag-secret', source: 'flag' });
    assert.equal(c.sources.credential, 'flag');
    assert.match(c.ignoredCredentials.join('\n'), /AZURE_CLIENT_CERTIFICATE_PATH is set but not used: --client-secret takes precedence \(a flag comes before the environment\)/);
    // --certificate while AZURE_CLIENT_SECRET is set: the flag wins.
    c = await resolveConfig({ certificatePath: '/flag.pem' }, both);
    assert.equal(c.credential.kind, 'certificate');
    assert.equal(c.credential.kind === 'certificate' && c.credential.certificatePath, '/flag.pem');
    assert.deepEqual(c.ignoredCredentials.map((i) => i.split(' ')[0]), ['AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH']);
    // Both in the environment: the secret, as @azure/identity's EnvironmentCredential does.
    c = await resolveConfig({}, both);
    assert.deepEqual(c.credential, { kind: 'secret', secret: 'env-secret', source: 'env' });
    assert.match(c.ignoredCredentials.join('\n'), /AZURE_CLIENT_CERTIFICATE_PATH is set but not used: AZURE_CLIENT_SECRET takes precedence \(a secret comes before a certificate/);
    // Both flags: the secret; the certificate is named as ignored.
    c = await resolveConfig({ clientSecret: 's', certificatePath: '/flag.pem' }, ids);
    assert.equal(c.credential.kind, 'secret');
    assert.match(c.ignoredCredentials.join('\n'), /--certificate is set but not used/);
    assert.ok(!c.ignoredCredentials.join(' ').includes('env-secret'), 'names only, never values');
  });
});

describe('transport', () => {
  test('sends a client-request-id the emulator echoes, and traces request-id, Date and x-ms-ags-diagnostic', async () => {
    const t = new Transport({ ca: readFileSync(emu.ca) });
    try {
      const res = await t.send({ method: 'GET', url: `${emu.url}/v1.0/users` });
      assert.equal(res.status, 401);
      const e = res.exchange;
      assert.match(e.clientRequestId, /^[0-9a-f-]{36}$/);
      assert.equal(res.headers['client-request-id'], e.clientRequestId, 'echoed');
      assert.match(e.requestId ?? '', /^[0-9a-f-]{36}$/);
      assert.notEqual(e.requestId, e.clientRequestId);
      assert.ok(e.date && !Number.isNaN(Date.parse(e.date)));
      assert.match(e.agsDiagnostic ?? '', /ServerInfo/);
      assert.equal(e.errorCode, 'InvalidAuthenticationToken');
      assert.deepEqual(t.trace, [e]);
    } finally {
      await t.close();
    }
  });

  test('retries 429 after the Retry-After it was given (integer and decimal seconds)', async () => {
    for (const retryAfter of ['integer', 'decimal']) {
      await loadOk((t) => (t.behaviours = { requestsPerSecond: 1, retryAfter }));
      const client = createClient(await emulatorConfig());
      try {
        const path = interactionHistoryPath(tenant.default.userId);
        const q = interactionQuery(new Date(Date.now() - 86_400_000), new Date(), 1);
        await client.graph.send(path, q);
        const started = Date.now();
        const r = await client.graph.send(path, q);
        const waited = Date.now() - started;
        assert.equal(r.status, 200);
        assert.equal(r.attempts, 2, retryAfter);
        const tries = client.transport.trace.filter((e) => e.clientRequestId === r.exchange.clientRequestId);
        assert.deepEqual(tries.map((e) => e.status), [429, 200], 'the same client-request-id on the retry');
        assert.ok(tries[0]!.retryAfter, 'Retry-After recorded');
        const asked = parseRetryAfter(tries[0]!.retryAfter)! * 1000;
        assert.ok(waited >= asked - 50, `waited ${waited} ms for a Retry-After of ${asked} ms (${retryAfter})`);
      } finally {
        await client.close();
      }
    }
  });

  test('gives up when Retry-After exceeds the budget: a typed error with every id', async () => {
    await loadOk((t) => (t.behaviours = { requestsPerSecond: 0.001 }));
    const client = createClient(await emulatorConfig());
    try {
      const started = Date.now();
      const err = await client.graph.send(interactionHistoryPath(tenant.default.userId), interactionQuery(new Date(Date.now() - 86_400_000), new Date(), 1)).catch((e) => e);
      assert.ok(Date.now() - started < 20_000, 'did not wait a Retry-After of ~1000 s');
      assert.ok(err instanceof GraphRequestError, String(err));
      assert.equal(err.status, 429);
      assert.equal(err.code, 'TooManyRequests');
      assert.ok(err.retryAfterSeconds! > 100);
      assert.equal(err.attempts, 1);
      for (const k of ['requestId', 'clientRequestId', 'date', 'agsDiagnostic'] as const) assert.ok(err[k], k);
      assert.equal(err.innerError?.['client-request-id'], err.clientRequestId);
      assert.match(err.url, /getAllEnterpriseInteractions\?\$top=1&\$filter=createdDateTime%20gt%20/);
      assert.equal(err.method, 'GET');
    } finally {
      await client.close();
    }
  });

  test('503 with Retry-After: retried up to maxRetries, then the typed error', async () => {
    await loadOk((t) => (t.faults = { errorRate: 1, errorStatuses: [503], errorRetryAfter: 1 }));
    const client = createClient(await emulatorConfig(), { transport: { retry: { maxRetries: 1, maxWaitMs: 2000, budgetMs: 2000 } } });
    try {
      const err = await client.graph.get(interactionHistoryPath(tenant.default.userId), interactionQuery(new Date(Date.now() - 86_400_000), new Date(), 1)).catch((e) => e);
      assert.ok(err instanceof GraphRequestError);
      assert.equal(err.status, 503);
      assert.equal(err.attempts, 2);
      assert.equal(err.code, 'serviceNotAvailable');
    } finally {
      await client.close();
    }
  });

  test('a per-request timeout and an overall deadline end a slow request with TransportError', async () => {
    // A 10 s answer against bounds of 7 s: wide margins for a loaded machine, still short of the answer.
    await loadOk((t) => (t.faults = { latencyMs: 10_000 }));
    const config = await emulatorConfig();
    // The token comes through the same transport, so the timeout and the deadline leave room for
    // its TLS handshake on a loaded machine (300 ms did not, under two CPU hogs), not for the 10 s answer.
    for (const [opts, kind, limitMs] of [[() => ({ timeoutMs: 2500 }), 'timeout', 8000], [() => ({ deadline: Date.now() + 5000 }), 'deadline', 9000]] as const) {
      const client = createClient(config, { transport: opts() });
      try {
        const token = await client.credential.getToken(config.scope);
        assert.ok(token);
        const started = Date.now();
        const err = await client.graph.get(interactionHistoryPath(tenant.default.userId), interactionQuery(new Date(Date.now() - 86_400_000), new Date(), 1)).catch((e) => e);
        assert.ok(err instanceof TransportError, String(err));
        assert.equal(err.kind, kind);
        assert.ok(Date.now() - started < limitMs, `${kind} took ${Date.now() - started} ms`);
        assert.equal(client.transport.trace.at(-1)?.status, 0);
      } finally {
        await client.close();
      }
    }
  });

  test('a connection that hangs before TLS completes ends at the per-request timeout, and at the deadline', async () => {
    const silent = await silentServer();
    try {
      for (const [opts, kind] of [[() => ({ timeoutMs: 400 }), 'timeout'], [() => ({ deadline: Date.now() + 400 }), 'deadline']] as const) {
        const t = new Transport(opts());
        try {
          const started = Date.now();
          const err = await t.send({ method: 'GET', url: `https://127.0.0.1:${silent.port}/v1.0/users` }).catch((e) => e);
          const took = Date.now() - started;
          assert.ok(err instanceof TransportError, String(err));
          assert.equal(err.kind, kind);
          assert.equal(err.phase, 'connect');
          assert.match(err.message, /could not connect to 127\.0\.0\.1:\d+ .*TLS handshake/);
          assert.ok(took < 7000, `${kind}: took ${took} ms (undici's own connect timeout is 10 s)`);
        } finally {
          await t.close();
        }
      }
      // The caller's AbortSignal ends the connect phase too.
      const t = new Transport();
      try {
        const started = Date.now();
        const err = await t.send({ method: 'GET', url: `https://127.0.0.1:${silent.port}/`, signal: AbortSignal.timeout(300) }).catch((e) => e);
        assert.ok(err instanceof TransportError && err.kind === 'aborted', String(err));
        assert.ok(Date.now() - started < 7000);
      } finally {
        await t.close();
      }
    } finally {
      await silent.close();
    }
  });

  test('503/504 are retried only for idempotent methods; 429 for any method (Graph did not process it)', async () => {
    const server = await loopback((req, res) => {
      if (req.url === '/v1.0/throttled' && req.headers['x-try'] === undefined) {
        // First answer 429, then 201.
        const tries = server.hits.filter((h) => h.url === '/v1.0/throttled').length;
        return tries === 1 ? json(res, 429, { error: { code: 'TooManyRequests', message: 'slow down' } }, { 'retry-after': '0' }) : json(res, 201, { id: 'made' });
      }
      json(res, 503, { error: { code: 'serviceNotAvailable', message: 'busy' } }, { 'retry-after': '0' });
    });
    const t = new Transport({ retry: { maxRetries: 2, maxWaitMs: 1000, budgetMs: 1000 } });
    try {
      const g = staticGraph(`${server.url}/v1.0`, t);
      for (const [method, attempts] of [['GET', 3], ['PUT', 3], ['DELETE', 3], ['POST', 1], ['PATCH', 1]] as const) {
        const err = await g.send('busy', undefined, { method, ...(method === 'POST' || method === 'PATCH' || method === 'PUT' ? { body: { a: 1 } } : {}) }).catch((e) => e);
        assert.ok(err instanceof GraphRequestError, `${method}: ${err}`);
        assert.equal(err.status, 503);
        assert.equal(err.attempts, attempts, method);
        assert.equal(server.hits.filter((h) => h.method === method).length, attempts, `${method} sent ${attempts} time(s)`);
      }
      const made = await g.send<{ id: string }>('throttled', undefined, { method: 'POST', body: { displayName: 'x' } });
      assert.equal(made.status, 201);
      assert.equal(made.attempts, 2, 'a POST answered 429 is sent again');
      assert.equal(made.data.id, 'made');
    } finally {
      await t.close();
      await server.close();
    }
  });

  test('a GET whose connection is reset or whose body is truncated is retried within the budget (emulator faults)', async () => {
    for (const fault of ['resetRate', 'truncateRate'] as const) {
      await loadOk((t) => (t.faults = { [fault]: 1 }));
      const client = createClient(await emulatorConfig(), { transport: { retry: { maxRetries: 2, maxWaitMs: 2000, budgetMs: 2000 } } });
      try {
        const err = await client.graph.get(interactionHistoryPath(tenant.default.userId), interactionQuery(new Date(Date.now() - 86_400_000), new Date(), 1)).catch((e) => e);
        assert.ok(err instanceof TransportError, `${fault}: ${err}`);
        assert.equal(err.kind, 'network', fault);
        assert.equal(err.attempts, 3, fault);
        const tries = client.transport.trace.filter((e) => /getAllEnterpriseInteractions/.test(e.url));
        assert.equal(tries.length, 3, `${fault}: three attempts traced`);
        assert.equal(new Set(tries.map((e) => e.clientRequestId)).size, 1, 'the retries share the client-request-id');
        assert.deepEqual(tries.map((e) => e.status), [0, 0, 0]);
      } finally {
        await client.close();
      }
    }
    // A reset once, then an answer: the GET succeeds on its second attempt; a POST is not resent.
    const server = await loopback((req, res, _body, n) => (n === 1 || req.method === 'POST' ? res.socket?.destroy() : json(res, 200, { value: [] })));
    const t = new Transport({ retry: { maxRetries: 2, maxWaitMs: 1000, budgetMs: 1000 } });
    try {
      const g = staticGraph(`${server.url}/v1.0`, t);
      const r = await g.send<{ value: unknown[] }>('users');
      assert.equal(r.status, 200);
      assert.equal(r.attempts, 2);
      const err = await g.send('subscriptions', undefined, { method: 'POST', body: {} }).catch((e) => e);
      assert.ok(err instanceof TransportError && err.kind === 'network', String(err));
      assert.equal(server.hits.filter((h) => h.method === 'POST').length, 1, 'POST sent once');
    } finally {
      await t.close();
      await server.close();
    }
  });

  test('secrets never reach the trace: secret query values are redacted', () => {
    assert.equal(sanitizeUrl('https://x/token?client_secret=s3cr3t&client_assertion=eyJabc&a=1'), 'https://x/token?client_secret=REDACTED&client_assertion=REDACTED&a=1');
    assert.equal(sanitizeUrl('https://x/v1.0/users?$top=1'), 'https://x/v1.0/users?$top=1');
    assert.equal(parseRetryAfter('2.128'), 2.128);
    assert.equal(parseRetryAfter('10'), 10);
    assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString()) !== undefined, true);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

describe('credentials', () => {
  test('client secret through MSAL: token requests go through the transport (traced, no secret in the trace)', async () => {
    await loadOk();
    const config = await emulatorConfig();
    const client = createClient(config);
    try {
      const t = await client.credential.getToken(config.scope);
      const claims = decodeJwt(t!.token);
      assert.equal(claims.appidacr, '1');
      assert.equal(claims.aud, 'https://graph.microsoft.com');
      const urls = client.transport.trace.map((e) => `${e.method} ${new URL(e.url).pathname}`);
      assert.ok(urls.includes(`POST /${tenant.id}/oauth2/v2.0/token`), urls.join(', '));
      assert.ok(!JSON.stringify(client.transport.trace).includes('doctor-secret-value'));
    } finally {
      await client.close();
    }
  });

  test('a held token is reused: callers together share one token request; forceRefresh asks again', async () => {
    await loadOk();
    const config = await emulatorConfig();
    const client = createClient(config);
    const tokenPosts = () => client.transport.trace.filter((e) => e.method === 'POST' && new URL(e.url).pathname.endsWith('/oauth2/v2.0/token')).length;
    try {
      const together = await Promise.all(Array.from({ length: 8 }, () => client.credential.getToken(config.scope)));
      assert.equal(tokenPosts(), 1, 'eight callers at once: one token request');
      assert.equal(new Set(together.map((t) => t!.token)).size, 1);
      const again = await client.credential.getToken(config.scope);
      assert.equal(again, together[0], 'the held token itself, not a new answer from MSAL');
      assert.equal(tokenPosts(), 1, 'a held token is not asked for again');
      const fresh = await client.credential.getToken(config.scope, { forceRefresh: true });
      assert.equal(tokenPosts(), 2, 'forceRefresh goes to the token endpoint');
      assert.equal((await client.credential.getToken(config.scope))!.token, fresh!.token, 'the refreshed token is the one held next');
    } finally {
      await client.close();
    }
  });

  test('certificate credential with the emulator\'s app certificate (separate files, one PEM, an encrypted key)', async () => {
    await loadOk();
    const cert = tenant.apps[0].certificates[0];
    const dir = tempDir('copilog-cert-');
    try {
      const combined = join(dir, 'cert-and-key.pem');
      writeFileSync(combined, readFileSync(cert.certPath, 'utf8') + readFileSync(cert.keyPath, 'utf8'));
      const encrypted = join(dir, 'encrypted.pem');
      const key = createPrivateKey(readFileSync(cert.keyPath)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pem-pass' });
      writeFileSync(encrypted, readFileSync(cert.certPath, 'utf8') + key.toString());
      assert.throws(() => readCertificate(encrypted), /AZURE_CLIENT_CERTIFICATE_PASSWORD/);
      assert.equal(readCertificate(encrypted, undefined, 'pem-pass').thumbprintSha1, cert.thumbprint);
      const base = await emulatorConfig();
      for (const credential of [
        { kind: 'certificate', certificatePath: cert.certPath, keyPath: cert.keyPath, source: 'flag' },
        { kind: 'certificate', certificatePath: combined, source: 'flag' },
        { kind: 'certificate', certificatePath: encrypted, password: 'pem-pass', source: 'flag' },
      ] as const) {
        const transport = new Transport({ ca: base.ca });
        try {
          const t = await new MsalCredential({ ...base, credential }, transport).getToken(base.scope);
          assert.equal(decodeJwt(t.token).appidacr, '2', 'certificate');
          assert.ok(!JSON.stringify(transport.trace).includes('client_assertion='));
        } finally {
          await transport.close();
        }
      }
    } finally {
      cleanDir(dir);
    }
  });

  test('AADSTS errors come back typed: number, error, first sentence, trace and correlation ids', async () => {
    for (const [flags, aadsts, error] of [
      [{ clientSecret: 'not-the-secret-value' }, 7000215, 'invalid_client'],
      [{ tenant: '0badc0de-0000-4000-8000-000000000001' }, 90002, 'invalid_request'],
      [{ clientId: '0badc0de-0000-4000-8000-000000000002' }, 700016, 'unauthorized_client'],
    ] as const) {
      const config = await emulatorConfig(flags);
      const client = createClient(config);
      try {
        const err = await client.credential.getToken(config.scope).catch((e) => e);
        assert.ok(err instanceof TokenAcquisitionError, String(err));
        assert.equal(err.aadsts, aadsts);
        assert.equal(err.error, error);
        assert.ok(err.traceId && err.correlationId);
        assert.doesNotMatch(err.description, /Trace ID|Timestamp/);
      } finally {
        await client.close();
      }
    }
  });

  test('any getToken(scopes) object works as the credential (the @azure/identity TokenCredential shape)', async () => {
    await loadOk();
    const config = await emulatorConfig();
    const asked: unknown[] = [];
    const credential: TokenCredentialLike = {
      async getToken(scopes) {
        asked.push(scopes);
        return { token: await emu.token(), expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const client = createClient(config, { credential });
    try {
      const me = await client.graph.get<{ userPrincipalName: string }>(`users/${encodeURIComponent(tenant.default.userId)}`);
      assert.equal(me.userPrincipalName, 'megan.bowen@northwind.onmicrosoft.com');
      assert.deepEqual(asked, ['https://graph.microsoft.com/.default']);
    } finally {
      await client.close();
    }
    // And a token the caller already holds.
    const t = new Transport({ ca: config.ca });
    try {
      const g = new GraphClient({ baseUrl: config.graphBaseUrl, credential: new StaticTokenCredential(await emu.token()), scope: config.scope, transport: t });
      assert.equal((await g.send('users', { $top: 1 })).status, 200);
    } finally {
      await t.close();
    }
  });
});

describe('@azure/identity', () => {
  // A real TokenCredential passed to the library. @azure/identity trusts CAs only through
  // NODE_EXTRA_CA_CERTS, read at start-up, hence a child process.
  test('a ClientSecretCredential from @azure/identity drives the Graph client', async () => {
    await loadOk();
    const code = `
      import { ClientSecretCredential } from '@azure/identity';
      import { resolveConfig, createClient } from './src/client/index.ts';
      const config = await resolveConfig({ emulator: process.env.EMU, ca: process.env.CA }, {});
      const credential = new ClientSecretCredential(config.tenantId, config.clientId, config.credential.secret, { authorityHost: process.env.EMU, disableInstanceDiscovery: true });
      const client = createClient(config, { credential });
      const r = await client.graph.send('users', { $top: 1, $select: 'userPrincipalName' });
      await client.close();
      process.stdout.write(JSON.stringify({ status: r.status, upn: r.data.value[0].userPrincipalName }));`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        cwd: ROOT, env: { ...process.env, EMU: emu.url, CA: emu.ca, NODE_EXTRA_CA_CERTS: emu.ca },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (c) => (c === 0 ? resolve(stdout) : reject(new Error(`exit ${c}: ${stderr}`))));
    });
    assert.deepEqual(JSON.parse(out), { status: 200, upn: 'megan.bowen@northwind.onmicrosoft.com' });
  });
});

describe('graph client', () => {
  test('send: POST, PATCH and DELETE with a JSON body; 204 has no data', async () => {
    const server = await loopback((req, res, body) => {
      if (req.method === 'DELETE') { res.writeHead(204); return res.end(); }
      json(res, req.method === 'POST' ? 201 : 200, { method: req.method, got: body ? JSON.parse(body) : null });
    });
    const t = new Transport();
    try {
      const g = staticGraph(`${server.url}/v1.0`, t);
      const created = await g.send<{ method: string; got: unknown }>('subscriptions', undefined, { method: 'POST', body: { changeType: 'created', resource: '/copilot/x' } });
      assert.equal(created.status, 201);
      assert.deepEqual(created.data, { method: 'POST', got: { changeType: 'created', resource: '/copilot/x' } });
      const patched = await g.send<{ method: string }>('subscriptions/1', undefined, { method: 'PATCH', body: { expirationDateTime: '2026-01-01T00:00:00Z' } });
      assert.equal(patched.data.method, 'PATCH');
      const deleted = await g.send('subscriptions/1', undefined, { method: 'DELETE' });
      assert.equal(deleted.status, 204);
      assert.equal(deleted.data, undefined);
      const post = server.hits[0]!;
      assert.equal(post.headers['content-type'], 'application/json');
      assert.equal(post.headers.authorization, 'Bearer static-test-token');
      assert.equal(server.hits[2]!.headers['content-type'], undefined, 'no body, no content-type');
      assert.deepEqual(t.trace.map((e) => e.method), ['POST', 'PATCH', 'DELETE']);
    } finally {
      await t.close();
      await server.close();
    }
  });

  test('url(): an absolute URL with a query gets the new query merged in', () => {
    const g = new GraphClient({ baseUrl: 'https://graph.microsoft.com/v1.0/', credential: new StaticTokenCredential('x'), scope: 's', transport: new Transport() });
    assert.equal(g.url('users', { $top: 5, $filter: "a eq 'b c'" }), "https://graph.microsoft.com/v1.0/users?$top=5&$filter=a%20eq%20'b%20c'");
    assert.equal(g.url('https://graph.microsoft.com/v1.0/users?$top=5&$skiptoken=abc%3D%3D', { $select: 'id' }), 'https://graph.microsoft.com/v1.0/users?$top=5&$skiptoken=abc%3D%3D&$select=id');
    assert.equal(g.url('https://graph.microsoft.com/v1.0/users?%24top=5&$skiptoken=abc', { $top: 1 }), 'https://graph.microsoft.com/v1.0/users?$skiptoken=abc&$top=1', 'a parameter named twice takes the new value');
    assert.equal(g.url('users?$top=2', { $select: 'id' }), 'https://graph.microsoft.com/v1.0/users?$top=2&$select=id');
    assert.equal(g.url('https://graph.microsoft.com/v1.0/users?$top=5'), 'https://graph.microsoft.com/v1.0/users?$top=5');
    assert.equal(g.url('http://127.0.0.1:1/v1.0/users', { $top: 1 }), 'http://127.0.0.1:1/v1.0/users?$top=1', 'an http URL is absolute too');
  });

  test('pages(): a nextLink to another origin is refused before the token is sent', async () => {
    const elsewhere = await loopback((_req, res) => json(res, 200, { value: [{ id: 'stolen' }] }));
    const graph = await loopback((_req, res) => json(res, 200, { value: [{ id: '1' }], '@odata.nextLink': `${elsewhere.url}/v1.0/users?$skiptoken=x` }));
    const t = new Transport();
    try {
      const g = staticGraph(`${graph.url}/v1.0`, t);
      const seen: string[] = [];
      const err = await (async () => {
        for await (const page of g.pages<{ id: string }>('users')) seen.push(...page.value.map((u) => u.id));
      })().catch((e) => e);
      assert.ok(err instanceof CrossOriginError, String(err));
      assert.deepEqual(seen, ['1'], 'the first page was read');
      assert.equal(elsewhere.hits.length, 0, 'nothing (no token) went to the other origin');
      assert.match(err.message, /refusing to send the Graph token to http:\/\/127\.0\.0\.1:\d+/);
      await assert.rejects(g.get(`https://evil.example/v1.0/users`), CrossOriginError);
    } finally {
      await t.close();
      await graph.close();
      await elsewhere.close();
    }
  });

  test('a 2xx body that is not JSON is a typed error, not a SyntaxError', async () => {
    const server = await loopback((_req, res) => { res.writeHead(200, { 'content-type': 'text/html', 'request-id': 'r-1' }); res.end('<html>proxy login</html>'); });
    const t = new Transport();
    try {
      const err = await staticGraph(`${server.url}/v1.0`, t).get('users').catch((e) => e);
      assert.ok(err instanceof GraphResponseError, String(err));
      assert.equal(err.status, 200);
      assert.equal(err.contentType, 'text/html');
      assert.equal(err.requestId, 'r-1');
      assert.match(err.message, /not JSON.*proxy login/);
    } finally {
      await t.close();
      await server.close();
    }
  });

  test('an AbortSignal ends a request in flight', async () => {
    await loadOk((t) => (t.faults = { latencyMs: 10_000 }));
    const client = createClient(await emulatorConfig());
    try {
      await client.credential.getToken(client.config.scope);
      const started = Date.now();
      const err = await client.graph.get(interactionHistoryPath(tenant.default.userId), interactionQuery(new Date(Date.now() - 86_400_000), new Date(), 1), { signal: AbortSignal.timeout(300) }).catch((e) => e);
      assert.ok(err instanceof TransportError, String(err));
      assert.equal(err.kind, 'aborted');
      assert.ok(Date.now() - started < 7000, `took ${Date.now() - started} ms`);
    } finally {
      await client.close();
    }
  });

  test('every error the library throws shares one base class', () => {
    const ids = { method: 'GET', url: 'https://x', clientRequestId: 'c' };
    for (const e of [
      new GraphRequestError({ ...ids, status: 403, code: 'Forbidden', message: 'm' }),
      new GraphResponseError({ ...ids, status: 200, message: 'm' }),
      new CrossOriginError('https://a/x', 'https://b'),
      new TokenAcquisitionError({ error: 'invalid_client', description: 'd' }),
      new TransportError('network', 'm', ids),
      new ConfigError('m'),
    ]) {
      assert.ok(e instanceof CopilogError, e.name);
      assert.ok(e instanceof Error);
      assert.notEqual(e.name, 'Error');
    }
  });

  test('list follows @odata.nextLink; errors parse innerError or innererror', async () => {
    await emu.control('/scenario', 'POST', parseYaml(readFileSync(join(SCENARIO_DIR, 'demo.yaml'), 'utf8')));
    const client = createClient(await emulatorConfig());
    try {
      const all = await client.graph.list<{ id: string }>('users', { $top: 5, $select: 'id' });
      assert.ok(all.length > 20, `${all.length} users`);
      assert.equal(new Set(all.map((u) => u.id)).size, all.length);
      assert.ok(client.transport.trace.filter((e) => /\/users\?/.test(e.url)).length >= 5, 'several pages');
      const err = await client.graph.get('users/nobody@contoso.onmicrosoft.com').catch((e) => e);
      assert.ok(err instanceof GraphRequestError);
      assert.equal(err.status, 404);
      assert.match(err.summary(), /^404 Request_ResourceNotFound: .*request-id/);
      const noRetry = await client.transport.send({ method: 'GET', url: `${emu.url}/v1.0/users`, retry: NO_RETRY });
      assert.equal(noRetry.attempts, 1);
    } finally {
      await client.close();
    }
    assert.deepEqual(parseGraphErrorBody('{"error":{"code":"Forbidden","message":"UnknownError","innererror":{"request-id":"r1","date":"d"}}}'), { code: 'Forbidden', message: 'UnknownError', innerError: { 'request-id': 'r1', date: 'd' } });
    assert.equal(parseGraphErrorBody('not json'), undefined);
    const a = parseAadstsBody(JSON.stringify({ error: 'invalid_client', error_description: 'AADSTS7000222: The provided client secret keys for app \'x\' are expired. Visit the Azure portal. Trace ID: t Correlation ID: c Timestamp: 2026', error_codes: [7000222], trace_id: 't', correlation_id: 'c' }));
    assert.deepEqual([a?.aadsts, a?.description, a?.traceId], [7000222, 'The provided client secret keys for app \'x\' are expired.', 't']);
  });
});
