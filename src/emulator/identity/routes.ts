// The Microsoft Entra ID slice: OpenID metadata, instance discovery, JWKS and the v2.0 token
// endpoint for the client-credentials grant (secret or certificate assertion).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';
import type { EmulatorContext } from '../context.js';
import type { AppState, TenantState } from '../state.js';
import { GUID_RE } from '../ids.js';
import { AadstsError, aadsts } from './errors.js';
import { resourceFromScope } from './tokens.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export function identityRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const origin = (req: FastifyRequest) => `https://${req.headers.host ?? `127.0.0.1`}`;
  const tenantOr90002 = (key: string): TenantState => {
    const t = ctx.state.tenant(key);
    if (!t) throw aadsts.tenantNotFound(key);
    return t;
  };

  app.get<{ Params: { tenant: string } }>('/:tenant/v2.0/.well-known/openid-configuration', async (req) => {
    const t = tenantOr90002(req.params.tenant);
    const base = `${origin(req)}/${t.id}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin(req)}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'tid', 'ver', 'oid', 'roles'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: t.cloud === 'global' ? 'NA' : 'USG',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  });

  // Instance discovery, for clients that are not told to skip it.
  app.get<{ Params: { tenant: string } }>('/:tenant/discovery/instance', async (req) => {
    const host = req.headers.host ?? '127.0.0.1';
    return {
      tenant_discovery_endpoint: `${origin(req)}/${req.params.tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  });

  const keys = async () => ({ keys: [ctx.tokens.jwk()] });
  app.get('/:tenant/discovery/v2.0/keys', keys);
  app.get('/:tenant/discovery/keys', keys);
  app.get('/common/discovery/keys', keys);

  app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/:tenant/oauth2/v2.0/token', handler: async (req) => { throw aadsts.postOnly(req.method); } });

  app.post<{ Params: { tenant: string }; Body: Record<string, string> | undefined }>('/:tenant/oauth2/v2.0/token', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || !String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) throw aadsts.badContentType();
    const tenant = tenantOr90002(req.params.tenant);
    const grant = body.grant_type;
    if (!grant) throw aadsts.missingParameter('grant_type');
    if (grant !== 'client_credentials') throw aadsts.unsupportedGrant(grant);

    const basic = parseBasic(req.headers.authorization);
    const clientId = (body.client_id ?? basic?.id ?? '').trim();
    if (!clientId) throw aadsts.missingParameter('client_id');
    if (!GUID_RE.test(clientId)) throw aadsts.malformedClientId(clientId);
    const appState = tenant.app(clientId);
    if (!appState) throw aadsts.appNotFound(clientId, tenant.domain);

    if (body.scope === undefined || body.scope.trim() === '') throw aadsts.missingScope();
    const scopes = body.scope.trim().split(/\s+/);
    if (scopes.length !== 1) throw aadsts.invalidScope(body.scope);
    const resource = resourceFromScope(scopes[0]!);
    if (!resource) throw aadsts.invalidScope(scopes[0]!);
    if ('unknown' in resource) throw aadsts.unknownResource(resource.unknown, tenant.id);

    const nowMs = ctx.clock.nowMs();
    let appidacr: '1' | '2';
    if (body.client_assertion !== undefined || body.client_assertion_type !== undefined) {
      if (body.client_assertion_type !== ASSERTION_TYPE) throw aadsts.assertionType(body.client_assertion_type ?? '');
      if (!body.client_assertion) throw aadsts.missingParameter('client_assertion');
      await verifyAssertion(body.client_assertion, appState, tenant, nowMs, ctx.seenAssertions);
      appidacr = '2';
    } else {
      const secret = body.client_secret ?? basic?.secret;
      if (secret === undefined) throw aadsts.noCredential();
      const match = appState.secrets.filter((s) => s.value === secret);
      if (match.length === 0) throw aadsts.invalidSecret(appState.appId);
      if (match.every((s) => s.expiresAt.getTime() <= nowMs)) throw aadsts.expiredSecret(appState.appId);
      appidacr = '1';
    }
    const { token, expiresIn } = await ctx.tokens.mint({
      tenant, app: appState, audience: resource.audience, appidacr, nowMs, lifetimeSeconds: tenant.behaviours.tokenLifetimeSeconds,
    });
    ctx.log.info({ event: 'token.issued', tenant: tenant.id, appId: appState.appId, audience: resource.audience, appidacr }, 'token issued');
    reply.header('cache-control', 'no-store, no-cache').header('pragma', 'no-cache');
    return { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token };
  });
}

function parseBasic(h: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(h ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const dec = (s: string) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
  return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
}

/** Check a certificate client assertion the way Entra does; throw the AADSTS error it would. */
async function verifyAssertion(assertion: string, app: AppState, tenant: TenantState, nowMs: number, seen: Map<string, number>): Promise<void> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw aadsts.assertionInvalid('The client assertion is not a well-formed JWT.');
  }
  const alg = header.alg;
  let cert: AppState['certificates'][number] | undefined;
  let presented: string | undefined;
  if (alg === 'RS256') {
    presented = typeof header.x5t === 'string' ? header.x5t : undefined;
    cert = app.certificates.find((c) => c.x5t === presented);
  } else if (alg === 'PS256') {
    presented = typeof header['x5t#S256'] === 'string' ? (header['x5t#S256'] as string) : undefined;
    cert = app.certificates.find((c) => c.x5tS256 === presented);
  } else {
    throw aadsts.assertionInvalid(`The signing algorithm '${String(alg)}' is not supported; use RS256 with x5t or PS256 with x5t#S256.`);
  }
  if (!presented) throw aadsts.assertionInvalid(`The ${alg === 'RS256' ? 'x5t' : 'x5t#S256'} header is missing.`);
  if (!cert) throw aadsts.certificateNotRegistered(app.appId, Buffer.from(presented, 'base64url').toString('hex').toUpperCase());
  if (cert.notAfter.getTime() <= nowMs || cert.notBefore.getTime() > nowMs) throw aadsts.assertionInvalid(`The key used is expired or not yet valid (certificate '${cert.name}' is valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}).`);
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, cert.publicKey, { algorithms: [alg], currentDate: new Date(nowMs), clockTolerance: 300 }));
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired || (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'nbf')) throw aadsts.assertionTime();
    if (e instanceof AadstsError) throw e;
    throw aadsts.assertionInvalid('The signature does not verify with the registered certificate.');
  }
  if (payload.exp === undefined) throw aadsts.assertionTime();
  if (payload.iss !== payload.sub || String(payload.iss).toLowerCase() !== app.appId) throw aadsts.assertionClientMismatch();
  const auds = (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).filter((a): a is string => typeof a === 'string');
  const okAud = auds.some((a) => {
    try {
      const u = new URL(a);
      const m = /^\/([^/]+)\/oauth2(?:\/v2\.0)?\/token\/?$/i.exec(u.pathname);
      return u.protocol === 'https:' && !!m && (m[1]!.toLowerCase() === tenant.id || m[1]!.toLowerCase() === tenant.domain);
    } catch {
      return false;
    }
  });
  if (!okAud) throw aadsts.assertionAudience(auds.join(', '));
  if (typeof payload.jti !== 'string' || payload.jti === '') throw aadsts.assertionInvalid('The jti claim is missing.');
  const key = `${app.appId}:${payload.jti}`;
  for (const [k, exp] of seen) if (exp < nowMs) seen.delete(k);
  if (seen.has(key)) throw aadsts.assertionReplay();
  seen.set(key, payload.exp * 1000 + 300_000);
}
