// Where a client gets its settings: flags first, then the Azure SDK's environment variables
// (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
// AZURE_CLIENT_CERTIFICATE_PASSWORD), then, in emulator mode, the emulator's own defaults.
// Problems are collected with the setting and its source instead of thrown, so a caller can tell
// a mistyped flag (usage) from a bad environment (a diagnosis).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CopilogError, TransportError } from './errors.js';

export type CloudName = 'global' | 'usgov' | 'usgovdod' | 'china';

export interface Cloud {
  name: CloudName;
  displayName: string;
  authorityHost: string;
  graphHost: string;
  /** The `aud` of Graph tokens in this cloud. */
  graphAudience: string;
  graphScope: string;
  /** Microsoft documents interaction export for Global, US Gov L4 and L5, not 21Vianet. */
  interactionExport: boolean;
}

const cloud = (name: CloudName, displayName: string, authorityHost: string, graphHost: string, interactionExport: boolean): Cloud => ({
  name, displayName, authorityHost, graphHost, graphAudience: `https://${graphHost}`, graphScope: `https://${graphHost}/.default`, interactionExport,
});

export const CLOUDS: Readonly<Record<CloudName, Cloud>> = {
  global: cloud('global', 'Microsoft Azure (global)', 'login.microsoftonline.com', 'graph.microsoft.com', true),
  usgov: cloud('usgov', 'US Government L4 (GCC High)', 'login.microsoftonline.us', 'graph.microsoft.us', true),
  usgovdod: cloud('usgovdod', 'US Government L5 (DoD)', 'login.microsoftonline.us', 'dod-graph.microsoft.us', true),
  china: cloud('china', 'Microsoft Azure operated by 21Vianet (China)', 'login.chinacloudapi.cn', 'microsoftgraph.chinacloudapi.cn', false),
};

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN_RE = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
export const DEFAULT_EMULATOR_URL = 'https://127.0.0.1:8443';

export type Source = 'flag' | 'env' | 'emulator' | 'default' | 'token';

export type CredentialConfig =
  | { kind: 'secret'; secret: string; source: Source }
  | { kind: 'certificate'; certificatePath: string; keyPath?: string; password?: string; source: Source }
  | { kind: 'none' };

export interface ConfigProblem {
  setting: string;
  source: Source;
  message: string;
}

export interface ClientConfig {
  mode: 'cloud' | 'emulator';
  cloud: Cloud;
  /** Tenant id (GUID) or a verified domain. */
  tenantId: string;
  clientId: string;
  credential: CredentialConfig;
  /** https://login.microsoftonline.com/{tenant}, or https://127.0.0.1:PORT/{tenant}. */
  authority: string;
  /** host:port entries for MSAL when the authority is not a Microsoft cloud (the emulator). */
  knownAuthorities: string[];
  /** https://graph.microsoft.com/v1.0 or the emulator's /v1.0. */
  graphBaseUrl: string;
  scope: string;
  /** CA to trust in addition to Node's roots (the emulator's). */
  ca?: Buffer;
  caPath?: string;
  emulator?: { url: string; scenario: string; defaultUser?: string };
  /** Where each setting came from: shown as evidence, never the values of secrets. */
  sources: Record<string, Source>;
  /** Credentials that were configured but not used, and why (e.g. a flag took precedence). Names only. */
  ignoredCredentials: string[];
  problems: ConfigProblem[];
}

export interface ConfigInput {
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
  certificatePath?: string;
  certificatePassword?: string;
  cloud?: string;
  scope?: string;
  /** Target the emulator at this URL. */
  emulator?: string;
  /** CA file for the emulator (else COPILOG_EMULATOR_CA, NODE_EXTRA_CA_CERTS, the default emulator data dir). */
  ca?: string;
}

/** Thrown when no configuration can be formed at all (e.g. no tenant and no emulator running). */
export class ConfigError extends CopilogError {}

