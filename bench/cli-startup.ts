// Start-up time of the built CLI: `copilog --help` and `copilog --version`, beside baselines run in
// the same invocation, interleaved, so that a busy machine slows all of them alike.
//
//   npm run bench:startup                       (builds dist/ first)
//   node --import tsx bench/cli-startup.ts [--runs 15] [--baseline-ref c4aa1e4] [--no-ref]
//
// Rows: bare `node -e 0` (the floor no CLI can beat); the built CLI's --version and --help (each
// command's code loads only when it runs); the same --help after importing, up front, every module
// the commands load (what the eager import graph costs, compiled); --help from src/ through tsx
// (the development path); and, when git has it, the CLI as shipped before (--baseline-ref: tsx at
// run time, every command loaded eagerly), checked out into a scratch folder beside our
// node_modules. Prints min, median and p90 wall time in ms per row.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
};
const RUNS = Number(arg('--runs', '15'));
const REF = process.argv.includes('--no-ref') ? undefined : arg('--baseline-ref', 'c4aa1e4');
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a positive integer');
if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  process.stderr.write('bench/cli-startup.ts: dist/ is missing: run npm run build (npm run bench:startup does)\n');
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'copilog-bench-startup-'));
// Every module a command loads in its action, imported before main.js parses the command line.
const eager = join(scratch, 'eager.mjs');
const heavy = ['emulator/server.js', 'emulator/scenario/load.js', 'store/index.js', 'client/index.js', 'export/engine.js', 'export/users.js',
  'formats/index.js', 'cli/doctor/run.js', 'cli/progress.js', 'graph/licensing.js'];
writeFileSync(eager, [...heavy, 'cli/main.js'].map((m) => `await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', m)).href)});`).join('\n') + '\n');

interface Row { name: string; argv: string[]; cwd?: string; ms: number[] }
const BIN = join(ROOT, 'bin', 'copilog.js');
const rows: Row[] = [
  { name: 'node -e 0 (floor)', argv: ['-e', '0'], ms: [] },
  { name: 'copilog --version', argv: [BIN, '--version'], ms: [] },
  { name: 'copilog --help', argv: [BIN, '--help'], ms: [] },
  { name: '--help, every command module loaded first', argv: [eager, '--help'], ms: [] },
  { name: '--help from src/ through tsx', argv: ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), '--help'], cwd: ROOT, ms: [] },
];

// The CLI as it shipped at REF: its bin, src and scenarios, with today's node_modules beside them.
if (REF !== undefined) {
  const old = join(scratch, 'old');
  try {
    execFileSync('bash', ['-c', `mkdir -p '${old}' && git -C '${ROOT}' archive '${REF}' bin src scenarios package.json | tar -x -C '${old}'`], { stdio: ['ignore', 'ignore', 'pipe'] });
    symlinkSync(join(ROOT, 'node_modules'), join(old, 'node_modules'));
    rows.push({ name: `--help as shipped at ${REF} (tsx, eager)`, argv: [join(old, 'bin', 'copilog.js'), '--help'], cwd: old, ms: [] });
  } catch (e) {
    process.stdout.write(`(no baseline at ${REF}: ${((e as { stderr?: Buffer }).stderr ?? '').toString().trim() || (e as Error).message})\n`);
  }
}

const env = { ...process.env, NO_COLOR: '1' };
function once(r: Row): number {
  const t = process.hrtime.bigint();
  const p = spawnSync(process.execPath, r.argv, { cwd: r.cwd ?? scratch, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (p.status !== 0) throw new Error(`${r.name} exited ${p.status}: ${p.stderr}`);
  return ms;
}

try {
  // One warm-up round (disk cache, tsx's compile cache), then interleaved measured rounds.
  for (const r of rows) once(r);
  for (let i = 0; i < RUNS; i++) for (const r of rows) r.ms.push(once(r));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const f = (n: number): string => n.toFixed(0).padStart(6);
const [l1, l5] = loadavg();
process.stdout.write(`CLI start-up, ${RUNS} runs each, interleaved; Node ${process.version}, ${availableParallelism()} cores, load average ${l1!.toFixed(1)} / ${l5!.toFixed(1)}\n`);
process.stdout.write(`${'wall ms'.padEnd(48)}${'min'.padStart(6)}${'median'.padStart(8)}${'p90'.padStart(6)}\n`);
const floor = q(rows[0]!.ms, 0.5);
for (const r of rows) {
  const med = q(r.ms, 0.5);
  process.stdout.write(`${r.name.padEnd(48)}${f(Math.min(...r.ms))}  ${f(med)}${f(q(r.ms, 0.9))}   ${r === rows[0] ? '' : `+${(med - floor).toFixed(0)} ms over node`}\n`);
}
