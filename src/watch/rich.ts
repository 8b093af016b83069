// Rich change notifications for copilog watch: the encryption key pair (given, or generated once
// and kept beside the store with 0600 permissions), the checks on an `encryptedContent` (known
// certificate id, RSA-OAEP key, HMAC-SHA256 over the data compared in constant time before any
// decryption, AES-CBC with the key's first 16 bytes as IV), and the batch's `validationTokens`
// (RS256 against the authority's JWKS, issuer and tenant, audience = our app, caller = the Change
// Tracking app, not expired). Nothing here logs; failures are short reasons without payloads.
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  constants, createDecipheriv, createHash, createHmac, createPrivateKey, privateDecrypt, timingSafeEqual, webcrypto, X509Certificate, type KeyObject,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import { CHANGE_TRACKING_APP_ID } from '../graph/ids.js';
import { isPostgresTarget } from '../store/index.js';
import { NO_RETRY, type Transport } from '../client/transport.js';

/** A certificate Graph encrypts to, with its private key; the id is what subscriptions name it by. */
export interface EncryptionKey {
  id: string;
  /** base64 DER, as `encryptionCertificate` wants it. */
  certificate: string;
  privateKey: KeyObject;
}

/** Where a generated key pair is kept: beside a SQLite store, else under COPILOG_HOME (~/.copilog). */
export function encryptionKeyPath(storeTarget: string, tenantId: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!isPostgresTarget(storeTarget)) return `${resolve(storeTarget)}.watch-encryption.pem`;
  return join(env.COPILOG_HOME ?? join(homedir(), '.copilog'), `watch-encryption-${tenantId.replace(/[^a-z0-9.-]/gi, '_')}.pem`);
}

/** The key from PEM text (certificate and private key); refuses what Graph would refuse. */
export function encryptionKeyFrom(certPem: string, keyPem: string): EncryptionKey {
  const cert = new X509Certificate(certPem);
  const bits = cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (cert.publicKey.asymmetricKeyType !== 'rsa' || bits < 2048 || bits > 4096) {
    throw new Error('the encryption certificate must have an RSA key of 2048 to 4096 bits (Graph refuses others)');
  }
  const privateKey = createPrivateKey(keyPem);
  if (!cert.checkPrivateKey(privateKey)) throw new Error('the private key does not belong to the encryption certificate');
  const thumb = createHash('sha1').update(cert.raw).digest('hex');
  return { id: `copilog-${thumb.slice(0, 20)}`, certificate: cert.raw.toString('base64'), privateKey };
}

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

/**
 * The key pair kept at path: read when there, else made (RSA 2048, self-signed, 2 years) and written
 * with 0600 permissions (temp file + rename). The private key never leaves the file and this process.
 */
export async function ensureEncryptionKey(path: string): Promise<EncryptionKey> {
  if (existsSync(path)) {
    const pem = readFileSync(path, 'utf8');
    chmodSync(path, 0o600);
    return encryptionKeyFrom(pem, pem);
  }
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=copilog watch change-notification encryption', notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 730 * 86_400_000),
    keys, signingAlgorithm: ALG, extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.dataEncipherment, true)],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  const pem = keyPem + cert.toString('pem') + '\n';
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, pem, { mode: 0o600 });
  renameSync(tmp, path);
  return encryptionKeyFrom(pem, pem);
}

export type Decrypted = { ok: true; item: Record<string, unknown> } | { ok: false; reason: string };

/**
 * One item's encryptedContent → the resource, or why not. The HMAC is checked (constant time)
 * before anything is decrypted; the certificate must be one of ours.
 */
export function decryptContent(content: unknown, keys: ReadonlyMap<string, EncryptionKey>): Decrypted {
  if (!content || typeof content !== 'object') return { ok: false, reason: 'encryptedContent is not an object' };
  const c = content as Record<string, unknown>;
  if (typeof c.data !== 'string' || typeof c.dataKey !== 'string' || typeof c.dataSignature !== 'string' || typeof c.encryptionCertificateId !== 'string') {
    return { ok: false, reason: 'encryptedContent lacks data, dataKey, dataSignature or encryptionCertificateId' };
  }
  const key = keys.get(c.encryptionCertificateId);
  if (!key) return { ok: false, reason: 'unknown encryption certificate id' };
  let symmetric: Buffer;
  try {
    symmetric = privateDecrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(c.dataKey, 'base64'));
  } catch {
    return { ok: false, reason: 'dataKey does not decrypt with our certificate' };
  }
  if (symmetric.length !== 32) return { ok: false, reason: 'dataKey is not an AES-256 key' };
  const data = Buffer.from(c.data, 'base64');
  const expected = createHmac('sha256', symmetric).update(data).digest();
  const given = Buffer.from(c.dataSignature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'dataSignature does not match data (HMAC)' };
  let item: unknown;
  try {
    const d = createDecipheriv('aes-256-cbc', symmetric, symmetric.subarray(0, 16));
    item = JSON.parse(Buffer.concat([d.update(data), d.final()]).toString('utf8'));
  } catch {
    return { ok: false, reason: 'data does not decrypt to JSON' };
  }
  if (!item || typeof item !== 'object' || Array.isArray(item) || typeof (item as { id?: unknown }).id !== 'string'
    || typeof (item as { createdDateTime?: unknown }).createdDateTime !== 'string') {
    return { ok: false, reason: 'data is not an aiInteraction' };
  }
  return { ok: true, item: item as Record<string, unknown> };
}

