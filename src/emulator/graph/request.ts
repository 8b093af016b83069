// One Graph request as handlers see it, after authentication.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import type { TenantState } from '../state.js';
import type { Segment } from './path.js';

export interface GraphRequest {
  req: FastifyRequest;
  reply: FastifyReply;
  version: 'v1.0' | 'beta';
  /** https://host:port/v1.0 — base of @odata.context and nextLink. */
  base: string;
  tenant: TenantState;
  claims: JWTPayload;
  roles: string[];
  appId: string;
  /** Query options, keys as sent ($filter, $top…). */
  query: Record<string, string>;
  params: Segment[];
  template: string;
}

export type GraphHandler = (r: GraphRequest) => Promise<unknown> | unknown;

export interface GraphRouteSpec {
  handler: GraphHandler;
  /** How a missing role is refused: directory APIs and the Copilot API answer differently. */
  denial: 'directory' | 'none';
  /** The path Microsoft's permission data names, when the route is a typed cast of it (…/microsoft.graph.user). */
  permissionPath?: string;
  /** HTTP methods the route answers (default GET only); the handler reads r.req.method. */
  methods?: string[];
}
