// GET /copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions — the API copilog
// exists for. The gates run in the order Graph applies them (token → role → tenant → user →
// licence → mailbox → throttling → faults); each refusal is logged with the gate's name, and
// the response says only what Graph says.
import { createHmac } from 'node:crypto';
import { EXPORT_ROLE } from '../../graph/ids.js';
import { PLAN } from '../../graph/licensing.js';
import type { EmulatorContext } from '../context.js';
import type { AiInteraction } from '../interactions/model.js';
import { MAX_PAGE, type StoredJson } from '../interactions/store.js';
import { analyzeInteractionFilter, ODataSyntaxError, parseFilter, parseTop, type InteractionTimeBound } from '../odata/index.js';
import type { DirectoryUser, TenantState } from '../state.js';
import { GraphError, graphErrors } from './errors.js';
import { applyFaults, formatRetryAfter, sendBroken } from './faults.js';
import { nextLink } from './links.js';
import type { GraphRouter } from './path.js';
import type { GraphRequest, GraphRouteSpec } from './request.js';

const UNSUPPORTED_OPTIONS = ['$count', '$select', '$orderby', '$search', '$skip', '$expand'];
const KNOWN_APP_CLASSES = ['Word', 'Excel', 'Teams', 'BizChat', 'WebChat', 'CoworkChat', 'Loop', 'PowerPoint', 'OneNote', 'Outlook', 'Whiteboard', 'SharePoint', 'Forms', 'M365App', 'VivaEngage']
  .map((a) => `ipm.skypeteams.message.copilot.${a.toLowerCase()}`).concat('ipm.skypeteams.message.teamscopilot.ainotes.teams');

interface Query { from?: InteractionTimeBound; to?: InteractionTimeBound; appClasses?: string[]; top: number }
interface Cursor { skip: number; userIndex: number; createdMs: number; id: string }

/** Does this tenant's user get interaction history at all (a Copilot SKU assigned, or set explicitly)? */
export const hasHistory = (u: DirectoryUser): boolean => u.interactionCount > 0 && u.licenses.some((l) => l.sku.servicePlans.some(([, id]) => id === PLAN.M365_COPILOT_BUSINESS_CHAT));

export function ensureHistory(ctx: EmulatorContext, t: TenantState, u: DirectoryUser): void {
  ctx.store.ensureUser(t.id, u.id, {
    seed: t.interactions.seed, count: hasHistory(u) ? u.interactionCount : 0, start: t.historyWindow.start, end: t.historyWindow.end, locale: u.locale,
  });
}

