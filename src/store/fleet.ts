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

/** The database's clock in ms, read when evaluated (after a row lock, inside ON CONFLICT … SET). */
const DB_NOW = '(extract(epoch FROM clock_timestamp()) * 1000)::float8';

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
   * One request's slot of two limits (its tenant's, then the app's across tenants), in one round
   * trip: the earliest time both are free, each limit's next slot moved past it (GCRA, slots
   * `1000 / perSecond` ms apart). Times are on the database's clock, read once the rows are locked,
   * so a slot is never handed out in the past because the statement queued for a lock, and never
   * sooner than the worker can hear of it (twice the recent round trip): a slot already due when
   * its answer arrives would be sent late. Rows are locked in key order in every statement that
   * locks both, so no two statements wait for each other.
   *
   * When the tenant is backed up (its earliest slot more than `nearMs` after the earliest any slot
   * can be), only the tenant's slot is taken (app: false): the app's slot taken now would hold the
   * app's budget idle until then for every tenant. The caller asks for it near the time with
   * appSlotNear. When the app is the one backed up, the tenant's slot waits with it.
   */
  async slotPair(tenant: { key: string; perSecond: number }, app: { key: string; perSecond: number }, nearMs: number): Promise<{ slot: Slot; app: boolean }> {
    for (let attempt = 0; ; attempt++) {
      // (A data-modifying WITH runs whether or not the final SELECT reads it.)
      const row = await this.rateQuery(`WITH cur AS (
          SELECT max(tat) FILTER (WHERE key = $1) AS t_tat, max(tat) FILTER (WHERE key = $3) AS a_tat
          FROM (SELECT key, tat FROM fleet_rate WHERE key IN ($1, $3) ORDER BY key FOR UPDATE) locked
        ), earliest AS (
          SELECT greatest(t_tat, ${DB_NOW} + $5) AS t, greatest(a_tat, ${DB_NOW} + $5) AS a, ${DB_NOW} + $5 + $6 AS near,
            t_tat IS NOT NULL AND a_tat IS NOT NULL AS rows FROM cur
        ), pick AS (
          SELECT CASE WHEN t <= near THEN greatest(t, a) ELSE t END AS at, t <= near AS both, rows FROM earliest
        ), moved AS (
          UPDATE fleet_rate f SET tat = p.at + CASE WHEN f.key = $1 THEN $2::float8 ELSE $4::float8 END
          FROM pick p WHERE p.rows AND (f.key = $1 OR (f.key = $3 AND p.both))
        )
        SELECT p.at, p.both, p.rows, ${DB_NOW} AS now FROM pick p`,
      [tenant.key, 1000 / tenant.perSecond, app.key, 1000 / app.perSecond, this.lead(), nearMs]);
      if (row?.rows) return { slot: this.toLocal(row.at as number), app: row.both as boolean };
      // A limit seen for the first time (or fleet_rate emptied by a server crash: it is UNLOGGED).
      if (attempt > 2) throw new Error(`could not create the rate rows ${tenant.key} and ${app.key}`);
      await this.rates().query('INSERT INTO fleet_rate (key, tat) VALUES ($1, 0), ($2, 0) ON CONFLICT (key) DO NOTHING', [tenant.key, app.key]);
    }
  }

  /**
   * The app's slot for a tenant slot taken alone (slotPair's app: false): at or after `floorDb`
   * and no later than `floorDb + withinMs` (database clock), or null, taking nothing, when the app
   * has no free slot in that span or the span has passed.
   */
  async appSlotNear(key: string, perSecond: number, floorDb: number, withinMs: number): Promise<Slot | null> {
    const row = await this.rateQuery(`UPDATE fleet_rate SET tat = greatest(tat, $3::float8, ${DB_NOW} + $4) + $2
      WHERE key = $1 AND greatest(tat, $3::float8, ${DB_NOW} + $4) <= $3::float8 + $5
      RETURNING tat - $2 AS at, ${DB_NOW} AS now`, [key, 1000 / perSecond, floorDb, this.lead(), withinMs]);
    return row ? this.toLocal(row.at as number) : null;
  }

  private lead(): number {
    return Math.min(250, Math.max(5, 2 * this.recentRtt));
  }

  /** A database time on this process's clock, from the quickest recent round trip. */
  private toLocal(dbAt: number): Slot {
    const best = this.lastClock.rtt < this.clock.rtt ? this.lastClock : this.clock;
    return { at: dbAt - best.offset, dbAt };
  }

  /** One statement on a rate connection, its round trip sampled for the clock; returns its row (with `now`), if any. */
  private async rateQuery(sql: string, params: unknown[]): Promise<Record<string, unknown> | undefined> {
    const client = await this.rates().connect();
    // A connection that dies while checked out must not end the process (pg emits 'error').
    const ignore = () => undefined;
    client.on('error', ignore);
    // Timed from when the statement leaves, not from a wait for a free connection: with every
    // connection busy, the wait would skew the clock by up to half of it.
    const sent = Date.now();
    let r: pg.QueryResult;
    try {
      r = await client.query(sql, params);
    } catch (e) {
      client.off('error', ignore);
      client.release(e as Error);
      throw e;
    }
    client.off('error', ignore);
    client.release();
    const row = r.rows[0] as Record<string, unknown> | undefined;
    if (row) this.sampleClock(row.now as number, sent, Date.now());
    return row;
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
    await this.rates().query(`INSERT INTO fleet_rate AS f (key, tat) VALUES ($1, ${DB_NOW} + $2)
      ON CONFLICT (key) DO UPDATE SET tat = greatest(f.tat, excluded.tat)`, [key, ms]);
  }

  async close(): Promise<void> {
    await this.ratePool?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
