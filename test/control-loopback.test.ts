// The control API hands out test credentials and mints tokens: it must answer loopback callers
// only, however the path is spelled. inject() plays a caller from another address in memory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { withEmulator, type TestEmulator } from './support/emulator.js';

let emu: TestEmulator;
before(async () => { emu = await withEmulator('demo'); });
after(() => emu.close());

const REMOTE = '192.0.2.2'; // TEST-NET-1: never on the wire, inject() stays in memory

for (const [method, url] of [
  ['GET', '/_emulator/tenants'],
  ['GET', '/%5Femulator/tenants'],
  ['GET', '/%5femulator/tenants'],
  ['POST', '/%5Femulator/reset'],
  ['POST', '/_emulator/tokens'],
  ['POST', '/%5F%65mulator/tokens'],
  ['GET', '/_emulator/tenants/x/interactions'],
] as const) {
  test(`${method} ${url} from ${REMOTE} is refused`, async () => {
    const r = await emu.inject({ method, url, remoteAddress: REMOTE, headers: { 'content-type': 'application/json' }, payload: method === 'POST' ? '{}' : undefined });
    assert.equal(r.statusCode, 403, r.body);
    assert.match(r.json().error.message, /loopback only/);
  });
}

test('the same calls from loopback are served', async () => {
  const r = await emu.inject({ method: 'GET', url: '/%5Femulator/tenants', remoteAddress: '127.0.0.1' });
  assert.equal(r.statusCode, 200);
  assert.ok(r.json().tenants.length > 0);
});
