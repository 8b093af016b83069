// The emulator's interaction data layer: the seeded generator and the SQLite store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateHistory, generateInteractions } from '../src/emulator/interactions/generator.js';
import { InteractionStore, StoreInputError, type PageQuery } from '../src/emulator/interactions/store.js';
import {
  AI_INTERACTION_PROPERTIES, APP_CLASS_PREFIX, COPILOT_BOT_ID, DEFAULT_APPS, type AiInteraction,
} from '../src/emulator/interactions/model.js';
import { ref } from './support/reference.js';

const TENANT = '6a1f0c2e-5b7d-4e21-9c3a-1d2e3f405162';
const OTHER_TENANT = '0b9e8d7c-6f5a-4b3c-8d2e-1f0a9b8c7d6e';
const USER_A = '11111111-aaaa-4bbb-8ccc-000000000001';
const USER_B = '22222222-aaaa-4bbb-8ccc-000000000002';
const START = new Date('2026-01-05T00:00:00.000Z');
const END = new Date('2026-02-02T00:00:00.000Z');
const SEED = 'scenario-1';

const plan = (count: number, seed = SEED) => ({ seed, count, start: START, end: END });
const history = (userId: string, count: number, seed = SEED, tenantId = TENANT) =>
  generateHistory({ seed, tenantId, userId, count, start: START, end: END });

