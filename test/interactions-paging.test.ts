// Acceptance tests for paging getAllEnterpriseInteractions: every interaction exactly once and in
// order, over large histories (demo: joni.sherman 1,200, nora.park 2,500), in small and large
// pages, with and without $filter, while new interactions are ingested between pages; the
// $skiptoken format and its refusals; the ingestion control API; the tenant-wide form.
// Reference: graph-facts.md §5 (paging, skiptoken), §12 #16–#18.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCollectionResponse, validateEntity } from './support/csdl.js';
import type { TestEmulator } from './support/emulator.js';
import { APP_CLASS_PREFIX, exportPath, getPage, qs, startDemo, type Page, type Truth } from './support/interactions.js';

const PREFIX = APP_CLASS_PREFIX;


let emu: TestEmulator;
let tid: string;
let token: string;
const users: Record<string, string> = {};

const path = exportPath;
const q = qs;

const get = (url: string): Promise<Page> => getPage(emu, url, token);

async function truth(user?: string): Promise<Truth[]> {
  const r = await emu.fetch(`/_emulator/tenants/${tid}/interactions${user ? `?user=${user}` : ''}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /ndjson/);
  return (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function ingest(user: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await emu.fetch(`/_emulator/tenants/${tid}/users/${user}/interactions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

const ms = (i: any) => Date.parse(i.createdDateTime);
const skipText = (nextLink: string) => Buffer.from(new URL(nextLink).searchParams.get('$skiptoken')!, 'base64').toString('utf8');
const withSkiptoken = (nextLink: string, token: string) => {
  const u = new URL(nextLink);
  u.searchParams.set('$skiptoken', token);
  return u.toString();
};

function assertBadRequest(p: Page, code = 'invalidRequest'): void {
  assert.equal(p.status, 400, JSON.stringify(p.body));
  assert.equal(p.body.error.code, code);
  assert.deepEqual(Object.keys(p.body.error.innerError).sort(), ['client-request-id', 'date', 'request-id']);
}

before(async () => {
  let demoUsers: Record<string, string>;
  ({ emu, tid, users: demoUsers, token } = await startDemo());
  Object.assign(users, demoUsers);
});
after(async () => emu?.close());

describe('every interaction exactly once, while new ones arrive', () => {
  afterEach(() => emu.control('/reset', 'POST'));

  /**
   * Page through `user` following nextLink verbatim, ingesting `perIngest` new interactions every
   * `every` pages. Returns the ids in the order received plus what was ingested.
   */
  async function walk(user: string, query: string, every: number, perIngest: number | (() => object)) {
    const ids: string[] = [];
    const ingested: any[] = [];
    let pages = 0;
    let next: string | undefined = path(user, query);
    let top: string | null = new URLSearchParams(query).get('$top');
    const filter = new URLSearchParams(query).get('$filter');
    while (next) {
      const p = await get(next);
      assert.equal(p.status, 200, `${next} → ${JSON.stringify(p.body)}`);
      pages++;
      if (top) assert.ok(p.body.value.length <= Number(top));
      assert.equal(p.body['@odata.count'], p.body.value.length);
      ids.push(...p.body.value.map((i: any) => i.id));
      next = p.body['@odata.nextLink'];
      if (next) {
        // The nextLink keeps the caller's $filter and $top.
        const u = new URL(next);
        assert.equal(u.searchParams.get('$filter'), filter);
        assert.equal(u.searchParams.get('$top'), top);
      }
      if (next && pages % every === 0) {
        const r = await ingest(user, typeof perIngest === 'number' ? { count: perIngest } : perIngest());
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ingested.push(...r.body.created);
      }
    }
    return { ids, ingested, pages };
  }

  const cases: [string, number][] = [['joni.sherman', 10], ['joni.sherman', 100], ['nora.park', 10], ['nora.park', 100]];
  for (const [name, top] of cases) {
    test(`${name}, $top=${top}, no filter`, async () => {
      const user = users[name]!;
      const before = await truth(user);
      assert.ok(before.length >= 1200);
      const { ids, ingested, pages } = await walk(user, `$top=${top}`, top === 10 ? 17 : 3, 4);
      const after = (await truth(user)).map((r) => r.interaction.id);
      assert.ok(ingested.length >= 4, 'interactions were ingested while paging');
      assert.equal(after.length, before.length + ingested.length);
      assert.equal(new Set(ids).size, ids.length, 'no interaction twice');
      assert.deepEqual(ids, after, 'every interaction once, in ground-truth order, including those ingested mid-way');
      assert.ok(pages >= Math.ceil(after.length / top));
    });

    test(`${name}, $top=${top}, with a createdDateTime window and an appClass choice`, async () => {
      const user = users[name]!;
      const all = (await truth(user)).map((r) => r.interaction);
      const from = new Date(ms(all[Math.floor(all.length / 5)]));
      // The upper bound is in the future so interactions ingested while paging fall inside it.
      const to = new Date(Date.now() + 86_400_000);
      const apps = [`${PREFIX}BizChat`, `${PREFIX}Teams`, `${PREFIX}Word`];
      const filter = `createdDateTime gt ${from.toISOString()} and createdDateTime lt ${to.toISOString()} and (${apps.map((a) => `appClass eq '${a}'`).join(' or ')})`;
      // Ingested mid-way: each batch holds apps inside and outside the filter (random app classes
      // could all fall outside it and leave the filter's paging of new items untested).
      const batch = () => ({ interactions: [...apps, `${PREFIX}Excel`, `${PREFIX}PowerPoint`, `${PREFIX}Teams`].map((appClass) => ({ appClass })) });
      const { ids, ingested } = await walk(user, q({ $filter: filter, $top: String(top) }), top === 10 ? 11 : 2, batch);
      const expected = (await truth(user)).map((r) => r.interaction).filter((i) => ms(i) > from.getTime() && ms(i) < to.getTime() && apps.includes(i.appClass));
      assert.ok(expected.length > 300, `${expected.length} expected`);
      assert.ok(ingested.some((i) => apps.includes(i.appClass)), 'some ingested interactions match the filter');
      assert.equal(new Set(ids).size, ids.length, 'no interaction twice');
      assert.deepEqual(ids, expected.map((i) => i.id));
    });
  }

  test('pages can end on explicitly ingested ids of any printable form (letters, #, ., =, spaces excluded)', async () => {
    const user = users['alex.wilber']!;
    const ids = ['alpha', 'beta#1', 'gamma.2', 'delta=3', 'Eps/4', '#Sig=x', 'z.9.9'];
    const at = '2026-01-07T12:00:00.000Z';
    const r = await ingest(user, { interactions: ids.map((id) => ({ id, createdDateTime: at })) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const filter = 'createdDateTime ge 2026-01-07T12:00:00Z and createdDateTime le 2026-01-07T12:00:00Z';
    const seen: string[] = [];
    let next: string | undefined = path(user, q({ $filter: filter, $top: '1' }));
    while (next) {
      const p = await get(next);
      assert.equal(p.status, 200, `after ${seen.join(' ')}: ${JSON.stringify(p.body)}`);
      seen.push(...p.body.value.map((i: any) => i.id));
      next = p.body['@odata.nextLink'];
    }
    assert.deepEqual(seen, [...ids].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1)));
  });

  test('pages are in createdDateTime then id order, without gaps between pages', async () => {
    const user = users['joni.sherman']!;
    let next: string | undefined = path(user, '$top=50');
    let last: any;
    while (next) {
      const p = await get(next);
      for (const i of p.body.value) {
        if (last) assert.ok(ms(last) < ms(i) || (ms(last) === ms(i) && last.id < i.id), `${last.id} then ${i.id}`);
        last = i;
      }
      next = p.body['@odata.nextLink'];
    }
  });
});

describe('$skiptoken', () => {
  const filter = 'createdDateTime gt 2020-01-01T00:00:00Z and createdDateTime lt 2100-01-01T00:00:00Z';

  test('is opaque base64 of SkipValue=N#MailboxFolder=…, appended to a nextLink that keeps $filter and $top', async () => {
    const user = users['joni.sherman']!;
    const first = await get(path(user, q({ $filter: filter, $top: '25' })));
    const link = first.body['@odata.nextLink'];
    const u = new URL(link);
    assert.equal(u.origin, new URL(emu.url).origin);
    assert.equal(u.pathname, `/v1.0/copilot/users/${user}/interactionHistory/getAllEnterpriseInteractions`);
    assert.equal(u.searchParams.get('$filter'), filter);
    assert.equal(u.searchParams.get('$top'), '25');
    // Option names keep their literal '$', as Graph writes them; the filter's spaces are encoded.
    assert.match(link, /\?\$filter=createdDateTime%20gt%20.*&\$top=25&\$skiptoken=/);
    const raw = u.searchParams.get('$skiptoken')!;
    assert.match(raw, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.match(skipText(link), /^SkipValue=25#MailboxFolder=MailFolders\/\w+/);
    const second = await get(link);
    assert.equal(second.status, 200);
    assert.match(skipText(second.body['@odata.nextLink']), /^SkipValue=50#MailboxFolder=/);
  });

  test('a tampered skiptoken gets a clean 400', async () => {
    const user = users['joni.sherman']!;
    const link = (await get(path(user, '$top=10'))).body['@odata.nextLink'];
    const text = skipText(link);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const tampered = [
      b64(text.replace(/^SkipValue=10/, 'SkipValue=20')),
      b64(text.replace(/MailboxFolder=[^#]+/, 'MailboxFolder=MailFolders/TeamChat')),
      b64(text.replace(/(\d)(#Sig)/, (_m, d: string, s: string) => `${(Number(d) + 1) % 10}${s}`)),
      b64(text.replace(/#Sig=.*$/, '')),
      b64(text.replace(/Sig=(.)/, (_m, c: string) => `Sig=${c === 'A' ? 'B' : 'A'}`)),
      b64('SkipValue=10#MailboxFolder=MailFolders/TeamsMessagesData'),
      new URL(link).searchParams.get('$skiptoken')!.slice(0, -6),
      'not base64 at all!',
      '',
      '%%%',
    ];
    for (const t of tampered) {
      const p = await get(withSkiptoken(link, t));
      assertBadRequest(p);
      assert.match(p.body.error.message, /skiptoken/i);
    }
    assert.equal((await get(link)).status, 200, 'the untouched nextLink still works');
  });

  test("a skiptoken from another user's, another filter's or another $top's nextLink gets a 400", async () => {
    const joni = users['joni.sherman']!;
    const nora = users['nora.park']!;
    const joniLink = (await get(path(joni, q({ $top: '10' })))).body['@odata.nextLink'];
    const token = new URL(joniLink).searchParams.get('$skiptoken')!;
    // another user
    assertBadRequest(await get(path(nora, q({ $top: '10', $skiptoken: token }))));
    // another filter
    assertBadRequest(await get(path(joni, q({ $top: '10', $filter: filter, $skiptoken: token }))));
    assertBadRequest(await get(path(joni, q({ $top: '10', $filter: `appClass eq '${PREFIX}BizChat'`, $skiptoken: token }))));
    const filtered = (await get(path(joni, q({ $top: '10', $filter: filter })))).body['@odata.nextLink'];
    const ft = new URL(filtered).searchParams.get('$skiptoken')!;
    assertBadRequest(await get(path(joni, q({ $top: '10', $skiptoken: ft }))));
    assertBadRequest(await get(path(joni, q({ $top: '10', $filter: filter.replace('2020', '2021'), $skiptoken: ft }))));
    // another $top
    assertBadRequest(await get(path(joni, q({ $top: '20', $skiptoken: token }))));
    // the same request is fine
    assert.equal((await get(path(joni, q({ $top: '10', $skiptoken: token })))).status, 200);
  });
});

describe('ingestion control API', () => {
  afterEach(() => emu.control('/reset', 'POST'));

  test('{count: N} → 201 {created: [...]}: valid interactions stamped now, newer than everything before', async () => {
    const user = users['megan.bowen']!;
    const before = await truth(user);
    const newest = Math.max(...before.map((r) => ms(r.interaction)));
    const clock = Date.parse((await emu.control('/clock')).now);
    const r = await ingest(user, { count: 25 });
    assert.equal(r.status, 201);
    assert.equal(r.body.created.length, 25);
    let prev = newest;
    for (const i of r.body.created) {
      assert.deepEqual(validateEntity('microsoft.graph.aiInteraction', i), []);
      assert.ok(ms(i) > prev, 'strictly increasing, after the existing history');
      assert.equal(i.id, String(ms(i)));
      assert.equal(i.etag, i.id);
      prev = ms(i);
    }
    assert.ok(Math.abs(ms(r.body.created.at(-1)) - clock) < 60_000, 'stamped with the emulator clock');
    const after = await truth(user);
    assert.equal(after.length, before.length + 25);
    assert.deepEqual(after.slice(-25).map((x) => x.interaction), r.body.created);
  });

  test('{interactions: [partial…]} fills the missing fields', async () => {
    const user = users['megan.bowen']!;
    const r = await ingest(user, { interactions: [{}, { interactionType: 'aiResponse' }, { appClass: 'Teams', body: { content: 'hi' } }, { appClass: `${PREFIX}Excel`, createdDateTime: '2026-02-01T09:00:00.000Z' }] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const [prompt, response, teams, excel] = r.body.created;
    for (const i of r.body.created) assert.deepEqual(validateEntity('microsoft.graph.aiInteraction', i), [], JSON.stringify(i));
    assert.equal(prompt.interactionType, 'userPrompt');
    assert.equal(prompt.from.user.id, user);
    assert.equal(prompt.from.application, null);
    assert.equal(response.interactionType, 'aiResponse');
    assert.equal(response.from.user, null);
    assert.equal(response.from.application.applicationIdentityType, 'bot');
    assert.equal(response.requestId, prompt.requestId, 'a response joins the prompt before it');
    assert.equal(response.sessionId, prompt.sessionId);
    assert.match(prompt.sessionId, /^19:.+@thread\.v2$/);
    assert.equal(teams.appClass, `${PREFIX}Teams`);
    assert.deepEqual(teams.body, { contentType: 'text', content: 'hi' });
    assert.equal(excel.createdDateTime, '2026-02-01T09:00:00.000Z');
    assert.equal(excel.id, String(Date.parse('2026-02-01T09:00:00.000Z')));
    assert.ok(prompt.locale && prompt.etag && prompt.createdDateTime);
    const ids = new Set((await truth(user)).map((x) => x.interaction.id));
    for (const i of r.body.created) assert.ok(ids.has(i.id));
  });

  const invalid: [string, unknown, RegExp][] = [
    ['no body fields', {}, /count|interactions/],
    ['both forms', { count: 1, interactions: [{}] }, /count|interactions/],
    ['count 0', { count: 0 }, /count/],
    ['count negative', { count: -5 }, /count/],
    ['count fractional', { count: 1.5 }, /count/],
    ['count as a string', { count: '10' }, /count/],
    ['count above 10,000', { count: 10_001 }, /count must be a whole number from 1 to 10000/],
    ['empty list', { interactions: [] }, /interactions/],
    ['not a list', { interactions: 'x' }, /interactions/],
    ['bad interactionType', { interactions: [{}, { interactionType: 'bogus' }] }, /interactions\[1\]\.interactionType/],
    ['bad createdDateTime', { interactions: [{ createdDateTime: 'yesterday' }] }, /interactions\[0\]\.createdDateTime/],
    ['bad body.contentType', { interactions: [{ body: { contentType: 'pdf', content: 'x' } }] }, /interactions\[0\]\.body\.contentType/],
    ['unknown property', { interactions: [{ colour: 'blue' }] }, /interactions\[0\]\.colour/],
    ['empty appClass', { interactions: [{ appClass: '' }] }, /interactions\[0\]\.appClass/],
    ['attachment without contentType', { interactions: [{ attachments: [{ name: 'x' }] }] }, /interactions\[0\]\.attachments\[0\]\.contentType/],
    ['mentionId not an Int32', { interactions: [{ mentions: [{ mentionId: 2 ** 40, mentioned: { user: { id: 'u' } } }] }] }, /interactions\[0\]\.mentions\[0\]\.mentionId/],
  ];
  for (const [name, body, field] of invalid) {
    test(`invalid input (${name}) → 400 naming the field, nothing stored`, async () => {
      const user = users['megan.bowen']!;
      const before = (await truth(user)).length;
      const r = await ingest(user, body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error.message, field);
      assert.equal((await truth(user)).length, before);
    });
  }

  test('an unknown user or tenant is a 404', async () => {
    const r = await ingest('00000000-0000-0000-0000-000000000001', { count: 1 });
    assert.equal(r.status, 404);
    const t = await emu.fetch(`/_emulator/tenants/00000000-0000-0000-0000-000000000002/users/${users['megan.bowen']}/interactions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 1 }),
    });
    assert.equal(t.status, 404);
  });

  test('POST /_emulator/reset forgets what was ingested', async () => {
    const user = users['megan.bowen']!;
    const before = (await truth(user)).length;
    await ingest(user, { count: 3 });
    assert.equal((await truth(user)).length, before + 3);
    await emu.control('/reset', 'POST');
    assert.equal((await truth(user)).length, before);
  });
});

describe('tenant-wide paging (tenantWideGet: serve)', () => {
  afterEach(() => emu.control('/reset', 'POST'));

  test('small pages with an appClass filter cover every exportable user exactly once, new interactions included', async () => {
    await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { tenantWideGet: 'serve' } });
    const exportable = new Set<string>();
    for (const id of Object.values(users)) if ((await get(path(id, '$top=1'))).status === 200) exportable.add(id);
    const apps = [`${PREFIX}Teams`, `${PREFIX}Excel`];
    const filter = apps.map((a) => `appClass eq '${a}'`).join(' or ');
    const items: any[] = [];
    let next: string | undefined = `/beta/copilot/interactionHistory/getAllEnterpriseInteractions()?${q({ $filter: filter, $top: '37' })}`;
    let pages = 0;
    while (next) {
      const p = await get(next);
      assert.equal(p.status, 200, JSON.stringify(p.body));
      assert.ok(p.body.value.length <= 37);
      items.push(...p.body.value);
      next = p.body['@odata.nextLink'];
      if (++pages === 5) {
        // nora.park is last in directory order, so her new interactions are still ahead of the cursor.
        const r = await ingest(users['nora.park']!, { interactions: [{ appClass: 'Teams' }, { appClass: 'Excel', interactionType: 'aiResponse' }, { appClass: 'Word' }] });
        assert.equal(r.status, 201);
      }
      if (pages === 2) assert.deepEqual(validateCollectionResponse('microsoft.graph.aiInteraction', {
        ...p.body, value: p.body.value.map((i: any) => ({ ...i, body: { content: i.body.content, contentType: i.body.contentType } })),
      }), []);
    }
    const rows = (await truth()).filter((r) => exportable.has(r.userId) && apps.includes(r.interaction.appClass));
    const key = (i: any) => JSON.stringify({ ...i, body: { contentType: i.body.contentType, content: i.body.content } });
    const tally = (list: any[]) => list.reduce((m: Map<string, number>, i) => m.set(key(i), (m.get(key(i)) ?? 0) + 1), new Map<string, number>());
    assert.equal(items.length, rows.length);
    assert.deepEqual(tally(items), tally(rows.map((r) => r.interaction)));
    assert.ok(items.some((i) => i.body.messageBodyContentType), 'beta bodies');
  });

  test('a per-user skiptoken is refused on the tenant-wide path, and the other way round', async () => {
    await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { tenantWideGet: 'serve' } });
    const joni = users['joni.sherman']!;
    const per = new URL((await get(path(joni, '$top=10'))).body['@odata.nextLink']).searchParams.get('$skiptoken')!;
    const wide = new URL((await get('/v1.0/copilot/interactionHistory/getAllEnterpriseInteractions?$top=10')).body['@odata.nextLink']).searchParams.get('$skiptoken')!;
    assertBadRequest(await get(`/v1.0/copilot/interactionHistory/getAllEnterpriseInteractions?${q({ $top: '10', $skiptoken: per })}`));
    assertBadRequest(await get(path(joni, q({ $top: '10', $skiptoken: wide }))));
  });
});
