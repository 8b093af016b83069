// The one HTTP transport: every Graph request and every token request (MSAL's networkClient)
// goes through send(). It owns, in one place: TLS trust (an undici Agent with the CA), a
// client-request-id on each request, a trace of each exchange (ids, Date, x-ms-ags-diagnostic,
// timing; never bodies or secrets), retries within a budget (Retry-After for 429 on any method;
// 503/504 and dropped connections only for idempotent methods), a per-request timeout, an
// overall deadline and the caller's AbortSignal, each of which also ends a connection that hangs
// before TCP or TLS completes.
import { randomUUID } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, buildConnector, DecoratorHandler, ProxyAgent, request, type Dispatcher } from 'undici';
import { describeErrorBody, TransportError, type RequestIds } from './errors.js';

/**
 * Secure contexts by extra CA, shared by every Transport of the process: building one parses
 * Node's roots (about 40 ms of one core), and a fleet worker makes a client per tenant job; each
 * build blocked its event loop long enough to make other tenants' rate slots late.
 */
const trustContexts = new Map<string, SecureContext>();
function trustContext(ca: string): SecureContext {
  let ctx = trustContexts.get(ca);
  if (!ctx) trustContexts.set(ca, (ctx = createSecureContext({ ca: [...rootCertificates, ca] })));
  return ctx;
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** The longest single Retry-After the transport will wait; a longer one ends the retries. */
  maxWaitMs: number;
  /** Total waiting allowed across the retries of one request. */
  budgetMs: number;
}

/** Close to the Graph SDK's handler (which caps at 180 s and 10 retries), but kinder to a CLI. */
export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, maxWaitMs: 30_000, budgetMs: 120_000 };
export const NO_RETRY: RetryPolicy = { maxRetries: 0, maxWaitMs: 0, budgetMs: 0 };
/**
 * Methods whose repetition has no further effect. A 503/504 or a dropped connection may come after
 * the server acted, so only these are sent again; a 429 means Graph did not process the request,
 * so any method is retried after its Retry-After.
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const retryableStatus = (method: string, status: number): boolean => status === 429 || ((status === 503 || status === 504) && IDEMPOTENT.has(method));
/**
 * A connection that dropped (reset, closed early, a body shorter than its Content-Length) is worth
 * another try; a refused connection, an unknown host or an untrusted certificate is not.
 */
const retryableFailure = (method: string, e: TransportError): boolean =>
  IDEMPOTENT.has(method) && e.kind === 'network' && (e.phase === 'response' || e.code === 'ECONNRESET' || e.code === 'EPIPE');

/** One request/response pair as the trace keeps it. */
export interface Exchange extends RequestIds {
  /** 0 when no answer came (see error). */
  status: number;
  startedAt: string;
  durationMs: number;
  /** 1 for the first try; retries of the same request share the client-request-id. */
  attempt: number;
  /** Error code and message from the body of a non-2xx answer, or the transport failure. */
  errorCode?: string;
  errorMessage?: string;
  /** With status 0: whether a connection was established before the failure. */
  phase?: 'connect' | 'response';
  retryAfter?: string;
}

/**
 * Something every attempt passes through before it is sent: export's shared rate limiter. One
 * gate serves many concurrent requests, so a Retry-After that one of them gets holds them all.
 */
export interface RequestGate {
  /** Resolves when the request may be sent; rejects when the signal aborts. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** The service asked for a pause (a 429, or a 503/504 with Retry-After): every request through the gate waits. */
  backOff(ms: number, status: number): void;
  /** Each completed attempt (answered or not), for rate and latency accounting. */
  settled?(e: Exchange): void;
}

export interface TransportOptions {
  /** PEM CA certificate(s) to trust in addition to Node's roots (the emulator's CA). */
  ca?: string | Buffer;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Absolute time (ms since epoch) after which no request is sent or waited for. */
  deadline?: number;
  retry?: RetryPolicy;
  userAgent?: string;
  /** Called for each exchange as it completes (the trace keeps them too). */
  onExchange?: (e: Exchange) => void;
  /** Keep every exchange in `trace` (default true; a long export turns it off to stay flat in memory). */
  keepTrace?: boolean;
  /**
   * The HTTPS proxy for Entra ID and Graph (CONNECT tunnel) and the hosts that bypass it. Default:
   * HTTPS_PROXY/https_proxy and NO_PROXY/no_proxy, as curl and az read them.
   */
  proxy?: ProxySettings;
}

