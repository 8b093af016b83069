// Acceptance tests for GET /copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions
// on the emulator, over HTTPS: path forms, the response envelope, $top, $filter, the query-option
// switches, beta vs v1.0 bodies, CSDL validity, per-user keying and the tenant-wide form.
// One emulator (the demo scenario, throttling off) for the file; cases that change switches
// reset it afterwards. graph-facts.md §1, §4, §5, §12 are the reference.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCollectionResponse } from './support/csdl.js';
import type { TestEmulator } from './support/emulator.js';
import { APP_CLASS_PREFIX, exportPath, getPage, qs, startDemo, type Page, type Truth } from './support/interactions.js';

const PREFIX = APP_CLASS_PREFIX;
const BIZCHAT = `${PREFIX}BizChat`;
const TEAMS = `${PREFIX}Teams`;


let emu: TestEmulator;
let tid: string;
let token: string;
const users: Record<string, string> = {};

const path = exportPath;
const q = qs;

const get = (url: string, bearer = token): Promise<Page> => getPage(emu, url, bearer);

async function pageAll(url: string): Promise<{ items: any[]; pages: Page[] }> {
  const items: any[] = [];
  const pages: Page[] = [];
  let next: string | undefined = url;
  while (next) {
    const p = await get(next);
    assert.equal(p.status, 200, `${next} → ${p.status} ${JSON.stringify(p.body)}`);
    pages.push(p);
    items.push(...p.body.value);
    next = p.body['@odata.nextLink'];
    assert.ok(pages.length < 1000, 'runaway paging');
  }
  return { items, pages };
}

