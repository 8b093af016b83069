// `copilog emulator` as a user runs it: one JSON line on stdout when ready, the CA and server
// certificate created in the data dir and reused on the next start, the control API's tenant
// listing, --licensing-csv, and a clean stop (exit 0) on SIGTERM and on SIGINT.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { X509Certificate } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { stringify as toYaml } from 'yaml';
import { cleanDir, tempDir } from './support/emulator.js';
import { csvWithFutureSku, FUTURE_SKU } from './support/reference.js';
import { GUID } from './fixtures/auth.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'copilog.js');

interface Ready { ready: true; url: string; authority: string; graph: string; ca: string; tenants: string[] }

interface Running {
  child: ChildProcess;
  ready: Ready;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start the CLI and wait for its ready line (or its death). */
function startCli(args: string[]): Promise<Running> {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [BIN, 'emulator', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 60 s\nstdout: ${out}\nstderr: ${err}`));
    }, 60_000);
    child.stderr!.on('data', (d) => { err += d; });
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0 && timer) {
        clearTimeout(timer);
        try {
          resolve({ child, ready: JSON.parse(out.slice(0, nl)), stdout: () => out, stderr: () => err, exited });
        } catch (e) {
          reject(new Error(`the first stdout line is not JSON: ${out.slice(0, nl)} (${(e as Error).message})`));
        }
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ready\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

async function get(ready: Ready, path: string, headers: Record<string, string> = {}, init: { method?: string; body?: string } = {}) {
  const agent = new Agent({ connect: { ca: readFileSync(ready.ca) } });
  try {
    const r = await undiciFetch(ready.url + path, { ...init, headers, dispatcher: agent });
    return { status: r.status, body: (await r.json()) as any };
  } finally {
    await agent.close();
  }
}

async function stop(r: Running, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  r.child.kill(signal);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit 15 s after ${signal}`)), 15_000).unref());
  return Promise.race([r.exited, timeout]);
}

let dataDir: string;
const children: ChildProcess[] = [];

before(() => {
  dataDir = tempDir('copilog-cli-');
});
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  cleanDir(dataDir);
});

