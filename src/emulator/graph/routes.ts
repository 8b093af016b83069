// Microsoft Graph's request pipeline, in one place: version → route → authentication →
// role gate → handler → serializer. Errors go to the server's single error handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rolesAllow } from '../../graph/permissions.js';
import type { EmulatorContext } from '../context.js';
import { GRAPH_AUDIENCE_BY_CLOUD } from '../identity/tokens.js';
import { MICROSOFT_GRAPH_APP_ID } from '../../graph/ids.js';
import { graphErrors } from './errors.js';
import { GraphRouter, parseGraphPath } from './path.js';
import type { GraphRequest, GraphRouteSpec } from './request.js';
import { directoryRoutes } from './directory.js';
import { interactionRoutes } from './interactions.js';
import { applyFaults } from './faults.js';
import { subscriptionRoutes } from './subscriptions.js';

export function graphRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const router = new GraphRouter<GraphRouteSpec>();
  directoryRoutes(router, ctx);
  interactionRoutes(router, ctx);
  subscriptionRoutes(router, ctx);

  const handle = async (version: GraphRequest['version'], req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply): Promise<[GraphRequest, GraphRouteSpec]> => {
    const segments = parseGraphPath(req.params['*']);
    const match = router.match(segments);
    if (match instanceof Error) throw match;
    if (!(match.handler.methods ?? ['GET']).includes(req.method)) throw graphErrors.methodNotAllowed();

    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s*(.*)$/i.exec(auth);
    const result = await ctx.tokens.validate(m ? m[1]!.trim() : '', ctx.clock.nowMs(), (tid) => {
      const t = ctx.state.tenant(tid);
      return t && t.id === tid ? [GRAPH_AUDIENCE_BY_CLOUD[t.cloud], MICROSOFT_GRAPH_APP_ID] : undefined;
    });
    if ('message' in result) {
      req.log.info({ event: 'graph.refused', gate: 'token', reason: result.message }, 'refused: token');
      throw graphErrors.unauthenticated(result.message);
    }
    const claims = result.claims;
    const tenant = ctx.state.tenant(String(claims.tid))!;
    const roles = Array.isArray(claims.roles) ? claims.roles.map(String) : [];
    if (match.handler.denial === 'directory' && (claims.scp !== undefined || !rolesAllow(match.handler.permissionPath ?? match.template, roles))) {
      req.log.info({ event: 'graph.refused', gate: 'role', template: match.template, roles }, 'refused: no role grants this path');
      throw graphErrors.directoryDenied();
    }
    // OData allows each system query option once; handlers read them as strings.
    for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) {
      if (Array.isArray(v) && k.startsWith('$')) throw graphErrors.badRequest(`Query option '${k}' was specified more than once, but it must be specified at most once.`);
    }
    const host = req.headers.host ?? '127.0.0.1';
    const r: GraphRequest = {
      req, reply, version, base: `https://${host}/${version}`, tenant, claims, roles,
      appId: String(claims.appid ?? claims.azp ?? ''),
      query: req.query as Record<string, string>, params: match.params, template: match.template,
    };
    return [r, match.handler];
  };

  // Only /v1.0 and /beta belong to Graph; every other path stays free for the identity platform.
  for (const version of ['v1.0', 'beta'] as const) {
    app.all<{ Params: { '*': string } }>(`/${version}/*`, async (req, reply) => {
      const [r, spec] = await handle(version, req, reply);
      // The Copilot endpoint applies faults after its own gates; scope "all" adds the directory.
      if (spec.denial === 'directory' && r.tenant.faults.scope === 'all') await applyFaults(r);
      const body = await spec.handler(r);
      if (body === undefined) return reply;
      reply.header('content-type', 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8');
      return body;
    });
  }
}
