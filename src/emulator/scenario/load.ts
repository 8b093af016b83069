// The one scenario loader: file → parsed YAML/JSON → validated Scenario, with errors that name
// the field and the file.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { guidFrom } from '../ids.js';
import { scenarioSchema, type Scenario } from './schema.js';

export class ScenarioError extends Error {
  constructor(message: string, readonly issues: string[] = []) {
    super(message);
    this.name = 'ScenarioError';
  }
}

export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)'}: ${i.message}`);
    throw new ScenarioError(`${source} is not a valid scenario:\n  ${issues.join('\n  ')}`, issues);
  }
  const s = expandFleet(result.data);
  const problems: string[] = [];
  const tenantKeys = new Map<string, number>();
  s.tenants.forEach((t, ti) => {
    for (const [field, key] of [['id', t.id.toLowerCase()], ['domain', t.domain.toLowerCase()]] as const) {
      const other = tenantKeys.get(key);
      if (other !== undefined) problems.push(`tenants[${ti}].${field}: ${key} is already tenants[${other}]'s id or domain`);
      else tenantKeys.set(key, ti);
    }
    if (t.generatedUsers) {
      const g = t.generatedUsers;
      const re = new RegExp(`^${g.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d{5})@${t.domain.replace(/\./g, '\\.')}$`, 'i');
      t.users.forEach((u, ui) => {
        const m = re.exec(u.userPrincipalName);
        if (m && Number(m[1]) >= 1 && Number(m[1]) <= g.count) problems.push(`tenants[${ti}].users[${ui}].userPrincipalName: ${u.userPrincipalName} is also a generated user (generatedUsers.prefix ${g.prefix}); pick another name or prefix`);
      });
    }
  });
  s.tenants.forEach((t, ti) => {
    const ids = new Set<string>();
    const upns = new Set<string>();
    t.users.forEach((u, ui) => {
      if (u.id && ids.has(u.id.toLowerCase())) problems.push(`tenants[${ti}].users[${ui}].id: duplicate id ${u.id}`);
      if (u.id) ids.add(u.id.toLowerCase());
      if (upns.has(u.userPrincipalName.toLowerCase())) problems.push(`tenants[${ti}].users[${ui}].userPrincipalName: duplicate ${u.userPrincipalName}`);
      upns.add(u.userPrincipalName.toLowerCase());
    });
    const apps = new Set<string>();
    t.apps.forEach((a, ai) => {
      if (apps.has(a.appId.toLowerCase())) problems.push(`tenants[${ti}].apps[${ai}].appId: duplicate ${a.appId}`);
      apps.add(a.appId.toLowerCase());
      if (Array.isArray(a.consented)) a.consented.forEach((c, ci) => {
        if (!a.permissions.includes(c)) problems.push(`tenants[${ti}].apps[${ai}].consented[${ci}]: ${c} is not in permissions (admin consent covers requested permissions only)`);
      });
    });
  });
  const tenant = s.tenants.find((t) => t.id.toLowerCase() === s.default.tenant.toLowerCase() || t.domain.toLowerCase() === s.default.tenant.toLowerCase());
  if (!tenant) problems.push(`default.tenant: no tenant with id or domain ${s.default.tenant}`);
  else {
    if (!tenant.apps.some((a) => a.appId.toLowerCase() === s.default.app.toLowerCase() || a.displayName === s.default.app)) problems.push(`default.app: no app ${s.default.app} in tenant ${tenant.domain}`);
  }
  if (problems.length) throw new ScenarioError(`${source} is not a valid scenario:\n  ${problems.join('\n  ')}`, problems);
  return s;
}

/**
 * Generated tenants become ordinary tenants, and each multi-tenant app becomes an app entry in
 * its home tenant and in every consenting tenant (marked with its home), before any check runs.
 */
function expandFleet(s: Scenario): Scenario {
  const tenants = [...s.tenants];
  const g = s.generatedTenants;
  if (g) {
    for (let i = 1; i <= g.count; i++) {
      const domain = `${g.prefix}${String(i).padStart(3, '0')}.onmicrosoft.com`;
      tenants.push({
        id: guidFrom('generated-tenant', domain), domain, displayName: `${g.prefix} ${i}`, cloud: 'global', features: { interactionExport: true },
        behaviours: { ...g.behaviours }, faults: { ...g.faults }, apps: [], users: [], groups: [],
        generatedUsers: { count: g.usersPerTenant, prefix: 'user', licenses: g.licenses }, interactions: { ...g.interactions, seed: `${g.interactions.seed}-${domain}` },
      });
    }
  }
  const find = (key: string) => tenants.find((t) => t.id.toLowerCase() === key.toLowerCase() || t.domain.toLowerCase() === key.toLowerCase());
  const problems: string[] = [];
  s.multiTenantApps.forEach((m, mi) => {
    const home = find(m.homeTenant);
    if (!home) {
      problems.push(`multiTenantApps[${mi}].homeTenant: no tenant with id or domain ${m.homeTenant}`);
      return;
    }
    const { homeTenant: _h, consentedIn, ...spec } = m;
    const targets = consentedIn === 'all' ? tenants : consentedIn.map((k, ki) => find(k) ?? (problems.push(`multiTenantApps[${mi}].consentedIn[${ki}]: no tenant ${k}`), undefined));
    for (const t of new Set([home, ...targets])) {
      if (!t) continue;
      const i = tenants.indexOf(t);
      tenants[i] = { ...t, apps: [...t.apps, { ...spec, homeTenant: home.id }] };
    }
  });
  if (problems.length) throw new ScenarioError(`scenario is not valid:\n  ${problems.join('\n  ')}`, problems);
  return { ...s, tenants, generatedTenants: undefined, multiTenantApps: [] };
}

export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioError(`cannot read scenario ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ScenarioError(`${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  return parseScenario(raw, path);
}
