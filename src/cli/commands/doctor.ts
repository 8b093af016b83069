// copilog doctor: pinpoint why the Copilot interaction export fails for a tenant, app and users,
// and write the support bundle. Exit 0 when export works, 1 for a diagnosed failure, 2 for a
// usage error (including "no tenant configured and no emulator running").
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { ConfigError, GUID_RE, parseCloud, resolveConfig, CLOUDS, type ClientConfig } from '../../client/config.js';
import { TransportError } from '../../client/errors.js';
import type { LicensingCatalog } from '../../graph/licensing.js';
import { prepareBundleDir, redact, writeBundle } from '../doctor/bundle.js';
import { renderHuman, useColour } from '../doctor/render.js';
import type { CheckResult } from '../doctor/types.js';
import { checkEmulatorUrl, UsageError } from '../usage.js';

interface DoctorFlags {
  user: string[];
  emulator?: string;
  ca?: string;
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
  certificate?: string;
  cloud?: string;
  accessToken?: string;
  scope?: string;
  licensingCsv?: string;
  bundle?: string;
  json?: boolean;
  timeout: number;
}

// No default value: commander would print it beside the one the description names.
const collect = (v: string, all: string[] = []) => [...all, v];

function parseTimeout(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new UsageError(`--timeout must be a number of seconds between 0 and 3600, not '${v}'`);
  return n;
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('Diagnose why the Copilot interaction export fails: configuration, token, consent, users, licences, tenant, the endpoint itself; with a verdict and a support bundle.')
    .option('--user <id|upn>', 'user to check and probe (repeatable); default: the emulator\'s default user', collect)
    .option('--emulator <url>', 'diagnose against the local emulator at this URL (default when no tenant is configured)')
    .option('--ca <path>', 'the emulator\'s CA certificate (else COPILOG_EMULATOR_CA, NODE_EXTRA_CA_CERTS, ~/.copilog/emulator/pki/ca.crt: the first that signs the emulator\'s certificate)')
    .option('--tenant <id>', 'tenant id or domain (default AZURE_TENANT_ID)')
    .option('--client-id <id>', 'application (client) id (default AZURE_CLIENT_ID)')
    .option('--client-secret <value>', 'client secret (discouraged: visible in the process list; prefer AZURE_CLIENT_SECRET)')
    .option('--certificate <path>', 'PEM file with the certificate and its private key (default AZURE_CLIENT_CERTIFICATE_PATH; password in AZURE_CLIENT_CERTIFICATE_PASSWORD)')
    .addOption(new Option('--cloud <name>', `national cloud: ${Object.keys(CLOUDS).join(', ')}`))
    .option('--access-token <token|->', 'diagnose this access token instead of acquiring one ("-" reads it from stdin)')
    .option('--scope <scope>', 'scope to request (default https://graph.microsoft.com/.default for the cloud)')
    .option('--licensing-csv <path>', "Microsoft's current licensing CSV, to name SKUs and plans the built-in table lacks")
    .option('--bundle <dir>', 'write support-bundle.md and support-bundle.json into this directory')
    .option('--json', 'print one JSON document instead of the report')
    .option('--timeout <seconds>', 'stop and report after this long', parseTimeout, 30)
    .action(async (o: DoctorFlags) => {
      o.user ??= [];
      // --timeout bounds the whole command, Node's start-up included: one deadline for the
      // configuration (the emulator's defaults) and the checks, and a watchdog behind both.
      const startedAtMs = performance.timeOrigin;
      // Loaded when the command runs, so that copilog --help stays fast.
      const { doctorDeadline, runDoctor } = await import('../doctor/run.js');
      const deadline = doctorDeadline(startedAtMs, o.timeout);
      // Before the checks start nothing has been diagnosed: that ends like the configuration
      // step's own time-out (exit 2), not like a diagnosed failure (exit 1).
      let diagnosing = false;
      setTimeout(() => {
        process.stderr.write(diagnosing
          ? `copilog: doctor stopped: --timeout ${o.timeout} s reached\n`
          : `copilog: the time limit ran out before copilog could ask anything (--timeout ${o.timeout} s reached during start-up); allow more time (copilog doctor --timeout SECONDS).\n`);
        process.exit(diagnosing ? 1 : 2);
      }, Math.max(0, startedAtMs + o.timeout * 1000 + 500 - Date.now())).unref();
      validateFlags(o);
      if (o.bundle !== undefined) {
        try {
          prepareBundleDir(o.bundle);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
      }
      const catalog = await loadCatalog(o.licensingCsv);
      const accessToken = o.accessToken === '-' ? readStdinToken() : o.accessToken;
      let config: ClientConfig;
      try {
        config = await resolveConfig({
          tenant: o.tenant, clientId: o.clientId, clientSecret: o.clientSecret, certificatePath: o.certificate,
          certificatePassword: o.certificate ? process.env.AZURE_CLIENT_CERTIFICATE_PASSWORD : undefined,
          cloud: o.cloud, scope: o.scope, emulator: o.emulator, ca: o.ca,
        }, process.env, { timeoutMs: 5000, deadline });
      } catch (e) {
        if (e instanceof ConfigError) {
          const late = e.cause instanceof TransportError && (e.cause.kind === 'deadline' || e.cause.kind === 'timeout');
          throw new UsageError(late ? `${e.message} (--timeout is ${o.timeout} s)` : e.message);
        }
        throw e;
      }
      const flagProblems = config.problems.filter((p) => p.source === 'flag');
      if (flagProblems.length) throw new UsageError(flagProblems.map((p) => p.message).join('; '));

      // The same user given twice (in any letter case) is checked once.
      const users = o.user.filter((u, i) => o.user.findIndex((v) => v.toLowerCase() === u.toLowerCase()) === i);
      const argv = process.argv.slice(2);
      const live = liveChecks(!o.json && process.stderr.isTTY === true, process.stdout.isTTY === true);
      diagnosing = true;
      const report = await runDoctor({ config, catalog, users, accessToken, timeoutSeconds: o.timeout, startedAtMs, deadline, command: argv.slice(argv.indexOf('doctor') + 1), onCheck: live.onCheck });
      live.done();
      const secrets = [
        config.credential.kind === 'secret' ? config.credential.secret : '',
        o.clientSecret ?? '', process.env.AZURE_CLIENT_SECRET ?? '', process.env.AZURE_CLIENT_CERTIFICATE_PASSWORD ?? '', accessToken ?? '',
      ];
      if (o.bundle) {
        try {
          report.bundle = writeBundle(o.bundle, report, secrets);
        } catch (e) {
          process.stderr.write(redact(`copilog: could not write the support bundle to ${o.bundle}: ${(e as Error).message}\n`, secrets));
        }
      }
      const text = o.json ? JSON.stringify(report, null, 2) + '\n' : renderHuman(report, useColour(process.stdout));
      await new Promise<void>((res) => process.stdout.write(redact(text, secrets), () => res()));
      // Exit now: nothing the run abandoned at its deadline may keep the process alive.
      process.exit(report.verdict.primary.code === 'ok' ? 0 : 1);
    });
}

/**
 * On a terminal, each check as it completes (a run can take up to --timeout), on stderr; erased
 * before the report when the report goes to the same terminal, which lists them all again.
 */
function liveChecks(enabled: boolean, erase: boolean): { onCheck?: (c: CheckResult) => void; done(): void } {
  if (!enabled) return { done: () => undefined };
  let lines = 0;
  const mark: Record<CheckResult['status'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };
  process.stderr.write('copilog doctor: checking…\n');
  lines++;
  return {
    onCheck(c) {
      const cols = process.stderr.columns || 100;
      process.stderr.write(`  ${mark[c.status]}  ${c.id.padEnd(13)} ${c.user ? `${c.user}: ` : ''}${c.title}`.slice(0, cols - 1) + '\n');
      lines++;
    },
    done() {
      if (erase) process.stderr.write(`\x1b[${lines}A\x1b[J`);
    },
  };
}

function validateFlags(o: DoctorFlags): void {
  if (o.tenant !== undefined && !GUID_RE.test(o.tenant) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(o.tenant)) {
    throw new UsageError(`--tenant must be a tenant id (GUID) or domain, not '${o.tenant}'`);
  }
  if (o.clientId !== undefined && !GUID_RE.test(o.clientId)) throw new UsageError(`--client-id must be an application (client) id (GUID), not '${o.clientId}'`);
  if (o.cloud !== undefined && !parseCloud(o.cloud)) throw new UsageError(`--cloud must be one of ${Object.keys(CLOUDS).join(', ')}, not '${o.cloud}'`);
  for (const u of o.user) {
    if (!GUID_RE.test(u) && !/^[^@\s]+@[^@\s]+$/.test(u)) throw new UsageError(`--user must be an object id (GUID) or a userPrincipalName (name@domain), not '${u}'`);
  }
  if (o.emulator !== undefined) checkEmulatorUrl(o.emulator);
  if (o.accessToken !== undefined && o.accessToken.trim() === '') throw new UsageError('--access-token is empty');
}

async function loadCatalog(path: string | undefined): Promise<LicensingCatalog> {
  const { builtinCatalog, loadLicensingCsv } = await import('../../graph/licensing.js');
  if (!path) return builtinCatalog();
  try {
    return loadLicensingCsv(path);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function readStdinToken(): string {
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch (e) {
    throw new UsageError(`--access-token -: cannot read stdin (${(e as Error).message})`);
  }
  const token = text.trim();
  if (!token) throw new UsageError('--access-token -: stdin was empty');
  return token;
}
