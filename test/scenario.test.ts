// Scenario loading: invalid scenarios (YAML and JSON files, and the control API) give errors that
// name the bad field; unknown SKUs, service plans and permissions are named; Microsoft's licensing
// CSV (--licensing-csv) makes SKUs beyond the built-in table usable; every shipped auth scenario
// parses and loads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { stringify as toYaml } from 'yaml';
import { startEmulator } from '../src/emulator/server.js';
import { loadScenarioFile, parseScenario, ScenarioError } from '../src/emulator/scenario/load.js';
import { cleanDir, tempDir, TEST_DATA_DIR, withEmulator, type TestEmulator } from './support/emulator.js';
import { csvWithFutureSku, FUTURE_SKU } from './support/reference.js';
import { AUTH_SCENARIO_DIR, SCENARIO_DIR, authScenario, scenarioObject } from './fixtures/auth.js';

const TENANT = '0b8f6a42-1c3d-4e5f-8a9b-0c1d2e3f4b01';
const APP = '5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3d01';
// The built-in table holds every SKU of Microsoft's January 2026 CSV: a SKU only "the current CSV" has is a made-up newer one.
const CSV_ONLY_SKU = FUTURE_SKU;

/** A small valid scenario; tests break one field at a time. */
function valid(): any {
  return {
    name: 'scenario-test',
    default: { tenant: 'scenariotest.onmicrosoft.com', app: 'reader', user: 'adele@scenariotest.onmicrosoft.com' },
    tenants: [{
      id: TENANT,
      domain: 'scenariotest.onmicrosoft.com',
      apps: [{ appId: APP, displayName: 'reader', secrets: [{ value: 'scenario-test-secret' }], permissions: ['User.Read.All', 'LicenseAssignment.Read.All'] }],
      users: [
        { userPrincipalName: 'adele@scenariotest.onmicrosoft.com', licenses: [{ sku: 'SPE_E5' }] },
        { userPrincipalName: 'alex@scenariotest.onmicrosoft.com' },
      ],
    }],
  };
}

let dir: string;
let emu: TestEmulator;

before(async () => {
  dir = tempDir('copilog-scenario-');
  emu = await withEmulator('demo');
});
after(async () => {
  await emu?.close();
  cleanDir(dir);
});

function write(name: string, scenario: unknown, format: 'yaml' | 'json'): string {
  const file = join(dir, `${name}.${format}`);
  writeFileSync(file, format === 'json' ? JSON.stringify(scenario, null, 2) : toYaml(scenario));
  return file;
}

function scenarioError(fn: () => unknown): ScenarioError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ScenarioError, `a ScenarioError, got ${(e as Error).name}: ${(e as Error).message}`);
    return e;
  }
  assert.fail('the scenario was accepted');
}

async function startError(file: string, licensingCsv?: string): Promise<ScenarioError> {
  try {
    const e = await startEmulator({ scenario: file, port: 0, dataDir: TEST_DATA_DIR, logLevel: 'silent', licensingCsv });
    await e.close();
  } catch (e) {
    assert.ok(e instanceof ScenarioError, `a ScenarioError, got ${(e as Error).name}: ${(e as Error).message}`);
    return e;
  }
  assert.fail('the emulator started');
}

