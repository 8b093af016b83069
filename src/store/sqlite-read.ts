// StoreReader over the SQLite store (schema v2): FTS5 for words, the time indexes for newest-first
// keyset pages, GROUP BY for the dashboard. Every value reaches SQL as a bound parameter.
import type Database from 'better-sqlite3';
import type { AiInteraction } from '../client/models.js';
import { groupConversations } from './conversations.js';
import {
  COUNT_CAP, decodeAfter, encodeAfter, ftsQuery, queryWords, snippetOf,
  type Facets, type SearchHit, type SearchPage, type SearchQuery, type Usage, type UsageQuery,
} from './read.js';
import { appTag, blockOf, blockTag, coverTags, DAY_MS, dayOf, tenantTag, TIME_LEVELS, typeTag, userTag } from './tags.js';
import { searchText } from './text.js';
import { StoreOpenError, type Conversation, type StoredInteraction } from './types.js';

type Row = Record<string, unknown>;
/** The store schema whose search index this reader asks (v4: text and tags columns). */
const SEARCH_SCHEMA = 4;
/** Up to this many matches are sorted by time at once; more are searched a time block at a time (see searchIndex). */
const COLLECT_MAX = 2_000;
const KEYSET = '(i.created_ms < ? OR (i.created_ms = ? AND i.seq < ?))';

interface Key { seq: number; created_ms: number }

/** Any of these tags (src/store/tags.ts), as an FTS5 expression on the tags column. */
const tags = (values: string[]): string => `{tags} : (${values.map((v) => `"${v}"`).join(' OR ')})`;
interface Found { keys: Key[]; counted: number }

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

/** Statements prepared on first use and kept (bounded: some SQL is built per query shape). */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (cache.size > 200) cache.clear();
      cache.set(sql, s);
    }
    return s;
  };
}

export class SqliteReader {
  /** collectMax: see COLLECT_MAX (tests lower it to walk time blocks on a small store). */
  constructor(private readonly db: Database.Database, private readonly o: { collectMax?: number } = {}) {
    this.stmt = statementCache(db);
  }

  /** A store before v4 opened read-only has no (or an older) search index: say what to do rather than fail in SQL. */
  private requireVersion(): void {
    const v = this.db.pragma('user_version', { simple: true }) as number;
    if (v < SEARCH_SCHEMA) throw new StoreOpenError(`the store ${this.db.name} is at schema ${v}; open it once for writing (copilog serve does) to build its search index`);
  }

  private readonly stmt: (sql: string) => Database.Statement;

  search(q: SearchQuery): SearchPage {
    this.requireVersion();
    const text = q.text ? ftsQuery(q.text) : null;
    // Words made only of punctuation: nothing can match them.
    if (!text && q.text && q.text.trim()) return { hits: [], next: null, total: 0, totalCapped: false };
    let after: { createdMs: number; seq: number } | undefined;
    if (q.after !== undefined) {
      const a = decodeAfter(q.after);
      if (!a) throw new SearchCursorError(`after '${q.after}' is not a page cursor this store gave out`);
      after = a;
    }
    // Words, users, apps and types narrow inside the search index; a tenant or a date range alone walks the time index.
    const indexed = text !== null || !!q.userIds?.length || !!q.appClasses?.length || !!q.interactionTypes?.length;
    const found = indexed ? this.searchIndex(q, text, after) : this.searchTime(q, after);
    const rows = this.rowsOf(found.keys.map((k) => k.seq));
    const more = found.keys.length > q.limit;
    const page = found.keys.slice(0, q.limit);
    const words = q.text ? queryWords(q.text) : [];
    const hits: SearchHit[] = page.map((k) => {
      const r = rows.get(k.seq)!;
      return {
        tenantId: r.tenant_id as string, userId: r.user_id as string, id: r.id as string, createdDateTime: r.created_date_time as string,
        appClass: (r.app_class as string | null) ?? null, interactionType: (r.interaction_type as string | null) ?? null,
        sessionId: (r.session_id as string | null) ?? null, requestId: (r.request_id as string | null) ?? null,
        snippet: snippetOf(searchText(JSON.parse(r.json as string) as AiInteraction), words),
      };
    });
    const last = page[page.length - 1];
    return {
      hits,
      next: more && last ? encodeAfter(last.created_ms, last.seq) : null,
      total: Math.min(found.counted, COUNT_CAP),
      totalCapped: found.counted > COUNT_CAP,
    };
  }

