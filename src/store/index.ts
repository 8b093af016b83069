// One way to open a store: a file path is the embedded SQLite store; a postgres:// URL will be
// the fleet's PostgreSQL store. Commands call openStore and see only the Store interface.
import { openSqliteStore, type OpenOptions } from './sqlite.js';
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

export async function openStore(target: string, o: OpenOptions = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(target)) {
    throw new StoreOpenError('PostgreSQL stores are not available in this version of copilog; pass a file path (--store copilog.db)');
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) throw new StoreOpenError(`--store must be a file path (or a postgres:// URL), not '${target}'`);
  return openSqliteStore(target, o);
}