export interface TokenVerifierOptions {
  /** https://login.microsoftonline.com/{tenant} or the emulator's https://host:port/{tenant}. */
  authority: string;
  /** The tenant's GUID: the tokens' `tid` and issuer. */
  tenantId: string;
  /** Our app id: the tokens' audience. */
  appId: string;
  transport: Transport;
  /** Graph's clock (ms): tokens expire on Graph's time, not ours. */
  now: () => number;
}

/**
 * Verifies a batch's validationTokens. The JWKS is read from the authority when first needed and
 * again when a token names a key it lacks, at most once a minute (a forged kid cannot make us
 * hammer the authority).
 */
export class ValidationTokenVerifier {
  private jwks: ReturnType<typeof createLocalJWKSet> | undefined;
  private fetchedAt = 0;
  private fetching: Promise<void> | undefined;

  constructor(private readonly o: TokenVerifierOptions) {}

  private async refresh(): Promise<void> {
    this.fetching ??= (async () => {
      try {
        // One short attempt: a batch waits on it, and Graph wants its answer within 3 s.
        const r = await this.o.transport.send({ method: 'GET', url: `${this.o.authority.replace(/\/+$/, '')}/discovery/v2.0/keys`, untraced: true, retry: NO_RETRY, timeoutMs: 2500 });
        if (r.status !== 200) throw new Error(`the authority's JWKS answered ${r.status}`);
        this.jwks = createLocalJWKSet(r.json<JSONWebKeySet>());
        this.fetchedAt = Date.now();
      } finally {
        this.fetching = undefined;
      }
    })();
    return this.fetching;
  }

  /** Read the JWKS ahead of the first batch (best effort: a failure is retried when a batch needs it). */
  async prefetch(): Promise<void> {
    await this.refresh().catch(() => undefined);
  }

  /**
   * Every token valid, or the first reason one is not (no token content). `unavailable`: the JWKS
   * could not be read, so nothing was proven either way.
   */
  async verify(tokens: unknown[]): Promise<{ valid: true } | { valid: false; reason: string; unavailable?: true }> {
    if (tokens.length === 0) return { valid: false, reason: 'no validation tokens' };
    if (!this.jwks) {
      try {
        await this.refresh();
      } catch (e) {
        return { valid: false, reason: `cannot read the authority's JWKS: ${(e as Error).message}`, unavailable: true };
      }
    }
    for (const t of tokens) {
      if (typeof t !== 'string') return { valid: false, reason: 'a validation token is not a string' };
      const why = await this.one(t);
      if (why) return { valid: false, reason: why };
    }
    return { valid: true };
  }

  private async one(token: string): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { payload } = await jwtVerify(token, this.jwks!, {
          algorithms: ['RS256'], audience: this.o.appId, requiredClaims: ['exp', 'iss', 'aud'], currentDate: new Date(this.o.now()), clockTolerance: 300,
        });
        const tid = String(payload.tid ?? '').toLowerCase();
        const tenant = this.o.tenantId.toLowerCase();
        const host = new URL(this.o.authority).origin;
        const issuers = [`https://sts.windows.net/${tenant}/`, `${host}/${tenant}/v2.0`];
        if (tid !== tenant || !issuers.includes(String(payload.iss).toLowerCase())) return 'validation token: wrong issuer or tenant';
        const callers = [payload.appid, payload.azp].filter((x) => x !== undefined);
        if (callers.length === 0 || !callers.every((x) => typeof x === 'string' && x.toLowerCase() === CHANGE_TRACKING_APP_ID)) {
          return 'validation token: not issued to the Change Tracking app (appid/azp)';
        }
        return undefined;
      } catch (e) {
        if (e instanceof joseErrors.JWKSNoMatchingKey && attempt === 0 && Date.now() - this.fetchedAt > 60_000) {
          await this.refresh().catch(() => undefined);
          continue;
        }
        if (e instanceof joseErrors.JWTExpired) return 'validation token: expired';
        if (e instanceof joseErrors.JWTClaimValidationFailed) return `validation token: ${e.claim === 'aud' ? 'wrong audience' : `bad ${e.claim} claim`}`;
        if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'validation token: bad signature';
        if (e instanceof joseErrors.JWKSNoMatchingKey) return 'validation token: signed by a key the authority does not publish';
        if (e instanceof joseErrors.JOSEError) return `validation token: ${e.code}`;
        return `validation token: ${(e as Error).message}`;
      }
    }
  }
}
