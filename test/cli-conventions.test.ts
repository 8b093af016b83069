// How every command behaves when it is called wrongly, as gh and az do: a usage error exits 2
// (never 1, the code for a diagnosed failure) and says where the right way is written.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { copilog } from './support/cli.js';
import { cleanDir, tempDir } from './support/emulator.js';

/** Each command with one flag that takes a value, given with none. */
const COMMANDS: [string, string][] = [['emulator', '--port'], ['demo', '--port'], ['doctor', '--emulator'], ['export', '--store'], ['dump', '--out']];

describe('usage errors exit 2 with a hint on every command', () => {
  for (const [cmd, flag] of COMMANDS) {
    test(`copilog ${cmd} --bogus and copilog ${cmd} ${flag} (no value)`, async () => {
      const unknown = await copilog([cmd, '--bogus']);
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /^copilog: unknown option '--bogus'/);
      assert.match(unknown.stderr, new RegExp(`see \`copilog ${cmd} --help\``));
      const missing = await copilog([cmd, flag]);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, new RegExp(`option '${flag} <[^>]+>' argument missing`));
      assert.match(missing.stderr, new RegExp(`see \`copilog ${cmd} --help\``));
    });
  }

  test('an unknown flag before any command points at copilog --help', async () => {
    const r = await copilog(['--bogus']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /see `copilog --help`/);
  });

  test('copilog demo --port abc is refused as emulator --port abc is, before anything starts', async () => {
    for (const cmd of ['demo', 'emulator']) {
      const r = await copilog([cmd, '--port', 'abc']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--port must be a whole number from 0 to 65535, not 'abc'/);
      assert.match(r.stderr, new RegExp(`see \`copilog ${cmd} --help\``));
      assert.equal(r.stdout, '');
    }
  });

  test('a secret under an unknown flag is still redacted', async () => {
    const secret = 'Xy98Q~abcdefghijklmnopqrstuvwxyz0123456';
    const r = await copilog(['export', `--client-secrt=${secret}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(!r.stderr.includes(secret), r.stderr);
  });
});

describe('common slips get a message that says what to do', () => {
  test('doctor and export --emulator with a Graph URL: use the base URL', async () => {
    for (const cmd of ['doctor', 'export']) {
      const r = await copilog([cmd, '--emulator', 'https://127.0.0.1:8443/v1.0']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--emulator takes the emulator's base URL \(https:\/\/127\.0\.0\.1:8443\).*drop '\/v1\.0'/);
    }
  });

  test('emulator --port N with N in use: another emulator may run there, try --port 0', async () => {
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as AddressInfo).port;
    const data = tempDir('copilog-port-');
    try {
      const r = await copilog(['emulator', '--port', String(port), '--data-dir', data]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: another emulator may be running there`));
      assert.match(r.stderr, /--port 0/);
    } finally {
      server.close();
      cleanDir(data);
    }
  });
});
