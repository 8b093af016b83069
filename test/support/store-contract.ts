// The store contract: one suite for every implementation of the Store interface. Each store
// test file calls storeContract with a factory that names a fresh, empty store (a SQLite file, a
// PostgreSQL database), so SQLite and PostgreSQL run exactly the same cases: idempotent page
// writes with their cursor in one transaction, scopes, runs and outcomes, ordered streaming with
// filters, conversations, reopening.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AiInteraction } from '../../src/client/models.js';
import { openStore, pairTurns, type Store } from '../../src/store/index.js';

export interface StoreFactory {
  name: string;
  /** The --store value of a fresh, empty store that does not exist yet (or is an empty database). */
  target(): Promise<string>;
  /** A --store value where no store exists (for the read-only refusal). */
  missing(): Promise<string>;
  /** Removes whatever the factory made. */
  cleanup?(): Promise<void>;
}

const T = '6a1f3c2e-4b5d-4e8f-9a0b-1c2d3e4f5a6b';
const base = Date.parse('2026-10-01T08:00:00Z');

function item(i: number, o: Partial<AiInteraction> = {}): AiInteraction {
  return {
    id: String(base + i * 1000), appClass: 'IPM.SkypeTeams.Message.Copilot.BizChat', createdDateTime: new Date(base + i * 1000).toISOString(),
    from: { user: { id: 'u' } }, interactionType: i % 2 === 0 ? 'userPrompt' : 'aiResponse', locale: 'en-us', sessionId: `s${Math.floor(i / 4)}`,
    requestId: `r${Math.floor(i / 2)}`, body: { contentType: 'text', content: `text ${i}` }, ...o,
  };
}

const page = (userId: string, items: AiInteraction[], cursor: { watermarkMs: number | null; nextLink?: string | null } = { watermarkMs: null }, runId = 1) => ({
  tenantId: T, userId, scope: '', runId, items,
  cursor: { watermarkMs: cursor.watermarkMs, window: cursor.nextLink ? { fromMs: 0, toMs: base + 1e9, nextLink: cursor.nextLink, pages: 1 } : null },
});

async function all(store: Store, filter = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const r of store.interactions(filter)) out.push(`${r.userId}:${r.id}`);
  return out;
}

