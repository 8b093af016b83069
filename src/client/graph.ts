// A small typed Microsoft Graph client over the transport: send a request (any method, JSON
// body), get one resource, list a collection following @odata.nextLink, or page through it. A
// non-2xx answer becomes a GraphRequestError, a 2xx body that is not JSON a GraphResponseError;
// the bearer token only ever goes to the Graph origin the client was built for.
import type { TokenCredentialLike } from './credential.js';
import { CrossOriginError, GraphRequestError, GraphResponseError, parseGraphErrorBody } from './errors.js';
import type { CollectionPage } from './models.js';
import { parseRetryAfter, type Exchange, type RequestGate, type RetryPolicy, type Transport, type TransportRequest } from './transport.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface GraphClientOptions {
  /** https://graph.microsoft.com/v1.0 (or the emulator's). */
  baseUrl: string;
  credential: TokenCredentialLike;
  /** https://graph.microsoft.com/.default in the global cloud. */
  scope: string;
  transport: Transport;
  /** Overrides the transport's retry policy for Graph calls. */
  retry?: RetryPolicy;
  /** A shared gate (rate limiter) every Graph request passes through. */
  gate?: RequestGate;
}

export interface GraphRequestInit {
  /** GET by default. */
  method?: TransportRequest['method'];
  /** Sent as JSON (content-type application/json). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Ends the request (and its retries): TransportError kind `aborted`. */
  signal?: AbortSignal;
  /** Ask the credential for a new token instead of a cached one (after a 401 for an expired token). */
  freshToken?: boolean;
}

export interface GraphResponse<T> {
  status: number;
  /** The parsed JSON body; undefined for an empty body (204 No Content). */
  data: T;
  exchange: Exchange;
  attempts: number;
}

/** Graph's query string: option names keep their `$`, values are percent-encoded (spaces as %20). */
export function buildQuery(query: Query = {}): string {
  const parts = queryParts(query);
  return parts.length ? `?${parts.join('&')}` : '';
}

const queryParts = (query: Query): string[] => Object.entries(query)
  .filter(([, v]) => v !== undefined)
  .map(([k, v]) => `${encodeURIComponent(k).replace(/^%24/, '$')}=${encodeURIComponent(String(v))}`);

const decodeKey = (k: string): string => {
  try {
    return decodeURIComponent(k.replace(/\+/g, ' '));
  } catch {
    return k;
  }
};

/**
 * The URL with the query merged into any query it already has: its other parameters are kept
 * verbatim (a nextLink's $skiptoken, say), a parameter named in both takes the new value.
 */
export function mergeQuery(url: string, query?: Query): string {
  const add = query ? queryParts(query) : [];
  if (add.length === 0) return url;
  const hashAt = url.indexOf('#');
  const hash = hashAt >= 0 ? url.slice(hashAt) : '';
  const bare = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const q = bare.indexOf('?');
  if (q < 0) return `${bare}?${add.join('&')}${hash}`;
  const replaced = new Set(Object.entries(query!).filter(([, v]) => v !== undefined).map(([k]) => k));
  const kept = bare.slice(q + 1).split('&').filter((p) => p !== '' && !replaced.has(decodeKey(p.split('=')[0]!)));
  return `${bare.slice(0, q)}?${[...kept, ...add].join('&')}${hash}`;
}

