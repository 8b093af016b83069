// The doctor's checks, in the order a request meets the gates. Each is a function over the shared
// context that returns {id, status, title, evidence, fix, docs} and records what it saw in
// ctx.facts for the verdict. A check that cannot read something (no permission, no answer) is
// `skip` with the reason and the permission that would enable it; it never throws.
import { decodeJwt } from 'jose';
import { interactionHistoryPath, interactionQuery } from '../../client/copilot.js';
import { MsalCredential, readCertificate, type TokenCredentialLike } from '../../client/credential.js';
import type { ClientConfig, Source } from '../../client/config.js';
import { GraphRequestError, TokenAcquisitionError, TransportError } from '../../client/errors.js';
import { keyValue, type GraphClient } from '../../client/graph.js';
import type { Application, AppRoleAssignment, LicenseDetails, ServicePrincipal, SubscribedSku, Subscription, User } from '../../client/models.js';
import type { Transport } from '../../client/transport.js';
import { EXPORT_ROLE, EXPORT_ROLE_ID, MICROSOFT_GRAPH_APP_ID } from '../../graph/ids.js';
import { EXCHANGE_MAILBOX_PLANS, PLAN, type LicensingCatalog } from '../../graph/licensing.js';
import { leastPrivileged, roleId } from '../../graph/permissions.js';
import type { CheckResult, CheckStatus, ClaimSummary, Facts, ProbeResult, UserLicense, UserReport } from './types.js';
import { cause, codeForAadsts, DOCS, PENDING_FIX, type VerdictContext } from './verdict.js';

export interface DoctorContext {
  config: ClientConfig;
  transport: Transport;
  catalog: LicensingCatalog;
  facts: Facts;
  verdict: VerdictContext;
  /** Acquires the token (MSAL or a caller's credential); undefined with --access-token. */
  credential?: TokenCredentialLike;
  /** The access token in memory only: never printed, logged or written. */
  accessToken?: string;
  /** Graph with the token above, once there is one. */
  graph?: GraphClient;
  makeGraph(token: string): GraphClient;
}

const DELEGATED_EXPORT_ID = '859cceb9-2ec2-4e48-bcd7-b8490b5248a5';
const READ_USER_ROLE = 'AiEnterpriseInteraction.Read.User';
const EXCHANGE_PLAN_NAME = /^EXCHANGE_S_(STANDARD|ENTERPRISE|DESKLESS|ESSENTIALS)(_GOV)?$/i;
const SUBSCRIPTION_QUOTA = { perAppTenant: 1, perAppUser: 1, perUser: 10, perOrganization: 10_000 };

const result = (id: CheckResult['id'], status: CheckStatus, title: string, evidence: string[], extra: Partial<CheckResult> = {}): CheckResult =>
  ({ id, status, title, evidence, ...extra });

const sourceLabel = (s: Source | undefined, flag: string, env: string): string =>
  s === 'flag' ? flag : s === 'env' ? env : s === 'emulator' ? 'emulator default' : s === 'token' ? 'the token' : 'default';

/** Token and Graph calls can go on: a token exists and Graph would take it for this tenant. */
export const graphUsable = (ctx: DoctorContext): boolean => !!ctx.graph && ctx.facts.audienceOk !== false && ctx.facts.tenantOk !== false;

/** The evidence and status for a read the doctor could not make. */
function unreadable(ctx: DoctorContext, e: unknown, what: string, permission: string | undefined): { status: CheckStatus; evidence: string[]; fix?: string } {
  if (e instanceof GraphRequestError) {
    const line = `${e.method} ${pathOf(e.url)} → ${e.status} ${e.code}: ${e.message}${e.requestId ? ` (request-id ${e.requestId})` : ''}`;
    if (e.status === 403) return { status: 'skip', evidence: [line, `cannot read ${what} without ${permission ?? 'a read permission'}`], fix: permission ? `Grant the application permission ${permission} (with admin consent) to let the doctor check this.` : undefined };
    if (e.status === 401) return { status: 'skip', evidence: [line, `Graph refused the token, so ${what} could not be read`] };
    return { status: 'skip', evidence: [line] };
  }
  if (e instanceof TransportError) {
    if (e.kind === 'deadline') ctx.facts.deadlineReached = true;
    return { status: 'skip', evidence: [`${e.ids.method} ${pathOf(e.ids.url)}: ${e.message}`] };
  }
  return { status: 'skip', evidence: [`could not check ${what}: ${(e as Error)?.message ?? String(e)}`] };
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

const pathOf = (url: string): string => {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname + u.search);
  } catch {
    return url;
  }
};

// 1. Configuration -------------------------------------------------------------------------------

export async function checkConfiguration(ctx: DoctorContext, opts: { tokenGiven: boolean }): Promise<CheckResult> {
  const c = ctx.config;
  const f = ctx.facts;
  const evidence = [
    c.mode === 'emulator' ? `target: emulator ${c.emulator?.url} (scenario ${c.emulator?.scenario}), CA ${c.caPath}` : `target: ${c.cloud.displayName}: authority ${c.cloud.authorityHost}, Graph ${c.cloud.graphHost}`,
    `tenant ${c.tenantId || '(none)'} (from ${sourceLabel(c.sources.tenant, '--tenant', 'AZURE_TENANT_ID')})`,
    `client id ${c.clientId || '(none)'} (from ${sourceLabel(c.sources.clientId, '--client-id', 'AZURE_CLIENT_ID')})`,
    `scope ${c.scope} (from ${sourceLabel(c.sources.scope, '--scope', '-')})`,
  ];
  const problems = c.problems.filter((p) => !(opts.tokenGiven && (p.setting === 'credential' || p.setting === 'clientSecret')));
  for (const p of problems) evidence.push(`problem: ${p.message}`);
  f.configProblems.push(...problems.map((p) => p.message));

  let status: CheckStatus = problems.length ? 'fail' : 'pass';
  const cred = c.credential;
  if (opts.tokenGiven) evidence.push('credential: not used (an access token was given)');
  else if (cred.kind === 'secret') evidence.push(`credential: client secret (from ${sourceLabel(cred.source, '--client-secret', 'AZURE_CLIENT_SECRET')}; value not shown)`);
  else if (cred.kind === 'certificate') {
    try {
      const m = readCertificate(cred.certificatePath, cred.keyPath, cred.password);
      const now = Date.now();
      const expired = m.notAfter.getTime() <= now;
      const notYetValid = m.notBefore.getTime() > now;
      f.certificate = { subject: m.subject, thumbprint: m.thumbprintSha1, notBefore: m.notBefore.toISOString(), notAfter: m.notAfter.toISOString(), expired, notYetValid };
      evidence.push(`credential: certificate ${cred.certificatePath} (from ${sourceLabel(cred.source, '--certificate', 'AZURE_CLIENT_CERTIFICATE_PATH')}): ${m.subject}, thumbprint ${m.thumbprintSha1}, valid ${f.certificate.notBefore} to ${f.certificate.notAfter}`);
      if (expired || notYetValid) {
        status = 'fail';
        evidence.push(`the certificate is ${expired ? `expired (since ${f.certificate.notAfter})` : `not valid before ${f.certificate.notBefore}`}`);
      } else if (m.notAfter.getTime() - now < 30 * 86_400_000 && status === 'pass') {
        status = 'warn';
        evidence.push(`the certificate expires within 30 days (${f.certificate.notAfter})`);
      }
    } catch (e) {
      status = 'fail';
      f.certificateError = `${cred.certificatePath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`;
      evidence.push(`certificate unreadable: ${f.certificateError}`);
    }
  }
  if (!opts.tokenGiven) for (const i of c.ignoredCredentials ?? []) evidence.push(`credential ${i}`);
  const certOnly = status === 'fail' && !problems.length && !!f.certificate;
  const fix = status === 'fail' ? cause(certOnly ? 'auth.invalid-certificate' : 'config.invalid', ctx.verdict).fix : undefined;
  const title = status === 'pass' ? 'Configuration is complete and well-formed'
    : status === 'warn' ? 'Configuration works, with a warning'
    : certOnly ? `The certificate is ${f.certificate!.expired ? 'expired' : 'not yet valid'}`
    : f.certificateError && !problems.length ? 'The certificate cannot be read' : 'Configuration has problems';
  return result('config', status, title, evidence, { fix, docs: certOnly ? DOCS.certificates : DOCS.envVars });
}