/** Why the emulator's defaults could not be read, without claiming more than was seen. */
function emulatorUnreachable(url: string, caPath: string, e: Error, explicit: boolean): string {
  const t = e instanceof TransportError ? e : undefined;
  if (t?.kind === 'deadline' && t.message.startsWith('not sent')) {
    return `the time limit ran out before copilog could ask the emulator at ${url} for its defaults (${t.message}); allow more time (copilog doctor --timeout SECONDS).`;
  }
  if (t && (t.kind === 'timeout' || t.kind === 'deadline')) {
    // A slow answer is not a missing emulator: say what happened and what to try.
    return `${explicit ? 'the emulator' : 'no tenant is configured, and the emulator'} at ${url} did not answer in time: ${t.message}. If it is running and busy, allow more time (copilog doctor --timeout SECONDS); otherwise check that ${url} is the URL the emulator printed when it started.`;
  }
  if (t?.kind === 'tls') {
    return `the server at ${url} presented a certificate that the CA in ${caPath} did not sign (${t.message}). Pass --ca with the emulator's own CA (it prints the path when it starts: <data dir>/pki/ca.crt).`;
  }
  return explicit ? `the emulator at ${url} did not answer: ${e.message}. Start it with: copilog emulator --scenario <file>` : noTenantMessage(url, e.message);
}

export const copilogHome = (env: NodeJS.ProcessEnv = process.env): string => env.COPILOG_HOME ?? join(homedir(), '.copilog');
export const defaultEmulatorCa = (env: NodeJS.ProcessEnv = process.env): string => join(copilogHome(env), 'emulator', 'pki', 'ca.crt');

/** A tenant is a GUID or a domain name (the Azure SDK accepts both). */
export const isTenant = (v: string): boolean => GUID_RE.test(v) || DOMAIN_RE.test(v);

export function parseCloud(v: string | undefined): CloudName | undefined {
  if (v === undefined) return undefined;
  const k = v.toLowerCase() as CloudName;
  return k in CLOUDS ? k : undefined;
}

/**
 * Resolve the configuration. Emulator mode when `emulator` is given or no tenant is configured
 * anywhere: the emulator's /_emulator/tenants supplies the default tenant, app, credential,
 * scope and user; flags still override them (environment variables do not, so a shell set up
 * for a real tenant cannot leak into an emulator run).
 */
