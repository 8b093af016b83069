// The store contract (test/support/store-contract.ts) on PostgreSQL, one fresh database per case,
// plus what only a shared server has: workers migrating at once, a newer schema, an unreachable
// server, the single-statement page write.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, StoreOpenError } from '../src/store/index.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import { storeContract } from './support/store-contract.js';
import { adminQuery, createTestDatabase, type TestDatabase } from './support/postgres.js';

const made: TestDatabase[] = [];
const fresh = async () => {
  const db = await createTestDatabase('store');
  made.push(db);
  return db;
};

storeContract({
  name: 'postgres',
  target: async () => (await fresh()).url,
  missing: async () => (await fresh()).url,
});

after(async () => {
  for (const db of made) await db.drop();
});

test('postgres: eight workers opening one new database together migrate it once', async () => {
  const db = await fresh();
  const stores = await Promise.all(Array.from({ length: 8 }, () => openStore(db.url)));
  const r = await adminQuery("SELECT version FROM copilog_schema WHERE component = 'store'", [], db.url);
  assert.deepEqual(r.rows, [{ version: SCHEMA_VERSION }]);
  await Promise.all(stores.map((s) => s.close()));
});

test('postgres: a database of a newer schema is refused, named, and left as it was', async () => {
  const db = await fresh();
  const s = await openStore(db.url);
  await s.upsertUsers('t', [{ id: 'a' }]);
  await s.close();
  await adminQuery("UPDATE copilog_schema SET version = 99 WHERE component = 'store'", [], db.url);
  await assert.rejects(openStore(db.url), (e: Error) => e instanceof StoreOpenError && /newer copilog \(store schema 99; this copilog reads up to \d+\).*not modified/.test(e.message));
  await assert.rejects(openStore(db.url, { readonly: true }), /newer copilog/);
  const r = await adminQuery('SELECT count(*)::int AS n FROM users', [], db.url);
  assert.equal(r.rows[0].n, 1);
});

test('postgres: an unreachable server or a missing database is one clear StoreOpenError, with no password in it', async () => {
  await assert.rejects(openStore('postgres://copilog:s3cret@127.0.0.1:1/nope'), (e: Error) => e instanceof StoreOpenError && /cannot reach PostgreSQL at postgres:\/\/copilog:\*\*\*@127\.0\.0\.1:1\/nope/.test(e.message) && !e.message.includes('s3cret'));
  const u = new URL(made[0]?.url ?? (await fresh()).url);
  u.pathname = '/copilog_test_does_not_exist';
  await assert.rejects(openStore(u.toString()), /does not exist/);
});

test('postgres: a database holding someone else\'s interactions table is refused untouched', async () => {
  const db = await fresh();
  await adminQuery('CREATE TABLE interactions (x int)', [], db.url);
  await assert.rejects(openStore(db.url), /did not create/);
  const r = await adminQuery("SELECT to_regclass('copilog_schema') IS NULL AS untouched", [], db.url);
  assert.equal(r.rows[0].untouched, true);
});
