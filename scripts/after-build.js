// After tsc: the top-level help, rendered once into dist/cli/help.txt so that `copilog --help` and
// `copilog` alone print it without loading commander and every command's options (bin/copilog.js;
// test/cli-entry.test.ts checks it equals the live help), then the stamp bin/ checks in a clone.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
const env = { ...process.env, NO_COLOR: '1' };
delete env.COLUMNS;
const help = execFileSync(process.execPath, [main.pathname, '--help'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] });
writeFileSync(new URL('../dist/cli/help.txt', import.meta.url), help);
writeFileSync(new URL('../dist/.built', import.meta.url), '');
