// The client library's errors, typed once, all subclasses of CopilogError: a Graph answer that is
// not 2xx (GraphRequestError), a 2xx answer whose body is not the JSON expected
// (GraphResponseError), a URL the client refuses to send its token to (CrossOriginError), a token
// the identity platform refused (TokenAcquisitionError), and a request that never got an answer
// (TransportError). Each carries the ids a support engineer asks for.

/** The base class of every error the client library throws on purpose (ConfigError included). */
export class CopilogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The ids and timing of one HTTP exchange, as the transport recorded them. */
export interface RequestIds {
  method: string;
  /** The URL with secret query values removed. */
  url: string;
  requestId?: string;
  clientRequestId: string;
  /** The response's Date header. */
  date?: string;
  /** The response's x-ms-ags-diagnostic header (Graph's front-end server info). */
  agsDiagnostic?: string;
}

/** A non-2xx answer from Microsoft Graph, parsed from its error envelope. */
export class GraphRequestError extends CopilogError {
  readonly status: number;
  readonly code: string;
  readonly innerError: Record<string, unknown> | undefined;
  readonly requestId: string | undefined;
  readonly clientRequestId: string;
  readonly date: string | undefined;
  readonly agsDiagnostic: string | undefined;
  readonly method: string;
  readonly url: string;
  /** Seconds the service asked to wait (Retry-After), when it sent one. */
  readonly retryAfterSeconds: number | undefined;
  /** How many times the transport sent the request (1 = no retry). */
  readonly attempts: number;

  constructor(o: RequestIds & { status: number; code: string; message: string; innerError?: Record<string, unknown>; retryAfterSeconds?: number; attempts?: number }) {
    super(o.message);
    this.status = o.status;
    this.code = o.code;
    this.innerError = o.innerError;
    this.requestId = o.requestId ?? stringOf(o.innerError?.['request-id']);
    this.clientRequestId = o.clientRequestId;
    this.date = o.date ?? stringOf(o.innerError?.date);
    this.agsDiagnostic = o.agsDiagnostic;
    this.method = o.method;
    this.url = o.url;
    this.retryAfterSeconds = o.retryAfterSeconds;
    this.attempts = o.attempts ?? 1;
  }

  /** One line for logs and reports: status, code, message and request-id. */
  summary(): string {
    return `${this.status} ${this.code}: ${this.message}${this.requestId ? ` (request-id ${this.requestId})` : ''}`;
  }
}

/** A 2xx answer whose body is not the JSON document the caller expects (an HTML page from a proxy, say). */
export class GraphResponseError extends CopilogError {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly requestId: string | undefined;
  readonly clientRequestId: string;
  readonly date: string | undefined;
  readonly method: string;
  readonly url: string;

  constructor(o: RequestIds & { status: number; contentType?: string; message: string }, options?: { cause?: unknown }) {
    super(o.message, options);
    this.status = o.status;
    this.contentType = o.contentType;
    this.requestId = o.requestId;
    this.clientRequestId = o.clientRequestId;
    this.date = o.date;
    this.method = o.method;
    this.url = o.url;
  }
}

/**
 * The client refused to send its bearer token to a URL outside the Graph origin it was configured
 * with (an @odata.nextLink pointing elsewhere, say). Nothing was sent.
 */
export class CrossOriginError extends CopilogError {
  constructor(readonly url: string, readonly allowedOrigin: string) {
    super(`refusing to send the Graph token to ${safeOrigin(url)}: only ${allowedOrigin} is trusted with it`);
  }
}

const safeOrigin = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return 'a malformed URL';
  }
};

/** The identity platform refused to issue a token (AADSTS error), or MSAL failed before asking. */
export class TokenAcquisitionError extends CopilogError {
  /** AADSTS number, e.g. 7000215; undefined when the error came from the client side. */
  readonly aadsts: number | undefined;
  /** OAuth error string (invalid_client…) or MSAL's error code. */
  readonly error: string;
  /** First sentence of the description, without the trace/correlation/timestamp trailer. */
  readonly description: string;
  readonly traceId: string | undefined;
  readonly correlationId: string | undefined;
  readonly status: number | undefined;
  readonly timestamp: string | undefined;

