// The fleet's worker loop: jobs come from a pg-boss queue on the store's PostgreSQL ('short'
// policy: at most one queued export per tenant); a job runs only under the tenant's lease, which
// a heartbeat extends, so one worker at a time exports a tenant. A worker killed mid-page loses
// nothing: the page it was writing is one statement, and once its lease expires another worker
// re-queues the tenant and resumes from the tenant's cursors. Every Graph request first takes a
// slot of the tenant's limit and of the app's limit across tenants, both kept in PostgreSQL.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import { createClient, type ClientConfig } from '../client/index.js';
import { runExport, type ExportSummary } from '../export/engine.js';
import { RateLimiter } from '../export/limiter.js';
import { resolveTargets } from '../export/users.js';
import type { FleetDb, FleetTenant } from '../store/fleet.js';
import { isConnectionError } from '../store/postgres.js';
import type { Store } from '../store/types.js';

export const QUEUE = 'copilog-export';

export interface FleetLimits {
  /** Requests per second per tenant (Graph: 30 per app per tenant). */
  tenantRate: number;
  /** Requests per second per app across every tenant (Graph: 1,500). */
  appRate: number;
}

/**
 * A slot this late (ms after its time) is not used: sent now, it would land beside the slots
 * handed out after it. The request takes a new slot instead (a missed slot costs budget, never
 * the limit).
 */
export const LATE_SLOT_MS = 100;
/**
 * How much a request's trip from a worker's send to Graph's count may vary (event loops on both
 * sides, the network): evenly spaced sends do not arrive evenly.
 */
export const ARRIVAL_JITTER_MS = 100;

/**
 * The rate at which slots of a limit are handed out. Sends land within LATE_SLOT_MS of their slot
 * and arrive within ARRIVAL_JITTER_MS of each other's pace, so any one second at Graph catches the
 * slots of at most 1 s + both, plus one: spaced at this rate, that is at most `limit`.
 */
export function slotRate(limit: number): number {
  return Math.max(limit / 2, (limit - 1) / (1 + (LATE_SLOT_MS + ARRIVAL_JITTER_MS) / 1000));
}

export interface GateStats {
  /** Slots missed (the worker was too late for them) and taken again. */
  lateSlots: number;
  /** The latest a request was sent after its slot, in ms. */
  maxLatenessMs: number;
}

/** The GCRA of RateLimiter for this process, then a slot of each shared limit in PostgreSQL. */
export class FleetGate extends RateLimiter {
  readonly gateStats: GateStats = { lateSlots: 0, maxLatenessMs: 0 };

  /** The two shared limits every request takes a slot of: its tenant's, and the app's across tenants. */
  private readonly tenant: { key: string; perSecond: number };
  private readonly app: { key: string; perSecond: number };

  constructor(private readonly db: FleetDb, tenantId: string, appId: string, limits: FleetLimits) {
    // Requests reach the shared slots at the tenant's slot rate, one at a time: its queue there
    // stays short, so both slots come in one round trip.
    super(slotRate(limits.tenantRate), 1);
    this.tenant = { key: `tenant:${tenantId}:${appId}`, perSecond: slotRate(limits.tenantRate) };
    this.app = { key: `app:${appId}`, perSecond: slotRate(limits.appRate) };
  }

  override async acquire(signal?: AbortSignal): Promise<void> {
    await super.acquire(signal);
    const { tenant, app } = this;
    for (;;) {
      signal?.throwIfAborted();
      // A request is sent within LATE_SLOT_MS of a slot of each limit, or not at all.
      const pair = await withRetry(() => this.db.slotPair(tenant, app, LATE_SLOT_MS));
      const at = pair.slot.at;
      if (!pair.app) {
        // The tenant is backed up: its app slot is asked for as its slot nears (asked sooner, it
        // would hold the app's budget idle for every tenant), within LATE_SLOT_MS of it.
        await this.sleepUntil(at - LATE_SLOT_MS, signal);
        const near = await withRetry(() => this.db.appSlotNear(app.key, app.perSecond, pair.slot.dbAt, LATE_SLOT_MS));
        if (!near) {
          this.gateStats.lateSlots++;
          continue;
        }
        await this.sleepUntil(near.at, signal);
      } else await this.sleepUntil(at, signal);
      const late = Date.now() - at;
      if (late > LATE_SLOT_MS) {
        this.gateStats.lateSlots++;
        continue;
      }
      this.gateStats.maxLatenessMs = Math.max(this.gateStats.maxLatenessMs, Math.round(late));
      // A Retry-After that came while this request waited holds it too (another request's 429).
      if (this.pausedForMs() === 0) return;
      await super.acquire(signal);
    }
  }