export function storeContract(impl: StoreFactory): void {
  const open = async () => openStore(await impl.target());
  describe(`store contract: ${impl.name}`, () => {
    after(async () => { await impl.cleanup?.(); });
    test('a page and its cursor are written together; writing it again adds nothing; changed JSON is counted', async () => {
      const s = await open();
      const items = [item(0), item(1), item(2)];
      assert.deepEqual(await s.upsertPage(page('a', items, { watermarkMs: null, nextLink: 'https://graph/next1' })), { added: 3, changed: 0 });
      assert.deepEqual(await s.upsertPage(page('a', items, { watermarkMs: null, nextLink: 'https://graph/next1' })), { added: 0, changed: 0 });
      const edited = [{ ...item(1), body: { contentType: 'text', content: 'edited' } }];
      assert.deepEqual(await s.upsertPage(page('a', edited, { watermarkMs: base + 5000 })), { added: 0, changed: 1 });
      const c = (await s.cursors(T, '')).get('a')!;
      assert.equal(c.watermarkMs, base + 5000);
      assert.equal(c.window, null);
      const rows: string[] = [];
      for await (const r of s.interactions({ userIds: ['a'] })) rows.push(r.json);
      assert.equal(rows.length, 3);
      assert.equal(JSON.parse(rows[1]!).body.content, 'edited');
      await s.close();
    });

    test('a page that fails to write leaves neither its items nor its cursor', async () => {
      const s = await open();
      await s.upsertPage(page('a', [item(0)], { watermarkMs: null, nextLink: 'https://graph/p2' }));
      const broken = [item(1), { ...item(2), id: undefined as unknown as string }];
      await assert.rejects(s.upsertPage(page('a', broken, { watermarkMs: base + 9000 })));
      assert.deepEqual(await all(s), [`a:${base}`]);
      assert.equal((await s.cursors(T, '')).get('a')!.window?.nextLink, 'https://graph/p2');
      await s.close();
    });

    test('cursors are kept per scope and per tenant', async () => {
      const s = await open();
      await s.upsertPage(page('a', [item(0)], { watermarkMs: 1 }));
      await s.upsertPage({ ...page('a', [item(1)], { watermarkMs: 2 }), scope: 'ipm.skypeteams.message.copilot.teams' });
      await s.upsertPage({ ...page('a', [item(2)], { watermarkMs: 3 }), tenantId: 'other' });
      assert.equal((await s.cursors(T, '')).get('a')!.watermarkMs, 1);
      assert.equal((await s.cursors(T, 'ipm.skypeteams.message.copilot.teams')).get('a')!.watermarkMs, 2);
      assert.equal((await s.cursors('other', '')).get('a')!.watermarkMs, 3);
      assert.equal((await s.stats(T)).interactions, 2);
      assert.equal((await s.stats()).interactions, 3);
      await s.close();
    });

    test('a page without a cursor (watch\'s rich notifications) writes its items and leaves the cursor as it was', async () => {
      const s = await open();
      await s.upsertPage(page('a', [item(0)], { watermarkMs: 7, nextLink: 'https://graph/p3' }));
      assert.deepEqual(await s.upsertPage({ ...page('a', [item(1), item(2)]), cursor: null }), { added: 2, changed: 0 });
      assert.deepEqual(await s.upsertPage({ ...page('b', [item(3)]), cursor: null }), { added: 1, changed: 0 });
      const c = await s.cursors(T, '');
      assert.equal(c.get('a')!.watermarkMs, 7);
      assert.equal(c.get('a')!.window?.nextLink, 'https://graph/p3');
      assert.equal(c.has('b'), false, 'no cursor made for a user only notifications wrote');
      assert.deepEqual(await all(s), [`a:${base}`, `a:${base + 1000}`, `a:${base + 2000}`, `b:${base + 3000}`]);
      await s.close();
    });

    test('runs and per-user outcomes round-trip with Graph\'s ids', async () => {
      const s = await open();
      const run = await s.beginRun(T, 'export', { users: 2 });
      await s.recordOutcome(run, T, { userId: 'a', userPrincipalName: 'a@x.test', outcome: 'exported', interactions: 3, added: 3, pages: 1 });
      await s.recordOutcome(run, T, { userId: 'g', userPrincipalName: 'g@x.test', outcome: 'refused', interactions: 0, added: 0, pages: 0, status: 403, code: 'Forbidden', message: 'UnknownError', requestId: 'req-1', clientRequestId: 'c-1', verdict: 'user.guest' });
      await s.finishRun(run, 'completed', { exported: 3 });
      const [r] = await s.runs(T);
      assert.equal(r!.id, run);
      assert.equal(r!.status, 'completed');
      assert.deepEqual(r!.summary, { exported: 3 });
      const outcomes = await s.outcomes(run);
      assert.deepEqual(outcomes.find((o) => o.userId === 'g'), { userId: 'g', userPrincipalName: 'g@x.test', outcome: 'refused', interactions: 0, added: 0, pages: 0, status: 403, code: 'Forbidden', message: 'UnknownError', requestId: 'req-1', clientRequestId: 'c-1', verdict: 'user.guest' });
      await s.close();
    });

    test('interactions stream in (user, time, id) order across many chunks, with filters', async () => {
      const s = await open();
      const items = Array.from({ length: 2500 }, (_, i) => item(i, i % 3 === 0 ? { appClass: 'IPM.SkypeTeams.Message.Copilot.Teams' } : {}));
      for (let i = 0; i < items.length; i += 100) await s.upsertPage(page(i % 200 === 0 ? 'b' : 'a', items.slice(i, i + 100)));
      const ids = await all(s);
      assert.equal(ids.length, 2500);
      assert.deepEqual(ids, [...ids].sort((x, y) => (x.split(':')[0]! < y.split(':')[0]! ? -1 : x.split(':')[0]! > y.split(':')[0]! ? 1 : Number(x.split(':')[1]) - Number(y.split(':')[1]))));
      assert.equal((await all(s, { userIds: ['b'] })).length, 1300);
      assert.equal((await all(s, { appClasses: ['ipm.skypeteams.message.copilot.teams'] })).length, 834);
      assert.equal((await all(s, { sinceMs: base + 1000 * 1000, untilMs: base + 1000 * 1010 })).length, 10);
      await s.close();
    });

    test('conversations: a session as turns, prompt and responses paired by requestId, a null requestId standing alone', async () => {
      const s = await open();
      await s.upsertPage(page('a', [
        item(0, { sessionId: 'm', requestId: 'x' }), item(1, { sessionId: 'm', requestId: 'x' }), item(2, { sessionId: 'm', requestId: 'x', interactionType: 'aiResponse' }),
        item(3, { sessionId: 'm', requestId: null, interactionType: 'aiResponse' }), item(4, { sessionId: 'n', requestId: 'y' }),
      ]));
      const conversations = [];
      for await (const c of s.conversations({ userIds: ['a'] })) conversations.push(c);
      assert.deepEqual(conversations.map((c) => [c.sessionId, c.turns.map((t) => [t.requestId, t.prompt?.id ?? null, t.responses.map((r) => r.id)])]), [
        ['m', [['x', String(base), [String(base + 1000), String(base + 2000)]], [null, null, [String(base + 3000)]]]],
        ['n', [['y', String(base + 4000), []]]],
      ]);
      await s.close();
    });

    test('users are kept with their names; a later sighting without a name keeps the old one', async () => {
      const s = await open();
      await s.upsertUsers(T, [{ id: 'a', userPrincipalName: 'a@x.test', displayName: 'A' }, { id: 'b' }]);
      await s.upsertUsers(T, [{ id: 'a' }]);
      assert.deepEqual((await s.users(T)).map((u) => [u.id, u.userPrincipalName, u.displayName]).sort(), [['a', 'a@x.test', 'A'], ['b', null, null]]);
      await s.close();
    });

    test('pairTurns: an edited prompt (same requestId again) starts a new turn', () => {
      const turns = pairTurns([item(0, { requestId: 'r' }), item(1, { requestId: 'r' }), item(2, { requestId: 'r' }), item(3, { requestId: 'r' })]);
      assert.deepEqual(turns.map((t) => [t.prompt?.id, t.responses.length]), [[String(base), 1], [String(base + 2000), 1]]);
    });

    test('a store reopened keeps its data and is not migrated twice; a missing store cannot be opened read-only', async () => {
      const path = await impl.target();
      const a = await openStore(path);
      await a.upsertPage(page('a', [item(0)]));
      await a.close();
      const b = await openStore(path);
      assert.equal((await b.stats()).interactions, 1);
      await b.close();
      await assert.rejects(openStore(await impl.missing(), { readonly: true }), /no copilog store/);
    });
  });
}