  /** The page's rows, by seq (the JSON is read for these few only). */
  private rowsOf(seqs: number[]): Map<number, Row> {
    if (!seqs.length) return new Map();
    const rows = this.stmt(`SELECT seq, tenant_id, user_id, id, created_date_time, app_class, interaction_type, session_id, request_id, json
      FROM interactions WHERE seq IN (${seqs.map(() => '?').join(',')})`).all(...seqs) as Row[];
    return new Map(rows.map((r) => [r.seq as number, r]));
  }

  /** No words and no user, app or type: newest first along the time index (a tenant and dates bound it). */
  private searchTime(q: SearchQuery, after: { createdMs: number; seq: number } | undefined): Found {
    const w = filters({ tenantId: q.tenantId, sinceMs: q.sinceMs, untilMs: q.untilMs });
    const count = this.stmt(`SELECT count(*) FROM (SELECT 1 FROM interactions i ${whereSql(w)} LIMIT ${COUNT_CAP + 1})`).pluck().get(...w.params) as number;
    if (after) {
      w.clauses.push(KEYSET);
      w.params.push(after.createdMs, after.createdMs, after.seq);
    }
    const keys = this.stmt(`SELECT i.seq, i.created_ms FROM interactions i ${whereSql(w)} ORDER BY i.created_ms DESC, i.seq DESC LIMIT ?`).all(...w.params, q.limit + 1) as Key[];
    return { keys, counted: count };
  }

  /**
   * Words and filters, answered by the search index. Its rowids follow insertion, not time, so the
   * matches must be put in time order: up to COLLECT_MAX of them are collected and sorted at once
   * (interactions_by_seq gives each one's time without reading its row); more, and the search asks
   * the index one time block at a time, newest first, until the page is full: a day of a common
   * word is a few thousand matches, where all of them would be hundreds of thousands.
   */
  private searchIndex(q: SearchQuery, text: string | null, after: { createdMs: number; seq: number } | undefined): Found {
    const groups: string[] = [];
    if (text) groups.push(`{text} : (${text})`);
    if (q.tenantId !== undefined) groups.push(tags([tenantTag(q.tenantId)]));
    if (q.userIds?.length) groups.push(tags(q.userIds.map(userTag)));
    if (q.appClasses?.length) groups.push(tags(q.appClasses.map(appTag)));
    if (q.interactionTypes?.length) groups.push(tags(q.interactionTypes.map(typeTag)));
    const base = groups.join(' AND ');
    const ranged = q.sinceMs !== undefined || q.untilMs !== undefined;
    // The store's first and last interaction, within the range: where a walk over time blocks starts and stops.
    const first = this.stmt('SELECT min(created_ms) FROM interactions').pluck().get() as number | null;
    const last = this.stmt('SELECT max(created_ms) FROM interactions').pluck().get() as number | null;
    if (first === null || last === null) return { keys: [], counted: 0 };
    const span = { lo: Math.max(first, q.sinceMs ?? first), hi: Math.min(last, q.untilMs !== undefined ? q.untilMs - 1 : last) };
    if (span.lo > span.hi) return { keys: [], counted: 0 };
    // Exact bounds in SQL; the index's day blocks only narrow (a range cuts days in two).
    const bounds: Where = { clauses: [], params: [] };
    if (q.sinceMs !== undefined) { bounds.clauses.push('i.created_ms >= ?'); bounds.params.push(q.sinceMs); }
    if (q.untilMs !== undefined) { bounds.clauses.push('i.created_ms < ?'); bounds.params.push(q.untilMs); }
    const match = ranged ? `${base} AND ${tags(coverTags(dayOf(span.lo), dayOf(span.hi)))}` : base;
    const collectMax = this.o.collectMax ?? COLLECT_MAX;
    const candidates = this.ftsCount(match, collectMax + 1);
    const paged: Where = { clauses: [...bounds.clauses], params: [...bounds.params] };
    if (after) {
      paged.clauses.push(KEYSET);
      paged.params.push(after.createdMs, after.createdMs, after.seq);
    }
    const need = q.limit + 1;
    // Counted up to the cap: the index counts without reading the table, but for the days a range cuts in two.
    const counted = ranged ? this.countRange(base, bounds, q, span)
      : candidates <= collectMax || candidates > COUNT_CAP ? candidates : this.ftsCount(match, COUNT_CAP + 1);
    if (candidates <= collectMax) return { keys: this.collect(match, paged, need), counted };
    const keys: Key[] = [];
    const top = Math.min(span.hi, after ? after.createdMs : span.hi);
    const firstDay = dayOf(span.lo);
    let day = dayOf(top);
    let widest = 0;
    let firstBlock = true;
    while (keys.length < need && day >= firstDay) {
      // The widest block (up to `widest`) that ends on `day`: blocks are aligned, so each day is asked once.
      let level = 0;
      for (const k of TIME_LEVELS) if (k <= widest && (day + 1) % 2 ** k === 0) level = k;
      const block = blockOf(level, day);
      const want = need - keys.length;
      const got = this.collect(`${base} AND ${tags([blockTag(level, block)])}`, paged, want);
      keys.push(...got);
      // A whole block that did not fill the page: fewer than `want` matches in 2^level days, so a
      // block 8 times as wide holds a few hundred at most, if they keep coming at that rate. The
      // first block is one day cut at the top (the newest interaction or the cursor): it says little.
      if (got.length < want && !firstBlock) widest = Math.min(Math.max(widest, level) + 3, TIME_LEVELS[TIME_LEVELS.length - 1]!);
      firstBlock = false;
      day = block * 2 ** level - 1;
    }
    return { keys, counted };
  }

