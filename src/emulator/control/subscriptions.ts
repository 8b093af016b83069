// Control API for change notifications: every subscription of a tenant with its delivery
// counters, lifecycle notifications on demand, and a receiver certificate the emulator trusts
// (so a test or `copilog watch --emulator` can serve HTTPS without certificate files).
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { graphErrors } from '../graph/errors.js';
import { toGraph } from '../graph/subscriptions.js';
import type { LifecycleEvent } from '../subscriptions.js';
import type { TenantState } from '../state.js';

const EVENTS: LifecycleEvent[] = ['reauthorizationRequired', 'subscriptionRemoved', 'missed'];

export function subscriptionControlRoutes(app: FastifyInstance, ctx: EmulatorContext, tenantOr404: (id: string) => TenantState): void {
  app.get<{ Params: { tid: string } }>('/_emulator/tenants/:tid/subscriptions', async (req) => {
    const t = tenantOr404(req.params.tid);
    return {
      value: ctx.subscriptions.list(t.id).map((s) => ({ ...toGraph(s), needsReauthorization: s.needsReauthorization, delivery: ctx.subscriptions.stats(s.id) })),
      lifecycle: ctx.subscriptions.sentLifecycle,
    };
  });

  // {"lifecycleEvent": "missed", "dropPending": true} also drops what waits for delivery (lost notifications).
  app.post<{ Params: { tid: string; id: string }; Body: { lifecycleEvent?: string; dropPending?: boolean } | undefined }>(
    '/_emulator/tenants/:tid/subscriptions/:id/lifecycle',
    async (req) => {
      const t = tenantOr404(req.params.tid);
      const s = ctx.subscriptions.get(t.id, req.params.id);
      if (!s) throw graphErrors.notFound(`No subscription ${req.params.id} in tenant ${t.id}.`);
      const event = req.body?.lifecycleEvent as LifecycleEvent;
      if (!EVENTS.includes(event)) throw graphErrors.badRequest(`lifecycleEvent must be one of ${EVENTS.join(', ')}.`);
      const dropped = req.body?.dropPending ? ctx.subscriptions.dropPending(s.id) : 0;
      const status = await ctx.subscriptions.sendLifecycle(s, event);
      return { subscriptionId: s.id, lifecycleEvent: event, receiverStatus: status, dropped };
    },
  );

  // The emulator's server certificate (localhost, 127.0.0.1) and its CA: test values, loopback only.
  app.get('/_emulator/receiver-certificate', async () => ({ certPem: ctx.pki.server.certPem, keyPem: ctx.pki.server.keyPem, caPem: ctx.pki.ca.certPem }));
}
