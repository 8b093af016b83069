// copilog ships its own copies of Microsoft facts (SKU → service plans, path → application
// permissions, permission → app role id). Each row is checked here against Microsoft's files in
// ../shared/graph-reference, so a wrong or stale row fails with the exact difference.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { SKU_TABLE } from '../src/graph/licensing-table.js';
import { PLAN, loadLicensingCsv, builtinCatalog } from '../src/graph/licensing.js';
import { APPLICATION_GRANTS, APPLICATION_ROLE_IDS, DELEGATED_SCOPE_IDS } from '../src/graph/permissions-table.js';
import { USER_PROPERTIES } from '../src/graph/user-properties.js';
import { ref, applicationGrants, applicationRoleIds, delegatedScopeIds, SERVED_PATHS, userPropertyTable } from './support/reference.js';

interface CsvRow {
  Product_Display_Name: string;
  String_Id: string;
  GUID: string;
  Service_Plan_Name: string;
  Service_Plan_Id: string;
  Service_Plans_Included_Friendly_Names: string;
}

const CSV_PATH = ref('licensing-service-plans.csv');
// Ids trimmed: a few cells carry a stray trailing space, which Graph's ids never do (both the shipped
// table and loadLicensingCsv() trim them).
const csvRows: CsvRow[] = (parse(readFileSync(CSV_PATH), { bom: true, columns: true, skip_empty_lines: true }) as CsvRow[])
  .map((r) => ({ ...r, GUID: r.GUID.trim(), Service_Plan_Id: r.Service_Plan_Id.trim() }));

const COPILOT_SKUS = [
  ['Microsoft_365_Copilot', '639dec6b-bb19-468b-871c-c5c441c4b0cb'],
  ['M365_Copilot', 'a809996b-059e-42e2-9866-db24b99a9782'],
  ['Microsoft_365_Copilot_EDU', 'ad9c22b3-52d7-4e7e-973c-88121ea96436'],
] as const;
const EXPORT_PLANS = ['3f30311c-6b1e-48a4-ab79-725b469da960', '82d30987-df9b-4486-b146-198b21d164c7'] as const;

const lc = (s: string): string => s.toLowerCase();
const planKey = (name: string, id: string, friendly: string): string => `${name} | ${lc(id)} | ${friendly}`;

describe("Microsoft's licensing CSV (sanity of the reference itself)", () => {
  test('has the columns copilog reads and thousands of rows', () => {
    assert.ok(csvRows.length > 1000, `only ${csvRows.length} rows`);
    assert.deepEqual(Object.keys(csvRows[0]!), [
      'Product_Display_Name', 'String_Id', 'GUID', 'Service_Plan_Name', 'Service_Plan_Id', 'Service_Plans_Included_Friendly_Names',
    ]);
  });
});

