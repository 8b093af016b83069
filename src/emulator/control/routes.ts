// The control API beside Graph (/_emulator/…), like moto's: tests and tools reset, load,
// inspect and steer the emulator over the wire instead of reaching into its internals.
// Loopback only. Credentials it lists are test values.
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { graphErrors, GraphError } from '../graph/errors.js';
import type { TenantState } from '../state.js';
import { GRAPH_AUDIENCE_BY_CLOUD } from '../identity/tokens.js';
import { scenarioSchema } from '../scenario/schema.js';
import { ScenarioError } from '../scenario/load.js';
import { interactionControlRoutes } from './interactions.js';
import { subscriptionControlRoutes } from './subscriptions.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
/** Host headers a loopback caller sends: the loopback names, with or without a port. */
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/i;
const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/**
 * What a web page can make a browser send to the control API, refused: any request carrying an
 * Origin (a browser's cross-origin fetch or form post), a Host that is not a loopback name (DNS
 * rebinding: a hostile name resolving to 127.0.0.1), and a body that is not JSON (a "simple"
 * cross-site request: text/plain, a form). Undefined when the request may go on.
 */
export function crossSiteRefusal(headers: Record<string, string | string[] | undefined>, method: string): GraphError | undefined {
  if (headers.origin !== undefined) return new GraphError(403, 'Forbidden', 'The emulator control API refuses requests from web pages (an Origin header was sent).');
  const host = String(headers.host ?? '');
  if (!LOOPBACK_HOST.test(host)) return new GraphError(403, 'Forbidden', `The emulator control API answers only to the loopback names 127.0.0.1, localhost and [::1], not to Host '${host}'.`);
  const hasBody = (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;
  if (method !== 'GET' && method !== 'HEAD' && hasBody && !JSON_MEDIA_TYPE.test(String(headers['content-type'] ?? ''))) {
    return new GraphError(415, 'UnsupportedMediaType', `The emulator control API takes JSON bodies only (Content-Type: application/json), not '${String(headers['content-type'] ?? '')}'.`);
  }
  return undefined;
}

const decodeURIComponentSafe = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function tenantSummary(ctx: EmulatorContext, t: TenantState) {
  const d = ctx.state.scenario.default;
  const isDefault = ctx.state.defaultTenant === t;
  const defaultApp = isDefault ? t.apps.find((a) => a.appId === d.app.toLowerCase() || a.displayName === d.app) : t.apps[0];
  const defaultUser = isDefault ? t.user(d.user) : t.users[0];
  return {
    id: t.id,
    domain: t.domain,
    displayName: t.displayName,
    cloud: t.cloud,
    features: t.features,
    // `user` is the default user as the scenario names it, even when the directory lacks it
    // (a scenario may reproduce user.not-found that way); userId is null then.
    default: { appId: defaultApp?.appId ?? null, userId: defaultUser?.id ?? null, ...(isDefault ? { user: d.user, scope: d.scope ?? `${GRAPH_AUDIENCE_BY_CLOUD[t.cloud]}/.default`, credential: d.credential } : {}) },
    apps: t.apps.map((a) => ({
      appId: a.appId,
      displayName: a.displayName,
      servicePrincipalId: a.servicePrincipalId,
      homeTenantId: a.homeTenantId,
      secrets: a.secrets.map((s) => ({ value: s.value, expiresAt: s.expiresAt.toISOString() })),
      certificates: a.certificates.map((c) => ({ name: c.name, thumbprint: c.thumbprint, certPath: c.certPath, keyPath: c.keyPath, notAfter: c.notAfter.toISOString() })),
      roles: a.consented,
      permissions: a.permissions,
    })),
    users: t.users.length > 1000 ? t.users.slice(0, 1000).map(userSummary) : t.users.map(userSummary),
    userCount: t.users.length,
  };
}

const userSummary = (u: TenantState['users'][number]) => ({ id: u.id, userPrincipalName: u.userPrincipalName, userType: u.userType });

export function controlRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.addHook('onRequest', async (req) => {
    // Judge by the route the router matched (it decodes %5F and the like), not the raw URL.
    const route = req.routeOptions.url ?? decodeURIComponentSafe(req.url);
    if (route.startsWith('/_emulator') && !LOOPBACK.test(req.socket.remoteAddress ?? '')) {
      throw new GraphError(403, 'Forbidden', 'The emulator control API answers on loopback only.');
    }
    if (route.startsWith('/_emulator')) {
      const refusal = crossSiteRefusal(req.headers, req.method);
      if (refusal) {
        req.log.info({ event: 'control.refused', reason: refusal.message }, 'control API request refused');
        throw refusal;
      }
    }
  });

  const tenantOr404 = (id: string) => {
    const t = ctx.state.tenant(id);
    if (!t) throw graphErrors.notFound(`No tenant ${id} in scenario ${ctx.state.scenario.name}.`);
    return t;
  };

  app.get('/_emulator/health', async () => ({ ok: true, scenario: ctx.state.scenario.name, now: ctx.clock.now().toISOString() }));
  app.get('/_emulator/tenants', async () => ({ scenario: ctx.state.scenario.name, tenants: ctx.state.tenants.map((t) => tenantSummary(ctx, t)) }));
  app.get<{ Params: { tid: string } }>('/_emulator/tenants/:tid', async (req) => tenantSummary(ctx, tenantOr404(req.params.tid)));

  app.post('/_emulator/reset', async () => {
    await ctx.load(ctx.state.scenario, 'reset');
    return { ok: true, scenario: ctx.state.scenario.name };
  });

  app.post<{ Body: unknown }>('/_emulator/scenario', async (req) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object') throw graphErrors.badRequest('Send the scenario as a JSON object (the same fields as a scenario file).');
    try {
      await ctx.load(req.body, 'posted scenario');
    } catch (e) {
      // A scenario that does not validate is the caller's mistake: 400 naming the fields.
      if (e instanceof ScenarioError) throw graphErrors.badRequest(e.message);
      throw e;
    }
    return { ok: true, scenario: ctx.state.scenario.name, tenants: ctx.state.tenants.map((t) => t.id) };
  });

  // Export-API requests since the scenario loaded: per tenant and per app, 429s, peak requests in any one second.
  app.get('/_emulator/stats', async () => ({ appRequestsPerSecond: ctx.state.scenario.appRequestsPerSecond, ...ctx.stats.snapshot() }));
  app.get('/_emulator/clock', async () => ({ now: ctx.clock.now().toISOString(), frozen: ctx.clock.frozen }));
  app.post<{ Body: { now?: string; advance?: string | number; frozen?: boolean } | undefined }>('/_emulator/clock', async (req) => {
    const b = req.body ?? {};
    try {
      if (b.frozen !== undefined) ctx.clock.freeze(Boolean(b.frozen));
      if (b.now !== undefined) ctx.clock.set(b.now);
      if (b.advance !== undefined) {
        const ms = typeof b.advance === 'number' ? b.advance : ctx.clock.resolve(`+${String(b.advance).replace(/^\+/, '')}`).getTime() - ctx.clock.nowMs();
        if (!Number.isFinite(ms)) throw new Error(`advance must be milliseconds or like "5m", "2h", "1d"`);
        ctx.clock.advance(ms);
      }
    } catch (e) {
      throw graphErrors.badRequest((e as Error).message);
    }
    return { now: ctx.clock.now().toISOString(), frozen: ctx.clock.frozen };
  });

  // Runtime switches: the same fields as the scenario's tenant features/behaviours/faults.
  app.patch<{ Params: { tid: string }; Body: Record<string, unknown> | undefined }>('/_emulator/tenants/:tid', async (req) => {
    const t = tenantOr404(req.params.tid);
    const b = req.body ?? {};
    const tenantSchema = scenarioSchema.shape.tenants.element.shape;
    const parts = { features: tenantSchema.features, behaviours: tenantSchema.behaviours, faults: tenantSchema.faults } as const;
    const unknown = Object.keys(b).filter((k) => !(k in parts));
    if (unknown.length) throw graphErrors.badRequest(`Unknown field(s) ${unknown.join(', ')}; send features, behaviours or faults.`);
    for (const key of Object.keys(parts) as (keyof typeof parts)[]) {
      if (b[key] === undefined) continue;
      const merged = { ...t[key], ...(b[key] as object) };
      const parsed = parts[key].safeParse(merged);
      if (!parsed.success) throw graphErrors.badRequest(`${key}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      (t as unknown as Record<string, unknown>)[key] = parsed.data;
    }
    if (b.behaviours) ctx.throttle.reset();
    return { features: t.features, behaviours: t.behaviours, faults: t.faults };
  });

  // Admin consent changes at run time, e.g. to show a token that predates the grant.
  app.patch<{ Params: { tid: string; appId: string }; Body: { consented?: string[]; consentedAt?: string } | undefined }>('/_emulator/tenants/:tid/apps/:appId', async (req) => {
    const t = tenantOr404(req.params.tid);
    const a = t.app(req.params.appId);
    if (!a) throw graphErrors.notFound(`No app ${req.params.appId} in tenant ${t.id}.`);
    const b = req.body ?? {};
    if (b.consented !== undefined) {
      if (!Array.isArray(b.consented)) throw graphErrors.badRequest('consented must be a list of permission names.');
      const notRequested = b.consented.filter((c) => !a.permissions.includes(c));
      if (notRequested.length) throw graphErrors.badRequest(`consented: ${notRequested.join(', ')} not in the app's requested permissions (${a.permissions.join(', ')}).`);
      a.consented = b.consented;
    }
    if (b.consentedAt !== undefined) {
      const at = ctx.clock.resolve(b.consentedAt);
      if (Number.isNaN(at.getTime())) throw graphErrors.badRequest('consentedAt must be ISO 8601 or an offset like -1h.');
      a.consentedAt = at;
    }
    return { appId: a.appId, consented: a.consented, consentedAt: a.consentedAt.toISOString() };
  });

  // Mint an access token of any shape (delegated, expired, another audience…) to reproduce a
  // token a client might hold. Signed like every emulator token.
  app.post<{ Body: { tenant?: string; appId?: string; audience?: string; lifetimeSeconds?: number; issuedAt?: string; claims?: Record<string, unknown> } | undefined }>('/_emulator/tokens', async (req) => {
    const b = req.body ?? {};
    const t = b.tenant ? tenantOr404(b.tenant) : ctx.state.defaultTenant;
    const a = b.appId ? t.app(b.appId) : t.apps.find((x) => x.appId === ctx.state.scenario.default.app.toLowerCase() || x.displayName === ctx.state.scenario.default.app) ?? t.apps[0];
    if (!a) throw graphErrors.notFound(`No app ${b.appId ?? ''} in tenant ${t.id}.`);
    const nowMs = b.issuedAt ? ctx.clock.resolve(b.issuedAt).getTime() : ctx.clock.nowMs();
    if (Number.isNaN(nowMs)) throw graphErrors.badRequest('issuedAt must be ISO 8601 or an offset like -2h.');
    const { token, expiresIn } = await ctx.tokens.mint({
      tenant: t, app: a, audience: b.audience ?? GRAPH_AUDIENCE_BY_CLOUD[t.cloud], appidacr: '1', nowMs,
      lifetimeSeconds: b.lifetimeSeconds ?? t.behaviours.tokenLifetimeSeconds, claims: b.claims,
    });
    return { token_type: 'Bearer', expires_in: expiresIn, access_token: token };
  });

  interactionControlRoutes(app, ctx, tenantOr404);
  subscriptionControlRoutes(app, ctx, tenantOr404);
}
