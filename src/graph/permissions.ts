// Which application permissions open which Graph path: the one permission map that both the
// emulator's role gate and the doctor's advice read.
import { APPLICATION_GRANTS, APPLICATION_ROLE_IDS, DELEGATED_SCOPE_IDS } from './permissions-table.js';

export { APPLICATION_GRANTS, APPLICATION_ROLE_IDS, DELEGATED_SCOPE_IDS };

/** Permissions that grant GET on a path template (lower-case, e.g. '/users/{id}'); [] when unknown. */
export function grantsFor(template: string): readonly { name: string; least: boolean }[] {
  return APPLICATION_GRANTS[template.toLowerCase()] ?? [];
}

/** True when any of the roles grants GET on the template. */
export function rolesAllow(template: string, roles: readonly string[]): boolean {
  const grants = grantsFor(template);
  return grants.some((g) => roles.includes(g.name));
}

/** The least-privileged permission to ask for, for advice. */
export function leastPrivileged(template: string): string | undefined {
  const grants = grantsFor(template);
  return (grants.find((g) => g.least && !/Write/.test(g.name)) ?? grants.find((g) => !/Write/.test(g.name)))?.name;
}

export function roleId(name: string): string | undefined {
  return APPLICATION_ROLE_IDS[name];
}

export function roleName(id: string): string | undefined {
  return Object.entries(APPLICATION_ROLE_IDS).find(([, v]) => v === id)?.[0];
}