  /** Matches within [since, until), counted up to the cap: whole days by the index alone, the (at most two) days the range cuts exactly. */
  private countRange(base: string, bounds: Where, q: SearchQuery, span: { lo: number; hi: number }): number {
    const firstWhole = q.sinceMs === undefined ? dayOf(span.lo) : Math.ceil(q.sinceMs / DAY_MS);
    const lastWhole = q.untilMs === undefined ? dayOf(span.hi) : Math.floor(q.untilMs / DAY_MS) - 1;
    let n = firstWhole <= lastWhole ? this.ftsCount(`${base} AND ${tags(coverTags(firstWhole, lastWhole))}`, COUNT_CAP + 1) : 0;
    for (const day of new Set([dayOf(span.lo), dayOf(span.hi)])) {
      if (n > COUNT_CAP) break;
      if (day < firstWhole || day > lastWhole) n += this.exactCount(`${base} AND ${tags([blockTag(0, day)])}`, bounds);
    }
    return n;
  }

  private ftsCount(match: string, cap: number): number {
    return this.stmt(`SELECT count(*) FROM (SELECT 1 FROM interaction_text WHERE interaction_text MATCH ? LIMIT ${cap})`).pluck().get(match) as number;
  }

  /** The newest `limit` matches within the bounds. */
  private collect(match: string, w: Where, limit: number): Key[] {
    return this.stmt(`SELECT i.seq, i.created_ms FROM interaction_text CROSS JOIN interactions i INDEXED BY interactions_by_seq ON i.seq = interaction_text.rowid
      WHERE interaction_text MATCH ?${w.clauses.map((c) => ` AND ${c}`).join('')} ORDER BY i.created_ms DESC, i.seq DESC LIMIT ?`).all(match, ...w.params, limit) as Key[];
  }

  private exactCount(match: string, w: Where): number {
    return this.stmt(`SELECT count(*) FROM (SELECT 1 FROM interaction_text CROSS JOIN interactions i INDEXED BY interactions_by_seq ON i.seq = interaction_text.rowid
      WHERE interaction_text MATCH ?${w.clauses.map((c) => ` AND ${c}`).join('')} LIMIT ${COUNT_CAP + 1})`).pluck().get(match, ...w.params) as number;
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

  /** Dashboards ask the same questions again and again: answers kept until the store changes. */
  private readonly usageMemo = new Map<string, Usage>();

  usage(q: UsageQuery): Usage {
    // data_version moves when another connection commits, total_changes when this one writes.
    const version = this.stmt('SELECT total_changes()').pluck().get() + ':' + String(this.db.pragma('data_version', { simple: true }));
    const key = version + JSON.stringify(q);
    const memo = this.usageMemo.get(key);
    if (memo) return memo;
    const u = this.computeUsage(q);
    if (this.usageMemo.size >= 32 || ![...this.usageMemo.keys()].every((k) => k.startsWith(version + '{'))) this.usageMemo.clear();
    this.usageMemo.set(key, u);
    return u;
  }

  private computeUsage(q: UsageQuery): Usage {
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
