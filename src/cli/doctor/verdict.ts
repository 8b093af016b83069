// From facts to a verdict: every candidate cause the evidence supports, ranked, with the
// evidence for and against it, a plain explanation and the fix. The primary cause follows the
// order requests meet the gates: configuration → token → permission → user → licence → mailbox →
// the probe's own answer. Nothing here looks at scenario names; only at what the checks saw.
import { EXPORT_ROLE, EXPORT_ROLE_ID } from '../../graph/ids.js';
import type { Candidate, Facts, ProbeResult, UserReport, Verdict, VerdictCode } from './types.js';
import { VERDICT_CODES } from './types.js';

export interface VerdictContext {
  tenantId: string;
  appId: string;
  authorityHost: string;
  graphScope: string;
  graphAudience: string;
  cloud: string;
  /** The doctor's own arguments (after `doctor`), to print the next commands with the same flags. */
  command?: readonly string[];
}

const VALUE_FLAGS = new Set(['--user', '--emulator', '--ca', '--tenant', '--client-id', '--client-secret', '--certificate', '--cloud', '--access-token', '--scope', '--licensing-csv', '--bundle', '--timeout']);
/** Secret values are printed as shell references to where they should live, never as themselves. */
const SECRET_PLACEHOLDER: Record<string, string> = { '--client-secret': '"$AZURE_CLIENT_SECRET"', '--access-token': '"$ACCESS_TOKEN"' };
const shellQuote = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/**
 * The doctor's command line to copy: the same flags, with `--user`s or `--bundle` replaced. Secret
 * values (--client-secret, a literal --access-token) become "$AZURE_CLIENT_SECRET" / "$ACCESS_TOKEN":
 * a command printed for copying never carries a secret.
 */
export function doctorCommandLine(c: VerdictContext, change: { users?: string[]; bundle?: string }): string {
  const out: string[] = ['copilog', 'doctor'];
  const args = c.command ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const takesValue = VALUE_FLAGS.has(flag);
    let value = takesValue ? (eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : args[++i]) : undefined;
    if ((flag === '--user' && change.users) || (flag === '--bundle' && change.bundle !== undefined)) continue;
    if (value !== undefined && SECRET_PLACEHOLDER[flag] && value !== '-') value = SECRET_PLACEHOLDER[flag];
    out.push(flag);
    if (value !== undefined) out.push(value);
  }
  for (const u of change.users ?? []) out.push('--user', u);
  if (change.bundle !== undefined) out.push('--bundle', change.bundle);
  return out.map((x) => (Object.values(SECRET_PLACEHOLDER).includes(x) ? x : shellQuote(x))).join(' ');
}

/** How to tell a tenant-wide block from one on this user, and the bundle for the support case. */
function notEnabledFix(f: Facts, c: VerdictContext): string {
  const other = f.tenant?.licensedMembers?.[0];
  const who = other ? `another enabled member who holds Microsoft 365 Copilot (${other}${f.tenant!.licensedMembers!.length > 1 ? `; or ${f.tenant!.licensedMembers!.slice(1).join(', ')}` : ''})` : 'another enabled member who holds Microsoft 365 Copilot and has an Exchange Online mailbox (their UPN or object id)';
  return `First tell a tenant-wide block from one on this user: run the doctor for ${who}: ${doctorCommandLine(c, { users: [other ?? 'ANOTHER_LICENSED_MEMBER_UPN'] })} `
    + `— if that user is refused too, the block is tenant-wide. Then open a Microsoft support case (Microsoft 365 admin center → Support → New service request) and attach support-bundle.md, written by: ${doctorCommandLine(c, { bundle: './copilog-support' })}`;
}

const DOCS = {
  exportApi: 'https://learn.microsoft.com/microsoft-365-copilot/extensibility/api/ai-services/interaction-export/aiinteractionhistory-getallenterpriseinteractions',
  envVars: 'https://learn.microsoft.com/javascript/api/overview/azure/identity-readme#environment-variables',
  aadsts: 'https://learn.microsoft.com/entra/identity-platform/reference-error-codes',
  credentials: 'https://learn.microsoft.com/entra/identity-platform/how-to-add-credentials',
  certificates: 'https://learn.microsoft.com/entra/identity-platform/certificate-credentials',
  claims: 'https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference',
  clientCredentials: 'https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow',
  consent: 'https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent',
  grantByGraph: 'https://learn.microsoft.com/graph/permissions-grant-via-msgraph',
  users: 'https://learn.microsoft.com/entra/fundamentals/how-to-manage-user-profile-info',
  guests: 'https://learn.microsoft.com/entra/external-id/user-properties',
  licences: 'https://learn.microsoft.com/microsoft-365/admin/manage/assign-licenses-to-users',
  servicePlans: 'https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference',
  mailbox: 'https://learn.microsoft.com/purview/retention-policies-copilot',
  clouds: 'https://learn.microsoft.com/graph/deployments',
  support: 'https://learn.microsoft.com/microsoft-365/admin/get-help-support',
  throttling: 'https://learn.microsoft.com/graph/throttling',
  health: 'https://learn.microsoft.com/microsoft-365/enterprise/view-service-health',
  errors: 'https://learn.microsoft.com/graph/errors',
} as const;
export { DOCS };

interface Cause { title: string; explanation: string; fix: string; docs: string }

/** The fix for a Copilot plan that is assigned but not provisioned yet (no verdict code of its own). */
export const PENDING_FIX = 'Wait until the plan is provisioned (up to 24 h after the licence was assigned) and run copilog doctor again. If it stays pending, check the licence assignment for errors in Microsoft 365 admin center → Users → Active users → the user → Licenses and apps, and reassign it.';


