// On a terminal the doctor shows each check as it completes (a run may take up to --timeout), then
// erases those lines before the report that lists them all; off a terminal, stderr stays quiet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIO_DIR } from '../src/cli/scenarios.js';
import { withEmulator, type TestEmulator } from './support/emulator.js';
import { BIN, cleanEnv, copilog } from './support/cli.js';

let emu: TestEmulator;
before(async () => { emu = await withEmulator(join(SCENARIO_DIR, 'doctor', 'ok.yaml')); });
after(async () => { await emu?.close(); });

test('on a terminal (a pty from script(1)): each check as it completes, erased before the report', { skip: !existsSync('/usr/bin/script') && 'no script(1)' }, async () => {
  const cmd = `'${process.execPath}' '${BIN}' doctor --emulator ${emu.url} --ca '${emu.ca}'`;
  const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: cleanEnv({ NO_COLOR: '1' }), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0, out);
  const report = out.indexOf('Verdict:');
  const live = out.indexOf('copilog doctor: checking');
  assert.ok(live >= 0 && live < report, out);
  assert.match(out.slice(live, report), /PASS {2}config/);
  assert.match(out.slice(live, report), /\x1b\[\d+A\x1b\[J/, 'the live lines are erased before the report');
});

test('off a terminal nothing is drawn on stderr', async () => {
  const r = await copilog(['doctor', '--emulator', emu.url, '--ca', emu.ca]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /Verdict:/);
});
