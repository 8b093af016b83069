// The shipped code (bin/, src/) must run from a production install: every package it imports is
// a runtime dependency, not a devDependency (a dev-only import passes CI, which installs both).
// And the architecture holds: the emulator and the client meet only on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';
import { pathToFileURL } from 'node:url';
import semver from 'semver';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|js)$/.test(n) ? [p] : [];
  });
}

/** Bare package names imported (statically or dynamically) by the file, type-only imports excluded. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
    const spec = m[2] ?? m[3] ?? m[4]!;
    if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
    out.push(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  return out;
}

test('every package bin/ and src/ import is in dependencies', () => {
  const used = new Map<string, string>();
  for (const f of [...files(join(root, 'src')), ...files(join(root, 'bin'))]) for (const p of imports(f)) used.set(p, f.slice(root.length));
  assert.ok(used.size >= 8, `found only ${[...used.keys()].join(', ')}`);
  const missing = [...used].filter(([p]) => !(p in (pkg.dependencies ?? {})));
  assert.deepEqual(missing, [], `imported by shipped code but not in dependencies: ${missing.map(([p, f]) => `${p} (${f})`).join(', ')}`);
});

test('dependencies run on Node 20: engines and the better-sqlite3 major', () => {
  assert.match(pkg.engines.node, />=\s*20/);
  assert.match(pkg.dependencies['better-sqlite3'], /^\^?12\./, 'better-sqlite3 13 crashes on Node 20');
});

/** Relative imports of a file, resolved to paths under src/. */
function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => join(file, '..', m[1]!).slice(root.length));
}

test('the emulator and the client never import each other; src/graph imports neither', () => {
  const rules: [string, RegExp][] = [
    ['src/emulator/', /^src\/(client|cli)\//],
    ['src/client/', /^src\/(emulator|cli)\//],
    ['src/cli/doctor/', /^src\/emulator\//],
    ['src/graph/', /^src\/(emulator|client|cli)\//],
  ];
  const broken: string[] = [];
  let checked = 0;
  for (const f of files(join(root, 'src'))) {
    const rel = f.slice(root.length);
    for (const [dir, banned] of rules) {
      if (!rel.startsWith(dir)) continue;
      checked++;
      for (const target of localImports(f)) if (banned.test(target)) broken.push(`${rel} imports ${target}`);
    }
  }
  assert.ok(checked > 40, `checked ${checked} files`);
  assert.deepEqual(broken, []);
});

// What npm ships: the compiled dist/ (npm test builds it first), the scenarios and the docs.
// No TypeScript compiler or loader at run time, nothing of the repository's own tooling.
test('the package ships dist/, runs without tsx, and holds no tests, benches, scripts or tarballs', () => {
  assert.equal(pkg.bin.copilog, 'bin/copilog.js');
  for (const dev of ['tsx', 'esbuild', 'typescript']) assert.ok(!(dev in pkg.dependencies), `${dev} is a runtime dependency`);
  assert.ok('tsx' in pkg.devDependencies);
  assert.match(readFileSync(join(root, 'bin', 'copilog.js'), 'utf8'), /dist\/cli\/main\.js/);
  assert.ok(existsSync(join(root, 'dist', 'cli', 'main.js')), 'dist/ is not built: run npm run build (npm test does)');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const names: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
  // serve's static files are read from src/serve/web/ in the package root (src/serve/assets.ts).
  const stray = names.filter((n) => !n.startsWith('src/serve/web/') && /^(test|bench|scripts|src|\.ci|node_modules)\/|\.tgz$|\.tsbuildinfo$|^dist\/\.built$|^scenarios\/bench-|\.test\.|\.ts$/.test(n));
  assert.deepEqual(stray, []);
  for (const f of ['bin/copilog.js', 'dist/cli/main.js', 'dist/emulator/server.js', 'scenarios/demo.yaml', 'scenarios/doctor/ok.yaml', 'src/serve/web/index.html', 'package.json', 'README.md']) assert.ok(names.includes(f), `${f} is not in the package`);
});

test('the built CLI finds the shipped scenarios and package.json from dist/', async () => {
  const { SCENARIO_DIR, resolveScenario } = await import(pathToFileURL(join(root, 'dist', 'cli', 'scenarios.js')).href);
  assert.equal(SCENARIO_DIR, join(root, 'scenarios') + '/');
  assert.equal(resolveScenario('doctor/ok'), join(root, 'scenarios', 'doctor', 'ok.yaml'));
  // The only files src/ reads beside itself: ../../scenarios/ and ../../package.json.
  const reads = files(join(root, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/new URL\(\s*'([^']+)',\s*import\.meta\.url\)/g)].map((m) => m[1]));
  assert.deepEqual([...new Set(reads)].sort(), ['../../package.json', '../../scenarios/']);
});

// Consumers do not get our lockfile or overrides: every runtime package must declare an engine
// range that admits Node 20 by itself (a light-my-request 6.8 → cookie 2 tree declares Node 22).
test('every runtime package in the lockfile admits Node 20', () => {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const refused = Object.entries(lock.packages as Record<string, { version: string; dev?: boolean; engines?: { node?: string } | string[] }>)
    .filter(([path, p]) => path !== '' && !p.dev && !Array.isArray(p.engines) && p.engines?.node !== undefined && !semver.satisfies('20.0.0', p.engines.node))
    .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version} (node ${(p.engines as { node: string }).node})`);
  assert.deepEqual(refused, []);
  assert.ok(!('overrides' in pkg), 'overrides do not reach consumers; pin a version they resolve instead');
});