  private async sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    const wait = at - Date.now();
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : undefined);
  }

  override backOff(ms: number, status: number): void {
    super.backOff(ms, status);
    // Every worker on this tenant waits out the Retry-After.
    void withRetry(() => this.db.pause(this.tenant.key, ms)).catch(() => undefined);
  }
}

export type Log = (event: string, fields?: Record<string, unknown>) => void;

/** JSON lines on stderr: one object per event, never a secret. */
export const jsonLog = (worker: string): Log => (event, fields = {}) => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), worker, event, ...fields }) + '\n');
};

let retryLog: Log | undefined;
/** How long a worker keeps trying a database it lost (`--db-patience`). */
let dbPatienceMs = 600_000;

/** The database stayed unreachable for longer than the worker's patience: it stops (exit 2). */
export class DatabaseLostError extends Error {}

/** A database call that survives a lost connection: back-off from 0.5 s to 15 s, for up to `--db-patience` (10 minutes). */
export async function withRetry<T>(fn: () => Promise<T>, what = 'database'): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const left = dbPatienceMs - (Date.now() - started);
      if (!isConnectionError(e) || left <= 0) throw e;
      const wait = Math.min(15_000, 500 * 2 ** (attempt - 1), left);
      retryLog?.('db.retry', { what, attempt, waitMs: wait, error: (e as Error).message });
      await sleep(wait);
    }
  }
}

/** Every store call retried across a lost connection (a page is one statement: a retry is idempotent). */
export function retryingStore(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || prop === 'interactions' || prop === 'conversations' || prop === 'close') return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => withRetry(() => (v as (...a: unknown[]) => Promise<unknown>).apply(target, args), String(prop));
    },
  });
}

/** A tenant's credential from where its entry says; never stored, never logged. */
export class MissingCredentialError extends Error {}

export function targetFlags(t: FleetTenant, env: NodeJS.ProcessEnv = process.env): { emulator?: string; ca?: string; tenant: string; clientId: string; clientSecret?: string; certificate?: string; cloud?: string } {
  const base = { tenant: t.tenantId, clientId: t.clientId, ...(t.emulatorUrl ? { emulator: t.emulatorUrl } : {}), ...(t.caPath ? { ca: t.caPath } : {}), ...(t.cloud ? { cloud: t.cloud } : {}) };
  if (t.credentialKind === 'env') {
    const v = env[t.credentialRef ?? ''];
    if (!v) throw new MissingCredentialError(`tenant ${t.tenantId}: the environment variable ${t.credentialRef} that holds its client secret is not set in this worker`);
    return { ...base, clientSecret: v };
  }
  if (t.credentialKind === 'certificate') return { ...base, certificate: t.credentialRef ?? '' };
  return base;
}

export interface WorkerOptions {
  db: FleetDb;
  storeUrl: string;
  openStore: () => Promise<Store>;
  resolveTarget: (flags: ReturnType<typeof targetFlags>) => Promise<ClientConfig>;
  azureCredential?: (kind: string) => Promise<import('../client/credential.js').TokenCredentialLike>;
  concurrency: number;
  exitWhenIdle: boolean;
  leaseMs: number;
  limits: FleetLimits;
  log: Log;
  stop: AbortSignal;
  /** How long to keep trying a lost database before stopping with DatabaseLostError (default 10 minutes). */
  dbPatienceMs?: number;
}

