// Readers for Microsoft's reference data in ../shared/graph-reference. Tests only: the product
// never reads ../shared (it ships its own tables, checked against these readers).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { csdlModel } from './csdl.js';

export const REFERENCE_DIR = fileURLToPath(new URL('../../../shared/graph-reference/', import.meta.url));
export const ref = (name: string): string => join(REFERENCE_DIR, name);

/** The Graph paths (lower-cased templates) the emulator serves under GET. */
export const SERVED_PATHS = [
  '/users',
  '/users/{id}',
  '/users/{id}/licensedetails',
  '/groups/{id}/transitivemembers',
  '/users/{id}/permissiongrants',
  '/subscribedskus',
  '/organization',
  '/applications',
  '/applications/{id}',
  '/serviceprincipals',
  '/serviceprincipals/{id}',
  '/serviceprincipals/{id}/approleassignments',
  '/copilot/users/{id}/interactionhistory/getallenterpriseinteractions',
] as const;

interface PathSet { schemeKeys: string[]; methods: string[]; paths: Record<string, string> }
interface Permission { schemes: Record<string, unknown>; pathSets?: PathSet[] }

let permissionsCache: Record<string, Permission> | undefined;
export function permissionsJson(): Record<string, Permission> {
  permissionsCache ??= JSON.parse(readFileSync(ref('graph-permissions.json'), 'utf8')).permissions;
  return permissionsCache!;
}

/** path (lower-case) → application permissions granting GET, sorted by name. */
export function applicationGrants(): Map<string, { name: string; least: boolean }[]> {
  const out = new Map<string, { name: string; least: boolean }[]>();
  for (const [name, perm] of Object.entries(permissionsJson())) {
    for (const ps of perm.pathSets ?? []) {
      if (!ps.schemeKeys.includes('Application') || !ps.methods.includes('GET')) continue;
      for (const [path, marks] of Object.entries(ps.paths)) {
        const key = path.toLowerCase();
        const least = /least=[^;]*\bApplication\b/.test(marks);
        const list = out.get(key) ?? [];
        if (!list.some((x) => x.name === name)) list.push({ name, least });
        out.set(key, list);
      }
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

/** Application permission name → appRole id on the Microsoft Graph service principal. */
export function applicationRoleIds(): Map<string, string> {
  const deployments = JSON.parse(readFileSync(ref('graph-permission-ids.json'), 'utf8')).permissionDeployments as Record<
    string,
    { id: string; scheme: string; environment?: string; resourceAppId?: string }[]
  >;
  const out = new Map<string, string>();
  for (const [name, list] of Object.entries(deployments)) {
    const isGraph = (d: { resourceAppId?: string }) => !d.resourceAppId || d.resourceAppId === '00000003-0000-0000-c000-000000000000';
    // Resource-specific (RSC) roles such as AiEnterpriseInteraction.Read.User live on another resource.
    const app = list.find((d) => d.scheme === 'Application' && isGraph(d)) ?? list.find((d) => d.scheme === 'Application');
    if (app) out.set(name, app.id);
  }
  return out;
}

/** Every property of microsoft.graph.user in the CSDL (inherited first): [name, one|many|navigation]. */
export function userPropertyTable(): [string, 'one' | 'many' | 'navigation'][] {
  const model = csdlModel();
  return model.properties('microsoft.graph.user').map((p) => [p.name, p.navigation ? 'navigation' : p.collection ? 'many' : 'one']);
}

/** Delegated (work or school) permission name → oauth2PermissionScope id on Microsoft Graph. */
export function delegatedScopeIds(): Map<string, string> {
  const deployments = JSON.parse(readFileSync(ref('graph-permission-ids.json'), 'utf8')).permissionDeployments as Record<string, { id: string; scheme: string }[]>;
  const out = new Map<string, string>();
  for (const [name, list] of Object.entries(deployments)) {
    const d = list.find((x) => x.scheme === 'DelegatedWork');
    if (d) out.set(name, d.id);
  }
  return out;
}

/** A SKU newer than the shipped table (made up), for tests of --licensing-csv. */
export const FUTURE_SKU = { part: 'COPILOG_FUTURE_SKU', id: 'f0e1d2c3-0000-4000-8000-000000002027', plan: 'COPILOG_FUTURE_PLAN', planId: 'f0e1d2c3-0000-4000-8000-0000000020a1' } as const;

/**
 * Microsoft's licensing CSV with FUTURE_SKU appended (its own plan, plus the Exchange Online plan),
 * written into `dir`: "the current CSV" that knows a SKU the built-in table does not.
 */
export function csvWithFutureSku(dir: string): string {
  const path = join(dir, 'licensing-with-future-sku.csv');
  const rows = [
    `Copilog Future SKU,${FUTURE_SKU.part},${FUTURE_SKU.id},${FUTURE_SKU.plan},${FUTURE_SKU.planId},Copilog Future Plan`,
    `Copilog Future SKU,${FUTURE_SKU.part},${FUTURE_SKU.id},EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange Online (Plan 2)`,
  ];
  writeFileSync(path, readFileSync(ref('licensing-service-plans.csv'), 'utf8').replace(/\r?\n?$/, '\r\n') + rows.join('\r\n') + '\r\n');
  return path;
}
