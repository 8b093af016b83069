// The real command line as a child process, with a clean environment (no AZURE_* or COPILOG_*
// from the developer's shell), so a test sees exactly what a user at a terminal would.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'copilog.js');

export interface CliRun { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number; json: any }

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(AZURE_|COPILOG_|NO_COLOR|FORCE_COLOR|NODE_EXTRA_CA_CERTS)/.test(k)) env[k] = v;
  return Object.assign(env, { COPILOG_HOME: join(ROOT, '.no-such-copilog-home') }, extra);
}

/** Start the CLI; `done` settles when it exits (killed or not). */
export function startCli(args: string[], opts: { env?: Record<string, string>; stdin?: string; cwd?: string } = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(opts.env), cwd: opts.cwd ?? ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, json });
    });
  });
  child.stdin!.end(opts.stdin ?? '');
  return { child, done };
}

export const copilog = (args: string[], opts: Parameters<typeof startCli>[1] = {}): Promise<CliRun> => startCli(args, opts).done;

/** A file's bytes as a hash (with its WAL and SHM beside it), to show that nothing touched it. */
export function fingerprint(path: string): string {
  const h = createHash('sha256');
  for (const p of [path, `${path}-wal`, `${path}-shm`]) h.update(!existsSync(p) ? `absent:${p}` : statSync(p).isDirectory() ? `directory:${readdirSync(p).join('/')}` : readFileSync(p));
  return h.digest('hex');
}

/** Collects the JSON lines a child writes to a stream (copilog's --json events, a worker's log); other lines are skipped. */
export function jsonLines(stream: NodeJS.ReadableStream, into: any[] = []): any[] {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        into.push(JSON.parse(line));
      } catch { /* not a JSON line */ }
    }
  });
  return into;
}
