// copilog watch: change notifications into the same store as export. A webhook receiver
// (fastify) answers Graph's validation handshake, checks clientState, writes each notification
// to the store's queue before acknowledging (202), and a processor reads the affected users'
// windows through the export engine (idempotent upserts). Subscriptions are created or adopted,
// renewed well before expiry, reauthorized and recreated on lifecycle events; a catch-up export
// at start, on `missed` and periodically covers anything a notification did not bring.
// With `rich`, subscriptions carry our encryption certificate: a rich payload whose batch has valid
// validationTokens is stored as Graph's data at once (rich.ts checks it); without valid tokens it is
// only a hint, and the user's window is read from Graph as for a basic notification.
// The engine prints nothing: it reports through onEvent.
import { explainRefusal } from './refusal.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { GraphRequestError } from '../client/errors.js';
import type { GraphClient } from '../client/graph.js';
import type { TokenCredentialLike } from '../client/credential.js';
import type { Transport } from '../client/transport.js';
import { runExport, type ExportSummary } from '../export/engine.js';
import { RateLimiter } from '../export/limiter.js';
import type { TargetUser } from '../export/users.js';
import type { AiInteraction } from '../client/models.js';
import type { Store, WatchSubscription } from '../store/types.js';
import { decryptContent, ValidationTokenVerifier, type EncryptionKey } from './rich.js';

export const TENANT_RESOURCE = '/copilot/interactionHistory/getAllEnterpriseInteractions';
export const userResource = (id: string): string => `/copilot/users/${id}/interactionHistory/getAllEnterpriseInteractions`;

export interface WatchOptions {
  tenantId: string;
  store: Store;
  graph: GraphClient;
  graphBaseUrl: string;
  credential: TokenCredentialLike;
  scope: string;
  transport: Transport;
  users: TargetUser[];
  tenantWide: boolean;
  /** Where Graph reaches the receiver (https://host[:port]); /notifications and /lifecycle are appended. */
  publicUrl?: string;
  listen: { host: string; port: number };
  /** Serve HTTPS with this certificate; plain HTTP otherwise (behind a TLS-terminating proxy). */
  tls?: { cert: string; key: string };
  /** Subscription lifetime asked for (minutes, Graph's maximum for this resource is 4,320). */
  lifetimeMinutes?: number;
  /** A full incremental export this often (ms) besides notifications. */
  catchUpMs?: number;
  rate?: number;
  /**
   * Rich notifications: subscribe with includeResourceData, encrypted to `key`; validationTokens are
   * verified against `authority`'s JWKS with audience `appId` (our client id).
   */
  rich?: { key: EncryptionKey; appId: string; authority: string };
  onEvent?: (e: WatchEvent) => void;
}

export type WatchEvent =
  | { type: 'listening'; url: string; publicUrl: string }
  | { type: 'subscription'; action: 'created' | 'adopted' | 'renewed' | 'deleted' | 'recreated' | 'reauthorized' | 'refused'; id?: string; userId: string | null; message?: string; verdict?: string; fix?: string }
  /** stored: rich items written at once (valid tokens); the rest accepted were queued for a read of the user's window. */
  | { type: 'received'; accepted: number; refused: number; stored?: number; status?: number; reason?: string }
  | { type: 'lifecycle'; event: string; subscriptionId: string }
  | { type: 'processed'; users: number; notifications: number; added: number; reason: 'notifications' | 'catch-up' }
  | { type: 'error'; message: string };

