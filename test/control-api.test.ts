// The control API. It hands out test credentials and mints tokens, so it must answer loopback callers
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

test('reset returns the clock to the scenario’s: real time for the demo, after an advance and a freeze', async () => {
  const moved = await emu.control('/clock', 'POST', { advance: '2h', frozen: true });
  assert.ok(Date.parse(moved.now) - Date.now() > 7_000_000);
  await emu.control('/reset', 'POST');
  const clock = await emu.control('/clock');
  assert.equal(clock.frozen, false);
  assert.ok(Math.abs(Date.parse(clock.now) - Date.now()) < 5_000, clock.now);
});
