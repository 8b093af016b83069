// Which service plans each SKU holds, and the plans that matter for Copilot interaction export.
// The shipped table (licensing-table.ts) is Microsoft's whole CSV, ids and names; loadLicensingCsv() lets a
// user swap in Microsoft's current CSV at run time (--licensing-csv).
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { SKU_TABLE } from './licensing-table.js';

/** One SKU: servicePlans rows are [servicePlanName, servicePlanId, friendly name (only from --licensing-csv)]. */
export interface SkuRow {
  skuPartNumber: string;
  skuId: string;
  displayName: string;
  servicePlans: readonly (readonly [name: string, id: string, friendly?: string])[];
}

export const PLAN = {
  /** "Microsoft Copilot with Graph-grounded chat": the plan export requires. */
  M365_COPILOT_BUSINESS_CHAT: '3f30311c-6b1e-48a4-ab79-725b469da960',
  GRAPH_CONNECTORS_COPILOT: '82d30987-df9b-4486-b146-198b21d164c7',
  M365_COPILOT_APPS: 'a62f8878-de10-42f3-b68f-6149a25ceb97',
  M365_COPILOT_TEAMS: 'b95945de-b3bd-46db-8437-f2beb6ea2347',
  M365_COPILOT_INTELLIGENT_SEARCH: '931e4a88-a67f-48b5-814f-16a5f1e6028d',
  M365_COPILOT_CONNECTORS: '89f1c4c8-0878-40f7-804d-869c9128ab5d',
  /** The free Copilot Chat plan ("RETIRED - Commercial data protection…"): not exportable. */
  Bing_Chat_Enterprise: '0d0c0d31-fae7-41f2-b909-eaf4d7f26dba',
  EXCHANGE_S_STANDARD: '9aaf7827-d63c-4b61-89c3-182f06f82e5c',
  EXCHANGE_S_ENTERPRISE: 'efb87545-963c-4e0d-99df-69c6916d9eb0',
  EXCHANGE_S_DESKLESS: '4a82b400-a79f-41a4-b4e2-e94f5787b113',
  EXCHANGE_S_ESSENTIALS: '1126bef5-da20-4f07-b45e-ad25d2581aa8',
  EXCHANGE_S_FOUNDATION: '113feb6c-3fe4-4440-bddc-54d774bf0318',
} as const;

/** Plans that give a user an Exchange Online mailbox (EXCHANGE_S_FOUNDATION alone does not). */
export const EXCHANGE_MAILBOX_PLANS: ReadonlySet<string> = new Set([
  PLAN.EXCHANGE_S_STANDARD, PLAN.EXCHANGE_S_ENTERPRISE, PLAN.EXCHANGE_S_DESKLESS, PLAN.EXCHANGE_S_ESSENTIALS,
]);

/** Plans that only the full (paid) Microsoft 365 Copilot SKUs contain. */
export const COPILOT_PLANS: ReadonlySet<string> = new Set([
  PLAN.M365_COPILOT_BUSINESS_CHAT, PLAN.GRAPH_CONNECTORS_COPILOT, PLAN.M365_COPILOT_APPS,
  PLAN.M365_COPILOT_TEAMS, PLAN.M365_COPILOT_INTELLIGENT_SEARCH, PLAN.M365_COPILOT_CONNECTORS,
]);

/** A lookup over SKU rows, by skuPartNumber (case-insensitive) or skuId. */
export class LicensingCatalog {
  private readonly byKey = new Map<string, SkuRow>();
  private readonly planNames = new Map<string, string>();

  constructor(readonly rows: readonly SkuRow[], readonly source: string) {
    for (const row of rows) {
      this.byKey.set(row.skuPartNumber.toLowerCase(), row);
      this.byKey.set(row.skuId.toLowerCase(), row);
      for (const [name, id] of row.servicePlans) this.planNames.set(id.toLowerCase(), name);
    }
  }

  sku(key: string): SkuRow | undefined {
    return this.byKey.get(key.toLowerCase());
  }

  planName(servicePlanId: string): string | undefined {
    return this.planNames.get(servicePlanId.toLowerCase());
  }

  /** A plan id from its name or id, resolved within one SKU. */
  planId(sku: SkuRow, nameOrId: string): string | undefined {
    const k = nameOrId.toLowerCase();
    return sku.servicePlans.find(([n, id]) => n.toLowerCase() === k || id.toLowerCase() === k)?.[1];
  }
}

let builtin: LicensingCatalog | undefined;
/** The shipped table, built once (the catalog is read-only). */
export const builtinCatalog = (): LicensingCatalog => (builtin ??= new LicensingCatalog(SKU_TABLE, 'built-in table (January 2026)'));

/** Microsoft's "Product names and service plan identifiers for licensing" CSV, whole. */
export function loadLicensingCsv(path: string): LicensingCatalog {
  let records: Record<string, string>[];
  try {
    records = parse(readFileSync(path), { columns: true, bom: true, skip_empty_lines: true });
  } catch (e) {
    throw new Error(`cannot read licensing CSV ${path}: ${(e as Error).message}`);
  }
  const need = ['String_Id', 'GUID', 'Service_Plan_Name', 'Service_Plan_Id'];
  const missing = need.filter((c) => records.length > 0 && !(c in records[0]!));
  if (records.length === 0 || missing.length > 0) {
    throw new Error(`${path} is not Microsoft's licensing CSV (missing columns: ${missing.join(', ') || 'all rows'}); download it from the Entra "licensing service plan reference" page`);
  }
  const skus = new Map<string, { skuPartNumber: string; skuId: string; displayName: string; servicePlans: [string, string, string][] }>();
  for (const r of records) {
    // Ids as Graph returns them: a few cells carry a stray trailing space.
    const guid = r.GUID!.trim();
    const sku = skus.get(guid) ?? { skuPartNumber: r.String_Id!, skuId: guid, displayName: r.Product_Display_Name ?? r.String_Id!, servicePlans: [] };
    sku.servicePlans.push([r.Service_Plan_Name!, r.Service_Plan_Id!.trim(), r.Service_Plans_Included_Friendly_Names ?? r.Service_Plan_Name!]);
    skus.set(guid, sku);
  }
  return new LicensingCatalog([...skus.values()], path);
}
