// The fleet's store: the same Store interface on PostgreSQL (node-postgres), so many workers on
// many machines write one database. Tables and migrations mirror SQLite's (schema.ts); the
// version lives in copilog_schema, and migrations run under an advisory lock so workers that
// start together migrate once. A page is written with its cursor in ONE statement (unnest of
// column arrays, ON CONFLICT), which PostgreSQL applies atomically: a lost connection never
// leaves half a page.
import pg from 'pg';
import { groupConversations } from './conversations.js';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './schema.js';
import { columnsOf, cursorFromRow, outcomeFromRow } from './columns.js';
import {
  StoreOpenError, type Conversation, type InteractionFilter, type PageWrite, type PageWriteResult, type RunRecord, type Store, type StoredInteraction,
  type StoredUser, type StoreStats, type UserCursor, type UserOutcome, type QueuedNotification, type WatchSubscription,
} from './types.js';

/** Rows read per query while streaming: bounded memory whatever the store's size. */
const CHUNK = 1000;
/** The advisory lock every migration takes (any constant both sides agree on). */
const MIGRATION_LOCK = 0x43504c47;

type Row = Record<string, unknown>;

/** int8 (counts, ms) as numbers: every value copilog keeps fits in 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

export const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s);

/** The URL for messages: never the password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** Errors that mean the connection, not the statement, failed: worth another try later. */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|57P0[1-3]|08\w{3}|53300)$/.test(code)
    || /Connection terminated|connection timeout|Client has encountered a connection error/i.test((e as Error)?.message ?? '');
}

/** `settings`: server settings for every connection of the pool (e.g. `{ synchronous_commit: 'off' }`). */
export function newPool(url: string, max = 8, settings: Record<string, string> = {}): pg.Pool {
  const options = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000, types: TYPES, application_name: 'copilog', ...(options ? { options } : {}) });
  // An idle client whose server went away emits 'error' on the pool; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** A component's schema version (null: never migrated), or throws if the database cannot be read. */
async function versionOf(db: pg.Pool | pg.PoolClient, component: string): Promise<number | null> {
  const exists = await db.query("SELECT to_regclass('copilog_schema') IS NOT NULL AS ok");
  if (!exists.rows[0].ok) return null;
  const r = await db.query('SELECT version FROM copilog_schema WHERE component = $1', [component]);
  return r.rows.length ? (r.rows[0].version as number) : null;
}

/**
 * Bring one component (the store's tables, the fleet's) up to date, once, whoever else starts at
 * the same moment: the version is read and moved inside one transaction holding an advisory lock.
 */