/** Title, explanation, fix and docs of every code, filled in with the tenant and app. */
export function cause(code: VerdictCode, c: VerdictContext, user?: string): Cause {
  const u = user ?? '{user}';
  const app = `App registrations → ${c.appId || '{app}'}`;
  switch (code) {
    case 'ok': return { title: 'Interaction export works', explanation: 'The export endpoint answered 200 for every user probed.', fix: 'Nothing to fix.', docs: DOCS.exportApi };
    case 'config.invalid': return {
      title: 'The client configuration is incomplete or malformed',
      explanation: 'copilog needs a tenant, an application (client) id and a credential (secret or certificate), each well-formed and readable, before it can ask for a token.',
      fix: 'Set AZURE_TENANT_ID (Directory (tenant) ID), AZURE_CLIENT_ID (Application (client) ID) and AZURE_CLIENT_SECRET, or AZURE_CLIENT_CERTIFICATE_PATH (a PEM file with the certificate and its private key; AZURE_CLIENT_CERTIFICATE_PASSWORD if the key is encrypted).',
      docs: DOCS.envVars,
    };
    case 'auth.tenant-not-found': return {
      title: 'The tenant does not exist in this cloud',
      explanation: `The identity platform at ${c.authorityHost} knows no tenant '${c.tenantId}' (AADSTS90002). Usually a typo in the tenant id, a tenant in another national cloud, or a deleted tenant.`,
      fix: 'Copy the Directory (tenant) ID from Entra admin center → Overview into AZURE_TENANT_ID (or --tenant). For a US Government or 21Vianet tenant pass --cloud usgov, usgovdod or china.',
      docs: DOCS.aadsts,
    };
    case 'auth.app-not-found': return {
      title: 'The application is not registered in this tenant',
      explanation: `Tenant ${c.tenantId} has no application with client id '${c.appId}' (AADSTS700016): a wrong client id, the wrong tenant, or a multi-tenant app no administrator of this tenant has consented to.`,
      fix: `Use the Application (client) ID from Entra admin center → App registrations → your app → Overview. For an app registered in another tenant, an administrator must consent first: https://${c.authorityHost}/${c.tenantId}/adminconsent?client_id=${c.appId}`,
      docs: DOCS.aadsts,
    };
    case 'auth.invalid-secret': return {
      title: 'The client secret is wrong',
      explanation: 'The identity platform refused the client secret (AADSTS7000215). A common mistake is sending the secret\'s ID instead of its value.',
      fix: `Entra admin center → ${app} → Certificates & secrets → New client secret; copy its Value (shown once, not the Secret ID) into AZURE_CLIENT_SECRET.`,
      docs: DOCS.credentials,
    };
    case 'auth.expired-secret': return {
      title: 'The client secret has expired',
      explanation: 'Every secret the token request could match has passed its expiry date (AADSTS7000222).',
      fix: `Entra admin center → ${app} → Certificates & secrets → New client secret, update AZURE_CLIENT_SECRET, then delete the expired one. Consider a certificate credential.`,
      docs: DOCS.credentials,
    };
    case 'auth.invalid-certificate': return {
      title: 'The certificate credential was refused',
      explanation: 'The client assertion signed with the certificate was not accepted: the certificate is expired or not yet valid, not uploaded to the app registration, or the key does not match (AADSTS700027 / 700024 / 700021).',
      fix: `Entra admin center → ${app} → Certificates & secrets → Certificates: upload the current certificate (public part, .cer/.pem) and check its thumbprint; renew an expired one. AZURE_CLIENT_CERTIFICATE_PATH must be a PEM with that certificate and its private key.`,
      docs: DOCS.certificates,
    };
    case 'token.wrong-audience': return {
      title: 'The token is not for Microsoft Graph',
      explanation: `Graph accepts only tokens whose aud is ${c.graphAudience}; this one was requested for another resource, so Graph answers 401 "Invalid audience".`,
      fix: `Request the scope ${c.graphScope} (drop --scope, or set it to that value; in a scenario, fix default.scope).`,
      docs: DOCS.claims,
    };
    case 'token.wrong-tenant': return {
      title: 'The token was issued by another tenant',
      explanation: `The token's tid/iss name a different tenant than ${c.tenantId}; Graph would read (or refuse) that other tenant's data.`,
      fix: `Acquire the token from https://${c.authorityHost}/${c.tenantId} (AZURE_TENANT_ID), not from /common or another tenant.`,
      docs: DOCS.claims,
    };
    case 'token.not-app-only': return {
      title: 'The token is delegated (a signed-in user\'s), not app-only',
      explanation: 'The export API supports application permissions only. A token with an scp claim (idtyp=user) is refused whatever the user may see.',
      fix: 'Use the client-credentials grant (copilog does, unless given --access-token): the token must carry idtyp=app and roles, and no scp.',
      docs: DOCS.clientCredentials,
    };
    case 'permission.delegated-only': return {
      title: 'Only the delegated or per-user form of the Copilot permission is granted',
      explanation: `AiEnterpriseInteraction.Read (delegated) and AiEnterpriseInteraction.Read.User (resource-specific) serve change-notification subscriptions; export needs the application permission ${EXPORT_ROLE}.`,
      fix: `Entra admin center → ${app} → API permissions → Add a permission → Microsoft Graph → Application permissions → ${EXPORT_ROLE} → Grant admin consent, then get a new app-only token.`,
      docs: DOCS.consent,
    };
    case 'permission.missing-role': return {
      title: `The app does not have ${EXPORT_ROLE}`,
      explanation: `The token's roles lack ${EXPORT_ROLE} and the app registration does not request it, so no administrator could have granted it.`,
      fix: `Entra admin center → ${app} → API permissions → Add a permission → Microsoft Graph → Application permissions → ${EXPORT_ROLE} → Grant admin consent for the tenant. By Graph: POST /servicePrincipals/{your-sp-id}/appRoleAssignments {"principalId":"{your-sp-id}","resourceId":"{graph-sp-id}","appRoleId":"${EXPORT_ROLE_ID}"}.`,
      docs: DOCS.grantByGraph,
    };
    case 'permission.not-consented': return {
      title: `${EXPORT_ROLE} is not (yet) granted to the token`,
      explanation: `The app requests ${EXPORT_ROLE}, but the token's roles lack it: admin consent was never granted, or it was granted after this token was issued (roles reach only tokens issued after the grant; replication can take minutes).`,
      fix: `Entra admin center → ${app} → API permissions → Grant admin consent for the tenant; then get a new token (a cached token keeps its old roles for up to an hour).`,
      docs: DOCS.consent,
    };
    case 'user.not-found': return {
      title: 'The user does not exist in this tenant',
      explanation: `Graph knows no user '${u}' in tenant ${c.tenantId}.`,
      fix: 'Use the user\'s Entra object id or userPrincipalName in this tenant (Entra admin center → Users). Deleted users stay retrievable by their object id.',
      docs: DOCS.users,
    };
    case 'user.guest': return {
      title: 'The user is a guest',
      explanation: `'${u}' is a guest (userType Guest) here: a guest's Copilot interactions belong to their home tenant, and export covers this tenant's members.`,
      fix: 'Export the user from their home tenant, with an app registered there.',
      docs: DOCS.guests,
    };
    case 'user.disabled': return {
      title: 'The user\'s account is disabled',
      explanation: `'${u}' has accountEnabled=false. History of disabled (and deleted) users normally stays retrievable, so this is a cause only if the endpoint refuses this user.`,
      fix: 'If export fails only for this user, re-enable the account (Entra admin center → Users → the user → Edit properties → Account enabled) or use Purview eDiscovery.',
      docs: DOCS.users,
    };
    case 'license.no-copilot': return {
      title: 'The user has no Microsoft 365 Copilot licence',
      explanation: `No licence of '${u}' holds M365_COPILOT_BUSINESS_CHAT ("Microsoft Copilot with Graph-grounded chat", 3f30311c-…), the plan export requires.`,
      fix: `Microsoft 365 admin center → Users → Active users → ${u} → Licenses and apps → assign Microsoft 365 Copilot; allow up to 24 h to propagate.`,
      docs: DOCS.licences,
    };
    case 'license.plan-disabled': return {
      title: 'The Graph-grounded chat plan is switched off',
      explanation: `'${u}' holds a Copilot licence, but its M365_COPILOT_BUSINESS_CHAT plan (3f30311c-…) is disabled (Copilot Chat Basic), which removes the user from export.`,
      fix: `Microsoft 365 admin center → Users → Active users → ${u} → Licenses and apps → Microsoft 365 Copilot → tick "Microsoft Copilot with Graph-grounded chat". By Graph: POST /users/{id}/assignLicense with that skuId and disabledPlans without 3f30311c-6b1e-48a4-ab79-725b469da960.`,
      docs: DOCS.servicePlans,
    };
    case 'license.chat-only': return {
      title: 'The user has only the free Copilot Chat',
      explanation: `'${u}' has Copilot Chat through Bing_Chat_Enterprise (in E3/E5/Business suites) but no Microsoft 365 Copilot licence: free Chat interactions are not exportable.`,
      fix: `Assign a Microsoft 365 Copilot licence: Microsoft 365 admin center → Users → Active users → ${u} → Licenses and apps.`,
      docs: DOCS.licences,
    };
    case 'mailbox.unavailable': return {
      title: 'The user\'s Exchange Online mailbox may be unavailable (hypothesis)',
      explanation: 'Not documented by Microsoft: the interaction history appears to be read from a hidden folder of the user\'s Exchange Online mailbox. No enabled Exchange Online plan, an on-premises (hybrid) mailbox, or a mailbox not yet provisioned would then explain the refusal. Treat this as a hypothesis backed by the evidence below.',
      fix: `Give ${u} a cloud mailbox (an enabled EXCHANGE_S_* plan) or migrate it to Exchange Online; check with Get-EXOMailbox ${u} and Test-ApplicationAccessPolicy -Identity ${u} -AppId ${c.appId}.`,
      docs: DOCS.mailbox,
    };
    case 'tenant.unsupported-cloud': return {
      title: 'This cloud does not offer interaction export',
      explanation: `Microsoft documents the export API for the global cloud and US Government L4/L5, not for ${c.cloud === 'china' ? 'Microsoft Azure operated by 21Vianet' : c.cloud}.`,
      fix: 'No tenant-side fix: use Purview eDiscovery for Copilot interactions instead.',
      docs: DOCS.clouds,
    };
    case 'tenant.not-enabled': return {
      title: 'Interaction export is not enabled for this tenant (not checkable from the tenant side)',
      explanation: 'Every precondition copilog can check passes (app-only token with the role, admin consent, a licensed member with a mailbox), yet the export endpoint answers 403. What remains is on Microsoft\'s side (the API\'s tenant rollout or a service-side setting), which nothing in the tenant shows.',
      fix: 'Open a Microsoft support case (Microsoft 365 admin center → Support → New service request) and attach support-bundle.md (write it with --bundle DIR): it holds the request-id, client-request-id, Date and x-ms-ags-diagnostic of the refused request.',
      docs: DOCS.support,
    };
    case 'throttled': return {
      title: 'Graph is throttling this app',
      explanation: 'The export endpoint answered 429 until the doctor\'s retries ran out (it retries at most twice, waiting at most 2 s each and 3 s in all). The limit is 30 requests/second per app per tenant.',
      fix: 'Wait for the Retry-After period and run again; avoid running several exporters with the same app registration at once.',
      docs: DOCS.throttling,
    };
    case 'service.unavailable': return {
      title: 'The export service did not answer successfully',
      explanation: 'The endpoint answered 5xx after the retries the doctor allows, or took longer to answer than the time limit allowed.',
      fix: 'Retry later and check Microsoft 365 admin center → Health → Service health; if it persists, open a support case with the bundle.',
      docs: DOCS.health,
    };
    case 'unknown': return {
      title: 'copilog could not pin down the cause',
      explanation: 'The evidence does not match a known cause.',
      fix: 'Read the failing requests in the report; open a support case with the bundle (--bundle DIR).',
      docs: DOCS.errors,
    };
  }
}

