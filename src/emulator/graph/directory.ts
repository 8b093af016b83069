// The directory slice Graph serves and copilog reads: users and their licences, the tenant's
// SKUs and organization, app registrations, service principals and app role assignments.
// Objects are rendered from the emulator's state on each request, in Graph's v1.0 shapes.
import { createHash } from 'node:crypto';
import { APPLICATION_ROLE_IDS, DELEGATED_SCOPE_IDS } from '../../graph/permissions.js';
import { USER_PROPERTIES } from '../../graph/user-properties.js';
import { MICROSOFT_GRAPH_APP_ID } from '../../graph/ids.js';
import type { EmulatorContext } from '../context.js';
import { guidFrom } from '../ids.js';
import type { AppState, DirectoryUser, TenantState } from '../state.js';
import { GraphError, graphErrors } from './errors.js';
import { nextLink } from './links.js';
import type { GraphRouter, Segment } from './path.js';
import type { GraphRequest, GraphRouteSpec } from './request.js';
import { ODataEvaluationError, ODataSyntaxError, createFilterPredicate, parseFilter, parseSelect, parseTop } from '../odata/index.js';

type Json = Record<string, unknown>;
const MICROSOFT_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

/** Properties Graph returns for a user when $select is absent. */
const USER_DEFAULT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];

const stamp = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString().replace(/\.\d{3}Z$/, 'Z'));

function planService(name: string): string {
  if (name.startsWith('EXCHANGE')) return 'exchange';
  if (name.startsWith('SHAREPOINT') || name === 'ONEDRIVE_BASIC') return 'SharePoint';
  if (name.startsWith('MCO')) return 'MicrosoftCommunicationsOnline';
  if (name.startsWith('TEAMS')) return 'TeamspaceAPI';
  if (name.includes('COPILOT')) return 'M365Copilot';
  if (name.startsWith('OFFICE') || name.startsWith('O365')) return 'MicrosoftOffice';
  return name.split('_')[0]!;
}

/** Rendered users per tenant: a tenant's directory never changes after load, so $filter over
 * 10,000 users evaluates against ready objects instead of rebuilding each one per request. */
const renderedUsers = new WeakMap<TenantState, Map<DirectoryUser, Json>>();

function cachedUser(t: TenantState, u: DirectoryUser): Json {
  let cache = renderedUsers.get(t);
  if (!cache) renderedUsers.set(t, (cache = new Map()));
  let json = cache.get(u);
  if (!json) cache.set(u, (json = renderUser(t, u)));
  return json;
}

function renderUser(t: TenantState, u: DirectoryUser): Json {
  const [given, ...rest] = u.displayName.split(' ');
  const enabledPlans = t.enabledPlans(u);
  // A policy-excluded mailbox is an ordinary online one as far as the directory shows.
  const cloudMailbox = u.mailbox === 'online' || u.mailbox === 'excludedByPolicy';
  const exchangeStatus = cloudMailbox ? 'Success' : u.mailbox === 'onPremises' ? 'PendingActivation' : 'PendingInput';
  const provisioned = new Map<string, Json>();
  for (const l of u.licenses) for (const [name, id] of l.sku.servicePlans) {
    if (!enabledPlans.has(id) || l.disabledPlanIds.includes(id)) continue;
    const service = planService(name);
    const status = l.provisioningStatus !== 'Success' ? l.provisioningStatus : service === 'exchange' ? exchangeStatus : 'Success';
    // One entry per service: a completed provisioning of the service (from another licence) wins.
    if (provisioned.get(service)?.provisioningStatus === 'Success' && status !== 'Success') continue;
    provisioned.set(service, { capabilityStatus: 'Enabled', provisioningStatus: status, service });
  }
  return {
    id: u.id,
    businessPhones: [],
    displayName: u.displayName,
    givenName: given ?? null,
    jobTitle: null,
    mail: u.mailbox === 'none' ? null : u.userPrincipalName,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: 'en-US',
    surname: rest.join(' ') || null,
    userPrincipalName: u.userPrincipalName,
    accountEnabled: u.accountEnabled,
    userType: u.userType,
    usageLocation: u.usageLocation,
    createdDateTime: u.createdDateTime,
    mailNickname: u.userPrincipalName.split('@')[0],
    onPremisesSyncEnabled: u.mailbox === 'onPremises' ? true : null,
    assignedLicenses: u.licenses.map((l) => ({ disabledPlans: l.disabledPlanIds, skuId: l.sku.skuId })),
    assignedPlans: u.licenses.flatMap((l) => l.sku.servicePlans.map(([name, id]) => ({
      assignedDateTime: l.assignedAt ? stamp(l.assignedAt) : u.createdDateTime,
      capabilityStatus: l.disabledPlanIds.includes(id) ? 'Deleted' : 'Enabled',
      service: planService(name),
      servicePlanId: id,
    }))),
    provisionedPlans: [...provisioned.values()],
  };
}

