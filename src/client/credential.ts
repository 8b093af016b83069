// Access tokens for Graph. Three sources behind one shape (the @azure/identity TokenCredential
// shape, matched structurally so users can pass any credential object they already have):
//   - MsalCredential: the client-credentials grant through @azure/msal-node, secret or
//     certificate, with MSAL's networkClient running on copilog's transport (same TLS trust,
//     same trace);
//   - StaticTokenCredential: a token the user already holds (--access-token);
//   - any object with getToken(scopes).
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuthError, ConfidentialClientApplication, LogLevel, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import type { ClientConfig } from './config.js';
import { firstSentence, parseAadstsBody, TokenAcquisitionError, TransportError, type AadstsBody } from './errors.js';
import type { Transport } from './transport.js';

export interface AccessToken {
  token: string;
  /** Milliseconds since epoch. */
  expiresOnTimestamp: number;
}

/** The @azure/identity TokenCredential contract, structurally. */
export interface TokenCredentialLike {
  getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal; forceRefresh?: boolean }): Promise<AccessToken | null>;
}

/** A token the caller already has; getToken returns it whatever the scope. */
export class StaticTokenCredential implements TokenCredentialLike {
  private readonly exp: number;
  constructor(private readonly token: string) {
    let exp = Date.now() + 3_600_000;
    try {
      const claims = decodeJwt(token);
      if (typeof claims.exp === 'number') exp = claims.exp * 1000;
    } catch {
      // Not a JWT: Graph will say so; the doctor's claims check reports it.
    }
    this.exp = exp;
  }
  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: this.exp };
  }
}

