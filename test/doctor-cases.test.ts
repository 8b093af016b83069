// copilog doctor in cases a real admin meets: a brand-new app with no roles that cannot read its own
// registration, delegated permissions, a guest or a 21Vianet tenant (candidates that cannot help),
// a mailbox hidden by an Exchange policy Graph cannot see, the tenant-wide 403 (what to run next),
// a throttled probe, a licence assigned minutes ago. The real CLI against a real emulator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { SCENARIO_DIR } from '../src/cli/scenarios.js';
import { decide } from '../src/cli/doctor/verdict.js';
import { withEmulator, type TestEmulator } from './support/emulator.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'copilog.js');
const DOCTOR_DIR = join(SCENARIO_DIR, 'doctor');
const EXPORT_ROLE = 'AiEnterpriseInteraction.Read.All';
const USER_SIDE = /^(user|license|mailbox)\.|^tenant\.not-enabled$/;

let emu: TestEmulator;
before(async () => { emu = await withEmulator(join(DOCTOR_DIR, 'ok.yaml')); });
after(() => emu?.close());

interface Run { code: number | null; stdout: string; stderr: string; json: any }

function doctor(args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(AZURE_|COPILOG_|NO_COLOR|FORCE_COLOR)/.test(k)) clean[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'doctor', '--emulator', emu.url, '--ca', emu.ca, '--json', ...args], {
      cwd: ROOT, env: { ...clean, COPILOG_HOME: join(ROOT, '.no-such-copilog-home'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: any;
      try { json = JSON.parse(stdout); } catch { json = undefined; }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.end();
  });
}

const scenario = (name: string): any => parseYaml(readFileSync(join(DOCTOR_DIR, `${name}.yaml`), 'utf8'));
const load = (s: unknown) => emu.control('/scenario', 'POST', s);
const explain = (r: Run) => `exit ${r.code}\nstderr: ${r.stderr.slice(0, 1500)}\nverdict: ${JSON.stringify(r.json?.verdict, null, 1)?.slice(0, 4000)}`;

describe('a token with no roles whose app cannot read its own registration', () => {
  test('permission.missing-role, confirmed by the token alone; no user-side cause listed as possible', async () => {
    const s = scenario('ok');
    s.tenants[0].apps[0].permissions = [];
    await load(s);
    const r = await doctor();
    const v = r.json?.verdict;
    assert.equal(v?.primary.code, 'permission.missing-role', explain(r));
    assert.equal(v.primary.likelihood, 'confirmed');
    assert.match(v.primary.fix, new RegExp(EXPORT_ROLE.replace(/\./g, '\\.')));
    assert.match(v.primary.explanation, /before it looks at the user/);
    assert.ok(v.candidates.some((c: any) => c.code === 'permission.not-consented' && c.likelihood === 'possible'), 'the other permission cause stays in view');
    const userSide = v.candidates.filter((c: any) => USER_SIDE.test(c.code) && c.likelihood !== 'unlikely');
    assert.deepEqual(userSide.map((c: any) => `${c.code} ${c.likelihood}`), [], 'user-side causes are not listed as possible');
    assert.equal(r.code, 1);
  });
});

describe('delegated permissions (Microsoft ids)', () => {
  test('scenarios/doctor/permission.delegated-only.yaml: the registration asks for the delegated form, read under its real id', async () => {
    await load(scenario('permission.delegated-only'));
    const r = await doctor();
    assert.equal(r.json?.verdict.primary.code, 'permission.delegated-only', explain(r));
    assert.equal(r.json.verdict.primary.likelihood, 'confirmed');
    const consent = r.json.checks.find((c: any) => c.id === 'consent');
    assert.match(consent.evidence.join(' '), /does not request AiEnterpriseInteraction\.Read\.All \(only its delegated\/per-user form\)/);
  });
});