export function interactionRoutes(router: GraphRouter<GraphRouteSpec>, ctx: EmulatorContext): void {
  const refuse = (r: GraphRequest, gate: string, err: GraphError, detail: Record<string, unknown> = {}): never => {
    r.req.log.info({ event: 'graph.refused', gate, tenant: r.tenant.id, appId: r.appId, ...detail }, `refused at gate: ${gate}`);
    throw err;
  };

  /** Gates shared by the per-user and tenant-wide forms, up to (not including) the user. */
  const callerGates = (r: GraphRequest) => {
    const b = r.tenant.behaviours;
    if (r.claims.scp !== undefined || r.claims.idtyp === 'user') refuse(r, 'delegated-token', graphErrors.forbidden(b.roleMissingMessage), { scp: r.claims.scp });
    if (!r.roles.includes(EXPORT_ROLE)) refuse(r, 'role', graphErrors.forbidden(b.roleMissingMessage), { roles: r.roles });
    if (r.tenant.cloud === 'china') refuse(r, 'cloud', graphErrors.segmentNotFound('copilot'), { cloud: r.tenant.cloud });
    if (!r.tenant.features.interactionExport) refuse(r, 'tenant-feature', graphErrors.forbidden('UnknownError'), { feature: 'interactionExport' });
  };

  /** Throttling then faults: after the gates, as Graph counts only admitted requests here. */
  const admit = async (r: GraphRequest) => {
    const perSecond = r.tenant.behaviours.requestsPerSecond;
    const style = r.tenant.behaviours.retryAfter;
    // Counted when the request arrived, not when this busy process got round to it after the
    // token and directory gates: requests sent evenly stay evenly spaced here, as at Graph's door.
    const now = (r.req as { arrivedAt?: number }).arrivedAt ?? Date.now();
    // Per app across every tenant first (a refused request spends no tenant budget), then per app per tenant.
    const appLimit = ctx.state.scenario.appRequestsPerSecond;
    const appWait = appLimit !== null ? ctx.stats.appWait(r.appId, appLimit, now) : undefined;
    if (appWait !== undefined) {
      ctx.stats.record(r.tenant.id, r.appId, true, now);
      refuse(r, 'throttle-app', graphErrors.tooManyRequests(formatRetryAfter(appWait, style)), { wait: appWait, limit: appLimit });
    }
    if (perSecond !== null) {
      const wait = ctx.throttle.take(`${r.tenant.id}:${r.appId}`, perSecond, now, (s) => Number(formatRetryAfter(s, style)));
      ctx.stats.record(r.tenant.id, r.appId, wait !== undefined, now);
      if (wait !== undefined) refuse(r, 'throttle', graphErrors.tooManyRequests(formatRetryAfter(wait, style)), { wait });
    } else ctx.stats.record(r.tenant.id, r.appId, false, now);
    await applyFaults(r);
  };

  /** The documented spelling only: /copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions. */
  const DOCUMENTED = /^\/(v1\.0|beta)\/copilot\/users\/[^/]+\/interactionHistory\/getAllEnterpriseInteractions$/;

  const perUser = async (r: GraphRequest) => {
    if (r.tenant.behaviours.pathVariants === 'documentedOnly' && !DOCUMENTED.test(r.req.url.split('?')[0]!)) {
      const last = decodeURIComponent(r.req.url.split('?')[0]!.split('/').pop() ?? '');
      refuse(r, 'path-variant', graphErrors.segmentNotFound(last), { path: r.req.url.split('?')[0] });
    }
    callerGates(r);
    const t = r.tenant;
    const b = t.behaviours;
    const key = r.params[0]?.kind === 'key' ? r.params[0].value : r.params[0]?.raw ?? '';
    const byUpn = key.includes('@');
    const u = byUpn && b.upnInPath === 'notFound' ? undefined : t.user(key);
    if (!u) {
      refuse(r, 'user-exists', b.unknownUser === 'forbidden' ? graphErrors.forbidden('UnknownError') : graphErrors.notFound(`The requested user '${key}' is not found.`), { user: key });
    }
    const user = u!;
    let empty = false;
    if (user.userType === 'Guest') {
      if (b.guestUser === 'forbidden') refuse(r, 'user-member', graphErrors.forbidden('UnknownError'), { user: user.id });
      empty = true;
    }
    if (!user.accountEnabled && b.disabledUser === 'forbidden') refuse(r, 'user-enabled', graphErrors.forbidden('UnknownError'), { user: user.id });
    // A plan still being provisioned (a licence assigned minutes ago) does not pass yet.
    if (!t.provisionedPlans(user).has(PLAN.M365_COPILOT_BUSINESS_CHAT)) {
      if (b.unlicensedUser === 'forbidden') refuse(r, 'licence', graphErrors.forbidden('UnknownError'), { user: user.id, plan: 'M365_COPILOT_BUSINESS_CHAT' });
      empty = true;
    }
    for (const [where, rule] of [['onPremises', b.mailboxOnPremises], ['none', b.mailboxNone], ['excludedByPolicy', b.mailboxExcludedByPolicy]] as const) {
      if (user.mailbox !== where || rule === 'allow') continue;
      refuse(r, 'mailbox', rule === 'forbidden' ? graphErrors.forbidden('UnknownError') : graphErrors.notFound(`The requested user '${key}' is not found.`), { user: user.id, mailbox: where });
    }
    await admit(r);
    const q = parseQuery(r);
    const cursor = readCursor(r, q, user.id);
    if (empty) return reply(r, q, [], undefined);
    ensureHistory(ctx, t, user);
    const items = fetch(t, user, q, cursor);
    return reply(r, q, items.slice(0, q.top), items.length > q.top ? nextCursor(cursor, items[q.top - 1]!, q.top) : undefined, user.id);
  };

  const tenantWide = async (r: GraphRequest) => {
    const t = r.tenant;
    if (t.behaviours.tenantWideGet === 'notFound') refuse(r, 'tenant-wide', graphErrors.notFound('Requested API is not supported. Please check the path.'));
    callerGates(r);
    await admit(r);
    const q = parseQuery(r);
    const cursor = readCursor(r, q, '*');
    // Walk licensed users in directory order, filling one page across users.
    const out: { userIndex: number; item: StoredJson }[] = [];
    for (let i = cursor.userIndex; i < t.users.length && out.length <= q.top; i++) {
      const u = t.users[i]!;
      if (!t.provisionedPlans(u).has(PLAN.M365_COPILOT_BUSINESS_CHAT) || u.userType === 'Guest') continue;
      ensureHistory(ctx, t, u);
      const from = i === cursor.userIndex ? cursor : { ...cursor, userIndex: i, createdMs: -1, id: '' };
      for (const item of fetch(t, u, { ...q, top: q.top - out.length }, from)) out.push({ userIndex: i, item });
    }
    const page = out.slice(0, q.top);
    const last = page[page.length - 1];
    const next = out.length > q.top && last ? { ...nextCursor(cursor, last.item, q.top), userIndex: last.userIndex } : undefined;
    return reply(r, q, page.map((p) => p.item), next, '*');
  };

  function fetch(t: TenantState, u: DirectoryUser, q: Query, c: Cursor): StoredJson[] {
    // What the service can see now: nothing newer than the ingestion delay, nothing older than
    // the retention window (graph-facts §12 #22), intersected with the caller's own bounds.
    const b = t.behaviours;
    const nowMs = ctx.clock.nowMs();
    let { from, to } = q;
    if (b.ingestionDelaySeconds > 0) {
      const visible = nowMs - b.ingestionDelaySeconds * 1000;
      if (!to || to.ms > visible || (to.ms === visible && to.inclusive)) to = { ms: visible, inclusive: true, subSecond: true };
    }
    if (b.retentionDays !== null) {
      const oldest = nowMs - b.retentionDays * 86_400_000;
      if (!from || from.ms < oldest) from = { ms: oldest, inclusive: true, subSecond: true };
    }
    return ctx.store.pageJson(t.id, u.id, {
      fromMs: from?.ms, fromInclusive: from?.inclusive, toMs: to?.ms, toInclusive: to?.inclusive,
      appClasses: q.appClasses, after: c.createdMs >= 0 ? { createdMs: c.createdMs, id: c.id } : undefined, limit: q.top + 1,
      descending: b.sortOrder === 'descending',
    });
  }

  function parseQuery(r: GraphRequest): Query {
    const b = r.tenant.behaviours;
    const q = r.query;
    if (b.unsupportedQueryOptions === 'reject') {
      const bad = UNSUPPORTED_OPTIONS.find((o) => Object.keys(q).some((k) => k.toLowerCase() === o));
      if (bad) throw graphErrors.badRequest(`Query option '${bad}' is not supported on getAllEnterpriseInteractions.`, 'notSupported');
    }
    let top: number;
    try {
      top = parseTop(q.$top) ?? b.defaultPageSize;
    } catch (e) {
      throw graphErrors.invalidRequest((e as Error).message);
    }
    if (b.topCap !== null && top > b.topCap) {
      if (b.topAboveCap === 'reject') throw graphErrors.invalidRequest(`Invalid value for $top: ${top}. The maximum page size is ${b.topCap}.`);
      top = b.topCap;
    }
    // "No cap" still stops at what one page of the store holds (one extra row says "more").
    top = Math.min(top, MAX_PAGE - 1);
    if (q.$filter === undefined) return { top };
    if (b.rejectAllFilters) throw graphErrors.invalidRequest('$filter is not supported on this request.');
    let analysis;
    try {
      analysis = analyzeInteractionFilter(parseFilter(q.$filter));
    } catch (e) {
      if (e instanceof ODataSyntaxError) throw graphErrors.invalidRequest(e.message);
      throw e;
    }
    if (!analysis.ok) throw graphErrors.invalidRequest(`Invalid filter clause: ${analysis.detail}`);
    const { from, to, appClasses } = analysis;
    if ((from && !to) || (!from && to)) {
      const msg = `Invalid filter clause: both a lower (gt) and an upper (lt) bound on createdDateTime are required.`;
      throw b.oneBoundFilter === 500 ? new GraphError(500, 'generalException', 'An unexpected error occurred.') : graphErrors.invalidRequest(msg);
    }
    if (b.inclusiveBounds === 'reject' && (from?.inclusive || to?.inclusive)) throw graphErrors.invalidRequest('Invalid filter clause: only gt and lt are supported on createdDateTime.');
    if (b.subSecond === 'reject' && (from?.subSecond || to?.subSecond)) throw graphErrors.invalidRequest('Invalid filter clause: createdDateTime values with fractional seconds are not supported.');
    if (appClasses && b.unknownAppClass === 'reject') {
      const unknown = appClasses.find((a) => !KNOWN_APP_CLASSES.includes(a.toLowerCase()));
      if (unknown) throw graphErrors.invalidRequest(`Invalid filter clause: appClass '${unknown}' is not supported.`);
    }
    return { from, to, appClasses, top };
  }

  // Skiptokens look like Graph's (base64 "SkipValue=N#MailboxFolder=…") and carry a keyset
  // cursor plus a MAC over the request they belong to, so tampered or foreign tokens are caught.
  const macKey = ctx.pki.signing.keyPem;
  const scope = (r: GraphRequest, q: Query, userId: string) =>
    [r.tenant.id, userId, q.from?.ms, q.from?.inclusive, q.to?.ms, q.to?.inclusive, (q.appClasses ?? []).join('|'), q.top].join(';');
  const mac = (text: string) => createHmac('sha256', macKey).update(text).digest('base64url').slice(0, 22);

  function readCursor(r: GraphRequest, q: Query, userId: string): Cursor {
    const raw = r.query.$skiptoken;
    if (raw === undefined) return { skip: 0, userIndex: 0, createdMs: -1, id: '' };
    const text = Buffer.from(raw, 'base64').toString('utf8');
    // The id is whatever lies between the time and the final #Sig: ingested ids may hold any
    // printable character, '#' and '.' included.
    const m = /^SkipValue=(\d+)#MailboxFolder=MailFolders\/TeamsMessagesData#Cursor=(\d+)\.(-?\d+)\.(.*)#Sig=([\w-]+)$/s.exec(text);
    if (!m || mac(`${m[1]}.${m[2]}.${m[3]}.${m[4]}|${scope(r, q, userId)}`) !== m[5]) {
      r.req.log.info({ event: 'graph.refused', gate: 'skiptoken' }, 'refused: skiptoken does not belong to this request');
      throw graphErrors.invalidRequest('The $skiptoken is invalid or does not belong to this request. Follow @odata.nextLink exactly as returned.');
    }
    return { skip: Number(m[1]), userIndex: Number(m[2]), createdMs: Number(m[3]), id: m[4]! };
  }

  const nextCursor = (c: Cursor, last: StoredJson, count: number): Cursor =>
    ({ skip: c.skip + count, userIndex: c.userIndex, createdMs: last.createdMs, id: last.id });

  /**
   * Empty-page injection state, per tenant faults object: a PATCH of the faults or a reset
   * starts the count again, so a run is reproducible. `emptied` holds the skiptokens handed out
   * on injected empty pages: the request that follows one is always served.
   */
  const injection = new WeakMap<object, { pages: number; emptied: Set<string> }>();
  function reply(r: GraphRequest, q: Query, items: StoredJson[], next: Cursor | undefined, userId = '*') {
    const every = r.tenant.faults.emptyPageEvery;
    let state = injection.get(r.tenant.faults);
    if (!state) injection.set(r.tenant.faults, (state = { pages: 0, emptied: new Set() }));
    const { emptied } = state;
    const afterEmpty = r.query.$skiptoken !== undefined && emptied.delete(r.query.$skiptoken);
    let injected = false;
    if (every > 0 && items.length > 0 && !afterEmpty && ++state.pages % every === 0) {
      // An empty page that still links on, from where the caller already is.
      next = readCursor(r, q, userId);
      items = [];
      injected = true;
    }
    const body: Record<string, unknown> = { '@odata.context': `${r.base}/$metadata#Collection(microsoft.graph.aiInteraction)` };
    if (r.tenant.behaviours.odataCount === 'perPage') body['@odata.count'] = items.length;
    if (next) {
      const token = `SkipValue=${next.skip}#MailboxFolder=MailFolders/TeamsMessagesData#Cursor=${next.userIndex}.${next.createdMs}.${next.id}`;
      const signed = `${token}#Sig=${mac(`${next.skip}.${next.userIndex}.${next.createdMs}.${next.id}|${scope(r, q, userId)}`)}`;
      const skiptoken = Buffer.from(signed).toString('base64');
      if (injected) {
        emptied.add(skiptoken);
        if (emptied.size > 10_000) emptied.delete(emptied.values().next().value!);
      }
      body['@odata.nextLink'] = nextLink(r, skiptoken);
    }
    // The stored items go into the text as they are (v1.0); beta reshapes each body.
    const value = r.version === 'beta' ? items.map((i) => JSON.stringify(toBeta(JSON.parse(i.json) as AiInteraction))) : items.map((i) => i.json);
    const head = JSON.stringify(body);
    const text = `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"value":[${value.join(',')}]}`;
    if (sendBroken(r, text)) return undefined;
    return text;
  }

  // The resource a change notification names (copilot/interactionHistory/interactions('{id}'))
  // is not fetchable: the CSDL has no such navigation, and graph-facts §12 #27 gives 404 NotFound.
  const interactionById = async (r: GraphRequest) =>
    refuse(r, 'interaction-by-id', graphErrors.notFound('Requested API is not supported. Please check the path.'), { id: r.params[r.params.length - 1]?.raw });

  const spec = (handler: GraphRouteSpec['handler']): GraphRouteSpec => ({ handler, denial: 'none' });
  router
    .add('copilot/users/{id}/interactionhistory/getallenterpriseinteractions', spec(perUser))
    .add('copilot/interactionhistory/getallenterpriseinteractions', spec(tenantWide))
    .add('copilot/interactionhistory/interactions/{id}', spec(interactionById))
    .add('copilot/users/{id}/interactionhistory/interactions/{id}', spec(interactionById));
}

/** beta's body is a chatMessageBody, which adds messageBodyContentType (graph-facts §12 #23). */
function toBeta(i: AiInteraction): unknown {
  return i.body ? { ...i, body: { ...i.body, messageBodyContentType: i.body.contentType } } : i;
}
