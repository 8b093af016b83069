// The scenario file format: one tenant world the emulator serves. docs/scenarios.md explains
// each field; this schema is the single source of truth for what is accepted, and its errors
// name the bad field (tenants[0].users[3].userType: …).
import { z } from 'zod';

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID like 00000000-0000-0000-0000-000000000000');
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time like 2026-01-01T00:00:00Z');
/** Relative offsets ("-30d", "+2h") are resolved against the emulator clock at load time. */
const when = z.union([isoDate, z.string().regex(/^[+-]\d+(ms|s|m|h|d)$/, 'must be ISO 8601 or an offset like -30d / +2h')]);

const license = z.strictObject({
  sku: z.string().min(1).describe('skuPartNumber (String_Id) or skuId'),
  disabledPlans: z.array(z.string()).default([]).describe('service plan names or ids'),
  /** When the licence was assigned (assignedPlans[].assignedDateTime); default: with the account. */
  assignedAt: when.optional(),
  /**
   * Where provisioning of its (enabled) plans stands: licenseDetails servicePlans[].provisioningStatus
   * and provisionedPlans. A plan not yet "Success" does not pass the export's licence gate.
   */
  provisioningStatus: z.enum(['Success', 'PendingInput', 'PendingActivation', 'PendingProvisioning', 'Error']).default('Success'),
});

const user = z.strictObject({
  id: guid.optional(),
  userPrincipalName: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must look like name@domain'),
  displayName: z.string().optional(),
  userType: z.enum(['Member', 'Guest']).default('Member'),
  accountEnabled: z.boolean().default(true),
  licenses: z.array(license).default([]),
  /** excludedByPolicy: an online mailbox that an Exchange application access policy hides from apps (§11). */
  mailbox: z.enum(['online', 'onPremises', 'none', 'excludedByPolicy']).default('online'),
  usageLocation: z.string().length(2).default('US'),
  /** The locale of the user's Copilot interactions (aiInteraction.locale). */
  locale: z.string().regex(/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i, 'must be a locale like en-us or de-de').default('en-us'),
  /** How many interactions the generator gives this user (tenant default otherwise). */
  interactions: z.number().int().min(0).optional(),
});

const secret = z.strictObject({
  value: z.string().min(8),
  displayName: z.string().optional(),
  expiresAt: when.optional(),
});

const certificate = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only (it names files)'),
  notBefore: when.optional(),
  expiresAt: when.optional(),
});

const app = z.strictObject({
  appId: guid,
  displayName: z.string().min(1),
  secrets: z.array(secret).default([]),
  certificates: z.array(certificate).default([]),
  /** Application permissions on Microsoft Graph the registration requests (requiredResourceAccess). */
  permissions: z.array(z.string()).default([]),
  /** Those with admin consent; `true` (default) = all requested. */
  consented: z.union([z.literal(true), z.array(z.string())]).default(true),
  consentedAt: when.optional(),
  /** Delegated permissions granted (oauth2PermissionGrants); they never appear in app-only tokens. */
  delegated: z.array(z.string()).default([]),
  /** Resource-specific consent grants (e.g. AiEnterpriseInteraction.Read.User): not in the tenant-wide token. */
  rsc: z.array(z.string()).default([]),
  /**
   * A multi-tenant app's home tenant (where it is registered): here it has only its service
   * principal and consent, and its credentials (secrets, certificate files) are the home's.
   */
  homeTenant: guid.optional(),
});

const faults = z.strictObject({
  latencyMs: z.number().min(0).default(0),
  latencyJitterMs: z.number().min(0).default(0),
  latencyDistribution: z.enum(['fixed', 'uniform', 'exponential']).default('fixed'),
  /** Share of requests (0..1) answered with a 503/504 carrying Retry-After. */
  errorRate: z.number().min(0).max(1).default(0),
  errorStatuses: z.array(z.union([z.literal(503), z.literal(504), z.literal(500)])).default([503, 504]),
  errorRetryAfter: z.number().min(0).default(1),
  resetRate: z.number().min(0).max(1).default(0),
  truncateRate: z.number().min(0).max(1).default(0),
  /** Inject an empty page (with nextLink) every N pages; 0 = off (graph-facts §12 #18). */
  emptyPageEvery: z.number().int().min(0).default(0),
  seed: z.string().default('faults'),
  /** Paths the faults apply to: "interactions" (default) or "all". */
  scope: z.enum(['interactions', 'all']).default('interactions'),
});

