// copilog export: every interaction of every licensed user into a store, complete, incremental
// and resumable. Exit 0 when every user was exported (or refused for a known per-user reason),
// 1 when some failed or Graph refused the whole tenant, 2 for a usage error, 130 after Ctrl-C.
import { Command } from 'commander';
import type { ClientConfig } from '../../client/config.js';
import { TokenAcquisitionError, TransportError } from '../../client/errors.js';
import type { ExportOptions, ExportSummary } from '../../export/engine.js';
import type { UserSelection } from '../../export/users.js';
import type { Store } from '../../store/index.js';
import { addTargetOptions, resolveTarget, type TargetFlags } from '../target.js';
import { UsageError } from '../usage.js';

interface ExportFlags extends TargetFlags {
  store?: string;
  users: string;
  group?: string;
  since?: string;
  until?: string;
  appClass: string[];
  concurrency: string;
  rate: string;
  overlap: string;
  full?: boolean;
  json?: boolean;
  progress?: boolean;
}

/** The engine's DEFAULT_OVERLAP_MS in minutes; written out so that --help does not load the engine. */
const DEFAULT_OVERLAP_MINUTES = 60;
const APP_CLASS_PREFIX = 'IPM.SkypeTeams.Message.Copilot.';
// No default value: commander would print it beside the one the description names.
const collect = (v: string, all: string[] = []) => [...all, v];

/** "Teams" → IPM.SkypeTeams.Message.Copilot.Teams; a full class name is kept as given. */
export const appClassName = (v: string): string => (v.includes('.') ? v : `${APP_CLASS_PREFIX}${v}`);

export function parseInstant(flag: string, v: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`${flag} must be an ISO 8601 date or time such as 2026-01-31 or 2026-01-31T12:00:00Z, not '${v}'`);
  return ms;
}

function positive(flag: string, v: string, max: number, integer = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} must be a ${integer ? 'whole ' : ''}number above 0 and at most ${max}, not '${v}'`);
  return n;
}

export function exportCommand(): Command {
  const cmd = new Command('export')
    .description('Export every interaction of every licensed user into a store: complete, incremental, resumable, at Graph\'s rate limit.')
    .option('--store <path|url>', 'the store: a SQLite file or a postgres:// URL (default COPILOG_STORE, else ./copilog.db)')
    .option('--users <all|file>', 'all: every user with the Graph-grounded chat plan enabled; or a file of object ids / UPNs, one a line', 'all')
    .option('--group <id>', "a group's transitive members instead of all licensed users")
    .option('--since <iso>', 'lower bound of a user\'s first window (default 2023-01-01)')
    .option('--until <iso>', 'upper bound of every window (default: now)')
    .option('--app-class <name>', 'only this appClass (Teams, BizChat, … or the full IPM.… name); repeatable', collect)
    .option('--concurrency <auto|n>', 'users read at once; auto follows latency and throttling', 'auto')
    .option('--rate <rps>', 'requests per second for the tenant (Graph allows 30 per app per tenant)', '30')
    .option('--overlap <minutes>', 're-read this much before each watermark for late arrivals', String(DEFAULT_OVERLAP_MINUTES))
    .option('--full', 'ignore watermarks and read every window from --since again')
    .option('--json', 'print one JSON summary instead of the report')
    .option('--no-progress', 'no progress bar even on a terminal');
  return addTargetOptions(cmd).action(async (o: ExportFlags) => {
    // Loaded when the command runs, so that copilog --help stays fast.
    const { readUsersFile, UsersFileError } = await import('../../export/users.js');
    const { StoreOpenError } = await import('../../store/index.js');
    const { openCommandStore } = await import('../open-store.js');
    o.appClass ??= [];
    // Every input is checked before the store is opened: a usage error never touches it.
    const sinceMs = o.since !== undefined ? parseInstant('--since', o.since) : undefined;
    const untilMs = o.until !== undefined ? parseInstant('--until', o.until) : undefined;
    if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) throw new UsageError(`--since (${o.since}) must be before --until (${o.until})`);
    if (untilMs !== undefined && untilMs > Date.now() + 86_400_000) throw new UsageError(`--until (${o.until}) is in the future`);
    const rate = positive('--rate', o.rate, 1500);
    const concurrency = o.concurrency === 'auto' ? 'auto' as const : positive('--concurrency', o.concurrency, 256, true);
    const overlapMs = Number(o.overlap) * 60_000;
    if (!Number.isFinite(overlapMs) || overlapMs < 0) throw new UsageError(`--overlap must be a number of minutes (0 or more), not '${o.overlap}'`);
    if (o.group !== undefined && o.users !== 'all') throw new UsageError('--group and --users FILE name the users two ways: pass one');
    let selection: UserSelection = { kind: 'licensed' };
    if (o.group !== undefined) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(o.group)) throw new UsageError(`--group must be the group's object id (GUID), not '${o.group}'`);
      selection = { kind: 'group', groupId: o.group };
    } else if (o.users !== 'all') {
      try {
        readUsersFile(o.users);
      } catch (e) {
        if (e instanceof UsersFileError) throw new UsageError(e.message);
        throw e;
      }
      selection = { kind: 'file', path: o.users };
    }
    const appClasses = o.appClass.map(appClassName);
    const config = await resolveTarget(o);

    let store: Store;
    try {
      store = await openCommandStore(o.store);
    } catch (e) {
      if (e instanceof StoreOpenError) throw new UsageError(e.message);
      throw e;
    }
    const stop = new AbortController();
    const abort = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        stop.abort();
        process.stderr.write('\ncopilog: stopping at the next page boundary (Ctrl-C again to stop now; nothing written is lost)\n');
      } else abort.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    let result: { summary: ExportSummary; storeInteractions: number; storeUsers: number; storeBytes: number };
    try {
      result = await exportToStore({
        config, store, selection, accessToken: o.accessToken, progress: o.progress !== false && !o.json,
        engine: { sinceMs, untilMs, appClasses, overlapMs, full: o.full, rate, concurrency, stop: stop.signal, abort: abort.signal },
      });
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    const { summary } = result;
    const out = o.json
      ? JSON.stringify({
        users: summary.users, exported: summary.exported, new: summary.new, pages: summary.pages, requests: summary.requests, throttled: summary.throttled,
        retries: summary.retries, failures: summary.failures, durationMs: summary.durationMs,
        status: summary.status, runId: summary.runId, changed: summary.changed,
        store: { location: store.location, interactions: result.storeInteractions, users: result.storeUsers, bytes: result.storeBytes },
        ...(summary.abortedBecause ? { abortedBecause: summary.abortedBecause } : {}),
      }) + '\n'
      : renderSummary(summary, store.location, result.storeInteractions);
    await new Promise<void>((res) => process.stdout.write(out, () => res()));
    process.exitCode = summary.status === 'interrupted' ? 130 : summary.status === 'failed' || summary.failures.some((f) => f.outcome === 'failed') ? 1 : 0;
  });
}

