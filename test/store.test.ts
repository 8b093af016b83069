// The store contract (test/support/store-contract.ts) on the embedded SQLite store: one file each.
import { join } from 'node:path';
import { storeContract } from './support/store-contract.js';
import { cleanDir, tempDir } from './support/emulator.js';

const dir = tempDir('copilog-store-test-');
let n = 0;

storeContract({
  name: 'sqlite',
  target: async () => join(dir, `s${++n}.db`),
  missing: async () => join(dir, 'missing.db'),
  cleanup: async () => cleanDir(dir),
});
