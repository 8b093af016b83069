// The emulator's HTTPS server: one port for the identity platform, Microsoft Graph and the
// control API. The life of a request, in order: ids and standard headers (onRequest) →
// faults → route (identity | graph pipeline | control) → one error handler that writes
// either Entra's or Graph's error shape.
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { builtinCatalog, loadLicensingCsv, type LicensingCatalog } from '../graph/licensing.js';
import { Clock } from './clock.js';
import type { EmulatorContext } from './context.js';
import { controlRoutes } from './control/routes.js';
import { graphErrorBody, GraphError, graphErrors } from './graph/errors.js';
import { graphRoutes } from './graph/routes.js';
import { Throttle } from './graph/throttle.js';
import { RequestStats } from './graph/stats.js';
import { aadsts, aadstsBody, AadstsError } from './identity/errors.js';
import { identityRoutes } from './identity/routes.js';
import { TokenService } from './identity/tokens.js';
import { InteractionStore } from './interactions/store.js';
import { ensurePki } from './pki.js';
import { loadScenarioFile, parseScenario } from './scenario/load.js';
import type { Scenario } from './scenario/schema.js';
import { EmulatorState } from './state.js';
import { SubscriptionService } from './subscriptions.js';

export interface EmulatorOptions {
  /** A scenario file path, or an already parsed scenario object. */
  scenario: string | Scenario | Record<string, unknown>;
  port?: number;
  host?: string;
  dataDir?: string;
  licensingCsv?: string;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where log lines go (default stderr, so stdout stays for --json). */
  logStream?: NodeJS.WritableStream;
}

export interface RunningEmulator {
  url: string;
  port: number;
  graph: string;
  authority: string;
  ca: string;
  tenants: string[];
  dataDir: string;
  /** An in-memory request (no socket), e.g. to act as a non-loopback caller in tests. */
  inject: FastifyInstance['inject'];
  close(): Promise<void>;
}

export const defaultDataDir = (): string => join(process.env.COPILOG_HOME ?? join(homedir(), '.copilog'), 'emulator');

// Exactly the prefixes Graph is routed on (rewriteUrl lower-cases the version first).
const GRAPH_PATH = /^\/(v1\.0|beta)(\/|$)/;
const REQUEST_LINE = /^[A-Z]+ (\S+) HTTP\/1\.[01]\r?\n/;
const requestLines = new WeakMap<Socket, string>();
const isGraph = (url: string) => GRAPH_PATH.test(url);
const isIdentity = (url: string) => !isGraph(url) && /^\/[^/]+\/(oauth2|v2\.0|discovery|\.well-known)\//i.test(url);

