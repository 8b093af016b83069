// The emulator's interaction store: SQLite (better-sqlite3), one row per (tenant, user, id) holding
// the v1.0 aiInteraction JSON. Users are materialised lazily from a generation plan the first time
// they are asked for, and remembered, so a big tenant is never generated up front and a file store
// survives restarts without regenerating.
//
// Order everywhere is (created_ms, id) with id compared as TEXT (binary), the same order the
// keyset predicate `(created_ms, id) > (?, ?)` walks, so paging never skips or repeats a row.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Rng } from './prng.js';
import { botNameFor, conversationTypeFor, defaultContent, generateHistory, generateInteractions } from './generator.js';
import {
  AI_INTERACTION_PROPERTIES, COPILOT_BOT_ID, INTERACTION_TYPES, appClassOf, isoMs,
  type AiInteraction, type AiInteractionAttachment, type AiInteractionContext, type AiInteractionLink,
  type AiInteractionMention, type AiInteractionType, type ChatMessageFromIdentitySet, type ItemBody,
  type TeamworkApplicationIdentity, type TeamworkUserIdentity,
} from './model.js';

/** Bad input to the store; `field` names the offending field (e.g. `interactions[2].interactionType`). */
export class StoreInputError extends Error {
  override readonly name = 'StoreInputError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export interface UserPlan {
  seed: string;
  count: number;
  start: Date;
  /** Exclusive. */
  end: Date;
  locale?: string;
}

export interface PageCursor {
  createdMs: number;
  id: string;
}

export interface PageQuery {
  /** Newest first (graph-facts §12 #16 sortOrder: descending); the keyset then runs backwards. */
  descending?: boolean;
  fromMs?: number;
  /** `ge` instead of `gt`. */
  fromInclusive?: boolean;
  toMs?: number;
  /** `le` instead of `lt`. */
  toInclusive?: boolean;
  /** Exact appClass values, matched case-insensitively. Undefined or empty: no appClass filter. */
  appClasses?: readonly string[];
  /** Return items strictly after this (createdDateTime, id) key. */
  after?: PageCursor;
  limit: number;
}

export type IngestInput = readonly Partial<AiInteraction>[] | { count: number; seed: string };

