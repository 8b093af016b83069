// Control API for interaction data: ingest new interactions (stamped with the emulator clock)
// and stream the ground truth as JSON lines, exactly as v1.0 returns each item.
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import type { EmulatorContext } from '../context.js';
import type { TenantState } from '../state.js';
import { graphErrors } from '../graph/errors.js';
import { ensureHistory } from '../graph/interactions.js';
import { StoreInputError } from '../interactions/store.js';

/** The most interactions one POST creates, generated (count) or explicit (interactions). */
const MAX_PER_POST = 10_000;

export function interactionControlRoutes(app: FastifyInstance, ctx: EmulatorContext, tenantOr404: (id: string) => TenantState): void {
  const find = (tid: string, uid?: string) => {
    const t = tenantOr404(tid);
    const u = uid === undefined ? undefined : t.user(uid);
    if (uid !== undefined && !u) throw graphErrors.notFound(`No user ${uid} in tenant ${t.id}.`);
    return { t, u };
  };

  app.post<{ Params: { tid: string; uid: string }; Body: { count?: number; interactions?: unknown[]; seed?: string } | undefined }>(
    '/_emulator/tenants/:tid/users/:uid/interactions',
    async (req, reply) => {
      const { t, u } = find(req.params.tid, req.params.uid);
      const b = req.body ?? {};
      const hasCount = b.count !== undefined;
      const hasList = b.interactions !== undefined;
      if (hasCount === hasList) throw graphErrors.badRequest('Send either {"count": N} to generate N interactions or {"interactions": [...]} with explicit ones.');
      if (hasCount && (!Number.isInteger(b.count) || b.count! < 1 || b.count! > MAX_PER_POST)) throw graphErrors.badRequest(`count must be a whole number from 1 to ${MAX_PER_POST} (post again for more).`);
      if (hasList && (!Array.isArray(b.interactions) || b.interactions.length === 0)) throw graphErrors.badRequest('interactions must be a non-empty array.');
      if (hasList && b.interactions!.length > MAX_PER_POST) throw graphErrors.badRequest(`interactions holds ${b.interactions!.length} items; send at most ${MAX_PER_POST} per request (post again for more).`);
      ensureHistory(ctx, t, u!);
      let created;
      try {
        created = ctx.store.ingest(t.id, u!.id, hasCount ? { count: b.count!, seed: b.seed ?? `${t.interactions.seed}:ingest:${ctx.clock.nowMs()}` } : (b.interactions as never), ctx.clock.now());
      } catch (e) {
        if (e instanceof StoreInputError) throw graphErrors.badRequest(e.message);
        throw e;
      }
      req.log.info({ event: 'interactions.ingested', tenant: t.id, user: u!.id, count: created.length }, 'interactions ingested');
      // Change notifications follow ingestion (queued here, delivered in the background).
      await ctx.subscriptions.onIngested(t, u!.id, created);
      return reply.code(201).send({ created });
    },
  );

  app.get<{ Params: { tid: string }; Querystring: { user?: string } }>('/_emulator/tenants/:tid/interactions', async (req, reply) => {
    const { t, u } = find(req.params.tid, req.query.user);
    const users = u ? [u] : t.users;
    // User by user: materialise one history, stream it, let other requests run, go on. A large
    // tenant streams for a long time but never blocks the server or generates ahead of the reader.
    const lines = Readable.from((async function* () {
      for (const x of users) {
        ensureHistory(ctx, t, x);
        for (const row of ctx.store.stream(t.id, x.id)) yield JSON.stringify(row) + '\n';
        await new Promise((resolve) => setImmediate(resolve));
      }
    })());
    return reply.header('content-type', 'application/x-ndjson').send(lines);
  });
}
