// The embedded store: one SQLite file (better-sqlite3, WAL). A file is checked before anything is
// written to it: a foreign, corrupt or newer-schema file is refused with a clear error and left
// exactly as it was. Migrations are versioned (PRAGMA user_version) and run in one transaction.
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { AiInteraction } from '../client/models.js';
import { columnsOf, cursorFromRow, outcomeFromRow } from './columns.js';
import { groupConversations } from './conversations.js';
import { MIGRATIONS, SCHEMA_VERSION, SQLITE_FUNCTIONS } from './schema.js';
import type { Facets, SearchPage, SearchQuery, StoreReader, Usage, UsageQuery } from './read.js';
import { SqliteReader, statementCache } from './sqlite-read.js';
import { searchTags } from './tags.js';
import { searchText } from './text.js';
import {
  StoreOpenError, type Conversation, type InteractionFilter, type PageWrite, type PageWriteResult, type RunRecord, type Store, type StoredInteraction,
  type StoredUser, type StoreStats, type UserCursor, type UserOutcome, type QueuedNotification, type WatchSubscription,
} from './types.js';

/** PRAGMA application_id of a copilog store ('CPLG'), so a foreign SQLite file is told apart. */
export const APPLICATION_ID = 0x43504c47;
const SQLITE_HEADER = 'SQLite format 3\u0000';
/** Rows read per query while streaming: bounded memory whatever the store's size. */
const CHUNK = 1000;

type Row = Record<string, unknown>;

export { columnsOf };

/** Refuse anything that is not an empty file or a copilog store this version can read; never write while checking. */
function inspect(path: string): 'new' | 'empty' | 'store' {
  if (!existsSync(path)) return 'new';
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new StoreOpenError(`cannot read the store ${path}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) throw new StoreOpenError(`the store ${path} is a directory; pass a file path such as ${path.replace(/\/+$/, '')}/copilog.db`);
  if (st.size === 0) return 'empty';
  const header = Buffer.alloc(16);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new StoreOpenError(`cannot read the store ${path}: ${(e as Error).message}`);
  }
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_HEADER) {
    throw new StoreOpenError(`${path} is not a copilog store (not a SQLite database: a foreign or corrupt file); it was not modified. Pass another --store path.`);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = (db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number);
    if (appId !== APPLICATION_ID) {
      if (tables === 0 && version === 0) return 'empty';
      throw new StoreOpenError(`${path} is a SQLite database of another application (application_id ${appId}, ${tables} tables), not a copilog store; it was not modified. Pass another --store path.`);
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreOpenError(`${path} was written by a newer copilog (store schema ${version}; this copilog reads up to ${SCHEMA_VERSION}); it was not modified. Upgrade copilog.`);
    }
    return 'store';
  } catch (e) {
    if (e instanceof StoreOpenError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (/CORRUPT|NOTADB/.test(code)) throw new StoreOpenError(`${path} is corrupt (${code}); it was not modified. Restore it from a backup or pass another --store path.`, { cause: e });
    throw new StoreOpenError(`cannot open the store ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    db?.close();
  }
}

export interface OpenOptions {
  /** Open for reading only (no migration, no write). */
  readonly?: boolean;
  /** Refuse to create a store: a missing or empty file is an error (copilog serve, report). */
  mustExist?: boolean;
  /** Told before a long schema upgrade starts (an index rebuilt over stored interactions), to say why the command waits. */
  onUpgrade?: (message: string) => void;
}