/** A key segment value for paths like servicePrincipals(appId='…'): quotes doubled, then encoded. */
export const keyValue = (v: string): string => encodeURIComponent(v.replace(/'/g, "''"));

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i;
const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

export class GraphClient {
  readonly baseUrl: string;
  /** The only origin the bearer token is sent to. */
  readonly origin: string;

  constructor(private readonly o: GraphClientOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    const origin = originOf(this.baseUrl);
    if (!origin) throw new TypeError(`GraphClient: baseUrl must be an absolute URL, not '${o.baseUrl}'`);
    this.origin = origin;
  }

  get transport(): Transport {
    return this.o.transport;
  }

  /** An absolute URL (a nextLink) keeps its own query, merged with `query`; a path is joined to the base URL. */
  url(pathOrUrl: string, query?: Query): string {
    const base = ABSOLUTE.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}/${pathOrUrl.replace(/^\/+/, '')}`;
    return mergeQuery(base, query);
  }

  /**
   * Send a request (GET unless init.method says otherwise; init.body goes as JSON) and return the
   * status, parsed body and exchange. Throws GraphRequestError on non-2xx, GraphResponseError
   * when a 2xx body is not JSON, CrossOriginError (before anything is sent) for a URL outside
   * the configured Graph origin.
   */
  async send<T>(pathOrUrl: string, query?: Query, init: GraphRequestInit = {}): Promise<GraphResponse<T>> {
    const method = init.method ?? 'GET';
    const url = this.url(pathOrUrl, query);
    if (originOf(url) !== this.origin) throw new CrossOriginError(url, this.origin);
    const tokenOptions = init.signal || init.freshToken ? { ...(init.signal ? { abortSignal: init.signal } : {}), ...(init.freshToken ? { forceRefresh: true } : {}) } : undefined;
    const token = await this.o.credential.getToken(this.o.scope, tokenOptions);
    if (!token) throw new GraphRequestError({ status: 401, code: 'NoToken', message: 'The credential returned no token.', method, url, clientRequestId: '' });
    const hasBody = init.body !== undefined;
    const res = await this.o.transport.send({
      method,
      url,
      headers: { authorization: `Bearer ${token.token}`, accept: 'application/json', ...(hasBody ? { 'content-type': 'application/json' } : {}), ...init.headers },
      ...(hasBody ? { body: JSON.stringify(init.body) } : {}),
      ...(this.o.retry ? { retry: this.o.retry } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
      ...(this.o.gate ? { gate: this.o.gate } : {}),
    });
    const e = res.exchange;
    const ids = { method: e.method, url: e.url, requestId: e.requestId, clientRequestId: e.clientRequestId, date: e.date, agsDiagnostic: e.agsDiagnostic };
    if (res.status >= 200 && res.status < 300) {
      if (res.text.trim() === '') return { status: res.status, data: undefined as T, exchange: e, attempts: res.attempts };
      let data: T;
      try {
        data = res.json<T>();
      } catch (err) {
        const contentType = res.headers['content-type'];
        throw new GraphResponseError({ ...ids, status: res.status, contentType, message: `${method} answered ${res.status} with a body that is not JSON (content-type ${contentType ?? 'none'}): ${res.text.slice(0, 80).replace(/\s+/g, ' ')}` }, { cause: err });
      }
      return { status: res.status, data, exchange: e, attempts: res.attempts };
    }
    const err = parseGraphErrorBody(res.text);
    throw new GraphRequestError({
      status: res.status,
      code: err?.code ?? `Http${res.status}`,
      message: err?.message || res.text.slice(0, 200) || `HTTP ${res.status}`,
      innerError: err?.innerError,
      ...ids,
      retryAfterSeconds: parseRetryAfter(res.headers['retry-after']),
      attempts: res.attempts,
    });
  }

  async get<T>(pathOrUrl: string, query?: Query, init: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<T> {
    return (await this.send<T>(pathOrUrl, query, init)).data;
  }

  /** Each page of a collection, following @odata.nextLink verbatim (empty pages included). */
  async *pages<T>(path: string, query?: Query, opts: { maxPages?: number; signal?: AbortSignal } = {}): AsyncGenerator<CollectionPage<T>> {
    let next: string | undefined = this.url(path, query);
    for (let n = 0; next && n < (opts.maxPages ?? Infinity); n++) {
      const page: CollectionPage<T> = await this.get<CollectionPage<T>>(next, undefined, { signal: opts.signal });
      yield page;
      next = page['@odata.nextLink'];
    }
  }

  /** Every item of a (small) collection. */
  async list<T>(path: string, query?: Query, opts: { maxPages?: number; signal?: AbortSignal } = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const page of this.pages<T>(path, query, opts)) out.push(...(page.value ?? []));
    return out;
  }
}
