// A mistake in how copilog was called (exit code 2), as opposed to a diagnosed failure (1).
import type { Pseudonymizer } from '../formats/pseudonymize.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The line after every usage error: where the right way to call it is written. */
export const usageHint = (command?: string): string => `see \`copilog ${command ? `${command} ` : ''}--help\``;

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, not '${v}'`);
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function parseLogLevel(v: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not '${v}'`);
  return v as LogLevel;
}

/** --emulator takes the emulator's base URL; a Graph or authority URL under it is a common slip. */
export function checkEmulatorUrl(v: string): void {
  if (!/^https:\/\//i.test(v)) throw new UsageError(`--emulator must be an https:// URL, not '${v}'`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--emulator must be an https:// URL, not '${v}'`);
  }
  if (u.pathname.replace(/\/+$/, '') !== '' || u.search || u.hash) {
    throw new UsageError(`--emulator takes the emulator's base URL (${u.origin}), not '${v}': drop '${u.pathname}${u.search}${u.hash}'`);
  }
}

/** --pseudonymize KEYFILE: the pseudonymizer, or undefined without the flag; a bad key file is a usage error. */
export async function pseudonymizerFrom(keyFile: string | undefined): Promise<Pseudonymizer | undefined> {
  if (keyFile === undefined) return undefined;
  const { KeyFileError, Pseudonymizer, readKeyFile } = await import('../formats/pseudonymize.js');
  try {
    return new Pseudonymizer(readKeyFile(keyFile));
  } catch (e) {
    if (e instanceof KeyFileError) throw new UsageError(e.message);
    throw e;
  }
}