describe('SKU_TABLE (src/graph/licensing-table.ts) against the licensing CSV', () => {
  test('every SKU row has exactly the CSV service plans, display name and String_Id for its GUID', () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const sku of SKU_TABLE) {
      const where = `${sku.skuPartNumber} (${sku.skuId})`;
      if (seen.has(lc(sku.skuId))) problems.push(`${where}: listed twice in SKU_TABLE`);
      seen.add(lc(sku.skuId));
      const rows = csvRows.filter((r) => lc(r.GUID) === lc(sku.skuId));
      if (rows.length === 0) {
        problems.push(`${where}: GUID not in the CSV`);
        continue;
      }
      const stringIds = new Set(rows.map((r) => r.String_Id));
      if (stringIds.size !== 1 || !stringIds.has(sku.skuPartNumber)) {
        problems.push(`${where}: CSV String_Id for this GUID is ${[...stringIds].join(' / ')}`);
      }
      const names = new Set(rows.map((r) => r.Product_Display_Name));
      if (names.size !== 1 || !names.has(sku.displayName)) {
        problems.push(`${where}: displayName ${JSON.stringify(sku.displayName)}, CSV has ${[...names].map((n) => JSON.stringify(n)).join(' / ')}`);
      }
      // Names and ids, row by row in the CSV's order (the shipped table leaves friendly names out).
      const csvPlans = rows.map((r) => `${r.Service_Plan_Name} | ${lc(r.Service_Plan_Id)}`);
      const tablePlans = sku.servicePlans.map(([name, id]) => `${name} | ${lc(id)}`);
      const csvSet = new Set(csvPlans);
      const tableSet = new Set(tablePlans);
      for (const p of csvSet) if (!tableSet.has(p)) problems.push(`${where}: missing plan [${p}]`);
      for (const p of tableSet) if (!csvSet.has(p)) problems.push(`${where}: plan [${p}] is not in the CSV for this SKU`);
      if (JSON.stringify(csvPlans) !== JSON.stringify(tablePlans)) problems.push(`${where}: plan rows differ from the CSV's (order or repeats)`);
      if (sku.servicePlans.some((p) => p.length !== 2)) problems.push(`${where}: a plan row holds more than its name and id`);
    }
    assert.deepEqual(problems, [], `SKU_TABLE disagrees with Microsoft's CSV:\n  ${problems.join('\n  ')}`);
  });

  test('every SKU of the CSV is in SKU_TABLE (the whole table ships, not a subset)', () => {
    const guids = new Set(csvRows.map((r) => lc(r.GUID)));
    assert.ok(guids.size > 500, `only ${guids.size} SKUs in the CSV`);
    const missing = [...guids].filter((g) => !SKU_TABLE.some((s) => lc(s.skuId) === g));
    assert.deepEqual(missing, []);
    assert.equal(SKU_TABLE.length, guids.size);
    assert.equal(SKU_TABLE.reduce((n, s) => n + s.servicePlans.length, 0), csvRows.length, 'one plan row per CSV row');
    // SKUs real tenants hold that the old 20-SKU subset lacked.
    for (const id of ['M365EDU_A3_FACULTY', 'ENTERPRISEPACK_GOV', 'SPE_E5_USGOV_GCCHIGH']) {
      assert.ok(SKU_TABLE.some((s) => s.skuPartNumber === id) === csvRows.some((r) => r.String_Id === id), id);
    }
    assert.ok(SKU_TABLE.some((s) => s.skuPartNumber === 'M365EDU_A3_FACULTY'));
  });

  test('the SKU ids are lower-case GUIDs, as Graph returns them', () => {
    const bad = SKU_TABLE.flatMap((s) => [s.skuId, ...s.servicePlans.map((p) => p[1])])
      .filter((id) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id));
    assert.deepEqual(bad, []);
  });

  test('the three Microsoft 365 Copilot SKUs are in the table and in the CSV', () => {
    for (const [partNumber, guid] of COPILOT_SKUS) {
      const row = SKU_TABLE.find((s) => s.skuId === guid);
      assert.ok(row, `SKU_TABLE lacks ${partNumber} ${guid}`);
      assert.equal(row.skuPartNumber, partNumber);
      assert.ok(csvRows.some((r) => r.GUID === guid && r.String_Id === partNumber), `CSV lacks ${partNumber} ${guid}`);
      for (const plan of EXPORT_PLANS) {
        assert.ok(row.servicePlans.some((p) => p[1] === plan), `${partNumber} in SKU_TABLE lacks plan ${plan}`);
      }
    }
  });

  test('in the CSV, the export plans (Graph-grounded chat, Graph connectors) occur in exactly the three Copilot SKUs', () => {
    const expected = COPILOT_SKUS.map(([, guid]) => guid).sort();
    for (const plan of EXPORT_PLANS) {
      const skus = [...new Set(csvRows.filter((r) => lc(r.Service_Plan_Id) === plan).map((r) => lc(r.GUID)))].sort();
      assert.deepEqual(skus, expected, `plan ${plan} appears in SKUs ${skus.join(', ')}`);
    }
  });
});

