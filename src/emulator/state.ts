// The emulator's world, built from a scenario: tenants with their directory (users, licences,
// app registrations, service principals, consent) and per-tenant behaviour switches. Routes
// read it; the control API replaces or edits it. Keyed by tenant, like moto's stores.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { builtinCatalog, EXCHANGE_MAILBOX_PLANS, type LicensingCatalog, type SkuRow } from '../graph/licensing.js';
import { APPLICATION_ROLE_IDS, DELEGATED_SCOPE_IDS } from '../graph/permissions.js';
import { MICROSOFT_GRAPH_APP_ID } from '../graph/ids.js';
import type { Clock } from './clock.js';
import { guidFrom } from './ids.js';
import { ensureAppCertificate, thumbprints } from './pki.js';
import type { AppSpec, Behaviours, Faults, Scenario, TenantSpec } from './scenario/schema.js';
import { ScenarioError } from './scenario/load.js';

export interface AssignedLicense {
  sku: SkuRow;
  disabledPlanIds: string[];
  /** assignedPlans[].assignedDateTime; undefined: when the account was created. */
  assignedAt?: Date;
  /** Provisioning of the licence's enabled plans (Success unless a scenario says otherwise). */
  provisioningStatus: 'Success' | 'PendingInput' | 'PendingActivation' | 'PendingProvisioning' | 'Error';
}

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  userType: 'Member' | 'Guest';
  accountEnabled: boolean;
  mailbox: 'online' | 'onPremises' | 'none' | 'excludedByPolicy';
  usageLocation: string;
  locale: string;
  licenses: AssignedLicense[];
  interactionCount: number;
  createdDateTime: string;
}

export interface DirectoryGroup {
  id: string;
  displayName: string;
  users: DirectoryUser[];
  groups: DirectoryGroup[];
}

export interface AppCertificate {
  name: string;
  thumbprint: string;
  x5t: string;
  x5tS256: string;
  certPath: string;
  keyPath: string;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

export interface AppState {
  appId: string;
  displayName: string;
  /** Object id of the app registration (in its home tenant), and of its service principal in this tenant. */
  objectId: string;
  /** Where the app is registered: this tenant, or a multi-tenant app's home. */
  homeTenantId: string;
  servicePrincipalId: string;
  secrets: { value: string; keyId: string; displayName: string; expiresAt: Date }[];
  certificates: AppCertificate[];
  permissions: string[];
  consented: string[];
  consentedAt: Date;
  delegated: string[];
  rsc: string[];
}

export class TenantState {
  readonly id: string;
  readonly domain: string;
  readonly displayName: string;
  readonly cloud: TenantSpec['cloud'];
  features: TenantSpec['features'];
  behaviours: Behaviours;
  faults: Faults;
  readonly interactions: TenantSpec['interactions'];
  /** Generated history spans this window, fixed when the scenario loads. */
  readonly historyWindow: { start: Date; end: Date };
  readonly graphServicePrincipalId: string;
  readonly users: DirectoryUser[] = [];
  private readonly usersByKey = new Map<string, DirectoryUser>();
  readonly apps: AppState[] = [];
  readonly groups: DirectoryGroup[] = [];
  readonly subscribedSkuSpec: TenantSpec['subscribedSkus'];
  readonly createdDateTime: string;

  /** index: the tenant's position in the scenario, to name a bad field (tenants[1].users[0]…). */
  constructor(spec: TenantSpec, readonly catalog: LicensingCatalog, clock: Clock, readonly index = 0) {
    this.id = spec.id.toLowerCase();
    this.domain = spec.domain.toLowerCase();
    this.displayName = spec.displayName;
    this.cloud = spec.cloud;
    this.features = { ...spec.features };
    this.behaviours = { ...spec.behaviours };
    this.faults = { ...spec.faults };
    this.interactions = spec.interactions;
    this.historyWindow = { start: clock.resolve(spec.interactions.from), end: clock.resolve(spec.interactions.to) };
    this.subscribedSkuSpec = spec.subscribedSkus;
    this.graphServicePrincipalId = guidFrom(this.id, 'sp', MICROSOFT_GRAPH_APP_ID);
    this.createdDateTime = clock.resolve('-400d').toISOString().replace(/\.\d+Z$/, 'Z');
    spec.users.forEach((u, i) => this.addUser({
      id: (u.id ?? guidFrom(this.id, 'user', u.userPrincipalName.toLowerCase())).toLowerCase(),
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName ?? displayNameFrom(u.userPrincipalName),
      userType: u.userType,
      accountEnabled: u.accountEnabled,
      mailbox: u.mailbox,
      usageLocation: u.usageLocation,
      locale: u.locale.toLowerCase(),
      licenses: u.licenses.map((l, li) => this.resolveLicense(l, `tenants[${index}].users[${i}].licenses[${li}]`, clock)),
      interactionCount: u.interactions ?? spec.interactions.perUser,
      createdDateTime: this.createdDateTime,
    }));
    if (spec.generatedUsers) {
      const licenses = spec.generatedUsers.licenses.map((l, li) => this.resolveLicense(l, `tenants[${index}].generatedUsers.licenses[${li}]`, clock));
      for (let i = 0; i < spec.generatedUsers.count; i++) {
        const upn = `${spec.generatedUsers.prefix}${String(i + 1).padStart(5, '0')}@${this.domain}`;
        this.addUser({
          id: guidFrom(this.id, 'user', upn), userPrincipalName: upn, displayName: displayNameFrom(upn), userType: 'Member',
          accountEnabled: true, mailbox: 'online', usageLocation: 'US', locale: 'en-us', licenses, interactionCount: spec.interactions.perUser,
          createdDateTime: this.createdDateTime,
        });
      }
    }
  }

