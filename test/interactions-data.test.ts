// What the export returns over time and per user: ingestion delay and retention (graph-facts §12
// #22), and the locale a scenario gives each user.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestEmulator } from './support/emulator.js';
import { exportPath, startDemo } from './support/interactions.js';

let emu: TestEmulator;
let tid: string;
let uid: string;
let token: string;

before(async () => {
  ({ emu, tid, defaultUserId: uid, token } = await startDemo());
});
after(() => emu.close());

async function allIds(): Promise<string[]> {
  const ids: string[] = [];
  let next: string | undefined = exportPath(uid, '$top=100');
  while (next) {
    const r = await emu.fetch(next, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    const body = await r.json();
    ids.push(...body.value.map((i: { id: string }) => i.id));
    next = body['@odata.nextLink'];
  }
  return ids;
}

test('an ingestion delay hides a new interaction until the clock passes it', async () => {
  await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { ingestionDelaySeconds: 60 } });
  try {
    const before = await allIds();
    const { created } = await emu.control(`/tenants/${tid}/users/${uid}/interactions`, 'POST', { count: 2 });
    assert.deepEqual(await allIds(), before, 'not visible during the delay');
    await emu.control('/clock', 'POST', { advance: '61s' });
    assert.deepEqual(await allIds(), [...before, ...created.map((i: { id: string }) => i.id)]);
  } finally {
    await emu.control('/reset', 'POST');
  }
});

test('a retention window drops older history, and only that', async () => {
  const everything = await allIds();
  await emu.control(`/tenants/${tid}`, 'PATCH', { behaviours: { retentionDays: 20 } });
  try {
    // A frozen clock, so the window's edge is the same instant for the emulator and the test.
    const now = Date.parse((await emu.control('/clock', 'POST', { frozen: true })).now);
    const kept = await allIds();
    const expected = everything.filter((id) => Number(id) >= now - 20 * 86_400_000);
    assert.ok(kept.length > 0 && kept.length < everything.length, `${kept.length} of ${everything.length} kept`);
    assert.deepEqual(kept, expected);
  } finally {
    await emu.control('/reset', 'POST');
  }
});

test('each user’s interactions carry the locale the scenario gives them', async () => {
  const t = (await emu.tenantList()).tenants[0];
  const byUpn = new Map<string, string>(t.users.map((u: { userPrincipalName: string; id: string }) => [u.userPrincipalName.split('@')[0], u.id]));
  for (const [name, locale] of [['johanna.lorenz', 'de-de'], ['lee.gu', 'ja-jp'], ['adele.vance', 'en-us']] as const) {
    const r = await emu.fetch(exportPath(byUpn.get(name)!, '$top=50'), { headers: { authorization: `Bearer ${token}` } });
    const locales = new Set((await r.json()).value.map((i: { locale: string }) => i.locale));
    assert.deepEqual([...locales], [locale], name);
  }
});
