// Access tokens: issuing them in the v1 shape Graph receives from Entra, and validating them at
// Graph's door. The emulator signs with its own key (real Graph tokens can't be verified by
// third parties anyway; clients only decode them).
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, decodeProtectedHeader, decodeJwt, errors as joseErrors, type JWTPayload } from 'jose';
import { MICROSOFT_GRAPH_APP_ID } from '../../graph/ids.js';
import type { Pki } from '../pki.js';
import type { AppState, TenantState } from '../state.js';

/** Resources the token endpoint knows, by audience (the Graph one per cloud). */
export const RESOURCES: Record<string, { appId: string; name: string }> = {
  'https://graph.microsoft.com': { appId: MICROSOFT_GRAPH_APP_ID, name: 'Microsoft Graph' },
  'https://graph.microsoft.us': { appId: MICROSOFT_GRAPH_APP_ID, name: 'Microsoft Graph (US Government L4)' },
  'https://dod-graph.microsoft.us': { appId: MICROSOFT_GRAPH_APP_ID, name: 'Microsoft Graph (US Government L5)' },
  'https://microsoftgraph.chinacloudapi.cn': { appId: MICROSOFT_GRAPH_APP_ID, name: 'Microsoft Graph (21Vianet)' },
  'https://outlook.office365.com': { appId: '00000002-0000-0ff1-ce00-000000000000', name: 'Office 365 Exchange Online' },
  'https://management.azure.com': { appId: '797f4846-ba00-4fd7-ba43-dac1f8f63013', name: 'Windows Azure Service Management API' },
  'https://vault.azure.net': { appId: 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093', name: 'Azure Key Vault' },
};

export const GRAPH_AUDIENCE_BY_CLOUD: Record<TenantState['cloud'], string> = {
  global: 'https://graph.microsoft.com',
  usgov: 'https://graph.microsoft.us',
  usgovdod: 'https://dod-graph.microsoft.us',
  china: 'https://microsoftgraph.chinacloudapi.cn',
};

/** "https://graph.microsoft.com/.default" or "00000003-…/.default" → audience, else undefined. */
export function resourceFromScope(scope: string): { audience: string; appId: string } | { unknown: string } | undefined {
  const m = /^(.+)\/\.default$/i.exec(scope.trim());
  if (!m) return undefined;
  const resource = m[1]!.replace(/\/$/, '').toLowerCase();
  const byAud = RESOURCES[resource];
  if (byAud) return { audience: resource, appId: byAud.appId };
  const byId = Object.entries(RESOURCES).find(([, r]) => r.appId === resource);
  if (byId) return { audience: byId[1].appId === MICROSOFT_GRAPH_APP_ID ? 'https://graph.microsoft.com' : byId[0], appId: byId[1].appId };
  return { unknown: m[1]! };
}

export interface MintOptions {
  tenant: TenantState;
  app: AppState;
  audience: string;
  appidacr: '1' | '2';
  nowMs: number;
  lifetimeSeconds: number;
  /** Overrides for test tokens minted through the control API. */
  claims?: Record<string, unknown>;
}

/** Seconds of clock skew a token's exp and nbf are given, as jose applies it. */
const CLOCK_TOLERANCE_S = 300;
/**
 * Tokens whose signature this emulator has verified, kept so that a client reusing its token (as
 * MSAL does for an hour) is not RSA-verified on every request: that was 6% of the emulator's CPU
 * under the fleet benchmark. The key never changes within an emulator, so the answer cannot.
 */
const VERIFIED_TOKENS = 10_000;

/** jwtVerify's lifetime rule: expired at exp (less the tolerance), not yet valid before nbf (plus it). */
function lifetimeLapsed(payload: JWTPayload, nowMs: number): boolean {
  const now = Math.floor(nowMs / 1000);
  if (typeof payload.exp === 'number' && payload.exp <= now - CLOCK_TOLERANCE_S) return true;
  return typeof payload.nbf === 'number' && payload.nbf > now + CLOCK_TOLERANCE_S;
}

export class TokenService {
  /** Tokens already verified (insertion order: the oldest goes first when full). */
  private readonly verified = new Set<string>();
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(private readonly pki: Pki) {
    this.privateKey = createPrivateKey(pki.signing.keyPem);
    this.publicKey = createPublicKey(pki.signing.certPem);
  }

  get kid(): string {
    return this.pki.signing.kid;
  }

  /** JWKS entry for the signing key. */
  jwk(issuer?: string): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' });
    const der = Buffer.from(this.pki.signing.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    return { kty: 'RSA', use: 'sig', kid: this.kid, x5t: this.kid, n: jwk.n, e: jwk.e, x5c: [der.toString('base64')], ...(issuer ? { issuer } : {}) };
  }

  /** Any claims signed with the tenant's token-signing key (change notifications' validationTokens). */
  async sign(claims: Record<string, unknown>): Promise<string> {
    return new SignJWT(claims as JWTPayload).setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: this.kid, kid: this.kid }).sign(this.privateKey);
  }

  /** An app-only access token in Entra's v1 shape. */
  async mint(o: MintOptions): Promise<{ token: string; expiresIn: number }> {
    const iat = Math.floor(o.nowMs / 1000);
    const isGraph = o.audience.toLowerCase() === MICROSOFT_GRAPH_APP_ID || RESOURCES[o.audience]?.appId === MICROSOFT_GRAPH_APP_ID;
    const roles = isGraph ? o.app.consented.filter((r) => o.app.consentedAt.getTime() <= o.nowMs) : [];
    const claims: Record<string, unknown> = {
      aud: o.audience,
      iss: `https://sts.windows.net/${o.tenant.id}/`,
      iat, nbf: iat, exp: iat + o.lifetimeSeconds,
      aio: Buffer.from(randomUUID()).toString('base64url').slice(0, 40),
      app_displayname: o.app.displayName,
      appid: o.app.appId,
      appidacr: o.appidacr,
      idp: `https://sts.windows.net/${o.tenant.id}/`,
      idtyp: 'app',
      oid: o.app.servicePrincipalId,
      rh: '0.AAAA' + Buffer.from(o.tenant.id).toString('base64url').slice(0, 20) + '.',
      ...(roles.length ? { roles } : {}),
      sub: o.app.servicePrincipalId,
      tenant_region_scope: o.tenant.cloud === 'global' ? 'NA' : o.tenant.cloud === 'china' ? 'AS' : 'USG',
      tid: o.tenant.id,
      uti: Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url'),
      ver: '1.0',
      wids: ['0997a1d0-0d1d-4acb-b408-d5ca73121e90'],
      xms_tcdt: Math.floor(Date.parse(o.tenant.createdDateTime) / 1000),
      ...o.claims,
    };
    for (const [k, v] of Object.entries(claims)) if (v === null) delete claims[k];
    const token = await new SignJWT(claims as JWTPayload)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: this.kid, kid: this.kid })
      .sign(this.privateKey);
    return { token, expiresIn: Number(claims.exp) - iat };
  }

  /**
   * Validate a bearer token as Graph does. Returns the claims, or the message Graph answers
   * with (401 InvalidAuthenticationToken).
   */
  async validate(token: string, nowMs: number, acceptedAudiences: (tid: string) => string[] | undefined): Promise<{ claims: JWTPayload } | { message: string }> {
    if (!token) return { message: 'Access token is empty.' };
    const parts = token.split('.');
    if (parts.length === 1) return { message: 'IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): \'EncodedHeader.EndcodedPayload.EncodedSignature\'. (JWE): \'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag\'.' };
    let header: ReturnType<typeof decodeProtectedHeader>;
    let payload: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      payload = decodeJwt(token);
    } catch {
      return { message: 'IDX14102: Unable to decode the token header or payload as Base64Url encoded JSON.' };
    }
    if (parts.length !== 3) return { message: 'IDX14120: JWT is not well formed, the token must have three segments.' };
    if (header.alg !== 'RS256') return { message: 'Access token validation failure. Invalid signature algorithm.' };
    try {
      if (this.verified.has(token)) {
        // Verified before with the same key: only the lifetime can have changed, checked as
        // jwtVerify checks it (the same tolerance).
        if (lifetimeLapsed(payload, nowMs)) return { message: 'Access token has expired or is not yet valid.' };
      } else {
        await jwtVerify(token, this.publicKey, { algorithms: ['RS256'], currentDate: new Date(nowMs), clockTolerance: CLOCK_TOLERANCE_S });
        this.verified.add(token);
        if (this.verified.size > VERIFIED_TOKENS) this.verified.delete(this.verified.values().next().value!);
      }
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired || (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'nbf')) {
        return { message: 'Access token has expired or is not yet valid.' };
      }
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) return { message: 'Access token validation failure. Invalid signature.' };
      return { message: 'Access token validation failure.' };
    }
    // Graph's validator requires an expiry (IdentityModel's RequireExpirationTime): a token
    // without one is refused, never treated as valid forever.
    if (typeof payload.exp !== 'number') return { message: 'IDX10225: Lifetime validation failed. The token is missing an Expiration Time.' };
    const tid = typeof payload.tid === 'string' ? payload.tid.toLowerCase() : '';
    const audiences = acceptedAudiences(tid);
    if (!audiences || payload.iss !== `https://sts.windows.net/${tid}/`) return { message: 'Access token validation failure. Invalid issuer or tenant.' };
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.some((a) => typeof a === 'string' && audiences.includes(a.replace(/\/$/, '').toLowerCase()))) {
      return { message: 'Access token validation failure. Invalid audience.' };
    }
    return { claims: payload };
  }
}