describe('a per-user (RSC) grant of AiEnterpriseInteraction.Read.User', () => {
  test('read where a real grant shows (GET /users/{id}/permissionGrants): permission.delegated-only, even with the registration unreadable', async () => {
    const s = scenario('ok');
    s.tenants[0].apps[0].permissions = ['User.Read.All', 'ResourceSpecificPermissionGrant.ReadForUser.All'];
    s.tenants[0].apps[0].rsc = ['AiEnterpriseInteraction.Read.User'];
    await load(s);
    const r = await doctor();
    const v = r.json?.verdict;
    assert.equal(v?.primary.code, 'permission.delegated-only', explain(r));
    assert.equal(v.primary.likelihood, 'confirmed');
    const account = r.json.checks.find((c: any) => c.id === 'user.account');
    assert.match(account.evidence.join(' '), /resource-specific grant AiEnterpriseInteraction\.Read\.User to this app/);
    assert.ok(r.json.requests.some((q: any) => /\/users\/[^/]+\/permissionGrants/.test(q.url) && q.status === 200));
  });
});

describe('candidates that cannot help while the primary cause stands', () => {
  test('a guest without a licence: license.no-copilot is marked blocked by user.guest, not offered as "assign Copilot"', async () => {
    const s = scenario('user.guest');
    s.tenants[0].users[0].licenses = [];
    await load(s);
    const r = await doctor();
    const v = r.json?.verdict;
    assert.equal(v?.primary.code, 'user.guest', explain(r));
    const lic = v.candidates.find((c: any) => c.code === 'license.no-copilot');
    assert.ok(lic, explain(r));
    assert.equal(lic.blockedBy, 'user.guest');
    assert.doesNotMatch(lic.fix, /assign Microsoft 365 Copilot/i);
    assert.match(lic.fix, /Does not help while .* is a guest/);
    // Candidates that could help (none here besides the guest itself) come before blocked ones.
    const firstBlocked = v.candidates.findIndex((c: any) => c.blockedBy);
    assert.ok(v.candidates.slice(firstBlocked).every((c: any) => c.blockedBy), 'blocked candidates come last');
    // The human report says so too.
    const human = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'doctor', '--emulator', emu.url, '--ca', emu.ca], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', () => resolve(out));
      child.stdin.end();
    });
    assert.match(human, /license\.no-copilot \(confirmed; cannot help while user\.guest stands\)/);
  });

  test('21Vianet with only the free Chat: license.chat-only is marked blocked by tenant.unsupported-cloud', async () => {
    const s = scenario('tenant.unsupported-cloud');
    s.tenants[0].users[0].licenses = [{ sku: 'SPE_E5' }];
    await load(s);
    const r = await doctor();
    const v = r.json?.verdict;
    assert.equal(v?.primary.code, 'tenant.unsupported-cloud', explain(r));
    const chat = v.candidates.find((c: any) => c.code === 'license.chat-only');
    assert.ok(chat, explain(r));
    assert.equal(chat.blockedBy, 'tenant.unsupported-cloud');
    assert.doesNotMatch(chat.fix, /Assign a Microsoft 365 Copilot licence/);
    for (const c of v.candidates.filter((k: any) => k.likelihood !== 'unlikely')) assert.equal(c.blockedBy, 'tenant.unsupported-cloud', c.code);
  });
});