/**
 * AADSTS number → verdict code. An invalid_client without a number copilog knows is blamed on the
 * credential actually used: the secret, or the certificate's assertion; unknown for another
 * credential (an @azure/identity one, say).
 */
export function codeForAadsts(n: number | undefined, error?: string, credential?: 'secret' | 'certificate'): VerdictCode {
  switch (n) {
    case 90002: case 90072: return 'auth.tenant-not-found';
    case 700016: case 70001: case 70002: return 'auth.app-not-found';
    case 7000215: return 'auth.invalid-secret';
    case 7000222: return 'auth.expired-secret';
    case 700027: case 700024: case 700021: case 50027: case 700023: return 'auth.invalid-certificate';
    case 500011: return 'token.wrong-audience';
    case 700038: case 7000218: case 900144: case 1002012: case 70011: return 'config.invalid';
    default:
      if (error === 'invalid_client' && credential) return credential === 'certificate' ? 'auth.invalid-certificate' : 'auth.invalid-secret';
      return 'unknown';
  }
}

const ORDER = new Map<VerdictCode, number>(VERDICT_CODES.map((c, i) => [c, i]));
/** The order causes block a request in: the earliest wins among confirmed causes. */
const CAUSAL: VerdictCode[] = [
  'config.invalid', 'auth.tenant-not-found', 'auth.app-not-found', 'auth.invalid-secret', 'auth.expired-secret', 'auth.invalid-certificate',
  'tenant.unsupported-cloud', 'token.wrong-tenant', 'token.wrong-audience', 'token.not-app-only', 'permission.delegated-only',
  'permission.missing-role', 'permission.not-consented', 'user.not-found', 'user.guest', 'license.no-copilot', 'license.chat-only',
  'license.plan-disabled', 'user.disabled', 'mailbox.unavailable', 'throttled', 'service.unavailable', 'tenant.not-enabled', 'unknown', 'ok',
];
const rank = (c: VerdictCode) => CAUSAL.indexOf(c) >= 0 ? CAUSAL.indexOf(c) : 100 + (ORDER.get(c) ?? 0);
const LIKELIHOOD = { confirmed: 0, likely: 1, possible: 2, unlikely: 3 } as const;

type Draft = Omit<Candidate, 'title' | 'explanation' | 'fix' | 'docs'> & Partial<Pick<Candidate, 'title' | 'explanation' | 'fix'>> & {
  /** A hypothesis that, with a refused probe, explains it better than "not enabled" does. */
  soft?: boolean;
};

