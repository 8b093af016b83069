// StoreReader over the SQLite store (schema v2): FTS5 for words, the time indexes for newest-first
// keyset pages, GROUP BY for the dashboard. Every value reaches SQL as a bound parameter.
import type Database from 'better-sqlite3';
import type { AiInteraction } from '../client/models.js';
import { groupConversations } from './conversations.js';
import {
  COUNT_CAP, decodeAfter, encodeAfter, ftsQuery, queryWords, snippetOf,
  type Facets, type SearchHit, type SearchPage, type SearchQuery, type Usage, type UsageQuery,
} from './read.js';
import { searchText } from './text.js';
import { StoreOpenError, type Conversation, type StoredInteraction } from './types.js';

type Row = Record<string, unknown>;
const DAY_MS = 86_400_000;

export class SearchCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchCursorError';
  }
}

interface Where { clauses: string[]; params: unknown[] }

function filters(q: { tenantId?: string; userIds?: string[]; appClasses?: string[]; interactionTypes?: string[]; sinceMs?: number; untilMs?: number }): Where {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (q.tenantId !== undefined) { clauses.push('i.tenant_id = ?'); params.push(q.tenantId); }
  if (q.userIds?.length) { clauses.push(`i.user_id IN (${q.userIds.map(() => '?').join(',')})`); params.push(...q.userIds); }
  if (q.appClasses?.length) { clauses.push(`i.app_class COLLATE NOCASE IN (${q.appClasses.map(() => '?').join(',')})`); params.push(...q.appClasses); }
  if (q.interactionTypes?.length) { clauses.push(`i.interaction_type IN (${q.interactionTypes.map(() => '?').join(',')})`); params.push(...q.interactionTypes); }
  if (q.sinceMs !== undefined) { clauses.push('i.created_ms >= ?'); params.push(q.sinceMs); }
  if (q.untilMs !== undefined) { clauses.push('i.created_ms < ?'); params.push(q.untilMs); }
  return { clauses, params };
}

const whereSql = (w: Where): string => (w.clauses.length ? `WHERE ${w.clauses.join(' AND ')}` : '');