export async function openSqliteStore(path: string, o: OpenOptions = {}): Promise<SqliteStore> {
  const file = resolve(path);
  const state = inspect(file);
  if (o.mustExist && state !== 'store') throw new StoreOpenError(`no copilog store at ${file}; run copilog export first (or pass --store)`);
  if (o.readonly && state !== 'store') throw new StoreOpenError(`no copilog store at ${file}; run copilog export first (or pass --store)`);
  if (state === 'new') {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (e) {
      throw new StoreOpenError(`cannot create the store's folder ${dirname(file)}: ${(e as Error).message}`);
    }
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: !!o.readonly, fileMustExist: state !== 'new' });
  } catch (e) {
    throw new StoreOpenError(`cannot open the store ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    if (!o.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 10000');
      db.function(SQLITE_FUNCTIONS.searchText, { deterministic: true }, (json: unknown) => searchText(JSON.parse(String(json)) as AiInteraction));
      db.function(SQLITE_FUNCTIONS.searchTags, { deterministic: true }, (tenantId: unknown, userId: unknown, appClass: unknown, interactionType: unknown, createdMs: unknown) =>
        searchTags({ tenantId: String(tenantId), userId: String(userId), appClass: appClass === null ? null : String(appClass), interactionType: interactionType === null ? null : String(interactionType), createdMs: Number(createdMs) }));
      migrate(db, file, o.onUpgrade);
    }
  } catch (e) {
    db.close();
    throw new StoreOpenError(`cannot prepare the store ${file}: ${(e as Error).message}`, { cause: e });
  }
  return new SqliteStore(db, file);
}

function migrate(db: Database.Database, file: string, onUpgrade?: (message: string) => void): void {
  const run = db.transaction(() => {
    // Read the version inside the write transaction: two processes opening one new file migrate once.
    const from = db.pragma('user_version', { simple: true }) as number;
    if (from >= 1 && from < SCHEMA_VERSION && onUpgrade) {
      // Versions 2, 4 and 5 rebuild indexes over every stored interaction: minutes on a large store.
      const n = db.prepare('SELECT count(*) FROM interactions').pluck().get() as number;
      if (n >= 10_000) onUpgrade(`upgrading the store ${file} from schema version ${from} to ${SCHEMA_VERSION}: re-indexing ${n.toLocaleString('en-US')} interactions for search and the dashboard, once (about 2 minutes per million on a 2-core machine); do not stop it, or it starts again next time`);
    }
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!.sqlite);
    if (from < SCHEMA_VERSION) {
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
  });
  run.immediate();
}

function filterSql(f: InteractionFilter, alias = ''): { where: string; params: unknown[] } {
  const a = alias ? `${alias}.` : '';
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (f.tenantId !== undefined) { clauses.push(`${a}tenant_id = ?`); params.push(f.tenantId); }
  if (f.userIds?.length) { clauses.push(`${a}user_id IN (${f.userIds.map(() => '?').join(',')})`); params.push(...f.userIds); }
  if (f.sinceMs !== undefined) { clauses.push(`${a}created_ms >= ?`); params.push(f.sinceMs); }
  if (f.untilMs !== undefined) { clauses.push(`${a}created_ms < ?`); params.push(f.untilMs); }
  if (f.appClasses?.length) { clauses.push(`${a}app_class COLLATE NOCASE IN (${f.appClasses.map(() => '?').join(',')})`); params.push(...f.appClasses); }
  if (f.sessionId !== undefined) { clauses.push(`${a}session_id = ?`); params.push(f.sessionId); }
  return { where: clauses.length ? clauses.join(' AND ') : '1', params };
}

export class SqliteStore implements Store, StoreReader {
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly putCursor: Database.Statement;
  private readonly putText: Database.Statement;
  private readonly dropText: Database.Statement;
  private readonly reader: SqliteReader;
  private readonly writePage: (p: PageWrite) => PageWriteResult;

  /** Watch runs its notification statements for every batch: prepared once. */
  private readonly stmt: (sql: string) => Database.Statement;

  constructor(readonly db: Database.Database, readonly location: string) {
    this.stmt = statementCache(db);
    const ro = db.readonly;
    this.insert = ro ? undefined as never : db.prepare(`INSERT INTO interactions
      (tenant_id, user_id, id, created_ms, created_date_time, app_class, interaction_type, session_id, request_id, conversation_type, json, first_run, last_run)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, user_id, id) DO NOTHING`);
    this.update = ro ? undefined as never : db.prepare(`UPDATE interactions SET created_ms = ?, created_date_time = ?, app_class = ?, interaction_type = ?, session_id = ?,
      request_id = ?, conversation_type = ?, json = ?, last_run = ? WHERE tenant_id = ? AND user_id = ? AND id = ? AND json <> ? RETURNING seq`);
    // The search index follows every insert and change in the same transaction (schema v2; tags since v4).
    this.putText = ro ? undefined as never : db.prepare('INSERT INTO interaction_text (rowid, text, tags) VALUES (?, ?, ?)');
    this.dropText = ro ? undefined as never : db.prepare('DELETE FROM interaction_text WHERE rowid = ?');
    this.reader = new SqliteReader(db);
    this.putCursor = ro ? undefined as never : db.prepare(`INSERT INTO cursors (tenant_id, user_id, scope, watermark_ms, window_from_ms, window_to_ms, next_link, window_pages, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, user_id, scope) DO UPDATE SET watermark_ms = excluded.watermark_ms,
      window_from_ms = excluded.window_from_ms, window_to_ms = excluded.window_to_ms, next_link = excluded.next_link, window_pages = excluded.window_pages, updated_at = excluded.updated_at`);
    this.writePage = ro ? undefined as never : db.transaction((p: PageWrite) => {
      let added = 0;
      let changed = 0;
      for (const item of p.items) {
        const c = columnsOf(item);
        const json = JSON.stringify(item);
        const ins = this.insert.run(p.tenantId, p.userId, item.id, c.createdMs, item.createdDateTime, c.appClass, c.interactionType, c.sessionId, c.requestId, c.conversationType, json, p.runId, p.runId);
        if (ins.changes === 1) {
          added++;
          this.putText.run(ins.lastInsertRowid, searchText(item), searchTags({ tenantId: p.tenantId, userId: p.userId, ...c }));
          continue;
        }
        const upd = this.update.get(c.createdMs, item.createdDateTime, c.appClass, c.interactionType, c.sessionId, c.requestId, c.conversationType, json, p.runId, p.tenantId, p.userId, item.id, json) as { seq: number } | undefined;
        if (upd) {
          changed++;
          this.dropText.run(upd.seq);
          this.putText.run(upd.seq, searchText(item), searchTags({ tenantId: p.tenantId, userId: p.userId, ...c }));
        }
      }
      if (p.cursor) {
        const w = p.cursor.window;
        this.putCursor.run(p.tenantId, p.userId, p.scope, p.cursor.watermarkMs, w?.fromMs ?? null, w?.toMs ?? null, w?.nextLink ?? null, w?.pages ?? 0, new Date().toISOString());
      }
      return { added, changed };
    });
  }

  async upsertUsers(tenantId: string, users: StoredUser[]): Promise<void> {
    const now = new Date().toISOString();
    const stmt = this.db.prepare(`INSERT INTO users (tenant_id, id, user_principal_name, display_name, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (tenant_id, id) DO UPDATE SET user_principal_name = coalesce(excluded.user_principal_name, users.user_principal_name),
      display_name = coalesce(excluded.display_name, users.display_name), last_seen = excluded.last_seen`);
    this.db.transaction(() => {
      for (const u of users) stmt.run(tenantId, u.id, u.userPrincipalName ?? null, u.displayName ?? null, now, now);
    })();
  }

  async cursors(tenantId: string, scope: string): Promise<Map<string, UserCursor>> {
    const rows = this.db.prepare('SELECT * FROM cursors WHERE tenant_id = ? AND scope = ?').all(tenantId, scope) as Row[];
    return new Map(rows.map((r) => [r.user_id as string, cursorFromRow(r)]));
  }

  async upsertPage(page: PageWrite): Promise<PageWriteResult> {
    return this.writePage(page);
  }

  async beginRun(tenantId: string, kind: string, options: Record<string, unknown>): Promise<number> {
    const r = this.db.prepare("INSERT INTO runs (tenant_id, kind, started_at, status, options_json) VALUES (?, ?, ?, 'running', ?)")
      .run(tenantId, kind, new Date().toISOString(), JSON.stringify(options));
    return Number(r.lastInsertRowid);
  }

  async recordOutcome(runId: number, tenantId: string, o: UserOutcome): Promise<void> {
    this.db.prepare(`INSERT INTO user_outcomes (run_id, tenant_id, user_id, user_principal_name, outcome, interactions, added, pages, status, code, message,
      request_id, client_request_id, date, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (run_id, user_id) DO UPDATE SET outcome = excluded.outcome, interactions = excluded.interactions, added = excluded.added, pages = excluded.pages,
      status = excluded.status, code = excluded.code, message = excluded.message, request_id = excluded.request_id, client_request_id = excluded.client_request_id,
      date = excluded.date, verdict = excluded.verdict`)
      .run(runId, tenantId, o.userId, o.userPrincipalName ?? null, o.outcome, o.interactions, o.added, o.pages, o.status ?? null, o.code ?? null, o.message ?? null,
        o.requestId ?? null, o.clientRequestId ?? null, o.date ?? null, o.verdict ?? null);
  }

  async finishRun(runId: number, status: RunRecord['status'], summary: Record<string, unknown>): Promise<void> {
    this.db.prepare('UPDATE runs SET finished_at = ?, status = ?, summary_json = ? WHERE id = ?').run(new Date().toISOString(), status, JSON.stringify(summary), runId);
  }

  async runs(tenantId?: string, limit = 50): Promise<RunRecord[]> {
    const rows = (tenantId === undefined
      ? this.db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit)
      : this.db.prepare('SELECT * FROM runs WHERE tenant_id = ? ORDER BY id DESC LIMIT ?').all(tenantId, limit)) as Row[];
    return rows.map((r) => ({
      id: r.id as number, tenantId: r.tenant_id as string, kind: r.kind as string, startedAt: r.started_at as string, finishedAt: (r.finished_at as string | null) ?? null,
      status: r.status as RunRecord['status'], options: JSON.parse(r.options_json as string), summary: r.summary_json ? JSON.parse(r.summary_json as string) : null,
    }));
  }

  async outcomes(runId: number): Promise<UserOutcome[]> {
    const rows = this.db.prepare('SELECT * FROM user_outcomes WHERE run_id = ? ORDER BY outcome, user_principal_name, user_id').all(runId) as Row[];
    return rows.map(outcomeFromRow);
  }

  /** Keyset pages of CHUNK rows: no statement stays open across a yield, so writes can interleave. */
  private async *rows(filter: InteractionFilter, order: 'user' | 'session'): AsyncGenerator<StoredInteraction & { sessionId: string }> {
    const { where, params } = filterSql(filter);
    const key = order === 'user' ? ['tenant_id', 'user_id', 'created_ms', 'id'] : ['tenant_id', 'user_id', 'session_id', 'created_ms', 'id'];
    const cols = `(${key.join(', ')})`;
    const first = this.db.prepare(`SELECT tenant_id, user_id, id, created_ms, session_id, json FROM interactions WHERE ${where} ORDER BY ${key.join(', ')} LIMIT ${CHUNK}`);
    const next = this.db.prepare(`SELECT tenant_id, user_id, id, created_ms, session_id, json FROM interactions WHERE ${where} AND ${cols} > (${key.map(() => '?').join(', ')}) ORDER BY ${key.join(', ')} LIMIT ${CHUNK}`);
    let last: Row | undefined;
    for (;;) {
      const batch = (last === undefined ? first.all(...params) : next.all(...params, ...key.map((k) => last![k]))) as Row[];
      for (const r of batch) {
        yield { tenantId: r.tenant_id as string, userId: r.user_id as string, id: r.id as string, createdMs: r.created_ms as number, sessionId: (r.session_id as string) ?? '', json: r.json as string };
      }
      if (batch.length < CHUNK) return;
      last = batch[batch.length - 1];
    }
  }

  interactions(filter: InteractionFilter = {}): AsyncIterable<StoredInteraction> {
    return this.rows(filter, 'user');
  }

  conversations(filter: InteractionFilter = {}): AsyncIterable<Conversation> {
    return groupConversations(this.rows(filter, 'session'));
  }

  async users(tenantId?: string): Promise<(StoredUser & { tenantId: string })[]> {
    const rows = (tenantId === undefined ? this.db.prepare('SELECT * FROM users ORDER BY tenant_id, user_principal_name, id').all()
      : this.db.prepare('SELECT * FROM users WHERE tenant_id = ? ORDER BY user_principal_name, id').all(tenantId)) as Row[];
    return rows.map((r) => ({ tenantId: r.tenant_id as string, id: r.id as string, userPrincipalName: (r.user_principal_name as string | null) ?? null, displayName: (r.display_name as string | null) ?? null }));
  }

  async stats(tenantId?: string): Promise<StoreStats> {
    const w = tenantId === undefined ? ['1', []] as const : ['tenant_id = ?', [tenantId]] as const;
    const interactions = this.db.prepare(`SELECT count(*) FROM interactions WHERE ${w[0]}`).pluck().get(...w[1]) as number;
    const users = this.db.prepare(`SELECT count(DISTINCT user_id) FROM interactions WHERE ${w[0]}`).pluck().get(...w[1]) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return { users, interactions, bytes: pages * size };
  }

  async search(q: SearchQuery): Promise<SearchPage> {
    return this.reader.search(q);
  }

  async facets(tenantId?: string): Promise<Facets> {
    return this.reader.facets(tenantId);
  }

  async usage(q: UsageQuery): Promise<Usage> {
    return this.reader.usage(q);
  }

  async conversation(tenantId: string, userId: string, sessionId: string): Promise<Conversation | null> {
    return this.reader.conversation(tenantId, userId, sessionId);
  }

  async interaction(tenantId: string, userId: string, id: string): Promise<AiInteraction | null> {
    return this.reader.interaction(tenantId, userId, id);
  }

  async saveSubscription(s: WatchSubscription): Promise<void> {
    const now = new Date().toISOString();
    this.db.prepare(`INSERT INTO watch_subscriptions (tenant_id, id, user_id, resource, client_state, notification_url, expiration_ms, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO UPDATE SET user_id = excluded.user_id, resource = excluded.resource,
      client_state = excluded.client_state, notification_url = excluded.notification_url, expiration_ms = excluded.expiration_ms, updated_at = excluded.updated_at`)
      .run(s.tenantId, s.id, s.userId, s.resource, s.clientState, s.notificationUrl, s.expirationMs, now, now);
  }

  async watchSubscriptions(tenantId: string): Promise<WatchSubscription[]> {
    const rows = this.db.prepare('SELECT * FROM watch_subscriptions WHERE tenant_id = ? ORDER BY user_id, id').all(tenantId) as Row[];
    return rows.map((r) => ({
      tenantId: r.tenant_id as string, id: r.id as string, userId: (r.user_id as string | null) ?? null, resource: r.resource as string,
      clientState: r.client_state as string, notificationUrl: r.notification_url as string, expirationMs: r.expiration_ms as number,
    }));
  }

  async deleteSubscription(tenantId: string, id: string): Promise<void> {
    this.db.prepare('DELETE FROM watch_subscriptions WHERE tenant_id = ? AND id = ?').run(tenantId, id);
  }

  async enqueueNotifications(items: Omit<QueuedNotification, 'seq' | 'receivedAt' | 'attempts'>[]): Promise<void> {
    const now = new Date().toISOString();
    const stmt = this.stmt(`INSERT INTO notifications (tenant_id, subscription_id, user_id, kind, lifecycle_event, resource_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      for (const n of items) stmt.run(n.tenantId, n.subscriptionId, n.userId, n.kind, n.lifecycleEvent, n.resourceId, now);
    })();
  }

  async pendingNotifications(tenantId: string, limit: number): Promise<QueuedNotification[]> {
    const rows = this.stmt('SELECT * FROM notifications WHERE tenant_id = ? AND processed_at IS NULL ORDER BY seq LIMIT ?').all(tenantId, limit) as Row[];
    return rows.map((r) => ({
      seq: r.seq as number, tenantId: r.tenant_id as string, subscriptionId: r.subscription_id as string, userId: (r.user_id as string | null) ?? null,
      kind: r.kind as QueuedNotification['kind'], lifecycleEvent: (r.lifecycle_event as string | null) ?? null, resourceId: (r.resource_id as string | null) ?? null,
      receivedAt: r.received_at as string, attempts: r.attempts as number,
    }));
  }

  async settleNotifications(seqs: number[], outcome: 'done' | 'failed'): Promise<void> {
    const stmt = outcome === 'done'
      ? this.stmt('UPDATE notifications SET processed_at = ? WHERE seq = ?')
      : this.stmt('UPDATE notifications SET attempts = attempts + 1 WHERE seq = ? AND ? IS NOT NULL');
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const s of seqs) {
        if (outcome === 'done') stmt.run(now, s);
        else stmt.run(s, now);
      }
    })();
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    if (!this.db.readonly) this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