/** Causes that come from the configuration, the token and the app's permissions (not per user). */
function globalDrafts(f: Facts, c: VerdictContext): Draft[] {
  const out: Draft[] = [];
  const add = (d: Draft) => out.push(d);
  if (f.configProblems.length) add({ code: 'config.invalid', likelihood: 'confirmed', supports: [...f.configProblems], weakens: [] });
  if (f.certificateError) add({ code: 'config.invalid', likelihood: 'confirmed', supports: [`certificate: ${f.certificateError}`], weakens: [] });

  const cert = f.certificate;
  const certBad = cert && (cert.expired || cert.notYetValid);
  const te = f.tokenError;
  if (te) {
    const evidence = te.transport
      ? [`the token endpoint did not answer: ${te.transport}`]
      : [`${te.aadsts ? `AADSTS${te.aadsts}` : te.error}: ${te.description}`, ...(te.traceId ? [`trace id ${te.traceId}, correlation id ${te.correlationId ?? '-'}`] : [])];
    if (te.transport) {
      // The deadline's own verdict (timeoutDraft) says which check it cut short.
      if (te.transportKind !== 'deadline') add(transportDraft(te.transportKind, te.transportPhase, te.host ?? c.authorityHost, evidence[0]!));
    } else {
      let code: VerdictCode = codeForAadsts(te.aadsts, te.error, te.credentialKind);
      if (code === 'unknown' && certBad) code = 'auth.invalid-certificate';
      add({ code, likelihood: 'confirmed', supports: evidence, weakens: [], ...(code === 'unknown' ? { explanation: `The token request failed with an error copilog does not map: ${evidence[0]}.` } : {}) });
    }
  }
  if (certBad) {
    add({
      code: 'auth.invalid-certificate', likelihood: te ? 'confirmed' : 'likely',
      supports: [`certificate ${cert.subject} is valid ${cert.notBefore} to ${cert.notAfter}: ${cert.expired ? 'expired' : 'not yet valid'}`], weakens: [],
    });
  }

  const cl = f.claims;
  if (cl) {
    if (f.audienceOk === false) add({ code: 'token.wrong-audience', likelihood: 'confirmed', supports: [`aud is ${cl.aud ?? '(none)'}, not ${c.graphAudience}`], weakens: [] });
    if (f.tenantOk === false) add({ code: 'token.wrong-tenant', likelihood: 'confirmed', supports: [`tid is ${cl.tid ?? '(none)'} (iss ${cl.iss ?? '-'}), configured tenant is ${c.tenantId}`], weakens: [] });
    if (f.tokenExpired) {
      add({ code: 'unknown', likelihood: 'confirmed', supports: [`the token expired at ${cl.exp}`], weakens: [], explanation: 'The access token has expired; Graph answers 401 "Access token has expired or is not yet valid."', fix: 'Get a new token (or let copilog acquire one: drop --access-token).' });
    }
    // With a token for another resource, its roles and scopes say nothing about Graph permissions:
    // no role-based candidate then, only the audience.
    const rolesApply = f.audienceOk !== false;
    if (f.appOnly === false) {
      const evidence = [`scp is '${cl.scp ?? ''}'${cl.idtyp ? `, idtyp is ${cl.idtyp}` : ''}`];
      add({ code: f.delegatedCopilotOnly ? 'permission.delegated-only' : 'token.not-app-only', likelihood: 'confirmed', supports: evidence, weakens: [] });
      if (rolesApply) add({ code: f.delegatedCopilotOnly ? 'token.not-app-only' : 'permission.delegated-only', likelihood: 'possible', supports: evidence, weakens: [] });
    } else if (!rolesApply) {
      // Nothing to say about roles.
    } else if (f.hasExportRole === false) {
      out.push(...roleDrafts(f));
    } else if (f.hasExportRole && f.consent?.assignment === 'absent') {
      add({ code: 'permission.not-consented', likelihood: 'possible', supports: [`no appRoleAssignment of ${EXPORT_ROLE} now, although the token carries the role: consent was revoked after the token was issued; new tokens will lack it`], weakens: [`roles contains ${EXPORT_ROLE}`] });
    } else if (f.hasExportRole) {
      add({ code: 'permission.missing-role', likelihood: 'unlikely', supports: [], weakens: [`roles contains ${EXPORT_ROLE}`, ...(f.consent?.assignment === 'present' ? [`admin consent granted ${f.consent.assignmentCreated ?? ''}`.trim()] : [])] });
    }
  }
  if (c.cloud === 'china') {
    add({ code: 'tenant.unsupported-cloud', likelihood: 'confirmed', supports: [`the tenant is in the ${c.cloud} cloud (21Vianet), where Microsoft does not offer the export API`], weakens: [] });
  }
  return out;
}

function roleDrafts(f: Facts): Draft[] {
  const roles = `roles lack ${EXPORT_ROLE} (roles: ${f.claims?.roles.join(', ') || 'none'})`;
  const k = f.consent;
  if (f.delegatedCopilotOnly || k?.requested === 'delegated-only') {
    return [{ code: 'permission.delegated-only', likelihood: 'confirmed', supports: [roles, 'the app holds only AiEnterpriseInteraction.Read (delegated) or AiEnterpriseInteraction.Read.User (per-user)'], weakens: [] }];
  }
  if (k?.assignment === 'present') {
    const predates = k.predatesGrant
      ? `the token was issued ${f.claims?.iat} but admin consent was granted ${k.assignmentCreated}: the token predates the grant; get a new token`
      : `admin consent exists (granted ${k.assignmentCreated ?? 'at an unknown time'}) but this token lacks the role: get a new token (replication can take minutes)`;
    return [{ code: 'permission.not-consented', likelihood: 'confirmed', supports: [roles, predates], weakens: [], ...(k.predatesGrant ? { fix: 'Get a new token: the grant exists, and roles reach only tokens issued after it (copilog acquires a fresh one when not given --access-token; restart services that cache tokens).' } : {}) }];
  }
  if (k?.requested === 'role') {
    return [
      { code: 'permission.not-consented', likelihood: 'confirmed', supports: [roles, `the app registration requests ${EXPORT_ROLE}`, 'no appRoleAssignment of it exists on the Microsoft Graph service principal'], weakens: [] },
    ];
  }
  if (k?.requested === 'none') {
    return [{ code: 'permission.missing-role', likelihood: 'confirmed', supports: [roles, `the app registration does not request ${EXPORT_ROLE} (requiredResourceAccess)`], weakens: [] }];
  }
  // What the app requests is unknown (no Application.Read.All). The token alone confirms that the
  // export is refused for want of the role: Graph checks it before anything else. Which of the two
  // causes it is needs the registration; the missing role comes first, the same grant fixes both.
  const why = k?.note ? [k.note] : ['the app registration could not be read, so whether it requests the role is unknown'];
  return [
    {
      code: 'permission.missing-role', likelihood: 'confirmed', supports: [roles, `Graph refuses the export to a token without ${EXPORT_ROLE} before it looks at the user`], weakens: why,
      explanation: `The token's roles lack ${EXPORT_ROLE}, and Graph refuses the export to such a token before it looks at the user, the licence or the tenant. Whether the app registration requests the permission (and only lacks admin consent, permission.not-consented) could not be read.`,
    },
    { code: 'permission.not-consented', likelihood: 'possible', supports: [roles], weakens: why },
  ];
}

const appIdOf = (f: Facts): string => f.claims?.appid ?? '<client-id>';

