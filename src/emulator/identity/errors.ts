// The identity platform's error shape (error, error_description "AADSTSnnnnn: …", error_codes,
// timestamp, trace_id, correlation_id, error_uri), written in one place.
import { randomUUID } from 'node:crypto';

export class AadstsError extends Error {
  constructor(readonly status: number, readonly error: string, readonly aadsts: number, description: string) {
    super(`AADSTS${aadsts}: ${description}`);
    this.name = 'AadstsError';
  }
}

export function aadstsBody(err: AadstsError, now: Date, correlationId: string = randomUUID()): Record<string, unknown> {
  const traceId = randomUUID();
  const timestamp = now.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  return {
    error: err.error,
    error_description: `${err.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [err.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.aadsts}`,
  };
}

export const aadsts = {
  tenantNotFound: (t: string) => new AadstsError(400, 'invalid_request', 90002, `Tenant '${t}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`),
  appNotFound: (appId: string, tenant: string) => new AadstsError(400, 'unauthorized_client', 700016, `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`),
  invalidSecret: (appId: string) => new AadstsError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`),
  expiredSecret: (appId: string) => new AadstsError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`),
  noCredential: () => new AadstsError(401, 'invalid_client', 7000218, `The request body must contain the following parameter: 'client_assertion' or 'client_secret'.`),
  certificateNotRegistered: (appId: string, thumbprint: string) => new AadstsError(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${appId}'.]`),
  assertionInvalid: (reason: string) => new AadstsError(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - ${reason}]`),
  assertionTime: () => new AadstsError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'),
  assertionClientMismatch: () => new AadstsError(401, 'invalid_client', 700021, `Client assertion application identifier doesn't match 'client_id' parameter.`),
  assertionAudience: (aud: string) => new AadstsError(401, 'invalid_client', 700027, `Client assertion contains an invalid audience. [Reason - The audience '${aud}' is not the token endpoint of this tenant.]`),
  assertionReplay: () => new AadstsError(401, 'invalid_client', 700027, 'Client assertion contains a jti that was already used. [Reason - Replayed assertion.]'),
  assertionType: (t: string) => new AadstsError(400, 'invalid_request', 50027, `Invalid client_assertion_type '${t}'. Use 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.`),
  invalidScope: (scope: string) => new AadstsError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`),
  missingScope: () => new AadstsError(400, 'invalid_scope', 70011, `The provided request must include a 'scope' input parameter.`),
  unknownResource: (resource: string, tenant: string) => new AadstsError(400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`),
  unsupportedGrant: (g: string) => new AadstsError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${g}'.`),
  missingParameter: (p: string) => new AadstsError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${p}'.`),
  malformedClientId: (v: string) => new AadstsError(400, 'unauthorized_client', 700038, `${v} is not a valid application identifier.`),
  postOnly: (method: string) => new AadstsError(400, 'invalid_request', 900561, `The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`),
  badContentType: () => new AadstsError(400, 'invalid_request', 900144, `The request body must contain the following parameter: 'grant_type'. Send the body as application/x-www-form-urlencoded.`),
};
