// The export engine: every interaction of every target user into a store, complete and
// incremental. Per user and scope, a watermark says up to when history was read in a window
// that completed; each run reads the window (watermark − overlap, until) page by page, writing
// each page in one transaction with the cursor that follows it, so a kill at any instant loses
// nothing and duplicates nothing. The watermark moves only once a whole window is read, so the
// order Graph returns a window in does not matter. Workers share one rate limiter per tenant.
// The engine prints nothing: it reports through events, and commands decide how to show them.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { interactionHistoryPath, interactionQuery } from '../client/copilot.js';
import type { TokenCredentialLike } from '../client/credential.js';
import { GraphRequestError, GraphResponseError, TransportError } from '../client/errors.js';
import { GraphClient } from '../client/graph.js';
import type { AiInteraction, CollectionPage } from '../client/models.js';
import type { Exchange, RetryPolicy, Transport } from '../client/transport.js';
import type { Store, UserCursor, UserOutcome } from '../store/types.js';
import { RateLimiter } from './limiter.js';
import { verdictFor, type TargetUser } from './users.js';

/** Long runs meet throttling storms: the transport may wait longer than a CLI call would. */
export const EXPORT_RETRY: RetryPolicy = { maxRetries: 8, maxWaitMs: 180_000, budgetMs: 900_000 };
/** Before Copilot existed: the default lower bound of a user's first window. */
export const DEFAULT_SINCE_MS = Date.parse('2023-01-01T00:00:00Z');
export const DEFAULT_OVERLAP_MS = 60 * 60_000;
const PAGE_SIZE = 100;
/** Attempts of one page beyond the transport's own retries, for answers that are worth another try. */
const PAGE_ATTEMPTS = 6;

export interface ExportOptions {
  tenantId: string;
  store: Store;
  /** Graph base URL (…/v1.0), credential, scope and transport of the tenant. */
  graphBaseUrl: string;
  credential: TokenCredentialLike;
  scope: string;
  transport: Transport;
  users: TargetUser[];
  sinceMs?: number;
  /** Upper bound of every window (default: the run's start, whole seconds). */
  untilMs?: number;
  appClasses?: string[];
  /** Re-read this long before each watermark to catch late arrivals. */
  overlapMs?: number;
  /** Ignore watermarks: read every window from sinceMs. */
  full?: boolean;
  /** Requests per second for the tenant (Graph: 30 per app per tenant). */
  rate?: number;
  /** 'auto' adapts to latency and throttling; a number fixes it. */
  concurrency?: 'auto' | number;
  /** Ends the run at the next page boundary. */
  stop?: AbortSignal;
  /** Aborts requests in flight (a second Ctrl-C); pages already written stay. */
  abort?: AbortSignal;
  runOptions?: Record<string, unknown>;
  onEvent?: (e: ExportEvent) => void;
  limiter?: RateLimiter;
}

export type ExportEvent =
  | { type: 'start'; runId: number; users: number }
  | { type: 'page'; userId: string; items: number; added: number }
  | { type: 'user'; outcome: UserOutcome }
  | { type: 'retry'; userId: string; reason: string; waitMs: number }
  | { type: 'stopping' };

export interface ExportFailure {
  userId: string;
  userPrincipalName: string | null;
  outcome: UserOutcome['outcome'];
  status?: number;
  code?: string;
  message?: string;
  requestId?: string;
  clientRequestId?: string;
  verdict?: string;
}

export interface ExportSummary {
  runId: number;
  users: number;
  exported: number;
  new: number;
  changed: number;
  pages: number;
  requests: number;
  throttled: number;
  retries: number;
  failures: ExportFailure[];
  durationMs: number;
  status: 'completed' | 'interrupted' | 'failed';
  /** Users whose windows all completed in this run. */
  completedUsers: number;
  /** Set when the run stopped because Graph refused everyone (a tenant-wide cause). */
  abortedBecause?: string;
}

/** The scope a cursor belongs to: the appClass filter, normalized ('' for every class). */
export const scopeOf = (appClasses: string[] | undefined): string =>
  [...new Set((appClasses ?? []).map((a) => a.toLowerCase()))].sort().join('|');

/** Whole seconds: Graph's filter literals carry no fraction (graph-facts §12 #12). */
const floorSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

class StopRun extends Error {}