  /** Groups resolve after users: a member is a user (UPN or id) or another group (displayName or id). */
  private addGroups(spec: TenantSpec, index: number): void {
    for (const g of spec.groups) {
      this.groups.push({ id: (g.id ?? guidFrom(this.id, 'group', g.displayName.toLowerCase())).toLowerCase(), displayName: g.displayName, users: [], groups: [] });
    }
    spec.groups.forEach((g, gi) => {
      const group = this.groups[gi]!;
      g.members.forEach((m, mi) => {
        const u = this.user(m);
        const sub = this.group(m);
        if (u) group.users.push(u);
        else if (sub) group.groups.push(sub);
        else throw new ScenarioError(`tenants[${index}].groups[${gi}].members[${mi}]: '${m}' is neither a user (userPrincipalName or id) nor a group (displayName or id) of this tenant`);
      });
    });
  }

  /** A group by object id or displayName, case-insensitive. */
  group(key: string): DirectoryGroup | undefined {
    const k = key.toLowerCase();
    return this.groups.find((g) => g.id === k || g.displayName.toLowerCase() === k);
  }

  /** Users in the group or in groups nested in it, each once, in directory order. */
  transitiveUsers(g: DirectoryGroup): DirectoryUser[] {
    const seen = new Set<DirectoryGroup>();
    const users = new Set<DirectoryUser>();
    const walk = (x: DirectoryGroup) => {
      if (seen.has(x)) return;
      seen.add(x);
      x.users.forEach((u) => users.add(u));
      x.groups.forEach(walk);
    };
    walk(g);
    return this.users.filter((u) => users.has(u));
  }

  static async create(spec: TenantSpec, catalog: LicensingCatalog, clock: Clock, dataDir: string, index = 0): Promise<TenantState> {
    const t = new TenantState(spec, catalog, clock, index);
    t.addGroups(spec, index);
    (spec.subscribedSkus ?? []).forEach((d, i) => {
      if (!catalog.sku(d.sku)) throw new ScenarioError(`tenants[${index}].subscribedSkus[${i}].sku: unknown SKU ${d.sku} in ${catalog.source}`);
    });
    for (const [ai, a] of spec.apps.entries()) t.apps.push(await buildApp(t, a, clock, dataDir, `tenants[${index}].apps[${ai}]`));
    return t;
  }

  private resolveLicense(l: { sku: string; disabledPlans: string[]; assignedAt?: string; provisioningStatus: AssignedLicense['provisioningStatus'] }, where: string, clock?: Clock): AssignedLicense {
    const sku = this.catalog.sku(l.sku);
    if (!sku) throw new ScenarioError(`${where}.sku: unknown SKU ${l.sku} in ${this.catalog.source}; use a String_Id such as Microsoft_365_Copilot or SPE_E5, or load Microsoft's CSV with --licensing-csv`);
    const disabledPlanIds = l.disabledPlans.map((p, pi) => {
      const id = this.catalog.planId(sku, p);
      if (!id) throw new ScenarioError(`${where}.disabledPlans[${pi}]: ${sku.skuPartNumber} has no service plan ${p}`);
      return id;
    });
    return { sku, disabledPlanIds, provisioningStatus: l.provisioningStatus, ...(l.assignedAt && clock ? { assignedAt: clock.resolve(l.assignedAt) } : {}) };
  }

  private addUser(u: DirectoryUser): void {
    this.users.push(u);
    this.usersByKey.set(u.id, u);
    this.usersByKey.set(u.userPrincipalName.toLowerCase(), u);
  }

  /** A user by object id or userPrincipalName, case-insensitive. */
  user(key: string): DirectoryUser | undefined {
    return this.usersByKey.get(key.toLowerCase());
  }

  app(appId: string): AppState | undefined {
    return this.apps.find((a) => a.appId === appId.toLowerCase());
  }

  appBySpId(spId: string): AppState | undefined {
    return this.apps.find((a) => a.servicePrincipalId === spId.toLowerCase());
  }

  /** Plan ids that are assigned and not disabled for the user. */
  enabledPlans(u: DirectoryUser): Set<string> {
    const out = new Set<string>();
    for (const l of u.licenses) for (const [, id] of l.sku.servicePlans) if (!l.disabledPlanIds.includes(id)) out.add(id);
    return out;
  }