describe('invalid scenarios name the bad field', () => {
  const cases: [string, (s: any) => void, RegExp][] = [
    ['a bad userType', (s) => { s.tenants[0].users[1].userType = 'Visitor'; }, /tenants\[0\]\.users\[1\]\.userType: .*Member.*Guest/],
    ['a tenant id that is not a GUID', (s) => { s.tenants[0].id = 'contoso'; }, /tenants\[0\]\.id: must be a GUID/],
    ['a malformed domain', (s) => { s.tenants[0].domain = 'not a domain'; }, /tenants\[0\]\.domain: must be a domain/],
    ['a UPN without @', (s) => { s.tenants[0].users[0].userPrincipalName = 'adele'; }, /tenants\[0\]\.users\[0\]\.userPrincipalName: must look like name@domain/],
    ['an unknown key (typo)', (s) => { s.tenants[0].apps[0].secret = 'x'; }, /tenants\[0\]\.apps\[0\]: .*secret/],
    ['a missing required field', (s) => { delete s.tenants[0].apps[0].displayName; }, /tenants\[0\]\.apps\[0\]\.displayName: /],
    ['a wrong type', (s) => { s.tenants[0].users[1].accountEnabled = 'no'; }, /tenants\[0\]\.users\[1\]\.accountEnabled: .*boolean/],
    ['a bad relative date', (s) => { s.tenants[0].apps[0].secrets[0].expiresAt = 'soon'; }, /tenants\[0\]\.apps\[0\]\.secrets\[0\]\.expiresAt: /],
    ['a bad behaviour value', (s) => { s.tenants[0].behaviours = { topCap: -1 }; }, /tenants\[0\]\.behaviours\.topCap: /],
    ['consent for a permission not requested', (s) => { s.tenants[0].apps[0].consented = ['Application.Read.All']; }, /tenants\[0\]\.apps\[0\]\.consented\[0\]: Application\.Read\.All is not in permissions/],
    ['a duplicate user', (s) => { s.tenants[0].users[1].userPrincipalName = 'ADELE@scenariotest.onmicrosoft.com'; }, /tenants\[0\]\.users\[1\]\.userPrincipalName: duplicate/],
    ['a default app that does not exist', (s) => { s.default.app = 'writer'; }, /default\.app: no app writer/],
    ['no tenants', (s) => { s.tenants = []; }, /tenants: /],
    ['two tenants with one id', (s) => { s.tenants.push({ ...s.tenants[0], domain: 'other.onmicrosoft.com', users: [], apps: [] }); }, /tenants\[1\]\.id: .* is already tenants\[0\]/],
    ['two tenants with one domain', (s) => { s.tenants.push({ ...s.tenants[0], id: '99999999-9999-4999-8999-999999999999', users: [], apps: [] }); }, /tenants\[1\]\.domain: .* is already tenants\[0\]/],
    ['a user that a generated user collides with', (s) => { s.tenants[0].generatedUsers = { count: 3 }; s.tenants[0].users[1].userPrincipalName = 'user00002@scenariotest.onmicrosoft.com'; }, /tenants\[0\]\.users\[1\]\.userPrincipalName: .* is also a generated user/],
  ];

  for (const format of ['yaml', 'json'] as const) {
    for (const [what, breakIt, expected] of cases) {
      test(`${format}: ${what}`, () => {
        const s = valid();
        breakIt(s);
        const file = write(`bad-${what.replace(/\W+/g, '-')}`, s, format);
        const e = scenarioError(() => loadScenarioFile(file));
        assert.match(e.message, expected);
        assert.ok(e.message.includes(file), 'the message names the file');
        assert.ok(e.issues.some((i) => expected.test(i)), `issues: ${e.issues.join(' | ')}`);
      });
    }
  }

  test('several problems are all reported', () => {
    const s = valid();
    s.tenants[0].users[0].userType = 'Visitor';
    s.tenants[0].users[1].usageLocation = 'USA';
    const e = scenarioError(() => parseScenario(s, 'inline'));
    assert.match(e.message, /tenants\[0\]\.users\[0\]\.userType/);
    assert.match(e.message, /tenants\[0\]\.users\[1\]\.usageLocation/);
  });

  test('syntax errors name the format and the file', () => {
    const y = join(dir, 'broken.yaml');
    writeFileSync(y, 'name: x\ntenants:\n  - id: [unclosed\n');
    assert.match(scenarioError(() => loadScenarioFile(y)).message, new RegExp(`${y.replace(/[.]/g, '\\.')} is not valid YAML`));
    const j = join(dir, 'broken.json');
    writeFileSync(j, '{"name": "x",');
    assert.match(scenarioError(() => loadScenarioFile(j)).message, /is not valid JSON/);
    assert.match(scenarioError(() => loadScenarioFile(join(dir, 'missing.yaml'))).message, /no such file/);
  });

  test('the control API answers an invalid scenario with 400 naming the field, and keeps the old one', async () => {
    const s = valid();
    s.tenants[0].users[1].userType = 'Visitor';
    const r = await emu.fetch('/_emulator/scenario', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.match(body.error.message, /tenants\[0\]\.users\[1\]\.userType/);
    assert.equal((await emu.tenantList()).scenario, 'demo');
  });
});

describe('unknown SKUs, service plans and permissions are named', () => {
  const cases: [string, (s: any) => void, RegExp][] = [
    ['an unknown SKU', (s) => { s.tenants[0].users[1].licenses = [{ sku: 'SPE_E42' }]; }, /tenants\[0\]\.users\[1\]\.licenses\[0\]\.sku: unknown SKU SPE_E42/],
    ['an unknown service plan', (s) => { s.tenants[0].users[0].licenses = [{ sku: 'Microsoft_365_Copilot', disabledPlans: ['M365_COPILOT_BUSINESS_CHAT', 'NO_SUCH_PLAN'] }]; }, /tenants\[0\]\.users\[0\]\.licenses\[0\]\.disabledPlans\[1\]: Microsoft_365_Copilot has no service plan NO_SUCH_PLAN/],
    ['a plan of another SKU', (s) => { s.tenants[0].users[0].licenses = [{ sku: 'SPE_E5', disabledPlans: ['M365_COPILOT_BUSINESS_CHAT'] }]; }, /disabledPlans\[0\]: SPE_E5 has no service plan M365_COPILOT_BUSINESS_CHAT/],
    ['an unknown application permission', (s) => { s.tenants[0].apps[0].permissions = ['User.Read.All', 'Copilot.Export.Everything']; }, /tenants\[0\]\.apps\[0\]\.permissions\[1\]: unknown application permission Copilot\.Export\.Everything/],
    ['an unknown RSC permission', (s) => { s.tenants[0].apps[0].rsc = ['Nope.Read.User']; }, /tenants\[0\]\.apps\[0\]\.rsc\[0\]: unknown application permission Nope\.Read\.User/],
    ['an unknown SKU in subscribedSkus', (s) => { s.tenants[0].subscribedSkus = [{ sku: 'SPE_E5', prepaidUnits: 10 }, { sku: 'NOPE', prepaidUnits: 1 }]; }, /tenants\[0\]\.subscribedSkus\[1\]\.sku: unknown SKU NOPE/],
    ['an unknown SKU in a second tenant', (s) => {
      s.tenants.push({ id: '0b8f6a42-1c3d-4e5f-8a9b-0c1d2e3f4b02', domain: 'second.onmicrosoft.com', users: [{ userPrincipalName: 'x@second.onmicrosoft.com', licenses: [{ sku: 'NOPE' }] }] });
    }, /tenants\[1\]\.users\[0\]\.licenses\[0\]\.sku: unknown SKU NOPE/],
  ];
  for (const [what, breakIt, expected] of cases) {
    test(what, async () => {
      const s = valid();
      breakIt(s);
      for (const format of ['yaml', 'json'] as const) {
        const e = await startError(write(`unknown-${what.replace(/\W+/g, '-')}`, s, format));
        assert.match(e.message, expected, format);
      }
      // The same through the control API: 400, not a crash.
      const r = await emu.fetch('/_emulator/scenario', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) });
      assert.equal(r.status, 400);
      assert.match((await r.json()).error.message, expected);
    });
  }
});

