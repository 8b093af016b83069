// /subscriptions for the interaction-history resources (graph-facts §6, §12 #24–#28): create
// (with the validation handshake), list, get, renew (PATCH), reauthorize, delete. Rules are
// checked in the order a caller would meet them: body → resource → permission → licence →
// lifetime → lifecycle URL → quotas → handshake. Deliveries live in ../subscriptions.ts.
import { X509Certificate } from 'node:crypto';
import { EXPORT_ROLE } from '../../graph/ids.js';
import { PLAN } from '../../graph/licensing.js';
import type { EmulatorContext } from '../context.js';
import { analyzeInteractionFilter, ODataSyntaxError, parseFilter } from '../odata/index.js';
import type { Subscription } from '../subscriptions.js';
import { ValidationFailure } from '../subscriptions.js';
import type { TenantState } from '../state.js';
import { GraphError, graphErrors } from './errors.js';
import { parseGraphPath, type GraphRouter } from './path.js';
import type { GraphRequest, GraphRouteSpec } from './request.js';

const MIN_LIFETIME_MS = 45 * 60_000;
const MAX_LIFETIME_MINUTES = 4320;
const LIFECYCLE_REQUIRED_BEYOND_MS = 60 * 60_000;
const ALL_COPILOT_PLANS = [PLAN.GRAPH_CONNECTORS_COPILOT, PLAN.M365_COPILOT_INTELLIGENT_SEARCH, PLAN.M365_COPILOT_TEAMS, PLAN.M365_COPILOT_APPS, PLAN.M365_COPILOT_BUSINESS_CHAT, PLAN.M365_COPILOT_CONNECTORS];
const READ_USER = 'AiEnterpriseInteraction.Read.User';
const READ_DELEGATED = 'AiEnterpriseInteraction.Read';
/** Quotas (graph-facts §6): per app per tenant for the tenant-wide resource, per app per user, per user, per organization. */
export const QUOTAS = { appTenantWide: 1, appPerUser: 1, perUser: 10, perOrganization: 10_000 };
const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

const invalid = (message: string) => new GraphError(400, 'InvalidRequest', message);

interface ParsedResource { userKey?: string; appClasses?: string[] }

/** The resource a subscription names: one of the two paths, with an optional top-level $filter. */
export function parseResource(resource: string): ParsedResource {
  const [rawPath, ...rest] = resource.split('?');
  const query = rest.join('?');
  const segs = parseGraphPath(rawPath!.replace(/^\/+/, ''));
  const names = segs.map((s) => (s.kind === 'name' ? s.name : '{key}'));
  let userKey: string | undefined;
  const tail = ['interactionhistory', 'getallenterpriseinteractions'];
  const isTail = (from: number) => names.length === from + 2 && names[from] === tail[0] && names[from + 1] === tail[1];
  if (names[0] === 'copilot' && isTail(1)) userKey = undefined;
  else if (names[0] === 'copilot' && names[1] === 'users' && isTail(3)) {
    const k = segs[2]!;
    userKey = k.kind === 'key' ? k.value : k.raw;
  } else {
    throw invalid(`The resource '${resource}' is not supported for change notifications. Subscribe to /copilot/users/{user-id}/interactionHistory/getAllEnterpriseInteractions or /copilot/interactionHistory/getAllEnterpriseInteractions.`);
  }
  if (!query) return { userKey };
  const params = new URLSearchParams(query);
  const keys = [...params.keys()];
  if (keys.some((k) => k !== '$filter') || keys.length !== 1) throw invalid(`Only a $filter query option is supported in the resource of this subscription, not '${query}'.`);
  let analysis;
  try {
    analysis = analyzeInteractionFilter(parseFilter(params.get('$filter')!));
  } catch (e) {
    if (e instanceof ODataSyntaxError) throw invalid(`Invalid filter clause in resource: ${e.message}`);
    throw e;
  }
  if (!analysis.ok) throw invalid(`Invalid filter clause in resource: ${analysis.detail}`);
  if (analysis.from || analysis.to) throw invalid('Invalid filter clause in resource: only appClass can be filtered on in a subscription.');
  return { userKey, appClasses: analysis.appClasses };
}

export function toGraph(s: Subscription): Record<string, unknown> {
  return {
    id: s.id,
    resource: s.resource,
    applicationId: s.applicationId,
    changeType: s.changeType,
    clientState: s.clientState,
    notificationUrl: s.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: s.lifecycleNotificationUrl,
    expirationDateTime: s.expirationDateTime.toISOString().replace(/\.000Z$/, 'Z'),
    creatorId: s.creatorId,
    includeResourceData: s.includeResourceData,
    latestSupportedTlsVersion: 'v1_2',
    encryptionCertificate: s.encryptionCertificate,
    encryptionCertificateId: s.encryptionCertificateId,
    notificationUrlAppId: null,
  };
}

