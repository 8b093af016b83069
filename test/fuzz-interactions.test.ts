// Bad input never crashes the export endpoint: fast-check over $filter (near-valid and random),
// $top, $skiptoken (real ones mutated, and random), other query options and path spellings, over
// the real HTTPS server. Every answer is a 200 page or a Graph 400 (a 500 only where the tenant is
// told to answer one-bound filters with 500), and the server still answers afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TestEmulator } from './support/emulator.js';
import { APP_CLASS_PREFIX, exportPath, jsonOrUndefined, startDemo } from './support/interactions.js';

const RUNS = Number(process.env.COPILOG_FUZZ_RUNS ?? 250);
const SEED = process.env.COPILOG_FUZZ_SEED ? Number(process.env.COPILOG_FUZZ_SEED) : undefined;
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true };

let emu: TestEmulator;
let token: string;
let adele: string;
let realSkiptoken: string;

before(async () => {
  ({ emu, defaultUserId: adele, token } = await startDemo());
  const first = await emu.fetch(exportPath(adele, '$top=5'), { headers: { authorization: `Bearer ${token}` } });
  realSkiptoken = new URL((await first.json())['@odata.nextLink']).searchParams.get('$skiptoken')!;
});
after(() => emu.close());

async function call(path: string): Promise<{ status: number; body: any; text: string }> {
  const r = await emu.fetch(path, { headers: { authorization: `Bearer ${token}` } });
  const text = await r.text();
  return { status: r.status, body: jsonOrUndefined(text), text };
}

function assertPageOr400(r: { status: number; body: any; text: string }, what: string): void {
  if (r.status === 200) {
    assert.ok(Array.isArray(r.body?.value), `${what}: 200 without value: ${r.text.slice(0, 200)}`);
    return;
  }
  assert.equal(r.status, 400, `${what} → ${r.status} ${r.text.slice(0, 300)}`);
  const e = r.body?.error;
  assert.ok(e && typeof e.code === 'string' && typeof e.message === 'string', `${what}: not Graph's envelope: ${r.text.slice(0, 300)}`);
  assert.deepEqual(Object.keys(e.innerError).sort(), ['client-request-id', 'date', 'request-id']);
}

const date = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
  .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().replace(/\.\d{3}Z$/, 'Z'), d.toISOString().replace('Z', '+02:00'), d.toISOString().slice(0, 10), `'${d.toISOString()}'`));
const term = fc.oneof(
  fc.tuple(fc.constantFrom('createdDateTime', 'CreatedDateTime', 'createddatetime', 'sessionId', 'from/user/id', 'locale', 'x'), fc.constantFrom('gt', 'lt', 'ge', 'le', 'eq', 'ne', 'GT'), date).map(([p, o, v]) => `${p} ${o} ${v}`),
  fc.tuple(fc.constantFrom('appClass', 'AppClass', 'appclass'), fc.constantFrom('eq', 'ne', 'gt'), fc.constantFrom('BizChat', 'Teams', 'Word', 'Nope', '', "O''Brien").map((a) => `'${APP_CLASS_PREFIX}${a}'`)).map(([p, o, v]) => `${p} ${o} ${v}`),
  fc.string({ maxLength: 30 }),
);
const filter: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small' },
    term,
    fc.tuple(tie('f'), fc.constantFrom('and', 'or', 'AND', 'and not', ''), tie('f')).map(([a, o, b]) => `${a} ${o} ${b}`),
    tie('f').map((x) => `(${x})`),
    tie('f').map((x) => `not ${x}`),
  ),
})).f;
const top = fc.oneof(fc.integer({ min: -3, max: 20_000 }).map(String), fc.constantFrom('', '1e2', '0x10', '2.5', '99999999999999999999'), fc.string({ maxLength: 5 }));
const skiptoken = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.base64String({ maxLength: 80 }),
  fc.nat({ max: 200 }).chain((i) => fc.string({ minLength: 1, maxLength: 3 }).map((s) => realSkiptoken.slice(0, i % realSkiptoken.length) + s + realSkiptoken.slice((i % realSkiptoken.length) + 1))),
  fc.constant('REAL'),
);
const options = fc.record({
  $filter: filter, $top: top, $skiptoken: skiptoken, $select: fc.constantFrom('id', 'body', 'x,y', ''), $count: fc.constantFrom('true', 'x'), $orderby: fc.constantFrom('id desc', ''),
}, { requiredKeys: [] });

test('random query options on the export endpoint: a page or a Graph 400, never a crash', async () => {
  await fc.assert(fc.asyncProperty(options, fc.constantFrom('v1.0', 'beta'), async (o, version) => {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(o)) sp.set(k, v === 'REAL' ? realSkiptoken : v);
    const path = exportPath(adele, sp.toString(), version);
    assertPageOr400(await call(path), `GET ${path}`);
  }), params);
  const health = await emu.fetch('/_emulator/health');
  assert.equal(health.status, 200);
});

test('odd user keys and path spellings: a page, a Graph 400 or a 404, never a crash', async () => {
  const user = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("users('x')", 'a@b', '%', '%00', '..', "'", '00000000-0000-0000-0000-000000000000'));
  const fn = fc.constantFrom('getAllEnterpriseInteractions', 'getAllEnterpriseInteractions(', 'getAllEnterpriseInteractions(x)', "getAllEnterpriseInteractions('x')", 'microsoft.graph.', '');
  await fc.assert(fc.asyncProperty(user, fn, async (u, f) => {
    const path = `/v1.0/copilot/users/${encodeURIComponent(u)}/interactionHistory/${f}`;
    const r = await call(path);
    if (r.status === 404) {
      assert.ok(r.body?.error?.code, `${path}: 404 without Graph's envelope`);
      return;
    }
    assertPageOr400(r, `GET ${path}`);
  }), { ...params, numRuns: Math.ceil(RUNS / 2) });
});
