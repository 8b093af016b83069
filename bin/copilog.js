#!/usr/bin/env node
// copilog ships compiled JavaScript: dist/ is built from src/ by `npm run build` (npm runs it on
// install inside a clone and before packing). Without it, say so in one line.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('copilog: dist/cli/main.js is missing: run npm run build (or npm install) in the copilog folder\n');
  process.exit(1);
}
await import(main.href);