/** Each entry is one row of graph-facts.md §12, with the emulator default. */
const behaviours = z.strictObject({
  oneBoundFilter: z.union([z.literal(400), z.literal(500)]).default(400),
  /** null: no cap below the emulator's own page limit of 9,999. */
  topCap: z.number().int().positive().max(9999).nullable().default(100),
  topAboveCap: z.enum(['cap', 'reject']).default('cap'),
  defaultPageSize: z.number().int().positive().max(9999).default(100),
  unlicensedUser: z.enum(['forbidden', 'empty']).default('forbidden'),
  tenantWideGet: z.enum(['notFound', 'serve']).default('notFound'),
  unknownUser: z.enum(['notFound', 'forbidden']).default('notFound'),
  upnInPath: z.enum(['accept', 'notFound']).default('accept'),
  inclusiveBounds: z.enum(['accept', 'reject']).default('accept'),
  rejectAllFilters: z.boolean().default(false),
  subSecond: z.enum(['accept', 'reject']).default('accept'),
  unknownAppClass: z.enum(['empty', 'reject']).default('empty'),
  unsupportedQueryOptions: z.enum(['ignore', 'reject']).default('ignore'),
  odataCount: z.enum(['perPage', 'omit']).default('perPage'),
  roleMissingMessage: z.string().default('UnknownError'),
  guestUser: z.enum(['forbidden', 'empty']).default('forbidden'),
  disabledUser: z.enum(['allow', 'forbidden']).default('allow'),
  mailboxOnPremises: z.enum(['allow', 'forbidden', 'notFound']).default('allow'),
  mailboxNone: z.enum(['allow', 'forbidden', 'notFound']).default('allow'),
  mailboxExcludedByPolicy: z.enum(['allow', 'forbidden', 'notFound']).default('allow'),
  /** documentedOnly: only the documented path spelling is served (no "()", prefix or other case). */
  pathVariants: z.enum(['accept', 'documentedOnly']).default('accept'),
  retryAfter: z.enum(['integer', 'decimal']).default('integer'),
  /** Order of a window's items (#16): oldest first, or newest first as Microsoft's multi-item example. */
  sortOrder: z.enum(['ascending', 'descending']).default('ascending'),
  requestsPerSecond: z.number().positive().nullable().default(30),
  tokenLifetimeSeconds: z.number().int().positive().default(3599),
  /** An interaction becomes visible this long after its createdDateTime (#22). */
  ingestionDelaySeconds: z.number().min(0).default(0),
  /** Interactions older than this are no longer returned; null keeps everything (#22). */
  retentionDays: z.number().positive().nullable().default(null),
  /**
   * Change notifications (graph-facts §6): Graph takes only https notificationUrl values;
   * httpLoopback also takes http:// on 127.0.0.1, localhost or [::1] (a test receiver).
   */
  notificationUrlScheme: z.enum(['https', 'httpLoopback']).default('https'),
  /** expirationDateTime beyond 4,320 minutes (#25): refused with 400, or clamped to the maximum. */
  subscriptionLifetimeAboveMax: z.enum(['reject', 'clamp']).default('reject'),
  /** Notifications per POST (value[]) to a receiver. */
  notificationBatchSize: z.number().int().min(1).max(1000).default(100),
  /** Back-off after a failed or slow (> 3 s) delivery: base, doubled per attempt up to the maximum (real time). */
  notificationRetryBaseMs: z.number().int().min(10).default(1000),
  notificationRetryMaxMs: z.number().int().min(10).default(60_000),
  /**
   * The rich-notification prerequisite (Change Tracking SP can sign in to the app): when false,
   * rich notifications carry no validationTokens, as Graph does.
   */
  changeTrackingPrerequisite: z.boolean().default(true),
}).prefault({});