type Statement = Database.Statement<unknown[], unknown>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS interactions (
  tenant_id  TEXT    NOT NULL,
  user_id    TEXT    NOT NULL,
  id         TEXT    NOT NULL,
  created_ms INTEGER NOT NULL,
  app_class  TEXT    NOT NULL,
  json       TEXT    NOT NULL,
  PRIMARY KEY (tenant_id, user_id, id)
);
-- Keyset paging and streaming: (tenant, user, created_ms, id); app_class rides along so the
-- appClass filter is evaluated in the index before any row is read.
CREATE INDEX IF NOT EXISTS interactions_by_time ON interactions (tenant_id, user_id, created_ms, id, app_class);
CREATE TABLE IF NOT EXISTS materialised_users (
  tenant_id       TEXT    NOT NULL,
  user_id         TEXT    NOT NULL,
  seed            TEXT    NOT NULL,
  planned         INTEGER NOT NULL,
  start_ms        INTEGER NOT NULL,
  end_ms          INTEGER NOT NULL,
  locale          TEXT,
  materialised_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
) WITHOUT ROWID;
`;

const STREAM_CHUNK = 500;
/** The most rows one page() call returns. */
export const MAX_PAGE = 10_000;

/** An item as the store keeps it: its v1.0 JSON and the keys pages are ordered by. */
export interface StoredJson { json: string; createdMs: number; id: string }
const MAX_INGEST = 100_000;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
const PRINTABLE_ID = /^[\x21-\x7e]{1,128}$/;
const ITEM_KEYS = new Set<string>(AI_INTERACTION_PROPERTIES);

export class InteractionStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly pageStatements = new Map<string, Statement>();
  private readonly s: {
    insert: Statement;
    insertOrIgnore: Statement;
    idTaken: Statement;
    maxCreated: Statement;
    isMaterialised: Statement;
    planOf: Statement;
    markMaterialised: Statement;
    countTenant: Statement;
    countUser: Statement;
    streamTenantFirst: Statement;
    streamTenantNext: Statement;
    streamUserFirst: Statement;
    streamUserNext: Statement;
  };

  /** `path` is a SQLite file (created with its directory; WAL mode) or `:memory:`. */
  constructor(path: string) {
    this.path = path;
    const memory = path === ':memory:' || path === '';
    if (!memory) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    if (!memory) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
    }
    this.db.exec(SCHEMA);
    const p = (sql: string): Statement => this.db.prepare(sql);
    const cols = 'user_id, created_ms, id, json';
    this.s = {
      insert: p('INSERT INTO interactions (tenant_id, user_id, id, created_ms, app_class, json) VALUES (?, ?, ?, ?, ?, ?)'),
      insertOrIgnore: p('INSERT OR IGNORE INTO interactions (tenant_id, user_id, id, created_ms, app_class, json) VALUES (?, ?, ?, ?, ?, ?)'),
      idTaken: p('SELECT 1 FROM interactions WHERE tenant_id = ? AND user_id = ? AND id = ?').pluck(),
      maxCreated: p('SELECT max(created_ms) FROM interactions WHERE tenant_id = ? AND user_id = ?').pluck(),
      isMaterialised: p('SELECT 1 FROM materialised_users WHERE tenant_id = ? AND user_id = ?').pluck(),
      planOf: p('SELECT seed, locale FROM materialised_users WHERE tenant_id = ? AND user_id = ?'),
      markMaterialised: p(`INSERT INTO materialised_users (tenant_id, user_id, seed, planned, start_ms, end_ms, locale, materialised_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      countTenant: p('SELECT count(*) FROM interactions WHERE tenant_id = ?').pluck(),
      countUser: p('SELECT count(*) FROM interactions WHERE tenant_id = ? AND user_id = ?').pluck(),
      streamTenantFirst: p(`SELECT ${cols} FROM interactions WHERE tenant_id = ?
        ORDER BY user_id, created_ms, id LIMIT ${STREAM_CHUNK}`).raw(),
      streamTenantNext: p(`SELECT ${cols} FROM interactions WHERE tenant_id = ? AND (user_id, created_ms, id) > (?, ?, ?)
        ORDER BY user_id, created_ms, id LIMIT ${STREAM_CHUNK}`).raw(),
      streamUserFirst: p(`SELECT ${cols} FROM interactions WHERE tenant_id = ? AND user_id = ?
        ORDER BY created_ms, id LIMIT ${STREAM_CHUNK}`).raw(),
      streamUserNext: p(`SELECT ${cols} FROM interactions WHERE tenant_id = ? AND user_id = ? AND (created_ms, id) > (?, ?)
        ORDER BY created_ms, id LIMIT ${STREAM_CHUNK}`).raw(),
    };
  }

  /** Whether the user's history has been generated (by ensureUser) in this store. */
  isMaterialised(tenantId: string, userId: string): boolean {
    return this.s.isMaterialised.get(tenantId, userId) !== undefined;
  }

  /**
   * Generate and store the user's history from `plan`, once: returns true if it did so now, false
   * if the user was already materialised (the plan is then ignored, even after a restart).
   * Items ingested before materialisation are kept; a generated item with the same id is dropped.
   */
  ensureUser(tenantId: string, userId: string, plan: UserPlan): boolean {
    if (this.isMaterialised(tenantId, userId)) return false;
    let items: AiInteraction[];
    try {
      items = generateHistory({
        seed: plan.seed, tenantId, userId, count: plan.count, start: plan.start, end: plan.end, locale: plan.locale,
      });
    } catch (e) {
      throw new StoreInputError('plan', `plan: ${(e as Error).message}`);
    }
    const run = this.db.transaction((): boolean => {
      if (this.isMaterialised(tenantId, userId)) return false;
      const ins = this.s.insertOrIgnore;
      for (const it of items) ins.run(tenantId, userId, it.id, Date.parse(it.createdDateTime), it.appClass, JSON.stringify(it));
      this.s.markMaterialised.run(tenantId, userId, plan.seed, plan.count, plan.start.getTime(), plan.end.getTime(),
        plan.locale ?? null, Date.now());
      return true;
    });
    return run.immediate();
  }

  /** One page in (createdDateTime, id) order, strictly after `q.after` if given. */
  page(tenantId: string, userId: string, q: PageQuery): AiInteraction[] {
    return this.pageJson(tenantId, userId, q).map((row) => JSON.parse(row.json) as AiInteraction);
  }

  /**
   * The same page as stored JSON text: the Graph handler splices these into its response as they
   * are, since parsing and serialising every item again was most of the emulator's CPU per page.
   */
  pageJson(tenantId: string, userId: string, q: PageQuery): StoredJson[] {
    const { key, sql, params } = pageQuery(tenantId, userId, q);
    let stmt = this.pageStatements.get(key);
    if (!stmt) {
      stmt = this.db.prepare(sql).raw();
      this.pageStatements.set(key, stmt);
    }
    return (stmt.all(...params) as [string, number, string][]).map(([json, createdMs, id]) => ({ json, createdMs, id }));
  }

  /** SQLite's plan for a page query (tests and diagnostics). */
  explainPage(tenantId: string, userId: string, q: PageQuery): string[] {
    const { sql, params } = pageQuery(tenantId, userId, q);
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
  }

  /**
   * Add interactions to a user's history and return them as stored.
   * - Explicit items: missing fields get realistic defaults (createdDateTime = now, id = etag = its
   *   epoch ms, bumped by 1 ms while taken; prompts from the user, responses from the Copilot bot;
   *   one new session per call; a response without requestId joins the latest prompt of its session
   *   in the batch). Given fields are validated (StoreInputError naming the field); nothing is
   *   stored if any item is invalid.
   * - `{ count, seed }`: generated items stamped at/just before `now`, ids strictly increasing and
   *   greater than every existing createdDateTime of the user.
   */
  ingest(tenantId: string, userId: string, items: IngestInput, now: Date): AiInteraction[] {
    const nowMs = now instanceof Date ? now.getTime() : NaN;
    if (!Number.isFinite(nowMs)) throw new StoreInputError('now', 'now must be a valid Date');
    if (!Array.isArray(items)) return this.ingestGenerated(tenantId, userId, items as { count: number; seed: string }, now);

    const rng = Rng.of('ingest-defaults', tenantId, userId, nowMs, this.countUserRaw(tenantId, userId));
    const batchSession = `19:${rng.hex(32)}@thread.v2`;
    const plan = this.s.planOf.get(tenantId, userId) as { seed: string; locale: string | null } | undefined;
    const ctx: Ctx = { tenantId, userId, nowMs, rng, batchSession, seed: plan?.seed ?? '', locale: plan?.locale ?? 'en-us' };
    const prepared = items.map((raw, i) => normalise(raw, `interactions[${i}]`, ctx));
    // Pair responses without a requestId with the latest prompt of their session in this batch.
    const lastPrompt = new Map<string, string | null>();
    for (const p of prepared) {
      const it = p.item;
      if (p.requestIdGiven) {
        if (it.interactionType === 'userPrompt') lastPrompt.set(it.sessionId, it.requestId);
        continue;
      }
      if (it.interactionType === 'userPrompt') {
        it.requestId = rng.guid();
        lastPrompt.set(it.sessionId, it.requestId);
      } else {
        it.requestId = lastPrompt.get(it.sessionId) ?? rng.guid();
      }
    }
    const run = this.db.transaction((): AiInteraction[] => {
      const batch = new Set<string>();
      const taken = (id: string): boolean => batch.has(id) || this.s.idTaken.get(tenantId, userId, id) !== undefined;
      // Ids in one pass: `next` skips over milliseconds already probed and taken (with path
      // compression), so N items stamped with the same time cost O(N), not N²/2 probes.
      const next = new Map<number, number>();
      const freeFrom = (start: number): number => {
        const seen: number[] = [];
        let ms = start;
        for (;;) {
          const jump = next.get(ms);
          if (jump !== undefined) {
            seen.push(ms);
            ms = jump;
          } else if (taken(String(ms))) {
            seen.push(ms);
            ms++;
          } else break;
        }
        for (const m of seen) next.set(m, ms);
        return ms;
      };
      for (const p of prepared) {
        const it = p.item;
        let ms = p.ms;
        if (p.explicitId !== undefined) {
          if (taken(p.explicitId)) throw new StoreInputError(`${p.path}.id`, `${p.path}.id '${p.explicitId}' already exists for this user`);
          it.id = p.explicitId;
        } else {
          ms = freeFrom(ms);
          it.id = String(ms);
          next.set(ms, ms + 1);
        }
        it.createdDateTime = isoMs(ms);
        if (!p.etagGiven) it.etag = it.id;
        batch.add(it.id);
        this.s.insert.run(tenantId, userId, it.id, ms, it.appClass, JSON.stringify(it));
      }
      return prepared.map((p) => p.item);
    });
    return run.immediate();
  }

  private ingestGenerated(tenantId: string, userId: string, spec: { count: number; seed: string }, now: Date): AiInteraction[] {
    if (spec === null || typeof spec !== 'object') throw new StoreInputError('interactions', 'interactions must be an array or { count, seed }');
    if (!Number.isSafeInteger(spec.count) || spec.count < 1 || spec.count > MAX_INGEST) {
      throw new StoreInputError('count', `count must be an integer from 1 to ${MAX_INGEST}`);
    }
    if (typeof spec.seed !== 'string') throw new StoreInputError('seed', 'seed must be a string');
    const run = this.db.transaction((): AiInteraction[] => {
      const max = this.s.maxCreated.get(tenantId, userId) as number | null;
      const plan = this.s.planOf.get(tenantId, userId) as { seed: string; locale: string | null } | undefined;
      const items = generateInteractions({
        seed: spec.seed, tenantId, userId, count: spec.count, now, afterMs: max ?? undefined, locale: plan?.locale ?? undefined,
      });
      let prev = max ?? -Infinity;
      for (const it of items) {
        let ms = Math.max(Date.parse(it.createdDateTime), prev + 1);
        // An explicitly ingested item may hold a numeric id unrelated to its own time.
        while (this.s.idTaken.get(tenantId, userId, String(ms)) !== undefined) ms++;
        prev = ms;
        it.id = it.etag = String(ms);
        it.createdDateTime = isoMs(ms);
        this.s.insert.run(tenantId, userId, it.id, ms, it.appClass, JSON.stringify(it));
      }
      return items;
    });
    return run.immediate();
  }

  /**
   * Every interaction of the tenant (or of one user) in (user_id, createdDateTime, id) order. Reads
   * in keyset chunks of 500, so memory stays flat and the connection is free between chunks (other
   * statements, including writes, may run while a consumer is mid-stream; rows written after the
   * cursor are seen, rows before it are not).
   */
  *stream(tenantId: string, userId?: string): Generator<{ userId: string; interaction: AiInteraction }> {
    let rows = (userId === undefined
      ? this.s.streamTenantFirst.all(tenantId)
      : this.s.streamUserFirst.all(tenantId, userId)) as [string, number, string, string][];
    while (rows.length > 0) {
      for (const [u, , , json] of rows) yield { userId: u, interaction: JSON.parse(json) as AiInteraction };
      if (rows.length < STREAM_CHUNK) return;
      const [u, ms, id] = rows[rows.length - 1]!;
      rows = (userId === undefined
        ? this.s.streamTenantNext.all(tenantId, u, ms, id)
        : this.s.streamUserNext.all(tenantId, userId, ms, id)) as [string, number, string, string][];
    }
  }

  count(tenantId: string, userId?: string): number {
    return userId === undefined ? this.s.countTenant.get(tenantId) as number : this.countUserRaw(tenantId, userId);
  }

  private countUserRaw(tenantId: string, userId: string): number {
    return this.s.countUser.get(tenantId, userId) as number;
  }

  /** Forget a tenant's interactions and materialisations (or everything); users regenerate lazily. */
  reset(tenantId?: string): void {
    this.db.transaction(() => {
      if (tenantId === undefined) {
        this.db.prepare('DELETE FROM interactions').run();
        this.db.prepare('DELETE FROM materialised_users').run();
      } else {
        this.db.prepare('DELETE FROM interactions WHERE tenant_id = ?').run(tenantId);
        this.db.prepare('DELETE FROM materialised_users WHERE tenant_id = ?').run(tenantId);
      }
    }).immediate();
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function pageQuery(tenantId: string, userId: string, q: PageQuery): { key: string; sql: string; params: unknown[] } {
  if (q === null || typeof q !== 'object') throw new StoreInputError('query', 'query must be an object');
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > MAX_PAGE) {
    throw new StoreInputError('limit', `limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  const params: unknown[] = [tenantId, userId];
  let sql = 'SELECT json, created_ms, id FROM interactions WHERE tenant_id = ? AND user_id = ?';
  let key = '';
  if (q.after !== undefined) {
    if (q.after === null || !Number.isSafeInteger(q.after.createdMs) || typeof q.after.id !== 'string') {
      throw new StoreInputError('after', 'after must be { createdMs: integer, id: string }');
    }
    sql += q.descending ? ' AND (created_ms, id) < (?, ?)' : ' AND (created_ms, id) > (?, ?)';
    params.push(q.after.createdMs, q.after.id);
    key += 'a';
  }
  if (q.fromMs !== undefined) {
    if (!Number.isFinite(q.fromMs)) throw new StoreInputError('fromMs', 'fromMs must be a finite number');
    sql += q.fromInclusive ? ' AND created_ms >= ?' : ' AND created_ms > ?';
    params.push(q.fromMs);
    key += q.fromInclusive ? 'F' : 'f';
  }
  if (q.toMs !== undefined) {
    if (!Number.isFinite(q.toMs)) throw new StoreInputError('toMs', 'toMs must be a finite number');
    sql += q.toInclusive ? ' AND created_ms <= ?' : ' AND created_ms < ?';
    params.push(q.toMs);
    key += q.toInclusive ? 'T' : 't';
  }
  if (q.appClasses !== undefined && q.appClasses.length > 0) {
    const classes = [...new Set(q.appClasses.map((c) => {
      if (typeof c !== 'string') throw new StoreInputError('appClasses', 'appClasses must be strings');
      return c.toLowerCase();
    }))];
    sql += ` AND app_class COLLATE NOCASE IN (${classes.map(() => '?').join(', ')})`;
    params.push(...classes);
    key += `c${classes.length}`;
  }
  sql += q.descending ? ' ORDER BY created_ms DESC, id DESC LIMIT ?' : ' ORDER BY created_ms, id LIMIT ?';
  if (q.descending) key += 'D';
  params.push(q.limit);
  return { key, sql, params };
}

// ---------------------------------------------------------------------------------------------
// Validation and defaults of explicitly ingested items

interface Prepared {
  path: string;
  item: AiInteraction;
  ms: number;
  explicitId?: string;
  etagGiven: boolean;
  requestIdGiven: boolean;
}

interface Ctx { tenantId: string; userId: string; nowMs: number; rng: Rng; batchSession: string; seed: string; locale: string }

const bad = (field: string, problem: string): never => {
  throw new StoreInputError(field, `${field} ${problem}`);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[], typeName: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) bad(`${path}.${k}`, `is not a property of ${typeName}`);
}

function str(v: unknown, path: string, fallback: string, nonEmpty = false): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || (nonEmpty && v === '')) bad(path, nonEmpty ? 'must be a non-empty string' : 'must be a string');
  return v as string;
}

function strOrNull(v: unknown, path: string, fallback: string | null): string | null {
  if (v === undefined) return fallback;
  if (v !== null && typeof v !== 'string') bad(path, 'must be a string or null');
  return v as string | null;
}

function list<T>(v: unknown, path: string, each: (x: unknown, p: string, i: number) => T): T[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) bad(path, 'must be an array');
  return (v as unknown[]).map((x, i) => each(x, `${path}[${i}]`, i));
}

function object(v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) bad(path, 'must be an object');
  return v as Record<string, unknown>;
}

function normalise(raw: unknown, path: string, ctx: Ctx): Prepared {
  const r = object(raw, path);
  for (const k of Object.keys(r)) if (!ITEM_KEYS.has(k)) bad(`${path}.${k}`, 'is not a property of aiInteraction');

  let interactionType: AiInteractionType = 'userPrompt';
  if (r.interactionType !== undefined) {
    if (!INTERACTION_TYPES.includes(r.interactionType as AiInteractionType)) bad(`${path}.interactionType`, "must be 'userPrompt' or 'aiResponse'");
    interactionType = r.interactionType as AiInteractionType;
  }
  let ms = ctx.nowMs;
  if (r.createdDateTime !== undefined) {
    const v = r.createdDateTime;
    const parsed = typeof v === 'string' && ISO_DATE_TIME.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(parsed)) bad(`${path}.createdDateTime`, 'must be an ISO 8601 date-time with a time zone, e.g. 2026-01-01T10:00:00.000Z');
    ms = parsed;
  }
  let explicitId: string | undefined;
  if (r.id !== undefined) {
    if (typeof r.id !== 'string' || !PRINTABLE_ID.test(r.id)) bad(`${path}.id`, 'must be a string of 1 to 128 printable ASCII characters');
    explicitId = r.id as string;
  }
  const etag = str(r.etag, `${path}.etag`, '');
  const appClass = appClassOf(str(r.appClass, `${path}.appClass`, 'BizChat', true));
  const sessionId = str(r.sessionId, `${path}.sessionId`, ctx.batchSession, true);
  const requestId = strOrNull(r.requestId, `${path}.requestId`, null);
  const conversationType = strOrNull(r.conversationType, `${path}.conversationType`, conversationTypeFor(appClass));
  const locale = str(r.locale, `${path}.locale`, ctx.locale, true);

  let body: ItemBody | undefined;
  if (r.body !== undefined) {
    const b = object(r.body, `${path}.body`);
    onlyKeys(b, `${path}.body`, ['contentType', 'content'], 'itemBody');
    if (b.contentType !== undefined && b.contentType !== 'text' && b.contentType !== 'html') bad(`${path}.body.contentType`, "must be 'text' or 'html'");
    body = { contentType: (b.contentType as 'text' | 'html' | undefined) ?? 'text', content: str(b.content, `${path}.body.content`, '') };
  }
  let attachments = list(r.attachments, `${path}.attachments`, (x, p): AiInteractionAttachment => {
    const a = object(x, p);
    onlyKeys(a, p, ['attachmentId', 'content', 'contentType', 'contentUrl', 'name'], 'aiInteractionAttachment');
    if (typeof a.contentType !== 'string' || a.contentType === '') bad(`${p}.contentType`, 'must be a non-empty string');
    return {
      attachmentId: str(a.attachmentId, `${p}.attachmentId`, ctx.rng.guid()),
      content: strOrNull(a.content, `${p}.content`, null),
      contentType: a.contentType as string,
      contentUrl: strOrNull(a.contentUrl, `${p}.contentUrl`, null),
      name: strOrNull(a.name, `${p}.name`, null),
    };
  });
  const links = list(r.links, `${path}.links`, (x, p): AiInteractionLink => {
    const l = object(x, p);
    onlyKeys(l, p, ['displayName', 'linkType', 'linkUrl'], 'aiInteractionLink');
    if (typeof l.linkUrl !== 'string' || l.linkUrl === '') bad(`${p}.linkUrl`, 'must be a non-empty string');
    return { displayName: str(l.displayName, `${p}.displayName`, ''), linkType: str(l.linkType, `${p}.linkType`, 'File'), linkUrl: l.linkUrl as string };
  }) ?? [];
  const mentions = list(r.mentions, `${path}.mentions`, (x, p, i): AiInteractionMention => {
    const m = object(x, p);
    onlyKeys(m, p, ['mentionId', 'mentionText', 'mentioned'], 'aiInteractionMention');
    if (m.mentionId !== undefined && !(Number.isInteger(m.mentionId) && (m.mentionId as number) >= -(2 ** 31) && (m.mentionId as number) < 2 ** 31)) {
      bad(`${p}.mentionId`, 'must be a 32-bit integer');
    }
    let user: TeamworkUserIdentity | null = null;
    if (m.mentioned !== undefined) {
      const who = object(m.mentioned, `${p}.mentioned`);
      onlyKeys(who, `${p}.mentioned`, ['@odata.type', 'user', 'application', 'device', 'conversation', 'tag'], 'aiInteractionMentionedIdentitySet');
      for (const k of ['application', 'device', 'conversation', 'tag']) {
        if (who[k] !== undefined && who[k] !== null) bad(`${p}.mentioned.${k}`, 'must be null (only user mentions are supported)');
      }
      if (who.user !== undefined && who.user !== null) user = identityUser(who.user, `${p}.mentioned.user`, ctx, false);
    }
    const mentionText = str(m.mentionText, `${p}.mentionText`, user?.displayName ?? '');
    return {
      mentionId: (m.mentionId as number | undefined) ?? i,
      mentionText,
      mentioned: { '@odata.type': '#microsoft.graph.aiInteractionMentionedIdentitySet', user, application: null, device: null, conversation: null, tag: null },
    };
  }) ?? [];
  const contexts = list(r.contexts, `${path}.contexts`, (x, p): AiInteractionContext => {
    const c = object(x, p);
    onlyKeys(c, p, ['contextReference', 'contextType', 'displayName'], 'aiInteractionContext');
    if (typeof c.contextType !== 'string' || c.contextType === '') bad(`${p}.contextType`, 'must be a non-empty string');
    return {
      contextReference: str(c.contextReference, `${p}.contextReference`, ''),
      contextType: c.contextType as string,
      displayName: str(c.displayName, `${p}.displayName`, ''),
    };
  }) ?? [];
  const from = r.from === undefined ? defaultFrom(interactionType, appClass, ctx) : fromIdentity(r.from, `${path}.from`, interactionType, appClass, ctx);

  if (body === undefined) {
    const d = defaultContent(ctx.rng, ctx.seed, ctx.tenantId, appClass, interactionType);
    body = d.body;
    attachments ??= d.attachments;
  }
  const item: AiInteraction = {
    id: '', sessionId, requestId, appClass, interactionType, conversationType, etag, createdDateTime: '', locale, body,
    attachments: attachments ?? [], links, mentions, contexts, from,
  };
  return { path, item, ms, explicitId, etagGiven: r.etag !== undefined, requestIdGiven: r.requestId !== undefined };
}

function identityUser(v: unknown, path: string, ctx: Ctx, defaultToCaller: boolean): TeamworkUserIdentity {
  const u = object(v, path);
  onlyKeys(u, path, ['@odata.type', 'id', 'displayName', 'userIdentityType', 'tenantId'], 'teamworkUserIdentity');
  if (u['@odata.type'] !== undefined && u['@odata.type'] !== '#microsoft.graph.teamworkUserIdentity') {
    bad(`${path}.@odata.type`, "must be '#microsoft.graph.teamworkUserIdentity'");
  }
  if (u.userIdentityType !== undefined && u.userIdentityType !== 'aadUser') bad(`${path}.userIdentityType`, "must be 'aadUser'");
  if (!defaultToCaller && u.id === undefined) bad(`${path}.id`, 'must be a non-empty string');
  const id = str(u.id, `${path}.id`, ctx.userId, true);
  return {
    '@odata.type': '#microsoft.graph.teamworkUserIdentity',
    id,
    displayName: str(u.displayName, `${path}.displayName`, `8:orgid:${id}`),
    userIdentityType: 'aadUser',
    tenantId: str(u.tenantId, `${path}.tenantId`, ctx.tenantId, true),
  };
}

function defaultFrom(type: AiInteractionType, appClass: string, ctx: Ctx): ChatMessageFromIdentitySet {
  return {
    '@odata.type': '#microsoft.graph.chatMessageFromIdentitySet',
    application: type === 'aiResponse' ? botApp({}, appClass) : null,
    device: null,
    user: type === 'userPrompt'
      ? { '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: ctx.userId, displayName: `8:orgid:${ctx.userId}`, userIdentityType: 'aadUser', tenantId: ctx.tenantId }
      : null,
  };
}

function botApp(a: Record<string, unknown>, appClass: string): TeamworkApplicationIdentity {
  return {
    '@odata.type': '#microsoft.graph.teamworkApplicationIdentity',
    id: (a.id as string | undefined) ?? COPILOT_BOT_ID,
    displayName: (a.displayName as string | undefined) ?? botNameFor(appClass),
    applicationIdentityType: 'bot',
  };
}

function fromIdentity(v: unknown, path: string, type: AiInteractionType, appClass: string, ctx: Ctx): ChatMessageFromIdentitySet {
  const f = object(v, path);
  onlyKeys(f, path, ['@odata.type', 'application', 'device', 'user'], 'chatMessageFromIdentitySet');
  if (f['@odata.type'] !== undefined && f['@odata.type'] !== '#microsoft.graph.chatMessageFromIdentitySet') {
    bad(`${path}.@odata.type`, "must be '#microsoft.graph.chatMessageFromIdentitySet'");
  }
  if (f.device !== undefined && f.device !== null) bad(`${path}.device`, 'must be null');
  if (f.user === undefined && f.application === undefined) return defaultFrom(type, appClass, ctx);
  let application: TeamworkApplicationIdentity | null = null;
  if (f.application !== undefined && f.application !== null) {
    const a = object(f.application, `${path}.application`);
    onlyKeys(a, `${path}.application`, ['@odata.type', 'id', 'displayName', 'applicationIdentityType'], 'teamworkApplicationIdentity');
    if (a['@odata.type'] !== undefined && a['@odata.type'] !== '#microsoft.graph.teamworkApplicationIdentity') {
      bad(`${path}.application.@odata.type`, "must be '#microsoft.graph.teamworkApplicationIdentity'");
    }
    str(a.id, `${path}.application.id`, '', true);
    str(a.displayName, `${path}.application.displayName`, '');
    if (a.applicationIdentityType !== undefined && a.applicationIdentityType !== 'bot') bad(`${path}.application.applicationIdentityType`, "must be 'bot'");
    application = botApp(a, appClass);
  }
  const user = f.user !== undefined && f.user !== null ? identityUser(f.user, `${path}.user`, ctx, true) : null;
  if (user === null && application === null) bad(path, 'must have a user or an application');
  return { '@odata.type': '#microsoft.graph.chatMessageFromIdentitySet', application, device: null, user };
}
