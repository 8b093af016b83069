// The emulator against hostile or careless input: the throttle below 1 request/s, large explicit
// ingests, cross-site requests to the control API, tokens without an expiry, oversized headers.
// A real emulator over real HTTPS; requests that need a forged Host or oversized headers go
// through node:https directly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Throttle } from '../src/emulator/graph/throttle.js';
import { InteractionStore } from '../src/emulator/interactions/store.js';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import { demoWithoutThrottling, exportPath, getPage } from './support/interactions.js';

let emu: TestEmulator;
let tid: string;
let userId: string;
let ca: Buffer;

before(async () => {
  emu = await withEmulator(demoWithoutThrottling());
  const t = (await emu.tenantList()).tenants[0];
  tid = t.id;
  userId = t.default.userId;
  ca = readFileSync(emu.ca);
});
after(() => emu.close());

interface Raw { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/** One HTTPS request with exactly these headers (Host included), the body read whole. */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: emu.port, method, path, headers, ca, servername: 'localhost' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('throttle below one request per second', () => {
  test('0.5 requests/s admits one request every 2 s (the bucket holds one request; it starts with one second of budget)', () => {
    const t = new Throttle();
    assert.equal(t.take('k', 0.5, 0), 1, 'half a request in the bucket: wait 1 s');
    assert.equal(t.take('k', 0.5, 1_000), undefined, 'admitted once the bucket holds one request');
    const wait = t.take('k', 0.5, 1_010);
    assert.ok(wait !== undefined && wait > 1.9 && wait <= 2, `then a wait of about 2 s (${wait})`);
    assert.equal(t.take('k', 0.5, 3_010), undefined, 'admitted again 2 s later');
    assert.notEqual(t.take('k', 0.5, 3_020), undefined);
    assert.equal(t.take('k2', 0.25, 0), 3, 'another key, 0.25/s: the first request waits 3 s');
    assert.equal(t.take('k2', 0.25, 3_000), undefined, 'then it is admitted');
    assert.notEqual(t.take('k2', 0.25, 6_900), undefined, 'not before 4 s more');
    assert.equal(t.take('k2', 0.25, 7_000), undefined);
    assert.equal(t.take('k3', 30, 0), undefined, 'at 30/s the first request is admitted at once');
  });

  test('over the wire: requestsPerSecond 0.5 admits a request after the advertised wait, then one every 2 s', async () => {
    await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { requestsPerSecond: 0.5 } });
    try {
      const token = await emu.token();
      const first = await getPage(emu, exportPath(userId, '$top=1'), token);
      assert.equal(first.status, 429, JSON.stringify(first.body));
      assert.equal(first.headers.get('retry-after'), '1');
      await sleep(1_050);
      const admitted = await getPage(emu, exportPath(userId, '$top=1'), token);
      assert.equal(admitted.status, 200, JSON.stringify(admitted.body));
      const next = await getPage(emu, exportPath(userId, '$top=1'), token);
      assert.equal(next.status, 429);
      assert.equal(next.headers.get('retry-after'), '2');
    } finally {
      await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { requestsPerSecond: null } });
    }
  });
});

describe('ingesting explicit interactions', () => {
  test('ids are assigned in one pass: 3,000 items stamped with the same time probe each id a bounded number of times', () => {
    const store = new InteractionStore(':memory:');
    try {
      // Count the store's "is this id taken?" lookups (a complexity bound, not a speed).
      const s = (store as unknown as { s: { idTaken: { get: (...a: unknown[]) => unknown } } }).s;
      const original = s.idTaken.get.bind(s.idTaken);
      let probes = 0;
      s.idTaken.get = (...a: unknown[]) => { probes++; return original(...a); };
      const now = new Date('2026-01-01T10:00:00.000Z');
      const created = store.ingest('t', 'u', Array.from({ length: 3_000 }, () => ({})), now);
      assert.equal(created.length, 3_000);
      assert.equal(new Set(created.map((c) => c.id)).size, 3_000, 'ids are unique');
      assert.equal(created[0]!.id, String(now.getTime()));
      assert.equal(created[2_999]!.id, String(now.getTime() + 2_999), 'consecutive milliseconds');
      assert.ok(probes <= 2 * 3_000, `${probes} id lookups for 3,000 items (quadratic would be ~4.5 million)`);
      // A second batch at the same time continues after the first, still linearly.
      probes = 0;
      const more = store.ingest('t', 'u', Array.from({ length: 1_000 }, () => ({})), now);
      assert.equal(more[0]!.id, String(now.getTime() + 3_000));
      assert.ok(probes <= 3_000 + 2 * 1_000, `${probes} lookups for the second batch`);
      // An explicit numeric id inside the range is skipped by defaulted items.
      const mixed = store.ingest('t', 'u2', [{ id: String(now.getTime() + 1) }, {}, {}, {}], now);
      assert.deepEqual(mixed.map((m) => m.id), [now.getTime() + 1, now.getTime(), now.getTime() + 2, now.getTime() + 3].map(String));
    } finally {
      store.close();
    }
  });

  test('10,000 explicit items are accepted; 10,001 get a 400 that says the limit', async () => {
    const path = `/_emulator/tenants/${tid}/users/${userId}/interactions`;
    const many = await emu.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ interactions: Array.from({ length: 10_000 }, () => ({})) }) });
    assert.equal(many.status, 201, await many.text());
    assert.equal((await many.json()).created.length, 10_000);
    const tooMany = await emu.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ interactions: Array.from({ length: 10_001 }, () => ({})) }) });
    assert.equal(tooMany.status, 400);
    const err = (await tooMany.json()).error;
    assert.match(err.message, /10001 items; send at most 10000 per request/);
    assert.ok(err.innerError['request-id']);
  });
});

