// Microsoft's real client libraries against the emulator, unmodified: @azure/msal-node (secret,
// certificate with SHA-256 and SHA-1 thumbprints), @azure/identity (ClientSecretCredential,
// ClientCertificateCredential), then @microsoft/microsoft-graph-client listing users over HTTPS.
// Each client runs in a child process (test/fixtures/sdk-client.ts) that trusts the emulator's CA
// only through NODE_EXTRA_CA_CERTS, exactly as a user would configure it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanDir, tempDir, withEmulator, type TestEmulator } from './support/emulator.js';
import { GUID, assertGraphAppToken, defaults } from './fixtures/auth.js';
import type { SdkClientConfig } from './fixtures/sdk-client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIENT = join(ROOT, 'test', 'fixtures', 'sdk-client.ts');

let emu: TestEmulator;
let tenant: any;
let app: any;
let pemDir: string;
let pemPath: string;
let expectedUpns: string[];

interface ClientResult {
  ok: boolean;
  error?: string;
  accessToken: string;
  status: number;
  users: string[];
  sentHeaders: Record<string, string>[];
  response: { requestId: string | null; clientRequestId: string | null };
}

/** Run the fixture client in a child process; the CA reaches it through NODE_EXTRA_CA_CERTS only. */
function runClient(cfg: Omit<SdkClientConfig, 'url' | 'tenantId' | 'clientId'>): Promise<ClientResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: emu.ca };
  for (const k of Object.keys(env)) if (k.startsWith('AZURE_') || k === 'NODE_TEST_CONTEXT') delete env[k];
  const full: SdkClientConfig = { url: emu.url, tenantId: tenant.id, clientId: app.appId, ...cfg };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', CLIENT, JSON.stringify(full)], { cwd: ROOT, env, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        const parsed = JSON.parse(line) as ClientResult;
        if (!parsed.ok) reject(new Error(`${cfg.mode} failed: ${parsed.error}\n${stderr}`));
        else resolve(parsed);
      } catch {
        reject(new Error(`${cfg.mode}: no JSON result (${err?.message ?? ''})\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}

before(async () => {
  emu = await withEmulator('demo');
  ({ tenant, app } = await defaults(emu));
  // @azure/identity's ClientCertificateCredential takes one PEM holding the certificate and key.
  pemDir = tempDir('copilog-sdk-');
  pemPath = join(pemDir, 'client.pem');
  const c = app.certificates[0];
  writeFileSync(pemPath, readFileSync(c.certPath, 'utf8') + readFileSync(c.keyPath, 'utf8'), { mode: 0o600 });
  const tl = await emu.tenantList();
  expectedUpns = tl.tenants[0].users.map((u: any) => u.userPrincipalName).sort();
});

after(async () => {
  await emu?.close();
  if (pemDir) cleanDir(pemDir);
});

function assertAppToken(token: string, appidacr: '1' | '2'): void {
  assertGraphAppToken(token, { tenantId: tenant.id, appId: app.appId, servicePrincipalId: app.servicePrincipalId, roles: app.roles, appidacr });
}

function assertGraphListing(r: ClientResult): void {
  assert.equal(r.status, 200);
  assert.deepEqual([...r.users].sort(), expectedUpns, 'every demo user came back');
  assert.equal(r.sentHeaders.length, 1, 'one Graph request');
  const sent = r.sentHeaders[0]!;
  assert.equal(sent.authorization, `Bearer ${r.accessToken}`, 'the Graph client sent the token over https to a custom host');
  assert.match(sent['client-request-id'] ?? '', GUID, 'the Graph client sent a client-request-id');
  assert.equal(r.response.clientRequestId, sent['client-request-id'], 'the emulator echoed it');
  assert.match(r.response.requestId ?? '', GUID);
  assert.notEqual(r.response.requestId, r.response.clientRequestId);
}

describe('real client libraries against the emulator (child processes, NODE_EXTRA_CA_CERTS)', () => {
  // Start all five clients at once: each spends most of its time loading modules.
  const results = new Map<string, Promise<ClientResult>>();
  const result = (mode: SdkClientConfig['mode']) => {
    if (!results.has(mode)) {
      const cfg = mode.endsWith('secret')
        ? { mode, secret: app.secrets[0].value }
        : { mode, certPath: app.certificates[0].certPath, keyPath: app.certificates[0].keyPath, pemPath };
      const p = runClient(cfg);
      p.catch(() => undefined); // reported by the test that awaits it
      results.set(mode, p);
    }
    return results.get(mode)!;
  };
  before(() => {
    for (const m of ['msal-secret', 'msal-cert-sha256', 'msal-cert-sha1', 'identity-secret', 'identity-cert'] as const) result(m);
  });

  test('@azure/msal-node with a client secret (authority + knownAuthorities), then the Graph client lists users', async () => {
    const r = await result('msal-secret');
    assertAppToken(r.accessToken, '1');
    assertGraphListing(r);
  });

  test('@azure/msal-node with a certificate, thumbprintSha256 (PS256 assertion)', async () => {
    const r = await result('msal-cert-sha256');
    assertAppToken(r.accessToken, '2');
    assertGraphListing(r);
  });

  test('@azure/msal-node with a certificate, SHA-1 thumbprint (RS256 assertion)', async () => {
    const r = await result('msal-cert-sha1');
    assertAppToken(r.accessToken, '2');
    assertGraphListing(r);
  });

  test('@azure/identity ClientSecretCredential (authorityHost + disableInstanceDiscovery) with TokenCredentialAuthenticationProvider', async () => {
    const r = await result('identity-secret');
    assertAppToken(r.accessToken, '1');
    assertGraphListing(r);
  });

  test('@azure/identity ClientCertificateCredential (PEM with certificate and key)', async () => {
    const r = await result('identity-cert');
    assertAppToken(r.accessToken, '2');
    assertGraphListing(r);
  });
});
