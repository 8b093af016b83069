// The doctor's vocabulary: check results, the facts checks collect for the verdict, the verdict's
// stable codes, and the report (--json prints it; the support bundle stores it).
import type { Exchange } from '../../client/transport.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type CheckId = 'config' | 'token' | 'claims' | 'consent' | 'user.account' | 'user.license' | 'user.mailbox' | 'tenant' | 'probe' | 'subscriptions';

export interface CheckResult {
  id: CheckId;
  status: CheckStatus;
  title: string;
  evidence: string[];
  fix?: string;
  docs?: string;
  /** For per-user checks: the user as given (--user or the scenario default). */
  user?: string;
}

/** Every verdict code; stable: scripts and support tickets may key on them. */
export const VERDICT_CODES = [
  'ok',
  'config.invalid',
  'auth.tenant-not-found',
  'auth.app-not-found',
  'auth.invalid-secret',
  'auth.expired-secret',
  'auth.invalid-certificate',
  'token.wrong-audience',
  'token.wrong-tenant',
  'token.not-app-only',
  'permission.missing-role',
  'permission.not-consented',
  'permission.delegated-only',
  'user.not-found',
  'user.guest',
  'user.disabled',
  'license.no-copilot',
  'license.plan-disabled',
  'license.chat-only',
  'mailbox.unavailable',
  'tenant.unsupported-cloud',
  'tenant.not-enabled',
  'throttled',
  'service.unavailable',
  'unknown',
] as const;
export type VerdictCode = (typeof VERDICT_CODES)[number];

export interface Candidate {
  code: VerdictCode;
  title: string;
  /** confirmed: the evidence shows it; likely: strong signals; possible: a hypothesis; unlikely: ruled out by the evidence. */
  likelihood: 'confirmed' | 'likely' | 'possible' | 'unlikely';
  explanation: string;
  supports: string[];
  weakens: string[];
  fix: string;
  docs: string;
  /** The user it concerns, for per-user causes. */
  user?: string;
  /**
   * The primary cause that stands in this candidate's way: fixing this candidate alone cannot make
   * export work while that cause stands (a licence for a guest, anything in 21Vianet), so its fix
   * is not offered as one.
   */
  blockedBy?: VerdictCode;
}

export interface Verdict {
  primary: Candidate;
  candidates: Candidate[];
}

/** The decoded access token, reduced to what a diagnosis needs. Never the token itself. */
export interface ClaimSummary {
  aud?: string;
  iss?: string;
  tid?: string;
  appid?: string;
  app_displayname?: string;
  idtyp?: string;
  scp?: string;
  roles: string[];
  ver?: string;
  appidacr?: string;
  oid?: string;
  iat?: string;
  nbf?: string;
  exp?: string;
  lifetimeSeconds?: number;
  expiresInSeconds?: number;
}

export interface ProbeResult {
  method: string;
  url: string;
  status: number;
  code?: string;
  message?: string;
  requestId?: string;
  clientRequestId: string;
  date?: string;
  agsDiagnostic?: string;
  durationMs: number;
  attempts: number;
  retryAfterSeconds?: number;
  /** Items in the probe's page (never their content). */
  itemCount?: number;
  /** No answer: timeout, deadline or network failure. */
  transportError?: string;
  /** The TransportError's kind and phase (connect: no TCP/TLS connection was made). */
  transportKind?: 'timeout' | 'deadline' | 'network' | 'tls' | 'aborted';
  transportPhase?: 'connect' | 'response';
}

/** pending: assigned, not provisioned yet (PendingInput, PendingActivation, PendingProvisioning, or an error status). */
export type PlanState = 'enabled' | 'disabled' | 'pending' | 'absent' | 'unknown';

export interface UserLicense {
  skuId: string;
  skuPartNumber: string;
  displayName?: string;
  plans: { servicePlanId: string; servicePlanName: string; provisioningStatus: string }[];
  /** A SKU that neither the SKU table nor licenseDetails could resolve: its plans are not known. */
  contentsUnknown?: true;
}