export interface ProxySettings {
  /** http://[user:password@]host:port of the proxy; none: every request goes direct. */
  httpsProxy?: string;
  /**
   * Comma- or space-separated hosts (a leading dot or "*." matches subdomains, ":port" one port,
   * "*" everything) that go direct. Unset, the loopback names go direct, so a local emulator is
   * never sent to a corporate proxy; a value given replaces that default.
   */
  noProxy?: string;
}

const LOOPBACK = 'localhost,127.0.0.1,::1';

/** The proxy settings of an environment (lower-case names first, as curl reads them). */
export function proxyFromEnv(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined);
  const httpsProxy = pick('https_proxy', 'HTTPS_PROXY')?.trim();
  return { httpsProxy: httpsProxy || undefined, noProxy: pick('no_proxy', 'NO_PROXY') };
}

/** Whether a request to this URL goes through the proxy, by the NO_PROXY rules above. */
export function usesProxy(url: string, settings: ProxySettings): boolean {
  if (!settings.httpsProxy) return false;
  let host: string;
  let port: string;
  try {
    const u = new URL(url);
    host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    port = u.port || (u.protocol === 'http:' ? '80' : '443');
  } catch {
    return true;
  }
  for (const raw of (settings.noProxy ?? LOOPBACK).split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return false;
    // host, host:port, [v6]:port or a bare IPv6 address (more than one colon).
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    const colons = entry.split(':').length - 1;
    const [n, p] = bracket ? [bracket[1]!, bracket[2]] : colons === 1 ? entry.split(':') as [string, string] : [entry, undefined];
    if (p && p !== port) continue;
    const name = n.replace(/^\*?\./, '');
    if (host === name || host.endsWith(`.${name}`)) return false;
  }
  return true;
}

export interface TransportRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Overrides the transport's policy for this request; NO_RETRY to see the first answer. */
  retry?: RetryPolicy;
  timeoutMs?: number;
  /** Leave out of the trace (e.g. the emulator's control API). */
  untraced?: boolean;
  /** Ends the request (and its retries) when aborted: TransportError kind `aborted`. */
  signal?: AbortSignal;
  /** Passed before each attempt; told about Retry-After (see RequestGate). */
  gate?: RequestGate;
}

export interface TransportResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  text: string;
  exchange: Exchange;
  attempts: number;
  json<T = unknown>(): T;
}

const SECRET_PARAMS = /^(client_secret|client_assertion|access_token|refresh_token|id_token|code|password|sig|token)$/i;

/** The URL with the values of secret-bearing query parameters replaced. */
export function sanitizeUrl(url: string): string {
  try {
    const u = new URL(url);
    let changed = false;
    for (const k of [...u.searchParams.keys()]) {
      if (SECRET_PARAMS.test(k)) {
        u.searchParams.set(k, 'REDACTED');
        changed = true;
      }
    }
    return changed ? u.toString() : url;
  } catch {
    return url.replace(/([?&](?:client_secret|client_assertion|access_token|code|password|sig|token)=)[^&]*/gi, '$1REDACTED');
  }
}

