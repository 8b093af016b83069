// A small typed Microsoft Graph client over the transport: get one resource, list a collection
// following @odata.nextLink, or page through it. A non-2xx answer becomes a GraphRequestError.
import type { TokenCredentialLike } from './credential.js';
import { GraphRequestError, parseGraphErrorBody } from './errors.js';
import type { CollectionPage } from './models.js';
import { parseRetryAfter, type Exchange, type RetryPolicy, type Transport } from './transport.js';

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
}

export interface GraphResponse<T> {
  status: number;
  data: T;
  exchange: Exchange;
  attempts: number;
}

/** Graph's query string: option names keep their `$`, values are percent-encoded (spaces as %20). */
export function buildQuery(query: Query = {}): string {
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k).replace(/^%24/, '$')}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A key segment value for paths like servicePrincipals(appId='…'): quotes doubled, then encoded. */
export const keyValue = (v: string): string => encodeURIComponent(v.replace(/'/g, "''"));

export class GraphClient {
  readonly baseUrl: string;

  constructor(private readonly o: GraphClientOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
  }

  get transport(): Transport {
    return this.o.transport;
  }

  /** An absolute URL (nextLink) is used as is; a path is joined to the base URL. */
  url(pathOrUrl: string, query?: Query): string {
    if (/^https:\/\//i.test(pathOrUrl)) return pathOrUrl + (query ? buildQuery(query) : '');
    return `${this.baseUrl}/${pathOrUrl.replace(/^\/+/, '')}${buildQuery(query)}`;
  }

  /** GET and return the status, parsed body and exchange; throws GraphRequestError on non-2xx. */
  async send<T>(pathOrUrl: string, query?: Query, init: { headers?: Record<string, string> } = {}): Promise<GraphResponse<T>> {
    const token = await this.o.credential.getToken(this.o.scope);
    if (!token) throw new GraphRequestError({ status: 401, code: 'NoToken', message: 'The credential returned no token.', method: 'GET', url: this.url(pathOrUrl, query), clientRequestId: '' });
    const res = await this.o.transport.send({
      method: 'GET',
      url: this.url(pathOrUrl, query),
      headers: { authorization: `Bearer ${token.token}`, accept: 'application/json', ...init.headers },
      ...(this.o.retry ? { retry: this.o.retry } : {}),
    });
    if (res.status >= 200 && res.status < 300) {
      return { status: res.status, data: (res.text ? res.json<T>() : undefined) as T, exchange: res.exchange, attempts: res.attempts };
    }
    const err = parseGraphErrorBody(res.text);
    const e = res.exchange;
    throw new GraphRequestError({
      status: res.status,
      code: err?.code ?? `Http${res.status}`,
      message: err?.message || res.text.slice(0, 200) || `HTTP ${res.status}`,
      innerError: err?.innerError,
      method: e.method, url: e.url, requestId: e.requestId, clientRequestId: e.clientRequestId, date: e.date, agsDiagnostic: e.agsDiagnostic,
      retryAfterSeconds: parseRetryAfter(res.headers['retry-after']),
      attempts: res.attempts,
    });
  }

  async get<T>(pathOrUrl: string, query?: Query): Promise<T> {
    return (await this.send<T>(pathOrUrl, query)).data;
  }

  /** Each page of a collection, following @odata.nextLink verbatim (empty pages included). */
  async *pages<T>(path: string, query?: Query, opts: { maxPages?: number } = {}): AsyncGenerator<CollectionPage<T>> {
    let next: string | undefined = this.url(path, query);
    for (let n = 0; next && n < (opts.maxPages ?? Infinity); n++) {
      const page: CollectionPage<T> = await this.get<CollectionPage<T>>(next);
      yield page;
      next = page['@odata.nextLink'];
    }
  }

  /** Every item of a (small) collection. */
  async list<T>(path: string, query?: Query, opts: { maxPages?: number } = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const page of this.pages<T>(path, query, opts)) out.push(...(page.value ?? []));
    return out;
  }
}