export async function resolveConfig(input: ConfigInput, env: NodeJS.ProcessEnv = process.env, opts: { timeoutMs?: number; deadline?: number } = {}): Promise<ClientConfig> {
  const problems: ConfigProblem[] = [];
  const sources: Record<string, Source> = {};
  const envTenant = nonEmpty(env.AZURE_TENANT_ID);
  const emulatorWanted = input.emulator !== undefined || (input.tenant === undefined && envTenant === undefined);

  const cloudName = input.cloud !== undefined ? parseCloud(input.cloud) : 'global';
  if (cloudName === undefined) problems.push({ setting: 'cloud', source: 'flag', message: `unknown cloud '${input.cloud}'; use one of ${Object.keys(CLOUDS).join(', ')}` });
  let cloudDef = CLOUDS[cloudName ?? 'global'];
  sources.cloud = input.cloud !== undefined ? 'flag' : 'default';

  // Flags and (outside emulator mode) environment, each value with its source.
  const pick = (flag: string | undefined, envName: string): [string | undefined, Source] => {
    if (flag !== undefined) return [flag, 'flag'];
    if (!emulatorWanted && nonEmpty(env[envName]) !== undefined) return [env[envName]!.trim(), 'env'];
    return [undefined, 'default'];
  };
  let [tenantId, tenantSource] = pick(input.tenant, 'AZURE_TENANT_ID');
  let [clientId, clientSource] = pick(input.clientId, 'AZURE_CLIENT_ID');
  // The credential: a flag before the environment; within one source, a secret before a
  // certificate, in the order of @azure/identity's EnvironmentCredential. What is passed over is
  // named (never its value) so a run cannot silently use another credential than the one meant.
  const envSecret = emulatorWanted ? undefined : nonEmpty(env.AZURE_CLIENT_SECRET);
  const envCert = emulatorWanted ? undefined : nonEmpty(env.AZURE_CLIENT_CERTIFICATE_PATH)?.trim();
  const [certPassword] = pick(input.certificatePassword, 'AZURE_CLIENT_CERTIFICATE_PASSWORD');
  const offered: { name: string; credential: Exclude<CredentialConfig, { kind: 'none' }> }[] = [
    ...(input.clientSecret !== undefined ? [{ name: '--client-secret', credential: { kind: 'secret' as const, secret: input.clientSecret, source: 'flag' as const } }] : []),
    ...(input.certificatePath !== undefined ? [{ name: '--certificate', credential: { kind: 'certificate' as const, certificatePath: input.certificatePath, password: certPassword, source: 'flag' as const } }] : []),
    ...(envSecret !== undefined ? [{ name: 'AZURE_CLIENT_SECRET', credential: { kind: 'secret' as const, secret: envSecret.trim(), source: 'env' as const } }] : []),
    ...(envCert !== undefined ? [{ name: 'AZURE_CLIENT_CERTIFICATE_PATH', credential: { kind: 'certificate' as const, certificatePath: envCert, password: certPassword, source: 'env' as const } }] : []),
  ];
  const chosen = offered[0];
  let credential: CredentialConfig = chosen?.credential ?? { kind: 'none' };
  const ignoredCredentials = offered.slice(1).map((o) => `${o.name} is set but not used: ${chosen!.name} takes precedence (${
    chosen!.credential.source !== o.credential.source ? 'a flag comes before the environment' : 'a secret comes before a certificate, as in @azure/identity\'s EnvironmentCredential'})`);
  const secret = credential.kind === 'secret' ? credential.secret : undefined;
  const secretSource: Source = credential.kind === 'secret' ? credential.source : 'default';
  let scope = input.scope;
  let scopeSource: Source = input.scope !== undefined ? 'flag' : 'default';

  let authority: string;
  let knownAuthorities: string[] = [];
  let graphBaseUrl: string;
  let ca: Buffer | undefined;
  let caPath: string | undefined;
  let emulator: ClientConfig['emulator'];

  if (emulatorWanted) {
    const url = (input.emulator ?? env.COPILOG_EMULATOR_URL ?? DEFAULT_EMULATOR_URL).replace(/\/+$/, '');
    let parsed: URL;
    try {
      parsed = new URL(url);
      if (parsed.protocol !== 'https:') throw new Error('not https');
    } catch {
      throw new ConfigError(`--emulator must be the emulator's https:// URL (like ${DEFAULT_EMULATOR_URL}), not '${url}'`);
    }
    const trusted = await trustEmulator(url, input, env, opts);
    ({ ca, caPath } = trusted);
    const found = trusted.defaults;
    const t = found.tenant;
    cloudDef = input.cloud !== undefined && cloudName ? CLOUDS[cloudName] : CLOUDS[parseCloud(t.cloud) ?? 'global'];
    if (input.cloud === undefined) sources.cloud = 'emulator';
    const app = t.apps.find((a) => a.appId === t.default.appId) ?? t.apps[0];
    if (tenantId === undefined) [tenantId, tenantSource] = [t.id, 'emulator'];
    if (clientId === undefined) [clientId, clientSource] = [app?.appId ?? undefined, 'emulator'];
    if (credential.kind === 'none' && app) {
      const cert = app.certificates[0];
      const sec = app.secrets[0];
      if (t.default.credential === 'certificate' && cert) credential = { kind: 'certificate', certificatePath: cert.certPath, keyPath: cert.keyPath, source: 'emulator' };
      else if (sec) credential = { kind: 'secret', secret: sec.value, source: 'emulator' };
      else if (cert) credential = { kind: 'certificate', certificatePath: cert.certPath, keyPath: cert.keyPath, source: 'emulator' };
    }
    if (scope === undefined && t.default.scope) [scope, scopeSource] = [t.default.scope, 'emulator'];
    authority = `${url}/${tenantId}`;
    knownAuthorities = [parsed.host];
    graphBaseUrl = `${url}/v1.0`;
    emulator = { url, scenario: found.scenario, defaultUser: t.default.user ?? t.default.userId ?? undefined };
  } else {
    authority = `https://${cloudDef.authorityHost}/${tenantId}`;
    graphBaseUrl = `https://${cloudDef.graphHost}/v1.0`;
    if (input.ca) {
      caPath = input.ca;
      try {
        ca = readFileSync(input.ca);
      } catch {
        problems.push({ setting: 'ca', source: 'flag', message: `cannot read --ca ${input.ca}` });
      }
    }
  }

  if (tenantId === undefined) problems.push({ setting: 'tenant', source: 'default', message: 'no tenant: set AZURE_TENANT_ID or pass --tenant' });
  else if (!isTenant(tenantId)) problems.push({ setting: 'tenant', source: tenantSource, message: `tenant '${tenantId}' is neither a GUID nor a domain name (find the Directory (tenant) ID in Entra admin center → Overview)` });
  if (clientId === undefined) problems.push({ setting: 'clientId', source: 'default', message: 'no client id: set AZURE_CLIENT_ID or pass --client-id' });
  else if (!GUID_RE.test(clientId)) problems.push({ setting: 'clientId', source: clientSource, message: `client id '${clientId}' is not a GUID (use the Application (client) ID from the app registration's Overview, not its name or object id)` });
  if (credential.kind === 'none') problems.push({ setting: 'credential', source: 'default', message: 'no credential: set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH' });
  if (credential.kind === 'secret' && secret !== undefined && GUID_RE.test(secret)) {
    problems.push({ setting: 'clientSecret', source: secretSource, message: 'the client secret looks like a GUID: that is probably the secret ID, not its value (the value is shown once, when the secret is created)' });
  }
  if (scope !== undefined && !/\/\.default$/i.test(scope.trim())) problems.push({ setting: 'scope', source: scopeSource, message: `scope '${scope}' must end in /.default for the client-credentials flow (e.g. ${cloudDef.graphScope})` });

  Object.assign(sources, { tenant: tenantSource, clientId: clientSource, scope: scope === undefined ? 'default' : scopeSource });
  if (credential.kind !== 'none') sources.credential = credential.source;
  return {
    mode: emulatorWanted ? 'emulator' : 'cloud',
    cloud: cloudDef,
    tenantId: tenantId ?? '',
    clientId: (clientId ?? '').toLowerCase(),
    credential,
    authority,
    knownAuthorities,
    graphBaseUrl,
    scope: (scope ?? cloudDef.graphScope).trim(),
    ca,
    caPath,
    emulator,
    sources,
    ignoredCredentials,
    problems,
  };
}

