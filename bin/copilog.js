#!/usr/bin/env node
// copilog ships compiled JavaScript: dist/ is built from src/ by `npm run build` (npm start,
// npm test and npm pack run it first). Without it, or in a clone whose src/ changed since the
// last build, say so in one line rather than run code that is not the source.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
const stamp = new URL('../dist/.built', import.meta.url);
const src = new URL('../src/', import.meta.url);
if (!existsSync(main)) fail('dist/cli/main.js is missing');
// The TypeScript sources exist only in a clone: the package ships dist/ and, of src/, only serve's
// static web files. `npm run build` writes the stamp.
if (existsSync(new URL('cli/main.ts', src))) {
  if (!existsSync(stamp)) fail('dist/ was not built by npm run build');
  const built = statSync(stamp).mtimeMs;
  const newer = readdirSync(src, { recursive: true }).find((f) => String(f).endsWith('.ts') && statSync(new URL(String(f), src)).mtimeMs > built);
  if (newer !== undefined) fail(`src/${newer} changed since the last build`);
}
// `copilog`, `--help`, `-h`, `--version`, `-v`, `version`: answered without loading the CLI
// (commander and every command's options), from the help rendered at build time.
const args = process.argv.slice(2);
const help = new URL('../dist/cli/help.txt', import.meta.url);
if (args.length <= 1 && [undefined, '--help', '-h'].includes(args[0]) && existsSync(help)) {
  process.stdout.write(readFileSync(help, 'utf8'));
} else if (args.length === 1 && ['--version', '-v', 'version'].includes(args[0])) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  await import(main.href);
}

function fail(why) {
  process.stderr.write(`copilog: ${why}: run npm run build in the copilog folder\n`);
  process.exit(1);
}
