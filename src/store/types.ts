// The store interface: what export, watch, serve and the fleet need from a place that keeps
// interactions, in the domain's words. Nothing outside src/store speaks SQL; SQLite is the
// embedded implementation, PostgreSQL (many workers) implements the same interface.
import type { AiInteraction } from '../client/models.js';

/** A user the export targets, as the directory named it. */
export interface StoredUser {
  id: string;
  userPrincipalName?: string | null;
  displayName?: string | null;
}

/**
 * Where one user's export stands, per scope (the appClass filter the run used: '' for all).
 * `watermarkMs`: every interaction created before it was read in a window that completed.
 * `window`: the window being read now (after a crash or Ctrl-C, its `nextLink` resumes it).
 */
export interface UserCursor {
  userId: string;
  scope: string;
  watermarkMs: number | null;
  window: { fromMs: number; toMs: number; nextLink: string | null; pages: number } | null;
  updatedAt: string;
}

/** One page as Graph returned it, written with the cursor that follows it, in one transaction. */
export interface PageWrite {
  tenantId: string;
  userId: string;
  scope: string;
  runId: number;
  items: AiInteraction[];
  /**
   * The cursor after this page: a window still open (with its nextLink), or a closed one (watermark moved).
   * null: items that came from elsewhere (watch's verified rich notifications) leave the cursor as it is.
   */
  cursor: { watermarkMs: number | null; window: UserCursor['window'] } | null;
}

export interface PageWriteResult {
  /** Interactions the store did not hold. */
  added: number;
  /** Interactions it held with other JSON (Graph changed them). */
  changed: number;
}

export type UserOutcomeKind = 'exported' | 'refused' | 'notFound' | 'failed' | 'interrupted' | 'skipped';

/** What happened to one user in one run; a refusal keeps Graph's code and ids for support. */
export interface UserOutcome {
  userId: string;
  userPrincipalName?: string | null;
  outcome: UserOutcomeKind;
  interactions: number;
  added: number;
  pages: number;
  status?: number;
  code?: string;
  message?: string;
  requestId?: string;
  clientRequestId?: string;
  date?: string;
  /** The doctor's verdict code, where the cause is known (license.no-copilot, user.guest, …). */
  verdict?: string;
}

export interface RunRecord {
  id: number;
  tenantId: string;
  kind: string;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'completed' | 'interrupted' | 'failed';
  options: Record<string, unknown>;
  summary: Record<string, unknown> | null;
}

export interface InteractionFilter {
  tenantId?: string;
  userIds?: string[];
  /** createdDateTime ≥ since (ms). */
  sinceMs?: number;
  /** createdDateTime < until (ms). */
  untilMs?: number;
  appClasses?: string[];
  sessionId?: string;
}

/** An interaction as stored: the raw JSON exactly as Graph sent it, plus its owner. */
export interface StoredInteraction {
  tenantId: string;
  userId: string;
  id: string;
  createdMs: number;
  /** The raw JSON text of the item. */
  json: string;
}

/** A prompt and the responses that answer it (paired by requestId). */
export interface Turn {
  requestId: string | null;
  prompt: AiInteraction | null;
  responses: AiInteraction[];
}

/** A session as a thread: its turns in time order. */
export interface Conversation {
  tenantId: string;
  userId: string;
  sessionId: string;
  startedAt: string;
  lastAt: string;
  turns: Turn[];
}

export interface StoreStats {
  users: number;
  interactions: number;
  /** Bytes the store occupies (file size, or relation size). */
  bytes: number;
}

/** A change-notification subscription copilog watch created, with the clientState it expects back. */
export interface WatchSubscription {
  tenantId: string;
  id: string;
  /** The user of a per-user subscription; null for the tenant-wide one. */
  userId: string | null;
  resource: string;
  clientState: string;
  notificationUrl: string;
  expirationMs: number;
}

/** A notification watch acknowledged: a change (an interaction id) or a lifecycle event. */
export interface QueuedNotification {
  seq: number;
  tenantId: string;
  subscriptionId: string;
  userId: string | null;
  kind: 'change' | 'lifecycle';
  lifecycleEvent: string | null;
  resourceId: string | null;
  receivedAt: string;
  attempts: number;
}

export interface Store {
  /** Where it is, for messages (a path, or a URL without its password). */
  readonly location: string;
  upsertUsers(tenantId: string, users: StoredUser[]): Promise<void>;
  /** Every cursor of a tenant in one scope, by user id. */
  cursors(tenantId: string, scope: string): Promise<Map<string, UserCursor>>;
  /** Write a page's items (idempotent upserts keyed by tenant, user and id) and its cursor, atomically. */
  upsertPage(page: PageWrite): Promise<PageWriteResult>;
  beginRun(tenantId: string, kind: string, options: Record<string, unknown>): Promise<number>;
  recordOutcome(runId: number, tenantId: string, outcome: UserOutcome): Promise<void>;
  finishRun(runId: number, status: RunRecord['status'], summary: Record<string, unknown>): Promise<void>;
  runs(tenantId?: string, limit?: number): Promise<RunRecord[]>;
  outcomes(runId: number): Promise<UserOutcome[]>;
  /** Interactions ordered by tenant, user, createdDateTime and id; streamed, never all in memory. */
  interactions(filter?: InteractionFilter): AsyncIterable<StoredInteraction>;
  /** Sessions reconstructed as threads, ordered by user then start time. */
  conversations(filter?: InteractionFilter): AsyncIterable<Conversation>;
  users(tenantId?: string): Promise<(StoredUser & { tenantId: string })[]>;
  stats(tenantId?: string): Promise<StoreStats>;
  /** watch: its subscriptions, saved before they are used and removed when deleted. */
  saveSubscription(s: WatchSubscription): Promise<void>;
  watchSubscriptions(tenantId: string): Promise<WatchSubscription[]>;
  deleteSubscription(tenantId: string, id: string): Promise<void>;
  /** watch: append acknowledged notifications in one transaction (durable before the 202). */
  enqueueNotifications(items: Omit<QueuedNotification, 'seq' | 'receivedAt' | 'attempts'>[]): Promise<void>;
  /** The oldest unprocessed notifications of a tenant. */
  pendingNotifications(tenantId: string, limit: number): Promise<QueuedNotification[]>;
  /** Mark notifications processed (done) or count a failed attempt (retried later). */
  settleNotifications(seqs: number[], outcome: 'done' | 'failed'): Promise<void>;
  close(): Promise<void>;
}

/** A store that cannot be opened as asked: foreign, corrupt, newer, unreadable. Nothing was modified. */
export class StoreOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}