function licenseDetails(u: DirectoryUser): Json[] {
  return u.licenses.map((l) => ({
    id: createHash('sha256').update(`${u.id}:${l.sku.skuId}`).digest('base64url').slice(0, 43),
    skuId: l.sku.skuId,
    skuPartNumber: l.sku.skuPartNumber,
    servicePlans: l.sku.servicePlans.map(([name, id]) => ({
      appliesTo: 'User',
      provisioningStatus: l.disabledPlanIds.includes(id) ? 'Disabled' : l.provisioningStatus !== 'Success' ? l.provisioningStatus : planService(name) === 'exchange' && (u.mailbox === 'onPremises' || u.mailbox === 'none') ? 'PendingInput' : 'Success',
      servicePlanId: id,
      servicePlanName: name,
    })),
  }));
}

/**
 * Resource-specific permission grants on a user (GET /users/{id}/permissionGrants): where an app's
 * per-user RSC grant such as AiEnterpriseInteraction.Read.User shows (it never reaches the
 * tenant-wide token, the app's appRoleAssignments or requiredResourceAccess). A scenario's `rsc`
 * list is granted on every user of the tenant.
 */
function permissionGrants(t: TenantState, u: DirectoryUser): Json[] {
  return t.apps.flatMap((a) => a.rsc.map((permission) => ({
    id: guidFrom(t.id, 'rsc', a.appId, u.id, permission),
    deletedDateTime: null,
    // Microsoft's descriptions: clientId is the app's id, clientAppId its service principal's.
    clientId: a.appId,
    clientAppId: a.servicePrincipalId,
    permission,
    permissionType: 'Application',
    resourceAppId: MICROSOFT_GRAPH_APP_ID,
  })));
}

