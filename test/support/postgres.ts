// Real PostgreSQL for tests: the machine's server (COPILOG_TEST_PG, else 127.0.0.1:5432, trust
// auth, database test). Each test makes its own uniquely named database and drops it after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.COPILOG_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The URL of another database on the same server. */
export function pgUrl(database: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function adminQuery(sql: string, params: unknown[] = [], url = PG_ADMIN_URL): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database named copilog_test_<prefix>_<random>. */
export async function createTestDatabase(prefix = 'db'): Promise<TestDatabase> {
  const name = `copilog_test_${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    url: pgUrl(name),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