  constructor(o: { aadsts?: number; error: string; description: string; traceId?: string; correlationId?: string; status?: number; timestamp?: string }) {
    super(o.aadsts ? `AADSTS${o.aadsts}: ${o.description}` : `${o.error}: ${o.description}`);
    this.aadsts = o.aadsts;
    this.error = o.error;
    this.description = o.description;
    this.traceId = o.traceId;
    this.correlationId = o.correlationId;
    this.status = o.status;
    this.timestamp = o.timestamp;
  }
}

/**
 * No HTTP answer at all. kind: `timeout` (the per-request timeout), `deadline` (the overall
 * deadline), `network` (DNS, connection refused or reset, a truncated body), `tls` (certificate
 * not trusted, handshake failed) or `aborted` (the caller's AbortSignal, or a closed transport).
 * phase: `connect` when no connection was established (TCP or TLS), `response` once the request
 * was on the wire.
 */
export class TransportError extends CopilogError {
  /** How many times the request was sent (retries of a GET after a reset, say). */
  attempts = 1;
  constructor(
    readonly kind: 'timeout' | 'deadline' | 'network' | 'tls' | 'aborted',
    message: string,
    readonly ids: RequestIds,
    options?: { cause?: unknown; phase?: 'connect' | 'response'; code?: string },
  ) {
    super(message, options);
    this.phase = options?.phase ?? 'response';
    this.code = options?.code || undefined;
  }
  readonly phase: 'connect' | 'response';
  /** The system or undici error code (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET…), when there was one. */
  readonly code: string | undefined;
}

const stringOf = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Graph's envelope {error:{code,message,innerError|innererror}}; undefined when the body is not one. */
export function parseGraphErrorBody(text: string): { code: string; message: string; innerError?: Record<string, unknown> } | undefined {
  const body = parseJson(text);
  const e = body?.error;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return undefined;
  const err = e as Record<string, unknown>;
  const inner = (err.innerError ?? err.innererror) as Record<string, unknown> | undefined;
  return { code: String(err.code ?? 'UnknownError'), message: String(err.message ?? ''), innerError: inner && typeof inner === 'object' ? inner : undefined };
}

export interface AadstsBody { aadsts?: number; error: string; description: string; traceId?: string; correlationId?: string; timestamp?: string }

/** The identity platform's error body (error, error_description "AADSTSnnnnn: …", error_codes…). */
export function parseAadstsBody(text: string): AadstsBody | undefined {
  const body = parseJson(text);
  if (!body || typeof body.error !== 'string') return undefined;
  const description = String(body.error_description ?? '');
  const codes = Array.isArray(body.error_codes) ? body.error_codes : [];
  const fromText = /AADSTS(\d+)/.exec(description)?.[1];
  const aadsts = typeof codes[0] === 'number' ? codes[0] : fromText ? Number(fromText) : undefined;
  return {
    aadsts,
    error: body.error,
    description: firstSentence(description.replace(/^AADSTS\d+:\s*/, '')),
    traceId: stringOf(body.trace_id),
    correlationId: stringOf(body.correlation_id),
    timestamp: stringOf(body.timestamp),
  };
}

/** The first sentence of an AADSTS description: no Trace ID / Correlation ID / Timestamp trailer. */
export function firstSentence(text: string): string {
  const cut = text.split(/\s+Trace ID:|\r?\n/)[0] ?? '';
  const m = /^(.+?[.!?])(\s|$)/.exec(cut);
  if (!m) return cut.trim();
  // Keep a bracketed reason that qualifies the sentence ("… validation. [Reason - …]").
  const reason = /^\s*(\[[^\]]*\])/.exec(cut.slice(m[1]!.length))?.[1];
  return `${m[1]}${reason ? ` ${reason}` : ''}`.trim();
}

/** For the trace: the code and message of any error body (Graph or identity platform). */
export function describeErrorBody(text: string): { code?: string; message?: string } {
  const g = parseGraphErrorBody(text);
  if (g) return { code: g.code, message: g.message };
  const a = parseAadstsBody(text);
  if (a) return { code: a.aadsts ? `AADSTS${a.aadsts}` : a.error, message: a.description };
  return {};
}

function parseJson(text: string): Record<string, any> | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
