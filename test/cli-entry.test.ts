// The entry points a new user meets first: copilog alone, its version three ways, the bin script
// when dist/ is missing or older than src/, and npm test without ../shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copilog, ROOT } from './support/cli.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('copilog alone prints the help on stdout and exits 0', async () => {
  const r = await copilog([]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: copilog \[options\] \[command\]/);
  for (const c of ['emulator', 'demo', 'doctor', 'export', 'dump', 'version']) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, 'm'));
  assert.equal(r.stderr, '');
});

test('the help bin/ prints without loading the CLI (rendered at build time) is the CLI\'s own help, with -h too', async () => {
  const live = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), '--help'], { encoding: 'utf8' });
  assert.equal(live.status, 0, live.stderr);
  for (const args of [['--help'], ['-h'], []]) {
    const r = await copilog(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, live.stdout, `copilog ${args.join(' ')}`);
  }
  // A command's help still comes from the CLI itself.
  const doctor = await copilog(['doctor', '--help']);
  assert.match(doctor.stdout, /^Usage: copilog doctor/);
});

test('the top-level description names only commands that exist', async () => {
  const r = await copilog(['--help']);
  assert.equal(r.code, 0);
  const [description, rest] = r.stdout.split('\nOptions:') as [string, string];
  const commands = rest.split('\nCommands:')[1] ?? '';
  // Every command word the description uses must be a command the help lists.
  for (const word of ['watch', 'serve', 'report', 'fleet', 'worker', 'sync']) {
    if (new RegExp(`\\b${word}\\b`, 'i').test(description)) assert.match(commands, new RegExp(`^\\s+${word}\\b`, 'm'), `the description names ${word}`);
  }
});

test('copilog --version, -v and copilog version print the package version', async () => {
  for (const args of [['--version'], ['-v'], ['version']]) {
    const r = await copilog(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, `${version}\n`, args.join(' '));
  }
});

/** A copy of bin/copilog.js in a scratch folder laid out like a clone or a package. */
function scratch(layout: { dist?: boolean; stamp?: boolean; src?: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'copilog-entry-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin', 'copilog.js'), join(dir, 'bin', 'copilog.js'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  if (layout.dist) {
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'cli', 'main.js'), "process.stdout.write('ran dist\\n');\n");
  }
  if (layout.stamp) writeFileSync(join(dir, 'dist', '.built'), '');
  if (layout.src) {
    mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'src', 'cli', 'main.ts'), '');
  }
  return dir;
}

test('bin/copilog.js: one line saying to build when dist/ is missing or older than src/', () => {
  const run = (dir: string) => spawnSync(process.execPath, [join(dir, 'bin', 'copilog.js'), '--help'], { encoding: 'utf8' });
  const dirs: string[] = [];
  try {
    const missing = scratch({});
    dirs.push(missing);
    let r = run(missing);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'copilog: dist/cli/main.js is missing: run npm run build in the copilog folder\n');

    // An installed package: dist/ without src/ runs as it is.
    const installed = scratch({ dist: true });
    dirs.push(installed);
    r = run(installed);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ran dist\n');

    // The package ships serve's web files under src/serve/web/ (and no stamp): still a package.
    mkdirSync(join(installed, 'src', 'serve', 'web'), { recursive: true });
    writeFileSync(join(installed, 'src', 'serve', 'web', 'app.js'), '');
    r = run(installed);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ran dist\n');

    // A clone: src/ edited after the last build.
    const clone = scratch({ dist: true, stamp: true, src: true });
    dirs.push(clone);
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(clone, 'dist', '.built'), past, past);
    r = run(clone);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'copilog: src/cli/main.ts changed since the last build: run npm run build in the copilog folder\n');
    utimesSync(join(clone, 'src', 'cli', 'main.ts'), new Date(past.getTime() - 60_000), new Date(past.getTime() - 60_000));
    r = run(clone);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ran dist\n');
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('npm test and .ci/run stop at once, in the same line, without ../shared/graph-reference', () => {
  const dir = mkdtempSync(join(tmpdir(), 'copilog-noshared-'));
  try {
    mkdirSync(join(dir, 'clone', 'scripts'), { recursive: true });
    copyFileSync(join(ROOT, 'scripts', 'check-shared.js'), join(dir, 'clone', 'scripts', 'check-shared.js'));
    writeFileSync(join(dir, 'clone', 'package.json'), '{"type":"module"}');
    const r = spawnSync(process.execPath, [join(dir, 'clone', 'scripts', 'check-shared.js')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "copilog's tests need ../shared/graph-reference (Microsoft's reference data) beside the clone\n");
    // Beside the real ../shared it passes silently.
    assert.equal(execFileSync(process.execPath, [join(ROOT, 'scripts', 'check-shared.js')], { encoding: 'utf8' }), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.match(pkg.scripts.pretest, /^node scripts\/check-shared\.js && /);
  assert.match(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'), /^node scripts\/check-shared\.js$/m);
});