export class SqliteReader {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** A v1 store opened read-only has no search index: say what to do rather than fail in SQL. */
  private requireV2(): void {
    const v = this.db.pragma('user_version', { simple: true }) as number;
    if (v < 2) throw new StoreOpenError(`the store ${this.db.name} is at schema ${v}; open it once for writing (copilog serve does) to build its search index`);
  }

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.cache.size > 200) this.cache.clear();
      this.cache.set(sql, s);
    }
    return s;
  }

  search(q: SearchQuery): SearchPage {
    this.requireV2();
    const match = q.text ? ftsQuery(q.text) : null;
    const w = filters(q);
    if (match) {
      w.clauses.unshift('i.seq IN (SELECT rowid FROM interaction_text WHERE interaction_text MATCH ?)');
      w.params.unshift(match);
    } else if (q.text && q.text.trim()) {
      // Words made only of punctuation: nothing can match them.
      return { hits: [], next: null, total: 0, totalCapped: false };
    }
    const countW = { clauses: [...w.clauses], params: [...w.params] };
    if (q.after !== undefined) {
      const a = decodeAfter(q.after);
      if (!a) throw new SearchCursorError(`after '${q.after}' is not a page cursor this store gave out`);
      w.clauses.push('(i.created_ms < ? OR (i.created_ms = ? AND i.seq < ?))');
      w.params.push(a.createdMs, a.createdMs, a.seq);
    }
    const rows = this.stmt(`SELECT i.seq, i.tenant_id, i.user_id, i.id, i.created_ms, i.created_date_time, i.app_class, i.interaction_type, i.session_id, i.request_id, i.json
      FROM interactions i ${whereSql(w)} ORDER BY i.created_ms DESC, i.seq DESC LIMIT ?`).all(...w.params, q.limit + 1) as Row[];
    const more = rows.length > q.limit;
    if (more) rows.pop();
    const words = q.text ? queryWords(q.text) : [];
    const hits: SearchHit[] = rows.map((r) => ({
      tenantId: r.tenant_id as string, userId: r.user_id as string, id: r.id as string, createdDateTime: r.created_date_time as string,
      appClass: (r.app_class as string | null) ?? null, interactionType: (r.interaction_type as string | null) ?? null,
      sessionId: (r.session_id as string | null) ?? null, requestId: (r.request_id as string | null) ?? null,
      snippet: snippetOf(searchText(JSON.parse(r.json as string) as AiInteraction), words),
    }));
    const last = rows[rows.length - 1];
    const counted = this.stmt(`SELECT count(*) FROM (SELECT 1 FROM interactions i ${whereSql(countW)} LIMIT ${COUNT_CAP + 1})`).pluck().get(...countW.params) as number;
    return {
      hits,
      next: more && last ? encodeAfter(last.created_ms as number, last.seq as number) : null,
      total: Math.min(counted, COUNT_CAP),
      totalCapped: counted > COUNT_CAP,
    };
  }

  facets(tenantId?: string): Facets {
    const w = filters({ tenantId });
    const where = whereSql(w);
    const tenants = this.stmt(`SELECT i.tenant_id, count(*) AS n FROM interactions i ${where} GROUP BY i.tenant_id ORDER BY n DESC`).all(...w.params) as Row[];
    const users = this.stmt(`SELECT c.tenant_id, c.user_id, c.n, u.user_principal_name, u.display_name FROM
        (SELECT i.tenant_id, i.user_id, count(*) AS n FROM interactions i ${where} GROUP BY i.tenant_id, i.user_id) c
        LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.user_id
        ORDER BY coalesce(u.user_principal_name, c.user_id)`).all(...w.params) as Row[];
    const apps = this.stmt(`SELECT coalesce(i.app_class, '') AS k, count(*) AS n FROM interactions i ${where} GROUP BY k ORDER BY n DESC`).all(...w.params) as Row[];
    const types = this.stmt(`SELECT coalesce(i.interaction_type, '') AS k, count(*) AS n FROM interactions i ${where} GROUP BY k ORDER BY n DESC`).all(...w.params) as Row[];
    const span = this.stmt(`SELECT min(i.created_ms) AS lo, max(i.created_ms) AS hi FROM interactions i ${where}`).get(...w.params) as Row;
    return {
      tenants: tenants.map((r) => ({ tenantId: r.tenant_id as string, interactions: r.n as number })),
      users: users.map((r) => ({
        tenantId: r.tenant_id as string, id: r.user_id as string, userPrincipalName: (r.user_principal_name as string | null) ?? null,
        displayName: (r.display_name as string | null) ?? null, interactions: r.n as number,
      })),
      appClasses: apps.map((r) => ({ appClass: r.k as string, interactions: r.n as number })),
      interactionTypes: types.map((r) => ({ interactionType: r.k as string, interactions: r.n as number })),
      firstDateTime: span.lo === null ? null : new Date(span.lo as number).toISOString(),
      lastDateTime: span.hi === null ? null : new Date(span.hi as number).toISOString(),
    };
  }

  usage(q: UsageQuery): Usage {
    const w = filters(q);
    const where = whereSql(w);
    const t = this.stmt(`SELECT count(*) AS n, coalesce(sum(i.interaction_type = 'userPrompt'), 0) AS prompts, coalesce(sum(i.interaction_type = 'aiResponse'), 0) AS responses,
        count(DISTINCT i.user_id) AS users FROM interactions i ${where}`).get(...w.params) as Row;
    const sessions = this.stmt(`SELECT count(*) FROM (SELECT DISTINCT i.tenant_id, i.user_id, i.session_id FROM interactions i ${where})`).pluck().get(...w.params) as number;
    const perDay = this.stmt(`SELECT i.created_ms / ${DAY_MS} AS d, count(*) AS n, coalesce(sum(i.interaction_type = 'userPrompt'), 0) AS prompts, count(DISTINCT i.user_id) AS users
        FROM interactions i ${where} GROUP BY d ORDER BY d`).all(...w.params) as Row[];
    const perApp = this.stmt(`SELECT coalesce(i.app_class, '') AS k, count(*) AS n, count(DISTINCT i.user_id) AS users FROM interactions i ${where} GROUP BY k ORDER BY n DESC`).all(...w.params) as Row[];
    const top = this.stmt(`SELECT c.tenant_id, c.user_id, c.n, c.prompts, u.user_principal_name, u.display_name FROM
        (SELECT i.tenant_id, i.user_id, count(*) AS n, coalesce(sum(i.interaction_type = 'userPrompt'), 0) AS prompts FROM interactions i ${where}
         GROUP BY i.tenant_id, i.user_id ORDER BY n DESC, i.user_id LIMIT ?) c
        LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.user_id ORDER BY c.n DESC, c.user_id`).all(...w.params, q.top) as Row[];
    return {
      totals: { interactions: t.n as number, prompts: t.prompts as number, responses: t.responses as number, users: t.users as number, sessions },
      perDay: perDay.map((r) => ({ day: new Date((r.d as number) * DAY_MS).toISOString().slice(0, 10), interactions: r.n as number, prompts: r.prompts as number, activeUsers: r.users as number })),
      perApp: perApp.map((r) => ({ appClass: r.k as string, interactions: r.n as number, users: r.users as number })),
      topUsers: top.map((r) => ({
        tenantId: r.tenant_id as string, id: r.user_id as string, userPrincipalName: (r.user_principal_name as string | null) ?? null,
        displayName: (r.display_name as string | null) ?? null, interactions: r.n as number, prompts: r.prompts as number,
      })),
    };
  }

  async conversation(tenantId: string, userId: string, sessionId: string): Promise<Conversation | null> {
    const rows = this.stmt(`SELECT tenant_id, user_id, id, created_ms, session_id, json FROM interactions
        WHERE tenant_id = ? AND user_id = ? AND session_id = ? ORDER BY created_ms, id LIMIT 5001`).all(tenantId, userId, sessionId) as Row[];
    async function* feed(): AsyncGenerator<StoredInteraction & { sessionId: string }> {
      for (const r of rows) yield { tenantId: r.tenant_id as string, userId: r.user_id as string, id: r.id as string, createdMs: r.created_ms as number, sessionId: r.session_id as string, json: r.json as string };
    }
    for await (const c of groupConversations(feed())) return c;
    return null;
  }

  interaction(tenantId: string, userId: string, id: string): AiInteraction | null {
    const json = this.stmt('SELECT json FROM interactions WHERE tenant_id = ? AND user_id = ? AND id = ?').pluck().get(tenantId, userId, id) as string | undefined;
    return json === undefined ? null : (JSON.parse(json) as AiInteraction);
  }
}
