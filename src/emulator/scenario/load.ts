// The one scenario loader: file → parsed YAML/JSON → validated Scenario, with errors that name
// the field and the file.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
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
  const s = result.data;
  const problems: string[] = [];
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