const ms = (x: AiInteraction): number => Date.parse(x.createdDateTime);
/** Store order: createdDateTime, then id as binary text. */
const cmp = (a: AiInteraction, b: AiInteraction): number => ms(a) - ms(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const isMeeting = (x: AiInteraction): boolean => x.sessionId.startsWith('19:meeting_');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function pageAll(store: InteractionStore, userId: string, q: Omit<PageQuery, 'after'>, tenantId = TENANT): AiInteraction[] {
  const out: AiInteraction[] = [];
  let afterKey: PageQuery['after'];
  for (let guard = 0; guard < 100_000; guard++) {
    const page = store.page(tenantId, userId, { ...q, after: afterKey });
    assert.ok(page.length <= q.limit, 'page larger than limit');
    out.push(...page);
    if (page.length < q.limit) return out;
    const last = page[page.length - 1]!;
    afterKey = { createdMs: ms(last), id: last.id };
  }
  throw new Error('paging did not terminate');
}

/** Property names of a CSDL type in Microsoft's v1.0 metadata. */
function csdlProperties(kind: 'EntityType' | 'ComplexType', name: string): string[] {
  const xml = readFileSync(ref('graph-v1.0-csdl.xml'), 'utf8');
  const open = xml.indexOf(`<${kind} Name="${name}"`);
  assert.ok(open >= 0, `${name} not in CSDL`);
  const close = xml.indexOf(`</${kind}>`, open);
  const block = xml.slice(open, close);
  return [...block.matchAll(/<Property Name="([^"]+)"/g)].map((m) => m[1]!);
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'copilog-interactions-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
let fileSeq = 0;
const dbFile = () => join(dir, `store-${++fileSeq}.sqlite`);

describe('generator', () => {
  const items = history(USER_A, 2000);

  test('every item has exactly the v1.0 aiInteraction properties (checked against the CSDL)', () => {
    const entity = ['id', ...csdlProperties('EntityType', 'aiInteraction')].sort();
    assert.deepEqual([...AI_INTERACTION_PROPERTIES].sort(), entity);
    const sub = {
      attachments: csdlProperties('ComplexType', 'aiInteractionAttachment').sort(),
      links: csdlProperties('ComplexType', 'aiInteractionLink').sort(),
      contexts: csdlProperties('ComplexType', 'aiInteractionContext').sort(),
      mentions: csdlProperties('ComplexType', 'aiInteractionMention').sort(),
    };
    const body = csdlProperties('ComplexType', 'itemBody').sort();
    for (const x of items) {
      assert.deepEqual(Object.keys(x), [...AI_INTERACTION_PROPERTIES]);
      assert.deepEqual(Object.keys(x.body).sort(), body);
      for (const k of ['attachments', 'links', 'contexts', 'mentions'] as const) {
        for (const e of x[k]) assert.deepEqual(Object.keys(e).sort(), sub[k], `${k} of ${x.id}`);
      }
      for (const m of x.mentions) {
        assert.deepEqual(Object.keys(m.mentioned), ['@odata.type', 'user', 'application', 'device', 'conversation', 'tag']);
        assert.equal(m.mentioned['@odata.type'], '#microsoft.graph.aiInteractionMentionedIdentitySet');
        assert.ok(Number.isInteger(m.mentionId));
      }
    }
  });

  test('ids are epoch ms of createdDateTime, equal etag, unique, sorted and inside [start, end)', () => {
    assert.equal(items.length, 2000);
    const ids = new Set<string>();
    for (let i = 0; i < items.length; i++) {
      const x = items[i]!;
      assert.match(x.createdDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(x.id, String(ms(x)));
      assert.equal(x.etag, x.id);
      assert.ok(ms(x) >= START.getTime() && ms(x) < END.getTime(), x.createdDateTime);
      assert.ok(!ids.has(x.id), `duplicate id ${x.id}`);
      ids.add(x.id);
      if (i > 0) assert.ok(cmp(items[i - 1]!, x) < 0, 'not sorted');
      assert.match(x.sessionId, /^19:[A-Za-z0-9_-]+@thread\.v2$/);
      assert.ok(x.requestId === null || GUID.test(x.requestId), String(x.requestId));
      assert.ok(x.appClass.startsWith(APP_CLASS_PREFIX));
      assert.equal(x.locale, 'en-us');
    }
  });

  test('a tiny window still yields unique ids inside it; more items than milliseconds is refused', () => {
    const start = new Date('2026-03-02T10:00:00.000Z');
    const end = new Date(start.getTime() + 400);
    const tiny = generateHistory({ seed: SEED, tenantId: TENANT, userId: USER_A, count: 300, start, end });
    assert.equal(new Set(tiny.map((x) => x.id)).size, 300);
    for (const x of tiny) assert.ok(ms(x) >= start.getTime() && ms(x) < end.getTime());
    assert.throws(() => generateHistory({ seed: SEED, tenantId: TENANT, userId: USER_A, count: 401, start, end }), RangeError);
  });

  test('same seed gives identical output; another seed, user or tenant gives a different one', () => {
    assert.deepEqual(history(USER_A, 500), history(USER_A, 500));
    assert.equal(JSON.stringify(history(USER_A, 500)), JSON.stringify(history(USER_A, 500)));
    const base = history(USER_A, 500);
    for (const other of [history(USER_A, 500, 'scenario-2'), history(USER_B, 500), history(USER_A, 500, SEED, OTHER_TENANT)]) {
      assert.notDeepEqual(other, base);
      const ids = new Set(base.map((x) => x.id));
      // Only shared meeting records may coincide.
      assert.ok(other.filter((x) => ids.has(x.id)).length < 25);
      assert.notDeepEqual(other.map((x) => x.body.content), base.map((x) => x.body.content));
    }
    const now = new Date('2026-02-10T12:00:00.000Z');
    const g = () => generateInteractions({ seed: 'n', tenantId: TENANT, userId: USER_A, count: 20, now });
    assert.deepEqual(g(), g());
    assert.notDeepEqual(generateInteractions({ seed: 'm', tenantId: TENANT, userId: USER_A, count: 20, now }), g());
  });

  test('realistic mix: every app, prompt/response pairs, split answers, links, mentions, identities', () => {
    for (const app of DEFAULT_APPS) {
      assert.ok(items.some((x) => x.appClass === APP_CLASS_PREFIX + app), `no ${app} items`);
    }
    const prompts = new Map<string, AiInteraction>();
    for (const x of items) if (x.interactionType === 'userPrompt') {
      assert.ok(x.requestId, 'prompt without requestId');
      assert.ok(!prompts.has(x.requestId), 'requestId reused by two prompts');
      prompts.set(x.requestId, x);
    }
    const responsesPer = new Map<string, number>();
    for (const x of items) if (x.interactionType === 'aiResponse' && x.requestId !== null) {
      const p = prompts.get(x.requestId);
      assert.ok(p, `response ${x.id} has no prompt`);
      assert.equal(p.sessionId, x.sessionId);
      assert.equal(p.appClass, x.appClass);
      const lag = ms(x) - ms(p);
      assert.ok(lag >= 1000 && lag <= 30_000, `response ${lag} ms after its prompt`);
      responsesPer.set(x.requestId, (responsesPer.get(x.requestId) ?? 0) + 1);
    }
    const answered = [...prompts.keys()].filter((r) => responsesPer.has(r)).length;
    assert.ok(answered >= prompts.size - 1, `${prompts.size - answered} unanswered prompts`);
    assert.ok([...responsesPer.values()].filter((n) => n === 2).length >= 10, 'no answers split over two aiResponse items');
    assert.ok([...responsesPer.values()].every((n) => n <= 2));

    const linkTypes = new Set(items.flatMap((x) => x.links.map((l) => l.linkType)));
    assert.deepEqual([...linkTypes].sort(), ['Event', 'File', 'Meeting']);
    const withMentions = items.filter((x) => x.mentions.length > 0);
    assert.ok(withMentions.length >= 10);
    for (const x of withMentions) {
      assert.equal(x.interactionType, 'userPrompt');
      assert.ok(x.body.content.includes(x.mentions[0]!.mentionText));
      assert.equal(x.mentions[0]!.mentioned.user?.tenantId, TENANT);
    }

    for (const x of items) {
      assert.equal(x.from['@odata.type'], '#microsoft.graph.chatMessageFromIdentitySet');
      assert.equal(x.from.device, null);
      if (x.interactionType === 'userPrompt') {
        assert.equal(x.from.application, null);
        assert.deepEqual(x.from.user, {
          '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: USER_A, displayName: `8:orgid:${USER_A}`,
          userIdentityType: 'aadUser', tenantId: TENANT,
        });
      } else {
        assert.equal(x.from.user, null);
        const expected = x.appClass.endsWith('.Teams') ? 'Copilot in Teams' : 'Microsoft 365 Chat';
        assert.deepEqual(x.from.application, {
          '@odata.type': '#microsoft.graph.teamworkApplicationIdentity', id: COPILOT_BOT_ID, displayName: expected,
          applicationIdentityType: 'bot',
        });
      }
    }
  });

  test('BizChat answers: html body pointing at an adaptive card whose content parses as JSON', () => {
    const answers = items.filter((x) => x.appClass.endsWith('.BizChat') && x.interactionType === 'aiResponse');
    assert.ok(answers.length > 100);
    for (const x of answers) {
      assert.equal(x.conversationType, 'bizchat');
      assert.equal(x.body.contentType, 'html');
      const m = /^<attachment id="([^"]+)"><\/attachment>$/.exec(x.body.content);
      assert.ok(m, x.body.content);
      const card = x.attachments.find((a) => a.attachmentId === m[1]);
      assert.ok(card, 'no attachment for the body reference');
      assert.equal(card.contentType, 'application/vnd.microsoft.card.adaptive');
      const parsed = JSON.parse(card.content!);
      assert.equal(parsed.type, 'AdaptiveCard');
      assert.ok(parsed.body.length > 0 && parsed.body.every((b: { text: string }) => b.text.length > 0));
    }
    for (const x of items) if (x.appClass.endsWith('.BizChat') && x.interactionType === 'userPrompt') {
      assert.equal(x.body.contentType, 'text');
      assert.ok(x.body.content.length > 5);
    }
  });

  test('Teams meeting items follow Microsoft’s Teams-meeting example; recaps are the observed requestId-null variant', () => {
    const meeting = items.filter(isMeeting);
    assert.ok(meeting.length >= 30, `${meeting.length} meeting items`);
    let emptyContext = 0;
    let recaps = 0;
    let turns = 0;
    for (const x of meeting) {
      assert.equal(x.appClass, `${APP_CLASS_PREFIX}Teams`);
      // Microsoft's example: conversationType appchat for a meeting item (recaps included).
      assert.equal(x.conversationType, 'appchat');
      const threadUrl = `https://microsoft.teams.com/threads/${x.sessionId}`;
      if (x.requestId === null) {
        // The recap: an aiResponse shared by the attendees, pointing at the meeting recap.
        recaps++;
        assert.equal(x.interactionType, 'aiResponse');
        const ref = x.attachments.find((a) => a.contentType === 'reference');
        assert.ok(ref?.contentUrl?.startsWith('https://teams.microsoft.com/l/meetingrecap?'), 'no recap reference');
      } else {
        // A prompt/response pair during the meeting: Example 1 of getAllEnterpriseInteractions.
        turns++;
        assert.match(x.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.equal(x.body.contentType, 'text');
        assert.ok(x.body.content.endsWith(`<attachment id="${x.sessionId}"></attachment>`), x.body.content);
        assert.ok(x.body.content.length > `<attachment id="${x.sessionId}"></attachment>`.length, 'text before the marker');
        assert.deepEqual(x.attachments, [{ attachmentId: x.sessionId, content: null, contentType: 'reference', contentUrl: threadUrl, name: 'Teams Meeting Copilot' }]);
      }
      if (x.contexts.length === 0) {
        assert.equal(x.interactionType, 'aiResponse', 'a meeting prompt without context');
        emptyContext++;
        continue;
      }
      assert.deepEqual(x.contexts, [{ contextReference: threadUrl, contextType: 'TeamsMeeting', displayName: 'Teams Meeting Copilot' }]);
    }
    assert.ok(recaps > 0 && turns > 0, `${recaps} recaps, ${turns} meeting turns`);
    // Each meeting prompt has a response with the same requestId.
    const prompts = meeting.filter((x) => x.interactionType === 'userPrompt');
    for (const p of prompts) assert.ok(meeting.some((r) => r.interactionType === 'aiResponse' && r.requestId === p.requestId), 'a meeting prompt without its response');
    assert.ok(emptyContext > 0, 'no meeting aiResponse with empty contexts');
    assert.ok(emptyContext < meeting.filter((x) => x.interactionType === 'aiResponse').length / 2);
  });

  test('activity is concentrated in weekday working hours (UTC)', () => {
    const working = items.filter((x) => {
      const d = new Date(x.createdDateTime);
      return d.getUTCDay() >= 1 && d.getUTCDay() <= 5 && d.getUTCHours() >= 7 && d.getUTCHours() < 21;
    });
    assert.ok(working.length / items.length > 0.75, `${working.length} of ${items.length}`);
  });

  test('generateInteractions: newest at now, ids strictly increasing and above afterMs', () => {
    const now = new Date('2026-02-10T12:00:00.000Z');
    const fresh = generateInteractions({ seed: 'n', tenantId: TENANT, userId: USER_A, count: 40, now });
    assert.equal(fresh.length, 40);
    assert.equal(fresh[fresh.length - 1]!.createdDateTime, now.toISOString());
    assert.ok(ms(fresh[0]!) > now.getTime() - 6 * 3600_000);
    for (let i = 1; i < fresh.length; i++) assert.ok(ms(fresh[i]!) > ms(fresh[i - 1]!));
    for (const x of fresh) assert.equal(x.id, String(ms(x)));
    const afterMs = now.getTime() + 5000; // the user's newest item is in the future
    const late = generateInteractions({ seed: 'n', tenantId: TENANT, userId: USER_A, count: 10, now, afterMs });
    assert.ok(ms(late[0]!) > afterMs);
    for (let i = 1; i < late.length; i++) assert.ok(Number(late[i]!.id) > Number(late[i - 1]!.id));
  });
});

describe('shared meetings', () => {
  test('attendees of the same meeting slot hold an identical record, stored once per user', () => {
    const a = history(USER_A, 2000);
    const b = history(USER_B, 2000);
    const byIdB = new Map(b.map((x) => [x.id, x]));
    const shared = a.filter((x) => byIdB.has(x.id));
    assert.ok(shared.length >= 2, `${shared.length} shared records`);
    for (const x of shared) {
      assert.ok(isMeeting(x) && x.interactionType === 'aiResponse', `non-meeting id collision ${x.id}`);
      assert.deepEqual(byIdB.get(x.id), x);
    }
    const store = new InteractionStore(dbFile());
    try {
      store.ensureUser(TENANT, USER_A, plan(2000));
      store.ensureUser(TENANT, USER_B, plan(2000));
      assert.equal(store.count(TENANT), 4000);
      assert.equal(store.count(TENANT, USER_A), 2000);
      assert.equal(store.count(TENANT, USER_B), 2000);
      const one = shared[0]!;
      const q = { fromMs: ms(one), fromInclusive: true, toMs: ms(one), toInclusive: true, limit: 10 };
      assert.deepEqual(store.page(TENANT, USER_A, q), [one]);
      assert.deepEqual(store.page(TENANT, USER_B, q), [one]);
      const streamed = [...store.stream(TENANT)].filter((r) => r.interaction.id === one.id).map((r) => r.userId);
      assert.deepEqual(streamed, [USER_A, USER_B]);
    } finally {
      store.close();
    }
  });
});

describe('store paging', () => {
  for (const where of [':memory:', 'file'] as const) {
    test(`keyset paging over 1,500 items returns each exactly once, in order (${where})`, () => {
      const store = new InteractionStore(where === 'file' ? dbFile() : ':memory:');
      try {
        const expected = history(USER_A, 1500);
        assert.equal(store.ensureUser(TENANT, USER_A, plan(1500)), true);
        store.ensureUser(TENANT, USER_B, plan(300)); // a neighbour in the same index range
        for (const limit of [1, 7, 100, 499, 1500, 5000]) {
          const got = pageAll(store, USER_A, { limit });
          assert.equal(got.length, 1500, `limit ${limit}`);
          assert.deepEqual(got, expected, `limit ${limit}`);
        }
      } finally {
        store.close();
      }
    });
  }

  test('date bounds (inclusive and exclusive) and appClass filters match a brute-force filter', () => {
    const store = new InteractionStore(':memory:');
    try {
      const all = history(USER_A, 1500);
      store.ensureUser(TENANT, USER_A, plan(1500));
      const from = ms(all[200]!), to = ms(all[1200]!);
      const classSets: (string[] | undefined)[] = [
        undefined,
        [`${APP_CLASS_PREFIX}BizChat`.toLowerCase()],
        [`${APP_CLASS_PREFIX}Teams`.toUpperCase(), `${APP_CLASS_PREFIX}Word`],
        ['IPM.SkypeTeams.Message.Copilot.NoSuchApp'],
      ];
      let checked = 0;
      for (const fromInclusive of [false, true]) for (const toInclusive of [false, true]) for (const appClasses of classSets) {
        for (const bounds of [{ fromMs: from, toMs: to }, { fromMs: from }, { toMs: to }]) {
          const q = { ...bounds, fromInclusive, toInclusive, appClasses, limit: 37 };
          const wanted = new Set(appClasses?.map((c) => c.toLowerCase()));
          const expected = all.filter((x) =>
            (bounds.fromMs === undefined || (fromInclusive ? ms(x) >= from : ms(x) > from))
            && (bounds.toMs === undefined || (toInclusive ? ms(x) <= to : ms(x) < to))
            && (appClasses === undefined || wanted.has(x.appClass.toLowerCase())));
          assert.deepEqual(pageAll(store, USER_A, q), expected, JSON.stringify(q));
          checked += expected.length;
        }
      }
      assert.ok(checked > 5000);
      // The inclusive flags matter at the boundary items.
      const ge = store.page(TENANT, USER_A, { fromMs: from, fromInclusive: true, limit: 1 });
      const gt = store.page(TENANT, USER_A, { fromMs: from, limit: 1 });
      assert.equal(ge[0]!.id, all[200]!.id);
      assert.equal(gt[0]!.id, all[201]!.id);
    } finally {
      store.close();
    }
  });

  test('paging stays exact while items are ingested between pages', () => {
    const store = new InteractionStore(dbFile());
    try {
      store.ensureUser(TENANT, USER_A, plan(1500));
      const original = history(USER_A, 1500);
      const got: AiInteraction[] = [];
      const behindCursor = new Set<string>();
      const aheadOfCursor = new Set<string>();
      let afterKey: PageQuery['after'];
      for (let i = 0; ; i++) {
        const page = store.page(TENANT, USER_A, { limit: 100, after: afterKey });
        got.push(...page);
        if (page.length < 100) break;
        const last = page[page.length - 1]!;
        afterKey = { createdMs: ms(last), id: last.id };
        // New items at the end of the history (after every existing one).
        for (const x of store.ingest(TENANT, USER_A, { count: 3, seed: `live-${i}` }, END)) aheadOfCursor.add(x.id);
        // Backfilled items: one just behind the cursor (never seen), one just ahead (seen).
        const [behind] = store.ingest(TENANT, USER_A, [{ createdDateTime: new Date(afterKey.createdMs - 1).toISOString() }], END);
        behindCursor.add(behind!.id);
        const [ahead] = store.ingest(TENANT, USER_A, [{ createdDateTime: new Date(afterKey.createdMs + 1).toISOString(), interactionType: 'aiResponse' }], END);
        if (cmp(ahead!, last) > 0) aheadOfCursor.add(ahead!.id);
      }
      for (let i = 1; i < got.length; i++) assert.ok(cmp(got[i - 1]!, got[i]!) < 0, 'out of order or repeated');
      const ids = new Set(got.map((x) => x.id));
      for (const x of original) assert.ok(ids.has(x.id), `missed original ${x.id}`);
      for (const id of aheadOfCursor) assert.ok(ids.has(id), `missed ingested ${id}`);
      for (const id of behindCursor) assert.ok(!ids.has(id), `saw an item written behind the cursor ${id}`);
      assert.equal(got.length, store.count(TENANT, USER_A) - behindCursor.size);
      assert.ok(aheadOfCursor.size > 50);
    } finally {
      store.close();
    }
  });

  test('ids that tie on createdDateTime are ordered as binary text, exactly once', () => {
    const store = new InteractionStore(':memory:');
    try {
      const at = '2026-01-10T09:00:00.000Z';
      const ids = ['b', 'a', 'B', '1767999999999', 'a0'];
      store.ingest(TENANT, USER_A, ids.map((id) => ({ id, createdDateTime: at })), new Date(at));
      store.ingest(TENANT, USER_A, [{ createdDateTime: '2026-01-10T08:59:59.999Z' }, { createdDateTime: '2026-01-10T09:00:00.001Z' }], new Date(at));
      const got = pageAll(store, USER_A, { limit: 1 });
      assert.deepEqual(got.map((x) => x.id), ['1768035599999', '1767999999999', 'B', 'a', 'a0', 'b', '1768035600001']);
      assert.deepEqual(pageAll(store, USER_A, { limit: 2 }), got);
    } finally {
      store.close();
    }
  });

  test('page queries use the (tenant, user, created_ms, id) index without a sort', () => {
    const store = new InteractionStore(':memory:');
    try {
      store.ensureUser(TENANT, USER_A, plan(200));
      const shapes: PageQuery[] = [
        { limit: 100 },
        { limit: 100, after: { createdMs: START.getTime(), id: '0' } },
        { limit: 100, fromMs: START.getTime(), toMs: END.getTime(), appClasses: ['a', 'b'] },
        { limit: 100, fromMs: START.getTime(), fromInclusive: true, toMs: END.getTime(), toInclusive: true, after: { createdMs: 1, id: '1' } },
      ];
      for (const q of shapes) {
        const plan = store.explainPage(TENANT, USER_A, q).join(' | ');
        assert.match(plan, /USING (COVERING )?INDEX interactions_by_time \(tenant_id=\? AND user_id=\?/, plan);
        assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
      }
    } finally {
      store.close();
    }
  });

  test('page rejects a bad limit', () => {
    const store = new InteractionStore(':memory:');
    try {
      for (const limit of [0, -1, 1.5, Number.NaN, 10_001]) {
        assert.throws(() => store.page(TENANT, USER_A, { limit }), (e: unknown) => e instanceof StoreInputError && e.field === 'limit');
      }
    } finally {
      store.close();
    }
  });
});

describe('store ingest', () => {
  const now = new Date('2026-02-10T12:00:00.000Z');

  test('explicit items get realistic defaults and are returned as stored', () => {
    const store = new InteractionStore(':memory:');
    try {
      const stored = store.ingest(TENANT, USER_A, [
        { body: { contentType: 'text', content: 'Summarise my unread mail' } },
        { interactionType: 'aiResponse' },
        { appClass: 'Word', createdDateTime: '2026-02-10T14:00:00.5+02:00', interactionType: 'userPrompt' },
      ], now);
      const [prompt, answer, word] = stored as [AiInteraction, AiInteraction, AiInteraction];
      for (const x of stored) assert.deepEqual(Object.keys(x), [...AI_INTERACTION_PROPERTIES]);
      assert.equal(prompt.createdDateTime, now.toISOString());
      assert.equal(prompt.id, String(now.getTime()));
      assert.equal(prompt.etag, prompt.id);
      assert.equal(answer.createdDateTime, new Date(now.getTime() + 1).toISOString(), 'collision not bumped by 1 ms');
      assert.equal(answer.id, String(now.getTime() + 1));
      assert.equal(word.createdDateTime, '2026-02-10T12:00:00.500Z');
      assert.equal(word.appClass, `${APP_CLASS_PREFIX}Word`);
      assert.equal(word.conversationType, 'appchat');
      assert.equal(prompt.appClass, `${APP_CLASS_PREFIX}BizChat`);
      assert.equal(prompt.conversationType, 'bizchat');
      assert.equal(prompt.body.content, 'Summarise my unread mail');
      assert.deepEqual(prompt.from.user, {
        '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: USER_A, displayName: `8:orgid:${USER_A}`,
        userIdentityType: 'aadUser', tenantId: TENANT,
      });
      assert.equal(answer.from.user, null);
      assert.equal(answer.from.application?.id, COPILOT_BOT_ID);
      assert.match(prompt.sessionId, /^19:[0-9a-f]{32}@thread\.v2$/);
      assert.equal(answer.sessionId, prompt.sessionId);
      assert.match(prompt.requestId!, GUID);
      assert.equal(answer.requestId, prompt.requestId, 'response not paired with the prompt');
      // A BizChat answer without a body gets the adaptive-card form.
      assert.match(answer.body.content, /^<attachment id="[^"]+"><\/attachment>$/);
      assert.equal(JSON.parse(answer.attachments[0]!.content!).type, 'AdaptiveCard');
      assert.deepEqual(store.page(TENANT, USER_A, { limit: 10 }), [...stored].sort(cmp));
      // The from identity is filled from the user and tenant when partly given.
      const [partial] = store.ingest(TENANT, USER_B, [{ from: { user: {} } as never }], now);
      assert.equal(partial!.from.user?.id, USER_B);
      assert.equal(partial!.from.user?.tenantId, TENANT);
      assert.equal(partial!.from.user?.displayName, `8:orgid:${USER_B}`);
    } finally {
      store.close();
    }
  });

  test('invalid items are refused with the field named, and nothing is stored', () => {
    const store = new InteractionStore(':memory:');
    try {
      store.ingest(TENANT, USER_A, [{ id: 'existing' }], now);
      const cases: [unknown, string, RegExp][] = [
        [[{}, {}, { interactionType: 'question' }], 'interactions[2].interactionType', /^interactions\[2\]\.interactionType must be 'userPrompt' or 'aiResponse'$/],
        [[{ createdDateTime: 'yesterday' }], 'interactions[0].createdDateTime', /ISO 8601/],
        [[{ createdDateTime: '2026-01-01T10:00:00' }], 'interactions[0].createdDateTime', /time zone/],
        [[{}, { body: { contentType: 'markdown', content: 'x' } }], 'interactions[1].body.contentType', /'text' or 'html'/],
        [[{ body: { content: 'x', messageBodyContentType: 'text' } }], 'interactions[0].body.messageBodyContentType', /not a property of itemBody/],
        [[{ attachments: [{ name: 'a.docx' }] }], 'interactions[0].attachments[0].contentType', /non-empty string/],
        [[{ mentions: [{ mentionId: 1.5 }] }], 'interactions[0].mentions[0].mentionId', /32-bit integer/],
        [[{ links: 'https://example.invalid' }], 'interactions[0].links', /must be an array/],
        [[{ contexts: [{ displayName: 'x' }] }], 'interactions[0].contexts[0].contextType', /non-empty string/],
        [[{ colour: 'red' }], 'interactions[0].colour', /is not a property of aiInteraction/],
        [[{ from: { device: {} } }], 'interactions[0].from.device', /must be null/],
        [[{ from: { user: null, application: null } }], 'interactions[0].from', /user or an application/],
        [[{ requestId: 7 }], 'interactions[0].requestId', /string or null/],
        [[{ id: '' }], 'interactions[0].id', /printable ASCII/],
        [[{ id: 'x' }, { id: 'x' }], 'interactions[1].id', /already exists/],
        [[{}, { id: 'existing' }], 'interactions[1].id', /already exists/],
        [['prompt'], 'interactions[0]', /must be an object/],
        [{ count: 0, seed: 's' }, 'count', /count must be an integer/],
        [{ count: 5 }, 'seed', /seed must be a string/],
      ];
      for (const [input, field, message] of cases) {
        assert.throws(
          () => store.ingest(TENANT, USER_A, input as never, now),
          (e: unknown) => {
            assert.ok(e instanceof StoreInputError, `${field}: ${String(e)}`);
            assert.equal(e.field, field);
            assert.match(e.message, message);
            assert.ok(e.message.startsWith(field), e.message);
            return true;
          },
        );
        assert.equal(store.count(TENANT, USER_A), 1, `${field}: something was stored`);
      }
    } finally {
      store.close();
    }
  });

  test('generated ingestion: strictly increasing ids above every existing one, deterministic', () => {
    const store = new InteractionStore(':memory:');
    const again = new InteractionStore(':memory:');
    try {
      store.ensureUser(TENANT, USER_A, plan(300));
      again.ensureUser(TENANT, USER_A, plan(300));
      const maxBefore = Math.max(...history(USER_A, 300).map(ms));
      // now is before the newest existing item: ids must still go up.
      const early = store.ingest(TENANT, USER_A, { count: 12, seed: 'x' }, START);
      assert.equal(early.length, 12);
      let prev = maxBefore;
      for (const x of early) {
        assert.ok(ms(x) > prev, `${x.id} not above ${prev}`);
        assert.equal(x.id, String(ms(x)));
        prev = ms(x);
      }
      const later = new Date('2026-03-01T09:30:00.000Z');
      const fresh = store.ingest(TENANT, USER_A, { count: 12, seed: 'y' }, later);
      assert.equal(fresh[fresh.length - 1]!.createdDateTime, later.toISOString());
      assert.ok(ms(fresh[0]!) > ms(early[early.length - 1]!));
      assert.equal(store.count(TENANT, USER_A), 324);
      assert.deepEqual(again.ingest(TENANT, USER_A, { count: 12, seed: 'x' }, START), early);
      assert.deepEqual(pageAll(store, USER_A, { limit: 50 }).slice(-24), [...early, ...fresh]);
    } finally {
      store.close();
      again.close();
    }
  });
});

describe('store lifecycle', () => {
  test('a file store survives reopening without regenerating', () => {
    const path = dbFile();
    const first = new InteractionStore(path);
    assert.equal(first.ensureUser(TENANT, USER_A, plan(300)), true);
    first.ingest(TENANT, USER_A, [{ body: { contentType: 'text', content: 'What did I miss in the Sales team channel?' } }], END);
    const before = [...first.stream(TENANT)].map((r) => r.interaction);
    first.close();
    assert.equal(new Database(path, { readonly: true }).pragma('journal_mode', { simple: true }), 'wal');

    const second = new InteractionStore(path);
    try {
      assert.ok(second.isMaterialised(TENANT, USER_A));
      // A different plan would generate different items: it must be ignored.
      assert.equal(second.ensureUser(TENANT, USER_A, plan(50, 'another-seed')), false);
      assert.equal(second.count(TENANT, USER_A), 301);
      assert.deepEqual([...second.stream(TENANT)].map((r) => r.interaction), before);
      assert.equal(second.isMaterialised(TENANT, USER_B), false);
    } finally {
      second.close();
    }
  });

  test('users are materialised lazily, one at a time', () => {
    const store = new InteractionStore(dbFile());
    try {
      assert.equal(store.count(TENANT), 0);
      assert.equal(store.ensureUser(TENANT, USER_B, plan(500)), true);
      assert.equal(store.isMaterialised(TENANT, USER_A), false);
      assert.equal(store.count(TENANT, USER_A), 0);
      assert.equal(store.count(TENANT, USER_B), 500);
      assert.equal(store.count(TENANT), 500);
      assert.deepEqual(store.page(TENANT, USER_A, { limit: 10 }), []);
      assert.equal(store.ensureUser(TENANT, USER_B, plan(500)), false);
      assert.equal(store.count(TENANT), 500);
    } finally {
      store.close();
    }
  });

  test('stream walks (user, createdDateTime, id) in chunks and leaves the connection usable', () => {
    const store = new InteractionStore(':memory:');
    try {
      store.ensureUser(TENANT, USER_B, plan(700));
      store.ensureUser(TENANT, USER_A, plan(800));
      store.ensureUser(OTHER_TENANT, USER_A, plan(50));
      const rows: { userId: string; interaction: AiInteraction }[] = [];
      let n = 0;
      for (const r of store.stream(TENANT)) {
        rows.push(r);
        // Reads and writes while a stream is open (a naive .iterate() would make this throw).
        if (++n % 250 === 0) {
          assert.equal(store.count(OTHER_TENANT, USER_A), 50);
          store.ingest(OTHER_TENANT, USER_B, [{}], END);
        }
      }
      assert.equal(rows.length, 1500);
      assert.deepEqual(rows.map((r) => r.userId), [...Array(800).fill(USER_A), ...Array(700).fill(USER_B)]);
      assert.deepEqual(rows.slice(0, 800).map((r) => r.interaction), history(USER_A, 800));
      assert.deepEqual(rows.slice(800).map((r) => r.interaction), history(USER_B, 700));
      assert.deepEqual([...store.stream(TENANT, USER_B)].map((r) => r.interaction), history(USER_B, 700));
      assert.equal(store.count(OTHER_TENANT), 56);
    } finally {
      store.close();
    }
  });

  test('reset forgets one tenant (which then regenerates lazily) or everything', () => {
    const store = new InteractionStore(':memory:');
    try {
      store.ensureUser(TENANT, USER_A, plan(100));
      store.ensureUser(OTHER_TENANT, USER_A, plan(100));
      store.reset(TENANT);
      assert.equal(store.count(TENANT), 0);
      assert.equal(store.isMaterialised(TENANT, USER_A), false);
      assert.equal(store.count(OTHER_TENANT), 100);
      assert.equal(store.ensureUser(TENANT, USER_A, plan(100)), true);
      assert.deepEqual(store.page(TENANT, USER_A, { limit: 1000 }), history(USER_A, 100));
      store.reset();
      assert.equal(store.count(TENANT) + store.count(OTHER_TENANT), 0);
      assert.equal(store.isMaterialised(OTHER_TENANT, USER_A), false);
    } finally {
      store.close();
    }
  });
});