describe('the tenant-wide 403 (tenant.not-enabled)', () => {
  test('the fix names another licensed member with the exact command, and the exact --bundle command, same flags, no secret', async () => {
    const s = scenario('tenant.not-enabled');
    s.tenants[0].users.push(
      { userPrincipalName: 'guest_x.com#EXT#@northwind.onmicrosoft.com', userType: 'Guest', licenses: [{ sku: 'Microsoft_365_Copilot' }] },
      { userPrincipalName: 'alex.wilber@northwind.onmicrosoft.com', licenses: [{ sku: 'SPE_E3' }, { sku: 'Microsoft_365_Copilot' }] },
    );
    await load(s);
    const secret = (await emu.tenantList()).tenants[0].apps[0].secrets[0].value;
    const r = await doctor(['--client-secret', secret, '--timeout', '20']);
    const v = r.json?.verdict;
    assert.equal(v?.primary.code, 'tenant.not-enabled', explain(r));
    const flags = `--emulator ${emu.url} --ca ${emu.ca} --json --client-secret "$AZURE_CLIENT_SECRET" --timeout 20`;
    assert.ok(v.primary.fix.includes(`copilog doctor ${flags} --user alex.wilber@northwind.onmicrosoft.com`), v.primary.fix);
    assert.ok(v.primary.fix.includes(`copilog doctor ${flags} --bundle ./copilog-support`), v.primary.fix);
    assert.doesNotMatch(v.primary.fix, /guest_x/, 'a guest is not suggested');
    assert.ok(!r.stdout.includes(secret), 'the secret never appears');
    // The mailbox looks fine in Graph, but an Exchange application access policy cannot be seen there.
    const mailbox = r.json.checks.find((c: any) => c.id === 'user.mailbox');
    assert.match(mailbox.evidence.join(' '), /not checkable through Graph/);
    assert.match(mailbox.evidence.join(' '), /Test-ApplicationAccessPolicy -Identity megan\.bowen@northwind\.onmicrosoft\.com -AppId 5c3e1a9b-7d2f-4e6a-9b8c-1d2e3f4a5b6c/);
    const policy = v.candidates.find((c: any) => c.code === 'mailbox.unavailable');
    assert.equal(policy?.likelihood, 'possible', 'not "ruled out" from licence plans alone');
    assert.match(policy.title, /not checkable through Graph/);
    assert.match(policy.fix, /Test-ApplicationAccessPolicy -Identity megan\.bowen@northwind\.onmicrosoft\.com -AppId 5c3e1a9b-7d2f-4e6a-9b8c-1d2e3f4a5b6c/);
  });

  test('when export works, the mailbox stays ruled out and no policy advice is given', async () => {
    await load(scenario('ok'));
    const r = await doctor();
    assert.equal(r.json?.verdict.primary.code, 'ok', explain(r));
    const policy = r.json.verdict.candidates.find((c: any) => c.code === 'mailbox.unavailable');
    assert.ok(!policy || policy.likelihood === 'unlikely');
  });
});

describe('a licence assigned minutes ago', () => {
  test('scenarios/doctor/license.no-copilot-pending.yaml: the pending plan is the likely cause, with its own title and fix', async () => {
    await load(scenario('license.no-copilot-pending'));
    const r = await doctor();
    const v = r.json?.verdict;
    assert.equal(v?.primary.code, 'license.no-copilot', explain(r));
    assert.equal(v.primary.title, 'The Copilot plan is assigned but not provisioned yet');
    assert.match(v.primary.fix, /up to 24 h/);
    const lic = r.json.checks.find((c: any) => c.id === 'user.license');
    assert.equal(lic.status, 'warn');
    assert.match(lic.title, /not provisioned yet \(PendingActivation\)/);
    assert.equal(r.json.users[0].probe.status, 403);
  });
});

describe('a throttled probe', () => {
  const VC = { tenantId: 't', appId: 'a', authorityHost: 'login.microsoftonline.com', graphScope: 'https://graph.microsoft.com/.default', graphAudience: 'https://graph.microsoft.com', cloud: 'global' };
  const user = (retryAfterSeconds: number, attempts: number): any => ({
    key: 'u@contoso.com', userPrincipalName: 'u@contoso.com', lookup: 'found', userType: 'Member', accountEnabled: true, licenses: [],
    copilot: { businessChat: 'enabled', skus: ['Microsoft_365_Copilot'], freeChat: false }, mailbox: { state: 'online', exchangePlans: [], signals: [] },
    probe: { method: 'GET', url: 'https://graph.microsoft.com/v1.0/x', status: 429, code: 'TooManyRequests', message: 'Please retry again later.', clientRequestId: 'c', durationMs: 1, attempts, retryAfterSeconds },
  });
  const facts = (u: any): any => ({ configProblems: [], tokenSource: 'acquired', users: [u], claims: { roles: [EXPORT_ROLE] }, audienceOk: true, tenantOk: true, appOnly: true, hasExportRole: true });

  test('a short Retry-After after every attempt: the explanation says the retries ran out', () => {
    const u = user(1, 3);
    const v = decide(facts(u), VC, u);
    assert.equal(v.primary.code, 'throttled');
    assert.match(v.primary.explanation, /retries ran out/);
    assert.doesNotMatch(v.primary.explanation, /longer than the doctor waits/);
    assert.ok(v.primary.supports.includes('Retry-After: 1 s'));
  });

  test('a Retry-After beyond one retry wait: the explanation says so, with the wait', () => {
    const u = user(999, 1);
    const v = decide(facts(u), VC, u);
    assert.equal(v.primary.code, 'throttled');
    assert.match(v.primary.explanation, /asking to wait 999 s, longer than the doctor waits for one retry/);
  });
});