export function subscriptionRoutes(router: GraphRouter<GraphRouteSpec>, ctx: EmulatorContext): void {
  const refuse = (r: GraphRequest, gate: string, err: GraphError, detail: Record<string, unknown> = {}): never => {
    r.req.log.info({ event: 'graph.refused', gate, tenant: r.tenant.id, appId: r.appId, ...detail }, `refused at gate: ${gate}`);
    throw err;
  };
  const svc = () => ctx.subscriptions;
  const isDelegated = (r: GraphRequest) => r.claims.scp !== undefined || r.claims.idtyp === 'user';

  const checkUrl = (r: GraphRequest, field: string, value: unknown) => {
    if (typeof value !== 'string' || value === '') throw invalid(`${field} is a required property for subscription creation.`);
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw invalid(`Invalid ${field}: '${value}' is not an absolute URL.`);
    }
    const httpOk = r.tenant.behaviours.notificationUrlScheme === 'httpLoopback' && u.protocol === 'http:' && LOOPBACK_HOST.test(u.hostname);
    if (u.protocol !== 'https:' && !httpOk) throw invalid(`Invalid ${field}: '${value}'. The ${field} must be an https URL.`);
    return value;
  };

  const parseExpiration = (r: GraphRequest, value: unknown): Date => {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalid('expirationDateTime is a required property for subscription creation and must be an ISO 8601 date-time.');
    const now = ctx.clock.nowMs();
    let ms = Date.parse(value);
    if (ms <= now) throw invalid(`Subscription expiration can only be in the future: expirationDateTime '${value}' is past.`);
    // Under 45 minutes is raised to 45; over 4,320 is refused (or clamped: §12 #25).
    if (ms - now < MIN_LIFETIME_MS) ms = now + MIN_LIFETIME_MS;
    if (ms - now > MAX_LIFETIME_MINUTES * 60_000) {
      if (r.tenant.behaviours.subscriptionLifetimeAboveMax === 'reject') {
        throw invalid(`Subscription expiration can only be ${MAX_LIFETIME_MINUTES} minutes in the future for this resource.`);
      }
      ms = now + MAX_LIFETIME_MINUTES * 60_000;
    }
    return new Date(ms);
  };

  /** Permission and licence gates of the resource (graph-facts §6). */
  const resourceGates = (r: GraphRequest, t: TenantState, userKey: string | undefined): string | undefined => {
    const app = t.app(r.appId);
    if (userKey === undefined) {
      if (isDelegated(r) || !r.roles.includes(EXPORT_ROLE)) {
        refuse(r, 'role', graphErrors.forbidden(`The application does not have the permission ${EXPORT_ROLE} required to subscribe to /copilot/interactionHistory/getAllEnterpriseInteractions.`), { roles: r.roles });
      }
      const provisioned = new Set<string>();
      for (const u of t.users) for (const p of t.provisionedPlans(u)) provisioned.add(p);
      const missing = ALL_COPILOT_PLANS.filter((p) => !provisioned.has(p));
      if (missing.length) refuse(r, 'licence', graphErrors.forbidden(`The tenant does not have the Microsoft 365 Copilot service plans this resource requires (missing ${missing.join(', ')}).`), { missing });
      return undefined;
    }
    const u = t.user(userKey);
    if (isDelegated(r)) {
      const scopes = String(r.claims.scp ?? '').split(' ');
      if (!scopes.includes(READ_DELEGATED) && !scopes.includes(`${READ_DELEGATED}.All`)) refuse(r, 'scope', graphErrors.forbidden(`The caller does not have the permission ${READ_DELEGATED} required for this resource.`));
      if (u && String(r.claims.oid ?? '') !== u.id) refuse(r, 'scope', graphErrors.forbidden('A delegated caller can subscribe only to its own interactions.'));
    } else if (!r.roles.includes(EXPORT_ROLE) && !(app?.rsc.includes(READ_USER))) {
      refuse(r, 'role', graphErrors.forbidden(`The application does not have the permission ${EXPORT_ROLE} (or ${READ_USER} through resource-specific consent) required for this resource.`), { roles: r.roles });
    }
    if (!u) refuse(r, 'user-exists', graphErrors.notFound(`The requested user '${userKey}' is not found.`), { user: userKey });
    if (!t.provisionedPlans(u!).has(PLAN.M365_COPILOT_BUSINESS_CHAT)) {
      refuse(r, 'licence', graphErrors.forbidden(`The user '${userKey}' does not have the Microsoft 365 Copilot service plan (3f30311c-6b1e-48a4-ab79-725b469da960) this resource requires.`), { user: u!.id });
    }
    return u!.id;
  };

  const checkQuotas = (r: GraphRequest, t: TenantState, userId: string | undefined) => {
    const all = svc().list(t.id);
    const mine = all.filter((s) => s.applicationId === r.appId);
    const quota = (message: string, limit: string) => refuse(r, 'quota', graphErrors.forbidden(message), { limit });
    if (all.length >= QUOTAS.perOrganization) quota(`Subscription quota exceeded: the limit of ${QUOTAS.perOrganization} subscriptions per organization for this resource has been reached.`, 'perOrganization');
    if (userId === undefined) {
      if (mine.filter((s) => s.userId === undefined).length >= QUOTAS.appTenantWide) {
        quota(`Subscription quota exceeded: the limit of ${QUOTAS.appTenantWide} subscription per app per tenant for /copilot/interactionHistory/getAllEnterpriseInteractions has been reached.`, 'appTenantWide');
      }
      return;
    }
    if (mine.filter((s) => s.userId === userId).length >= QUOTAS.appPerUser) quota(`Subscription quota exceeded: the limit of ${QUOTAS.appPerUser} subscription per app per user for this resource has been reached.`, 'appPerUser');
    if (all.filter((s) => s.userId === userId).length >= QUOTAS.perUser) quota(`Subscription quota exceeded: the limit of ${QUOTAS.perUser} subscriptions per user for this resource has been reached.`, 'perUser');
  };

  const handshake = async (r: GraphRequest, url: string) => {
    try {
      await svc().validate(url);
    } catch (e) {
      if (e instanceof ValidationFailure) refuse(r, 'validation', new GraphError(400, e.code, e.message), { url });
      throw e;
    }
  };

  const create = async (r: GraphRequest) => {
    const t = r.tenant;
    const b = r.req.body;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('Send the subscription as a JSON object.');
    const body = b as Record<string, unknown>;
    for (const f of ['changeType', 'notificationUrl', 'resource', 'expirationDateTime']) {
      if (body[f] === undefined || body[f] === null || body[f] === '') throw invalid(`${f} is a required property for subscription creation.`);
    }
    const changeType = String(body.changeType);
    if (!changeType.split(',').every((c) => ['created', 'updated', 'deleted'].includes(c.trim()))) throw invalid(`Invalid changeType '${changeType}': use created, updated or deleted, comma-separated.`);
    const notificationUrl = checkUrl(r, 'notificationUrl', body.notificationUrl);
    const lifecycleNotificationUrl = body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null ? null : checkUrl(r, 'lifecycleNotificationUrl', body.lifecycleNotificationUrl);
    if (typeof body.resource !== 'string') throw invalid('resource must be a string.');
    const resource = body.resource;
    const parsed = parseResource(resource);
    const clientState = body.clientState === undefined || body.clientState === null ? null : String(body.clientState);
    if (clientState !== null && clientState.length > 128) throw invalid('clientState can be at most 128 characters.');
    const includeResourceData = body.includeResourceData === true;
    let encryptionCertificate: string | null = null;
    let encryptionCertificateId: string | null = null;
    if (includeResourceData) {
      if (typeof body.encryptionCertificate !== 'string' || body.encryptionCertificate === '') throw invalid('encryptionCertificate is required when includeResourceData is true.');
      if (typeof body.encryptionCertificateId !== 'string' || body.encryptionCertificateId === '' || body.encryptionCertificateId.length > 128) {
        throw invalid('encryptionCertificateId is required when includeResourceData is true (up to 128 characters).');
      }
      try {
        const cert = new X509Certificate(Buffer.from(body.encryptionCertificate, 'base64'));
        const bits = cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
        if (cert.publicKey.asymmetricKeyType !== 'rsa' || bits < 2048 || bits > 4096) throw new Error('rsa');
      } catch {
        throw invalid('encryptionCertificate must be a base64-encoded X.509 certificate with an RSA key of 2048 to 4096 bits.');
      }
      encryptionCertificate = body.encryptionCertificate;
      encryptionCertificateId = body.encryptionCertificateId;
    }
    const userId = resourceGates(r, t, parsed.userKey);
    const expirationDateTime = parseExpiration(r, body.expirationDateTime);
    if (expirationDateTime.getTime() - ctx.clock.nowMs() > LIFECYCLE_REQUIRED_BEYOND_MS && !lifecycleNotificationUrl) {
      throw invalid('lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour.');
    }
    checkQuotas(r, t, userId);
    await handshake(r, notificationUrl);
    if (lifecycleNotificationUrl && lifecycleNotificationUrl !== notificationUrl) await handshake(r, lifecycleNotificationUrl);
    const app = t.app(r.appId);
    const s = svc().add({
      tenantId: t.id, applicationId: r.appId, creatorId: String(r.claims.oid ?? app?.servicePrincipalId ?? ''), resource, changeType, clientState,
      notificationUrl, lifecycleNotificationUrl, expirationDateTime, includeResourceData, encryptionCertificate, encryptionCertificateId,
      userId, appClasses: parsed.appClasses,
    });
    r.req.log.info({ event: 'subscription.created', tenant: t.id, subscription: s.id, resource }, 'subscription created');
    r.reply.code(201);
    return { '@odata.context': `${r.base}/$metadata#subscriptions/$entity`, ...toGraph(s) };
  };

  const find = (r: GraphRequest): Subscription => {
    const key = r.params[0];
    const id = key?.kind === 'key' ? key.value : key?.raw ?? '';
    const s = svc().get(r.tenant.id, id);
    // Another app's subscription is not visible to this one.
    if (!s || s.applicationId !== r.appId) refuse(r, 'subscription-exists', graphErrors.notFound(`The object was not found. Subscription '${id}'.`, 'ResourceNotFound'), { id });
    return s!;
  };

  const collection = async (r: GraphRequest) => {
    if (r.req.method === 'POST') return create(r);
    const value = svc().list(r.tenant.id, r.appId).map(toGraph);
    return { '@odata.context': `${r.base}/$metadata#subscriptions`, value };
  };

  const item = async (r: GraphRequest) => {
    const s = find(r);
    if (r.req.method === 'GET') return { '@odata.context': `${r.base}/$metadata#subscriptions/$entity`, ...toGraph(s) };
    if (r.req.method === 'DELETE') {
      svc().remove(s.id);
      r.req.log.info({ event: 'subscription.deleted', subscription: s.id }, 'subscription deleted');
      r.reply.code(204).send();
      return undefined;
    }
    // PATCH: renew (expirationDateTime) and/or move the notificationUrl (validated again).
    const body = (r.req.body ?? {}) as Record<string, unknown>;
    const allowed = ['expirationDateTime', 'notificationUrl', 'lifecycleNotificationUrl'];
    const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
    if (unknown.length) throw invalid(`Only ${allowed.join(', ')} can be updated, not ${unknown.join(', ')}.`);
    let expirationDateTime = s.expirationDateTime;
    if (body.expirationDateTime !== undefined) expirationDateTime = parseExpiration(r, body.expirationDateTime);
    const lifecycle = body.lifecycleNotificationUrl !== undefined ? checkUrl(r, 'lifecycleNotificationUrl', body.lifecycleNotificationUrl) : s.lifecycleNotificationUrl;
    if (expirationDateTime.getTime() - ctx.clock.nowMs() > LIFECYCLE_REQUIRED_BEYOND_MS && !lifecycle) {
      throw invalid('lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour.');
    }
    if (body.notificationUrl !== undefined) {
      const url = checkUrl(r, 'notificationUrl', body.notificationUrl);
      await handshake(r, url);
      s.notificationUrl = url;
    }
    if (lifecycle !== s.lifecycleNotificationUrl && lifecycle) await handshake(r, lifecycle);
    s.lifecycleNotificationUrl = lifecycle;
    s.expirationDateTime = expirationDateTime;
    svc().reauthorized(s);
    return { '@odata.context': `${r.base}/$metadata#subscriptions/$entity`, ...toGraph(s) };
  };

  const reauthorize = async (r: GraphRequest) => {
    const s = find(r);
    svc().reauthorized(s);
    r.reply.code(204).send();
    return undefined;
  };

  router
    .add('subscriptions', { handler: collection, denial: 'none', methods: ['GET', 'POST'] })
    .add('subscriptions/{id}', { handler: item, denial: 'none', methods: ['GET', 'PATCH', 'DELETE'] })
    .add('subscriptions/{id}/reauthorize', { handler: reauthorize, denial: 'none', methods: ['POST'] });
}