/**
 * The CA the emulator's certificate chains to, and the emulator's defaults read with it. --ca
 * alone when given; otherwise COPILOG_EMULATOR_CA, NODE_EXTRA_CA_CERTS (which Node already
 * trusts: an emulator started on another --data-dir is reached with it alone), then the default
 * data dir, each tried until one signs the emulator's certificate. One message when none does.
 */
async function trustEmulator(url: string, input: ConfigInput, env: NodeJS.ProcessEnv, opts: { timeoutMs?: number; deadline?: number }): Promise<{ ca: Buffer; caPath: string; defaults: Awaited<ReturnType<typeof fetchEmulatorDefaults>> }> {
  const explicit = input.emulator !== undefined;
  const candidates: { path: string; from: string }[] = input.ca !== undefined
    ? [{ path: input.ca, from: '--ca' }]
    : [
      ...(nonEmpty(env.COPILOG_EMULATOR_CA) ? [{ path: env.COPILOG_EMULATOR_CA!, from: 'COPILOG_EMULATOR_CA' }] : []),
      ...(nonEmpty(env.NODE_EXTRA_CA_CERTS) ? [{ path: env.NODE_EXTRA_CA_CERTS!, from: 'NODE_EXTRA_CA_CERTS' }] : []),
      { path: defaultEmulatorCa(env), from: 'the default data dir' },
    ];
  const tried: string[] = [];
  let lastTls: Error | undefined;
  for (const c of candidates) {
    let ca: Buffer;
    try {
      ca = readFileSync(c.path);
    } catch {
      tried.push(`${c.from} ${c.path} (not readable)`);
      continue;
    }
    try {
      return { ca, caPath: c.path, defaults: await fetchEmulatorDefaults(url, ca, opts.timeoutMs ?? 5000, opts.deadline) };
    } catch (e) {
      // Another CA may sign it; anything else (not running, too slow) is the same for every CA.
      if (e instanceof TransportError && e.kind === 'tls') {
        tried.push(`${c.from} ${c.path} (did not sign its certificate)`);
        lastTls = e;
        continue;
      }
      throw new ConfigError(emulatorUnreachable(url, c.path, e as Error, explicit), { cause: e });
    }
  }
  if (!explicit && !lastTls) throw new ConfigError(noTenantMessage(url, `no CA to trust it: ${tried.join('; ')}`));
  // One CA, and it did not sign: the long-standing message naming that CA.
  if (tried.length === 1 && lastTls) throw new ConfigError(emulatorUnreachable(url, candidates[0]!.path, lastTls, explicit), { cause: lastTls });
  throw new ConfigError(`cannot trust the emulator at ${url}: tried ${tried.join('; ')}. Pass --ca with the emulator's CA (it prints the path when it starts: <data dir>/pki/ca.crt), or set NODE_EXTRA_CA_CERTS to it.`, lastTls ? { cause: lastTls } : {});
}