describe('the control API refuses what a web page could send', () => {
  const port = () => emu.port;

  test('POST /_emulator/reset with a text/plain body is refused (415) and nothing is reset', async () => {
    await emu.control('/clock', 'POST', { advance: '3h' });
    const before = Date.parse((await emu.control('/clock')).now);
    const r = await raw('POST', '/_emulator/reset', { host: `127.0.0.1:${port()}`, 'content-type': 'text/plain', 'content-length': '2' }, 'hi');
    assert.equal(r.status, 415, r.text);
    assert.equal(JSON.parse(r.text).error.code, 'UnsupportedMediaType');
    assert.ok(r.headers['request-id']);
    const after = Date.parse((await emu.control('/clock')).now);
    assert.ok(after - before >= 0 && after - Date.now() > 2 * 3_600_000, 'the clock was not reset');
    await emu.control('/reset', 'POST');
  });

  test('POST /_emulator/clock with a form body is refused (415) and the clock does not move', async () => {
    const body = 'advance=48h&frozen=true';
    const r = await raw('POST', '/_emulator/clock', { host: `localhost:${port()}`, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) }, body);
    assert.equal(r.status, 415, r.text);
    const clock = await emu.control('/clock');
    assert.equal(clock.frozen, false);
    assert.ok(Math.abs(Date.parse(clock.now) - Date.now()) < 60_000, clock.now);
  });

  test('a request with an Origin header is refused (403), even with a JSON body', async () => {
    const body = JSON.stringify({ advance: '1h' });
    const r = await raw('POST', '/_emulator/clock', { host: `127.0.0.1:${port()}`, origin: 'https://evil.example', 'content-type': 'application/json', 'content-length': String(body.length) }, body);
    assert.equal(r.status, 403, r.text);
    assert.match(JSON.parse(r.text).error.message, /Origin/);
    const get = await raw('GET', '/_emulator/tenants', { host: `127.0.0.1:${port()}`, origin: 'null' });
    assert.equal(get.status, 403, 'reading the test credentials from a page is refused too');
  });

  test('a Host other than a loopback name is refused (DNS rebinding); the loopback names are served', async () => {
    for (const host of ['evil.example', `evil.example:${port()}`, `127.0.0.1.nip.io:${port()}`, `10.0.0.1:${port()}`]) {
      const r = await raw('GET', '/_emulator/tenants', { host });
      assert.equal(r.status, 403, `${host}: ${r.text}`);
      assert.match(JSON.parse(r.text).error.message, /loopback names/);
    }
    for (const host of ['127.0.0.1', `127.0.0.1:${port()}`, `localhost:${port()}`, `LOCALHOST:${port()}`, `[::1]:${port()}`]) {
      const r = await raw('GET', '/_emulator/health', { host });
      assert.equal(r.status, 200, `${host}: ${r.text}`);
    }
  });

  test('JSON bodies and empty POSTs from loopback still work', async () => {
    const body = JSON.stringify({ advance: '1m' });
    const r = await raw('POST', '/_emulator/clock', { host: `127.0.0.1:${port()}`, 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) }, body);
    assert.equal(r.status, 200, r.text);
    const reset = await raw('POST', '/_emulator/reset', { host: `127.0.0.1:${port()}` });
    assert.equal(reset.status, 200, reset.text);
  });
});

describe('Graph and the identity platform at their edges', () => {
  test('a token without exp is refused at Graph with 401 InvalidAuthenticationToken', async () => {
    const minted = await emu.control('/tokens', 'POST', { claims: { exp: null } });
    const [, payload] = minted.access_token.split('.');
    assert.equal(JSON.parse(Buffer.from(payload, 'base64url').toString()).exp, undefined, 'the minted token has no exp');
    for (const path of ['/v1.0/users', exportPath(userId, '$top=1')]) {
      const r = await getPage(emu, path, minted.access_token);
      assert.equal(r.status, 401, path);
      assert.equal(r.body.error.code, 'InvalidAuthenticationToken');
      assert.match(r.body.error.message, /missing an Expiration Time/);
      assert.ok(r.headers.get('www-authenticate'));
    }
  });

  test('headers over 16 KB get 431 in Graph’s error shape with a request-id', async () => {
    const r = await raw('GET', '/v1.0/users', { host: `127.0.0.1:${emu.port}`, 'x-padding': 'a'.repeat(20_000) });
    assert.equal(r.status, 431, r.text);
    const body = JSON.parse(r.text);
    assert.deepEqual(Object.keys(body), ['error']);
    assert.equal(body.error.code, 'invalidRequest');
    assert.match(body.error.message, /too large/);
    assert.equal(body.error.innerError['request-id'], r.headers['request-id']);
    assert.ok(body.error.innerError.date);
  });

  test('headers over 16 KB on the token endpoint get 431 in Entra’s error shape', async () => {
    const r = await raw('POST', `/${tid}/oauth2/v2.0/token`, { host: `127.0.0.1:${emu.port}`, 'x-padding': 'a'.repeat(20_000), 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' });
    assert.equal(r.status, 431, r.text);
    const body = JSON.parse(r.text);
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description, /^AADSTS\d+: /);
    assert.deepEqual(body.error_codes.length, 1);
    assert.equal(body.correlation_id, r.headers['client-request-id']);
    assert.ok(r.headers['request-id']);
  });
});