export interface Watcher {
  url: string;
  publicUrl: string;
  /** Stops receiving and processing; deletes the subscriptions when cleanup is true. */
  stop(o?: { cleanup?: boolean }): Promise<void>;
  /** Resolves once the queue is empty and no export runs (tests). */
  idle(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;
const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export async function startWatch(o: WatchOptions): Promise<Watcher> {
  const emit = o.onEvent ?? (() => undefined);
  const lifetimeMs = (o.lifetimeMinutes ?? 4200) * 60_000;
  const limiter = new RateLimiter(o.rate ?? 30);
  const byId = new Map<string, WatchSubscription>();
  for (const s of await o.store.watchSubscriptions(o.tenantId)) byId.set(s.id, s);
  /** Graph's clock minus ours, from the Date of Graph's answers: export windows end at Graph's now. */
  let skewMs = 0;
  const unlisten = o.transport.addExchangeListener((e) => {
    const d = Date.parse(e.date ?? '');
    if (Number.isFinite(d) && e.status > 0) skewMs = d - Date.now();
  });
  let stopped = false;
  const graphNow = () => Date.now() + skewMs;
  const keys = new Map<string, EncryptionKey>(o.rich ? [[o.rich.key.id, o.rich.key]] : []);
  const verifier = o.rich && new ValidationTokenVerifier({ authority: o.rich.authority, tenantId: o.tenantId, appId: o.rich.appId, transport: o.transport, now: graphNow });
  // Rich items are written under one run per watch process (reaped as interrupted if it is killed).
  let richRun: Promise<number> | undefined;
  let richStored = 0;
  const richRunId = () => (richRun ??= o.store.beginRun(o.tenantId, 'watch', { kind: 'watch', reason: 'rich notifications', pid: process.pid, host: hostname() }));

  // ---- the receiver ---------------------------------------------------------------------------
  const app: FastifyInstance = Fastify({ ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key } } : {}), bodyLimit: MAX_BODY, logger: false });
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_r, b, done) => done(null, b));
  // Refused before the handler (too large, not JSON, unknown type): logged by status, never the body
  // (a JSON parser's message quotes it).
  app.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const reason = status === 413 ? 'body too large' : status === 415 ? 'unsupported content type' : status === 400 ? 'malformed body' : 'receiver error';
    emit({ type: 'received', accepted: 0, refused: 0, status, reason });
    // Our own failure (the store, the run): its message, which carries no request body.
    if (status === 500) emit({ type: 'error', message: `receiver: ${(err as Error).message}` });
    return reply.code(status).send();
  });
  let wake: () => void = () => undefined;
  const receive = (kind: 'change' | 'lifecycle') => async (req: { query: unknown; body: unknown }, reply: import('fastify').FastifyReply) => {
    const token = (req.query as Record<string, unknown>).validationToken;
    // Graph's handshake: the decoded token back as text/plain, at once.
    if (typeof token === 'string') return reply.code(200).type('text/plain; charset=utf-8').send(token);
    const body = req.body as { value?: unknown; validationTokens?: unknown } | undefined;
    if (!body || typeof body !== 'object' || !Array.isArray(body.value)) {
      emit({ type: 'received', accepted: 0, refused: 0, status: 400, reason: 'malformed body' });
      return reply.code(400).send();
    }
    const value = body.value as Record<string, unknown>[];
    // validationTokens prove a batch came from Graph. Absent (Graph sends none without the Change
    // Tracking prerequisite): rich items are hints. Present but invalid: the batch is forged.
    let proven = false;
    if (kind === 'change' && verifier && body.validationTokens != null && !(Array.isArray(body.validationTokens) && body.validationTokens.length === 0)) {
      const v = Array.isArray(body.validationTokens) ? await verifier.verify(body.validationTokens) : { valid: false as const, reason: 'validationTokens is not an array' };
      if (v.valid) proven = true;
      else if ('unavailable' in v && v.unavailable) emit({ type: 'error', message: `${v.reason}; this batch's rich items are read from Graph instead` });
      else {
        emit({ type: 'received', accepted: 0, refused: value.length, status: 403, reason: v.reason });
        return reply.code(403).send();
      }
    }
    const items: Parameters<Store['enqueueNotifications']>[0] = [];
    const direct = new Map<string, AiInteraction[]>();
    let stored = 0;
    let refused = 0;
    const reasons = new Set<string>();
    for (const n of value) {
      const sub = n && typeof n === 'object' && typeof n.subscriptionId === 'string' ? byId.get(n.subscriptionId) : undefined;
      if (!sub || typeof n.clientState !== 'string' || !safeEqual(n.clientState, sub.clientState) || (n.tenantId !== undefined && String(n.tenantId).toLowerCase() !== o.tenantId.toLowerCase())) {
        refused++;
        reasons.add('unknown subscription or clientState mismatch');
        continue;
      }
      if (kind === 'lifecycle') {
        items.push({ tenantId: o.tenantId, subscriptionId: sub.id, userId: sub.userId, kind, lifecycleEvent: String(n.lifecycleEvent ?? ''), resourceId: null });
        continue;
      }
      const rd = n.resourceData as { id?: unknown } | undefined;
      const resourceId = typeof rd?.id === 'string' ? rd.id : null;
      if (n.encryptedContent !== undefined) {
        const d = decryptContent(n.encryptedContent, keys);
        if (!d.ok || d.item.id !== resourceId) {
          refused++;
          reasons.add(d.ok ? 'decrypted id differs from resourceData.id' : d.reason);
          continue;
        }
        // Proven and attributable (a per-user subscription): Graph's data, stored now.
        if (proven && sub.userId !== null) {
          const list = direct.get(sub.userId) ?? [];
          list.push(d.item as unknown as AiInteraction);
          direct.set(sub.userId, list);
          stored++;
          continue;
        }
      }
      items.push({ tenantId: o.tenantId, subscriptionId: sub.id, userId: sub.userId, kind, lifecycleEvent: null, resourceId });
    }
    const accepted = items.length + stored;
    emit({ type: 'received', accepted, refused, ...(o.rich ? { stored } : {}), ...(accepted === 0 ? { status: 403 } : {}), ...(reasons.size ? { reason: [...reasons].join('; ') } : {}) });
    if (accepted === 0) return reply.code(403).send();
    // Durable before the acknowledgement: a kill after these lines loses nothing.
    if (direct.size) {
      const runId = await richRunId();
      for (const [userId, list] of direct) await o.store.upsertPage({ tenantId: o.tenantId, userId, scope: '', runId, items: list, cursor: null });
      richStored += stored;
    }
    if (items.length) {
      await o.store.enqueueNotifications(items);
      wake();
    }
    return reply.code(202).send();
  };
  app.post('/notifications', receive('change'));
  app.post('/lifecycle', receive('lifecycle'));
  await app.listen({ host: o.listen.host, port: o.listen.port });
  const port = (app.server.address() as { port: number }).port;
  const scheme = o.tls ? 'https' : 'http';
  const url = `${scheme}://${o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host}:${port}`;
  const publicUrl = (o.publicUrl ?? url).replace(/\/+$/, '');
  emit({ type: 'listening', url, publicUrl });

  // ---- subscriptions --------------------------------------------------------------------------
  const notificationUrl = `${publicUrl}/notifications`;
  const lifecycleUrl = `${publicUrl}/lifecycle`;
  const wanted: { userId: string | null; resource: string }[] = o.tenantWide
    ? [{ userId: null, resource: TENANT_RESOURCE }]
    : o.users.map((u) => ({ userId: u.id, resource: userResource(u.id) }));

  async function create(userId: string | null, resource: string): Promise<void> {
    const clientState = randomBytes(24).toString('base64url');
    try {
      const res = await o.graph.send<{ id: string; expirationDateTime: string }>('/subscriptions', undefined, {
        method: 'POST',
        body: {
          changeType: 'created', notificationUrl, lifecycleNotificationUrl: lifecycleUrl, resource, expirationDateTime: new Date(graphNow() + lifetimeMs).toISOString(), clientState,
          ...(o.rich ? { includeResourceData: true, encryptionCertificate: o.rich.key.certificate, encryptionCertificateId: o.rich.key.id } : {}),
        },
      });
      const s: WatchSubscription = { tenantId: o.tenantId, id: res.data.id, userId, resource, clientState, notificationUrl, expirationMs: Date.parse(res.data.expirationDateTime) };
      // Saved at once; a notification may arrive before this returns (the receiver checks byId).
      byId.set(s.id, s);
      await o.store.saveSubscription(s);
      emit({ type: 'subscription', action: 'created', id: s.id, userId });
    } catch (e) {
      const why = explainRefusal(e, userId);
      emit({ type: 'subscription', action: 'refused', userId, message: e instanceof GraphRequestError ? `${e.status} ${e.code}: ${e.message}` : (e as Error).message, ...(why ?? {}) });
    }
  }

  async function reconcile(): Promise<void> {
    let live: { id: string; resource: string; notificationUrl: string; expirationDateTime: string; includeResourceData?: boolean | null; encryptionCertificateId?: string | null }[] = [];
    try {
      live = await o.graph.list('/subscriptions');
    } catch (e) {
      emit({ type: 'error', message: `listing subscriptions: ${(e as Error).message}` });
      return;
    }
    const liveIds = new Set(live.map((s) => s.id));
    // Ours that Graph no longer has (expired while we were down, removed): forget them.
    for (const s of [...byId.values()]) {
      if (!liveIds.has(s.id)) {
        byId.delete(s.id);
        await o.store.deleteSubscription(o.tenantId, s.id);
      }
    }
    // Adopted only when it delivers what this start wants: rich to our current certificate, or basic.
    const fits = (id: string) => {
      const l = live.find((s) => s.id === id);
      return !!l && (l.includeResourceData === true) === !!o.rich && (!o.rich || l.encryptionCertificateId === o.rich.key.id);
    };
    for (const w of wanted) {
      const mine = [...byId.values()].find((s) => s.resource === w.resource && s.notificationUrl === notificationUrl && fits(s.id));
      if (mine) {
        emit({ type: 'subscription', action: 'adopted', id: mine.id, userId: w.userId });
        continue;
      }
      // One this app made elsewhere (another URL, or a lost clientState) would block the quota: replace it.
      // (also ours from an earlier start at another URL: the port or --public-url changed).
      for (const other of live.filter((s) => s.resource.toLowerCase() === w.resource.toLowerCase())) {
        await o.graph.send(`/subscriptions/${other.id}`, undefined, { method: 'DELETE' }).catch(() => undefined);
        byId.delete(other.id);
        await o.store.deleteSubscription(o.tenantId, other.id);
      }
      await create(w.userId, w.resource);
    }
  }

  async function renewDue(): Promise<void> {
    for (const s of [...byId.values()]) {
      // Renew once less than half of the lifetime is left.
      if (s.expirationMs - graphNow() > lifetimeMs / 2) continue;
      try {
        const res = await o.graph.send<{ expirationDateTime: string }>(`/subscriptions/${s.id}`, undefined, { method: 'PATCH', body: { expirationDateTime: new Date(graphNow() + lifetimeMs).toISOString() } });
        s.expirationMs = Date.parse(res.data.expirationDateTime);
        await o.store.saveSubscription(s);
        emit({ type: 'subscription', action: 'renewed', id: s.id, userId: s.userId });
      } catch (e) {
        if (e instanceof GraphRequestError && e.status === 404) {
          byId.delete(s.id);
          await o.store.deleteSubscription(o.tenantId, s.id);
          await create(s.userId, s.resource);
        } else emit({ type: 'error', message: `renewing ${s.id}: ${(e as Error).message}` });
      }
    }
  }

  // ---- processing -----------------------------------------------------------------------------
  const usersById = new Map(o.users.map((u) => [u.id, u]));
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  async function exportUsers(users: TargetUser[], reason: 'notifications' | 'catch-up', notifications: number): Promise<ExportSummary | undefined> {
    if (users.length === 0) return undefined;
    const summary = await runExport({
      tenantId: o.tenantId, store: o.store, graphBaseUrl: o.graphBaseUrl, credential: o.credential, scope: o.scope, transport: o.transport,
      // The window ends just after Graph's now: what the notification announced is inside it.
      users, untilMs: graphNow() + 2000, limiter, concurrency: 'auto', runOptions: { kind: 'watch', reason },
    });
    emit({ type: 'processed', users: users.length, notifications, added: summary.new, reason });
    return summary;
  }

  async function processOnce(): Promise<boolean> {
    const batch = await o.store.pendingNotifications(o.tenantId, 5000);
    if (batch.length === 0) return false;
    const users = new Map<string, TargetUser>();
    let all = false;
    for (const n of batch) {
      if (n.kind === 'lifecycle') {
        emit({ type: 'lifecycle', event: n.lifecycleEvent ?? '', subscriptionId: n.subscriptionId });
        const s = byId.get(n.subscriptionId);
        if (n.lifecycleEvent === 'reauthorizationRequired' && s) {
          await o.graph.send(`/subscriptions/${s.id}/reauthorize`, undefined, { method: 'POST' }).then(
            () => emit({ type: 'subscription', action: 'reauthorized', id: s.id, userId: s.userId }),
            (e) => emit({ type: 'error', message: `reauthorizing ${s.id}: ${(e as Error).message}` }));
        }
        if (n.lifecycleEvent === 'subscriptionRemoved' && s) {
          byId.delete(s.id);
          await o.store.deleteSubscription(o.tenantId, s.id);
          await create(s.userId, s.resource);
        }
        // Anything may be missing now: read the subscription's users again.
        if (n.lifecycleEvent === 'missed' || n.lifecycleEvent === 'subscriptionRemoved') {
          if (n.userId === null) all = true;
        } else continue;
      }
      if (n.userId === null) all = true;
      else users.set(n.userId, usersById.get(n.userId) ?? { id: n.userId, userPrincipalName: null, displayName: null });
    }
    try {
      const summary = await exportUsers(all ? o.users : [...users.values()], 'notifications', batch.length);
      const failed = new Set((summary?.failures ?? []).filter((f) => f.outcome === 'failed').map((f) => f.userId));
      const ok = batch.filter((n) => n.userId === null || !failed.has(n.userId)).map((n) => n.seq);
      await o.store.settleNotifications(ok, 'done');
      await o.store.settleNotifications(batch.filter((n) => !ok.includes(n.seq)).map((n) => n.seq), 'failed');
    } catch (e) {
      await o.store.settleNotifications(batch.map((n) => n.seq), 'failed');
      emit({ type: 'error', message: `processing: ${(e as Error).message}` });
      return false;
    }
    return true;
  }

  const loop = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      while (!stopped && (await processOnce()));
    } finally {
      busy = false;
    }
  };
  let debounce: NodeJS.Timeout | undefined;
  wake = () => {
    debounce ??= setTimeout(() => {
      debounce = undefined;
      running = running.then(loop);
    }, 100);
  };

  const catchUp = async () => {
    try {
      await exportUsers(o.users, 'catch-up', 0);
    } catch (e) {
      emit({ type: 'error', message: `catch-up: ${(e as Error).message}` });
    }
  };

  await verifier?.prefetch();
  await reconcile();
  // Downtime is covered first: an incremental export of every target, then the queue.
  running = running.then(catchUp).then(loop);
  const renewTimer = setInterval(() => { running = running.then(renewDue); }, 60_000);
  const catchUpTimer = setInterval(() => { running = running.then(catchUp); }, o.catchUpMs ?? 60 * 60_000);

  return {
    url,
    publicUrl,
    async stop(s = {}) {
      stopped = true;
      clearInterval(renewTimer);
      clearInterval(catchUpTimer);
      if (debounce) clearTimeout(debounce);
      await app.close();
      await running.catch(() => undefined);
      if (richRun) await o.store.finishRun(await richRun, 'completed', { stored: richStored }).catch(() => undefined);
      if (s.cleanup) {
        for (const sub of [...byId.values()]) {
          await o.graph.send(`/subscriptions/${sub.id}`, undefined, { method: 'DELETE' }).catch(() => undefined);
          await o.store.deleteSubscription(o.tenantId, sub.id);
          emit({ type: 'subscription', action: 'deleted', id: sub.id, userId: sub.userId });
        }
      }
      unlisten();
    },
    async idle() {
      for (;;) {
        await running;
        if (debounce) {
          await new Promise((r) => setTimeout(r, 150));
          continue;
        }
        if ((await o.store.pendingNotifications(o.tenantId, 1)).length === 0 && !busy) return;
        running = running.then(loop);
      }
    },
  };
}