  /** Enabled plans whose provisioning has completed: what a service gate (the export's licence gate) sees. */
  provisionedPlans(u: DirectoryUser): Set<string> {
    const out = new Set<string>();
    for (const l of u.licenses) if (l.provisioningStatus === 'Success') for (const [, id] of l.sku.servicePlans) if (!l.disabledPlanIds.includes(id)) out.add(id);
    return out;
  }

  hasExchangeMailboxPlan(u: DirectoryUser): boolean {
    return [...this.enabledPlans(u)].some((p) => EXCHANGE_MAILBOX_PLANS.has(p));
  }
}

function displayNameFrom(upn: string): string {
  return upn.split('@')[0]!.split(/[._-]/).filter(Boolean).map((s) => s[0]!.toUpperCase() + s.slice(1)).join(' ');
}

async function buildApp(t: TenantState, a: AppSpec, clock: Clock, dataDir: string, where: string): Promise<AppState> {
  const appId = a.appId.toLowerCase();
  // A multi-tenant app's registration (object id, credentials, certificate files) is its home
  // tenant's: one credential works in every tenant that consented.
  const home = a.homeTenant?.toLowerCase() ?? t.id;
  const certificates: AppCertificate[] = [];
  for (const c of a.certificates) {
    const notBefore = c.notBefore ? clock.resolve(c.notBefore) : clock.resolve('-30d');
    const notAfter = c.expiresAt ? clock.resolve(c.expiresAt) : clock.resolve('+365d');
    const pair = await ensureAppCertificate(dataDir, a.homeTenant ? `app-${home}-${appId}-${c.name}` : `${t.domain}-${c.name}`, notBefore, notAfter, `${c.notBefore ?? '-30d'}|${c.expiresAt ?? '+365d'}`);
    const x = new X509Certificate(pair.certPem);
    const tp = thumbprints(pair.certPem);
    certificates.push({ name: c.name, thumbprint: tp.hex, x5t: tp.x5t, x5tS256: tp.x5tS256, certPath: pair.certPath, keyPath: pair.keyPath, publicKey: x.publicKey, notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) });
  }
  const unknownAt = [...a.permissions.map((p, i) => [`permissions[${i}]`, p]), ...a.rsc.map((p, i) => [`rsc[${i}]`, p])].filter(([, p]) => !(p! in APPLICATION_ROLE_IDS));
  const unknownScopes = a.delegated.map((p, i) => [`delegated[${i}]`, p]).filter(([, p]) => !(p! in DELEGATED_SCOPE_IDS));
  if (unknownScopes.length) throw new ScenarioError(`${unknownScopes.map(([f, p]) => `${where}.${f}: unknown delegated permission ${p}`).join('; ')} (copilog knows ${Object.keys(DELEGATED_SCOPE_IDS).join(', ')})`);
  if (unknownAt.length) throw new ScenarioError(`${unknownAt.map(([f, p]) => `${where}.${f}: unknown application permission ${p}`).join('; ')} (copilog knows ${Object.keys(APPLICATION_ROLE_IDS).join(', ')})`);
  return {
    appId,
    displayName: a.displayName,
    objectId: guidFrom(home, 'application', appId),
    homeTenantId: home,
    servicePrincipalId: guidFrom(t.id, 'sp', appId),
    secrets: a.secrets.map((s, i) => ({
      value: s.value,
      keyId: guidFrom(home, appId, 'secret', String(i)),
      displayName: s.displayName ?? `secret ${i + 1}`,
      expiresAt: s.expiresAt ? clock.resolve(s.expiresAt) : clock.resolve('+180d'),
    })),
    certificates,
    permissions: a.permissions,
    consented: a.consented === true ? [...a.permissions] : a.consented,
    consentedAt: a.consentedAt ? clock.resolve(a.consentedAt) : clock.resolve('-30d'),
    delegated: a.delegated,
    rsc: a.rsc,
  };
}

/** The whole world: every tenant of the loaded scenario. */
export class EmulatorState {
  constructor(readonly scenario: Scenario, readonly tenants: TenantState[]) {}

  static async build(scenario: Scenario, clock: Clock, dataDir: string, catalog: LicensingCatalog = builtinCatalog()): Promise<EmulatorState> {
    const tenants: TenantState[] = [];
    for (const [i, spec] of scenario.tenants.entries()) tenants.push(await TenantState.create(spec, catalog, clock, dataDir, i));
    return new EmulatorState(scenario, tenants);
  }

  /** A tenant by id or domain (the identity platform accepts both). */
  tenant(key: string): TenantState | undefined {
    const k = key.toLowerCase();
    return this.tenants.find((t) => t.id === k || t.domain === k);
  }

  get defaultTenant(): TenantState {
    return this.tenant(this.scenario.default.tenant)!;
  }
}
