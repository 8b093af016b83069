// Shipped scenarios are found by name from any directory ("doctor/ok", also "scenarios/doctor/ok.yaml"
// as the repository's hints spell it), and `copilog emulator --list-scenarios` names them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { listScenarios, resolveScenario, SCENARIO_DIR } from '../src/cli/scenarios.js';
import { cleanDir, tempDir } from './support/emulator.js';
import { copilog, startCli } from './support/cli.js';

const elsewhere = tempDir('copilog-cwd-');
const data = tempDir('copilog-scn-data-');
after(() => { cleanDir(elsewhere); cleanDir(data); });

test('names, a leading scenarios/ and an extension all resolve to the shipped file', () => {
  const ok = join(SCENARIO_DIR, 'doctor', 'ok.yaml');
  for (const n of ['doctor/ok', 'scenarios/doctor/ok', 'scenarios/doctor/ok.yaml', './scenarios/doctor/ok.yaml', 'doctor/ok.yaml']) {
    const cwd = process.cwd();
    process.chdir(elsewhere);
    try {
      assert.equal(resolveScenario(n), ok, n);
    } finally {
      process.chdir(cwd);
    }
  }
  assert.throws(() => resolveScenario('doctor/nope'), /--list-scenarios/);
});

test('copilog emulator --list-scenarios, from another directory', async () => {
  const r = await copilog(['emulator', '--list-scenarios'], { cwd: elsewhere });
  assert.equal(r.code, 0, r.stderr);
  const names = r.stdout.trim().split('\n');
  assert.deepEqual(names, listScenarios());
  for (const n of ['demo', 'seed-403', 'doctor/ok', 'doctor/user.guest']) assert.ok(names.includes(n), n);
});

test('copilog emulator --scenario scenarios/doctor/ok.yaml starts from another directory', async () => {
  const { child, done } = startCli(['emulator', '--scenario', 'scenarios/doctor/ok.yaml', '--port', '0', '--json', '--data-dir', data], { cwd: elsewhere });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!out.includes('\n') && child.exitCode === null) await once(child.stdout!, 'data');
  child.kill('SIGTERM');
  const r = await done;
  assert.match(out, /"ready":true/, r.stderr);
});
