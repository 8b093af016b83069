// copilog doctor, end to end: one emulator for the file, a scenario per verdict loaded through the
// control API, and the REAL command line run as a child process against it. Each scenario in
// scenarios/doctor/<code>.yaml must produce the verdict <code>; a "# doctor-args:" comment in a
// scenario holds the flags it needs (a wrong --tenant, --client-id or --client-secret).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { SCENARIO_DIR } from '../src/cli/scenarios.js';
import { redact } from '../src/cli/doctor/bundle.js';
import { checkConfiguration, checkSubscriptions, checkUser, planState } from '../src/cli/doctor/checks.js';
import { codeForAadsts, decide, transportDraft } from '../src/cli/doctor/verdict.js';
import { useColour } from '../src/cli/doctor/render.js';
import { ensurePki } from '../src/emulator/pki.js';
import { runDoctor } from '../src/cli/doctor/run.js';
import { resolveConfig } from '../src/client/config.js';
import { GraphRequestError } from '../src/client/errors.js';
import { builtinCatalog, PLAN } from '../src/graph/licensing.js';
import { cleanDir, tempDir, withEmulator, type TestEmulator } from './support/emulator.js';
import { silentServer } from './support/net.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCTOR_DIR = join(SCENARIO_DIR, 'doctor');
const BIN = join(ROOT, 'bin', 'copilog.js');

let emu: TestEmulator;

interface Run { code: number | null; stdout: string; stderr: string; ms: number; json: any }

/** The real CLI, with a clean environment (no AZURE_* from the developer's shell). */
function copilog(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(AZURE_|COPILOG_|NO_COLOR|FORCE_COLOR)/.test(k)) env[k] = v;
  Object.assign(env, { COPILOG_HOME: join(ROOT, '.no-such-copilog-home') }, opts.env);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, ms: Date.now() - started, json });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

const doctor = (args: string[] = [], opts?: Parameters<typeof copilog>[1]) => copilog(['doctor', '--emulator', emu.url, '--ca', emu.ca, '--json', ...args], opts);

function scenarioFile(file: string): { body: unknown; args: string[] } {
  const text = readFileSync(file, 'utf8');
  const line = /^# doctor-args:(.*)$/m.exec(text)?.[1]?.trim();
  return { body: parseYaml(text), args: line ? line.split(/\s+/) : [] };
}

async function load(file: string): Promise<string[]> {
  const s = scenarioFile(file);
  await emu.control('/scenario', 'POST', s.body);
  return s.args;
}

const explain = (r: Run) => `exit ${r.code}\nstderr: ${r.stderr.slice(0, 2000)}\nverdict: ${JSON.stringify(r.json?.verdict?.primary, null, 1)?.slice(0, 2000)}\nchecks: ${JSON.stringify(r.json?.checks?.map((c: any) => [c.id, c.status, c.title]))}`;

before(async () => {
  emu = await withEmulator(join(DOCTOR_DIR, 'ok.yaml'));
});
after(async () => {
  await emu?.close();
});

describe('one scenario per verdict code (scenarios/doctor/<code>.yaml)', () => {
  const files = readdirSync(DOCTOR_DIR).filter((f) => f.endsWith('.yaml')).sort();
  const REQUIRED = [
    'ok', 'auth.tenant-not-found', 'auth.app-not-found', 'auth.invalid-secret', 'auth.expired-secret', 'auth.invalid-certificate',
    'token.wrong-audience', 'permission.delegated-only', 'permission.missing-role', 'permission.not-consented', 'user.not-found', 'user.guest', 'license.no-copilot',
    'license.plan-disabled', 'license.chat-only', 'mailbox.unavailable', 'tenant.not-enabled', 'throttled',
  ];

  test('every required verdict has its scenario', () => {
    const codes = files.map((f) => f.replace(/\.yaml$/, ''));
    for (const c of REQUIRED) assert.ok(codes.includes(c), `missing scenarios/doctor/${c}.yaml`);
  });

  for (const file of files) {
    // A variant of a code (<code>-<variant>.yaml) names its code on a "# doctor-code:" line.
    const expected = /^# doctor-code: (\S+)$/m.exec(readFileSync(join(DOCTOR_DIR, file), 'utf8'))?.[1] ?? file.replace(/\.yaml$/, '');
    test(`${file.replace(/\.yaml$/, '')}`, async () => {
      const args = await load(join(DOCTOR_DIR, file));
      const r = await doctor(args);
      assert.ok(r.json, explain(r));
      assert.equal(r.json.verdict.primary.code, expected, explain(r));
      assert.equal(r.code, expected === 'ok' ? 0 : 1, explain(r));
      assert.ok(r.json.verdict.primary.fix && r.json.verdict.primary.explanation && r.json.verdict.primary.docs.startsWith('https://learn.microsoft.com/'));
      assert.ok(r.json.verdict.primary.supports.length > 0, 'the primary cause carries evidence');
      for (const c of r.json.checks) assert.match(c.status, /^(pass|warn|fail|skip)$/);
    });
  }

  test('seed-403 (the unresolved 403) is tenant.not-enabled, told honestly', { skip: !existsSync(join(SCENARIO_DIR, 'seed-403.yaml')) && 'no scenarios/seed-403.yaml' }, async () => {
    await load(join(SCENARIO_DIR, 'seed-403.yaml'));
    const r = await doctor();
    assert.equal(r.json?.verdict.primary.code, 'tenant.not-enabled', explain(r));
    assert.equal(r.code, 1);
    assert.match(r.json.verdict.primary.title, /not checkable from the tenant side/);
    assert.match(r.json.verdict.primary.fix, /support case/);
    const probe = r.json.users[0].probe;
    assert.equal(probe.status, 403);
    assert.equal(probe.code, 'Forbidden');
    for (const k of ['requestId', 'clientRequestId', 'date', 'agsDiagnostic']) assert.ok(probe[k], `probe.${k}`);
    const failing = r.json.checks.filter((c: any) => c.status === 'fail').map((c: any) => c.id);
    assert.deepEqual(failing, ['probe'], 'every checkable precondition passes');
  });
});