describe("Microsoft's licensing CSV (--licensing-csv)", () => {
  test(`a SKU only in the CSV (${CSV_ONLY_SKU.part}) is refused by the built-in table and works with the CSV`, async () => {
    const s = valid();
    s.tenants[0].users[1].licenses = [{ sku: CSV_ONLY_SKU.part, disabledPlans: [CSV_ONLY_SKU.plan] }];
    const file = write('csv-only-sku', s, 'yaml');
    const e = await startError(file);
    assert.match(e.message, new RegExp(`tenants\\[0\\]\\.users\\[1\\]\\.licenses\\[0\\]\\.sku: unknown SKU ${CSV_ONLY_SKU.part} .*--licensing-csv`));

    const csvDir = tempDir('copilog-csv-');
    const csv = csvWithFutureSku(csvDir);
    const running = await startEmulator({ scenario: file, port: 0, dataDir: TEST_DATA_DIR, logLevel: 'silent', licensingCsv: csv });
    const agent = new Agent({ connect: { ca: readFileSync(running.ca) } });
    try {
      const call = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
        const r = await undiciFetch(running.url + path, { ...init, dispatcher: agent });
        return { status: r.status, body: (await r.json()) as any };
      };
      const t = await call(`/${TENANT}/oauth2/v2.0/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: APP, client_secret: 'scenario-test-secret', scope: 'https://graph.microsoft.com/.default' }).toString(),
      });
      assert.equal(t.status, 200);
      const auth = { authorization: `Bearer ${t.body.access_token}` };
      const ld = await call('/v1.0/users/alex@scenariotest.onmicrosoft.com/licenseDetails', { headers: auth });
      assert.equal(ld.status, 200);
      assert.equal(ld.body.value.length, 1);
      assert.equal(ld.body.value[0].skuId, CSV_ONLY_SKU.id);
      assert.equal(ld.body.value[0].skuPartNumber, CSV_ONLY_SKU.part);
      const expectedPlans = readFileSync(csv, 'utf8').split('\n').filter((l) => l.includes(`,${CSV_ONLY_SKU.part},${CSV_ONLY_SKU.id},`)).length;
      assert.equal(ld.body.value[0].servicePlans.length, expectedPlans);
      assert.equal(ld.body.value[0].servicePlans.find((p: any) => p.servicePlanName === CSV_ONLY_SKU.plan).provisioningStatus, 'Disabled');
      const ss = await call('/v1.0/subscribedSkus', { headers: auth });
      assert.ok(ss.body.value.some((x: any) => x.skuPartNumber === CSV_ONLY_SKU.part && x.consumedUnits === 1));
    } finally {
      await running.close();
      await agent.close();
      cleanDir(csvDir);
    }
  });

  test('a file that is not the licensing CSV is refused with a clear message', async () => {
    const bogus = join(dir, 'not-licensing.csv');
    writeFileSync(bogus, 'a,b,c\n1,2,3\n');
    await assert.rejects(startEmulator({ scenario: join(SCENARIO_DIR, 'demo.yaml'), port: 0, dataDir: TEST_DATA_DIR, logLevel: 'silent', licensingCsv: bogus }), /not Microsoft's licensing CSV \(missing columns: String_Id, GUID, Service_Plan_Name, Service_Plan_Id\)/);
  });
});

describe('shipped scenarios', () => {
  test('demo and every scenarios/auth/*.yaml parse and load, each with a comment saying what it reproduces', async () => {
    const files = readdirSync(AUTH_SCENARIO_DIR).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 9, 'one scenario per failure mode');
    for (const f of files) {
      const file = authScenario(f.replace(/\.yaml$/, ''));
      const text = readFileSync(file, 'utf8');
      assert.match(text, /^# Reproduces: /, `${f} starts with a "Reproduces:" comment`);
      assert.match(text, /\bHow:/, `${f} says how`);
      const s = loadScenarioFile(file);
      assert.ok(s.name.startsWith('auth-'), f);
      const r = await emu.control('/scenario', 'POST', scenarioObject(file));
      assert.equal(r.ok, true, f);
    }
    await emu.control('/scenario', 'POST', scenarioObject(join(SCENARIO_DIR, 'demo.yaml')));
    assert.equal((await emu.tenantList()).scenario, 'demo');
  });
});