const tenant = z.strictObject({
  id: guid,
  domain: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a domain like contoso.onmicrosoft.com'),
  displayName: z.string().default('Contoso'),
  cloud: z.enum(['global', 'usgov', 'usgovdod', 'china']).default('global'),
  features: z.strictObject({
    /** The tenant-side gate for interaction export (rollout). Off reproduces the seed-403 case. */
    interactionExport: z.boolean().default(true),
  }).prefault({}),
  behaviours,
  faults: faults.prefault({}),
  apps: z.array(app).default([]),
  users: z.array(user).default([]),
  /** Groups whose (transitive) members an export can target: members are UPNs or other groups' displayNames. */
  groups: z.array(z.strictObject({
    id: guid.optional(),
    displayName: z.string().min(1),
    members: z.array(z.string()).default([]),
  })).default([]),
  /** Bulk users for large tenants: generated deterministically, never listed one by one. */
  generatedUsers: z.strictObject({
    count: z.number().int().min(0).max(200_000),
    prefix: z.string().regex(/^[a-z0-9.-]+$/i).default('user'),
    licenses: z.array(license).default([]),
  }).optional(),
  subscribedSkus: z.array(z.strictObject({ sku: z.string(), prepaidUnits: z.number().int().min(0) })).optional(),
  interactions: z.strictObject({
    seed: z.string().default('copilog'),
    perUser: z.number().int().min(0).default(40),
    from: when.default('-90d'),
    to: when.default('-1h'),
  }).prefault({}),
});

/** Many customer tenants made from one template (the fleet): ids and domains derive from the index. */
const generatedTenants = z.strictObject({
  count: z.number().int().min(1).max(2000),
  /** Domains are {prefix}{NNN}.onmicrosoft.com; ids are derived from them. */
  prefix: z.string().regex(/^[a-z0-9-]+$/).default('customer'),
  usersPerTenant: z.number().int().min(0).max(100_000).default(25),
  licenses: z.array(license).default([{ sku: 'Microsoft_365_Copilot', disabledPlans: [], provisioningStatus: 'Success' }]),
  interactions: tenant.shape.interactions,
  behaviours,
  faults: faults.prefault({}),
});

/** An app registered in one home tenant, with a service principal and admin consent in others. */
const multiTenantApp = app.omit({ homeTenant: true }).extend({
  homeTenant: z.string().describe('tenant id or domain of the registration'),
  /** Tenants that consented: 'all', or ids/domains. */
  consentedIn: z.union([z.literal('all'), z.array(z.string())]).default('all'),
});

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'letters, digits, . _ - only'),
  description: z.string().default(''),
  clock: z.strictObject({ now: isoDate.optional(), frozen: z.boolean().default(false) }).prefault({}),
  storage: z.enum(['memory', 'file']).default('memory'),
  default: z.strictObject({
    tenant: z.string().describe('tenant id or domain'),
    app: z.string().describe('appId or displayName'),
    user: z.string().describe('user id or userPrincipalName'),
    /** The scope the default client asks for (to reproduce a wrong-audience token). */
    scope: z.string().optional(),
    credential: z.enum(['secret', 'certificate']).default('secret'),
  }),
  tenants: z.array(tenant).min(1),
  generatedTenants: generatedTenants.optional(),
  multiTenantApps: z.array(multiTenantApp).default([]),
  /** Graph's per-app limit across all tenants (requests/s to the export API); null: none. */
  appRequestsPerSecond: z.number().positive().nullable().default(1500),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type TenantSpec = Scenario['tenants'][number];
export type AppSpec = TenantSpec['apps'][number];
export type UserSpec = TenantSpec['users'][number];
export type Behaviours = TenantSpec['behaviours'];
export type Faults = TenantSpec['faults'];
