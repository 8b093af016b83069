// The fleet's rate gate on the machine's PostgreSQL, without Graph: several gates (as several
// workers would hold, each with its own database connections) take slots of their tenants' limits
// and of the app's limit across tenants. When each acquire returns is when its request would be
// sent: every sliding second must hold at most each limit, whatever mix of tenants asks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FleetDb } from '../src/store/fleet.js';
import { ARRIVAL_JITTER_MS, FleetGate, LATE_SLOT_MS, slotRate } from '../src/fleet/worker.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

const APP = '5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
let db: TestDatabase;
const opened: FleetDb[] = [];

before(async () => {
  db = await createTestDatabase('gate');
});
after(async () => {
  for (const f of opened) await f.close();
  await db.drop();
});

async function worker(): Promise<FleetDb> {
  const f = await FleetDb.open(db.url);
  opened.push(f);
  return f;
}

/** The most sends in any sliding second. */
function peak(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[j]! <= t[i]! - 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

test('slotRate leaves room for a late send and uneven arrival in every second', () => {
  const stretch = 1 + (LATE_SLOT_MS + ARRIVAL_JITTER_MS) / 1000;
  for (const limit of [1, 2, 5, 30, 60, 1500]) {
    const r = slotRate(limit);
    assert.ok(r > 0 && r <= limit, `${limit}: ${r}`);
    // The slots of 1 s plus the lateness and jitter allowances, plus one, fit in the limit.
    const worst = Math.floor(r * stretch) + 1;
    assert.ok(worst <= limit, `${limit}: ${r}/s can put ${worst} in a second`);
  }
});

test('three workers, three tenants, requests all at once: each tenant and the app stay within their limits', async () => {
  const limits = { tenantRate: 10, appRate: 20 };
  const tenants = ['t-one', 't-two', 't-three'];
  const sent: Record<string, number[]> = Object.fromEntries(tenants.map((t) => [t, []]));
  const all: number[] = [];
  await Promise.all(tenants.map(async (tenant) => {
    const gate = new FleetGate(await worker(), tenant, APP, limits);
    // 16 requests in flight per tenant, 48 in all: the app's limit binds (3 × 8.9 > 17.5 per second).
    await Promise.all(Array.from({ length: 16 }, async () => {
      await gate.acquire();
      const now = Date.now();
      sent[tenant]!.push(now);
      all.push(now);
    }));
  }));
  assert.equal(all.length, 48);
  for (const t of tenants) assert.ok(peak(sent[t]!) <= limits.tenantRate, `${t}: ${peak(sent[t]!)} in a second`);
  assert.ok(peak(all) <= limits.appRate, `app: ${peak(all)} in a second`);
  // Paced, not serialised: 48 requests at about 17.5/s take under 4 s.
  const span = Math.max(...all) - Math.min(...all);
  assert.ok(span < 4000, `${span} ms`);
});

test('a Retry-After one worker gets for a tenant holds that tenant in every worker, and no other tenant', async () => {
  const limits = { tenantRate: 30, appRate: 1500 };
  const a = new FleetGate(await worker(), 'paused-tenant', APP, limits);
  const b = new FleetGate(await worker(), 'paused-tenant', APP, limits);
  const other = new FleetGate(await worker(), 'free-tenant', APP, limits);
  await a.acquire();
  a.backOff(1500, 429);
  await new Promise((r) => setTimeout(r, 100)); // the pause reaches the database
  const started = Date.now();
  await other.acquire();
  const otherWaited = Date.now() - started;
  await b.acquire();
  const bWaited = Date.now() - started;
  assert.ok(bWaited >= 1300, `the other worker on the paused tenant waited ${bWaited} ms`);
  assert.ok(otherWaited < 1000, `another tenant waited ${otherWaited} ms`);
});

test('the rate rows are made again when the table was emptied (it is UNLOGGED: a server crash empties it)', async () => {
  const f = await worker();
  const gate = new FleetGate(f, 'recreated', APP, { tenantRate: 5, appRate: 1500 });
  await gate.acquire();
  await f.pool.query('DELETE FROM fleet_rate');
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    await gate.acquire();
    times.push(Date.now());
  }
  assert.ok(peak(times) <= 5, `${peak(times)} in a second`);
  const rows = await f.pool.query("SELECT key FROM fleet_rate WHERE key LIKE '%recreated%'");
  assert.equal(rows.rowCount, 1);
});
