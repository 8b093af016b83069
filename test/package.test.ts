// The shipped code (bin/, src/) must run from a production install: every package it imports is
// a runtime dependency, not a devDependency (a dev-only import passes CI, which installs both).
// And the architecture holds: the emulator and the client meet only on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';

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
