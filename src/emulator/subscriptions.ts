// Graph's change-notification service for the two interaction-history resources: subscriptions
// keyed by tenant, the validation handshake, and deliveries — batched, retried with back-off
// while the receiver fails, dropped (with a `missed` lifecycle notification) once they are older
// than Graph's 4 hours on the emulator clock. Lifecycle notifications are also sent on demand
// through the control API. Routes live in graph/subscriptions.ts and control/subscriptions.ts.
import { constants, createCipheriv, createHash, createHmac, publicEncrypt, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { CHANGE_TRACKING_APP_ID } from '../graph/ids.js';
import type { Clock } from './clock.js';
import type { AiInteraction } from './interactions/model.js';
import type { TokenService } from './identity/tokens.js';
import type { TenantState } from './state.js';

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface Subscription {
  id: string;
  tenantId: string;
  applicationId: string;
  creatorId: string;
  resource: string;
  changeType: string;
  clientState: string | null;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: Date;
  includeResourceData: boolean;
  encryptionCertificate: string | null;
  encryptionCertificateId: string | null;
  /** Parsed from resource: the user (per-user form) or undefined (tenant-wide), and the appClass filter. */
  userId: string | undefined;
  appClasses: string[] | undefined;
  /** A reauthorizationRequired was sent and no renewal or reauthorize has answered it: deliveries wait. */
  needsReauthorization: boolean;
}

interface Pending { payload: Record<string, unknown>; enqueuedMs: number }

interface Queue {
  pending: Pending[];
  attempts: number;
  nextAtMs: number;
  inFlight: boolean;
  delivered: number;
  failedAttempts: number;
  dropped: number;
}

/** Graph keeps retrying a notification for up to 4 hours (graph-facts §6). */
export const RETRY_WINDOW_MS = 4 * 3_600_000;
export const VALIDATION_TIMEOUT_MS = 10_000;
export const SLOW_MS = 3_000;

export class ValidationFailure extends Error {
  constructor(readonly code: 'ValidationError' | 'InvalidRequest', message: string) {
    super(message);
  }
}

export class SubscriptionService {
  private readonly subs = new Map<string, Subscription>();
  private readonly queues = new Map<string, Queue>();
  private readonly agent: Agent;
  private timer: NodeJS.Timeout | undefined;
  /** Lifecycle notifications and handshakes sent, for the control API and tests. */
  readonly sentLifecycle: { subscriptionId: string; lifecycleEvent: LifecycleEvent; status: number | string }[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly tokens: TokenService,
    caPem: string,
    private readonly tenantOf: (id: string) => TenantState | undefined,
    private readonly log: (o: Record<string, unknown>, msg: string) => void,
  ) {
    // Receivers with public certificates, and receivers whose certificate the emulator's CA issued.
    // One secure context for every connection: given `ca` instead, each connection would parse
    // the ~140 public roots again (tens of ms of CPU each), which starved the emulator's event
    // loop while it retried deliveries to a dead receiver (new connection each attempt).
    this.agent = new Agent({ connect: { secureContext: createSecureContext({ ca: [...rootCertificates, caPem] }) }, keepAliveTimeout: 1000 });
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), 100).unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.agent.close().catch(() => undefined);
  }

  /** A new scenario forgets every subscription. */
  reset(): void {
    this.subs.clear();
    this.queues.clear();
    this.sentLifecycle.length = 0;
  }

  list(tenantId: string, appId?: string): Subscription[] {
    this.expire();
    return [...this.subs.values()].filter((s) => s.tenantId === tenantId && (appId === undefined || s.applicationId === appId));
  }

  get(tenantId: string, id: string): Subscription | undefined {
    this.expire();
    const s = this.subs.get(id.toLowerCase());
    return s && s.tenantId === tenantId ? s : undefined;
  }

  add(s: Omit<Subscription, 'id' | 'needsReauthorization'>): Subscription {
    const sub: Subscription = { ...s, id: randomUUID(), needsReauthorization: false };
    this.subs.set(sub.id, sub);
    this.queues.set(sub.id, { pending: [], attempts: 0, nextAtMs: 0, inFlight: false, delivered: 0, failedAttempts: 0, dropped: 0 });
    return sub;
  }

  remove(id: string): boolean {
    this.queues.delete(id);
    return this.subs.delete(id);
  }

  stats(id: string): Omit<Queue, 'pending' | 'inFlight' | 'nextAtMs'> & { pending: number } | undefined {
    const q = this.queues.get(id);
    return q && { pending: q.pending.length, attempts: q.attempts, delivered: q.delivered, failedAttempts: q.failedAttempts, dropped: q.dropped };
  }

  /** Subscriptions past their expirationDateTime are gone, as in Graph (no notification is sent). */
  private expire(): void {
    const now = this.clock.nowMs();
    for (const s of this.subs.values()) {
      if (s.expirationDateTime.getTime() <= now) {
        this.log({ event: 'subscription.expired', subscription: s.id }, 'subscription expired');
        this.remove(s.id);
      }
    }
  }

  /**
   * Graph's validation handshake: POST url?validationToken=… (text/plain), expecting 200,
   * text/plain and the decoded token within 10 s.
   */
  async validate(url: string): Promise<void> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = new URL(url);
    target.searchParams.set('validationToken', token);
    let res;
    try {
      res = await request(target, {
        method: 'POST', dispatcher: this.agent, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '',
        signal: AbortSignal.timeout(VALIDATION_TIMEOUT_MS),
      });
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new ValidationFailure('InvalidRequest', 'Subscription validation request timed out.');
      throw new ValidationFailure('ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
    }
    const text = await res.body.text().catch(() => '');
    if (res.statusCode !== 200) throw new ValidationFailure('ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.');
    const type = String(res.headers['content-type'] ?? '');
    if (text !== token || !/^text\/plain\b/i.test(type)) {
      throw new ValidationFailure('ValidationError', 'Subscription validation request failed. Response must exactly match validationToken query parameter.');
    }
  }

  /** Interactions just ingested for a user: a `created` notification for each subscription that covers them. */
  async onIngested(t: TenantState, userId: string, items: AiInteraction[]): Promise<void> {
    this.expire();
    const now = this.clock.nowMs();
    for (const s of this.subs.values()) {
      if (s.tenantId !== t.id || (s.userId !== undefined && s.userId !== userId)) continue;
      const q = this.queues.get(s.id)!;
      for (const item of items) {
        if (s.appClasses && !s.appClasses.some((a) => a.toLowerCase() === item.appClass.toLowerCase())) continue;
        q.pending.push({ payload: this.notificationFor(s, t, userId, item), enqueuedMs: now });
      }
    }
    this.tick();
  }

  private notificationFor(s: Subscription, t: TenantState, userId: string, item: AiInteraction): Record<string, unknown> {
    // Tenant-wide notifications name the interaction only; per-user ones name the user too.
    const resource = s.userId === undefined
      ? `copilot/interactionHistory/interactions('${item.id}')`
      : `copilot/users('${userId}')/interactionHistory/interactions('${item.id}')`;
    const n: Record<string, unknown> = {
      subscriptionId: s.id,
      subscriptionExpirationDateTime: s.expirationDateTime.toISOString(),
      changeType: 'created',
      resource,
      resourceData: { id: item.id, '@odata.type': '#Microsoft.Graph.aiInteraction', '@odata.id': resource },
      clientState: s.clientState,
      tenantId: t.id,
    };
    if (s.includeResourceData && s.encryptionCertificate) n.encryptedContent = encryptResource(s, item);
    return n;
  }

  /** Sends what is due; never throws. Runs on a timer and after each ingestion. */
  private tick(): void {
    this.expire();
    const now = Date.now();
    const clockNow = this.clock.nowMs();
    for (const s of this.subs.values()) {
      const q = this.queues.get(s.id);
      if (!q || q.inFlight || q.pending.length === 0 || q.nextAtMs > now || s.needsReauthorization) continue;
      const t = this.tenantOf(s.tenantId);
      if (!t) continue;
      // Older than Graph's retry window: dropped, and the subscriber told through `missed`.
      const stale = q.pending.filter((p) => clockNow - p.enqueuedMs > RETRY_WINDOW_MS);
      if (stale.length) {
        q.pending = q.pending.filter((p) => clockNow - p.enqueuedMs <= RETRY_WINDOW_MS);
        q.dropped += stale.length;
        q.attempts = 0;
        this.log({ event: 'notification.dropped', subscription: s.id, count: stale.length }, 'notifications dropped after the retry window');
        void this.sendLifecycle(s, 'missed');
        if (q.pending.length === 0) continue;
      }
      const batch = q.pending.slice(0, t.behaviours.notificationBatchSize);
      q.inFlight = true;
      void this.deliver(s, t, batch.map((p) => p.payload)).then((ok) => {
        q.inFlight = false;
        if (ok) {
          q.pending.splice(0, batch.length);
          q.delivered += batch.length;
          q.attempts = 0;
          q.nextAtMs = 0;
          if (q.pending.length) setImmediate(() => this.tick());
        } else {
          q.attempts++;
          q.failedAttempts++;
          const base = t.behaviours.notificationRetryBaseMs;
          q.nextAtMs = Date.now() + Math.min(base * 2 ** (q.attempts - 1), t.behaviours.notificationRetryMaxMs);
        }
      });
    }
  }

  private async deliver(s: Subscription, t: TenantState, value: Record<string, unknown>[]): Promise<boolean> {
    const body: Record<string, unknown> = { value };
    if (s.includeResourceData && t.behaviours.changeTrackingPrerequisite) {
      body.validationTokens = [await this.validationToken(s)];
    }
    try {
      const res = await request(s.notificationUrl, {
        method: 'POST', dispatcher: this.agent, headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(body), signal: AbortSignal.timeout(SLOW_MS),
      });
      await res.body.dump().catch(() => undefined);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      if (!ok) this.log({ event: 'notification.refused', subscription: s.id, status: res.statusCode, count: value.length }, 'receiver refused a notification batch');
      return ok;
    } catch (e) {
      this.log({ event: 'notification.failed', subscription: s.id, reason: (e as Error).message, count: value.length }, 'notification delivery failed');
      return false;
    }
  }

  /** A JWT from the change-tracking app, audience the subscriber: what a receiver verifies against the tenant's JWKS. */
  private async validationToken(s: Subscription): Promise<string> {
    const now = Math.floor(this.clock.nowMs() / 1000);
    return this.tokens.sign({
      aud: s.applicationId, iss: `https://sts.windows.net/${s.tenantId}/`, iat: now, nbf: now, exp: now + 3600,
      appid: CHANGE_TRACKING_APP_ID, azp: CHANGE_TRACKING_APP_ID, appidacr: '2', tid: s.tenantId, ver: '1.0',
    });
  }

  /** A lifecycle notification to lifecycleNotificationUrl (not sent when the subscription has none). */
  async sendLifecycle(s: Subscription, lifecycleEvent: LifecycleEvent): Promise<number | string> {
    if (lifecycleEvent === 'reauthorizationRequired') s.needsReauthorization = true;
    if (lifecycleEvent === 'subscriptionRemoved') this.remove(s.id);
    if (!s.lifecycleNotificationUrl) {
      this.sentLifecycle.push({ subscriptionId: s.id, lifecycleEvent, status: 'no lifecycleNotificationUrl' });
      return 'no lifecycleNotificationUrl';
    }
    const value = [{
      subscriptionId: s.id, subscriptionExpirationDateTime: s.expirationDateTime.toISOString(), tenantId: s.tenantId,
      clientState: s.clientState, lifecycleEvent,
    }];
    let status: number | string;
    try {
      const res = await request(s.lifecycleNotificationUrl, {
        method: 'POST', dispatcher: this.agent, headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ value }), signal: AbortSignal.timeout(SLOW_MS),
      });
      await res.body.dump().catch(() => undefined);
      status = res.statusCode;
    } catch (e) {
      status = (e as Error).message;
    }
    this.sentLifecycle.push({ subscriptionId: s.id, lifecycleEvent, status });
    this.log({ event: 'lifecycle.sent', subscription: s.id, lifecycleEvent, status }, 'lifecycle notification sent');
    return status;
  }

  /** Renewal or reauthorize answers a reauthorizationRequired. */
  reauthorized(s: Subscription): void {
    s.needsReauthorization = false;
    this.tick();
  }

  /** Drop what waits for a subscription (the control API's way to lose notifications on purpose). */
  dropPending(id: string): number {
    const q = this.queues.get(id);
    if (!q) return 0;
    const n = q.pending.length;
    q.dropped += n;
    q.pending = [];
    return n;
  }
}

/**
 * Graph's encrypted resource data: a random AES-256 key encrypted with RSA-OAEP (SHA-1) to the
 * subscriber's certificate, the resource as AES-CBC/PKCS7 with the key's first 16 bytes as IV,
 * and an HMAC-SHA256 of the encrypted data under the same key.
 */
export function encryptResource(s: Pick<Subscription, 'encryptionCertificate' | 'encryptionCertificateId'>, item: unknown): Record<string, string> {
  const der = Buffer.from(s.encryptionCertificate!, 'base64');
  const cert = new X509Certificate(der);
  const key = randomBytes(32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  const data = Buffer.concat([cipher.update(JSON.stringify(item), 'utf8'), cipher.final()]);
  return {
    data: data.toString('base64'),
    dataSignature: createHmac('sha256', key).update(data).digest('base64'),
    dataKey: publicEncrypt({ key: cert.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key).toString('base64'),
    encryptionCertificateId: s.encryptionCertificateId ?? '',
    encryptionCertificateThumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
  };
}
