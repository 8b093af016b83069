// Test harness: a real emulator over real HTTPS on a free loopback port, with its own data dir,
// and a fetch that trusts its CA. Tests talk to it only over the wire.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { SCENARIO_DIR } from '../../src/cli/scenarios.js';

export interface TestEmulator extends RunningEmulator {
  fetch(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Headers; json: () => Promise<any>; text: () => Promise<string> }>;
  token(opts?: { tenant?: string; appId?: string; secret?: string; scope?: string }): Promise<string>;
  control(path: string, method?: string, body?: unknown): Promise<any>;
  tenantList(): Promise<any>;
  agent: Agent;
}

/**
 * One data dir per test process: the CA and app certificates are made once per file, and test
 * files running in parallel never share (or race on) one PKI. Removed when the process exits.
 */
export const TEST_DATA_DIR = process.env.COPILOG_TEST_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'copilog-test-data-'));
if (!process.env.COPILOG_TEST_DATA_DIR) process.once('exit', () => rmSync(TEST_DATA_DIR, { recursive: true, force: true }));

export async function withEmulator(scenario: string | Record<string, unknown>, opts: { dataDir?: string } = {}): Promise<TestEmulator> {
  const file = typeof scenario === 'string' && !scenario.includes('/') ? join(SCENARIO_DIR, `${scenario}.yaml`) : scenario;
  const emu = await startEmulator({ scenario: file, port: 0, dataDir: opts.dataDir ?? TEST_DATA_DIR, logLevel: process.env.COPILOG_TEST_LOG ? 'info' : 'silent' });
  const agent = new Agent({ connect: { ca: readFileSync(emu.ca) } });
  const f: TestEmulator['fetch'] = async (path, init = {}) => {
    const res = await undiciFetch(path.startsWith('https://') ? path : emu.url + path, { ...init, dispatcher: agent });
    const text = await res.text();
    return { status: res.status, headers: res.headers as unknown as Headers, json: async () => JSON.parse(text), text: async () => text };
  };
  const control: TestEmulator['control'] = async (path, method = 'GET', body) => {
    const r = await f(`/_emulator${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const t = await r.text();
    if (r.status >= 300) throw new Error(`control ${method} ${path} → ${r.status} ${t}`);
    return t ? JSON.parse(t) : undefined;
  };
  const tenants = () => control('/tenants');
  const token: TestEmulator['token'] = async (o = {}) => {
    const all = (await tenants()).tenants;
    const t = o.tenant ? all.find((x: any) => x.id === o.tenant || x.domain === o.tenant) : all[0];
    const appId = o.appId ?? t.default.appId;
    const app = t.apps.find((a: any) => a.appId === appId);
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: appId, client_secret: o.secret ?? app.secrets[0].value, scope: o.scope ?? 'https://graph.microsoft.com/.default' });
    const r = await f(`/${t.id}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    const j = await r.json();
    if (r.status !== 200) throw new Error(`token: ${r.status} ${JSON.stringify(j)}`);
    return j.access_token;
  };
  return {
    ...emu,
    agent,
    fetch: f,
    control,
    tenantList: tenants,
    token,
    async close() {
      await emu.close();
      await agent.close();
    },
  };
}

export function cleanDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const tempDir = (prefix = 'copilog-'): string => mkdtempSync(join(tmpdir(), prefix));