export async function migrateComponent(pool: pg.Pool, component: string, migrations: readonly Migration[] | readonly string[], where: string): Promise<void> {
  const target = migrations.length;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS copilog_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const from = (await versionOf(client, component)) ?? 0;
    if (from > target) {
      throw new StoreOpenError(`${where} was written by a newer copilog (${component} schema ${from}; this copilog reads up to ${target}); it was not modified. Upgrade copilog.`);
    }
    for (let v = from; v < target; v++) {
      const m = migrations[v]!;
      await client.query(typeof m === 'string' ? m : m.postgres);
    }
    if (from < target) {
      await client.query('INSERT INTO copilog_schema (component, version) VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = excluded.version, updated_at = now()', [component, target]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** Turn a failure to reach or read the database into the one clear error commands print. */
export function openError(where: string, e: unknown): StoreOpenError {
  if (e instanceof StoreOpenError) return e;
  const code = (e as { code?: string }).code;
  const msg = (e as Error).message || String(code ?? e);
  if (code === '3D000') return new StoreOpenError(`the database of ${where} does not exist (${msg}); create it first (createdb) or fix the URL`, { cause: e });
  if (code === '28P01' || code === '28000') return new StoreOpenError(`PostgreSQL refused the login for ${where} (${msg}); check the user and password in the URL`, { cause: e });
  if (isConnectionError(e) || code === undefined) return new StoreOpenError(`cannot reach PostgreSQL at ${where}: ${msg}. Is the server running and the URL right?`, { cause: e });
  return new StoreOpenError(`cannot open the store ${where}: ${msg}`, { cause: e });
}

export async function openPostgresStore(url: string, o: { readonly?: boolean; poolSize?: number } = {}): Promise<PostgresStore> {
  const where = redactUrl(url);
  let pool: pg.Pool;
  try {
    pool = newPool(url, o.poolSize);
  } catch (e) {
    throw new StoreOpenError(`--store ${where} is not a valid PostgreSQL URL: ${(e as Error).message}`);
  }
  try {
    let version = await versionOf(pool, 'store');
    if (version === null) {
      const foreign = await pool.query("SELECT to_regclass('interactions') IS NOT NULL AS ok");
      if (foreign.rows[0].ok) {
        // Another worker may have created the store since the first read: its tables and its
        // version commit together, so read the version again before calling the table foreign.
        version = await versionOf(pool, 'store');
        if (version === null) throw new StoreOpenError(`${where} has an interactions table that copilog did not create (no copilog_schema); it was not modified. Use another database or schema.`);
      } else if (o.readonly) throw new StoreOpenError(`no copilog store at ${where}; run copilog export first (or pass --store)`);
    }
    if (version !== null && version > SCHEMA_VERSION) {
      throw new StoreOpenError(`${where} was written by a newer copilog (store schema ${version}; this copilog reads up to ${SCHEMA_VERSION}); it was not modified. Upgrade copilog.`);
    }
    if (!o.readonly) await migrateComponent(pool, 'store', MIGRATIONS, where);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw openError(where, e);
  }
  return new PostgresStore(pool, where);
}

function filterSql(f: InteractionFilter, params: unknown[]): string {
  const clauses: string[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (f.tenantId !== undefined) clauses.push(`tenant_id = ${p(f.tenantId)}`);
  if (f.userIds?.length) clauses.push(`user_id = ANY(${p(f.userIds)}::text[])`);
  if (f.sinceMs !== undefined) clauses.push(`created_ms >= ${p(f.sinceMs)}`);
  if (f.untilMs !== undefined) clauses.push(`created_ms < ${p(f.untilMs)}`);
  if (f.appClasses?.length) clauses.push(`lower(app_class) = ANY(${p(f.appClasses.map((a) => a.toLowerCase()))}::text[])`);
  if (f.sessionId !== undefined) clauses.push(`session_id = ${p(f.sessionId)}`);
  return clauses.length ? clauses.join(' AND ') : 'true';
}

/**
 * The page's JSON goes as one text joined by U+001E, split by the server: JSON.stringify escapes
 * every control character inside strings, so the separator cannot occur in an item. A text[] of
 * 2 kB JSON items cost node-postgres a quote-escaping pass per character (escapeElement was 6% of
 * a fleet worker's CPU) and made the statement a tenth larger.
 */
const RECORD_SEPARATOR = '\x1e';

// The page and its cursor in one statement. (xmax = 0) tells a row inserted by this statement
// from one updated; an unchanged item matches the WHERE of DO UPDATE and returns nothing.
export const PAGE_UPSERT = `
  WITH incoming AS (
    SELECT * FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], string_to_array($12::text, chr(30)))
      AS t(id, created_ms, created_date_time, app_class, interaction_type, session_id, request_id, conversation_type, json)
  ), written AS (
    INSERT INTO interactions AS i (tenant_id, user_id, id, created_ms, created_date_time, app_class, interaction_type, session_id, request_id, conversation_type, json, first_run, last_run)
    SELECT $1, $2, id, created_ms, created_date_time, app_class, interaction_type, session_id, request_id, conversation_type, json, $3, $3 FROM incoming
    ON CONFLICT (tenant_id, user_id, id) DO UPDATE SET created_ms = excluded.created_ms, created_date_time = excluded.created_date_time,
      app_class = excluded.app_class, interaction_type = excluded.interaction_type, session_id = excluded.session_id, request_id = excluded.request_id,
      conversation_type = excluded.conversation_type, json = excluded.json, last_run = excluded.last_run
    WHERE i.json <> excluded.json
    RETURNING (xmax = 0) AS inserted
  ), cursor AS (
    INSERT INTO cursors (tenant_id, user_id, scope, watermark_ms, window_from_ms, window_to_ms, next_link, window_pages, updated_at)
    SELECT $1, $2, $13::text, $14::bigint, $15::bigint, $16::bigint, $17::text, $18::int, $19::text WHERE $20::boolean
    ON CONFLICT (tenant_id, user_id, scope) DO UPDATE SET watermark_ms = excluded.watermark_ms, window_from_ms = excluded.window_from_ms,
      window_to_ms = excluded.window_to_ms, next_link = excluded.next_link, window_pages = excluded.window_pages, updated_at = excluded.updated_at
  )
  SELECT count(*) FILTER (WHERE inserted) AS added, count(*) FILTER (WHERE NOT inserted) AS changed FROM written`;

/** PAGE_UPSERT's prepared-statement name on each connection. */
export const PAGE_STATEMENT = 'copilog_page_upsert';

/** Where PAGE_UPSERT's $12 (the page's JSON) sits in pageParams. */
export const PAGE_JSON = 11;

/** PAGE_UPSERT's parameters, with the page's JSON as one string per item (upsertPage joins them). */
export function pageParams(p: PageWrite): unknown[] {
  // Graph never repeats an id within a page; if it did, the last copy wins (one row per key).
  const items = [...new Map(p.items.map((it) => [it.id, it])).values()];
  const cols = items.map((it) => ({ it, c: columnsOf(it) }));
  // No cursor (watch's rich notifications): the items only; $20 leaves the cursor as it is.
  const w = p.cursor?.window;
  return [
    p.tenantId, p.userId, p.runId,
    cols.map((x) => x.it.id), cols.map((x) => x.c.createdMs), cols.map((x) => x.it.createdDateTime), cols.map((x) => x.c.appClass),
    cols.map((x) => x.c.interactionType), cols.map((x) => x.c.sessionId), cols.map((x) => x.c.requestId), cols.map((x) => x.c.conversationType),
    cols.map((x) => JSON.stringify(x.it)),
    p.scope, p.cursor?.watermarkMs ?? null, w?.fromMs ?? null, w?.toMs ?? null, w?.nextLink ?? null, w?.pages ?? 0, new Date().toISOString(), p.cursor !== null,
  ];
}

/** PAGE_UPSERT's parameters as sent: pageParams with the items' JSON joined into one text. */
export function pageStatementParams(p: PageWrite): unknown[] {
  const params = pageParams(p);
  params[PAGE_JSON] = (params[PAGE_JSON] as string[]).join(RECORD_SEPARATOR);
  return params;
}

/**
 * Page writes one process sends at once. PostgreSQL spends more CPU per page the more sessions
 * insert into the same table together (WAL insertion and buffer locks): on the 2-core machine
 * `bench/pg-pages.ts` measured 2.9–3.3 ms of server CPU per 100-interaction page with one session,
 * 3.7–4.9 with two and 4.9–6.7 with ten; pages per second grew by about a third from one to two.
 * In bench/fleet (2 workers) 2 gave the most interactions/s (1: 10,150, 2: 10,980, 4: 9,495,
 * 10: 9,219; runs vary by about 10%). A worker runs many tenants' pages at a time; the rest wait.
 */
export const PAGE_WRITERS = 2;

/** At most `max` calls of run() in flight; the others queue in order. */
class Lanes {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}

  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await f();
    } finally {
      // The turn passes straight to the next in line, so active counts it still.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export class PostgresStore implements Store {
  private readonly pageLanes = new Lanes(PAGE_WRITERS);

  constructor(readonly pool: pg.Pool, readonly location: string) {}

  async upsertUsers(tenantId: string, users: StoredUser[]): Promise<void> {
    if (users.length === 0) return;
    const now = new Date().toISOString();
    // One statement per 5,000 users; a user listed twice keeps its last sighting.
    const unique = [...new Map(users.map((u) => [u.id, u])).values()];
    for (let i = 0; i < unique.length; i += 5000) {
      const part = unique.slice(i, i + 5000);
      await this.pool.query(`INSERT INTO users AS u (tenant_id, id, user_principal_name, display_name, first_seen, last_seen)
        SELECT $1, id, upn, name, $5, $5 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(id, upn, name)
        ON CONFLICT (tenant_id, id) DO UPDATE SET user_principal_name = coalesce(excluded.user_principal_name, u.user_principal_name),
        display_name = coalesce(excluded.display_name, u.display_name), last_seen = excluded.last_seen`,
      [tenantId, part.map((u) => u.id), part.map((u) => u.userPrincipalName ?? null), part.map((u) => u.displayName ?? null), now]);
    }
  }

  async cursors(tenantId: string, scope: string): Promise<Map<string, UserCursor>> {
    const r = await this.pool.query('SELECT * FROM cursors WHERE tenant_id = $1 AND scope = $2', [tenantId, scope]);
    return new Map(r.rows.map((row: Row) => [row.user_id as string, cursorFromRow(row)]));
  }

  async upsertPage(p: PageWrite): Promise<PageWriteResult> {
    const params = pageStatementParams(p);
    // Named: each connection parses and plans the statement once, not once per page.
    const r = await this.pageLanes.run(() => this.pool.query({ name: PAGE_STATEMENT, text: PAGE_UPSERT, values: params }));
    return { added: r.rows[0].added as number, changed: r.rows[0].changed as number };
  }

  async beginRun(tenantId: string, kind: string, options: Record<string, unknown>): Promise<number> {
    const r = await this.pool.query("INSERT INTO runs (tenant_id, kind, started_at, status, options_json) VALUES ($1, $2, $3, 'running', $4) RETURNING id",
      [tenantId, kind, new Date().toISOString(), JSON.stringify(options)]);
    return r.rows[0].id as number;
  }

  async recordOutcome(runId: number, tenantId: string, o: UserOutcome): Promise<void> {
    await this.pool.query(`INSERT INTO user_outcomes (run_id, tenant_id, user_id, user_principal_name, outcome, interactions, added, pages, status, code, message,
      request_id, client_request_id, date, verdict) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
      ON CONFLICT (run_id, user_id) DO UPDATE SET outcome = excluded.outcome, interactions = excluded.interactions, added = excluded.added, pages = excluded.pages,
      status = excluded.status, code = excluded.code, message = excluded.message, request_id = excluded.request_id, client_request_id = excluded.client_request_id,
      date = excluded.date, verdict = excluded.verdict`,
    [runId, tenantId, o.userId, o.userPrincipalName ?? null, o.outcome, o.interactions, o.added, o.pages, o.status ?? null, o.code ?? null, o.message ?? null,
      o.requestId ?? null, o.clientRequestId ?? null, o.date ?? null, o.verdict ?? null]);
  }

  async finishRun(runId: number, status: RunRecord['status'], summary: Record<string, unknown>): Promise<void> {
    await this.pool.query('UPDATE runs SET finished_at = $1, status = $2, summary_json = $3 WHERE id = $4', [new Date().toISOString(), status, JSON.stringify(summary), runId]);
  }

  async runs(tenantId?: string, limit = 50): Promise<RunRecord[]> {
    const r = tenantId === undefined
      ? await this.pool.query('SELECT * FROM runs ORDER BY id DESC LIMIT $1', [limit])
      : await this.pool.query('SELECT * FROM runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2', [tenantId, limit]);
    return r.rows.map((row: Row) => ({
      id: row.id as number, tenantId: row.tenant_id as string, kind: row.kind as string, startedAt: row.started_at as string, finishedAt: (row.finished_at as string | null) ?? null,
      status: row.status as RunRecord['status'], options: JSON.parse(row.options_json as string), summary: row.summary_json ? JSON.parse(row.summary_json as string) : null,
    }));
  }

  async outcomes(runId: number): Promise<UserOutcome[]> {
    const r = await this.pool.query('SELECT * FROM user_outcomes WHERE run_id = $1 ORDER BY outcome, user_principal_name NULLS FIRST, user_id', [runId]);
    return r.rows.map(outcomeFromRow);
  }

  /** Keyset pages of CHUNK rows: no cursor or transaction stays open across a yield. */
  private async *rows(filter: InteractionFilter, order: 'user' | 'session'): AsyncGenerator<StoredInteraction & { sessionId: string }> {
    const key = order === 'user' ? ['tenant_id', 'user_id', 'created_ms', 'id'] : ['tenant_id', 'user_id', 'session_id', 'created_ms', 'id'];
    const orderBy = key.map((k) => (k === 'session_id' ? "coalesce(session_id, '')" : k)).join(', ');
    let last: Row | undefined;
    for (;;) {
      const params: unknown[] = [];
      const where = filterSql(filter, params);
      let after = '';
      if (last !== undefined) {
        const values = key.map((k) => `$${params.push(k === 'session_id' ? (last![k] ?? '') : last![k])}`);
        after = ` AND (${orderBy}) > (${values.join(', ')})`;
      }
      const r = await this.pool.query(`SELECT tenant_id, user_id, id, created_ms, session_id, json FROM interactions WHERE ${where}${after} ORDER BY ${orderBy} LIMIT ${CHUNK}`, params);
      for (const row of r.rows as Row[]) {
        yield { tenantId: row.tenant_id as string, userId: row.user_id as string, id: row.id as string, createdMs: row.created_ms as number, sessionId: (row.session_id as string) ?? '', json: row.json as string };
      }
      if (r.rows.length < CHUNK) return;
      last = r.rows[r.rows.length - 1] as Row;
    }
  }

  interactions(filter: InteractionFilter = {}): AsyncIterable<StoredInteraction> {
    return this.rows(filter, 'user');
  }

  conversations(filter: InteractionFilter = {}): AsyncIterable<Conversation> {
    return groupConversations(this.rows(filter, 'session'));
  }

  async users(tenantId?: string): Promise<(StoredUser & { tenantId: string })[]> {
    const r = tenantId === undefined
      ? await this.pool.query('SELECT * FROM users ORDER BY tenant_id, user_principal_name NULLS FIRST, id')
      : await this.pool.query('SELECT * FROM users WHERE tenant_id = $1 ORDER BY user_principal_name NULLS FIRST, id', [tenantId]);
    return r.rows.map((row: Row) => ({ tenantId: row.tenant_id as string, id: row.id as string, userPrincipalName: (row.user_principal_name as string | null) ?? null, displayName: (row.display_name as string | null) ?? null }));
  }

  async stats(tenantId?: string): Promise<StoreStats> {
    const params = tenantId === undefined ? [] : [tenantId];
    const where = tenantId === undefined ? 'true' : 'tenant_id = $1';
    const r = await this.pool.query(`SELECT count(*) AS interactions, count(DISTINCT user_id) AS users FROM interactions WHERE ${where}`, params);
    const size = await this.pool.query("SELECT sum(pg_total_relation_size(c))::bigint AS bytes FROM unnest(ARRAY['interactions', 'users', 'cursors', 'runs', 'user_outcomes']::regclass[]) AS c");
    return { users: r.rows[0].users as number, interactions: r.rows[0].interactions as number, bytes: (size.rows[0].bytes as number) ?? 0 };
  }

  // copilog watch's subscriptions and its durable notification queue (schema version 3).
  async saveSubscription(s: WatchSubscription): Promise<void> {
    const now = new Date().toISOString();
    await this.pool.query(`INSERT INTO watch_subscriptions (tenant_id, id, user_id, resource, client_state, notification_url, expiration_ms, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (tenant_id, id) DO UPDATE SET user_id = excluded.user_id, resource = excluded.resource,
      client_state = excluded.client_state, notification_url = excluded.notification_url, expiration_ms = excluded.expiration_ms, updated_at = excluded.updated_at`,
    [s.tenantId, s.id, s.userId, s.resource, s.clientState, s.notificationUrl, s.expirationMs, now]);
  }

  async watchSubscriptions(tenantId: string): Promise<WatchSubscription[]> {
    const r = await this.pool.query('SELECT * FROM watch_subscriptions WHERE tenant_id = $1 ORDER BY user_id, id', [tenantId]);
    return r.rows.map((x) => ({
      tenantId: x.tenant_id as string, id: x.id as string, userId: (x.user_id as string | null) ?? null, resource: x.resource as string,
      clientState: x.client_state as string, notificationUrl: x.notification_url as string, expirationMs: Number(x.expiration_ms),
    }));
  }

  async deleteSubscription(tenantId: string, id: string): Promise<void> {
    await this.pool.query('DELETE FROM watch_subscriptions WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  }

  async enqueueNotifications(items: Omit<QueuedNotification, 'seq' | 'receivedAt' | 'attempts'>[]): Promise<void> {
    if (items.length === 0) return;
    // One statement for the whole batch: it is acknowledged to Graph only once this commits.
    await this.pool.query(`INSERT INTO notifications (tenant_id, subscription_id, user_id, kind, lifecycle_event, resource_id, received_at)
      SELECT t, s, u, k, l, r, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x (t, s, u, k, l, r)`, [
      items.map((n) => n.tenantId), items.map((n) => n.subscriptionId), items.map((n) => n.userId), items.map((n) => n.kind),
      items.map((n) => n.lifecycleEvent), items.map((n) => n.resourceId), new Date().toISOString(),
    ]);
  }

  async pendingNotifications(tenantId: string, limit: number): Promise<QueuedNotification[]> {
    const r = await this.pool.query('SELECT * FROM notifications WHERE tenant_id = $1 AND processed_at IS NULL ORDER BY seq LIMIT $2', [tenantId, limit]);
    return r.rows.map((x) => ({
      seq: Number(x.seq), tenantId: x.tenant_id as string, subscriptionId: x.subscription_id as string, userId: (x.user_id as string | null) ?? null,
      kind: x.kind as QueuedNotification['kind'], lifecycleEvent: (x.lifecycle_event as string | null) ?? null, resourceId: (x.resource_id as string | null) ?? null,
      receivedAt: x.received_at as string, attempts: x.attempts as number,
    }));
  }

  async settleNotifications(seqs: number[], outcome: 'done' | 'failed'): Promise<void> {
    if (seqs.length === 0) return;
    if (outcome === 'done') await this.pool.query('UPDATE notifications SET processed_at = $1 WHERE seq = ANY($2::bigint[])', [new Date().toISOString(), seqs]);
    else await this.pool.query('UPDATE notifications SET attempts = attempts + 1 WHERE seq = ANY($1::bigint[])', [seqs]);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