export async function startBoss(storeUrl: string, log?: Log): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: storeUrl, max: 4, application_name: 'copilog-queue' });
  boss.on('error', (e) => log?.('queue.error', { error: e.message }));
  await boss.start();
  // Leases, not pg-boss's expiry, tell a dead worker; the job's expiry only bounds a stuck one.
  if (!(await boss.getQueue(QUEUE))) {
    await boss.createQueue(QUEUE, { name: QUEUE, policy: 'short', retryLimit: 3, retryDelay: 5, expireInSeconds: 12 * 3600 }).catch(async (e) => {
      if (!(await boss.getQueue(QUEUE))) throw e;
    });
  }
  return boss;
}

/** Queue an export of each tenant (at most one waiting per tenant). */
export async function enqueue(boss: PgBoss, tenants: string[], reason: string): Promise<number> {
  let queued = 0;
  for (const t of tenants) if (await boss.send(QUEUE, { tenantId: t, reason }, { singletonKey: t })) queued++;
  return queued;
}

export async function runWorker(o: WorkerOptions): Promise<{ jobs: number; failed: number }> {
  const worker = `${hostname()}:${process.pid}`;
  retryLog = o.log;
  dbPatienceMs = o.dbPatienceMs ?? 600_000;
  // Stopped by the caller (a signal) or by a database lost for good.
  const lost = new AbortController();
  const halt = AbortSignal.any([o.stop, lost.signal]);
  let lostSince: number | undefined;
  let lostError: unknown;
  // pg-boss records a job's end (complete or fail) without awaiting it: with the database gone that
  // promise rejects unhandled, which would end the worker with a stack trace instead of retrying.
  // The job's tenant is safe: its lease expires and another run resumes from its cursors.
  const onRejection = (e: unknown) => {
    if (!isConnectionError(e)) throw e;
    o.log('queue.error', { error: (e as Error).message });
  };
  process.on('unhandledRejection', onRejection);
  const boss = await withRetry(() => startBoss(o.storeUrl, o.log), 'queue');
  const store = retryingStore(await withRetry(() => o.openStore(), 'store'));
  let active = 0;
  let jobs = 0;
  let failed = 0;
  let idleSince = Date.now();
  o.log('worker.start', { concurrency: o.concurrency, leaseMs: o.leaseMs, tenantRate: o.limits.tenantRate, appRate: o.limits.appRate });

  const exportTenant = async (job: PgBoss.Job<{ tenantId: string }>): Promise<void> => {
    const tenantId = job.data.tenantId;
    if (!(await withRetry(() => o.db.acquireLease(tenantId, worker, job.id, o.leaseMs)))) {
      // Another worker is exporting this tenant: try again once its lease could have ended.
      o.log('job.busy', { tenant: tenantId });
      await boss.sendAfter(QUEUE, { tenantId, reason: 'busy' }, { singletonKey: tenantId }, Math.ceil(o.leaseMs / 1000));
      return;
    }
    const stop = new AbortController();
    let leaseLost = false;
    const beat = setInterval(() => {
      void withRetry(() => o.db.heartbeat(tenantId, worker, o.leaseMs)).then((ok) => {
        if (!ok) {
          leaseLost = true;
          o.log('lease.lost', { tenant: tenantId });
          stop.abort();
        }
      }, () => stop.abort());
    }, Math.max(1000, Math.floor(o.leaseMs / 3)));
    const onStop = () => stop.abort();
    halt.addEventListener('abort', onStop);
    const started = Date.now();
    try {
      const entry = await withRetry(() => o.db.get(tenantId));
      if (!entry) {
        o.log('job.skipped', { tenant: tenantId, reason: 'no longer in the fleet' });
        return;
      }
      const config = await o.resolveTarget(targetFlags(entry));
      const credential = entry.credentialKind === 'azure-identity' && o.azureCredential ? await o.azureCredential(entry.credentialRef ?? '') : undefined;
      const client = createClient(config, { ...(credential ? { credential } : {}), transport: { keepTrace: false } });
      try {
        const limiter = new FleetGate(o.db, config.tenantId, config.clientId ?? entry.clientId, o.limits);
        await client.credential.getToken(config.scope);
        const users = await resolveTargets(client.graph, { kind: 'licensed' }, { signal: stop.signal });
        const summary: ExportSummary = await runExport({
          tenantId: config.tenantId, store, graphBaseUrl: config.graphBaseUrl, credential: client.credential, scope: config.scope, transport: client.transport,
          users, limiter, stop: stop.signal, runOptions: { fleet: true, worker, job: job.id },
        });
        o.log('job.done', {
          tenant: tenantId, status: summary.status, users: summary.users, exported: summary.exported, new: summary.new, requests: summary.requests,
          throttled: summary.throttled, failures: summary.failures.length, lateSlots: limiter.gateStats.lateSlots, maxLatenessMs: limiter.gateStats.maxLatenessMs, ms: Date.now() - started,
        });
        // A lost lease means another worker took the tenant over (this one was too slow to
        // heartbeat): it resumes from the cursors, so this job is handed over, not failed.
        if (summary.status === 'interrupted' && !halt.aborted && !leaseLost) throw new Error('the export was interrupted; it resumes from its cursors');
      } finally {
        await client.close();
      }
    } catch (e) {
      if (!leaseLost) throw e;
      o.log('job.handedOver', { tenant: tenantId, error: (e as Error).message });
    } finally {
      clearInterval(beat);
      halt.removeEventListener('abort', onStop);
      await withRetry(() => o.db.releaseLease(tenantId, worker)).catch(() => undefined);
    }
  };

  const handler = async ([job]: PgBoss.Job<{ tenantId: string }>[]) => {
    if (!job) return;
    active++;
    jobs++;
    o.log('job.start', { tenant: job.data.tenantId, job: job.id });
    try {
      await exportTenant(job);
    } catch (e) {
      failed++;
      o.log('job.failed', { tenant: job.data.tenantId, error: (e as Error).message });
      throw e;
    } finally {
      active--;
      idleSince = Date.now();
    }
  };
  for (let i = 0; i < o.concurrency; i++) await boss.work(QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, handler);

  // Housekeeping: leases of dead workers re-queue their tenants; due schedules are enqueued.
  while (!halt.aborted) {
    try {
      for (const l of await o.db.reapExpiredLeases()) {
        o.log('lease.expired', { tenant: l.tenantId, worker: l.worker });
        if (l.jobId) await boss.fail(QUEUE, l.jobId).catch(() => undefined);
        await enqueue(boss, [l.tenantId], 'lease expired');
      }
      const due = await o.db.claimDue();
      if (due.length) o.log('schedule.due', { tenants: due.length, queued: await enqueue(boss, due, 'schedule') });
      if (o.exitWhenIdle && active === 0 && Date.now() - idleSince > 3000) {
        const waiting = await boss.getQueueSize(QUEUE);
        const leases = await o.db.leases();
        if (waiting === 0 && leases.length === 0) break;
      }
      if (lostSince !== undefined) {
        o.log('db.reconnected', { afterMs: Date.now() - lostSince });
        lostSince = undefined;
      }
    } catch (e) {
      if (isConnectionError(e)) {
        // The database went away: jobs retry on their own; after --db-patience the worker stops.
        if (lostSince === undefined) o.log('db.lost', { error: (e as Error).message });
        lostSince ??= Date.now();
        if (Date.now() - lostSince > dbPatienceMs) {
          lostError = e;
          lost.abort();
        }
      } else o.log('worker.error', { error: (e as Error).message });
    }
    await sleep(1000, undefined, { signal: halt }).catch(() => undefined);
  }
  if (lost.signal.aborted) {
    const why = `lost the connection to PostgreSQL at ${o.db.location} for more than ${Math.round(dbPatienceMs / 1000)} s (${(lostError as Error).message}); `
      + 'every page written is whole (a page and its cursor are one statement), and each tenant resumes from its cursors. Start the worker again once the database is back.';
    o.log('worker.stop', { jobs, failed, error: why });
    // Nothing more can be recorded: do not wait for the queue or the jobs.
    await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
    await store.close().catch(() => undefined);
    throw new DatabaseLostError(why);
  }
  o.log('worker.stop', { jobs, failed });
  await boss.stop({ graceful: true, wait: true, timeout: 30_000 }).catch(() => undefined);
  await store.close();
  process.off('unhandledRejection', onRejection);
  return { jobs, failed };
}