async function truth(user?: string): Promise<Truth[]> {
  const r = await emu.fetch(`/_emulator/tenants/${tid}/interactions${user ? `?user=${user}` : ''}`);
  assert.equal(r.status, 200);
  return (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const patch = (body: Record<string, unknown>) => emu.control(`/tenants/${tid}`, 'PATCH', body);
const behaviours = (b: Record<string, unknown>) => patch({ behaviours: b });

/** A Graph error envelope with the given status and code. */
function assertGraphError(p: Page, status: number, code: string, message?: RegExp): void {
  assert.equal(p.status, status, JSON.stringify(p.body));
  assert.equal(p.body?.error?.code, code, JSON.stringify(p.body));
  assert.equal(typeof p.body.error.message, 'string');
  if (message) assert.match(p.body.error.message, message);
  const inner = p.body.error.innerError;
  assert.deepEqual(Object.keys(inner).sort(), ['client-request-id', 'date', 'request-id']);
  assert.match(inner.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  assert.equal(inner['request-id'], p.headers.get('request-id'));
  assert.equal(p.body.value, undefined);
}

const ms = (i: any) => Date.parse(i.createdDateTime);
const sortKey = (a: any, b: any) => ms(a) - ms(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

before(async () => {
  let demoUsers: Record<string, string>;
  ({ emu, tid, users: demoUsers, token } = await startDemo());
  Object.assign(users, demoUsers);
});
after(async () => emu?.close());

describe('path forms', () => {
  test('v1.0 and beta, with and without (), with the microsoft.graph. prefix, in any case, all serve the same page', async () => {
    const id = users['adele.vance']!;
    const fn = ['getAllEnterpriseInteractions', 'getAllEnterpriseInteractions()', 'microsoft.graph.getAllEnterpriseInteractions',
      'microsoft.graph.getAllEnterpriseInteractions()', 'getallenterpriseinteractions', 'GETALLENTERPRISEINTERACTIONS()', 'Microsoft.Graph.GetAllEnterpriseInteractions'];
    const stems = ['copilot/users/{id}/interactionHistory', 'copilot/users/{id}/interactionhistory', 'Copilot/Users/{id}/InteractionHistory', 'COPILOT/USERS/{id}/INTERACTIONHISTORY'];
    let reference: string[] | undefined;
    for (const version of ['v1.0', 'beta', 'V1.0', 'Beta']) {
      for (const stem of stems) {
        for (const f of fn) {
          const url = `/${version}/${stem.replace('{id}', id)}/${f}?$top=7`;
          const p = await get(url);
          assert.equal(p.status, 200, `${url} → ${p.status} ${JSON.stringify(p.body)}`);
          const ids = p.body.value.map((i: any) => i.id);
          assert.equal(ids.length, 7, url);
          reference ??= ids;
          assert.deepEqual(ids, reference, url);
          assert.match(p.body['@odata.context'], new RegExp(`/${version.toLowerCase().replace('.', '\\.')}/\\$metadata#Collection\\(microsoft\\.graph\\.aiInteraction\\)$`));
        }
      }
    }
  });

  test("the user may be named by object id, users('{id}') key syntax or UPN; upnInPath: notFound refuses UPNs", async () => {
    const id = users['adele.vance']!;
    const forms = [path(id, '$top=3'), path(`users('${id}')`, '$top=3').replace('/users/users(', '/users('), path('adele.vance@contoso.onmicrosoft.com', '$top=3'), path('ADELE.VANCE@contoso.onmicrosoft.com', '$top=3')];
    const pages = await Promise.all(forms.map((u) => get(u)));
    for (const [i, p] of pages.entries()) {
      assert.equal(p.status, 200, `${forms[i]}: ${JSON.stringify(p.body)}`);
      assert.deepEqual(p.body.value, pages[0]!.body.value);
    }
    await behaviours({ upnInPath: 'notFound' });
    assertGraphError(await get(forms[2]!), 404, 'NotFound');
    assert.equal((await get(forms[0]!)).status, 200);
    await emu.control('/reset', 'POST');
  });

  test('the nextLink keeps the path form the caller used', async () => {
    const url = path(users['adele.vance']!, '$top=5').replace('getAllEnterpriseInteractions', 'microsoft.graph.getAllEnterpriseInteractions()');
    const p = await get(url);
    assert.match(p.body['@odata.nextLink'], /\/microsoft\.graph\.getAllEnterpriseInteractions\(\)\?/);
    const p2 = await get(p.body['@odata.nextLink']);
    assert.equal(p2.status, 200);
  });

  test('pathVariants: documentedOnly serves the documented spelling and refuses the others with Graph’s 400', async () => {
    const id = users['adele.vance']!;
    await behaviours({ pathVariants: 'documentedOnly' });
    try {
      assert.equal((await get(path(id, '$top=2'))).status, 200);
      for (const variant of ['getAllEnterpriseInteractions()', 'microsoft.graph.getAllEnterpriseInteractions', 'getallenterpriseinteractions']) {
        const p = await get(path(id, '$top=2').replace('getAllEnterpriseInteractions', variant));
        assertGraphError(p, 400, 'BadRequest', new RegExp(`Resource not found for the segment '${variant.replace(/[.()]/g, '\\$&')}'`));
      }
    } finally {
      await emu.control('/reset', 'POST');
    }
  });

  test('a Graph 400 for a path Graph cannot resolve', async () => {
    const p = await get(`/v1.0/copilot/users/${users['adele.vance']}/interactionHistory/getAllInteractions`);
    assertGraphError(p, 400, 'BadRequest', /segment/);
  });
});

describe('response envelope', () => {
  afterEach(() => emu.control('/reset', 'POST'));

  test('@odata.context, value, @odata.count per page and @odata.nextLink while more remain', async () => {
    const id = users['adele.vance']!; // 60 interactions
    const { pages, items } = await pageAll(path(id, '$top=25'));
    assert.deepEqual(pages.map((p) => p.body.value.length), [25, 25, 10]);
    for (const [i, p] of pages.entries()) {
      assert.equal(p.body['@odata.count'], p.body.value.length);
      assert.equal(typeof p.body['@odata.context'], 'string');
      assert.equal('@odata.nextLink' in p.body, i < pages.length - 1, `page ${i}`);
      assert.match(p.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(p.headers.get('odata-version'), '4.0');
      assert.ok(p.headers.get('request-id'));
    }
    assert.equal(items.length, 60);
    assert.deepEqual(items, [...items].sort(sortKey), 'createdDateTime ascending, then id');
  });

  test('a page that holds exactly the rest has no nextLink', async () => {
    const p = await get(path(users['adele.vance']!, '$top=60'));
    assert.equal(p.body.value.length, 60);
    assert.equal(p.body['@odata.nextLink'], undefined);
  });

  test('odataCount: omit drops @odata.count', async () => {
    await behaviours({ odataCount: 'omit' });
    const p = await get(path(users['adele.vance']!, '$top=5'));
    assert.equal(p.status, 200);
    assert.equal('@odata.count' in p.body, false);
    assert.ok(p.body['@odata.nextLink']);
  });

  test('a window with nothing in it gets an empty value, @odata.count 0 and no nextLink', async () => {
    const p = await get(path(users['debra.berger']!, q({ $filter: 'createdDateTime gt 2001-01-01T00:00:00Z and createdDateTime lt 2001-01-02T00:00:00Z' })));
    assert.equal(p.status, 200);
    assert.deepEqual(p.body.value, []);
    assert.equal(p.body['@odata.count'], 0);
    assert.equal(p.body['@odata.nextLink'], undefined);
  });
});

describe('$top', () => {
  afterEach(() => emu.control('/reset', 'POST'));
  const joni = () => users['joni.sherman']!;

  test('default page size is 100, $top chooses smaller pages, and the default cap is 100', async () => {
    assert.equal((await get(path(joni()))).body.value.length, 100);
    assert.equal((await get(path(joni(), '$top=1'))).body.value.length, 1);
    assert.equal((await get(path(joni(), '$top=37'))).body.value.length, 37);
    const capped = await get(path(joni(), '$top=500'));
    assert.equal(capped.status, 200);
    assert.equal(capped.body.value.length, 100);
    assert.equal((await get(path(joni(), '$top=2147483647'))).body.value.length, 100);
  });

  test('the default page size and the cap are configurable', async () => {
    await behaviours({ defaultPageSize: 10 });
    assert.equal((await get(path(joni()))).body.value.length, 10);
    await behaviours({ topCap: 50 });
    assert.equal((await get(path(joni(), '$top=80'))).body.value.length, 50);
    await behaviours({ topCap: null });
    assert.equal((await get(path(joni(), '$top=250'))).body.value.length, 250);
    // No cap still means one page at most 9,999 long, never a server error.
    const huge = await get(path(users['nora.park']!, '$top=20000'));
    assert.equal(huge.status, 200, JSON.stringify(huge.body).slice(0, 300));
    assert.equal(huge.body.value.length, 2500);
    assert.equal(huge.body['@odata.nextLink'], undefined);
    await behaviours({ topCap: 100, topAboveCap: 'reject' });
    assertGraphError(await get(path(joni(), '$top=101')), 400, 'invalidRequest', /\$top/);
    assert.equal((await get(path(joni(), '$top=100'))).body.value.length, 100);
  });

  for (const bad of ['0', '-1', '-100', 'abc', '1.5', '', '1e2', ' 5', '0x10']) {
    test(`$top=${JSON.stringify(bad)} → 400 invalidRequest`, async () => {
      assertGraphError(await get(path(joni(), q({ $top: bad }))), 400, 'invalidRequest', /\$top/);
    });
  }
});

describe('$filter', () => {
  afterEach(() => emu.control('/reset', 'POST'));
  const nora = () => users['nora.park']!;

  /** A window over the middle of a user's history, with the ground truth inside it. */
  async function window(user: string) {
    const all = (await truth(user)).map((t) => t.interaction);
    const a = ms(all[Math.floor(all.length / 4)]);
    const b = ms(all[Math.floor((all.length * 3) / 4)]);
    return { all, from: new Date(a).toISOString(), to: new Date(b).toISOString(), a, b };
  }

  test('createdDateTime gt … and lt … returns exactly the interactions strictly inside, on every page', async () => {
    const w = await window(nora());
    const { items } = await pageAll(path(nora(), q({ $filter: `createdDateTime gt ${w.from} and createdDateTime lt ${w.to}`, $top: '100' })));
    const expected = w.all.filter((i) => ms(i) > w.a && ms(i) < w.b);
    assert.ok(expected.length > 500);
    assert.deepEqual(items.map((i) => i.id), expected.map((i) => i.id));
    assert.ok(!items.some((i) => ms(i) === w.a || ms(i) === w.b), 'gt/lt bounds are exclusive');
  });

  test('the bounds may come in either order and property names in any case', async () => {
    const w = await window(nora());
    const a = await get(path(nora(), q({ $filter: `CreatedDateTime LT ${w.to} AND createddatetime gt ${w.from}`, $top: '50' })));
    const b = await get(path(nora(), q({ $filter: `createdDateTime gt ${w.from} and createdDateTime lt ${w.to}`, $top: '50' })));
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.deepEqual(a.body.value.map((i: any) => i.id), b.body.value.map((i: any) => i.id));
  });

  test('ge/le are accepted as inclusive bounds by default, and rejected by switch', async () => {
    const w = await window(nora());
    const incl = await pageAll(path(nora(), q({ $filter: `createdDateTime ge ${w.from} and createdDateTime le ${w.to}` })));
    assert.deepEqual(incl.items.map((i) => i.id), w.all.filter((i) => ms(i) >= w.a && ms(i) <= w.b).map((i) => i.id));
    assert.ok(incl.items.some((i) => ms(i) === w.a) && incl.items.some((i) => ms(i) === w.b), 'ge/le include the bounds');
    await behaviours({ inclusiveBounds: 'reject' });
    assertGraphError(await get(path(nora(), q({ $filter: `createdDateTime ge ${w.from} and createdDateTime lt ${w.to}` }))), 400, 'invalidRequest');
    assertGraphError(await get(path(nora(), q({ $filter: `createdDateTime gt ${w.from} and createdDateTime le ${w.to}` }))), 400, 'invalidRequest');
    assert.equal((await get(path(nora(), q({ $filter: `createdDateTime gt ${w.from} and createdDateTime lt ${w.to}` })))).status, 200);
  });

  test('one bound → 400 invalidRequest by default, 500 with oneBoundFilter: 500', async () => {
    for (const f of ['createdDateTime gt 2026-01-01T00:00:00Z', 'createdDateTime lt 2026-01-01T00:00:00Z', 'createdDateTime ge 2026-01-01T00:00:00Z',
      `createdDateTime gt 2026-01-01T00:00:00Z and appClass eq '${BIZCHAT}'`]) {
      assertGraphError(await get(path(nora(), q({ $filter: f }))), 400, 'invalidRequest', /bound/);
    }
    await behaviours({ oneBoundFilter: 500 });
    const p = await get(path(nora(), q({ $filter: 'createdDateTime gt 2026-01-01T00:00:00Z' })));
    assert.equal(p.status, 500);
    assert.equal(typeof p.body.error.code, 'string');
    assert.ok(p.body.error.innerError['request-id']);
  });

  test("appClass eq '…' alone, joined by or, and combined with a window by and", async () => {
    const all = (await truth(nora())).map((t) => t.interaction);
    const one = await pageAll(path(nora(), q({ $filter: `appClass eq '${BIZCHAT}'` })));
    assert.deepEqual(one.items.map((i) => i.id), all.filter((i) => i.appClass === BIZCHAT).map((i) => i.id));
    const two = await pageAll(path(nora(), q({ $filter: `appClass eq '${BIZCHAT}' or appClass eq '${TEAMS}'`, $top: '100' })));
    const want2 = all.filter((i) => i.appClass === BIZCHAT || i.appClass === TEAMS);
    assert.ok(want2.some((i) => i.appClass === TEAMS) && want2.some((i) => i.appClass === BIZCHAT));
    assert.deepEqual(two.items.map((i) => i.id), want2.map((i) => i.id));
    const w = await window(nora());
    const both = await pageAll(path(nora(), q({
      $filter: `createdDateTime gt ${w.from} and createdDateTime lt ${w.to} and (appClass eq '${BIZCHAT}' or appClass eq '${TEAMS}')`, $top: '30' })));
    assert.deepEqual(both.items.map((i) => i.id), want2.filter((i) => ms(i) > w.a && ms(i) < w.b).map((i) => i.id));
    // the appClass value matches case-insensitively, like Exchange item classes
    const lower = await get(path(nora(), q({ $filter: `appClass eq '${BIZCHAT.toLowerCase()}'`, $top: '10' })));
    assert.deepEqual(lower.body.value.map((i: any) => i.id), one.items.slice(0, 10).map((i) => i.id));
  });

  test("an unknown appClass is an empty 200 by default and a 400 with unknownAppClass: reject", async () => {
    const f = q({ $filter: `appClass eq '${PREFIX}Nonexistent'` });
    const p = await get(path(nora(), f));
    assert.equal(p.status, 200);
    assert.deepEqual(p.body.value, []);
    assert.equal(p.body['@odata.nextLink'], undefined);
    await behaviours({ unknownAppClass: 'reject' });
    assertGraphError(await get(path(nora(), f)), 400, 'invalidRequest', /appClass/);
    // A documented app class is still fine.
    assert.equal((await get(path(nora(), q({ $filter: `appClass eq '${TEAMS}'` })))).status, 200);
  });

  test('sub-second timestamps are accepted by default and rejected with subSecond: reject', async () => {
    const f = q({ $filter: 'createdDateTime gt 2026-01-01T00:00:00.250Z and createdDateTime lt 2030-01-01T00:00:00Z' });
    assert.equal((await get(path(nora(), f))).status, 200);
    await behaviours({ subSecond: 'reject' });
    assertGraphError(await get(path(nora(), f)), 400, 'invalidRequest', /second/);
    assert.equal((await get(path(nora(), q({ $filter: 'createdDateTime gt 2026-01-01T00:00:00Z and createdDateTime lt 2030-01-01T00:00:00Z' })))).status, 200);
  });

  test('rejectAllFilters makes every $filter a 400, valid or not', async () => {
    await behaviours({ rejectAllFilters: true });
    for (const f of [`appClass eq '${BIZCHAT}'`, 'createdDateTime gt 2026-01-01T00:00:00Z and createdDateTime lt 2030-01-01T00:00:00Z']) {
      assertGraphError(await get(path(nora(), q({ $filter: f }))), 400, 'invalidRequest');
    }
    assert.equal((await get(path(nora(), '$top=3'))).status, 200, 'no $filter: served');
  });

  const refused: [string, string, RegExp][] = [
    ['unsupported property', "sessionId eq 'x'", /sessionId/],
    ['unsupported property in a window', "createdDateTime gt 2026-01-01T00:00:00Z and createdDateTime lt 2026-02-01T00:00:00Z and conversationType ne 'bizchat'", /conversationType/],
    ['unsupported property (id)', "id eq '1767261600123'", /'id'/],
    ['nested path', "from/user/id eq 'x'", /from\/user\/id/],
    ['nested path on body', "body/content eq 'x'", /body\/content/],
    ['appClass with ne', `appClass ne '${BIZCHAT}'`, /appClass/],
    ['or across properties', `appClass eq '${BIZCHAT}' or createdDateTime gt 2026-01-01T00:00:00Z`, /or/],
    ['quoted date', "createdDateTime gt '2026-01-01T00:00:00Z' and createdDateTime lt '2026-02-01T00:00:00Z'", /DateTimeOffset/],
    ['two lower bounds', 'createdDateTime gt 2026-01-01T00:00:00Z and createdDateTime gt 2026-01-02T00:00:00Z', /lower/],
    ['function', "startswith(appClass, 'IPM')", /./],
    ['malformed: dangling operator', 'createdDateTime gt', /./],
    ['malformed: unbalanced parenthesis', `(appClass eq '${BIZCHAT}'`, /./],
    ['malformed: unterminated string', "appClass eq 'IPM.SkypeTeams", /./],
    ['malformed: bad date', 'createdDateTime gt 2026-13-45T00:00:00Z and createdDateTime lt 2026-02-01T00:00:00Z', /./],
    ['malformed: garbage', ')))', /./],
    ['empty', '', /./],
  ];
  for (const [name, filter, message] of refused) {
    test(`${name}: ${JSON.stringify(filter)} → Graph 400`, async () => {
      assertGraphError(await get(path(nora(), q({ $filter: filter }))), 400, 'invalidRequest', message);
    });
  }
});

describe('other query options', () => {
  afterEach(() => emu.control('/reset', 'POST'));
  const adele = () => users['adele.vance']!;
  const options = ['$select=id,createdDateTime', '$count=true', '$orderby=createdDateTime desc', '$search=hello', '$skip=5', '$expand=attachments'];

  test('$select, $count, $orderby, $search, $skip and $expand are ignored by default', async () => {
    const plain = await get(path(adele(), '$top=10'));
    for (const o of options) {
      const p = await get(path(adele(), `$top=10&${o}`));
      assert.equal(p.status, 200, `${o}: ${JSON.stringify(p.body)}`);
      assert.deepEqual(p.body.value, plain.body.value, `${o} is ignored`);
    }
  });

  test('with unsupportedQueryOptions: reject they are 400 notSupported', async () => {
    await behaviours({ unsupportedQueryOptions: 'reject' });
    for (const o of options) {
      assertGraphError(await get(path(adele(), `$top=10&${o}`)), 400, 'notSupported', new RegExp(`\\${o.split('=')[0]}`));
    }
    assert.equal((await get(path(adele(), '$top=10'))).status, 200);
  });
});

describe('beta and v1.0 bodies', () => {
  test('v1.0 body is an itemBody; beta adds messageBodyContentType equal to contentType', async () => {
    const id = users['nora.park']!;
    const v1 = await get(path(id, '$top=100'));
    const beta = await get(path(id, '$top=100', 'beta'));
    assert.equal(v1.body.value.length, 100);
    assert.deepEqual(beta.body.value.map((i: any) => i.id), v1.body.value.map((i: any) => i.id));
    const kinds = new Set<string>();
    for (const [n, item] of v1.body.value.entries()) {
      assert.deepEqual(Object.keys(item.body).sort(), ['content', 'contentType'], `v1.0 item ${n}`);
      const b = beta.body.value[n].body;
      assert.deepEqual(Object.keys(b).sort(), ['content', 'contentType', 'messageBodyContentType'], `beta item ${n}`);
      assert.equal(b.messageBodyContentType, item.body.contentType);
      assert.equal(b.content, item.body.content);
      kinds.add(b.contentType);
      // everything but the body is identical
      assert.deepEqual({ ...beta.body.value[n], body: undefined }, { ...item, body: undefined });
    }
    assert.deepEqual([...kinds].sort(), ['html', 'text']);
  });
});

describe('CSDL validity', () => {
  test('pages across users, app classes, filters and both versions validate as Collection(microsoft.graph.aiInteraction)', async () => {
    const seen = { pages: 0, items: 0, apps: new Set<string>(), types: new Set<string>(), users: 0 };
    const check = (body: any, where: string) => {
      const errors = validateCollectionResponse('microsoft.graph.aiInteraction', body);
      assert.deepEqual(errors, [], `${where}: ${errors.slice(0, 10).join('\n')}`);
      seen.pages++;
      seen.items += body.value.length;
      for (const i of body.value) {
        seen.apps.add(i.appClass);
        seen.types.add(i.interactionType);
      }
    };
    for (const name of ['adele.vance', 'joni.sherman', 'nora.park', 'debra.berger', 'irvin.sayers', 'cameron.white', 'allan.deyoung', 'grady.archie']) {
      seen.users++;
      const id = users[name]!;
      const { pages } = await pageAll(path(id, '$top=100'));
      for (const [n, p] of pages.slice(0, 8).entries()) check(p.body, `${name} v1.0 page ${n}`);
      // beta: the same, with chatMessageBody's extra member checked and set aside (the CSDL is v1.0)
      const beta = await get(path(id, '$top=100', 'beta'));
      for (const i of beta.body.value) {
        assert.ok(['text', 'html', 'markdown', 'unknownFutureValue'].includes(i.body.messageBodyContentType));
        delete i.body.messageBodyContentType;
      }
      check(beta.body, `${name} beta`);
    }
    for (const app of ['BizChat', 'Teams', 'Word', 'Excel', 'PowerPoint', 'Outlook', 'Loop', 'WebChat']) {
      const p = await get(path(users['nora.park']!, q({ $filter: `appClass eq '${PREFIX}${app}'`, $top: '100' })));
      assert.ok(p.body.value.length > 0, `nora has ${app} interactions`);
      check(p.body, `nora ${app}`);
    }
    assert.ok(seen.apps.size >= 8, [...seen.apps].join());
    assert.deepEqual([...seen.types].sort(), ['aiResponse', 'userPrompt']);
    assert.ok(seen.items > 3000, `validated ${seen.items} items on ${seen.pages} pages`);
  });

  test('a page of ingested interactions validates too', async () => {
    const id = users['lee.gu']!;
    const r = await emu.control(`/tenants/${tid}/users/${id}/interactions`, 'POST', { count: 20 });
    assert.equal(r.created.length, 20);
    const p = await get(path(id, q({ $filter: `createdDateTime gt ${new Date(ms(r.created[0]) - 1).toISOString()} and createdDateTime lt 2100-01-01T00:00:00Z` })));
    assert.deepEqual(p.body.value.map((i: any) => i.id), r.created.map((i: any) => i.id));
    assert.deepEqual(validateCollectionResponse('microsoft.graph.aiInteraction', p.body), []);
    await emu.control('/reset', 'POST');
  });
});

describe('interactions are keyed per (tenant, user, id)', () => {
  afterEach(() => emu.control('/reset', 'POST'));

  test('a shared Teams meeting item appears, with the same id, in each attendee’s history', async () => {
    const rows = await truth();
    const byId = new Map<string, Truth[]>();
    for (const r of rows) byId.set(r.interaction.id, [...(byId.get(r.interaction.id) ?? []), r]);
    const exportable = new Set(['adele.vance', 'alex.wilber', 'diego.siciliani', 'joni.sherman', 'lee.gu', 'megan.bowen', 'nora.park', 'allan.deyoung'].map((n) => users[n]));
    const shared = [...byId.values()].map((rs) => rs.filter((r) => exportable.has(r.userId))).find((rs) => new Set(rs.map((r) => r.userId)).size >= 2);
    assert.ok(shared, 'the demo tenant has a meeting recap shared by two users');
    const [x, y] = shared;
    for (const r of [x!, y!]) {
      const i = r.interaction;
      const at = new Date(ms(i));
      const p = await get(path(r.userId, q({ $filter: `createdDateTime ge ${at.toISOString()} and createdDateTime le ${at.toISOString()}` })));
      assert.equal(p.status, 200, JSON.stringify(p.body));
      const mine = p.body.value.filter((v: any) => v.id === i.id);
      assert.equal(mine.length, 1, `user ${r.userId} has exactly one record with id ${i.id}`);
    }
    assert.notEqual(x!.userId, y!.userId);
    assert.equal(x!.interaction.id, y!.interaction.id);
  });

  test('the same explicit id ingested for two users is two records; twice for one user is a 400 naming the field', async () => {
    const id = 'shared-meeting-recap-0001';
    const [a, b] = [users['lidia.holloway']!, users['lynne.robbins']!];
    const item = { id, interactionType: 'aiResponse', appClass: 'Teams', createdDateTime: '2026-01-05T10:00:00.000Z', sessionId: '19:meeting_shared@thread.v2' };
    for (const u of [a, b]) {
      const r = await emu.fetch(`/_emulator/tenants/${tid}/users/${u}/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ interactions: [item] }) });
      assert.equal(r.status, 201, await r.text());
    }
    for (const u of [a, b]) {
      const p = await get(path(u, q({ $filter: 'createdDateTime ge 2026-01-05T10:00:00Z and createdDateTime le 2026-01-05T10:00:00Z' })));
      assert.deepEqual(p.body.value.map((i: any) => i.id), [id]);
      assert.equal(p.body.value[0].sessionId, item.sessionId);
    }
    const gt = (await truth()).filter((r) => r.interaction.id === id);
    assert.deepEqual(gt.map((r) => r.userId).sort(), [a, b].sort());
    const again = await emu.fetch(`/_emulator/tenants/${tid}/users/${a}/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ interactions: [item] }) });
    assert.equal(again.status, 400);
    assert.match((await again.json()).error.message, /interactions\[0\]\.id/);
  });
});

describe('tenant-wide GET /copilot/interactionHistory/getAllEnterpriseInteractions', () => {
  afterEach(() => emu.control('/reset', 'POST'));

  test('is 404 NotFound "Requested API is not supported. Please check the path." by default, in every path form', async () => {
    for (const url of ['/v1.0/copilot/interactionHistory/getAllEnterpriseInteractions', '/beta/copilot/interactionHistory/getAllEnterpriseInteractions()',
      '/v1.0/copilot/interactionhistory/microsoft.graph.getallenterpriseinteractions?$top=10']) {
      const p = await get(url);
      assertGraphError(p, 404, 'NotFound');
      assert.equal(p.body.error.message, 'Requested API is not supported. Please check the path.');
    }
  });

  test('with tenantWideGet: serve, it pages over every exportable user’s interactions exactly once', async () => {
    await behaviours({ tenantWideGet: 'serve' });
    const { items, pages } = await pageAll('/v1.0/copilot/interactionHistory/getAllEnterpriseInteractions?$top=100');
    for (const p of pages.slice(0, 5)) assert.deepEqual(validateCollectionResponse('microsoft.graph.aiInteraction', p.body), []);
    assert.ok(pages.slice(0, -1).every((p) => p.body.value.length === 100));
    // The expectation, built from the per-user endpoint's verdict (200 = exportable) and the ground truth.
    const exportable = new Set<string>();
    for (const id of Object.values(users)) if ((await get(path(id, '$top=1'))).status === 200) exportable.add(id);
    const rows = (await truth()).filter((r) => exportable.has(r.userId));
    assert.ok(rows.length > 4000);
    const key = (i: any) => JSON.stringify(i);
    const count = (list: any[]) => list.reduce((m: Map<string, number>, i) => m.set(key(i), (m.get(key(i)) ?? 0) + 1), new Map<string, number>());
    assert.equal(items.length, rows.length);
    assert.deepEqual(count(items), count(rows.map((r) => r.interaction)));
  });
});