/** Retry-After as seconds: integer or decimal seconds, or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

export class Transport {
  readonly trace: Exchange[] = [];
  private readonly agent: Agent;
  private readonly proxyAgent?: ProxyAgent;
  private readonly proxy: ProxySettings;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private closed = false;

  constructor(private readonly options: TransportOptions = {}) {
    // An extra CA is added to Node's roots, not swapped for them (a proxy CA must not lock out Graph).
    // One secure context for every connection: given as `ca`, each TLS connection would parse
    // Node's ~150 roots again (CPU, and native memory that a long export never gets back; the
    // fleet's profile showed that parsing as a tenth of a worker's time).
    const tls = options.ca ? { secureContext: trustContext(String(options.ca)) } : {};
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = options.retry ?? DEFAULT_RETRY;
    // undici ignores a request's abort signal until its connection is up, and its own connect
    // timeout is 10 s: each connection attempt gets the time this transport has left instead.
    const connect: buildConnector.connector = (opts, callback) => buildConnector({ ...tls, timeout: this.connectTimeoutMs() })(opts, callback);
    this.agent = new Agent({ connect, keepAliveTimeout: 1000 });
    this.proxy = options.proxy ?? proxyFromEnv();
    // Through a proxy the TLS session to Graph runs inside the CONNECT tunnel, with the same trust.
    if (this.proxy.httpsProxy) this.proxyAgent = new ProxyAgent({ uri: this.proxy.httpsProxy, requestTls: tls, keepAliveTimeout: 1000 });
  }

  /** Milliseconds until the deadline (Infinity without one). */
  remainingMs(): number {
    return this.options.deadline === undefined ? Infinity : this.options.deadline - Date.now();
  }

  private connectTimeoutMs(): number {
    return Math.max(1, Math.floor(Math.min(this.timeoutMs, this.remainingMs())));
  }

  /**
   * Send one request. 429 is retried for any method, 503/504 and dropped connections (reset,
   * truncated body) for idempotent methods only, per the policy. Returns the final answer whatever
   * its status; throws TransportError when no answer came.
   */
  async send(req: TransportRequest): Promise<TransportResponse> {
    const policy = req.retry ?? this.retry;
    // A caller's own client-request-id (any letter case) is kept; otherwise one per request,
    // shared by its retries.
    const given = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === 'client-request-id')?.[1];
    const clientRequestId = given ?? randomUUID();
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      let res: Omit<TransportResponse, 'attempts'>;
      let waitMs: number;
      try {
        if (req.gate) await this.throughGate(req, clientRequestId);
        res = await this.once(req, clientRequestId, attempt);
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        e.attempts = attempt;
        if (!retryableFailure(req.method, e) || attempt > policy.maxRetries) throw e;
        waitMs = Math.min(250 * 2 ** (attempt - 1), 4000);
        if (waited + waitMs > policy.budgetMs || waitMs >= this.remainingMs()) throw e;
        waited += waitMs;
        await this.pause(waitMs, req, clientRequestId);
        continue;
      }
      if (!retryableStatus(req.method, res.status) || attempt > policy.maxRetries) return { ...res, attempts: attempt };
      const advertised = parseRetryAfter(res.headers['retry-after']);
      const seconds = advertised ?? Math.min(2 ** (attempt - 1), 8);
      waitMs = Math.ceil(seconds * 1000);
      if (req.gate && (advertised !== undefined || res.status === 429)) req.gate.backOff(waitMs, res.status);
      // Waiting less than asked is throttled again (Graph counts early retries), so a wait the
      // policy or the deadline cannot afford ends the retries: the caller sees the real answer.
      if (waitMs > policy.maxWaitMs || waited + waitMs > policy.budgetMs || waitMs >= this.remainingMs()) return { ...res, attempts: attempt };
      waited += waitMs;
      await this.pause(waitMs, req, clientRequestId);
    }
  }

  private async throughGate(req: TransportRequest, clientRequestId: string): Promise<void> {
    try {
      await req.gate!.acquire(req.signal);
    } catch (err) {
      throw new TransportError('aborted', 'not sent: aborted by the caller while waiting for the rate limiter', { method: req.method, url: sanitizeUrl(req.url), clientRequestId }, { cause: err });
    }
  }

  /** Wait between attempts; the caller's signal (or the deadline) ends the wait with a TransportError. */
  private async pause(ms: number, req: TransportRequest, clientRequestId: string): Promise<void> {
    const signals = [this.deadlineSignal(), req.signal].filter((s): s is AbortSignal => s !== undefined);
    try {
      await sleep(ms, undefined, signals.length ? { signal: AbortSignal.any(signals) } : undefined);
    } catch (err) {
      const ids = { method: req.method, url: sanitizeUrl(req.url), clientRequestId };
      if (req.signal?.aborted) throw new TransportError('aborted', 'aborted by the caller while waiting to retry', ids, { cause: err });
      throw new TransportError('deadline', 'the overall deadline passed while waiting to retry', ids, { cause: err });
    }
  }

  private deadlineSignal(): AbortSignal | undefined {
    const left = this.remainingMs();
    return Number.isFinite(left) ? AbortSignal.timeout(Math.max(0, Math.floor(left))) : undefined;
  }

  private async once(req: TransportRequest, clientRequestId: string, attempt: number): Promise<Omit<TransportResponse, 'attempts'>> {
    const url = sanitizeUrl(req.url);
    const started = Date.now();
    const base = { method: req.method, url, clientRequestId, startedAt: new Date(started).toISOString(), attempt };
    const ids = { method: req.method, url, clientRequestId };
    if (this.closed) throw new TransportError('aborted', 'not sent: the transport is closed', ids);
    const left = this.remainingMs();
    const timeout = Math.floor(Math.min(req.timeoutMs ?? this.timeoutMs, left));
    const byDeadline = left <= (req.timeoutMs ?? this.timeoutMs);
    const fail = (kind: TransportError['kind'], message: string, o: { cause?: unknown; phase?: 'connect' | 'response'; code?: string } = {}): never => {
      const e: Exchange = { ...base, status: 0, durationMs: Date.now() - started, errorCode: kind, errorMessage: message, phase: o.phase ?? 'response' };
      this.record(e, req);
      throw new TransportError(kind, message, ids, o);
    };
    if (req.signal?.aborted) fail('aborted', 'not sent: aborted by the caller', { phase: 'connect' });
    if (timeout <= 0) fail('deadline', `not sent: the overall deadline has passed`, { phase: 'connect' });
    const headers: Record<string, string> = {
      'return-client-request-id': 'true',
      'user-agent': this.options.userAgent ?? 'copilog/0.1.0',
      ...Object.fromEntries(Object.entries(req.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'client-request-id')),
      'client-request-id': clientRequestId,
    };
    const timer = AbortSignal.timeout(timeout);
    const signal = req.signal ? AbortSignal.any([timer, req.signal]) : timer;
    // undici calls onConnect once the request is on a connected socket: until then, it is connecting.
    let connected = false;
    const via: Dispatcher = this.proxyAgent && usesProxy(req.url, this.proxy) ? this.proxyAgent : this.agent;
    const dispatcher = { dispatch: (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers) => via.dispatch(opts, new ConnectTap(handler, () => { connected = true; })) } as unknown as Dispatcher;
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await untilAborted(request(req.url, { method: req.method, headers, body: req.body, dispatcher, signal }), signal);
      text = await res.body.text();
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string } };
      const code = e.code ?? e.cause?.code ?? '';
      const phase = connected ? 'response' : 'connect';
      const host = hostOf(req.url);
      if (req.signal?.aborted) return fail('aborted', 'aborted by the caller', { cause: err, phase });
      if (timer.aborted || code === 'UND_ERR_CONNECT_TIMEOUT' || e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'UND_ERR_ABORTED') {
        const kind = byDeadline ? 'deadline' : 'timeout';
        const limit = byDeadline ? `before the overall deadline (${Math.round(timeout)} ms left)` : `within ${timeout} ms`;
        return fail(kind, phase === 'connect' ? `could not connect to ${host} ${limit}: the TCP connection or TLS handshake did not complete` : `no answer ${limit}`, { cause: err, phase, code: code || undefined });
      }
      const tls = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/i.test(code + ' ' + e.message);
      return fail(tls ? 'tls' : 'network', `${code ? `${code}: ` : ''}${e.message}`, { cause: err, phase, code });
    }
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    const exchange: Exchange = {
      ...base,
      status: res.statusCode,
      requestId: h['request-id'] ?? h['x-ms-request-id'],
      clientRequestId: h['client-request-id'] ?? clientRequestId,
      date: h.date,
      agsDiagnostic: h['x-ms-ags-diagnostic'],
      durationMs: Date.now() - started,
      ...(res.statusCode >= 400 ? errorFields(text) : {}),
      ...(h['retry-after'] ? { retryAfter: h['retry-after'] } : {}),
    };
    this.record(exchange, req);
    return {
      status: res.statusCode, headers: h, text, exchange,
      json<T>() { return JSON.parse(text) as T; },
    };
  }

  private readonly listeners = new Set<(e: Exchange) => void>();

  /** Be told of each traced exchange from now on; returns the function that stops it. */
  addExchangeListener(fn: (e: Exchange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private record(e: Exchange, req: TransportRequest): void {
    req.gate?.settled?.(e);
    if (req.untraced) return;
    if (this.options.keepTrace !== false) this.trace.push(e);
    this.options.onExchange?.(e);
    for (const fn of this.listeners) fn(e);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.agent.destroy(), this.proxyAgent?.destroy()]);
  }
}

/** Tells the transport when undici has put the request on a connected socket. */
class ConnectTap extends DecoratorHandler {
  constructor(private readonly inner: Dispatcher.DispatchHandlers, private readonly onConnected: () => void) {
    super(inner);
  }
  onConnect(...args: Parameters<NonNullable<Dispatcher.DispatchHandlers['onConnect']>>): void {
    this.onConnected();
    this.inner.onConnect?.(...args);
  }
}

/** The promise, or the signal's reason as soon as it aborts (undici's own abort waits for a connection). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  p.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return 'the server';
  }
};

function errorFields(text: string): Pick<Exchange, 'errorCode' | 'errorMessage'> {
  const d = describeErrorBody(text);
  return { ...(d.code ? { errorCode: d.code } : {}), ...(d.message ? { errorMessage: d.message } : {}) };
}