export async function startEmulator(o: EmulatorOptions): Promise<RunningEmulator> {
  const dataDir = o.dataDir ?? defaultDataDir();
  mkdirSync(dataDir, { recursive: true });
  const catalog: LicensingCatalog = o.licensingCsv ? loadLicensingCsv(o.licensingCsv) : builtinCatalog();
  const scenario = typeof o.scenario === 'string' ? loadScenarioFile(o.scenario) : parseScenario(o.scenario);
  const pki = await ensurePki(join(dataDir, 'pki'));
  const clock = new Clock(scenario.clock.now, scenario.clock.frozen);

  const app: FastifyInstance = Fastify({
    https: { key: pki.server.keyPem, cert: pki.server.certPem },
    logger: { level: o.logLevel ?? 'info', stream: o.logStream ?? process.stderr, redact: ['req.headers.authorization'] },
    genReqId: () => randomUUID(),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 8 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2000 },
    // Graph takes its version segment in any case (/V1.0/…); route on one spelling.
    rewriteUrl: (req) => (req.url ?? '/').replace(/^\/(v1\.0|beta)(?=[/?]|$)/i, (m) => m.toLowerCase()),
    // URLs the router rejects (bad %-escapes, over-long segments) skip the hooks: give them the
    // same ids, headers and error shape as every other answer.
    frameworkErrors: (err, req, reply) => {
      stampHeaders(req, reply);
      writeError(err, req, reply);
    },
    // Requests Node's parser refuses before Fastify sees them (headers over 16 KB, a malformed
    // request line, a client too slow to send its headers): the same ids and error shapes.
    clientErrorHandler: (err, socket) => clientError(err as unknown as NodeJS.ErrnoException & { rawPacket?: Buffer }, socket),
  });

  const storePath = (s: Scenario) => (s.storage === 'file' ? join(dataDir, `interactions-${s.name}.sqlite`) : ':memory:');
  let store = new InteractionStore(storePath(scenario));
  const tokens = new TokenService(pki);
  const subscriptions = new SubscriptionService(clock, tokens, pki.ca.certPem, (id) => ctx.state.tenant(id), (o, msg) => app.log.info(o, msg));
  let stats = new RequestStats();
  const ctx: EmulatorContext = {
    state: await EmulatorState.build(scenario, clock, join(dataDir, 'pki'), catalog),
    clock,
    tokens,
    subscriptions,
    pki,
    get store() { return store; },
    throttle: new Throttle(),
    get stats() { return stats; },
    catalog,
    dataDir,
    log: app.log,
    seenAssertions: new Map(),
    async load(raw, source) {
      const next = parseScenario(raw, source);
      // Set the scenario's clock first: its relative dates (-30d, +1h…) resolve against it.
      const before = { ms: clock.nowMs(), frozen: clock.frozen };
      // A reset or a new scenario starts from the scenario's clock: its fixed time, or real time.
      clock.reset();
      if (next.clock.now) clock.set(next.clock.now);
      clock.freeze(next.clock.frozen);
      let state: EmulatorState;
      try {
        state = await EmulatorState.build(next, clock, join(dataDir, 'pki'), catalog);
      } catch (e) {
        clock.freeze(false);
        clock.set(new Date(before.ms).toISOString());
        clock.freeze(before.frozen);
        throw e;
      }
      store.close();
      store = new InteractionStore(storePath(next));
      // A reset forgets what was ingested: file stores start over too.
      for (const t of state.tenants) store.reset(t.id);
      ctx.state = state;
      ctx.throttle.reset();
      stats = new RequestStats();
      ctx.seenAssertions.clear();
      subscriptions.reset();
      app.log.info({ event: 'scenario.loaded', scenario: next.name, source }, 'scenario loaded');
    },
  };

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const stampHeaders = (req: FastifyRequest, reply: FastifyReply): void => {
    const clientRequestId = String(req.headers['client-request-id'] ?? '') || req.id;
    (req as { clientRequestId?: string }).clientRequestId = clientRequestId;
    // When the request arrived, before any work on it: Graph counts its limits at the door.
    (req as { arrivedAt?: number }).arrivedAt = Date.now();
    reply.header('request-id', req.id).header('client-request-id', clientRequestId).header('strict-transport-security', 'max-age=31536000');
    if (isGraph(req.url)) {
      // Graph's Date is the service's time: the emulator's clock (a moved clock shows here too).
      reply.header('date', ctx.clock.now().toUTCString());
      reply.header('odata-version', '4.0').header('cache-control', 'no-store')
        .header('x-ms-ags-diagnostic', JSON.stringify({ ServerInfo: { DataCenter: 'Local Emulator', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'COPILOG_EMU_0', ADSiteName: 'LOC' } }));
    } else if (isIdentity(req.url)) {
      reply.header('x-ms-request-id', req.id).header('x-ms-ests-server', 'copilog-emulator');
    }
  };
  app.addHook('onRequest', async (req, reply) => stampHeaders(req, reply));

  const writeError = (err: FastifyError | GraphError | AadstsError, req: FastifyRequest, reply: FastifyReply): void => {
    const ids = { requestId: req.id, clientRequestId: (req as { clientRequestId?: string }).clientRequestId ?? req.id };
    if (err instanceof AadstsError) {
      void reply.code(err.status).header('cache-control', 'no-store, no-cache').send(aadstsBody(err, ctx.clock.now(), ids.clientRequestId));
      return;
    }
    let g: GraphError;
    if (err instanceof GraphError) g = err;
    else if (isIdentity(req.url)) {
      // Framework errors on the token service (unsupported content type, oversized body…).
      const code = (err as FastifyError).code;
      const a = code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? aadsts.badContentType()
        : new AadstsError(400, 'invalid_request', 900144, `The request is malformed: ${(err as Error).message}`);
      void reply.code(a.status).send(aadstsBody(a, ctx.clock.now(), ids.clientRequestId));
      return;
    } else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
      g = graphErrors.badRequest((err as FastifyError).message);
      (g as { status: number }).status = (err as FastifyError).statusCode!;
    } else {
      req.log.error({ err }, 'unhandled error');
      g = graphErrors.internal();
    }
    for (const [k, v] of Object.entries(g.headers)) void reply.header(k, v);
    void reply.code(g.status).header('content-type', 'application/json').send(graphErrorBody(g, ids, ctx.clock.now()));
  };
  app.setErrorHandler(writeError);

  const clientError = (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const message = status === 431 ? 'The request headers are too large: the limit is 16 KB.'
      : status === 408 ? 'The request headers did not arrive in time.' : 'The request is malformed.';
    // The request line, when it arrived, says whose shape to answer in (over TLS the packet that
    // overflowed may be a later record than the one holding the request line).
    const head = err.rawPacket ? err.rawPacket.subarray(0, 8192).toString('latin1') : '';
    const url = (REQUEST_LINE.exec(head)?.[1] ?? requestLines.get(socket) ?? '/').replace(/^\/(v1\.0|beta)(?=[/?]|$)/i, (m) => m.toLowerCase());
    const id = randomUUID();
    const now = ctx.clock.now();
    const body = JSON.stringify(isIdentity(url)
      ? aadstsBody(new AadstsError(status, 'invalid_request', 9002313, `Invalid request. Request is malformed or invalid. ${message}`), now, id)
      : graphErrorBody(new GraphError(status, 'invalidRequest', message), { requestId: id, clientRequestId: id }, now));
    app.log.info({ event: 'client.error', code: err.code, status }, 'client error');
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end([
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`, `request-id: ${id}`, `client-request-id: ${id}`, `Date: ${new Date().toUTCString()}`,
      'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body,
    ].join('\r\n'));
  };

  app.setNotFoundHandler((req) => {
    if (isIdentity(req.url)) {
      const tenant = req.url.split('/')[1] ?? '';
      if (!ctx.state.tenant(decodeURIComponent(tenant))) throw aadsts.tenantNotFound(tenant);
      throw new AadstsError(404, 'invalid_request', 90002, `The endpoint ${req.url.split('?')[0]} does not exist.`);
    }
    throw graphErrors.notFound(`No such endpoint: ${req.method} ${req.url.split('?')[0]}. Graph is under /v1.0 and /beta, the token service under /{tenant}/oauth2/v2.0/token, the control API under /_emulator.`);
  });

  controlRoutes(app, ctx);
  identityRoutes(app, ctx);
  graphRoutes(app, ctx);

  // The last request line seen on each connection, for clientError above.
  app.server.on('secureConnection', (socket: Socket) => {
    socket.on('data', (chunk: Buffer) => {
      if (chunk[0]! < 0x41 || chunk[0]! > 0x5a) return; // not the start of a request (A-Z)
      const m = REQUEST_LINE.exec(chunk.subarray(0, 4096).toString('latin1'));
      if (m) requestLines.set(socket, m[1]!);
    });
  });

  subscriptions.start();
  await app.listen({ port: o.port ?? 0, host: o.host ?? '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port ?? 0;
  const host = (o.host ?? '127.0.0.1').includes(':') ? `[${o.host}]` : o.host ?? '127.0.0.1';
  const url = `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  return {
    url,
    port,
    graph: `${url}/v1.0`,
    authority: `${url}/${ctx.state.defaultTenant.id}`,
    ca: pki.ca.certPath,
    tenants: ctx.state.tenants.map((t) => t.id),
    dataDir,
    inject: app.inject.bind(app) as FastifyInstance['inject'],
    async close() {
      await subscriptions.close();
      await app.close();
      store.close();
    },
  };
}