describe('PLAN constants (src/graph/licensing.ts) against the licensing CSV', () => {
  test('every constant names a CSV service plan and carries its id', () => {
    const problems: string[] = [];
    for (const [name, id] of Object.entries(PLAN)) {
      const byName = csvRows.filter((r) => r.Service_Plan_Name === name);
      const byId = csvRows.filter((r) => lc(r.Service_Plan_Id) === lc(id));
      if (byName.length === 0) problems.push(`PLAN.${name}: no CSV row has Service_Plan_Name ${name}`);
      const idsForName = new Set(byName.map((r) => lc(r.Service_Plan_Id)));
      if (byName.length > 0 && (idsForName.size !== 1 || !idsForName.has(lc(id)))) {
        problems.push(`PLAN.${name} = ${id}, but the CSV gives ${name} the id(s) ${[...idsForName].join(', ')}`);
      }
      if (byId.length === 0) problems.push(`PLAN.${name}: id ${id} is not a Service_Plan_Id in the CSV`);
      // The name most rows use for this id must be the constant's name.
      const counts = new Map<string, number>();
      for (const r of byId) counts.set(r.Service_Plan_Name, (counts.get(r.Service_Plan_Name) ?? 0) + 1);
      const usual = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
      if (usual !== undefined && usual !== name) problems.push(`PLAN.${name}: the CSV calls ${id} ${usual}`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('builtinCatalog() resolves the SKUs and plan names of its table', () => {
    const catalog = builtinCatalog();
    for (const sku of SKU_TABLE) {
      assert.equal(catalog.sku(sku.skuId)?.skuPartNumber, sku.skuPartNumber);
      // A String_Id shared by two GUIDs (MCOPSTN5) resolves to one of them.
      const sameName = SKU_TABLE.filter((s) => s.skuPartNumber === sku.skuPartNumber).map((s) => s.skuId);
      assert.ok(sameName.includes(catalog.sku(sku.skuPartNumber.toUpperCase())!.skuId), sku.skuPartNumber);
    }
    for (const [name, id] of Object.entries(PLAN)) {
      const found = catalog.planName(id);
      if (found !== undefined) assert.equal(found, name, `builtin planName(${id})`);
    }
    const copilot = catalog.sku('Microsoft_365_Copilot')!;
    assert.equal(catalog.planId(copilot, 'm365_copilot_business_chat'), PLAN.M365_COPILOT_BUSINESS_CHAT);
    assert.equal(catalog.planId(copilot, PLAN.GRAPH_CONNECTORS_COPILOT.toUpperCase()), PLAN.GRAPH_CONNECTORS_COPILOT);
    assert.equal(catalog.planId(copilot, PLAN.EXCHANGE_S_ENTERPRISE), undefined);
  });
});

describe('loadLicensingCsv()', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'copilog-graph-tables-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("loads every SKU of Microsoft's CSV", () => {
    const catalog = loadLicensingCsv(CSV_PATH);
    const guids = new Map<string, string>();
    for (const r of csvRows) guids.set(lc(r.GUID), r.String_Id);
    assert.ok(guids.size > 500, `only ${guids.size} distinct SKU GUIDs in the CSV`);
    assert.equal(catalog.rows.length, guids.size);
    const problems: string[] = [];
    for (const [guid, stringId] of guids) {
      const sku = catalog.sku(guid);
      if (!sku) {
        problems.push(`${stringId} ${guid}: not found`);
        continue;
      }
      if (sku.skuPartNumber !== stringId) problems.push(`${guid}: skuPartNumber ${sku.skuPartNumber}, CSV ${stringId}`);
      const expected = csvRows.filter((r) => lc(r.GUID) === guid).map((r) => planKey(r.Service_Plan_Name, r.Service_Plan_Id, r.Service_Plans_Included_Friendly_Names)).sort();
      const got = sku.servicePlans.map(([n, id, f]) => planKey(n, id, f ?? '')).sort();
      if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`${stringId} ${guid}: service plans differ`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
    for (const [name, id] of Object.entries(PLAN)) {
      assert.ok(csvRows.some((r) => r.Service_Plan_Name === name && lc(r.Service_Plan_Id) === lc(id)));
      assert.ok(catalog.planName(id) !== undefined, `planName(${id}) unknown`);
    }
    for (const [partNumber, guid] of COPILOT_SKUS) {
      const sku = catalog.sku(partNumber);
      assert.equal(sku?.skuId, guid);
      assert.equal(catalog.planId(sku!, 'M365_COPILOT_BUSINESS_CHAT'), PLAN.M365_COPILOT_BUSINESS_CHAT);
    }
  });

  test('rejects a file that is not the licensing CSV with an error naming it', () => {
    const json = join(dir, 'not-a-csv.json');
    writeFileSync(json, JSON.stringify({ value: [{ skuId: 'x', skuPartNumber: 'y' }] }, null, 2));
    assert.throws(() => loadLicensingCsv(json), (e: Error) => {
      assert.match(e.message, /licensing CSV/i);
      assert.ok(e.message.includes(json), `message does not name the file: ${e.message}`);
      return true;
    });

    const wrongColumns = join(dir, 'other.csv');
    writeFileSync(wrongColumns, 'Name,Id\nfoo,1\nbar,2\n');
    assert.throws(() => loadLicensingCsv(wrongColumns), (e: Error) => {
      assert.match(e.message, /licensing CSV/i);
      assert.match(e.message, /String_Id/);
      assert.ok(e.message.includes(wrongColumns));
      return true;
    });

    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    assert.throws(() => loadLicensingCsv(empty), /licensing CSV/i);

    const missing = join(dir, 'does-not-exist.csv');
    assert.throws(() => loadLicensingCsv(missing), (e: Error) => e.message.includes(missing));
  });
});

describe('permission tables (src/graph/permissions-table.ts) against graph-permissions.json', () => {
  const derived = applicationGrants();
  const roleIds = applicationRoleIds();

  test('for every path the emulator serves, APPLICATION_GRANTS equals the derivation from Microsoft data', () => {
    const problems: string[] = [];
    const show = (l: readonly { name: string; least: boolean }[] | undefined): string =>
      l === undefined ? '(none)' : l.map((g) => `${g.name}${g.least ? '*' : ''}`).join(', ');
    for (const path of SERVED_PATHS) {
      const expected = derived.get(path);
      const actual = APPLICATION_GRANTS[path];
      if (!expected) problems.push(`${path}: no application permission grants GET in graph-permissions.json`);
      const norm = (l: readonly { name: string; least: boolean }[] | undefined) =>
        [...(l ?? [])].map((g) => ({ name: g.name, least: g.least })).sort((a, b) => a.name.localeCompare(b.name));
      if (JSON.stringify(norm(actual)) !== JSON.stringify(norm(expected))) {
        problems.push(`${path}:\n    table:     ${show(actual)}\n    Microsoft: ${show(expected)}`);
      }
    }
    const extra = Object.keys(APPLICATION_GRANTS).filter((p) => !(SERVED_PATHS as readonly string[]).includes(p));
    for (const p of extra) if (JSON.stringify(APPLICATION_GRANTS[p]) !== JSON.stringify(derived.get(p))) problems.push(`${p}: differs`);
    assert.deepEqual(problems, [], `APPLICATION_GRANTS disagrees with Microsoft (* = least):\n  ${problems.join('\n  ')}`);
  });

  test('every APPLICATION_ROLE_IDS entry is the id in graph-permission-ids.json', () => {
    const problems: string[] = [];
    for (const [name, id] of Object.entries(APPLICATION_ROLE_IDS)) {
      const expected = roleIds.get(name);
      if (expected === undefined) problems.push(`${name}: no Application deployment in graph-permission-ids.json`);
      else if (lc(expected) !== lc(id)) problems.push(`${name}: table ${id}, Microsoft ${expected}`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('every permission that grants a served path has a role id', () => {
    const names = new Set(SERVED_PATHS.flatMap((p) => (APPLICATION_GRANTS[p] ?? []).map((g) => g.name)));
    const missing = [...names].filter((n) => !(n in APPLICATION_ROLE_IDS));
    assert.deepEqual(missing, []);
  });

  test('the role ids copilog names in its advice', () => {
    const known: Record<string, string> = {
      'AiEnterpriseInteraction.Read.All': '839c90ab-5771-41ee-aef8-a562e8487c1e',
      'User.Read.All': 'df021288-bdef-4463-88db-98f22de89214',
      'Application.Read.All': '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30',
      'LicenseAssignment.Read.All': 'e2f98668-2877-4f38-a2f4-8202e0717aa1',
    };
    for (const [name, id] of Object.entries(known)) {
      assert.equal(APPLICATION_ROLE_IDS[name], id, `table id of ${name}`);
      assert.equal(roleIds.get(name), id, `Microsoft id of ${name}`);
    }
  });

  test('only AiEnterpriseInteraction.Read.All grants the export path', () => {
    const exportPath = '/copilot/users/{id}/interactionhistory/getallenterpriseinteractions';
    assert.ok((SERVED_PATHS as readonly string[]).includes(exportPath));
    assert.deepEqual(APPLICATION_GRANTS[exportPath], [{ name: 'AiEnterpriseInteraction.Read.All', least: true }]);
    assert.deepEqual(derived.get(exportPath), [{ name: 'AiEnterpriseInteraction.Read.All', least: true }]);
    // …and no path in the tables gives that permission anything else to read.
    const elsewhere = Object.entries(APPLICATION_GRANTS)
      .filter(([p, l]) => p !== exportPath && l.some((g) => g.name === 'AiEnterpriseInteraction.Read.All'))
      .map(([p]) => p);
    assert.deepEqual(elsewhere, []);
  });
});

describe('DELEGATED_SCOPE_IDS against graph-permission-ids.json', () => {
  test("every entry is Microsoft's DelegatedWork id, and the delegated Copilot permission is there", () => {
    const ids = delegatedScopeIds();
    const problems = Object.entries(DELEGATED_SCOPE_IDS).filter(([n, id]) => lc(ids.get(n) ?? '') !== lc(id)).map(([n, id]) => `${n}: table ${id}, Microsoft ${ids.get(n)}`);
    assert.deepEqual(problems, []);
    assert.equal(DELEGATED_SCOPE_IDS['AiEnterpriseInteraction.Read'], '859cceb9-2ec2-4e48-bcd7-b8490b5248a5');
    // Application and delegated ids of one name differ: a Scope is never mistaken for a Role.
    for (const [n, id] of Object.entries(DELEGATED_SCOPE_IDS)) if (APPLICATION_ROLE_IDS[n]) assert.notEqual(APPLICATION_ROLE_IDS[n], id, n);
  });
});

describe('USER_PROPERTIES (src/graph/user-properties.ts) against the CSDL', () => {
  test('exactly the properties of microsoft.graph.user, with their kind', () => {
    assert.deepEqual(Object.entries(USER_PROPERTIES), userPropertyTable());
    assert.equal(USER_PROPERTIES.otherMails, 'many');
    assert.equal(USER_PROPERTIES.signInActivity, 'one');
  });
});
