// What copilog serve and report read from a store, beyond the Store interface: full-text search
// with filters and server-side pages, facets, usage aggregates and one conversation. Kept apart
// from Store so a store implementation can add it later (the SQLite store has it; see
// isStoreReader). The words are Graph's: appClass, interactionType, createdDateTime, sessionId.
import type { AiInteraction } from '../client/models.js';
import type { Conversation, Store } from './types.js';

export interface SearchQuery {
  /** Words to find (all of them; "a phrase" in double quotes; word* for a prefix). Empty: every interaction. */
  text?: string;
  tenantId?: string;
  userIds?: string[];
  appClasses?: string[];
  interactionTypes?: string[];
  /** createdDateTime ≥ since (ms). */
  sinceMs?: number;
  /** createdDateTime < until (ms). */
  untilMs?: number;
  /** Hits per page (1–200). */
  limit: number;
  /** The `next` of the previous page. */
  after?: string;
}

export interface SearchHit {
  tenantId: string;
  userId: string;
  id: string;
  createdDateTime: string;
  appClass: string | null;
  interactionType: string | null;
  sessionId: string | null;
  requestId: string | null;
  /** The words around the first match (or the start of the text), plain text. */
  snippet: string;
}

export interface SearchPage {
  hits: SearchHit[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
  /** Matches, counted up to COUNT_CAP. */
  total: number;
  /** True when there are more than `total`. */
  totalCapped: boolean;
}

/** Matches are counted up to this many: an exact count of a common word over millions is not worth its time. */
export const COUNT_CAP = 10_000;

export interface Facets {
  tenants: { tenantId: string; interactions: number }[];
  users: { tenantId: string; id: string; userPrincipalName: string | null; displayName: string | null; interactions: number }[];
  appClasses: { appClass: string; interactions: number }[];
  interactionTypes: { interactionType: string; interactions: number }[];
  firstDateTime: string | null;
  lastDateTime: string | null;
}

export interface UsageQuery {
  tenantId?: string;
  sinceMs?: number;
  untilMs?: number;
  appClasses?: string[];
  userIds?: string[];
  /** How many users the top list holds. */
  top: number;
}

export interface Usage {
  totals: { interactions: number; prompts: number; responses: number; users: number; sessions: number };
  /** UTC days, oldest first; activeUsers: distinct users with an interaction that day. */
  perDay: { day: string; interactions: number; prompts: number; activeUsers: number }[];
  perApp: { appClass: string; interactions: number; users: number }[];
  topUsers: { tenantId: string; id: string; userPrincipalName: string | null; displayName: string | null; interactions: number; prompts: number }[];
}

export interface StoreReader {
  search(q: SearchQuery): Promise<SearchPage>;
  facets(tenantId?: string): Promise<Facets>;
  usage(q: UsageQuery): Promise<Usage>;
  /** One session as a thread, or null when the store holds none of it. */
  conversation(tenantId: string, userId: string, sessionId: string): Promise<Conversation | null>;
  /** Interactions by id (for a hit's neighbours or a deep link). */
  interaction(tenantId: string, userId: string, id: string): Promise<AiInteraction | null>;
}

export function isStoreReader(s: Store): s is Store & StoreReader {
  const r = s as Partial<StoreReader>;
  return typeof r.search === 'function' && typeof r.facets === 'function' && typeof r.usage === 'function' && typeof r.conversation === 'function';
}

/** A query's words as an FTS5 expression: every term quoted (no operator or column syntax leaks through), all required. */
export function ftsQuery(text: string): string | null {
  const terms: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m; (m = re.exec(text)); ) {
    if (m[1] !== undefined) {
      const phrase = m[1].trim();
      if (phrase) terms.push(`"${phrase.replace(/"/g, '""')}"`);
      continue;
    }
    let word = m[2]!;
    const prefix = word.length > 1 && word.endsWith('*');
    if (prefix) word = word.slice(0, -1);
    // Drop punctuation the tokenizer would drop anyway; a term of punctuation alone matches nothing useful.
    if (!/[\p{L}\p{N}]/u.test(word)) continue;
    terms.push(`"${word.replace(/"/g, '""')}"${prefix ? '*' : ''}`);
  }
  return terms.length ? terms.join(' AND ') : null;
}

/** The plain words of a query, lower case, for finding a snippet. */
export function queryWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

/** About `width` characters of `text` around the first query word found (or its start). */
export function snippetOf(text: string, words: string[], width = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const lower = flat.toLowerCase();
  let at = -1;
  for (const w of words) {
    const i = lower.indexOf(w);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  if (at < 0 || flat.length <= width) return flat.length <= width ? flat : `${flat.slice(0, width)}…`;
  const start = Math.max(0, at - Math.floor(width / 3));
  const end = Math.min(flat.length, start + width);
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}

/** A page cursor: the last hit's createdDateTime (ms) and row key, opaque to callers. */
export function encodeAfter(createdMs: number, seq: number): string {
  return `${createdMs.toString(36)}.${seq.toString(36)}`;
}

export function decodeAfter(after: string): { createdMs: number; seq: number } | null {
  const m = /^(-?[0-9a-z]{1,12})\.([0-9a-z]{1,12})$/.exec(after);
  if (!m) return null;
  const createdMs = parseInt(m[1]!, 36);
  const seq = parseInt(m[2]!, 36);
  return Number.isSafeInteger(createdMs) && Number.isSafeInteger(seq) ? { createdMs, seq } : null;
}
