// The emulator's log: readable lines on a terminal, JSON lines otherwise.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readableLine } from '../src/cli/log-lines.js';
import { cleanDir, tempDir } from './support/emulator.js';
import { BIN, cleanEnv, startCli } from './support/cli.js';

const data = tempDir('copilog-logs-');
after(() => cleanDir(data));

/** Run until `until` shows in the output, then stop it; the output so far. */
async function runUntil(child: ReturnType<typeof spawn>, stream: NodeJS.ReadableStream, until: RegExp): Promise<string> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${until} within 120 s: ${out}`)), 120_000);
    stream.on('data', (d) => {
      out += d;
      if (until.test(out)) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', () => { clearTimeout(timer); resolve(); });
  });
  return out;
}

test('a pino line becomes time, level, message and fields', () => {
  const line = readableLine(JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), pid: 1, hostname: 'h', reqId: 'req-1', event: 'graph.refused', gate: 'license', msg: 'refused at gate: license' }));
  assert.equal(line, '03:04:05.006 INFO  refused at gate: license reqId=req-1 event=graph.refused gate=license');
  assert.equal(readableLine('not json'), 'not json');
});

test('off a terminal the emulator logs JSON lines on stderr', async () => {
  const { child, done } = startCli(['emulator', '--port', '0', '--json', '--data-dir', data, '--scenario', 'doctor/ok']);
  const err = await runUntil(child, child.stderr!, /listening/);
  child.kill('SIGTERM');
  await done;
  const first = err.split('\n').find((l) => /listening/.test(l))!;
  assert.equal(JSON.parse(first).level, 30, err);
});

test('on a terminal (a pty from script(1)) it logs readable lines', { skip: !existsSync('/usr/bin/script') && 'no script(1)' }, async () => {
  const cmd = `'${process.execPath}' '${BIN}' emulator --port 0 --data-dir '${data}' --scenario doctor/ok`;
  const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: cleanEnv(), detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = await runUntil(child, child.stdout!, /Ctrl-C stops it/);
  process.kill(-child.pid!, 'SIGTERM');
  assert.match(out, /^\d\d:\d\d:\d\d\.\d{3} INFO  Server listening at https:\/\/127\.0\.0\.1:\d+/m);
  assert.doesNotMatch(out, /"level":/);
});

