// How the commands that talk to a tenant trust the emulator's CA: --ca, then NODE_EXTRA_CA_CERTS,
// then the default data dir, each tried until one signs the emulator's certificate; one message
// when none does. The emulator runs on a data dir of its own, as a user's second emulator would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ensurePki } from '../src/emulator/pki.js';
import { SCENARIO_DIR } from '../src/cli/scenarios.js';
import { cleanDir, tempDir, withEmulator, type TestEmulator } from './support/emulator.js';
import { copilog } from './support/cli.js';

let home: string;
let otherDir: string;
let otherCa: string;
let emu: TestEmulator;

before(async () => {
  home = tempDir('copilog-target-home-');
  otherDir = tempDir('copilog-target-other-');
  otherCa = (await ensurePki(otherDir)).ca.certPath;
  // Not in COPILOG_HOME's default place unless a test points COPILOG_HOME at `home`.
  emu = await withEmulator(join(SCENARIO_DIR, 'doctor', 'ok.yaml'), { dataDir: join(home, 'emulator') });
});
after(async () => {
  await emu?.close();
  cleanDir(home);
  cleanDir(otherDir);
});

describe('trusting the emulator started on another --data-dir', () => {
  test('copilog doctor --emulator URL with NODE_EXTRA_CA_CERTS alone', async () => {
    const r = await copilog(['doctor', '--emulator', emu.url, '--json'], { env: { NODE_EXTRA_CA_CERTS: emu.ca } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.verdict.primary.code, 'ok');
    assert.ok(JSON.stringify(r.json).includes(emu.ca), 'the report names the CA it trusted');
  });

  test('copilog export --emulator URL with NODE_EXTRA_CA_CERTS alone', async () => {
    const dir = tempDir('copilog-target-store-');
    try {
      const r = await copilog(['export', '--emulator', emu.url, '--store', join(dir, 'c.db'), '--json'], { env: { NODE_EXTRA_CA_CERTS: emu.ca } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.json.users > 0, r.stdout);
    } finally {
      cleanDir(dir);
    }
  });

  test('NODE_EXTRA_CA_CERTS naming another CA falls through to the default data dir', async () => {
    const r = await copilog(['doctor', '--emulator', emu.url, '--json'], { env: { NODE_EXTRA_CA_CERTS: otherCa, COPILOG_HOME: home } });
    assert.equal(r.code, 0, r.stderr);
  });

  test('none works: one message naming what was tried and what to do, exit 2', async () => {
    const r = await copilog(['doctor', '--emulator', emu.url, '--json'], { env: { NODE_EXTRA_CA_CERTS: otherCa } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot trust the emulator at https:\/\/127\.0\.0\.1:\d+: tried NODE_EXTRA_CA_CERTS .* \(did not sign its certificate\); the default data dir .* \(not readable\)\. Pass --ca/);
    assert.equal(r.stderr.match(/copilog:/g)?.length, 1, r.stderr);
  });

  test('--ca comes first: a wrong --ca is not rescued by NODE_EXTRA_CA_CERTS', async () => {
    const r = await copilog(['doctor', '--emulator', emu.url, '--ca', otherCa, '--json'], { env: { NODE_EXTRA_CA_CERTS: emu.ca } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /did not sign/);
  });
});