function subscribedSkus(t: TenantState): Json[] {
  const used = new Map<string, { sku: DirectoryUser['licenses'][number]['sku']; consumed: number }>();
  for (const u of t.users) for (const l of u.licenses) {
    const e = used.get(l.sku.skuId) ?? { sku: l.sku, consumed: 0 };
    e.consumed++;
    used.set(l.sku.skuId, e);
  }
  const declared = t.subscribedSkuSpec ?? [];
  for (const d of declared) {
    const sku = t.catalog.sku(d.sku);
    if (sku && !used.has(sku.skuId)) used.set(sku.skuId, { sku, consumed: 0 });
  }
  return [...used.values()].map(({ sku, consumed }) => {
    const prepaid = declared.find((d) => t.catalog.sku(d.sku)?.skuId === sku.skuId)?.prepaidUnits ?? Math.max(consumed, 25);
    return {
      id: `${t.id}_${sku.skuId}`,
      accountId: t.id,
      accountName: t.displayName,
      appliesTo: 'User',
      capabilityStatus: 'Enabled',
      consumedUnits: consumed,
      skuId: sku.skuId,
      skuPartNumber: sku.skuPartNumber,
      subscriptionIds: [guidFrom(t.id, 'subscription', sku.skuId)],
      prepaidUnits: { enabled: prepaid, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: sku.servicePlans.map(([name, id]) => ({ servicePlanId: id, servicePlanName: name, provisioningStatus: 'Success', appliesTo: 'User' })),
    };
  });
}

/** Non-nullable collections of servicePrincipal Graph always returns (empty here). */
const SP_EMPTY_COLLECTIONS = { addIns: [], alternativeNames: [], notificationEmailAddresses: [], replyUrls: [], resourceSpecificApplicationPermissions: [] };

function graphServicePrincipal(t: TenantState): Json {
  return {
    id: t.graphServicePrincipalId, appId: MICROSOFT_GRAPH_APP_ID, displayName: 'Microsoft Graph', appDisplayName: 'Microsoft Graph',
    appOwnerOrganizationId: MICROSOFT_TENANT, accountEnabled: true, appRoleAssignmentRequired: false, servicePrincipalType: 'Application',
    signInAudience: 'AzureADMultipleOrgs', servicePrincipalNames: ['https://graph.microsoft.com', MICROSOFT_GRAPH_APP_ID, 'https://graph.microsoft.com/'],
    tags: [], keyCredentials: [], passwordCredentials: [], ...SP_EMPTY_COLLECTIONS,
    // Microsoft's delegated permission ids (graph-permission-ids.json), as on the real Graph SP.
    oauth2PermissionScopes: Object.entries(DELEGATED_SCOPE_IDS).map(([value, id]) => ({
      adminConsentDescription: `Allows the app to ${value} on behalf of the signed-in user.`, adminConsentDisplayName: value, id, isEnabled: true,
      origin: 'Application', type: 'Admin', userConsentDescription: null, userConsentDisplayName: null, value,
    })),
    appRoles: Object.entries(APPLICATION_ROLE_IDS).map(([value, id]) => ({
      allowedMemberTypes: ['Application'], description: `Allows the app to ${value} without a signed-in user.`, displayName: value, id, isEnabled: true, origin: 'Application', value,
    })),
  };
}

const keyCredentials = (a: AppState) => a.certificates.map((c) => ({
  customKeyIdentifier: c.thumbprint, displayName: `CN=${c.name}`, endDateTime: stamp(c.notAfter), key: null,
  keyId: guidFrom(a.appId, 'cert', c.name), startDateTime: stamp(c.notBefore), type: 'AsymmetricX509Cert', usage: 'Verify',
}));

function appServicePrincipal(t: TenantState, a: AppState): Json {
  return {
    id: a.servicePrincipalId, appId: a.appId, displayName: a.displayName, appDisplayName: a.displayName, appOwnerOrganizationId: t.id,
    accountEnabled: true, appRoleAssignmentRequired: false, servicePrincipalType: 'Application', signInAudience: 'AzureADMyOrg',
    servicePrincipalNames: [a.appId], tags: ['WindowsAzureActiveDirectoryIntegratedApp'], appRoles: [], oauth2PermissionScopes: [],
    keyCredentials: keyCredentials(a), passwordCredentials: [], ...SP_EMPTY_COLLECTIONS,
  };
}

function application(a: AppState): Json {
  return {
    id: a.objectId, appId: a.appId, displayName: a.displayName, signInAudience: 'AzureADMyOrg',
    addIns: [], appRoles: [], identifierUris: [], managerApplications: [], oauth2RequirePostResponse: false, tags: [],
    requiredResourceAccess: [{
      resourceAppId: MICROSOFT_GRAPH_APP_ID,
      resourceAccess: [...a.permissions.map((p) => ({ id: APPLICATION_ROLE_IDS[p]!, type: 'Role' })), ...a.delegated.map((p) => ({ id: DELEGATED_SCOPE_IDS[p]!, type: 'Scope' }))],
    }],
    passwordCredentials: a.secrets.map((s) => ({
      customKeyIdentifier: null, displayName: s.displayName, endDateTime: stamp(s.expiresAt), hint: s.value.slice(0, 3), keyId: s.keyId, secretText: null, startDateTime: stamp(new Date(s.expiresAt.getTime() - 180 * 86_400_000)),
    })),
    keyCredentials: keyCredentials(a),
  };
}

function appRoleAssignments(t: TenantState, a: AppState | undefined, nowMs: number): Json[] {
  if (!a || a.consentedAt.getTime() > nowMs) return [];
  return a.consented.map((role) => ({
    id: createHash('sha256').update(`${a.servicePrincipalId}:${role}`).digest('base64url').slice(0, 43),
    deletedDateTime: null, appRoleId: APPLICATION_ROLE_IDS[role]!, createdDateTime: stamp(a.consentedAt),
    principalDisplayName: a.displayName, principalId: a.servicePrincipalId, principalType: 'ServicePrincipal',
    resourceDisplayName: 'Microsoft Graph', resourceId: t.graphServicePrincipalId,
  }));
}

/** Apply $select (case-insensitive names; id always kept by Graph only when asked). */
function project(obj: Json, select: string[] | undefined): Json {
  if (!select) return obj;
  const out: Json = {};
  const keys = Object.keys(obj);
  for (const s of select) {
    const k = keys.find((x) => x.toLowerCase() === s.toLowerCase());
    if (k) out[k] = obj[k];
  }
  return out;
}

const same = (x: Json): Json => x;

const USER_PROPERTY_BY_LOWER = new Map(Object.keys(USER_PROPERTIES).map((k) => [k.toLowerCase(), k]));

/**
 * $select on users as Graph answers it: every name must be a property of microsoft.graph.user
 * (else 400), signInActivity needs AuditLog.Read.All (else 403), and a selected property the user
 * has no value for is null ([] for a collection) rather than left out.
 */
function userSelect(r: GraphRequest): string[] | undefined {
  let select: string[] | undefined;
  try {
    select = r.query.$select !== undefined ? parseSelect(r.query.$select) : undefined;
  } catch (e) {
    odataQueryError(e);
  }
  if (!select) return undefined;
  const names = select.map((s) => {
    const name = USER_PROPERTY_BY_LOWER.get(s.toLowerCase());
    if (!name) throw graphErrors.badRequest(`Could not find a property named '${s}' on type 'microsoft.graph.user'.`, 'Request_BadRequest');
    return name;
  });
  if (names.includes('signInActivity') && !r.roles.includes('AuditLog.Read.All')) {
    throw new GraphError(403, 'Authorization_RequestDenied', 'Calling principal does not have required MSGraph permissions AuditLog.Read.All');
  }
  return names;
}

function projectUser(obj: Json, select: string[]): Json {
  const out: Json = {};
  for (const k of select) {
    if (USER_PROPERTIES[k] === 'navigation') continue; // a relationship is expanded, not selected
    out[k] = obj[k] !== undefined ? obj[k] : USER_PROPERTIES[k] === 'many' ? [] : null;
  }
  return out;
}

function odataQueryError(e: unknown): never {
  if (e instanceof ODataSyntaxError || e instanceof ODataEvaluationError) throw graphErrors.badRequest(e.message, 'Request_BadRequest');
  throw e;
}

/**
 * A collection answer with $filter, $select, $top, $count and skiptoken paging. Objects are
 * rendered lazily: without $filter only the page is rendered (a 10,000-user tenant lists fast).
 */
function collection<T>(r: GraphRequest, entitySet: string, source: readonly T[], render: (x: T) => Json, entityType: string, defaultSelect?: string[], users = false): Json {
  const q = r.query;
  let select: string[] | undefined = users ? userSelect(r) : undefined;
  let top: number | undefined;
  let list: readonly (T | Json)[] = source;
  let rendered = false;
  try {
    if (!users) select = q.$select !== undefined ? parseSelect(q.$select) : undefined;
    top = parseTop(q.$top);
    if (q.$filter !== undefined) {
      const all = source.map(render);
      const keep = createFilterPredicate(parseFilter(q.$filter), { allowedProperties: all[0] ? Object.keys(all[0]) : undefined, entityType });
      list = all.filter(keep);
      rendered = true;
    }
  } catch (e) {
    odataQueryError(e);
  }
  const count = q.$count?.toLowerCase();
  if (count !== undefined && count !== 'true' && count !== 'false') throw graphErrors.badRequest(`Invalid value for $count: '${q.$count}'.`, 'Request_BadRequest');
  const wantCount = count === 'true';
  if (wantCount && String(r.req.headers.consistencylevel ?? '').toLowerCase() !== 'eventual') {
    throw graphErrors.badRequest('$count is not currently supported without the ConsistencyLevel: eventual header.', 'Request_BadRequest');
  }
  const size = Math.min(top ?? 100, 999);
  let offset = 0;
  if (q.$skiptoken !== undefined) {
    const m = /^o(\d+)$/.exec(Buffer.from(q.$skiptoken, 'base64url').toString('utf8'));
    if (!m) throw graphErrors.badRequest('Skip token is null or invalid.', 'Request_BadRequest');
    offset = Number(m[1]);
  }
  const page = list.slice(offset, offset + size).map((x) => (rendered ? (x as Json) : render(x as T)));
  const sel = select ?? defaultSelect;
  const body: Json = {
    '@odata.context': `${r.base}/$metadata#${entitySet}${select ? `(${select.join(',')})` : ''}`,
    ...(wantCount ? { '@odata.count': list.length } : {}),
  };
  if (offset + size < list.length) {
    body['@odata.nextLink'] = nextLink(r, Buffer.from(`o${offset + size}`).toString('base64url'));
  }
  body.value = page.map((x) => (users && select ? projectUser(x, select) : project(x, sel)));
  return body;
}

function single(r: GraphRequest, entitySetPath: string, obj: Json, defaultSelect?: string[]): Json {
  let select: string[] | undefined;
  try {
    select = r.query.$select !== undefined ? parseSelect(r.query.$select) : undefined;
  } catch (e) {
    odataQueryError(e);
  }
  return { '@odata.context': `${r.base}/$metadata#${entitySetPath}${select ? `(${select.join(',')})` : ''}/$entity`, ...project(obj, select ?? defaultSelect) };
}

function userFrom(r: GraphRequest, seg: Segment | undefined): DirectoryUser {
  const key = seg?.kind === 'key' ? seg.value : seg?.raw ?? '';
  const u = seg?.kind === 'key' && seg.property ? undefined : r.tenant.user(key);
  if (!u) throw graphErrors.userNotFound(key);
  return u;
}

function spFrom(r: GraphRequest, seg: Segment | undefined): Json {
  const key = (seg?.kind === 'key' ? seg.value : seg?.raw ?? '').toLowerCase();
  const byAppId = seg?.kind === 'key' && seg.property === 'appid';
  if (seg?.kind === 'key' && seg.property && !byAppId) throw graphErrors.badRequest(`Invalid key property '${seg.property}'.`, 'Request_BadRequest');
  const t = r.tenant;
  if ((byAppId && key === MICROSOFT_GRAPH_APP_ID) || (!byAppId && key === t.graphServicePrincipalId)) return graphServicePrincipal(t);
  const a = byAppId ? t.app(key) : t.appBySpId(key);
  if (!a) throw graphErrors.userNotFound(key);
  return appServicePrincipal(t, a);
}

export function directoryRoutes(router: GraphRouter<GraphRouteSpec>, ctx: EmulatorContext): void {
  const dir = (handler: GraphRouteSpec['handler']): GraphRouteSpec => ({ handler, denial: 'directory' });
  const segValue = (s: Segment | undefined) => (s?.kind === 'key' ? s.value : s?.raw ?? '');

  // A group's members through nested groups: only users are modelled, so the cast to
  // microsoft.graph.user returns the same set, typed.
  const members = dir((r) => {
    const key = r.params[0]?.kind === 'key' ? r.params[0].value : r.params[0]?.raw ?? '';
    const g = r.tenant.group(key);
    if (!g || g.id !== key.toLowerCase()) throw graphErrors.notFound(`Resource '${key}' does not exist or one of its queried reference-property objects are not present.`, 'Request_ResourceNotFound');
    return collection(r, `groups('${g.id}')/transitiveMembers`, r.tenant.transitiveUsers(g), (u) => ({ '@odata.type': '#microsoft.graph.user', ...cachedUser(r.tenant, u) }), 'microsoft.graph.user', USER_DEFAULT, true);
  });
  router
    .add('users', dir((r) => collection(r, 'users', r.tenant.users, (u) => cachedUser(r.tenant, u), 'microsoft.graph.user', USER_DEFAULT, true)))
    .add('users/{id}', dir((r) => {
      const select = userSelect(r);
      const u = cachedUser(r.tenant, userFrom(r, r.params[0]));
      return { '@odata.context': `${r.base}/$metadata#users${select ? `(${select.join(',')})` : ''}/$entity`, ...(select ? projectUser(u, select) : project(u, USER_DEFAULT)) };
    }))
    .add('groups/{id}/transitivemembers', members)
    .add('groups/{id}/transitivemembers/user', { ...members, permissionPath: '/groups/{id}/transitivemembers' })
    .add('users/{id}/licensedetails', dir((r) => {
      const u = userFrom(r, r.params[0]);
      return collection(r, `users('${u.id}')/licenseDetails`, licenseDetails(u), same, 'microsoft.graph.licenseDetails');
    }))
    .add('users/{id}/permissiongrants', dir((r) => {
      const u = userFrom(r, r.params[0]);
      return collection(r, `users('${u.id}')/permissionGrants`, permissionGrants(r.tenant, u), same, 'microsoft.graph.resourceSpecificPermissionGrant');
    }))
    .add('subscribedskus', dir((r) => collection(r, 'subscribedSkus', subscribedSkus(r.tenant), same, 'microsoft.graph.subscribedSku')))
    .add('organization', dir((r) => collection(r, 'organization', [{
      id: r.tenant.id, displayName: r.tenant.displayName, tenantType: 'AAD', countryLetterCode: 'US', preferredLanguage: 'en',
      createdDateTime: r.tenant.createdDateTime, businessPhones: [], technicalNotificationMails: [`admin@${r.tenant.domain}`],
      verifiedDomains: [{ capabilities: 'Email, OfficeCommunicationsOnline', isDefault: true, isInitial: true, name: r.tenant.domain, type: 'Managed' }],
      assignedPlans: [], provisionedPlans: [], onPremisesSyncEnabled: null,
      marketingNotificationEmails: [], securityComplianceNotificationMails: [], securityComplianceNotificationPhones: [], mobileDeviceManagementAuthority: 'unknown',
    }], same, 'microsoft.graph.organization')))
    .add('applications', dir((r) => collection(r, 'applications', r.tenant.apps, application, 'microsoft.graph.application')))
    .add('applications/{id}', dir((r) => {
      const s = r.params[0];
      const key = segValue(s).toLowerCase();
      const a = s?.kind === 'key' && s.property === 'appid' ? r.tenant.app(key) : r.tenant.apps.find((x) => x.objectId === key);
      if (!a) throw graphErrors.userNotFound(key);
      return single(r, 'applications', application(a));
    }))
    .add('serviceprincipals', dir((r) => collection(r, 'servicePrincipals', [graphServicePrincipal(r.tenant), ...r.tenant.apps.map((a) => appServicePrincipal(r.tenant, a))], same, 'microsoft.graph.servicePrincipal')))
    .add('serviceprincipals/{id}', dir((r) => single(r, 'servicePrincipals', spFrom(r, r.params[0]))))
    .add('serviceprincipals/{id}/approleassignments', dir((r) => {
      const sp = spFrom(r, r.params[0]);
      const a = r.tenant.appBySpId(String(sp.id));
      return collection(r, `servicePrincipals('${String(sp.id)}')/appRoleAssignments`, appRoleAssignments(r.tenant, a, ctx.clock.nowMs()), same, 'microsoft.graph.appRoleAssignment');
    }));
}