export interface UserReport {
  /** As given: object id or UPN. */
  key: string;
  id?: string;
  userPrincipalName?: string;
  displayName?: string;
  userType?: string;
  accountEnabled?: boolean;
  onPremisesSyncEnabled?: boolean;
  lookup: 'found' | 'not-found' | 'skipped' | 'error';
  lookupNote?: string;
  licenses: UserLicense[];
  licenseSource?: 'licenseDetails' | 'assignedLicenses';
  copilot: {
    /** M365_COPILOT_BUSINESS_CHAT (3f30311c…). */
    businessChat: PlanState;
    /** Its status as Graph reported it (Success, Disabled, PendingActivation…; Enabled, Deleted… from assignedPlans). */
    status?: string;
    /** Why businessChat is unknown. */
    note?: string;
    /** Copilot SKUs (those holding 3f30311c), by part number. */
    skus: string[];
    /** Bing_Chat_Enterprise (free Copilot Chat) enabled. */
    freeChat: boolean;
  };
  mailbox: {
    state: 'online' | 'none' | 'onPremises' | 'notProvisioned' | 'unknown';
    exchangePlans: string[];
    signals: string[];
  };
  probe?: ProbeResult;
  verdict?: VerdictCode;
}

export interface TenantReport {
  cloud: string;
  copilotSkus: { skuPartNumber: string; skuId: string; consumedUnits: number; enabledUnits: number; capabilityStatus: string }[];
  skusRead: boolean;
  /** Enabled members who hold a Copilot SKU (looked up after a refused probe): who to try next. */
  licensedMembers?: string[];
}

export interface ConsentFacts {
  /** Role assignment of AiEnterpriseInteraction.Read.All on the Graph service principal. */
  assignment: 'present' | 'absent' | 'unknown';
  assignmentCreated?: string;
  /** What the app registration requests (requiredResourceAccess). */
  requested: 'role' | 'delegated-only' | 'none' | 'unknown';
  servicePrincipal: 'present' | 'absent' | 'unknown';
  predatesGrant?: boolean;
  note?: string;
}

export interface SubscriptionFacts {
  read: boolean;
  tenantWide: number;
  perUser: Record<string, number>;
  total: number;
}

/** What the checks found, in the terms the verdict reasons with. */
export interface Facts {
  configProblems: string[];
  certificate?: { subject: string; thumbprint: string; notBefore: string; notAfter: string; expired: boolean; notYetValid: boolean };
  certificateError?: string;
  tokenSource: 'acquired' | 'provided' | 'none';
  tokenError?: {
    aadsts?: number; error: string; description: string; traceId?: string; correlationId?: string;
    /** No answer from the token endpoint: the request line and message, with the failure's kind and phase. */
    transport?: string; transportKind?: ProbeResult['transportKind']; transportPhase?: ProbeResult['transportPhase']; host?: string;
    /** The credential that was refused, when copilog's own (MSAL) made the request. */
    credentialKind?: 'secret' | 'certificate';
  };
  claims?: ClaimSummary;
  claimsError?: string;
  audienceOk?: boolean;
  tenantOk?: boolean;
  appOnly?: boolean;
  hasExportRole?: boolean;
  /** The token or app holds only the delegated / per-user forms of the Copilot permission. */
  delegatedCopilotOnly?: boolean;
  tokenExpired?: boolean;
  consent?: ConsentFacts;
  tenant?: TenantReport;
  users: UserReport[];
  subscriptions?: SubscriptionFacts;
  deadlineReached?: boolean;
  /** The check the --timeout cut short, and the request that was still unanswered then. */
  timedOut?: {
    check: CheckId;
    user?: string;
    timeoutSeconds: number;
    /** "GET /v1.0/applications(…)": the first request the deadline (or the per-request timeout) ended. */
    request?: string;
    /** connect: no connection was made (TCP/TLS); response: sent, and no answer came. */
    phase?: 'connect' | 'response';
    /** The check had not started (the time ran out before it). */
    notStarted?: boolean;
  };
}

export interface BundleInfo {
  dir: string;
  files: string[];
}

export interface DoctorReport {
  version: 1;
  tool: string;
  tenantId: string;
  appId: string;
  cloud: string;
  mode: 'cloud' | 'emulator';
  emulator?: { url: string; scenario: string };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  tokenSource: Facts['tokenSource'];
  claims?: ClaimSummary;
  checks: CheckResult[];
  users: UserReport[];
  tenant?: TenantReport;
  verdict: Verdict;
  /** Every HTTP exchange: method, URL (secrets removed), status, ids, Date, x-ms-ags-diagnostic. */
  requests: Exchange[];
  bundle: BundleInfo | null;
}