describe('evidence', () => {
  test('the JSON document has the documented shape and names the default app and user', async () => {
    await load(join(DOCTOR_DIR, 'ok.yaml'));
    // The same user twice, in another letter case: checked once.
    const r = await doctor(['--user', 'megan.bowen@northwind.onmicrosoft.com', '--user', 'Megan.Bowen@Northwind.onmicrosoft.com']);
    const j = r.json;
    assert.equal(j.users.length, 1, 'a repeated --user is checked once');
    for (const k of ['version', 'tenantId', 'appId', 'cloud', 'startedAt', 'checks', 'users', 'verdict', 'bundle']) assert.ok(k in j, k);
    assert.equal(j.tenantId, '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9');
    assert.equal(j.appId, '5c3e1a9b-7d2f-4e6a-9b8c-1d2e3f4a5b6c');
    assert.equal(j.users[0].userPrincipalName, 'megan.bowen@northwind.onmicrosoft.com');
    assert.deepEqual(j.checks.map((c: any) => c.id), ['config', 'token', 'claims', 'consent', 'user.account', 'user.license', 'user.mailbox', 'tenant', 'probe', 'subscriptions']);
    for (const c of j.checks) for (const k of ['id', 'status', 'title', 'evidence']) assert.ok(k in c, `${c.id}.${k}`);
    assert.equal(j.claims.idtyp, 'app');
    assert.ok(j.claims.roles.includes('AiEnterpriseInteraction.Read.All'));
    assert.equal(j.users[0].copilot.businessChat, 'enabled');
    const subs = j.checks.find((c: any) => c.id === 'subscriptions');
    // The emulator serves /subscriptions now: the app's own subscriptions are listed and counted.
    assert.equal(subs.status, 'pass', JSON.stringify(subs));
    assert.equal(j.bundle, null);
  });

  test('a token for another resource: aud named, Graph\'s 401 recorded', async () => {
    await load(join(DOCTOR_DIR, 'token.wrong-audience.yaml'));
    const r = await doctor();
    assert.equal(r.json.verdict.primary.code, 'token.wrong-audience');
    assert.equal(r.json.claims.aud, 'https://outlook.office365.com');
    assert.equal(r.json.users[0].probe.status, 401);
    // The roles of a token for another resource say nothing about Graph: no permission candidates.
    const codes = r.json.verdict.candidates.map((c: any) => c.code);
    assert.ok(!codes.some((c: string) => c.startsWith('permission.')), `role-based candidates listed: ${codes}`);
    const claims = r.json.checks.find((c: any) => c.id === 'claims');
    assert.match(claims.evidence.join(' '), /not judged, as the token is not for Microsoft Graph/);
    assert.doesNotMatch(claims.fix, /API permissions/);
  });

  test('permission.not-consented names the missing assignment; missing-role says the app never asked', async () => {
    await load(join(DOCTOR_DIR, 'permission.not-consented.yaml'));
    let r = await doctor();
    assert.match(r.json.verdict.primary.supports.join(' '), /requests AiEnterpriseInteraction\.Read\.All/);
    assert.match(r.json.verdict.primary.supports.join(' '), /no appRoleAssignment/);
    await load(join(DOCTOR_DIR, 'permission.missing-role.yaml'));
    r = await doctor();
    assert.match(r.json.verdict.primary.supports.join(' '), /does not request/);
  });

  test('a token that predates the grant: permission.not-consented, "get a new token"', async () => {
    // The app asked for the export role but had consent for the directory reads only; a token is
    // issued (10 minutes ago), then an administrator grants consent (a minute ago).
    await load(join(DOCTOR_DIR, 'permission.not-consented.yaml'));
    const tenant = (await emu.tenantList()).tenants[0];
    const minted = await emu.control('/tokens', 'POST', { issuedAt: '-10m' });
    await emu.control(`/tenants/${tenant.id}/apps/${tenant.default.appId}`, 'PATCH', {
      consented: ['AiEnterpriseInteraction.Read.All', 'User.Read.All', 'Organization.Read.All', 'Application.Read.All'], consentedAt: '-1m',
    });
    const r = await doctor(['--access-token', minted.access_token]);
    assert.equal(r.json.verdict.primary.code, 'permission.not-consented', explain(r));
    assert.match(r.json.verdict.primary.supports.join(' '), /predates the grant; get a new token/);
    assert.match(r.json.verdict.primary.fix, /new token/);
    // A fresh token (no --access-token) carries the role: the export works.
    const fresh = await doctor();
    assert.equal(fresh.json.verdict.primary.code, 'ok', explain(fresh));
  });

  test('--access-token with a delegated token: token.not-app-only; with the delegated Copilot scope: permission.delegated-only', async () => {
    await load(join(DOCTOR_DIR, 'ok.yaml'));
    const delegated = await emu.control('/tokens', 'POST', { claims: { scp: 'User.Read', idtyp: 'user', roles: null } });
    let r = await doctor(['--access-token', delegated.access_token]);
    assert.equal(r.json.verdict.primary.code, 'token.not-app-only', explain(r));
    assert.equal(r.json.tokenSource, 'provided');
    assert.ok(r.json.verdict.candidates.some((c: any) => c.code === 'permission.delegated-only'));
    const copilotScope = await emu.control('/tokens', 'POST', { claims: { scp: 'AiEnterpriseInteraction.Read User.Read', idtyp: 'user', roles: null } });
    r = await doctor(['--access-token', '-'], { stdin: copilotScope.access_token + '\n' });
    assert.equal(r.json.verdict.primary.code, 'permission.delegated-only', explain(r));
  });

  test('--access-token from another tenant: token.wrong-tenant', async () => {
    await load(join(DOCTOR_DIR, 'ok.yaml'));
    const other = '11111111-2222-4333-8444-555555555555';
    const minted = await emu.control('/tokens', 'POST', { claims: { tid: other, iss: `https://sts.windows.net/${other}/` } });
    const r = await doctor(['--access-token', minted.access_token]);
    assert.equal(r.json.verdict.primary.code, 'token.wrong-tenant', explain(r));
  });

  test('without directory permissions the checks skip, naming the permission; a 403 is then unknown, not blamed on the tenant', async () => {
    // Corrected (review finding 1): this used to assert tenant.not-enabled, claiming "a licensed
    // member with a mailbox" that the doctor had not been able to read.
    const s = parseYaml(readFileSync(join(DOCTOR_DIR, 'ok.yaml'), 'utf8'));
    s.tenants[0].apps[0].permissions = ['AiEnterpriseInteraction.Read.All'];
    s.tenants[0].features = { interactionExport: false };
    await emu.control('/scenario', 'POST', s);
    const r = await doctor();
    const check = (id: string) => r.json.checks.find((c: any) => c.id === id);
    assert.equal(check('consent').status, 'skip');
    assert.match(check('consent').evidence.join(' '), /Application\.Read\.All/);
    assert.equal(check('user.account').status, 'skip');
    assert.match(check('user.account').evidence.join(' ') + check('user.account').fix, /User\.Read\.All/);
    assert.equal(check('tenant').status, 'skip');
    assert.match(check('tenant').evidence.join(' '), /LicenseAssignment\.Read\.All/);
    // The probe (by UPN, as the user could not be read) is refused: what could not be verified is said.
    const v = r.json.verdict.primary;
    assert.equal(v.code, 'unknown', explain(r));
    assert.match(v.weakens.join(' '), /not verified: membership, licences and mailbox .*User\.Read\.All/);
    assert.match(v.fix, /Grant the app User\.Read\.All, LicenseAssignment\.Read\.All and Organization\.Read\.All .*run copilog doctor again/);
    assert.doesNotMatch(v.explanation, /licensed member|with a mailbox/);
    const candidates = r.json.verdict.candidates.map((c: any) => `${c.code}:${c.likelihood}`);
    assert.ok(candidates.includes('tenant.not-enabled:possible'), candidates.join(', '));
    assert.ok(candidates.includes('license.no-copilot:possible'), candidates.join(', '));
  });

  test('a user without Copilot, unreadable to the app: unknown with the permissions to grant; with the tenant\'s SKUs readable and none of them Copilot: license.no-copilot (likely)', async () => {
    const s = parseYaml(readFileSync(join(DOCTOR_DIR, 'ok.yaml'), 'utf8'));
    s.tenants[0].users[0].licenses = [{ sku: 'SPE_E5' }];
    s.tenants[0].apps[0].permissions = ['AiEnterpriseInteraction.Read.All'];
    await emu.control('/scenario', 'POST', s);
    let r = await doctor();
    assert.equal(r.json.verdict.primary.code, 'unknown', explain(r));
    assert.match(r.json.verdict.primary.fix, /User\.Read\.All.*LicenseAssignment\.Read\.All.*Organization\.Read\.All/);
    s.tenants[0].apps[0].permissions = ['AiEnterpriseInteraction.Read.All', 'Organization.Read.All'];
    await emu.control('/scenario', 'POST', s);
    r = await doctor();
    assert.equal(r.json.verdict.primary.code, 'license.no-copilot', explain(r));
    assert.equal(r.json.verdict.primary.likelihood, 'likely');
    assert.match(r.json.verdict.primary.supports.join(' '), /subscribes to no Microsoft 365 Copilot SKU/);
    assert.match(r.json.verdict.primary.weakens.join(' '), /not verified: membership, licences and mailbox/);
  });

  test('tenant.not-enabled says only what was checked (admin consent unread: not claimed)', async () => {
    const s = parseYaml(readFileSync(join(DOCTOR_DIR, 'tenant.not-enabled.yaml'), 'utf8'));
    s.tenants[0].apps[0].permissions = ['AiEnterpriseInteraction.Read.All', 'User.Read.All', 'Organization.Read.All'];
    await emu.control('/scenario', 'POST', s);
    const r = await doctor();
    const v = r.json.verdict.primary;
    assert.equal(v.code, 'tenant.not-enabled', explain(r));
    assert.match(v.explanation, /megan\.bowen@northwind\.onmicrosoft\.com is an enabled member; M365_COPILOT_BUSINESS_CHAT is enabled \(Microsoft_365_Copilot\); an Exchange Online mailbox/);
    assert.match(v.explanation, /the tenant subscribes to Microsoft_365_Copilot/);
    assert.doesNotMatch(v.explanation, /admin consent/);
    assert.match(v.weakens.join(' '), /admin consent was not read/);
  });

  test('a disabled user where export is off tenant-wide: user.disabled, with tenant.not-enabled listed; a healthy member refused too makes it tenant.not-enabled, in either --user order', async () => {
    const s = parseYaml(readFileSync(join(DOCTOR_DIR, 'tenant.not-enabled.yaml'), 'utf8'));
    s.tenants[0].users.push({ userPrincipalName: 'alex.wilber@northwind.onmicrosoft.com', displayName: 'Alex Wilber', accountEnabled: false, licenses: [{ sku: 'SPE_E5' }, { sku: 'Microsoft_365_Copilot' }] });
    await emu.control('/scenario', 'POST', s);
    const alex = 'alex.wilber@northwind.onmicrosoft.com';
    const megan = 'megan.bowen@northwind.onmicrosoft.com';
    const one = await doctor(['--user', alex]);
    assert.equal(one.json.verdict.primary.code, 'user.disabled', explain(one));
    const listed = one.json.verdict.candidates.find((c: any) => c.code === 'tenant.not-enabled');
    assert.ok(listed, `tenant.not-enabled among ${one.json.verdict.candidates.map((c: any) => c.code)}`);
    assert.equal(listed.likelihood, 'possible');
    // The run that tells the two apart, with the same flags and a licensed member the doctor found.
    assert.match(listed.fix, /run the doctor for another enabled member who holds Microsoft 365 Copilot \(megan\.bowen@northwind\.onmicrosoft\.com\): copilog doctor --emulator \S+ --ca \S+ --json --user megan\.bowen@northwind\.onmicrosoft\.com /);
    const verdicts: string[] = [];
    for (const order of [[alex, megan], [megan, alex]]) {
      const r = await doctor(order.flatMap((u) => ['--user', u]));
      assert.equal(r.json.verdict.primary.code, 'tenant.not-enabled', `${order}: ${explain(r)}`);
      assert.deepEqual(Object.fromEntries(r.json.users.map((u: any) => [u.userPrincipalName, u.verdict])), { [alex]: 'user.disabled', [megan]: 'tenant.not-enabled' });
      assert.match(r.json.verdict.primary.supports.join(' '), /alex\.wilber@northwind\.onmicrosoft\.com is refused too \(its own suspect: user\.disabled\)/);
      assert.ok(r.json.verdict.candidates.some((c: any) => c.code === 'user.disabled' && c.user === alex));
      verdicts.push(JSON.stringify({ code: r.json.verdict.primary.code, candidates: r.json.verdict.candidates.map((c: any) => [c.code, c.user, c.likelihood]) }));
    }
    assert.equal(verdicts[0], verdicts[1], 'the order of --user does not change the verdict');
  });

  test('the config check names a credential that was set but not used (--client-secret over AZURE_CLIENT_CERTIFICATE_PATH)', async () => {
    const config = await resolveConfig({ clientSecret: 'flag-secret-value' }, { AZURE_TENANT_ID: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9', AZURE_CLIENT_ID: '5c3e1a9b-7d2f-4e6a-9b8c-1d2e3f4a5b6c', AZURE_CLIENT_CERTIFICATE_PATH: '/no/such.pem' });
    const ctx: any = { config, facts: { configProblems: [], tokenSource: 'none', users: [] }, verdict: { appId: config.clientId } };
    const r = await checkConfiguration(ctx, { tokenGiven: false });
    assert.equal(r.status, 'pass', JSON.stringify(r));
    const text = r.evidence.join('\n');
    assert.match(text, /credential: client secret \(from --client-secret/);
    assert.match(text, /AZURE_CLIENT_CERTIFICATE_PATH is set but not used: --client-secret takes precedence/);
    assert.ok(!ctx.facts.certificateError, 'the ignored certificate is not read');
  });

  test('subscriptions are counted against the quotas when the endpoint answers', async () => {
    const facts: any = { configProblems: [], tokenSource: 'acquired', users: [], claims: { appid: 'app-1', roles: [] } };
    const subs = [
      { id: '1', resource: '/copilot/interactionHistory/getAllEnterpriseInteractions', changeType: 'created', applicationId: 'app-1', expirationDateTime: '' },
      { id: '2', resource: '/copilot/users/u1/interactionHistory/getAllEnterpriseInteractions', changeType: 'created', applicationId: 'app-1', expirationDateTime: '' },
      { id: '3', resource: "/copilot/users('u1')/interactionHistory/getAllEnterpriseInteractions", changeType: 'created', applicationId: 'app-1', expirationDateTime: '' },
      { id: '4', resource: '/copilot/users/u2/interactionHistory/getAllEnterpriseInteractions', changeType: 'created', applicationId: 'other-app', expirationDateTime: '' },
      { id: '5', resource: '/users/u1/messages', changeType: 'created', applicationId: 'app-1', expirationDateTime: '' },
    ];
    const ctx: any = { facts, config: { clientId: 'app-1' }, graph: { list: async () => subs } };
    const r = await checkSubscriptions(ctx);
    assert.equal(r.status, 'fail', JSON.stringify(r));
    assert.deepEqual(facts.subscriptions, { read: true, tenantWide: 1, perUser: { u1: 2 }, total: 5 });
    assert.match(r.evidence.join(' '), /tenant-wide: 1 of 1/);
    assert.match(r.evidence.join(' '), /user u1: 2 of 1/);
  });

  test('several users: the most fundamental failing cause decides, whatever the order; each has its own verdict', async () => {
    await emu.control('/scenario', 'POST', parseYaml(readFileSync(join(SCENARIO_DIR, 'demo.yaml'), 'utf8')));
    const users = ['adele.vance@contoso.onmicrosoft.com', 'patti.fernandez@contoso.onmicrosoft.com', 'miriam.graham@contoso.onmicrosoft.com'];
    const r = await doctor(users.flatMap((u) => ['--user', u]));
    assert.deepEqual(r.json.users.map((u: any) => u.verdict), ['ok', 'license.chat-only', 'license.plan-disabled'], explain(r));
    assert.equal(r.json.verdict.primary.code, 'license.chat-only');
    assert.ok(r.json.verdict.candidates.some((c: any) => c.code === 'license.plan-disabled' && c.user === users[2]), 'the other failing user is a candidate');
    assert.equal(r.code, 1);
    const reversed = await doctor([...users].reverse().flatMap((u) => ['--user', u]));
    assert.equal(reversed.json.verdict.primary.code, 'license.chat-only', explain(reversed));
  });

  test('--licensing-csv: Microsoft\'s CSV names the SKUs', async () => {
    const csv = fileURLToPath(new URL('../../shared/graph-reference/licensing-service-plans.csv', import.meta.url));
    if (!existsSync(csv)) return;
    await load(join(DOCTOR_DIR, 'license.chat-only.yaml'));
    const r = await doctor(['--licensing-csv', csv]);
    assert.equal(r.json.verdict.primary.code, 'license.chat-only');
    assert.ok(r.json.users[0].licenses[0].displayName, 'SKU display name from the CSV');
  });

  test('human report: plain without a TTY, no colour codes, verdict and fix stated', async () => {
    await load(join(DOCTOR_DIR, 'license.plan-disabled.yaml'));
    const r = await copilog(['doctor', '--emulator', emu.url, '--ca', emu.ca]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    assert.match(r.stdout, /Verdict: license\.plan-disabled/);
    assert.match(r.stdout, /FAIL {2}user\.license/);
    assert.match(r.stdout, /Fix:/);
    const coloured = await copilog(['doctor', '--emulator', emu.url, '--ca', emu.ca], { env: { FORCE_COLOR: '1' } });
    assert.match(coloured.stdout, /\x1b\[31m/);
  });
});

describe('no answer at all: network and TLS trust are not the service', () => {
  test('--ca naming a CA that did not sign the emulator\'s certificate: a trust problem with a CA hint, not "service health"', async () => {
    const dir = tempDir('copilog-other-ca-');
    try {
      const other = await ensurePki(dir);
      const r = await copilog(['doctor', '--emulator', emu.url, '--ca', other.ca.certPath, '--json', '--timeout', '5']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /presented a certificate that the CA in .*ca\.crt did not sign/);
      assert.match(r.stderr, /Pass --ca with the emulator's own CA/);
      assert.doesNotMatch(r.stderr, /Service health|Start it with|no emulator answers/);
    } finally {
      cleanDir(dir);
    }
  });

  test('the verdict maps a TLS failure to config.invalid (CA hint), DNS/refused to a connectivity unknown, a slow answer and a 5xx to service.unavailable', () => {
    const VC = { tenantId: 't', appId: 'a', authorityHost: 'login.microsoftonline.com', graphScope: 'https://graph.microsoft.com/.default', graphAudience: 'https://graph.microsoft.com', cloud: 'global' };
    const base = () => ({ configProblems: [], tokenSource: 'none', users: [] } as any);
    const tokenFailure = (transportKind: string, transportPhase: string, message: string) => {
      const f = base();
      f.tokenError = { error: transportKind, description: message, transport: `POST https://login.microsoftonline.com/t/oauth2/v2.0/token: ${message}`, transportKind, transportPhase, host: 'login.microsoftonline.com' };
      return decide(f, VC).primary;
    };
    let v = tokenFailure('tls', 'connect', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate');
    assert.equal(v.code, 'config.invalid');
    assert.match(v.title, /certificate of login\.microsoftonline\.com is not trusted/);
    assert.match(v.fix, /--ca PATH/);
    v = tokenFailure('network', 'connect', 'ENOTFOUND: getaddrinfo ENOTFOUND login.microsoftonline.com');
    assert.equal(v.code, 'unknown');
    assert.match(v.title, /could not reach login\.microsoftonline\.com/);
    assert.match(v.fix, /DNS|nslookup/);
    assert.doesNotMatch(v.fix, /Service health/);
    v = tokenFailure('timeout', 'connect', 'could not connect to login.microsoftonline.com within 10000 ms');
    assert.equal(v.code, 'unknown', 'no connection at all is the network, not the service');

    const probed = (probe: any) => {
      const f = base();
      Object.assign(f, { tokenSource: 'acquired', audienceOk: true, tenantOk: true, appOnly: true, hasExportRole: true, claims: { roles: ['AiEnterpriseInteraction.Read.All'] } });
      const u: any = { key: 'lee@contoso.com', lookup: 'found', userType: 'Member', accountEnabled: true, licenses: [], copilot: { businessChat: 'enabled', skus: ['Microsoft_365_Copilot'], freeChat: false }, mailbox: { state: 'online', exchangePlans: [], signals: [] }, probe: { method: 'GET', url: 'https://graph.microsoft.com/v1.0/copilot/users/x/interactionHistory/getAllEnterpriseInteractions', clientRequestId: 'c', durationMs: 1, attempts: 1, ...probe } };
      f.users.push(u);
      return decide(f, VC, u).primary;
    };
    assert.equal(probed({ status: 0, transportError: 'ECONNREFUSED: connect ECONNREFUSED', transportKind: 'network', transportPhase: 'connect' }).code, 'unknown');
    assert.equal(probed({ status: 0, transportError: 'self-signed certificate in certificate chain', transportKind: 'tls', transportPhase: 'connect' }).code, 'config.invalid');
    assert.equal(probed({ status: 0, transportError: 'no answer within 10000 ms', transportKind: 'timeout', transportPhase: 'response' }).code, 'service.unavailable');
    assert.equal(probed({ status: 503, code: 'serviceNotAvailable', message: 'busy' }).code, 'service.unavailable');
    assert.equal(transportDraft('network', 'response', 'graph.microsoft.com', 'reset').likelihood, 'likely');
  });
});

describe('licences and mailbox from what Graph returns (unit: fake user objects)', () => {
  const VC = { tenantId: 't', appId: 'a', authorityHost: 'login.microsoftonline.com', graphScope: 'https://graph.microsoft.com/.default', graphAudience: 'https://graph.microsoft.com', cloud: 'global' };
  const UNKNOWN_SKU = 'a0000000-0000-4000-8000-00000000beef';
  const COPILOT_SKU = '639dec6b-bb19-468b-871c-c5c441c4b0cb';
  const denied = () => new GraphRequestError({ status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.', method: 'GET', url: 'https://graph.microsoft.com/v1.0/users/u1/licenseDetails', clientRequestId: 'c' });
  /** A context whose Graph returns this user; licenseDetails answers `details`, or 403. */
  function fakeCtx(user: any, details?: any[]) {
    const facts: any = { configProblems: [], tokenSource: 'acquired', users: [], audienceOk: true, tenantOk: true, appOnly: true, hasExportRole: true,
      tenant: { cloud: 'global', skusRead: true, copilotSkus: [{ skuPartNumber: 'Microsoft_365_Copilot', skuId: COPILOT_SKU, consumedUnits: 1, enabledUnits: 10, capabilityStatus: 'Enabled' }] } };
    const graph = { get: async () => user, list: async () => { if (!details) throw denied(); return details; } };
    return { facts, config: { clientId: 'a' }, catalog: builtinCatalog(), verdict: VC, graph, transport: { trace: [] } } as any;
  }
  const baseUser = { id: 'u1', userPrincipalName: 'lee@contoso.com', userType: 'Member', accountEnabled: true };
  const refused = { method: 'GET', url: 'x', status: 403, code: 'Forbidden', message: 'UnknownError', clientRequestId: 'c', durationMs: 1, attempts: 1 };

  test('an unknown SKU with licenseDetails unreadable: plans from assignedPlans; without them, unknown (not "no Copilot")', async () => {
    const user = {
      ...baseUser,
      assignedLicenses: [{ skuId: UNKNOWN_SKU, disabledPlans: [] }],
      assignedPlans: [
        { servicePlanId: PLAN.M365_COPILOT_BUSINESS_CHAT, capabilityStatus: 'Enabled', service: 'M365CopilotBusinessChat' },
        { servicePlanId: PLAN.EXCHANGE_S_ENTERPRISE, capabilityStatus: 'Enabled', service: 'exchange' },
      ],
      provisionedPlans: [{ service: 'exchange', capabilityStatus: 'Enabled', provisioningStatus: 'Success' }],
    };
    let ctx = fakeCtx(user);
    let [, license, mailbox] = await checkUser(ctx, 'lee@contoso.com');
    let u = ctx.facts.users[0];
    assert.equal(license!.status, 'pass', JSON.stringify(license));
    assert.equal(u.copilot.businessChat, 'enabled');
    assert.match(license!.evidence.join(' '), /M365_COPILOT_BUSINESS_CHAT .*: Enabled \(user\.assignedPlans\)/);
    assert.equal(mailbox!.status, 'pass');

    // No assignedPlans either: the SKU's contents are unknown, and so is the Copilot plan.
    ctx = fakeCtx({ ...user, assignedPlans: undefined });
    [, license, mailbox] = await checkUser(ctx, 'lee@contoso.com');
    u = ctx.facts.users[0];
    assert.equal(u.copilot.businessChat, 'unknown');
    assert.equal(license!.status, 'warn', 'not a failure: nothing shows the plan is absent');
    assert.match(license!.fix!, /LicenseAssignment\.Read\.All|--licensing-csv/);
    // provisionedPlans exchange: Success outranks "no plan found in the licences".
    assert.equal(u.mailbox.state, 'online');
    assert.equal(mailbox!.status, 'pass');
    assert.doesNotMatch(mailbox!.evidence.join(' '), /no enabled Exchange Online mailbox plan/);
    u.probe = refused;
    const v = decide(ctx.facts, VC, u);
    assert.notEqual(v.primary.code, 'license.no-copilot');
    assert.ok(!v.candidates.some((c) => c.code === 'license.no-copilot' && c.likelihood === 'confirmed'));
    assert.equal(v.primary.code, 'unknown');
    assert.match(v.primary.weakens.join(' '), /not verified: the licences of lee@contoso\.com \(unknown SKU .* not in built-in table/);
    assert.match(v.primary.fix, /LicenseAssignment\.Read\.All/);

    // A known SKU without the plan is still a confirmed absence (the table knows its plans).
    ctx = fakeCtx({ ...baseUser, assignedLicenses: [{ skuId: 'SPE_E5', disabledPlans: [] }].map((l) => ({ ...l, skuId: builtinCatalog().sku('SPE_E5')!.skuId })) });
    [, license] = await checkUser(ctx, 'lee@contoso.com');
    assert.equal(ctx.facts.users[0].copilot.businessChat, 'absent');
    assert.equal(license!.status, 'fail');
  });

  test('a Copilot plan still provisioning is pending: a warning, and with a refused probe the likely cause ("up to 24 h"); tenant.not-enabled stays listed', async () => {
    for (const status of ['PendingInput', 'PendingActivation', 'PendingProvisioning']) assert.equal(planState(status), 'pending', status);
    assert.equal(planState('Success'), 'enabled');
    assert.equal(planState('Disabled'), 'disabled');
    const details = [{ id: 'l1', skuId: COPILOT_SKU, skuPartNumber: 'Microsoft_365_Copilot', servicePlans: [
      { servicePlanId: PLAN.M365_COPILOT_BUSINESS_CHAT, servicePlanName: 'M365_COPILOT_BUSINESS_CHAT', provisioningStatus: 'PendingActivation', appliesTo: 'User' },
    ] }, { id: 'l2', skuId: 'e5', skuPartNumber: 'SPE_E5', servicePlans: [
      { servicePlanId: PLAN.EXCHANGE_S_ENTERPRISE, servicePlanName: 'EXCHANGE_S_ENTERPRISE', provisioningStatus: 'Success', appliesTo: 'User' },
    ] }];
    const ctx = fakeCtx({ ...baseUser, assignedLicenses: [], provisionedPlans: [{ service: 'exchange', capabilityStatus: 'Enabled', provisioningStatus: 'Success' }] }, details);
    const [, license] = await checkUser(ctx, 'lee@contoso.com');
    const u = ctx.facts.users[0];
    assert.equal(u.copilot.businessChat, 'pending');
    assert.equal(license!.status, 'warn');
    assert.match(license!.title, /not provisioned yet \(PendingActivation\)/);
    assert.match(license!.evidence.join(' '), /up to 24 h/);

    u.probe = refused;
    let v = decide(ctx.facts, VC, u);
    assert.equal(v.primary.code, 'license.no-copilot');
    assert.equal(v.primary.likelihood, 'likely');
    assert.match(v.primary.title, /assigned but not provisioned yet/);
    assert.match(v.primary.explanation + v.primary.fix, /24 h/);
    assert.ok(v.candidates.some((c) => c.code === 'tenant.not-enabled' && c.likelihood === 'possible'));

    u.probe = { ...refused, status: 200, code: undefined, message: undefined, itemCount: 0 };
    v = decide(ctx.facts, VC, u);
    assert.equal(v.primary.code, 'ok');
    assert.ok(v.candidates.some((c) => c.code === 'license.no-copilot' && c.likelihood === 'possible' && /not provisioned yet/.test(c.title)), 'mentioned among the candidates');
  });
});

describe('small things', () => {
  test('FORCE_COLOR=0 turns colour off; NO_COLOR wins; another FORCE_COLOR turns it on', () => {
    assert.equal(useColour({ isTTY: true }, { FORCE_COLOR: '0' }), false);
    assert.equal(useColour({ isTTY: true }, { FORCE_COLOR: 'false' }), false);
    assert.equal(useColour({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(useColour({ isTTY: true }, { FORCE_COLOR: '1', NO_COLOR: '1' }), false);
    assert.equal(useColour({ isTTY: true }, {}), true);
    assert.equal(useColour({ isTTY: false }, {}), false);
  });

  test('an unrecognised invalid_client is blamed on the credential used, never a secret that was not', () => {
    assert.equal(codeForAadsts(undefined, 'invalid_client', 'certificate'), 'auth.invalid-certificate');
    assert.equal(codeForAadsts(undefined, 'invalid_client', 'secret'), 'auth.invalid-secret');
    assert.equal(codeForAadsts(undefined, 'invalid_client'), 'unknown', 'another credential: not guessed');
    assert.equal(codeForAadsts(7000215, 'invalid_client', 'certificate'), 'auth.invalid-secret', 'a known AADSTS number keeps its meaning');
  });

  test('a confirmed cause is not "supported" by a throttled or failing probe; that answer is listed apart', () => {
    const VC = { tenantId: 't', appId: 'a', authorityHost: 'login.microsoftonline.com', graphScope: 'https://graph.microsoft.com/.default', graphAudience: 'https://graph.microsoft.com', cloud: 'global' };
    const verdictFor = (probe: any) => {
      const f: any = { configProblems: [], tokenSource: 'acquired', users: [], audienceOk: true, tenantOk: true, appOnly: true, hasExportRole: true, claims: { roles: ['AiEnterpriseInteraction.Read.All'] } };
      const u: any = { key: 'lee@contoso.com', lookup: 'found', userType: 'Member', accountEnabled: true, licenses: [{ skuId: 'x', skuPartNumber: 'SPE_E5', plans: [] }], copilot: { businessChat: 'absent', skus: [], freeChat: false }, mailbox: { state: 'online', exchangePlans: [], signals: [] }, probe: { method: 'GET', url: 'https://graph.microsoft.com/v1.0/x', clientRequestId: 'c', durationMs: 1, attempts: 3, ...probe } };
      f.users.push(u);
      return decide(f, VC, u);
    };
    for (const [status, listed] of [[503, 'service.unavailable'], [429, 'throttled']] as const) {
      const v = verdictFor({ status, code: status === 429 ? 'TooManyRequests' : 'serviceNotAvailable', message: 'm' });
      assert.equal(v.primary.code, 'license.no-copilot');
      assert.doesNotMatch(v.primary.supports.join(' '), new RegExp(`answered ${status}`), `${status} is not evidence of a missing licence`);
      const apart = v.candidates.find((c) => c.code === listed);
      assert.ok(apart && apart.likelihood === 'possible' && /answered/.test(apart.supports.join(' ')), `${status} listed as ${listed}`);
    }
    const refused = verdictFor({ status: 403, code: 'Forbidden', message: 'UnknownError' });
    assert.match(refused.primary.supports.join(' '), /answered 403/, 'a refusal still backs it');
  });

  test('a tiny --timeout: says the time ran out, never that the emulator is not running', async () => {
    const r = await doctor(['--timeout', '0.01']);
    assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}`);
    assert.match(r.stderr, /--timeout/);
    assert.doesNotMatch(r.stderr, /Start it with|no emulator answers|not running/);
  });
});

describe('usage errors exit 2', () => {
  for (const [name, args] of [
    ['a tenant that is not a GUID or domain', ['--tenant', 'not a tenant']],
    ['an unknown cloud', ['--cloud', 'mars']],
    ['a client id that is not a GUID', ['--client-id', 'copilog-reader']],
    ['a scope without /.default', ['--scope', 'https://graph.microsoft.com/User.Read']],
    ['a bad --timeout', ['--timeout', 'soon']],
  ] as const) {
    test(name, async () => {
      const r = await doctor([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /copilog: /);
      assert.equal(r.stdout, '');
    });
  }

  test('--bundle naming an existing file, or a path under /proc: exit 2 before the run, no hang', async () => {
    const dir = tempDir('copilog-bundle-file-');
    try {
      const file = join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      let r = await doctor(['--bundle', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--bundle .*not-a-dir exists and is not a directory/);
      assert.equal(r.stdout, '');
      r = await doctor(['--bundle', join(file, 'below')]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /cannot create the directory \(ENOTDIR/);
      r = await doctor(['--bundle', '/proc/copilog-bundle', '--timeout', '5']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /under \/proc, a kernel pseudo file system/);
      assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    } finally {
      cleanDir(dir);
    }
  });

  test('no tenant configured and no emulator running: says how to start one', async () => {
    const r = await copilog(['doctor', '--json'], { env: { COPILOG_EMULATOR_URL: 'https://127.0.0.1:9', COPILOG_EMULATOR_CA: emu.ca } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no tenant is configured/);
    assert.match(r.stderr, /copilog emulator/);
  });
});

describe('secrets never leave', () => {
  test('the redaction pass removes JWTs, bearer values, form secrets and configured literals', () => {
    const jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl';
    const text = `token ${jwt} Authorization: Bearer abcdefgh12345678 client_secret=hunter2-long&client_assertion=${jwt} my-secret-value`;
    const out = redact(text, ['my-secret-value']);
    assert.doesNotMatch(out, /eyJ|abcdefgh12345678|hunter2-long|my-secret-value/);
    assert.match(out, /\[redacted token\]/);
  });

  test('no secret, token or assertion in the bundle, stdout or stderr (failing and ok runs)', async () => {
    const dir = tempDir('copilog-bundle-');
    try {
      for (const [file, extra] of [['permission.not-consented.yaml', []], ['ok.yaml', []], ['auth.invalid-certificate.yaml', []], ['ok.yaml', ['--client-secret', 'wrong-but-secret-0123456789']]] as const) {
        const args = await load(join(DOCTOR_DIR, file));
        const tenant = (await emu.tenantList()).tenants[0];
        const app = tenant.apps.find((a: any) => a.appId === tenant.default.appId);
        const secrets = [...app.secrets.map((s: any) => s.value), ...extra.filter((_, i) => i % 2 === 1)];
        const out = join(dir, file);
        const runs = [await doctor([...args, ...extra, '--bundle', out]), await copilog(['doctor', '--emulator', emu.url, '--ca', emu.ca, ...args, ...extra, '--bundle', out])];
        const md = readFileSync(join(out, 'support-bundle.md'), 'utf8');
        const json = readFileSync(join(out, 'support-bundle.json'), 'utf8');
        JSON.parse(json);
        const texts = { md, json, ...Object.fromEntries(runs.flatMap((r, i) => [[`stdout${i}`, r.stdout], [`stderr${i}`, r.stderr]])) };
        for (const [where, text] of Object.entries(texts)) {
          for (const s of secrets) assert.ok(!text.includes(s), `secret in ${where} (${file})`);
          assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{6,}/, `JWT-looking string in ${where} (${file})`);
          assert.doesNotMatch(text, /client_assertion=|client_secret=(?!REDACTED|\[redacted\])/, `assertion or secret parameter in ${where} (${file})`);
          assert.doesNotMatch(text, /BEGIN (RSA |ENCRYPTED )?PRIVATE KEY/, `private key in ${where}`);
        }
        // The bundle carries what support needs.
        assert.match(md, /Tenant id \| 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9/);
        assert.match(md, /App \(client\) id/);
        const b = JSON.parse(json);
        assert.ok(b.startedAt.endsWith('Z'));
        if (file === 'permission.not-consented.yaml') {
          const failing = b.failingRequests.find((e: any) => /getAllEnterpriseInteractions/.test(e.url));
          assert.ok(failing, 'the refused probe is in the bundle');
          for (const k of ['method', 'url', 'status', 'code', 'message', 'requestId', 'clientRequestId', 'date', 'agsDiagnostic']) assert.ok(failing[k], `failing request ${k}`);
          assert.equal(b.users[0].userPrincipalName, 'megan.bowen@northwind.onmicrosoft.com');
          assert.ok(b.claims.roles, 'the claim summary');
          assert.match(md, /## Failing requests/);
          assert.match(md, /request-id: [0-9a-f-]{36}/);
          assert.match(md, /x-ms-ags-diagnostic: \{/);
        }
        assert.equal(runs[0]!.json.bundle.files.length, 2);
      }
    } finally {
      cleanDir(dir);
    }
  });
});


describe('time limits', () => {
  // --timeout bounds the whole command, Node's start-up included, and on a loaded 2-core machine
  // start-up alone can take 2 s (then the doctor says that the time ran out before it could ask,
  // which is true but not what these tests are about). 5 s leaves room for start-up and still
  // ends far short of the server's silence or its 30 s answer.
  test('--timeout 5 against a server that accepts TCP and never answers: ends in about 5 s, says it did not answer in time', async () => {
    const silent = await silentServer();
    try {
      const r = await copilog(['doctor', '--emulator', `https://127.0.0.1:${silent.port}`, '--ca', emu.ca, '--json', '--timeout', '5']);
      // The deadline plus room for a loaded machine; the server would never answer.
      assert.ok(r.ms < 12_000, `took ${r.ms} ms`);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /did not answer in time: could not connect to 127\.0\.0\.1:\d+ .*TLS handshake did not complete/);
      assert.match(r.stderr, /--timeout is 5 s/);
      assert.doesNotMatch(r.stderr, /Start it with|no emulator answers/, 'a slow answer is not a missing emulator');
    } finally {
      await silent.close();
    }
  });

  test('--timeout 0.05: the time runs out during start-up, and the doctor says so and how to allow more', async () => {
    const r = await copilog(['doctor', '--emulator', emu.url, '--ca', emu.ca, '--json', '--timeout', '0.05']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /time limit ran out before copilog could ask/);
    assert.match(r.stderr, /--timeout/);
    assert.doesNotMatch(r.stderr, /Start it with|no emulator answers/, 'a short deadline is not a missing emulator');
  });

  test('--timeout 5 against a 30 s export latency finishes in about 5 s with a clear verdict', async () => {
    await load(join(DOCTOR_DIR, 'ok.yaml'));
    const tenant = (await emu.tenantList()).tenants[0];
    await emu.control(`/tenants/${tenant.id}`, 'PATCH', { faults: { latencyMs: 30_000 } });
    const r = await doctor(['--timeout', '5']);
    // The deadline plus room for a loaded machine, far short of the 30 s answer.
    assert.ok(r.ms < 12_000, `took ${r.ms} ms`);
    assert.equal(r.json.verdict.primary.code, 'service.unavailable', explain(r));
    assert.match(r.json.verdict.primary.supports.join(' '), /deadline|--timeout/);
    assert.equal(r.code, 1);
  });

  test('--timeout 3 with every Graph call 20 s slow: the verdict names the check cut short and says to raise --timeout; one result per check', async () => {
    await load(join(DOCTOR_DIR, 'ok.yaml'));
    const tenant = (await emu.tenantList()).tenants[0];
    await emu.control(`/tenants/${tenant.id}`, 'PATCH', { faults: { latencyMs: 20_000, scope: 'all' } });
    const r = await doctor(['--timeout', '3']);
    assert.ok(r.ms < 9000, `took ${r.ms} ms`);
    assert.equal(r.code, 1);
    const v = r.json.verdict.primary;
    assert.equal(v.code, 'service.unavailable', explain(r));
    assert.match(v.title, /the consent check was cut short by --timeout 3 s/);
    assert.match(v.supports.join(' '), /unanswered: GET \/v1\.0\/applications\(appId=/);
    assert.match(v.fix, /larger --timeout/);
    assert.doesNotMatch(JSON.stringify(r.json.verdict), /pass --user/);
    assert.doesNotMatch(r.stdout, /transport is closed/);
    const ids = r.json.checks.map((c: any) => c.id);
    assert.deepEqual(ids, [...new Set(ids)], `one result per check: ${ids}`);
    // Faults off again for the tests that follow.
    await emu.control(`/tenants/${tenant.id}`, 'PATCH', { faults: { latencyMs: 0, scope: 'interactions' } });
  });

  test('a check that never returns (a credential that hangs): the run ends at the deadline and names that check', async () => {
    await load(join(DOCTOR_DIR, 'ok.yaml'));
    const config = await resolveConfig({ emulator: emu.url, ca: emu.ca }, {});
    const credential = { getToken: () => new Promise<null>(() => undefined) };
    const started = Date.now();
    const report = await runDoctor({ config, catalog: builtinCatalog(), users: [], credential, timeoutSeconds: 1 });
    assert.ok(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
    assert.deepEqual(report.checks.filter((c) => c.id === 'token').map((c) => c.title), ['token did not finish']);
    assert.equal(report.verdict.primary.code, 'unknown');
    assert.match(report.verdict.primary.title, /ran out during the token check/);
    assert.match(report.verdict.primary.fix, /larger --timeout/);
    assert.doesNotMatch(report.verdict.primary.fix, /--user/);
  });
});
