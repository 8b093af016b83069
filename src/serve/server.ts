// copilog serve: a local web app over a store. One fastify instance serves the page, its static
// files (chart.js included: the page needs no network) and a read-only JSON API. Every request
// passes, in order: the Host check (a DNS-rebinding page cannot reach a loopback server under a
// foreign name), the access token when bound beyond loopback, then the route. Every response
// carries a strict Content-Security-Policy.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isStoreReader, type Store, type StoreReader } from '../store/index.js';
import { SearchCursorError } from '../store/sqlite-read.js';
import { loadWebAssets } from './assets.js';
import { BadRequest, checkKnown, integer, interactionTypes, many, one, range, type Query } from './query.js';
import { conversationId, conversationView, parseConversationId } from './view.js';

export const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "font-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

export const TOKEN_ENV = 'COPILOG_SERVE_TOKEN';
export const MIN_TOKEN_CHARS = 16;
const COOKIE = 'copilog_token';

export interface ServeOptions {
  store: Store;
  host?: string;
  port?: number;
  /** Required when host is not a loopback address. */
  token?: string;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  tokenRequired: boolean;
  app: FastifyInstance;
  close(): Promise<void>;
}

export class ServeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServeConfigError';
  }
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The hostname part of a Host header (without port, brackets kept off IPv6). */
function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::\d{1,5})?$/.exec(header.trim());
  return m ? m[1]!.replace(/^\[|\]$/g, '').toLowerCase() : null;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  if (!loopback && (o.token === undefined || o.token.length < MIN_TOKEN_CHARS)) {
    throw new ServeConfigError(`--host ${host} is beyond loopback: pass an access token of at least ${MIN_TOKEN_CHARS} characters with --token or ${TOKEN_ENV} (make one: openssl rand -hex 24)`);
  }
  if (!isStoreReader(o.store)) throw new ServeConfigError(`copilog serve cannot search the store at ${o.store.location} (this store kind has no search yet); use a SQLite store`);
  const store: Store & StoreReader = o.store;
  const tokenDigest = o.token ? digest(o.token) : null;
  const tokenRequired = !loopback || tokenDigest !== null;
  const assets = loadWebAssets();
  const allowedHosts = new Set(['localhost', '127.0.0.1', '::1', host.replace(/^\[|\]$/g, '').toLowerCase()]);
  if (!loopback) allowedHosts.add(osHostname().toLowerCase());

  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 4000 } });

  const tokenOk = (given: string | undefined): boolean => given !== undefined && tokenDigest !== null && timingSafeEqual(digest(given), tokenDigest);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('Content-Security-Policy', CSP);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    reply.header('Cache-Control', 'no-store');
    const h = hostOf(req.headers.host);
    // Loopback: only loopback names. Beyond: also the bound name, this machine's name and IP literals.
    if (h === null || !(allowedHosts.has(h) || isLoopback(h) || (!loopback && isIP(h) !== 0))) {
      return reply.code(421).type('application/json').send({ error: { code: 'misdirectedRequest', message: `this copilog serve does not answer to the host '${req.headers.host ?? ''}'; open it at ${urlOf(host, port())}` } });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply.code(405).header('Allow', 'GET, HEAD').send({ error: { code: 'methodNotAllowed', message: 'copilog serve is read-only: GET only' } });
    }
    if (!tokenRequired) return;
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (tokenOk(bearer) || tokenOk(cookieToken(req.headers.cookie))) return;
    const url = new URL(req.url, 'http://x');
    const inQuery = url.searchParams.get('token') ?? undefined;
    if (inQuery !== undefined && !url.pathname.startsWith('/api/') && tokenOk(inQuery)) {
      // The token from the link becomes a same-site cookie and leaves the address bar (and history).
      url.searchParams.delete('token');
      reply.header('Set-Cookie', `${COOKIE}=${encodeURIComponent(inQuery)}; HttpOnly; SameSite=Strict; Path=/`);
      return reply.code(303).header('Location', url.pathname + url.search).send();
    }
    const message = `this copilog serve needs its access token: open ${urlOf(host, port())}/?token=<the --token or ${TOKEN_ENV} value it was started with>, or send Authorization: Bearer <token>`;
    if (req.url.startsWith('/api/')) return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: { code: 'unauthorized', message } });
    return reply.code(401).type('text/plain; charset=utf-8').send(`${message}\n`);
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BadRequest || err instanceof SearchCursorError) return reply.code(400).send({ error: { code: 'badRequest', message: err.message } });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: { code: 'badRequest', message: (err as Error).message } });
    return reply.code(500).send({ error: { code: 'internalError', message: 'the store could not answer; see the server log' } });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'notFound', message: `no such page or API: ${req.url.split('?')[0]}` } }));

  for (const [route, a] of assets) {
    app.get(route, async (req, reply) => {
      if (route !== '/') checkKnown(req.query as Query, []);
      return reply.type(a.type).send(a.body);
    });
  }

  app.get('/api/meta', async (req) => {
    checkKnown(req.query as Query, []);
    const stats = await store.stats();
    const facets = await facetsCached(undefined);
    return {
      app: 'copilog', store: store.location, interactions: stats.interactions, users: stats.users, bytes: stats.bytes,
      tenants: facets.tenants, firstDateTime: facets.firstDateTime, lastDateTime: facets.lastDateTime, tokenRequired,
    };
  });

  // Facets over a large store take a GROUP BY each; the store does not change under a dashboard often enough to redo them per request.
  const facetCache = new Map<string, { at: number; value: Promise<Awaited<ReturnType<StoreReader['facets']>>> }>();
  const facetsCached = (tenantId: string | undefined) => {
    const key = tenantId ?? '';
    const hit = facetCache.get(key);
    if (hit && Date.now() - hit.at < 30_000) return hit.value;
    const value = store.facets(tenantId);
    facetCache.set(key, { at: Date.now(), value });
    value.catch(() => facetCache.delete(key));
    return value;
  };

  app.get('/api/facets', async (req) => {
    const q = req.query as Query;
    checkKnown(q, ['tenant']);
    return facetsCached(one(q, 'tenant'));
  });

  app.get('/api/search', async (req) => {
    const q = req.query as Query;
    checkKnown(q, ['q', 'tenant', 'user', 'app', 'type', 'since', 'until', 'limit', 'after']);
    const text = one(q, 'q');
    if (text !== undefined && text.length > 500) throw new BadRequest(`'q' is ${text.length} characters; at most 500`);
    const page = await store.search({
      text, tenantId: one(q, 'tenant'), userIds: many(q, 'user'), appClasses: many(q, 'app'), interactionTypes: interactionTypes(q),
      ...range(q), limit: integer(q, 'limit', 1, 200, 25), after: one(q, 'after'),
    });
    return { ...page, hits: page.hits.map((h) => ({ ...h, conversationId: h.sessionId ? conversationId(h.tenantId, h.userId, h.sessionId) : null })) };
  });

  app.get<{ Params: { id: string } }>('/api/conversations/:id', async (req, reply) => {
    checkKnown(req.query as Query, []);
    const key = parseConversationId(req.params.id);
    if (!key) throw new BadRequest(`'${req.params.id.slice(0, 80)}' is not a conversation id (take one from /api/search)`);
    const c = await store.conversation(key.tenantId, key.userId, key.sessionId);
    if (!c) return reply.code(404).send({ error: { code: 'notFound', message: 'the store holds no interaction of this conversation' } });
    return conversationView(c);
  });

  app.get('/api/usage', async (req) => {
    const q = req.query as Query;
    checkKnown(q, ['tenant', 'user', 'app', 'since', 'until', 'top']);
    return store.usage({ tenantId: one(q, 'tenant'), userIds: many(q, 'user'), appClasses: many(q, 'app'), ...range(q), top: integer(q, 'top', 1, 100, 10) });
  });

  app.get('/api/runs', async (req) => {
    const q = req.query as Query;
    checkKnown(q, ['tenant', 'limit']);
    return { runs: await store.runs(one(q, 'tenant'), integer(q, 'limit', 1, 500, 50)) };
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id', async (req, reply) => {
    checkKnown(req.query as Query, []);
    if (!/^\d{1,12}$/.test(req.params.id)) throw new BadRequest(`a run id is a whole number, not '${req.params.id.slice(0, 40)}'`);
    const id = Number(req.params.id);
    const run = (await store.runs(undefined, 100_000)).find((r) => r.id === id);
    if (!run) return reply.code(404).send({ error: { code: 'notFound', message: `the store has no run ${id}` } });
    return { run, outcomes: await store.outcomes(id) };
  });

  let bound = 0;
  const port = () => bound;
  await app.listen({ host, port: o.port ?? 0 });
  const addr = app.server.address();
  bound = typeof addr === 'object' && addr ? addr.port : o.port ?? 0;
  return { url: urlOf(host, bound), host, port: bound, tokenRequired, app, close: () => app.close() };
}

export function urlOf(host: string, port: number): string {
  const h = isIP(host.replace(/^\[|\]$/g, '')) === 6 ? `[${host.replace(/^\[|\]$/g, '')}]` : host;
  return `http://${h}:${port}`;
}

export type { FastifyReply, FastifyRequest };