export async function runExport(o: ExportOptions): Promise<ExportSummary> {
  const started = Date.now();
  const emit = o.onEvent ?? (() => undefined);
  const scope = scopeOf(o.appClasses);
  const sinceMs = o.sinceMs ?? DEFAULT_SINCE_MS;
  const untilMs = floorSecond(o.untilMs ?? started);
  const overlapMs = o.overlapMs ?? DEFAULT_OVERLAP_MS;
  const limiter = o.limiter ?? new RateLimiter(o.rate ?? 30);
  const maxConcurrency = o.concurrency === 'auto' || o.concurrency === undefined ? 32 : o.concurrency;

  let requests = 0;
  let retries = 0;
  const countExchange = (e: Exchange) => {
    if (!/getAllEnterpriseInteractions/i.test(e.url)) return;
    requests++;
    if (e.attempt > 1) retries++;
  };
  const graph = new GraphClient({ baseUrl: o.graphBaseUrl, credential: o.credential, scope: o.scope, transport: o.transport, retry: EXPORT_RETRY, gate: limiter });

  await reapStaleRuns(o.store, o.tenantId);
  await o.store.upsertUsers(o.tenantId, o.users.map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName })));
  const cursors = await o.store.cursors(o.tenantId, scope);
  const runId = await o.store.beginRun(o.tenantId, 'export', { ...o.runOptions, pid: process.pid, host: hostname(), scope, sinceMs, untilMs, overlapMs, users: o.users.length });
  emit({ type: 'start', runId, users: o.users.length });

  const totals = { exported: 0, added: 0, changed: 0, pages: 0, completedUsers: 0 };
  const failures: ExportFailure[] = [];
  let served = 0;
  let refused = 0;
  let unexplained = 0;
  let abortedBecause: string | undefined;
  const stopped = () => o.stop?.aborted === true || abortedBecause !== undefined;

  const queue = [...o.users];
  const signal = o.abort;
  // Every request waiting for the limiter listens on the abort signal: many at once is expected.
  if (signal) setMaxListeners(10_000, signal);

  /** One page, with the retries the transport does not cover: a token that expired, a body cut short, a storm that outlasted the transport. */
  async function fetchPage(url: string, user: TargetUser): Promise<CollectionPage<AiInteraction>> {
    let freshToken = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await graph.send<CollectionPage<AiInteraction>>(url, undefined, { signal, freshToken });
        if (!res.data || !Array.isArray(res.data.value)) throw new GraphResponseError({ ...res.exchange, status: res.status, message: 'a 2xx answer without a value array' });
        return res.data;
      } catch (e) {
        if (signal?.aborted) throw new StopRun('aborted');
        const retryable = (e instanceof GraphRequestError && (e.status === 429 || e.status >= 500 || (e.status === 401 && !freshToken)))
          || e instanceof GraphResponseError || (e instanceof TransportError && (e.kind === 'network' || e.kind === 'timeout'));
        if (!retryable || attempt >= PAGE_ATTEMPTS) throw e;
        // An expired token is refreshed once; anything else waits, longer each time.
        if (e instanceof GraphRequestError && e.status === 401) {
          freshToken = true;
          continue;
        }
        const waitMs = Math.max(limiter.pausedForMs(), Math.min(1000 * 2 ** (attempt - 1), 30_000));
        retries++;
        emit({ type: 'retry', userId: user.id, reason: e instanceof GraphRequestError ? `${e.status} ${e.code}` : (e as Error).message, waitMs });
        await sleep(waitMs, undefined, signal ? { signal } : undefined).catch(() => undefined);
      }
    }
  }

  async function exportUser(user: TargetUser): Promise<void> {
    const prior: UserCursor | undefined = cursors.get(user.id);
    const outcome: UserOutcome = { userId: user.id, userPrincipalName: user.userPrincipalName, outcome: 'exported', interactions: 0, added: 0, pages: 0 };
    let watermarkMs = prior?.watermarkMs ?? null;
    // A window a crash or Ctrl-C left open is finished first; then, if it ended before this
    // run's --until, a fresh window brings the user up to date in the same run.
    let pending: UserCursor['window'] = prior?.window && !o.full ? { ...prior.window } : null;
    const freshWindow = (): NonNullable<UserCursor['window']> => ({
      fromMs: watermarkMs !== null && !o.full ? Math.max(sinceMs, watermarkMs - overlapMs) : sinceMs, toMs: untilMs, nextLink: null, pages: 0,
    });
    /** Read one window page by page; each page is written with the cursor that follows it. */
    const readWindow = async (window: NonNullable<UserCursor['window']>, carried: boolean): Promise<void> => {
      const first = () => graph.url(interactionHistoryPath(user.id), interactionQuery(new Date(window.fromMs - 1), new Date(window.toMs), PAGE_SIZE, o.appClasses));
      let resumed = carried && window.nextLink !== null;
      let url = window.nextLink ?? first();
      for (;;) {
        let page: CollectionPage<AiInteraction>;
        try {
          page = await fetchPage(url, user);
        } catch (e) {
          // A saved nextLink Graph no longer honours: read the window again from its start (writes are idempotent).
          if (resumed && e instanceof GraphRequestError && e.status === 400) {
            resumed = false;
            url = first();
            window.pages = 0;
            continue;
          }
          throw e;
        }
        resumed = false;
        const next = page['@odata.nextLink'];
        window.pages++;
        if (!next) watermarkMs = Math.max(watermarkMs ?? 0, window.toMs);
        const result = await o.store.upsertPage({
          tenantId: o.tenantId, userId: user.id, scope, runId, items: page.value,
          cursor: { watermarkMs, window: next ? { ...window, nextLink: next } : null },
        });
        outcome.pages++;
        outcome.interactions += page.value.length;
        outcome.added += result.added;
        totals.pages++;
        totals.exported += page.value.length;
        totals.added += result.added;
        totals.changed += result.changed;
        emit({ type: 'page', userId: user.id, items: page.value.length, added: result.added });
        if (!next) return;
        url = next;
        if (stopped()) throw new StopRun('stopped');
      }
    };
    try {
      for (;;) {
        const window = pending ?? freshWindow();
        const carried = pending !== null;
        pending = null;
        if (window.fromMs >= window.toMs) {
          if (outcome.pages === 0) {
            outcome.outcome = 'skipped';
            outcome.message = 'up to date: nothing between the watermark and --until';
          }
          break;
        }
        await readWindow(window, carried);
        if (!(carried && window.toMs < untilMs)) break;
      }
      served++;
      totals.completedUsers++;
    } catch (e) {
      if (e instanceof StopRun) {
        outcome.outcome = 'interrupted';
        outcome.message = 'stopped at a page boundary; the next run resumes here';
      } else if (e instanceof GraphRequestError && (e.status === 403 || e.status === 404)) {
        refused++;
        outcome.outcome = e.status === 404 ? 'notFound' : 'refused';
        Object.assign(outcome, { status: e.status, code: e.code, message: e.message, requestId: e.requestId, clientRequestId: e.clientRequestId, date: e.date });
        const verdict = verdictFor(user, e.status);
        if (verdict) outcome.verdict = verdict;
        else unexplained++;
        // Graph refusing every user for no per-user reason while none is served is a tenant-wide
        // cause (permission, consent, tenant enablement), not N user problems: stop and say so.
        if (served === 0 && unexplained >= Math.min(5, o.users.length)) {
          abortedBecause ??= `Graph refused the first ${refused} users (${e.status} ${e.code}: ${e.message}) and served none: the cause is likely tenant-wide (permission, consent or tenant enablement). Run copilog doctor with the same options.`;
        }
      } else {
        outcome.outcome = 'failed';
        if (e instanceof GraphRequestError) Object.assign(outcome, { status: e.status, code: e.code, message: e.message, requestId: e.requestId, clientRequestId: e.clientRequestId, date: e.date });
        else Object.assign(outcome, { code: e instanceof TransportError ? e.kind : 'error', message: (e as Error).message, ...(e instanceof TransportError ? { clientRequestId: e.ids.clientRequestId } : {}) });
      }
    }
    await finishUser(outcome);
  }

  async function finishUser(outcome: UserOutcome): Promise<void> {
    await o.store.recordOutcome(runId, o.tenantId, outcome);
    if (outcome.outcome !== 'exported' && outcome.outcome !== 'skipped' && outcome.outcome !== 'interrupted') {
      failures.push({
        userId: outcome.userId, userPrincipalName: outcome.userPrincipalName ?? null, outcome: outcome.outcome,
        ...pick(outcome, ['status', 'code', 'message', 'requestId', 'clientRequestId', 'verdict']),
      });
    }
    emit({ type: 'user', outcome });
  }

  // Workers take users from one queue; in auto mode their number follows rate × latency.
  const unsubscribe = o.transport.addExchangeListener(countExchange);
  let active = 0;
  const want = () => (o.concurrency === 'auto' || o.concurrency === undefined ? limiter.wantedConcurrency(maxConcurrency) : maxConcurrency);
  await new Promise<void>((resolve, reject) => {
    const spawn = () => {
      while (active < want() && queue.length > 0 && !stopped()) {
        const user = queue.shift()!;
        active++;
        exportUser(user).then(() => {
          active--;
          spawn();
        }, reject);
      }
      if (active === 0 && (queue.length === 0 || stopped())) resolve();
    };
    spawn();
  });
  unsubscribe();
  if (o.stop?.aborted) emit({ type: 'stopping' });

  const status: ExportSummary['status'] = abortedBecause ? 'failed' : stopped() || queue.length > 0 ? 'interrupted' : 'completed';
  const summary: ExportSummary = {
    runId, users: o.users.length, exported: totals.exported, new: totals.added, changed: totals.changed, pages: totals.pages,
    requests, throttled: limiter.stats.throttled, retries, failures, durationMs: Date.now() - started, status, completedUsers: totals.completedUsers,
    ...(abortedBecause ? { abortedBecause } : {}),
  };
  await o.store.finishRun(runId, status, { ...summary, failures: failures.length });
  return summary;
}

/**
 * Runs still marked running whose process on this host is gone (killed, crashed): marked
 * interrupted, so run listings tell the truth. Runs of other hosts are left to their owners.
 */
async function reapStaleRuns(store: Store, tenantId: string): Promise<void> {
  for (const r of await store.runs(tenantId, 20)) {
    if (r.status !== 'running' || r.options.host !== hostname() || typeof r.options.pid !== 'number') continue;
    if (pidAlive(r.options.pid)) continue;
    await store.finishRun(r.id, 'interrupted', { ...(r.summary ?? {}), reason: 'the process ended without finishing the run (killed or crashed)' });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) out[k] = o[k];
  return out;
}