/** Causes specific to one user, from the directory. */
function userDrafts(f: Facts, u: UserReport): Draft[] {
  const out: Draft[] = [];
  const add = (d: Omit<Draft, 'user'>) => out.push({ ...d, user: u.userPrincipalName ?? u.key });
  if ((u.lookup === 'skipped' || u.lookup === 'error') && u.lookupNote) {
    // Read attempted and refused: say what stays unverified instead of guessing.
    add({ code: 'license.no-copilot', likelihood: 'possible', supports: [], weakens: [`membership, licences and mailbox of ${u.userPrincipalName ?? u.key} (${u.lookupNote})`] });
  }
  if (u.lookup === 'not-found') add({ code: 'user.not-found', likelihood: 'confirmed', supports: [u.lookupNote ?? `GET /users/${u.key} answered 404`], weakens: [] });
  if (u.userType === 'Guest') add({ code: 'user.guest', likelihood: 'confirmed', supports: [`userType is Guest (${u.userPrincipalName ?? u.key})`], weakens: [] });
  else if (u.userType === 'Member') add({ code: 'user.guest', likelihood: 'unlikely', supports: [], weakens: ['userType is Member'] });
  if (u.accountEnabled === false) add({ code: 'user.disabled', likelihood: 'possible', supports: ['accountEnabled is false'], weakens: ['disabled users\' history normally stays retrievable'] });

  const skus = u.licenses.map((l) => l.skuPartNumber).join(', ') || 'none';
  switch (u.copilot.businessChat) {
    case 'absent':
      if (u.copilot.freeChat) add({ code: 'license.chat-only', likelihood: 'confirmed', supports: ['Bing_Chat_Enterprise (free Copilot Chat) is enabled', `no licence holds M365_COPILOT_BUSINESS_CHAT (licences: ${skus})`], weakens: [] });
      else add({ code: 'license.no-copilot', likelihood: 'confirmed', supports: [`no licence holds M365_COPILOT_BUSINESS_CHAT (licences: ${skus})`], weakens: [] });
      break;
    case 'disabled':
      add({ code: 'license.plan-disabled', likelihood: 'confirmed', supports: [`M365_COPILOT_BUSINESS_CHAT is Disabled in ${u.copilot.skus.join(', ') || 'the Copilot licence'}`], weakens: [] });
      break;
    case 'enabled':
      add({ code: 'license.no-copilot', likelihood: 'unlikely', supports: [], weakens: [`M365_COPILOT_BUSINESS_CHAT is enabled (${u.copilot.skus.join(', ')})`] });
      break;
    case 'pending':
      // No code of its own (the codes are stable): license.no-copilot's, told as what it is.
      add({
        code: 'license.no-copilot', likelihood: 'possible', soft: true,
        supports: [`M365_COPILOT_BUSINESS_CHAT is ${u.copilot.status ?? 'pending'} in ${u.copilot.skus.join(', ') || 'the Copilot licence'}: assigned, not provisioned yet`],
        weakens: ['once provisioning completes (up to 24 h after the licence was assigned) the user is normally exportable'],
        title: 'The Copilot plan is assigned but not provisioned yet',
        explanation: `${u.userPrincipalName ?? u.key}'s M365_COPILOT_BUSINESS_CHAT plan is assigned but still ${u.copilot.status ?? 'pending'}: a licence assigned recently takes up to 24 h to propagate, and until then export may refuse the user.`,
        fix: PENDING_FIX,
      });
      break;
    case 'unknown':
      if (u.lookup === 'found') add({ code: 'license.no-copilot', likelihood: 'possible', supports: [], weakens: [u.copilot.note ? `licences not resolved: ${u.copilot.note}` : 'licences were not read (grant LicenseAssignment.Read.All or User.Read.All)'] });
      break;
  }
  if (u.mailbox.state === 'none' || u.mailbox.state === 'onPremises' || u.mailbox.state === 'notProvisioned') {
    add({ code: 'mailbox.unavailable', likelihood: 'possible', supports: [...u.mailbox.signals], weakens: ['the link between export and the mailbox is not documented'] });
  } else if (u.mailbox.state === 'online') {
    const refused = u.probe !== undefined && (u.probe.status === 403 || u.probe.status === 404);
    const who = u.userPrincipalName ?? u.key;
    // The plans show a mailbox; an Exchange application access policy (or RBAC for Applications)
    // that hides it from this app is invisible to Graph: never "ruled out" when export is refused.
    add({
      code: 'mailbox.unavailable', likelihood: refused ? 'possible' : 'unlikely', supports: [],
      weakens: [...u.mailbox.signals, ...(refused ? [] : ['the export endpoint was not refused'])],
      ...(refused ? {
        title: `${who}'s mailbox exists; whether an Exchange application access policy hides it is not checkable through Graph`,
        explanation: `The licences and provisioned plans show an Exchange Online mailbox. An Exchange application access policy or RBAC for Applications scope that excludes the mailbox from this app would not show in Graph at all (whether such policies cover ${EXPORT_ROLE} is not documented). Check it on the Exchange side.`,
        fix: `In Exchange Online PowerShell (Connect-ExchangeOnline): Test-ApplicationAccessPolicy -Identity ${who} -AppId ${appIdOf(f)}; with RBAC for Applications: Test-ServicePrincipalAuthorization -Identity ${appIdOf(f)} -Resource ${who}.`,
      } : {}),
    });
  }
  return out;
}

/** Why a 429 stayed a 429: the retries ran out, or the wait asked for exceeds what the doctor waits. */
function throttledExplanation(p: ProbeResult): string {
  const limit = 'The limit is 30 requests/second per app per tenant (and 1,500 per app across tenants).';
  const tries = `${p.attempts} attempt${p.attempts === 1 ? '' : 's'}`;
  if (p.retryAfterSeconds !== undefined && p.retryAfterSeconds > MAX_RETRY_WAIT_SECONDS) {
    return `The export endpoint answered 429 asking to wait ${p.retryAfterSeconds} s, longer than the doctor waits for one retry (${MAX_RETRY_WAIT_SECONDS} s), so it stopped after ${tries}. ${limit}`;
  }
  return `The export endpoint answered 429 on each of ${tries}: the doctor's retries ran out${p.retryAfterSeconds !== undefined ? ` (the last Retry-After was ${p.retryAfterSeconds} s)` : ''}. The app is still over its budget, so other clients with the same app registration are probably calling too. ${limit}`;
}

/** The longest wait the doctor's transport allows before one retry (docs/doctor.md: 2 s). */
const MAX_RETRY_WAIT_SECONDS = 2;