// 2. Token acquisition ---------------------------------------------------------------------------

export async function checkToken(ctx: DoctorContext, given: string | undefined): Promise<CheckResult> {
  const f = ctx.facts;
  if (given !== undefined) {
    f.tokenSource = 'provided';
    ctx.accessToken = given;
    ctx.graph = ctx.makeGraph(given);
    return result('token', 'skip', 'Token given with --access-token (not acquired)', ['diagnosing the token as given; the credential was not used'], { docs: DOCS.clientCredentials });
  }
  if (!ctx.credential) {
    return result('token', 'skip', 'No token acquired', ['the configuration has no usable credential'], { fix: cause('config.invalid', ctx.verdict).fix, docs: DOCS.envVars });
  }
  const started = Date.now();
  try {
    const t = await ctx.credential.getToken(ctx.config.scope);
    if (!t) throw new TokenAcquisitionError({ error: 'no_token', description: 'The credential returned no token.' });
    f.tokenSource = 'acquired';
    ctx.accessToken = t.token;
    ctx.graph = ctx.makeGraph(t.token);
    return result('token', 'pass', 'Token acquired', [`${ctx.config.credential.kind === 'certificate' ? 'certificate' : ctx.config.credential.kind === 'secret' ? 'client secret' : 'credential'} → token for ${ctx.config.scope} from ${ctx.config.authority} in ${Date.now() - started} ms`], { docs: DOCS.clientCredentials });
  } catch (e) {
    if (e instanceof TransportError) {
      if (e.kind === 'deadline') f.deadlineReached = true;
      f.tokenError = { error: e.kind, description: e.message, transport: `${e.ids.method} ${e.ids.url}: ${e.message}`, transportKind: e.kind, transportPhase: e.phase, host: hostOf(e.ids.url) };
      return result('token', 'fail', 'The token endpoint did not answer', [`${e.ids.method} ${e.ids.url}: ${e.message}`], { fix: e.kind === 'tls' ? 'Trust the endpoint\'s CA (--ca PATH for the emulator).' : 'Check network access to the authority host, proxies and firewalls.', docs: DOCS.clientCredentials });
    }
    const te = e instanceof TokenAcquisitionError ? e : new TokenAcquisitionError({ error: 'client_error', description: (e as Error)?.message ?? String(e) });
    // The configured secret or certificate, when MSAL (not a caller's credential) used it.
    const kind = ctx.credential instanceof MsalCredential && ctx.config.credential.kind !== 'none' ? ctx.config.credential.kind : undefined;
    f.tokenError = { aadsts: te.aadsts, error: te.error, description: te.description, traceId: te.traceId, correlationId: te.correlationId, ...(kind ? { credentialKind: kind } : {}) };
    const code = codeForAadsts(te.aadsts, te.error, kind);
    const k = cause(code, ctx.verdict);
    return result('token', 'fail', `Token refused: ${code === 'unknown' ? te.error : k.title}`, [
      `${te.aadsts ? `AADSTS${te.aadsts}` : te.error}${te.aadsts ? ` (${te.error})` : ''}: ${te.description}`,
      ...(te.traceId ? [`trace id ${te.traceId}, correlation id ${te.correlationId ?? '-'}`] : []),
      ...(code !== 'unknown' ? [k.explanation] : []),
    ], { fix: k.fix, docs: code === 'unknown' ? DOCS.aadsts : k.docs });
  }
}

// 3. Token claims --------------------------------------------------------------------------------

