// The doctor's run: the checks in order over one context, under one deadline, then the verdict.
// Whatever happens (a permission missing, a request hanging, the deadline passing), it returns a
// report; only the caller decides how to print it.
import { MsalCredential, type TokenCredentialLike } from '../../client/credential.js';
import type { ClientConfig } from '../../client/config.js';
import { GraphClient } from '../../client/graph.js';
import { StaticTokenCredential } from '../../client/credential.js';
import { Transport, type RetryPolicy } from '../../client/transport.js';
import type { LicensingCatalog } from '../../graph/licensing.js';
import { findLicensedMembers, checkClaims, checkConfiguration, checkConsent, checkProbe, checkSubscriptions, checkTenant, checkToken, checkUser, type DoctorContext } from './checks.js';
import type { CheckId, CheckResult, DoctorReport, Facts } from './types.js';
import { decideAll, type VerdictContext } from './verdict.js';

export interface DoctorOptions {
  config: ClientConfig;
  catalog: LicensingCatalog;
  /** Users to check and probe (object ids or UPNs); the emulator's default user when empty. */
  users: string[];
  /** Diagnose this token instead of acquiring one. */
  accessToken?: string;
  /** Acquire tokens with this credential (an @azure/identity one, say) instead of MSAL. */
  credential?: TokenCredentialLike;
  /** The doctor never runs longer than this (whole seconds or fractions). */
  timeoutSeconds: number;
  /** When the clock started (default: now); lets the CLI count its own start-up. */
  startedAtMs?: number;
  /** The deadline (ms since epoch) when the caller already computed it (see doctorDeadline). */
  deadline?: number;
  /** Small by default so a throttled probe is reported, not hidden by long waits. */
  retry?: RetryPolicy;
  /** The doctor's own arguments (after `doctor`), to print commands to run next with the same flags. */
  command?: readonly string[];
  /** Told of each check as it completes (the CLI shows them on a terminal while the run goes on). */
  onCheck?: (c: CheckResult) => void;
}

export const DOCTOR_RETRY: RetryPolicy = { maxRetries: 2, maxWaitMs: 2_000, budgetMs: 3_000 };
const VERSION = '0.1.0';

/** The moment requests stop: the limit, less a little time to decide and print within it. */
export const doctorDeadline = (startedAtMs: number, timeoutSeconds: number): number =>
  Math.round(startedAtMs) + timeoutSeconds * 1000 - Math.min(300, timeoutSeconds * 100);

const pathAndQuery = (url: string): string => {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname + u.search);
  } catch {
    return url;
  }
};

