// The Copilot interaction export API in Graph's terms: the per-user path and the createdDateTime
// window filter (both bounds are required, graph-facts §5).
import type { Query } from './graph.js';

/** copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions, id = Entra object id (or UPN). */
export const interactionHistoryPath = (userId: string): string =>
  `copilot/users/${encodeURIComponent(userId)}/interactionHistory/getAllEnterpriseInteractions`;

/** Graph's DateTimeOffset literal: UTC, whole seconds (some tenants reject fractions). */
export const odataDateTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `createdDateTime gt FROM and createdDateTime lt TO` (exclusive bounds), optionally by appClass. */
export function interactionWindowFilter(from: Date, to: Date, appClasses: string[] = []): string {
  const window = `createdDateTime gt ${odataDateTime(from)} and createdDateTime lt ${odataDateTime(to)}`;
  if (appClasses.length === 0) return window;
  const classes = appClasses.map((a) => `appClass eq '${a.replace(/'/g, "''")}'`).join(' or ');
  return `${window} and (${classes})`;
}

export function interactionQuery(from: Date, to: Date, top = 100, appClasses?: string[]): Query {
  return { $top: top, $filter: interactionWindowFilter(from, to, appClasses) };
}