/** A certificate credential read from PEM: the cert (for its thumbprint) and the private key. */
export interface CertificateCredentialMaterial {
  certPem: string;
  /** PKCS#8 PEM, decrypted. */
  privateKeyPem: string;
  thumbprintSha256: string;
  thumbprintSha1: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Read AZURE_CLIENT_CERTIFICATE_PATH's PEM (certificate and key in one file), or a certificate
 * and a separate key file; AZURE_CLIENT_CERTIFICATE_PASSWORD decrypts an encrypted key.
 */
export function readCertificate(certificatePath: string, keyPath?: string, password?: string): CertificateCredentialMaterial {
  const pem = readFileSync(certificatePath, 'utf8');
  const keyText = keyPath ? readFileSync(keyPath, 'utf8') : pem;
  const certBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!certBlock) throw new Error(`${certificatePath} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  const keyBlock = /-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----/.exec(keyText)?.[0];
  if (!keyBlock) throw new Error(`${keyPath ?? certificatePath} holds no PEM private key (AZURE_CLIENT_CERTIFICATE_PATH must hold the certificate and its private key)`);
  let privateKeyPem: string;
  try {
    privateKeyPem = createPrivateKey({ key: keyBlock, format: 'pem', ...(password ? { passphrase: password } : {}) }).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (e) {
    const encrypted = /ENCRYPTED/.test(keyBlock);
    throw new Error(encrypted && !password ? 'the private key is encrypted: set AZURE_CLIENT_CERTIFICATE_PASSWORD' : `cannot read the private key${encrypted ? ' (wrong password?)' : ''}: ${(e as Error).message}`);
  }
  const x = new X509Certificate(certBlock);
  if (!x.checkPrivateKey(createPrivateKey(privateKeyPem))) throw new Error('the private key does not belong to the certificate');
  return {
    certPem: certBlock,
    privateKeyPem,
    thumbprintSha256: createHash('sha256').update(x.raw).digest('hex').toUpperCase(),
    thumbprintSha1: x.fingerprint.replace(/:/g, ''),
    subject: x.subject.replace(/\n/g, ', '),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
  };
}

/** MSAL's INetworkModule on copilog's transport, remembering the last identity-platform error body. */
class TransportNetworkModule implements INetworkModule {
  lastError: (AadstsBody & { status: number }) | undefined;
  lastTransportError: TransportError | undefined;
  constructor(private readonly transport: Transport) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }
  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    let res;
    try {
      res = await this.transport.send({ method, url, headers: options?.headers, body: options?.body, ...(timeout ? { timeoutMs: timeout } : {}) });
    } catch (e) {
      if (e instanceof TransportError) this.lastTransportError = e;
      throw e;
    }
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = { error: 'invalid_response', error_description: `The server answered ${res.status} with a body that is not JSON.` };
    }
    if (res.status >= 400) {
      const parsed = parseAadstsBody(res.text);
      if (parsed) this.lastError = { ...parsed, status: res.status };
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }
}

/** A held token is renewed this long before it expires (MSAL renews 5 minutes ahead too). */
const RENEW_BEFORE_MS = 300_000;

/** Client credentials through MSAL: secret or certificate. */
export class MsalCredential implements TokenCredentialLike {
  private readonly app: ConfidentialClientApplication;
  private readonly network: TransportNetworkModule;
  readonly certificate: CertificateCredentialMaterial | undefined;

  constructor(config: Pick<ClientConfig, 'clientId' | 'authority' | 'knownAuthorities' | 'credential'>, transport: Transport) {
    this.network = new TransportNetworkModule(transport);
    const c = config.credential;
    if (c.kind === 'none') throw new TokenAcquisitionError({ error: 'no_credential', description: 'No client secret or certificate is configured.' });
    this.certificate = c.kind === 'certificate' ? readCertificate(c.certificatePath, c.keyPath, c.password) : undefined;
    this.app = new ConfidentialClientApplication({
      auth: {
        clientId: config.clientId,
        authority: config.authority,
        ...(config.knownAuthorities.length ? { knownAuthorities: config.knownAuthorities } : {}),
        ...(c.kind === 'secret' ? { clientSecret: c.secret } : { clientCertificate: { thumbprintSha256: this.certificate!.thumbprintSha256, privateKey: this.certificate!.privateKeyPem } }),
      },
      system: {
        networkClient: this.network,
        // The transport owns retries; MSAL's own would hide the first answer from the trace.
        disableInternalRetries: true,
        loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => undefined },
      },
    });
  }

  /**
   * The last token per scope set, reused until RENEW_BEFORE_MS before it expires (MSAL's own
   * renewal offset): asking MSAL's cache on every request cost a fleet worker 6% of its CPU.
   * Callers that ask together while none is held share one acquisition.
   */
  private readonly held = new Map<string, AccessToken>();
  private readonly acquiring = new Map<string, Promise<AccessToken>>();

  /** A held token, else MSAL (its cache, then Entra); forceRefresh asks Entra for a new one. */
  async getToken(scopes: string | string[], options: { forceRefresh?: boolean } = {}): Promise<AccessToken> {
    const list = Array.isArray(scopes) ? scopes : [scopes];
    const key = list.join(' ');
    if (!options.forceRefresh) {
      const t = this.held.get(key);
      if (t && t.expiresOnTimestamp - Date.now() > RENEW_BEFORE_MS) return t;
      const pending = this.acquiring.get(key);
      if (pending) return pending;
    }
    const p = this.acquire(list, options.forceRefresh === true);
    this.acquiring.set(key, p);
    try {
      const t = await p;
      this.held.set(key, t);
      return t;
    } finally {
      if (this.acquiring.get(key) === p) this.acquiring.delete(key);
    }
  }

  private async acquire(scopes: string[], forceRefresh: boolean): Promise<AccessToken> {
    this.network.lastError = undefined;
    this.network.lastTransportError = undefined;
    try {
      const r = await this.app.acquireTokenByClientCredential({ scopes, ...(forceRefresh ? { skipCache: true } : {}) });
      if (!r?.accessToken) throw new TokenAcquisitionError({ error: 'no_token', description: 'MSAL returned no access token.' });
      return { token: r.accessToken, expiresOnTimestamp: r.expiresOn?.getTime() ?? Date.now() + 3_600_000 };
    } catch (e) {
      if (this.network.lastTransportError) throw this.network.lastTransportError;
      throw toTokenAcquisitionError(e, this.network.lastError);
    }
  }
}

/**
 * MSAL's error as the identity platform's: the server's AADSTS number comes from the error body
 * the transport saw (MSAL drops it when discovery fails), else from MSAL's errorNo/message.
 */
export function toTokenAcquisitionError(e: unknown, server?: AadstsBody & { status?: number }): TokenAcquisitionError {
  if (e instanceof TokenAcquisitionError) return e;
  if (server) return new TokenAcquisitionError({ ...server, status: server.status });
  if (e instanceof AuthError) {
    const no = (e as AuthError & { errorNo?: string }).errorNo;
    const fromText = /AADSTS(\d+)/.exec(e.errorMessage)?.[1];
    const aadsts = no ? Number(no) : fromText ? Number(fromText) : undefined;
    const description = firstSentence((e.errorMessage || e.message).replace(/^.*?AADSTS\d+:\s*/, ''));
    return new TokenAcquisitionError({ aadsts, error: e.errorCode || e.subError || 'msal_error', description, correlationId: e.correlationId || undefined });
  }
  return new TokenAcquisitionError({ error: 'client_error', description: firstSentence((e as Error)?.message ?? String(e)) });
}
