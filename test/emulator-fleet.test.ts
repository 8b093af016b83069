// The emulator's fleet side: a multi-tenant app (registered at home, consented in every customer
// tenant, one secret valid in all), Graph's per-app limit across tenants enforced with 429s, and
// GET /_emulator/stats counting per tenant and per app with the peak one-second rate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { withEmulator, type TestEmulator } from './support/emulator.js';

let emu: TestEmulator;
before(async () => {
  emu = await withEmulator('fleet-12');
});
after(async () => emu.close());

const APP = '5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const SECRET = 'fleet-secret-value-not-for-production';

async function call(tenant: string, token: string, userId: string) {
  return emu.fetch(`/v1.0/copilot/users/${userId}/interactionHistory/getAllEnterpriseInteractions?$top=1`, { headers: { authorization: `Bearer ${token}` } });
}

test('fleet-12: 13 tenants; the app has one registration and a service principal with consent in each; one secret gets a token in every tenant', async () => {
  const { tenants } = await emu.tenantList();
  assert.equal(tenants.length, 13);
  const customers = tenants.filter((t: any) => t.domain.startsWith('customer'));
  assert.equal(customers.length, 12);
  const sps = new Set<string>();
  for (const t of customers) {
    assert.equal(t.userCount, 25);
    const a = t.apps.find((x: any) => x.appId === APP);
    assert.ok(a, t.domain);
    assert.ok(a.roles.includes('AiEnterpriseInteraction.Read.All'));
    sps.add(a.servicePrincipalId);
    const token = await emu.token({ tenant: t.id, appId: APP, secret: SECRET });
    const r = await call(t.id, token, t.users[0].id);
    assert.equal(r.status, 200, await r.text());
  }
  assert.equal(sps.size, 12, 'one service principal per tenant');
  // A secret the home registration does not hold is refused everywhere.
  await assert.rejects(emu.token({ tenant: customers[0].id, appId: APP, secret: 'not-the-fleet-secret' }), /7000215/);
});

test('the per-app limit across tenants answers 429 with Retry-After; stats show per tenant, per app, 429s and the peak', async () => {
  const { tenants } = await emu.tenantList();
  const customers = tenants.filter((t: any) => t.domain.startsWith('customer'));
  const scenario = { ...(await import('yaml')).parse((await import('node:fs')).readFileSync(new URL('../scenarios/fleet-12.yaml', import.meta.url), 'utf8')), appRequestsPerSecond: 10 };
  await emu.control('/scenario', 'POST', scenario);
  const tokens = await Promise.all(customers.slice(0, 4).map((t: any) => emu.token({ tenant: t.id, appId: APP, secret: SECRET })));
  // 4 tenants × 5 requests at once: each tenant is far below 30/s, the app is above 10/s.
  const answers = await Promise.all(customers.slice(0, 4).flatMap((t: any, i: number) => Array.from({ length: 5 }, () => call(t.id, tokens[i]!, t.users[0].id))));
  const throttled = answers.filter((a) => a.status === 429);
  assert.ok(throttled.length >= 8, `429s: ${throttled.length}`);
  assert.ok(throttled.every((a) => Number(a.headers.get('retry-after')) >= 1));
  assert.equal((await throttled[0]!.json()).error.code, 'TooManyRequests');
  const stats = await emu.control('/stats');
  assert.equal(stats.appRequestsPerSecond, 10);
  assert.equal(stats.apps[APP].requests, 20);
  assert.equal(stats.apps[APP].throttled, throttled.length);
  assert.ok(stats.apps[APP].peakPerSecond <= 10, JSON.stringify(stats.apps[APP]));
  assert.equal(stats.apps[APP].peakArrivalsPerSecond, 20);
  assert.equal(Object.keys(stats.tenants).length, 4);
  assert.equal(stats.tenants[customers[0].id].requests, 5);
});