const iso = (s: unknown): string | undefined => (typeof s === 'number' ? new Date(s * 1000).toISOString() : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The claims a diagnosis needs, decoded (never verified: Graph tokens can't be), without the token. */
export function summarizeClaims(token: string, now = Date.now()): ClaimSummary {
  const c = decodeJwt(token);
  const roles = Array.isArray(c.roles) ? c.roles.map(String) : [];
  const s: ClaimSummary = {
    aud: Array.isArray(c.aud) ? c.aud.join(' ') : str(c.aud), iss: str(c.iss), tid: str(c.tid), appid: str(c.appid) ?? str(c.azp),
    app_displayname: str(c.app_displayname), idtyp: str(c.idtyp), scp: str(c.scp), roles, ver: str(c.ver),
    appidacr: str(c.appidacr) ?? str(c.azpacr), oid: str(c.oid), iat: iso(c.iat), nbf: iso(c.nbf), exp: iso(c.exp),
  };
  if (typeof c.exp === 'number' && typeof c.iat === 'number') s.lifetimeSeconds = c.exp - c.iat;
  if (typeof c.exp === 'number') s.expiresInSeconds = Math.round(c.exp - now / 1000);
  for (const k of Object.keys(s) as (keyof ClaimSummary)[]) if (s[k] === undefined) delete s[k];
  return s;
}

export function checkClaims(ctx: DoctorContext): CheckResult {
  const f = ctx.facts;
  if (!ctx.accessToken) return result('claims', 'skip', 'Token claims not checked', ['no token'], { docs: DOCS.claims });
  let c: ClaimSummary;
  try {
    c = summarizeClaims(ctx.accessToken);
  } catch {
    f.claimsError = 'the token is not a JWT';
    return result('claims', 'warn', 'The token is not a JWT', ['its claims cannot be read; Graph will judge it'], { docs: DOCS.claims });
  }
  f.claims = c;
  const cloud = ctx.config.cloud;
  const evidence: string[] = [];
  const problems: string[] = [];

  const auds = (c.aud ?? '').split(' ').map((a) => a.replace(/\/+$/, '').toLowerCase());
  f.audienceOk = auds.some((a) => a === cloud.graphAudience || a === MICROSOFT_GRAPH_APP_ID);
  evidence.push(`aud ${c.aud ?? '(none)'}: ${f.audienceOk ? 'Microsoft Graph' : `not Microsoft Graph (${cloud.graphAudience})`}`);
  if (!f.audienceOk) problems.push('token.wrong-audience');

  const tenant = ctx.config.tenantId.toLowerCase();
  const issTid = /^https:\/\/[^/]+\/([0-9a-f-]{36})\/(v2\.0\/?)?$/i.exec(c.iss ?? '')?.[1]?.toLowerCase();
  if (/^[0-9a-f-]{36}$/i.test(tenant)) {
    f.tenantOk = c.tid?.toLowerCase() === tenant && (issTid === undefined || issTid === tenant);
    evidence.push(`tid ${c.tid ?? '(none)'}, iss ${c.iss ?? '(none)'}: ${f.tenantOk ? 'the configured tenant' : `not the configured tenant ${tenant}`}`);
    if (!f.tenantOk) problems.push('token.wrong-tenant');
  } else {
    evidence.push(`tid ${c.tid ?? '(none)'} (the configured tenant is the domain ${tenant}; not compared)`);
  }
  if (c.appid && ctx.config.clientId && c.appid.toLowerCase() !== ctx.config.clientId) evidence.push(`appid ${c.appid} differs from the configured client id ${ctx.config.clientId}`);
  else if (c.appid) evidence.push(`appid ${c.appid}${c.app_displayname ? ` (${c.app_displayname})` : ''}`);

  f.appOnly = !(c.scp !== undefined || c.idtyp === 'user');
  evidence.push(f.appOnly ? `app-only: idtyp ${c.idtyp ?? '(absent)'}, no scp` : `delegated: scp '${c.scp ?? ''}', idtyp ${c.idtyp ?? '(absent)'}`);
  if (!f.appOnly) problems.push('token.not-app-only');

  if (f.audienceOk) {
    f.hasExportRole = c.roles.includes(EXPORT_ROLE);
    evidence.push(`roles: ${c.roles.length ? c.roles.join(', ') : '(none)'}${f.hasExportRole ? '' : ` (no ${EXPORT_ROLE})`}`);
    if (!f.hasExportRole) problems.push('permission');
    const scopes = (c.scp ?? '').split(/\s+/);
    f.delegatedCopilotOnly = !f.hasExportRole && (scopes.some((s) => /^AiEnterpriseInteraction\.Read(\.|$)/i.test(s)) || c.roles.includes(READ_USER_ROLE));
  } else {
    // A token for another resource carries that resource's roles: they say nothing about Graph's.
    evidence.push(`roles: ${c.roles.length ? c.roles.join(', ') : '(none)'} (for ${c.aud ?? 'another resource'}; not judged, as the token is not for Microsoft Graph)`);
  }

  if (c.exp) {
    f.tokenExpired = (c.expiresInSeconds ?? 1) <= 0;
    evidence.push(`issued ${c.iat ?? '?'}, expires ${c.exp} (lifetime ${c.lifetimeSeconds ?? '?'} s, ${f.tokenExpired ? 'EXPIRED' : `${c.expiresInSeconds} s left`})`);
    if (f.tokenExpired) problems.push('expired');
  }
  const status: CheckStatus = problems.length ? 'fail' : 'pass';
  const first = problems[0];
  const code = first === 'token.wrong-audience' || first === 'token.wrong-tenant' ? first : first === 'token.not-app-only' ? (f.delegatedCopilotOnly ? 'permission.delegated-only' : 'token.not-app-only') : first === 'permission' ? (f.delegatedCopilotOnly ? 'permission.delegated-only' : 'permission.missing-role') : undefined;
  return result('claims', status, status === 'pass' ? 'The token is app-only, for Graph, with the export role' : 'The token cannot export interactions', evidence, {
    ...(code ? { fix: cause(code, ctx.verdict).fix } : first === 'expired' ? { fix: 'Get a new token.' } : {}),
    docs: DOCS.claims,
  });
}

// 4. Admin consent -------------------------------------------------------------------------------

export async function checkConsent(ctx: DoctorContext): Promise<CheckResult> {
  const f = ctx.facts;
  const title = `Admin consent for ${EXPORT_ROLE}`;
  if (!graphUsable(ctx)) return result('consent', 'skip', title, [ctx.graph ? 'the token is not usable for this tenant\'s Graph' : 'no token'], { docs: DOCS.consent });
  const g = ctx.graph!;
  const appId = (f.claims?.appid ?? ctx.config.clientId).toLowerCase();
  const consent: NonNullable<Facts['consent']> = { assignment: 'unknown', requested: 'unknown', servicePrincipal: 'unknown' };
  f.consent = consent;
  const evidence: string[] = [];
  const readPermission = leastPrivileged('/serviceprincipals/{id}/approleassignments') ?? 'Application.Read.All';

  // What the registration requests (needs Application.Read.All; 404 for an app registered in another tenant).
  try {
    const app = await g.get<Application>(`applications(appId='${keyValue(appId)}')`, { $select: 'id,appId,displayName,requiredResourceAccess' });
    const graphAccess = app.requiredResourceAccess.filter((r) => r.resourceAppId === MICROSOFT_GRAPH_APP_ID).flatMap((r) => r.resourceAccess);
    const hasRole = graphAccess.some((a) => a.type === 'Role' && a.id === EXPORT_ROLE_ID);
    const readUser = roleId(READ_USER_ROLE);
    const delegatedForms = graphAccess.some((a) => (a.type === 'Scope' && a.id === DELEGATED_EXPORT_ID) || (a.type === 'Role' && a.id === readUser));
    consent.requested = hasRole ? 'role' : delegatedForms ? 'delegated-only' : 'none';
    evidence.push(`app registration ${app.displayName} ${hasRole ? 'requests' : 'does not request'} ${EXPORT_ROLE}${delegatedForms && !hasRole ? ' (only its delegated/per-user form)' : ''}`);
  } catch (e) {
    if (e instanceof GraphRequestError && e.status === 404) evidence.push(`the app registration is not in this tenant (GET /applications(appId='${appId}') → 404): a multi-tenant app; its requested permissions are not visible here`);
    else evidence.push(...unreadable(ctx, e, 'the app registration', readPermission).evidence);
  }

  try {
    const sp = await g.get<ServicePrincipal>(`servicePrincipals(appId='${keyValue(appId)}')`, { $select: 'id,appId,displayName' });
    consent.servicePrincipal = 'present';
    const graphSp = await g.get<ServicePrincipal>(`servicePrincipals(appId='${MICROSOFT_GRAPH_APP_ID}')`, { $select: 'id,appId,displayName' });
    const assignments = await g.list<AppRoleAssignment>(`servicePrincipals/${encodeURIComponent(sp.id)}/appRoleAssignments`);
    const grant = assignments.find((a) => a.appRoleId === EXPORT_ROLE_ID && a.resourceId === graphSp.id);
    consent.assignment = grant ? 'present' : 'absent';
    if (grant?.createdDateTime) consent.assignmentCreated = grant.createdDateTime;
    evidence.push(grant
      ? `appRoleAssignment ${EXPORT_ROLE} (${EXPORT_ROLE_ID}) on Microsoft Graph (${graphSp.id}) granted ${grant.createdDateTime ?? '(date unknown)'}`
      : `no appRoleAssignment of ${EXPORT_ROLE} on Microsoft Graph for service principal ${sp.id} (${assignments.length} other assignment(s))`);
    if (grant?.createdDateTime && f.claims?.iat && Date.parse(grant.createdDateTime) > Date.parse(f.claims.iat)) {
      consent.predatesGrant = true;
      evidence.push(`the token (issued ${f.claims.iat}) predates the grant (${grant.createdDateTime}): get a new token`);
    }
  } catch (e) {
    if (e instanceof GraphRequestError && e.status === 404) {
      consent.servicePrincipal = 'absent';
      consent.assignment = 'absent';
      evidence.push(`no service principal for app ${appId} in this tenant: nobody has consented to it here`);
    } else {
      const u = unreadable(ctx, e, 'the app\'s role assignments', readPermission);
      consent.note = `consent not checked: ${u.evidence.join('; ')}`;
      return result('consent', 'skip', title, [...evidence, ...u.evidence], { fix: u.fix, docs: DOCS.consent });
    }
  }

  let status: CheckStatus = 'pass';
  let fix: string | undefined;
  if (f.hasExportRole && consent.assignment === 'absent') {
    status = 'warn';
    evidence.push('the token carries the role but the grant is gone: consent was revoked after the token was issued');
  } else if (!f.hasExportRole) {
    status = 'fail';
    const code = consent.requested === 'delegated-only' ? 'permission.delegated-only' : consent.assignment === 'present' || consent.requested === 'role' ? 'permission.not-consented' : 'permission.missing-role';
    fix = cause(code, ctx.verdict).fix;
    if (consent.assignment === 'present' && !consent.predatesGrant) evidence.push('the grant exists but this token lacks the role: get a new token (replication can take minutes)');
  }
  return result('consent', status, title, evidence, { fix, docs: DOCS.consent });
}

// 5. Users ---------------------------------------------------------------------------------------

const USER_SELECT = 'id,userPrincipalName,displayName,userType,accountEnabled,onPremisesSyncEnabled,assignedLicenses,assignedPlans,provisionedPlans,mail,usageLocation';

/** How reports name a user: the UPN once known, else the key as given. */
export const userLabel = (u: UserReport): string => u.userPrincipalName ?? u.key;

function emptyUser(key: string): UserReport {
  return { key, lookup: 'skipped', licenses: [], copilot: { businessChat: 'unknown', skus: [], freeChat: false }, mailbox: { state: 'unknown', exchangePlans: [], signals: [] } };
}

/** Checks user.account, user.license and user.mailbox for one user; records a UserReport. */
export async function checkUser(ctx: DoctorContext, key: string): Promise<CheckResult[]> {
  const u = emptyUser(key);
  ctx.facts.users.push(u);
  const skipAll = (why: string[], fix?: string): CheckResult[] => [
    result('user.account', 'skip', `User ${key}`, why, { user: key, fix, docs: DOCS.users }),
    result('user.license', 'skip', `Licences of ${key}`, ['the user was not read'], { user: key, docs: DOCS.servicePlans }),
    result('user.mailbox', 'skip', `Mailbox of ${key}`, ['the user was not read'], { user: key, docs: DOCS.mailbox }),
  ];
  if (!graphUsable(ctx)) return skipAll([ctx.graph ? 'the token is not usable for this tenant\'s Graph' : 'no token']);
  const g = ctx.graph!;

  let user: User;
  try {
    user = await g.get<User>(`users/${encodeURIComponent(key)}`, { $select: USER_SELECT });
  } catch (e) {
    if (e instanceof GraphRequestError && e.status === 404) {
      u.lookup = 'not-found';
      u.lookupNote = `GET /users/${key} → 404 ${e.code}: ${e.message}`;
      return [
        result('user.account', 'fail', `User ${key} does not exist in this tenant`, [u.lookupNote], { user: key, fix: cause('user.not-found', ctx.verdict, key).fix, docs: DOCS.users }),
        result('user.license', 'skip', `Licences of ${key}`, ['the user does not exist'], { user: key, docs: DOCS.servicePlans }),
        result('user.mailbox', 'skip', `Mailbox of ${key}`, ['the user does not exist'], { user: key, docs: DOCS.mailbox }),
      ];
    }
    const r = unreadable(ctx, e, 'users', 'User.Read.All');
    u.lookup = e instanceof GraphRequestError ? 'skipped' : 'error';
    u.lookupNote = e instanceof GraphRequestError && e.status === 403 ? 'no permission to read users: grant User.Read.All' : r.evidence.join('; ');
    return skipAll(r.evidence, r.fix);
  }
  Object.assign(u, {
    lookup: 'found', id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName ?? undefined,
    userType: user.userType ?? undefined, accountEnabled: user.accountEnabled ?? undefined, onPremisesSyncEnabled: user.onPremisesSyncEnabled ?? undefined,
  });

  const label = user.userPrincipalName;
  // Account.
  const acc: string[] = [`${user.userPrincipalName} (${user.id})${user.displayName ? `, ${user.displayName}` : ''}`, `userType ${user.userType ?? '(unknown)'}`, `accountEnabled ${user.accountEnabled ?? '(unknown)'}`];
  let accStatus: CheckStatus = 'pass';
  let accFix: string | undefined;
  if (user.userType === 'Guest') {
    accStatus = 'fail';
    accFix = cause('user.guest', ctx.verdict, label).fix;
  } else if (user.accountEnabled === false) {
    accStatus = 'warn';
    accFix = cause('user.disabled', ctx.verdict, label).fix;
    acc.push('a disabled account: its history normally stays retrievable; the probe decides');
  }
  const account = result('user.account', accStatus, accStatus === 'pass' ? `User ${label} is an enabled member` : user.userType === 'Guest' ? `User ${label} is a guest` : `User ${label} is disabled`, acc, { user: key, fix: accFix, docs: user.userType === 'Guest' ? DOCS.guests : DOCS.users });

  // Licences: licenseDetails (LicenseAssignment.Read.All), else assignedLicenses resolved through the SKU table.
  let licenseNote: string | undefined;
  try {
    const details = await g.list<LicenseDetails>(`users/${encodeURIComponent(user.id)}/licenseDetails`);
    u.licenses = details.map((d) => ({
      skuId: d.skuId, skuPartNumber: d.skuPartNumber, displayName: ctx.catalog.sku(d.skuId)?.displayName,
      plans: d.servicePlans.map((p) => ({ servicePlanId: p.servicePlanId, servicePlanName: p.servicePlanName, provisioningStatus: p.provisioningStatus })),
    }));
    u.licenseSource = 'licenseDetails';
  } catch (e) {
    if (!user.assignedLicenses) {
      const r = unreadable(ctx, e, 'licences', leastPrivileged('/users/{id}/licensedetails'));
      return [account, result('user.license', 'skip', `Licences of ${label}`, r.evidence, { user: key, fix: r.fix, docs: DOCS.servicePlans }), mailboxCheck(ctx, u, user, { seen: [], complete: false, source: 'none' })];
    }
    u.licenses = user.assignedLicenses.map((l) => fromAssigned(ctx.catalog, l.skuId, l.disabledPlans));
    u.licenseSource = 'assignedLicenses';
    licenseNote = `licenseDetails not readable (${e instanceof GraphRequestError ? `${e.status} ${e.code}` : (e as Error).message}); used assignedLicenses${usableAssignedPlans(user) ? ' and assignedPlans' : ` and ${ctx.catalog.source}`}`;
  }
  const plans = observePlans(ctx, u, user);
  await rscGrant(ctx, user, acc);
  return [account, licenseCheck(ctx, u, plans, licenseNote), mailboxCheck(ctx, u, user, plans)];
}

/**
 * Without the export role, look for the per-user (RSC) form of the Copilot permission where a real
 * grant shows: the user's resource-specific permission grants (GET /users/{id}/permissionGrants,
 * ResourceSpecificPermissionGrant.ReadForUser.All). It never reaches the token's roles or the app's
 * appRoleAssignments. An unreadable list changes nothing.
 */
async function rscGrant(ctx: DoctorContext, user: User, evidence: string[]): Promise<void> {
  const f = ctx.facts;
  if (f.hasExportRole !== false || f.consent?.requested === 'role') return;
  const appId = (f.claims?.appid ?? ctx.config.clientId).toLowerCase();
  try {
    const grants = await ctx.graph!.list<{ clientId?: string; clientAppId?: string; permission?: string; permissionType?: string }>(`users/${encodeURIComponent(user.id)}/permissionGrants`);
    const mine = grants.find((g) => g.permission === READ_USER_ROLE && [g.clientId, g.clientAppId].some((x) => x?.toLowerCase() === appId || (f.claims?.oid && x?.toLowerCase() === f.claims.oid.toLowerCase())));
    if (!mine) return;
    f.delegatedCopilotOnly = true;
    if (f.consent) f.consent.requested = 'delegated-only';
    evidence.push(`resource-specific grant ${READ_USER_ROLE} to this app on ${user.userPrincipalName} (GET /users/{id}/permissionGrants): the per-user form, for change notifications only`);
  } catch {
    // Not readable (no ResourceSpecificPermissionGrant.ReadForUser.All): nothing learnt.
  }
}

function fromAssigned(catalog: LicensingCatalog, skuId: string, disabled: string[]): UserLicense {
  const sku = catalog.sku(skuId);
  if (!sku) return { skuId, skuPartNumber: `unknown SKU ${skuId}`, plans: [], contentsUnknown: true };
  return {
    skuId, skuPartNumber: sku.skuPartNumber, displayName: sku.displayName,
    plans: sku.servicePlans.map(([name, id]) => ({ servicePlanId: id, servicePlanName: name, provisioningStatus: disabled.includes(id) ? 'Disabled' : 'Success' })),
  };
}

/** One service plan as seen, with the state the checks reason with. */
interface PlanSeen { servicePlanId: string; servicePlanName: string; status: string; state: 'enabled' | 'disabled' | 'pending'; sku?: string }
interface PlansSeen {
  seen: PlanSeen[];
  /** Every plan of every licence is known: a plan not seen is not assigned. */
  complete: boolean;
  source: 'licenseDetails' | 'assignedPlans' | 'skuTable' | 'none';
}

/**
 * licenseDetails' provisioningStatus (Success, Disabled, PendingInput, PendingActivation,
 * PendingProvisioning, ErrorStatus) or assignedPlans' capabilityStatus (Enabled, Warning,
 * Suspended, Deleted, LockedOut), as enabled / disabled / not provisioned yet.
 */
export function planState(status: string): PlanSeen['state'] {
  const s = status.toLowerCase();
  if (s === 'success' || s === 'enabled' || s === 'warning') return 'enabled';
  if (s === 'disabled' || s === 'deleted' || s === 'suspended' || s === 'lockedout') return 'disabled';
  return 'pending';
}

/** assignedPlans lists every plan of the user's licences (no SKU table needed), when Graph sent it. */
const usableAssignedPlans = (user: User) => Array.isArray(user.assignedPlans) && (user.assignedPlans.length > 0 || (user.assignedLicenses ?? []).length === 0) ? user.assignedPlans : undefined;

function observePlans(ctx: DoctorContext, u: UserReport, user: User): PlansSeen {
  const fromLicences = (): PlanSeen[] => u.licenses.flatMap((l) => l.plans.map((p) => ({ servicePlanId: p.servicePlanId, servicePlanName: p.servicePlanName, status: p.provisioningStatus, state: planState(p.provisioningStatus), sku: l.skuPartNumber })));
  if (u.licenseSource === 'licenseDetails') return { seen: fromLicences(), complete: true, source: 'licenseDetails' };
  const assigned = usableAssignedPlans(user);
  if (assigned) {
    const skuOf = (id: string) => u.licenses.find((l) => l.plans.some((p) => p.servicePlanId === id))?.skuPartNumber ?? (u.licenses.filter((l) => l.contentsUnknown).length === 1 ? u.licenses.find((l) => l.contentsUnknown)!.skuPartNumber : undefined);
    const seen: PlanSeen[] = assigned.map((p) => ({
      servicePlanId: p.servicePlanId, servicePlanName: ctx.catalog.planName(p.servicePlanId) ?? p.servicePlanId, status: p.capabilityStatus, state: planState(p.capabilityStatus), sku: skuOf(p.servicePlanId),
    }));
    // A plan switched off in assignedLicenses.disabledPlans may be missing from assignedPlans.
    for (const l of user.assignedLicenses ?? []) for (const id of l.disabledPlans) {
      if (!seen.some((p) => p.servicePlanId === id)) seen.push({ servicePlanId: id, servicePlanName: ctx.catalog.planName(id) ?? id, status: 'Disabled', state: 'disabled', sku: skuOf(id) });
    }
    return { seen, complete: true, source: 'assignedPlans' };
  }
  return { seen: fromLicences(), complete: !u.licenses.some((l) => l.contentsUnknown), source: 'skuTable' };
}

function licenseCheck(ctx: DoctorContext, u: UserReport, plans: PlansSeen, note?: string): CheckResult {
  const who = userLabel(u);
  const chat = plans.seen.filter((p) => p.servicePlanId === PLAN.M365_COPILOT_BUSINESS_CHAT);
  const best = chat.find((p) => p.state === 'enabled') ?? chat.find((p) => p.state === 'pending') ?? chat[0];
  u.copilot.skus = [...new Set(chat.map((p) => p.sku ?? 'a SKU copilog cannot name'))];
  u.copilot.businessChat = best ? best.state : plans.complete ? 'absent' : 'unknown';
  if (best) u.copilot.status = best.status;
  u.copilot.freeChat = plans.seen.some((p) => p.servicePlanId === PLAN.Bing_Chat_Enterprise && p.state === 'enabled');
  const named = (l: UserLicense) => `${l.skuPartNumber}${l.displayName ? ` (${l.displayName})` : ''}`;
  const fromAssignedPlans = plans.source === 'assignedPlans' ? ' (user.assignedPlans)' : '';
  const evidence = [
    `licences: ${u.licenses.length ? u.licenses.map(named).join(', ') : 'none'}`,
    ...(note ? [note] : []),
    ...chat.map((p) => `M365_COPILOT_BUSINESS_CHAT (${PLAN.M365_COPILOT_BUSINESS_CHAT}) in ${p.sku ?? 'a SKU copilog cannot name'}: ${p.status}${fromAssignedPlans}`),
  ];
  const unknownSkus = u.licenses.filter((l) => !ctx.catalog.sku(l.skuId));
  if (unknownSkus.length) evidence.push(`not in ${ctx.catalog.source}: ${unknownSkus.map((l) => l.skuPartNumber).join(', ')} (pass Microsoft's current CSV with --licensing-csv to name them)`);
  let status: CheckStatus = 'pass';
  let title = `${who} has Microsoft 365 Copilot with Graph-grounded chat enabled (${u.copilot.skus.join(', ')})`;
  let code: 'license.no-copilot' | 'license.chat-only' | 'license.plan-disabled' | undefined;
  let fix: string | undefined;
  switch (u.copilot.businessChat) {
    case 'absent':
      code = u.copilot.freeChat ? 'license.chat-only' : 'license.no-copilot';
      title = u.copilot.freeChat ? `${who} has only the free Copilot Chat` : `${who} has no Microsoft 365 Copilot licence`;
      if (u.copilot.freeChat) evidence.push(`Bing_Chat_Enterprise (${PLAN.Bing_Chat_Enterprise}, free Copilot Chat) is enabled: not exportable`);
      status = 'fail';
      break;
    case 'disabled':
      code = 'license.plan-disabled';
      title = `${who}'s Copilot licence has M365_COPILOT_BUSINESS_CHAT disabled`;
      status = 'fail';
      break;
    case 'pending':
      // Not a failure yet: a licence assigned recently. The probe decides.
      status = 'warn';
      title = `${who}'s Copilot plan is not provisioned yet (${u.copilot.status})`;
      evidence.push(`M365_COPILOT_BUSINESS_CHAT is ${u.copilot.status}: a licence assigned recently is provisioned within up to 24 h; until then the user may not be exportable`);
      fix = PENDING_FIX;
      break;
    case 'unknown':
      status = 'warn';
      title = `Whether ${who} holds Microsoft 365 Copilot is unknown`;
      u.copilot.note = `${unknownSkus.map((l) => l.skuPartNumber).join(', ')} ${unknownSkus.length === 1 ? 'is' : 'are'} not in ${ctx.catalog.source}, and neither licenseDetails nor assignedPlans was readable`;
      evidence.push(`${u.copilot.note}: an unknown SKU may or may not hold M365_COPILOT_BUSINESS_CHAT`);
      fix = `Grant the application permission LicenseAssignment.Read.All (with admin consent), or pass Microsoft's current CSV with --licensing-csv, so the doctor can read the plans.`;
      break;
  }
  return result('user.license', status, title, evidence, { user: u.key, ...(code ? { fix: cause(code, ctx.verdict, who).fix } : fix ? { fix } : {}), docs: DOCS.servicePlans });
}

function mailboxCheck(ctx: DoctorContext, u: UserReport, user: User, plans: PlansSeen): CheckResult {
  const who = userLabel(u);
  const m = u.mailbox;
  const exchangePlans = plans.seen.filter((p) => (EXCHANGE_MAILBOX_PLANS.has(p.servicePlanId) || EXCHANGE_PLAN_NAME.test(p.servicePlanName)) && p.state !== 'disabled');
  m.exchangePlans = [...new Set(exchangePlans.map((p) => `${p.servicePlanName} (${p.status})`))];
  const exchange = user.provisionedPlans?.find((p) => p.service.toLowerCase() === 'exchange');
  const licencesKnown = u.licenseSource !== undefined;
  const signals: string[] = [];
  if (m.exchangePlans.length) signals.push(`Exchange Online plan(s): ${m.exchangePlans.join(', ')}`);
  else if (licencesKnown && plans.complete) signals.push(`no enabled Exchange Online mailbox plan (EXCHANGE_S_STANDARD/ENTERPRISE/DESKLESS/ESSENTIALS)${plans.seen.some((p) => p.servicePlanId === PLAN.EXCHANGE_S_FOUNDATION) ? '; EXCHANGE_S_FOUNDATION alone is not a mailbox' : ''}`);
  else if (licencesKnown) signals.push('no Exchange Online plan among the licences copilog could resolve (some SKUs are unknown)');
  if (user.onPremisesSyncEnabled) signals.push('onPremisesSyncEnabled is true (synchronised from on-premises AD)');
  if (exchange) signals.push(`provisionedPlans exchange: ${exchange.provisioningStatus}`);
  m.signals = signals;
  // What the directory says was provisioned outranks what copilog could (or could not) find in the licences.
  if (exchange?.provisioningStatus === 'Success') m.state = 'online';
  else if (exchange) m.state = user.onPremisesSyncEnabled ? 'onPremises' : 'notProvisioned';
  else if (exchangePlans.some((p) => p.state === 'enabled')) m.state = 'online';
  else if (exchangePlans.length) m.state = 'notProvisioned';
  else if (licencesKnown && plans.complete) m.state = 'none';
  else m.state = 'unknown';
  const titles = {
    online: `${who} has an Exchange Online mailbox`,
    none: `${who} has no Exchange Online mailbox plan (hypothesis: export may need one)`,
    onPremises: `${who}'s mailbox looks on-premises (hypothesis: export may need Exchange Online)`,
    notProvisioned: `${who}'s Exchange Online mailbox is not provisioned (hypothesis)`,
    unknown: `Mailbox of ${who} not checked`,
  } as const;
  const status: CheckStatus = m.state === 'online' ? 'pass' : m.state === 'unknown' ? 'skip' : 'warn';
  const evidence = signals.length ? [...signals] : ['licences and provisioned plans were not readable'];
  if (m.state === 'online') {
    // Graph shows the mailbox, never an Exchange policy that hides it from this app.
    const appId = ctx.facts.claims?.appid ?? ctx.config.clientId;
    evidence.push(`not checkable through Graph: an Exchange application access policy or RBAC for Applications scope that excludes this mailbox from the app; check with Test-ApplicationAccessPolicy -Identity ${who} -AppId ${appId} (Exchange Online PowerShell)`);
  }
  return result('user.mailbox', status, titles[m.state], evidence, {
    user: u.key, ...(status === 'warn' ? { fix: cause('mailbox.unavailable', ctx.verdict, who).fix } : {}), docs: DOCS.mailbox,
  });
}

// 6. Tenant --------------------------------------------------------------------------------------

export async function checkTenant(ctx: DoctorContext): Promise<CheckResult> {
  const cloud = ctx.config.cloud;
  const t: NonNullable<Facts['tenant']> = { cloud: cloud.name, copilotSkus: [], skusRead: false };
  ctx.facts.tenant = t;
  const evidence = [`cloud: ${cloud.displayName}${cloud.interactionExport ? '' : ' (interaction export not offered)'}`];
  let status: CheckStatus = cloud.interactionExport ? 'pass' : 'fail';
  let fix = cloud.interactionExport ? undefined : cause('tenant.unsupported-cloud', ctx.verdict).fix;
  if (!graphUsable(ctx)) return result('tenant', status === 'fail' ? 'fail' : 'skip', 'Tenant', [...evidence, ctx.graph ? 'subscribed SKUs not read: the token is not usable here' : 'subscribed SKUs not read: no token'], { fix, docs: DOCS.clouds });
  try {
    const skus = await ctx.graph!.list<SubscribedSku>('subscribedSkus');
    t.skusRead = true;
    t.copilotSkus = skus.filter((s) => s.servicePlans.some((p) => p.servicePlanId === PLAN.M365_COPILOT_BUSINESS_CHAT))
      .map((s) => ({ skuPartNumber: s.skuPartNumber, skuId: s.skuId, consumedUnits: s.consumedUnits, enabledUnits: s.prepaidUnits?.enabled ?? 0, capabilityStatus: s.capabilityStatus }));
    if (t.copilotSkus.length === 0) {
      evidence.push(`no Microsoft 365 Copilot SKU subscribed (${skus.length} SKU(s): ${skus.map((s) => s.skuPartNumber).join(', ') || 'none'})`);
      if (status === 'pass') status = 'warn';
      fix ??= 'Buy or activate Microsoft 365 Copilot licences (Microsoft 365 admin center → Billing → Your products).';
    }
    for (const s of t.copilotSkus) {
      evidence.push(`${s.skuPartNumber}: ${s.consumedUnits} of ${s.enabledUnits} unit(s) assigned, ${s.capabilityStatus}`);
      if (s.capabilityStatus !== 'Enabled' && status === 'pass') status = 'warn';
    }
  } catch (e) {
    const r = unreadable(ctx, e, 'subscribed SKUs', leastPrivileged('/subscribedskus'));
    evidence.push(...r.evidence);
    if (status === 'pass') status = 'skip';
    fix ??= r.fix;
  }
  return result('tenant', status, status === 'fail' ? `This cloud (${cloud.name}) does not offer interaction export` : 'Tenant: cloud and Copilot subscriptions', evidence, { fix, docs: status === 'fail' ? DOCS.clouds : DOCS.licences });
}

/**
 * Enabled members holding one of the tenant's Copilot SKUs, other than the users checked: who to run
 * the doctor for next, to tell a tenant-wide block from a per-user one. Needs User.Read.All; any
 * failure leaves the list unset (the advice then names no one).
 */
export async function findLicensedMembers(ctx: DoctorContext): Promise<void> {
  const t = ctx.facts.tenant;
  if (!t?.copilotSkus.length || !graphUsable(ctx)) return;
  const checked = new Set(ctx.facts.users.flatMap((u) => [u.key, u.id, u.userPrincipalName]).filter(Boolean).map((k) => k!.toLowerCase()));
  const found: string[] = [];
  for (const sku of t.copilotSkus) {
    const page = await ctx.graph!.get<{ value: User[] }>('users', {
      $filter: `assignedLicenses/any(x:x/skuId eq ${sku.skuId})`, $select: 'id,userPrincipalName,userType,accountEnabled', $top: '10',
    });
    for (const u of page.value ?? []) {
      if (u.userType === 'Guest' || u.accountEnabled === false || checked.has(u.id.toLowerCase()) || checked.has(u.userPrincipalName.toLowerCase())) continue;
      if (!found.includes(u.userPrincipalName)) found.push(u.userPrincipalName);
    }
    if (found.length >= 3) break;
  }
  t.licensedMembers = found.slice(0, 3);
}

// 7. The probe -----------------------------------------------------------------------------------

export async function checkProbe(ctx: DoctorContext, u: UserReport): Promise<CheckResult> {
  const who = userLabel(u);
  const title = `Export endpoint for ${who}`;
  if (!ctx.graph) return result('probe', 'skip', title, ['no token'], { user: u.key, docs: DOCS.exportApi });
  const to = new Date();
  const from = new Date(to.getTime() - 7 * 86_400_000);
  const path = interactionHistoryPath(u.id ?? u.key);
  let p: ProbeResult;
  try {
    const r = await ctx.graph.send<{ value?: unknown[] }>(path, interactionQuery(from, to, 1));
    // Only the count: interaction content is never read into the report.
    p = { ...ids(r.exchange), status: r.status, attempts: r.attempts, itemCount: Array.isArray(r.data?.value) ? r.data.value.length : 0 };
  } catch (e) {
    if (e instanceof GraphRequestError) {
      p = { method: e.method, url: e.url, status: e.status, code: e.code, message: e.message, requestId: e.requestId, clientRequestId: e.clientRequestId, date: e.date, agsDiagnostic: e.agsDiagnostic, durationMs: last(ctx, e.clientRequestId)?.durationMs ?? 0, attempts: e.attempts, retryAfterSeconds: e.retryAfterSeconds };
    } else if (e instanceof TransportError) {
      if (e.kind === 'deadline') ctx.facts.deadlineReached = true;
      p = { method: e.ids.method, url: e.ids.url, status: 0, clientRequestId: e.ids.clientRequestId, durationMs: last(ctx, e.ids.clientRequestId)?.durationMs ?? 0, attempts: e.attempts, transportError: e.message, transportKind: e.kind, transportPhase: e.phase };
    } else {
      return result('probe', 'skip', title, [`could not probe: ${(e as Error).message}`], { user: u.key, docs: DOCS.exportApi });
    }
  }
  u.probe = p;
  const evidence = [
    `GET /${path}?$top=1&$filter=createdDateTime gt … and createdDateTime lt … (7 days)`,
    p.transportError ? `no answer: ${p.transportError}` : `→ ${p.status}${p.code ? ` ${p.code}` : ''}${p.message ? `: ${p.message}` : ''}${p.itemCount !== undefined ? ` (${p.itemCount} item(s) in the page; content not read)` : ''}`,
    `request-id ${p.requestId ?? '-'}, client-request-id ${p.clientRequestId}, Date ${p.date ?? '-'}`,
    ...(p.agsDiagnostic ? [`x-ms-ags-diagnostic ${p.agsDiagnostic}`] : []),
    ...(p.attempts > 1 ? [`${p.attempts} attempts`] : []),
    ...(p.retryAfterSeconds !== undefined ? [`Retry-After ${p.retryAfterSeconds} s`] : []),
  ];
  const ok = p.status >= 200 && p.status < 300;
  return result('probe', ok ? 'pass' : 'fail', ok ? `The export endpoint answers for ${who}` : `The export endpoint refused ${who}`, evidence, { user: u.key, docs: DOCS.exportApi });
}

const ids = (e: { method: string; url: string; requestId?: string; clientRequestId: string; date?: string; agsDiagnostic?: string; durationMs: number }) =>
  ({ method: e.method, url: e.url, requestId: e.requestId, clientRequestId: e.clientRequestId, date: e.date, agsDiagnostic: e.agsDiagnostic, durationMs: e.durationMs });

const last = (ctx: DoctorContext, clientRequestId: string) => [...ctx.transport.trace].reverse().find((e) => e.clientRequestId === clientRequestId);

// 8. Change-notification subscriptions -----------------------------------------------------------

export async function checkSubscriptions(ctx: DoctorContext): Promise<CheckResult> {
  const title = 'Change-notification subscriptions against the quotas';
  const docs = 'https://learn.microsoft.com/graph/api/resources/subscription';
  if (!graphUsable(ctx)) return result('subscriptions', 'skip', title, [ctx.graph ? 'the token is not usable here' : 'no token'], { docs });
  let subs: Subscription[];
  try {
    subs = await ctx.graph!.list<Subscription>('subscriptions');
  } catch (e) {
    if (e instanceof GraphRequestError && (e.status === 400 || e.status === 404)) {
      return result('subscriptions', 'skip', title, [`GET /subscriptions → ${e.status} ${e.code}: ${e.message}`, 'the subscriptions endpoint is not available here'], { docs });
    }
    const r = unreadable(ctx, e, 'subscriptions', EXPORT_ROLE);
    return result('subscriptions', 'skip', title, r.evidence, { docs });
  }
  const appId = (ctx.facts.claims?.appid ?? ctx.config.clientId).toLowerCase();
  const mine = subs.filter((s) => /interactionhistory\/getallenterpriseinteractions/i.test(s.resource) && (!s.applicationId || s.applicationId.toLowerCase() === appId));
  const tenantWide = mine.filter((s) => /^\/?copilot\/interactionhistory\//i.test(s.resource)).length;
  const perUser: Record<string, number> = {};
  for (const s of mine) {
    // copilot/users/{id}/… or copilot/users('{id}')/…
    const m = /^\/?copilot\/users(?:\/|\(')([^/')]+)/i.exec(s.resource);
    if (!m) continue;
    const user = decodeURIComponent(m[1]!).toLowerCase();
    perUser[user] = (perUser[user] ?? 0) + 1;
  }
  ctx.facts.subscriptions = { read: true, tenantWide, perUser, total: subs.length };
  const evidence = [
    `${subs.length} subscription(s) visible to this app; ${mine.length} on Copilot interactions`,
    `tenant-wide: ${tenantWide} of ${SUBSCRIPTION_QUOTA.perAppTenant} allowed per app per tenant`,
    ...Object.entries(perUser).map(([user, n]) => `user ${user}: ${n} of ${SUBSCRIPTION_QUOTA.perAppUser} allowed per app per user`),
    `not visible to one app: the ${SUBSCRIPTION_QUOTA.perUser}-per-user and ${SUBSCRIPTION_QUOTA.perOrganization.toLocaleString('en-US')}-per-organization totals across apps`,
  ];
  const over = tenantWide > SUBSCRIPTION_QUOTA.perAppTenant || Object.values(perUser).some((n) => n > SUBSCRIPTION_QUOTA.perAppUser) || subs.length >= SUBSCRIPTION_QUOTA.perOrganization;
  const atQuota = tenantWide === SUBSCRIPTION_QUOTA.perAppTenant || Object.values(perUser).some((n) => n === SUBSCRIPTION_QUOTA.perAppUser);
  const status: CheckStatus = over ? 'fail' : atQuota ? 'warn' : 'pass';
  return result('subscriptions', status, title, evidence, {
    ...(status !== 'pass' ? { fix: 'Reuse or renew the existing subscription (PATCH /subscriptions/{id}) instead of creating another; DELETE /subscriptions/{id} the ones no longer needed.' } : {}),
    docs,
  });
}
