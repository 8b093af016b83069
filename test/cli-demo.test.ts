// What `copilog demo --exit` tells a user to run next: copilog commands that work from any
// directory (not `node bin/copilog.js`), and no URL of the emulator it has already stopped.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cleanDir, tempDir } from './support/emulator.js';
import { copilog } from './support/cli.js';

const dir = tempDir('copilog-demo-');
after(() => cleanDir(dir));

test('copilog demo --exit from another directory', { timeout: 600_000 }, async () => {
  const store = join(dir, 'demo.db');
  const r = await copilog(['demo', '--exit', '--store', store, '--data-dir', join(dir, 'emu')], { cwd: dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stdout, /bin\/copilog|node /);
  const next = r.stdout.slice(r.stdout.indexOf('Go on with:'));
  assert.match(next, new RegExp(`copilog dump --store ${store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
  assert.doesNotMatch(next, /https:\/\//, 'a URL of the stopped emulator');
  assert.doesNotMatch(next, /^\s*export AZURE_/m);
  assert.match(next, /The emulator has stopped/);
});
