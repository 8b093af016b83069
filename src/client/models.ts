// The Graph v1.0 shapes copilog reads, in Graph's own vocabulary. Only the members copilog uses
// are typed; Graph may send more. Optional members are the ones $select may leave out.

/** A collection page: value plus @odata.nextLink while more pages exist. */
export interface CollectionPage<T> {
  '@odata.context'?: string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: T[];
}

export interface AssignedLicense {
  skuId: string;
  disabledPlans: string[];
}

export interface AssignedPlan {
  assignedDateTime?: string;
  /** Enabled, Warning, Suspended, Deleted, LockedOut. */
  capabilityStatus: string;
  service: string;
  servicePlanId: string;
}

export interface ProvisionedPlan {
  capabilityStatus: string;
  /** Success, PendingActivation, PendingInput, … */
  provisioningStatus: string;
  service: string;
}

export interface User {
  id: string;
  userPrincipalName: string;
  displayName?: string | null;
  mail?: string | null;
  userType?: 'Member' | 'Guest' | string | null;
  accountEnabled?: boolean | null;
  usageLocation?: string | null;
  onPremisesSyncEnabled?: boolean | null;
  assignedLicenses?: AssignedLicense[];
  assignedPlans?: AssignedPlan[];
  provisionedPlans?: ProvisionedPlan[];
}

export interface ServicePlanInfo {
  servicePlanId: string;
  servicePlanName: string;
  /** Success, Disabled, PendingInput, PendingActivation, PendingProvisioning, … */
  provisioningStatus: string;
  appliesTo: string;
}

export interface LicenseDetails {
  id: string;
  skuId: string;
  skuPartNumber: string;
  servicePlans: ServicePlanInfo[];
}

export interface SubscribedSku {
  id: string;
  skuId: string;
  skuPartNumber: string;
  appliesTo: string;
  /** Enabled, Warning, Suspended, Deleted, LockedOut. */
  capabilityStatus: string;
  consumedUnits: number;
  prepaidUnits: { enabled: number; suspended: number; warning: number; lockedOut?: number };
  servicePlans: ServicePlanInfo[];
}

export interface AppRole {
  id: string;
  value: string | null;
  displayName: string;
  allowedMemberTypes: string[];
  isEnabled: boolean;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  appOwnerOrganizationId?: string | null;
  accountEnabled?: boolean;
  servicePrincipalType?: string;
  appRoles?: AppRole[];
}

export interface AppRoleAssignment {
  id: string;
  appRoleId: string;
  createdDateTime: string | null;
  principalId: string;
  principalType: string;
  principalDisplayName?: string | null;
  resourceId: string;
  resourceDisplayName?: string | null;
}

export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: 'Role' | 'Scope' | string }[];
}

export interface Application {
  id: string;
  appId: string;
  displayName: string;
  requiredResourceAccess: RequiredResourceAccess[];
  passwordCredentials?: { keyId: string; displayName?: string | null; endDateTime?: string | null; hint?: string | null }[];
  keyCredentials?: { keyId: string; displayName?: string | null; endDateTime?: string | null; customKeyIdentifier?: string | null; type?: string }[];
}

export interface Subscription {
  id: string;
  resource: string;
  changeType: string;
  applicationId?: string | null;
  creatorId?: string | null;
  expirationDateTime: string;
  notificationUrl?: string;
  lifecycleNotificationUrl?: string | null;
  includeResourceData?: boolean | null;
}

export interface ItemBody {
  contentType: 'text' | 'html' | string;
  content: string;
}

export interface AiInteraction {
  id: string;
  appClass: string;
  attachments?: { attachmentId?: string; content?: string | null; contentType?: string; contentUrl?: string | null; name?: string | null }[];
  body?: ItemBody | null;
  contexts?: { contextReference?: string; contextType?: string | null; displayName?: string | null }[];
  conversationType?: string | null;
  createdDateTime: string;
  etag?: string | null;
  from: Record<string, unknown>;
  interactionType: 'userPrompt' | 'aiResponse' | 'unknownFutureValue';
  links?: { displayName?: string | null; linkType?: string | null; linkUrl?: string }[];
  locale: string;
  mentions?: unknown[];
  requestId?: string | null;
  sessionId: string;
}
