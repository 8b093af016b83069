// Shared pieces of the interaction-export tests: the demo scenario without throttling, the
// export path in any version, a query-string helper and a body reader that tolerates non-JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SCENARIO_DIR } from '../../src/cli/scenarios.js';
import { withEmulator, type TestEmulator } from './emulator.js';

export const APP_CLASS_PREFIX = 'IPM.SkypeTeams.Message.Copilot.';

/** The demo scenario, with throttling off so a file's many requests are not 429s. */
export function demoWithoutThrottling(): Record<string, unknown> {
  const s = parseYaml(readFileSync(join(SCENARIO_DIR, 'demo.yaml'), 'utf8'));
  s.tenants[0].behaviours = { ...(s.tenants[0].behaviours ?? {}), requestsPerSecond: null };
  return s;
}

export const exportPath = (user: string, query = '', version = 'v1.0'): string =>
  `/${version}/copilot/users/${user}/interactionHistory/getAllEnterpriseInteractions${query ? `?${query}` : ''}`;

export const qs = (params: Record<string, string>): string => new URLSearchParams(params).toString();

/** The parsed JSON body, or undefined for an empty or non-JSON body (a truncated one, say). */
export function jsonOrUndefined(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export interface Page { status: number; headers: Headers; body: any }
export interface Truth { userId: string; interaction: any }

/** One GET with a bearer token; the body parsed as JSON (undefined when empty). */
export async function getPage(emu: TestEmulator, url: string, bearer: string): Promise<Page> {
  const r = await emu.fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
}

/** The demo tenant without throttling, with its users by UPN local part and an export token. */
export async function startDemo(): Promise<{ emu: TestEmulator; tid: string; users: Record<string, string>; defaultUserId: string; token: string }> {
  const emu = await withEmulator(demoWithoutThrottling());
  const t = (await emu.tenantList()).tenants[0];
  const users: Record<string, string> = {};
  for (const u of t.users) users[u.userPrincipalName.split('@')[0].split('_')[0]] = u.id;
  return { emu, tid: t.id, users, defaultUserId: t.default.userId, token: await emu.token() };
}
