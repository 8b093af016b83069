// One way to open a store: a file path is the embedded SQLite store; a postgres:// URL is the
// fleet's PostgreSQL store. Commands call openStore and see only the Store interface. Each
// implementation loads only when asked for, so SQLite users never load pg and vice versa.
import type { OpenOptions } from './sqlite.js';
import { StoreOpenError, type Store } from './types.js';

export * from './types.js';
export * from './read.js';
export type { OpenOptions } from './sqlite.js';
export { pairTurns } from './conversations.js';

export const DEFAULT_STORE = 'copilog.db';

/** The store named by --store, else COPILOG_STORE, else ./copilog.db. */
export function storeTarget(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.COPILOG_STORE?.trim() || DEFAULT_STORE);
}

export const isPostgresTarget = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);

export async function openStore(target: string, o: OpenOptions = {}): Promise<Store> {
  if (isPostgresTarget(target)) {
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore(target, o);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) throw new StoreOpenError(`--store must be a file path or a postgres:// URL, not '${target}'`);
  const { openSqliteStore } = await import('./sqlite.js');
  return openSqliteStore(target, o);
}