function probeEvidence(p: ProbeResult): string {
  if (p.transportError) return `the probe got no answer: ${p.transportError}`;
  return `the export endpoint answered ${p.status}${p.code ? ` ${p.code}` : ''}${p.message ? `: ${p.message}` : ''}${p.requestId ? ` (request-id ${p.requestId})` : ''}${p.attempts > 1 ? ` after ${p.attempts} attempts` : ''}`;
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/**
 * No HTTP answer. A certificate this machine does not trust is configuration (config.invalid, with
 * the CA to pass); no connection, a refused or reset one, or a name that does not resolve is the
 * network path (unknown, with what to check); only a request that was sent and not answered in
 * time says something about the service (service.unavailable). 5xx answers are handled apart.
 */
export function transportDraft(kind: ProbeResult['transportKind'], phase: ProbeResult['transportPhase'], host: string, line: string): Draft {
  if (kind === 'tls') {
    return {
      code: 'config.invalid', likelihood: 'confirmed', supports: [line], weakens: [],
      title: `The TLS certificate of ${host} is not trusted here`,
      explanation: `copilog could not verify the certificate ${host} presented. Either something between this machine and the service intercepts TLS with its own CA (a proxy or security appliance), or --ca names a CA that did not sign this server's certificate.`,
      fix: `Pass the CA that signed the certificate (the intercepting proxy's, or the emulator's own <data dir>/pki/ca.crt) with --ca PATH (PEM); copilog adds it to Node's trusted roots. See what the server presents with: openssl s_client -connect ${host} -showcerts`,
    };
  }
  if (kind === 'network' || phase === 'connect') {
    const dropped = phase === 'response';
    return {
      code: 'unknown', likelihood: dropped ? 'likely' : 'confirmed', supports: [line], weakens: [],
      title: dropped ? `The connection to ${host} was dropped before the answer was complete` : `copilog could not reach ${host}`,
      explanation: dropped
        ? `The connection to ${host} was reset or closed while the answer was coming, on every attempt the retry budget allowed. A proxy or firewall that cuts connections does this; so can the service, when it is failing.`
        : `No HTTP answer came from ${host}: the name did not resolve, or the connection was refused, reset or never completed. That is the network path from this machine (DNS, a proxy or firewall), not the export service.`,
      fix: `Check that this machine resolves ${host} and reaches it over HTTPS (nslookup ${host.replace(/:\d+$/, '')}; curl -v https://${host}/). copilog connects directly and does not read HTTPS_PROXY: run it where direct HTTPS to Microsoft is allowed.`,
    };
  }
  return { code: 'service.unavailable', likelihood: 'likely', supports: [line], weakens: ['a slow answer is not necessarily an outage'] };
}

/** Per-user hypotheses that, with a refused probe, explain it better than "not enabled" does. */
const SOFT = new Set<VerdictCode>(['user.disabled', 'mailbox.unavailable']);

const listOf = (items: string[]): string => items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

/** What a 403 verdict would need and could not read, with the permission that would let it. */
function unverified(f: Facts, u: UserReport): { what: string; permissions: string[]; grant: string[] }[] {
  const who = u.userPrincipalName ?? u.key;
  const out: { what: string; permissions: string[]; grant: string[] }[] = [];
  if (u.lookup !== 'found') out.push({ what: `membership, licences and mailbox of ${who}${u.lookupNote ? ` (${u.lookupNote})` : ''}`, permissions: ['User.Read.All'], grant: ['User.Read.All', 'LicenseAssignment.Read.All'] });
  else {
    if (u.copilot.businessChat === 'unknown') out.push({ what: `the licences of ${who}${u.copilot.note ? ` (${u.copilot.note})` : ''}`, permissions: ['LicenseAssignment.Read.All'], grant: ['LicenseAssignment.Read.All'] });
    if (u.mailbox.state === 'unknown') out.push({ what: `the mailbox of ${who}`, permissions: ['User.Read.All'], grant: ['User.Read.All'] });
  }
  if (!f.tenant?.skusRead) out.push({ what: 'the tenant\'s Copilot subscriptions (GET /subscribedSkus)', permissions: ['Organization.Read.All', 'LicenseAssignment.Read.All'], grant: ['Organization.Read.All'] });
  return out;
}

/** The preconditions that were read and passed, in the words of the evidence. */
function passedChecks(f: Facts, u: UserReport): string[] {
  const who = u.userPrincipalName ?? u.key;
  const out = [`an app-only token for Microsoft Graph with ${EXPORT_ROLE} in its roles`];
  if (f.consent?.assignment === 'present') out.push(`admin consent (appRoleAssignment granted ${f.consent.assignmentCreated ?? 'at an unknown time'})`);
  out.push(`${who} is an enabled member`);
  out.push(`M365_COPILOT_BUSINESS_CHAT is enabled (${u.copilot.skus.join(', ') || 'assigned plans'})`);
  if (u.mailbox.state === 'online') out.push(`an Exchange Online mailbox (${u.mailbox.signals.join('; ') || 'online'})`);
  if (f.tenant?.skusRead) out.push(`the tenant subscribes to ${f.tenant.copilotSkus.map((s) => `${s.skuPartNumber} (${s.capabilityStatus})`).join(', ')}`);
  return out;
}

/**
 * The --timeout cut a check short. A request that was sent and not answered means Graph (or the
 * authority) was slow: service.unavailable. Otherwise (nothing was waiting on the service, or no
 * connection could be made) the cause is not known: unknown. Either way, the fix is more time.
 */
function timeoutDraft(f: Facts, u?: UserReport): Draft {
  const t = f.timedOut!;
  const user = u ? u.userPrincipalName ?? u.key : undefined;
  const what = `the ${t.check} check${t.user ? ` for ${t.user}` : ''}`;
  const limit = `--timeout ${t.timeoutSeconds} s`;
  const raise = `Run copilog doctor again with a larger --timeout (for example --timeout ${Math.max(60, Math.ceil(t.timeoutSeconds * 2))})`;
  const supports = [
    t.notStarted ? `the ${limit} ran out before ${what} started` : `${what} was cut short by the ${limit}`,
    ...(t.request ? [`unanswered: ${t.request}`] : []),
  ];
  if (t.request && t.phase !== 'connect') {
    return {
      code: 'service.unavailable', likelihood: 'likely', supports, weakens: ['a slow answer is not necessarily an outage'], user,
      title: `The service answered too slowly: ${what} was cut short by ${limit}`,
      explanation: `A request was sent and its answer had not come when the time ran out, so ${what} could not conclude and the checks after it did not run.`,
      fix: `${raise}. If the service stays this slow, check Microsoft 365 admin center → Health → Service health.`,
    };
  }
  if (t.request) {
    return {
      code: 'unknown', likelihood: 'possible', supports, weakens: [], user,
      title: `No connection before the ${limit} ran out (${what})`,
      explanation: `copilog could not connect (the TCP connection or TLS handshake did not complete) before the time ran out, so ${what} did not finish: a network path, proxy or firewall problem rather than the service.`,
      fix: `Check that this machine reaches the host (DNS, proxy, firewall; copilog connects directly and does not read HTTPS_PROXY). ${raise} if the network is merely slow.`,
    };
  }
  return {
    code: 'unknown', likelihood: 'possible', supports, weakens: [], user,
    title: `The ${limit} ran out during ${what}`,
    explanation: `The time ran out ${t.notStarted ? 'before' : 'during'} ${what}, so it and the checks after it did not run.`,
    fix: `${raise}.`,
  };
}

/** The verdict for one user (or for none, when no user could be probed). */
export function decide(f: Facts, c: VerdictContext, u?: UserReport): Verdict {
  const drafts = [...globalDrafts(f, c), ...(u ? userDrafts(f, u) : [])];
  const p = u?.probe;
  const blocking = (d: Draft) => d.likelihood === 'confirmed';
  let primary: Draft | undefined;

  if (p && p.status >= 200 && p.status < 300) {
    // The endpoint answered: whatever else was seen, export works (a 200 may still be empty).
    primary = { code: 'ok', likelihood: 'confirmed', supports: [probeEvidence(p)], weakens: [], user: u ? u.userPrincipalName ?? u.key : undefined };
    for (const d of drafts) if (d.likelihood === 'confirmed') {
      d.likelihood = 'likely';
      d.weakens.push(`the probe answered ${p.status}${u?.copilot.businessChat !== 'enabled' ? ', but this user\'s history may come back empty' : ''}`);
    }
  } else {
    const probeSays = p ? probeEvidence(p) : undefined;
    const confirmed = drafts.filter(blocking).sort((a, b) => rank(a.code) - rank(b.code));
    primary = confirmed[0];
    // The time ran out before this user's probe got an answer: say where, and what to change.
    if (!primary && f.timedOut && (!p || p.transportError)) primary = timeoutDraft(f, u);
    if (!primary && p) {
      if (p.transportError) primary = { ...transportDraft(p.transportKind, p.transportPhase, hostOf(p.url), probeSays!), user: u ? u.userPrincipalName ?? u.key : undefined };
      else if (p.status >= 500) primary = { code: 'service.unavailable', likelihood: 'confirmed', supports: [probeSays!], weakens: [], user: u ? u.userPrincipalName ?? u.key : undefined };
      else if (p.status === 429) primary = { code: 'throttled', likelihood: 'confirmed', supports: [probeSays!, ...(p.retryAfterSeconds !== undefined ? [`Retry-After: ${p.retryAfterSeconds} s`] : [])], weakens: [], user: u ? u.userPrincipalName ?? u.key : undefined, explanation: throttledExplanation(p) };
      else if (p.status === 403 || p.status === 404) {
        const who = u ? u.userPrincipalName ?? u.key : undefined;
        // Soft suspects (hypotheses) explain a refusal before "not enabled" does.
        const soft = drafts.filter((d) => d.likelihood === 'possible' && d.supports.length && (d.soft || SOFT.has(d.code))).sort((a, b) => rank(a.code) - rank(b.code))[0];
        if (soft) {
          soft.likelihood = 'likely';
          soft.supports.push(probeSays!);
          primary = soft;
          // The tenant-wide cause stays in view: the same 403 would come from it.
          if (p.status === 403) {
            drafts.push({
              code: 'tenant.not-enabled', likelihood: 'possible', supports: [probeSays!], weakens: [`${soft.supports[0]}: that alone may explain the refusal`], user: who,
              explanation: 'The same 403 would come from Microsoft\'s side (export not enabled for the tenant), which nothing in the tenant shows. A user who passes every check tells the two apart.',
              fix: notEnabledFix(f, c),
            });
          }
        } else if (p.status === 403 && u) {
          const gaps = unverified(f, u);
          const notVerified = gaps.map((g) => `not verified: ${g.what} (needs ${g.permissions.join(' or ')})`);
          if (gaps.length === 0) {
            primary = {
              code: 'tenant.not-enabled', likelihood: 'likely', supports: [probeSays!, 'every precondition copilog checked passed'], user: who, fix: notEnabledFix(f, c),
              weakens: f.consent?.assignment === 'present' ? [] : [`admin consent was not read${f.consent?.note ? ` (${f.consent.note})` : ''}; the token's roles, which Graph checks, carry ${EXPORT_ROLE}`],
              explanation: `Everything copilog checked passes: ${passedChecks(f, u).join('; ')}. Yet the export endpoint answers 403. What remains is on Microsoft's side (the API's tenant rollout or a service-side setting), which nothing in the tenant shows.`,
            };
          } else {
            const permissions = [...new Set(gaps.flatMap((g) => g.grant))];
            const grant = `Grant the app ${listOf(permissions)} (Microsoft Graph application permissions, with admin consent), then run copilog doctor again: with them it can tell a missing licence or mailbox from a tenant-side block.`;
            if (f.tenant?.skusRead && f.tenant.copilotSkus.length === 0) {
              // Evidence without the user: a tenant with no Copilot SKU has no licensed user.
              primary = { code: 'license.no-copilot', likelihood: 'likely', supports: [probeSays!, 'the tenant subscribes to no Microsoft 365 Copilot SKU (GET /subscribedSkus), so none of its users holds M365_COPILOT_BUSINESS_CHAT'], weakens: notVerified, user: who };
            } else {
              primary = {
                code: 'unknown', likelihood: 'likely', supports: [probeSays!], weakens: notVerified, user: who,
                title: `The export endpoint refused ${who}, and copilog could not read what would say why`,
                explanation: `The export endpoint answered 403. copilog could not read ${listOf(gaps.map((g) => g.what))}, so it cannot tell a cause in the tenant (no Copilot licence, a disabled plan, no mailbox) from a block on Microsoft's side (tenant.not-enabled).`,
                fix: grant,
              };
            }
            drafts.push({ code: 'tenant.not-enabled', likelihood: 'possible', supports: [probeSays!], weakens: notVerified, user: who, explanation: 'Possible only once the checks above pass: a 403 for a user who passes every check points to Microsoft\'s side.', fix: grant });
            if (!drafts.some((d) => d.code === 'license.no-copilot' && d.user === who) && primary.code !== 'license.no-copilot') drafts.push({ code: 'license.no-copilot', likelihood: 'possible', supports: [probeSays!], weakens: notVerified, user: who });
          }
        }
      }
      primary ??= { code: 'unknown', likelihood: 'possible', supports: [probeSays!], weakens: [], user: u ? u.userPrincipalName ?? u.key : undefined, explanation: `The export endpoint refused the request in a way copilog does not map (${p.status}${p.code ? ` ${p.code}` : ''}).` };
    } else if (primary && probeSays && p) {
      // A refusal backs the cause; a throttled, failing or silent endpoint says nothing about it,
      // and is listed apart.
      if (p.status === 401 || p.status === 403 || p.status === 404) primary.supports.push(probeSays);
      else if (p.status === 429) drafts.push({ code: 'throttled', likelihood: 'possible', supports: [probeSays], weakens: [`${primary.code} alone stops the export`], user: primary.user });
      else if (p.status >= 500 || (p.transportError && !f.timedOut)) drafts.push({ code: 'service.unavailable', likelihood: 'possible', supports: [probeSays], weakens: [`${primary.code} alone stops the export`], user: primary.user });
    }
    primary ??= { code: 'unknown', likelihood: 'possible', supports: [u ? 'the probe did not run' : 'no user to probe: pass --user ID|UPN'], weakens: [], explanation: u ? 'The probe could not run, and no precondition failed.' : 'No precondition failed, but without a user the export endpoint could not be probed.', fix: 'Run again with --user <object id or UPN> of a user who uses Copilot.' };
  }

  // Other drafts of the primary's code add their evidence to it.
  for (const d of drafts) if (d !== primary && d.code === primary.code && d.user === primary.user) {
    primary.supports.push(...d.supports.filter((s) => !primary!.supports.includes(s)));
  }
  // A confirmed cause Graph meets before the user (configuration, token, permission, cloud) refuses
  // the export whatever the user's state: unverified suspicions about the user are not listed.
  const beforeUser = primary.likelihood === 'confirmed' && rank(primary.code) <= rank('permission.not-consented');
  const others = drafts.filter((d) => d !== primary && !(d.code === primary!.code && d.user === primary!.user))
    .filter((d) => !(beforeUser && USER_SIDE(d.code) && d.likelihood !== 'confirmed'))
    .sort((a, b) => LIKELIHOOD[a.likelihood] - LIKELIHOOD[b.likelihood] || rank(a.code) - rank(b.code));
  // One entry per code and user: merge the evidence.
  const merged: Draft[] = [];
  for (const d of others) {
    const same = merged.find((m) => m.code === d.code && m.user === d.user);
    if (same) {
      same.supports.push(...d.supports.filter((s) => !same.supports.includes(s)));
      same.weakens.push(...d.weakens.filter((s) => !same.weakens.includes(s)));
    } else merged.push({ ...d, supports: [...d.supports], weakens: [...d.weakens] });
  }
  const finished = finish(primary, c);
  return { primary: finished, candidates: markBlocked(finished, merged.slice(0, 10).map((d) => finish(d, c))) };
}

/** Causes on the user's side of the gates (the user, the licence, the mailbox, the tenant's rollout). */
const USER_SIDE = (code: VerdictCode): boolean => /^(user|license|mailbox)\./.test(code) || code === 'tenant.not-enabled';

/**
 * Candidates whose fix cannot help while the primary cause stands are marked (blockedBy) and their
 * fix says so instead of being offered: a licence for a guest (the guest's home tenant exports
 * them), anything at all in a cloud without the API, more checks on a user who does not exist.
 */
function markBlocked(primary: Candidate, candidates: Candidate[]): Candidate[] {
  const blocks = (k: Candidate): string | undefined => {
    if (k.code === 'ok' || k.code === primary.code) return undefined;
    if (primary.code === 'tenant.unsupported-cloud') {
      return 'Does not help in this cloud: Microsoft does not offer the export API for tenants operated by 21Vianet, whatever else is fixed. Use Purview eDiscovery.';
    }
    const sameUser = k.user !== undefined && k.user === primary.user;
    if (primary.code === 'user.guest' && sameUser && /^(license|mailbox)\.|^user\.disabled$|^tenant\.not-enabled$/.test(k.code)) {
      return `Does not help while ${k.user} is a guest here: a guest's Copilot interactions are exported from their home tenant, not by assigning a licence or a mailbox in this one.`;
    }
    if (primary.code === 'user.not-found' && sameUser && USER_SIDE(k.code)) {
      return `Does not help while ${k.user} does not exist in this tenant: check the id or UPN first.`;
    }
    return undefined;
  };
  const out = candidates.map((k) => {
    const why = blocks(k);
    return why ? { ...k, blockedBy: primary.code, fix: why } : k;
  });
  // Candidates that could help come first.
  return [...out.filter((k) => !k.blockedBy), ...out.filter((k) => k.blockedBy)];
}

function finish(d: Draft, c: VerdictContext): Candidate {
  const k = cause(d.code, c, d.user);
  return {
    code: d.code, title: d.title ?? k.title, likelihood: d.likelihood,
    explanation: d.explanation ?? k.explanation,
    supports: d.supports, weakens: d.weakens,
    fix: d.fix ?? k.fix, docs: k.docs,
    ...(d.user ? { user: d.user } : {}),
  };
}

/**
 * The overall verdict, whatever the order of --user: when a user who passes every check is refused
 * (tenant.not-enabled), that tenant-wide cause decides, and the other users' refusals support it;
 * otherwise the strongest failing user's verdict (likelihood, then the gate order, then the name).
 * The other failing users' verdicts join the candidates.
 */
export function decideAll(f: Facts, c: VerdictContext): { verdict: Verdict; perUser: Map<UserReport, Verdict> } {
  const perUser = new Map<UserReport, Verdict>();
  for (const u of f.users) perUser.set(u, decide(f, c, u));
  if (f.users.length === 0) return { verdict: decide(f, c), perUser };
  const label = (u: UserReport) => (u.userPrincipalName ?? u.key).toLowerCase();
  const users = [...f.users].sort((a, b) => label(a).localeCompare(label(b)));
  const v = (u: UserReport) => perUser.get(u)!;
  const failing = users.filter((u) => v(u).primary.code !== 'ok');
  if (failing.length === 0) return { verdict: v(users[0]!), perUser };
  const healthyRefused = failing.filter((u) => v(u).primary.code === 'tenant.not-enabled');
  const strength = (u: UserReport) => [LIKELIHOOD[v(u).primary.likelihood], rank(v(u).primary.code)] as const;
  const chosen = healthyRefused[0] ?? [...failing].sort((a, b) => strength(a)[0] - strength(b)[0] || strength(a)[1] - strength(b)[1] || label(a).localeCompare(label(b)))[0]!;
  const base = v(chosen);
  const primary: Candidate = { ...base.primary, supports: [...base.primary.supports], weakens: [...base.primary.weakens] };
  const others = failing.filter((u) => u !== chosen);
  if (healthyRefused.length) {
    for (const u of others) {
      const o = v(u).primary;
      if (u.probe?.status !== 403) continue;
      primary.supports.push(o.code === 'tenant.not-enabled'
        ? `${u.userPrincipalName ?? u.key}, who also passes every check, is refused too`
        : `${u.userPrincipalName ?? u.key} is refused too (its own suspect: ${o.code})`);
    }
  }
  const pool = [...base.candidates, ...others.map((u) => v(u).primary), ...others.flatMap((u) => v(u).candidates.filter((k) => k.likelihood !== 'unlikely'))]
    .filter((k) => !(k.code === primary.code && (healthyRefused.length > 0 || k.user === primary.user)));
  const candidates: Candidate[] = [];
  for (const k of pool) {
    const same = candidates.find((m) => m.code === k.code && m.user === k.user);
    if (same) {
      same.supports = [...same.supports, ...k.supports.filter((s) => !same.supports.includes(s))];
      same.weakens = [...same.weakens, ...k.weakens.filter((s) => !same.weakens.includes(s))];
    } else candidates.push({ ...k, supports: [...k.supports], weakens: [...k.weakens] });
  }
  candidates.sort((a, b) => LIKELIHOOD[a.likelihood] - LIKELIHOOD[b.likelihood] || rank(a.code) - rank(b.code) || (a.user ?? '').localeCompare(b.user ?? ''));
  return { verdict: { primary, candidates: markBlocked(primary, candidates.slice(0, 12)) }, perUser };
}