describe('copilog emulator --json', () => {
  let firstCa: Buffer;
  let firstServerCert: Buffer;

  test('prints one ready line, creates the PKI in the data dir, serves the control API, stops on SIGTERM with 0', async () => {
    assert.equal(existsSync(join(dataDir, 'pki', 'ca.crt')), false, 'a fresh data dir');
    const r = await startCli(['--scenario', 'demo', '--port', '0', '--json', '--data-dir', dataDir]);
    children.push(r.child);
    const ready = r.ready;
    assert.deepEqual(Object.keys(ready).sort(), ['authority', 'ca', 'graph', 'ready', 'tenants', 'url']);
    assert.equal(ready.ready, true);
    assert.match(ready.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(ready.url, 'https://127.0.0.1:0');
    assert.equal(ready.graph, `${ready.url}/v1.0`);
    assert.equal(ready.ca, join(dataDir, 'pki', 'ca.crt'));
    assert.ok(Array.isArray(ready.tenants) && ready.tenants.length === 1);
    assert.equal(ready.authority, `${ready.url}/${ready.tenants[0]}`);

    // The CA and a server certificate it issued, for 127.0.0.1 and localhost.
    firstCa = readFileSync(join(dataDir, 'pki', 'ca.crt'));
    firstServerCert = readFileSync(join(dataDir, 'pki', 'server.crt'));
    const ca = new X509Certificate(firstCa);
    const server = new X509Certificate(firstServerCert);
    assert.ok(ca.ca, 'the CA is a CA');
    assert.ok(server.checkIssued(ca), 'the server certificate is issued by the CA');
    assert.ok(server.checkIP('127.0.0.1'));
    assert.ok(server.checkHost('localhost'));

    // The documented tenant listing.
    const t = await get(ready, '/_emulator/tenants');
    assert.equal(t.status, 200);
    assert.equal(t.body.scenario, 'demo');
    const tenant = t.body.tenants[0];
    assert.equal(tenant.id, ready.tenants[0]);
    assert.equal(tenant.domain, 'contoso.onmicrosoft.com');
    assert.match(tenant.default.appId, GUID);
    assert.match(tenant.default.userId, GUID);
    assert.equal(tenant.default.scope, 'https://graph.microsoft.com/.default');
    assert.equal(tenant.default.credential, 'secret');
    const app = tenant.apps.find((a: any) => a.appId === tenant.default.appId);
    assert.equal(app.displayName, 'copilog reader');
    assert.match(app.servicePrincipalId, GUID);
    assert.equal(typeof app.secrets[0].value, 'string');
    assert.ok(!Number.isNaN(Date.parse(app.secrets[0].expiresAt)));
    assert.match(app.certificates[0].thumbprint, /^[0-9A-F]{40}$/);
    assert.ok(app.certificates[0].certPath.startsWith(join(dataDir, 'pki')), 'app certificates live in the data dir');
    assert.ok(existsSync(app.certificates[0].certPath) && existsSync(app.certificates[0].keyPath));
    assert.ok(app.roles.includes('AiEnterpriseInteraction.Read.All'));
    const user = tenant.users.find((u: any) => u.id === tenant.default.userId);
    assert.equal(user.userPrincipalName, 'adele.vance@contoso.onmicrosoft.com');
    assert.equal(tenant.userCount, tenant.users.length);

    // The listed credentials work against the listed authority.
    const token = await get(ready, `/${tenant.id}/oauth2/v2.0/token`, { 'content-type': 'application/x-www-form-urlencoded' }, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.appId, client_secret: app.secrets[0].value, scope: tenant.default.scope }).toString(),
    });
    assert.equal(token.status, 200);

    const exit = await stop(r, 'SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, r.stderr().slice(-500));
    assert.equal(r.stdout().split('\n').filter(Boolean).length, 1, `exactly one line on stdout: ${r.stdout()}`);
  });

  test('a second start reuses the CA and server certificate; SIGINT stops it with 0', async () => {
    assert.ok(firstCa, 'runs after the first start');
    const r = await startCli(['--scenario', 'demo', '--port', '0', '--json', '--data-dir', dataDir]);
    children.push(r.child);
    assert.deepEqual(readFileSync(r.ready.ca), firstCa, 'same CA bytes');
    assert.deepEqual(readFileSync(join(dataDir, 'pki', 'server.crt')), firstServerCert, 'same server certificate');
    assert.equal((await get(r.ready, '/_emulator/health')).status, 200);
    const exit = await stop(r, 'SIGINT');
    assert.deepEqual(exit, { code: 0, signal: null }, r.stderr().slice(-500));
    assert.equal(r.stdout().split('\n').filter(Boolean).length, 1);
  });

  test('--licensing-csv makes a SKU that only Microsoft’s CSV has usable', async () => {
    const scenario = join(dataDir, 'csv-sku.yaml');
    writeFileSync(scenario, toYaml({
      name: 'cli-csv',
      default: { tenant: 'clicsv.onmicrosoft.com', app: 'reader', user: 'bi@clicsv.onmicrosoft.com' },
      tenants: [{
        id: '0b8f6a42-1c3d-4e5f-8a9b-0c1d2e3f4c01', domain: 'clicsv.onmicrosoft.com',
        apps: [{ appId: '5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3e01', displayName: 'reader', secrets: [{ value: 'cli-csv-secret' }], permissions: ['User.Read.All'] }],
        users: [{ userPrincipalName: 'bi@clicsv.onmicrosoft.com', licenses: [{ sku: FUTURE_SKU.part }] }],
      }],
    }));
    // Without the CSV the SKU is unknown, and the message names the field and the flag.
    const refused = await startCli(['--scenario', scenario, '--port', '0', '--json', '--data-dir', dataDir]).then(
      (r) => { children.push(r.child); return undefined; },
      (e: Error) => e,
    );
    assert.ok(refused, `the built-in table does not know ${FUTURE_SKU.part}`);
    assert.match(refused.message, /exited \(2\)/, "a scenario that does not validate is a usage error (exit 2)");
    assert.match(refused.message, new RegExp(`tenants\\[0\\]\\.users\\[0\\]\\.licenses\\[0\\]\\.sku: unknown SKU ${FUTURE_SKU.part}.*--licensing-csv`));

    // The built-in table holds every SKU of the January 2026 CSV: "the current CSV" adds a newer one.
    const r = await startCli(['--scenario', scenario, '--port', '0', '--json', '--data-dir', dataDir, '--licensing-csv', csvWithFutureSku(dataDir)]);
    children.push(r.child);
    const tenant = (await get(r.ready, '/_emulator/tenants')).body.tenants[0];
    const tok = await get(r.ready, `/${tenant.id}/oauth2/v2.0/token`, { 'content-type': 'application/x-www-form-urlencoded' }, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: tenant.default.appId, client_secret: 'cli-csv-secret', scope: 'https://graph.microsoft.com/.default' }).toString(),
    });
    const ld = await get(r.ready, '/v1.0/users/bi@clicsv.onmicrosoft.com/licenseDetails', { authorization: `Bearer ${tok.body.access_token}` });
    assert.equal(ld.status, 200);
    assert.equal(ld.body.value[0].skuPartNumber, FUTURE_SKU.part);
    assert.equal(ld.body.value[0].skuId, FUTURE_SKU.id);
    assert.deepEqual(await stop(r, 'SIGTERM'), { code: 0, signal: null });
  });
});