/** What GET /_emulator/tenants says about the default tenant (test credentials only). */
interface EmulatorTenant {
  id: string;
  cloud: string;
  default: { appId: string | null; userId: string | null; user?: string; scope?: string; credential?: 'secret' | 'certificate' };
  apps: { appId: string; secrets: { value: string }[]; certificates: { certPath: string; keyPath: string }[] }[];
}

async function fetchEmulatorDefaults(url: string, ca: Buffer, timeoutMs: number, deadline?: number): Promise<{ scenario: string; tenant: EmulatorTenant }> {
  // Loaded here, not at the top: the CLI's --help imports this file and must not load undici.
  const { NO_RETRY, Transport } = await import('./transport.js');
  const transport = new Transport({ ca, timeoutMs, deadline, retry: NO_RETRY });
  try {
    const res = await transport.send({ method: 'GET', url: `${url}/_emulator/tenants`, untraced: true });
    if (res.status !== 200) throw new Error(`GET /_emulator/tenants answered ${res.status}; is this a copilog emulator?`);
    const body = res.json<{ scenario: string; tenants: EmulatorTenant[] }>();
    // The default tenant is the one whose summary carries the default scope/credential.
    const tenant = body.tenants.find((t) => t.default.credential !== undefined) ?? body.tenants[0];
    if (!tenant) throw new Error('the emulator serves no tenant');
    return { scenario: body.scenario, tenant };
  } finally {
    await transport.close();
  }
}

function noTenantMessage(url: string, why: string): string {
  return [
    `no tenant is configured and no emulator answers at ${url} (${why}).`,
    'Either configure a tenant:',
    '  export AZURE_TENANT_ID=<tenant id> AZURE_CLIENT_ID=<app id> AZURE_CLIENT_SECRET=<secret value>   (or AZURE_CLIENT_CERTIFICATE_PATH)',
    'or start the local emulator in another terminal and point copilog at it:',
    '  copilog emulator --scenario doctor/ok        (serves https://127.0.0.1:8443)',
    '  copilog doctor --emulator https://127.0.0.1:8443',
  ].join('\n');
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);