export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const startedAt = Math.round(o.startedAtMs ?? Date.now());
  const deadline = o.deadline ?? doctorDeadline(startedAt, o.timeoutSeconds);
  const transport = new Transport({ ca: o.config.ca, timeoutMs: 10_000, deadline, retry: o.retry ?? DOCTOR_RETRY });
  const facts: Facts = { configProblems: [], tokenSource: 'none', users: [] };
  const config = o.config;
  const verdictContext: VerdictContext = {
    tenantId: config.tenantId, appId: config.clientId, authorityHost: new URL(config.authority.startsWith('https://') ? config.authority : `https://${config.authority}`).host,
    graphScope: config.cloud.graphScope, graphAudience: config.cloud.graphAudience, cloud: config.cloud.name,
    ...(o.command ? { command: o.command } : {}),
  };
  const ctx: DoctorContext = {
    config, transport, catalog: o.catalog, facts, verdict: verdictContext,
    makeGraph: (token) => new GraphClient({ baseUrl: config.graphBaseUrl, credential: new StaticTokenCredential(token), scope: config.scope, transport }),
  };
  const checks: CheckResult[] = [];
  let current: { id: CheckId; user?: string } = { id: 'config' };
  const users = o.users.length ? o.users : config.emulator?.defaultUser ? [config.emulator.defaultUser] : [];

  // Results are taken until the race below ends; a check abandoned at the deadline may still
  // finish in the background, and whatever it says then is dropped.
  let open = true;
  const noteTimeout = (id: CheckId, user: string | undefined, notStarted: boolean) => {
    if (facts.timedOut) return;
    const unanswered = transport.trace.find((e) => e.status === 0 && (e.errorCode === 'deadline' || e.errorCode === 'timeout'));
    facts.timedOut = {
      check: id, ...(user ? { user } : {}), timeoutSeconds: o.timeoutSeconds, ...(notStarted ? { notStarted } : {}),
      ...(unanswered ? { request: `${unanswered.method} ${pathAndQuery(unanswered.url)} (${unanswered.errorMessage})`, phase: unanswered.phase ?? 'response' } : {}),
    };
  };
  const all = async () => {
    const step = async (id: CheckId, run: () => Promise<CheckResult | CheckResult[]> | CheckResult | CheckResult[], user?: string) => {
      if (!open) return;
      current = { id, user };
      if (transport.remainingMs() <= 0) {
        facts.deadlineReached = true;
        noteTimeout(id, user, true);
        checks.push({ id, status: 'skip', title: `${id} not checked`, evidence: [`the --timeout (${o.timeoutSeconds} s) ran out first`], ...(user ? { user } : {}) });
        return;
      }
      const late = facts.deadlineReached;
      let r: CheckResult | CheckResult[];
      try {
        r = await run();
      } catch (e) {
        // A bug or an unforeseen answer: report it in place of the check, never crash.
        r = { id, status: 'skip', title: `${id} could not run`, evidence: [`unexpected error: ${(e as Error)?.message ?? String(e)}`], ...(user ? { user } : {}) };
      }
      if (!open) return;
      checks.push(...(Array.isArray(r) ? r : [r]));
      for (const c of Array.isArray(r) ? r : [r]) o.onCheck?.(c);
      if (!late && facts.deadlineReached) noteTimeout(id, user, false);
    };
    await step('config', () => checkConfiguration(ctx, { tokenGiven: o.accessToken !== undefined }));
    if (o.accessToken === undefined) {
      const usable = !facts.configProblems.length && !facts.certificateError;
      if (o.credential) ctx.credential = o.credential;
      else if (usable) {
        try {
          ctx.credential = new MsalCredential(config, transport);
        } catch (e) {
          facts.certificateError ??= (e as Error).message;
        }
      }
    }
    await step('token', () => checkToken(ctx, o.accessToken));
    await step('claims', () => checkClaims(ctx));
    await step('consent', () => checkConsent(ctx));
    for (const u of users) await step('user.account', () => checkUser(ctx, u), u);
    await step('tenant', () => checkTenant(ctx));
    for (const u of facts.users) await step('probe', () => checkProbe(ctx, u), u.key);
    // A refused probe: find another licensed member to try, to tell a tenant-wide block from one
    // on this user (read only now, and only when it can matter).
    if (open && transport.remainingMs() > 0 && facts.users.some((u) => u.probe?.status === 403)) await findLicensedMembers(ctx).catch(() => undefined);
    await step('subscriptions', () => checkSubscriptions(ctx));
  };

  // The deadline bounds everything, including anything that ignores its abort signal.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    all().then(() => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now()) + 100); }),
  ]);
  clearTimeout(timer);
  open = false;
  if (timedOut) {
    facts.deadlineReached = true;
    noteTimeout(current.id, current.user, false);
    checks.push({ id: current.id, status: 'skip', title: `${current.id} did not finish`, evidence: [`the --timeout (${o.timeoutSeconds} s) ran out while this check was running`], ...(current.user ? { user: current.user } : {}) });
  }
  // What the run saw when it ended: an abandoned check may still change facts and the trace.
  const seen = structuredClone(facts);
  const requests = [...transport.trace];
  await transport.close().catch(() => undefined);

  const { verdict, perUser } = decideAll(seen, verdictContext);
  for (const [u, v] of perUser) u.verdict = v.primary.code;
  if (seen.deadlineReached && !seen.timedOut?.check) verdict.primary.supports.push(`the doctor stopped at its --timeout of ${o.timeoutSeconds} s`);
  const finished = Date.now();
  return {
    version: 1,
    tool: `copilog ${VERSION}`,
    tenantId: config.tenantId,
    appId: seen.claims?.appid ?? config.clientId,
    cloud: config.cloud.name,
    mode: config.mode,
    ...(config.emulator ? { emulator: { url: config.emulator.url, scenario: config.emulator.scenario } } : {}),
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - startedAt,
    tokenSource: seen.tokenSource,
    ...(seen.claims ? { claims: seen.claims } : {}),
    // Copies: after a timeout the abandoned check may still finish in the background.
    checks: [...checks],
    users: seen.users,
    ...(seen.tenant ? { tenant: seen.tenant } : {}),
    verdict,
    requests,
    bundle: null,
  };
}
