// The fleet's own tables on PostgreSQL, beside the store's: the tenant registry (never a secret:
// an entry names where its credential comes from), per-tenant leases with heartbeats, and the
// rate slots every worker takes before a Graph request (GCRA: one row per limit key holding its
// theoretical arrival time, moved atomically, so limits hold however many workers run).
import type pg from 'pg';
import { migrateComponent, newPool, openError, redactUrl } from './postgres.js';
import { StoreOpenError } from './types.js';

export const FLEET_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE fleet_tenants (
    tenant_id TEXT COLLATE "C" PRIMARY KEY, display_name TEXT, client_id TEXT NOT NULL,
    credential_kind TEXT NOT NULL, credential_ref TEXT, emulator_url TEXT, ca_path TEXT, cloud TEXT,
    every_ms BIGINT, next_run_at TIMESTAMPTZ, added_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE TABLE fleet_leases (
    tenant_id TEXT COLLATE "C" PRIMARY KEY, worker TEXT NOT NULL, job_id TEXT, acquired_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL
  );
  CREATE TABLE fleet_rate (key TEXT COLLATE "C" PRIMARY KEY, tat DOUBLE PRECISION NOT NULL);
  `,
  // Rate slots are hot rows updated before every Graph request: written without WAL, they need no
  // disk flush per slot (after a server crash the table is empty, which only means no one waits).
  'ALTER TABLE fleet_rate SET UNLOGGED',
];

/** A slot of a shared limit: when to send, on this process's clock (ms since the epoch). */
export interface Slot {
  at: number;
  /** The slot's time on the database's clock. */
  dbAt: number;
}

/** Where a tenant's credential comes from: never the secret itself. */
export type CredentialKind = 'env' | 'certificate' | 'azure-identity';

export interface FleetTenant {
  tenantId: string;
  displayName: string | null;
  clientId: string;
  credentialKind: CredentialKind;
  /** The env var name, the certificate path, or the @azure/identity credential name. */
  credentialRef: string | null;
  emulatorUrl: string | null;
  caPath: string | null;
  cloud: string | null;
  everyMs: number | null;
  nextRunAt: string | null;
  addedAt: string;
}

export class TenantExistsError extends Error {}

const fromRow = (r: Record<string, unknown>): FleetTenant => ({
  tenantId: r.tenant_id as string, displayName: (r.display_name as string | null) ?? null, clientId: r.client_id as string,
  credentialKind: r.credential_kind as CredentialKind, credentialRef: (r.credential_ref as string | null) ?? null, emulatorUrl: (r.emulator_url as string | null) ?? null,
  caPath: (r.ca_path as string | null) ?? null, cloud: (r.cloud as string | null) ?? null, everyMs: (r.every_ms as number | null) ?? null,
  nextRunAt: r.next_run_at ? new Date(r.next_run_at as string).toISOString() : null, addedAt: new Date(r.added_at as string).toISOString(),
});

export class FleetDb {
  /**
   * Rate slots go through their own connections, which commit without waiting for the disk: a
   * slot lost in a server crash costs nothing, and a slot must not queue behind a lease or a flush.
   */
  private ratePool?: pg.Pool;
  /** The database's clock minus this process's, from the quickest recent round trip (NTP's way). */
  private clock = { offset: 0, rtt: Infinity, at: 0 };
  private lastClock = { offset: 0, rtt: Infinity, at: 0 };
  /** Recent round trip of a slot (EWMA, ms): a slot is handed out at least this far ahead. */
  private recentRtt = 5;

  private constructor(readonly pool: pg.Pool, readonly location: string, private readonly url: string) {}

  static async open(url: string): Promise<FleetDb> {
    const where = redactUrl(url);
    if (!/^postgres(ql)?:\/\//i.test(url)) throw new StoreOpenError(`the fleet needs a PostgreSQL store (--store postgres://…), not '${url}'`);
    const pool = newPool(url, 4);
    try {
      await migrateComponent(pool, 'fleet', FLEET_MIGRATIONS, where);
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw openError(where, e);
    }
    return new FleetDb(pool, where, url);
  }

  async add(t: Omit<FleetTenant, 'addedAt' | 'nextRunAt' | 'everyMs'>): Promise<void> {
    const r = await this.pool.query(`INSERT INTO fleet_tenants (tenant_id, display_name, client_id, credential_kind, credential_ref, emulator_url, ca_path, cloud)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id) DO NOTHING`,
    [t.tenantId, t.displayName, t.clientId, t.credentialKind, t.credentialRef, t.emulatorUrl, t.caPath, t.cloud]);
    if (r.rowCount === 0) throw new TenantExistsError(`tenant ${t.tenantId} is already in the fleet; copilog fleet remove it first to change its entry`);
  }

  async list(): Promise<FleetTenant[]> {
    return (await this.pool.query('SELECT * FROM fleet_tenants ORDER BY tenant_id')).rows.map(fromRow);
  }

  async get(tenantId: string): Promise<FleetTenant | undefined> {
    const r = await this.pool.query('SELECT * FROM fleet_tenants WHERE lower(tenant_id) = lower($1)', [tenantId]);
    return r.rows[0] ? fromRow(r.rows[0]) : undefined;
  }

  async remove(tenantId: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM fleet_tenants WHERE lower(tenant_id) = lower($1)', [tenantId])).rowCount ?? 0) > 0;
  }

  /** Every tenant runs again every `everyMs` (null: no schedule); the first run is now. */
  async schedule(everyMs: number | null): Promise<void> {
    await this.pool.query('UPDATE fleet_tenants SET every_ms = $1, next_run_at = CASE WHEN $1::bigint IS NULL THEN NULL ELSE now() + $1::bigint * interval \'1 ms\' END', [everyMs]);
  }

  /** Tenants whose scheduled run is due, claimed atomically: one worker enqueues each. */
  async claimDue(): Promise<string[]> {
    const r = await this.pool.query(`UPDATE fleet_tenants SET next_run_at = now() + every_ms * interval '1 ms'
      WHERE every_ms IS NOT NULL AND next_run_at <= now() RETURNING tenant_id`);
    return r.rows.map((x) => x.tenant_id as string);
  }

  /** Take the tenant's lease, or fail when another live worker holds it. */
  async acquireLease(tenantId: string, worker: string, jobId: string, leaseMs: number): Promise<boolean> {
    const r = await this.pool.query(`INSERT INTO fleet_leases (tenant_id, worker, job_id, acquired_at, expires_at) VALUES ($1, $2, $3, now(), now() + $4 * interval '1 ms')
      ON CONFLICT (tenant_id) DO UPDATE SET worker = excluded.worker, job_id = excluded.job_id, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
      WHERE fleet_leases.expires_at < now() OR fleet_leases.worker = excluded.worker RETURNING tenant_id`, [tenantId, worker, jobId, leaseMs]);
    return (r.rowCount ?? 0) > 0;
  }

  /** Extend the lease; false when it was lost (expired and taken by another worker). */
  async heartbeat(tenantId: string, worker: string, leaseMs: number): Promise<boolean> {
    const r = await this.pool.query("UPDATE fleet_leases SET expires_at = now() + $3 * interval '1 ms' WHERE tenant_id = $1 AND worker = $2", [tenantId, worker, leaseMs]);
    return (r.rowCount ?? 0) > 0;
  }

  async releaseLease(tenantId: string, worker: string): Promise<void> {
    await this.pool.query('DELETE FROM fleet_leases WHERE tenant_id = $1 AND worker = $2', [tenantId, worker]);
  }

  /** Leases whose worker stopped heartbeating, removed atomically; their tenants need another run. */
  async reapExpiredLeases(): Promise<{ tenantId: string; jobId: string | null; worker: string }[]> {
    const r = await this.pool.query('DELETE FROM fleet_leases WHERE expires_at < now() RETURNING tenant_id, job_id, worker');
    return r.rows.map((x) => ({ tenantId: x.tenant_id as string, jobId: (x.job_id as string | null) ?? null, worker: x.worker as string }));
  }

  async leases(): Promise<{ tenantId: string; worker: string; expiresAt: string }[]> {
    const r = await this.pool.query('SELECT * FROM fleet_leases ORDER BY tenant_id');
    return r.rows.map((x) => ({ tenantId: x.tenant_id as string, worker: x.worker as string, expiresAt: new Date(x.expires_at as string).toISOString() }));
  }

  private rates(): pg.Pool {
    return (this.ratePool ??= newPool(this.url, 4, { synchronous_commit: 'off' }));
  }

  /**
   * Reserve the next slot of a limit shared by every worker (GCRA): slots are `1000 / perSecond`
   * ms apart on the database's clock, read once the row is locked, so a slot is never handed out
   * in the past because the request queued for the lock, and never sooner than the worker can
   * hear of it (twice the recent round trip): a slot that is already due when its answer arrives
   * would be sent late, beside the slots handed out after it.
   */
  async slot(key: string, perSecond: number): Promise<Slot> {
    const lead = Math.min(250, Math.max(5, 2 * this.recentRtt));
    const client = await this.rates().connect();
    // A connection that dies while checked out must not end the process (pg emits 'error').
    const ignore = () => undefined;
    client.on('error', ignore);
    // Timed from when the statement leaves, not from a wait for a free connection: with every
    // connection busy, the wait would skew the clock by up to half of it.
    const sent = Date.now();
    let r: pg.QueryResult;
    try {
      r = await client.query(`INSERT INTO fleet_rate AS f (key, tat) VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::float8 + $3 + $2)
      ON CONFLICT (key) DO UPDATE SET tat = greatest(f.tat, (extract(epoch FROM clock_timestamp()) * 1000)::float8 + $3) + $2
      RETURNING tat - $2 AS at, (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now`, [key, 1000 / perSecond, lead]);
    } catch (e) {
      client.off('error', ignore);
      client.release(e as Error);
      throw e;
    }
    client.off('error', ignore);
    client.release();
    const back = Date.now();
    this.sampleClock(r.rows[0].now as number, sent, back);
    const dbAt = r.rows[0].at as number;
    const best = this.lastClock.rtt < this.clock.rtt ? this.lastClock : this.clock;
    return { at: dbAt - best.offset, dbAt };
  }

  /**
   * Slots are times on the database's clock: each worker turns them into its own, so a slot
   * handed out late (a slow answer, a queue for the connection) is not sent late too, and
   * workers on hosts whose clocks differ still send in the database's order.
   */
  private sampleClock(dbNow: number, sent: number, back: number): void {
    const rtt = back - sent;
    this.recentRtt = this.recentRtt * 0.8 + rtt * 0.2;
    const sample = { offset: dbNow - (sent + back) / 2, rtt, at: back };
    // The quickest round trip of this 5-second period or the last one: a clock that drifts is
    // followed, and a slow answer (a busy event loop) never sets it.
    if (back - this.clock.at > 5000) {
      this.lastClock = this.clock;
      this.clock = sample;
    } else if (rtt <= this.clock.rtt) this.clock = sample;
  }

  /** A Retry-After for this key: no worker gets a slot before it has passed. */
  async pause(key: string, ms: number): Promise<void> {
    await this.rates().query(`INSERT INTO fleet_rate AS f (key, tat) VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::float8 + $2)
      ON CONFLICT (key) DO UPDATE SET tat = greatest(f.tat, excluded.tat)`, [key, ms]);
  }

  async close(): Promise<void> {
    await this.ratePool?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
