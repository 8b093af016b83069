// The store a command writes to: --store, else COPILOG_STORE, else ./copilog.db. A migration long
// enough to notice (a large store from an older copilog) is announced on stderr as it starts.
import { openStore, storeTarget, type OpenOptions, type Store } from '../store/index.js';

export function openCommandStore(flag: string | undefined, o: OpenOptions = {}): Promise<Store> {
  return openStore(storeTarget(flag), { onUpgrade: (m) => process.stderr.write(`copilog: ${m}\n`), ...o });
}