export interface ExportToStore {
  config: ClientConfig;
  /** Opened by the caller, closed here. */
  store: Store;
  selection: UserSelection;
  accessToken?: string;
  /** Draw a progress bar on stderr when it is a terminal. */
  progress: boolean;
  engine: Omit<ExportOptions, 'tenantId' | 'store' | 'graphBaseUrl' | 'credential' | 'scope' | 'transport' | 'users' | 'onEvent' | 'limiter'>;
}

/** The export as export and demo run it: a token, the target users, the engine, progress. */
export async function exportToStore(x: ExportToStore): Promise<{ summary: ExportSummary; storeInteractions: number; storeUsers: number; storeBytes: number }> {
  const { config, store } = x;
  const { createClient } = await import('../../client/index.js');
  const { runExport } = await import('../../export/engine.js');
  const { RateLimiter } = await import('../../export/limiter.js');
  const { DirectoryReadError, resolveTargets } = await import('../../export/users.js');
  const { exportProgress } = await import('../progress.js');
  const client = createClient(config, { ...(x.accessToken ? { accessToken: x.accessToken } : {}), transport: { keepTrace: false } });
  const limiter = new RateLimiter(x.engine.rate ?? 30);
  const progress = exportProgress(process.stderr, limiter, x.progress && process.stderr.isTTY === true);
  try {
    // A token first: a credential problem is one clear message, not a failure per user.
    await client.credential.getToken(config.scope);
    const users = await resolveTargets(client.graph, x.selection, { signal: x.engine.abort });
    const summary = await runExport({
      ...x.engine, tenantId: config.tenantId, store, graphBaseUrl: config.graphBaseUrl, credential: client.credential, scope: config.scope, transport: client.transport,
      users, limiter, runOptions: { target: config.mode === 'emulator' ? config.emulator?.url : config.cloud.name, selection: x.selection.kind },
      onEvent: (e) => progress.onEvent(e),
    });
    progress.stop();
    const stats = await store.stats(config.tenantId);
    return { summary, storeInteractions: stats.interactions, storeUsers: stats.users, storeBytes: stats.bytes };
  } catch (e) {
    progress.stop();
    if (e instanceof TokenAcquisitionError) throw new Error(`no token for tenant ${config.tenantId}: ${e.message}\nRun copilog doctor with the same options to see why.`);
    if (e instanceof DirectoryReadError) throw new Error(e.message);
    if (e instanceof TransportError) throw new Error(`${e.message}\nRun copilog doctor with the same options to see why.`);
    throw e;
  } finally {
    await store.close();
    await client.close();
  }
}

export function renderSummary(s: ExportSummary, location: string, storeTotal: number): string {
  const secs = (s.durationMs / 1000).toFixed(1);
  const lines = [
    `copilog export: ${s.status} in ${secs} s (run ${s.runId})`,
    `  users        ${s.users} targeted, ${s.completedUsers} complete, ${s.failures.length} not exported`,
    `  interactions ${s.exported} read, ${s.new} new, ${s.changed} changed; the store holds ${storeTotal}`,
    `  requests     ${s.requests} (${s.pages} pages, ${s.retries} retries, ${s.throttled} throttled), ${(s.requests / Math.max(0.001, s.durationMs / 1000)).toFixed(1)}/s`,
    `  store        ${location}`,
  ];
  if (s.abortedBecause) lines.push('', `  stopped: ${s.abortedBecause}`);
  if (s.failures.length) {
    lines.push('', '  not exported:');
    for (const f of s.failures.slice(0, 50)) {
      lines.push(`    ${(f.userPrincipalName ?? f.userId).padEnd(46)} ${f.outcome.padEnd(9)} ${[f.status, f.code].filter(Boolean).join(' ')}${f.verdict ? `  (doctor: ${f.verdict})` : ''}${f.requestId ? `  request-id ${f.requestId}` : ''}`);
    }
    if (s.failures.length > 50) lines.push(`    … and ${s.failures.length - 50} more (copilog export --json lists all)`);
  }
  if (s.status === 'interrupted') lines.push('', '  Interrupted: run the same command again to resume where it stopped.');
  return lines.join('\n') + '\n';
}
