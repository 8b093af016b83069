// One way to name a target for every command that talks to a tenant: the same flags, then the
// Azure SDK's AZURE_* variables, then the embedded emulator. Resolution itself lives in the
// client library (resolveConfig); this file only turns flags into its input and its problems
// into usage errors.
import { Command, Option } from 'commander';
import { ConfigError, CLOUDS, GUID_RE, parseCloud, resolveConfig, type ClientConfig } from '../client/config.js';
import { TransportError } from '../client/errors.js';
import { checkEmulatorUrl, UsageError } from './usage.js';

export interface TargetFlags {
  emulator?: string;
  ca?: string;
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
  certificate?: string;
  cloud?: string;
  accessToken?: string;
  scope?: string;
}

export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('--emulator <url>', 'use the local emulator at this URL (the default when no tenant is configured)')
    .option('--ca <path>', 'the emulator\'s CA certificate (else COPILOG_EMULATOR_CA, NODE_EXTRA_CA_CERTS, ~/.copilog/emulator/pki/ca.crt: the first that signs the emulator\'s certificate)')
    .option('--tenant <id>', 'tenant id or domain (default AZURE_TENANT_ID)')
    .option('--client-id <id>', 'application (client) id (default AZURE_CLIENT_ID)')
    .option('--client-secret <value>', 'client secret (visible in the process list: prefer AZURE_CLIENT_SECRET)')
    .option('--certificate <path>', 'PEM with certificate and private key (default AZURE_CLIENT_CERTIFICATE_PATH)')
    .addOption(new Option('--cloud <name>', `national cloud: ${Object.keys(CLOUDS).join(', ')}`))
    .option('--access-token <token>', 'use this access token instead of acquiring one')
    .option('--scope <scope>', 'scope to request (default https://graph.microsoft.com/.default for the cloud)');
}

export function validateTargetFlags(o: TargetFlags): void {
  if (o.tenant !== undefined && !GUID_RE.test(o.tenant) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(o.tenant)) {
    throw new UsageError(`--tenant must be a tenant id (GUID) or domain, not '${o.tenant}'`);
  }
  if (o.clientId !== undefined && !GUID_RE.test(o.clientId)) throw new UsageError('--client-id must be an application (client) id (GUID); the value given is not one');
  if (o.cloud !== undefined && !parseCloud(o.cloud)) throw new UsageError(`--cloud must be one of ${Object.keys(CLOUDS).join(', ')}, not '${o.cloud}'`);
  if (o.emulator !== undefined) checkEmulatorUrl(o.emulator);
  if (o.accessToken !== undefined && o.accessToken.trim() === '') throw new UsageError('--access-token is empty');
}

/** The client configuration for these flags; any problem that stops a run is a usage error. */
export async function resolveTarget(o: TargetFlags, opts: { timeoutMs?: number; requireCredential?: boolean } = {}): Promise<ClientConfig> {
  validateTargetFlags(o);
  let config: ClientConfig;
  try {
    config = await resolveConfig({
      tenant: o.tenant, clientId: o.clientId, clientSecret: o.clientSecret, certificatePath: o.certificate,
      certificatePassword: o.certificate ? process.env.AZURE_CLIENT_CERTIFICATE_PASSWORD : undefined,
      cloud: o.cloud, scope: o.scope, emulator: o.emulator, ca: o.ca,
    }, process.env, { timeoutMs: opts.timeoutMs ?? 10_000 });
  } catch (e) {
    if (e instanceof ConfigError) {
      const late = e.cause instanceof TransportError && (e.cause.kind === 'deadline' || e.cause.kind === 'timeout');
      throw new UsageError(late ? `${e.message}` : e.message);
    }
    throw e;
  }
  const problems = config.problems.filter((p) => opts.requireCredential !== false || o.accessToken === undefined || p.setting !== 'credential');
  const blocking = o.accessToken !== undefined ? problems.filter((p) => p.source === 'flag') : problems;
  if (blocking.length) throw new UsageError(blocking.map((p) => `${p.message}${p.source === 'env' ? ' (from the environment)' : ''}`).join('; '));
  return config;
}
