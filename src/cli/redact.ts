// One redaction for every message the CLI prints about how it was called (usage errors, commander's
// own complaints, failures): a value that looks like a secret never reaches the terminal, even when
// it was passed under the wrong flag (a client secret given to --client-id is a common slip).
import { redact } from './doctor/bundle.js';

/** Flags whose value is always a secret. */
const SECRET_FLAGS = ['--client-secret', '--access-token'];
/** Environment variables whose value is always a secret. */
const SECRET_ENV = ['AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PASSWORD'];

/** Entra client secrets since 2021: three characters, a digit, "Q~", then 31 to 37 more. */
const ENTRA_SECRET = /[A-Za-z0-9_.~-]{3}\dQ~[A-Za-z0-9_.~-]{31,37}/g;
/** GUID-shaped, even with a typo in it (a mistyped client id is not a secret). */
const GUID = /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/i;
/** A quoted value in a message: 'value' or "value". */
const QUOTED = /(['"])([^'"\s]{16,})\1/g;

/** Values given to the secret flags on this command line (--flag value and --flag=value). */
export function secretArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    for (const f of SECRET_FLAGS) {
      if (a === f && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
      else if (a.startsWith(`${f}=`)) out.push(a.slice(f.length + 1));
    }
  });
  return out.filter((s) => s !== '-' && s.length >= 4);
}

/**
 * Does a quoted value look like a secret rather than an id, a name, a path, a URL or a number?
 * Long, without spaces, mixing letters with digits or symbols, and not a GUID, path, URL, e-mail
 * address or domain name.
 */
function secretShaped(v: string): boolean {
  if (GUID.test(v) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /[\\/]/.test(v) || /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(v)) return false;
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v) || /^-?\d+(\.\d+)?$/.test(v) || /^--?[a-z]/i.test(v)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(v)).length;
  return classes >= 3 || (classes === 2 && v.length >= 24 && /\d/.test(v));
}

/** The message with every secret-looking value replaced. */
export function redactMessage(text: string, argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string {
  const literals = [...secretArgs(argv), ...SECRET_ENV.map((k) => env[k] ?? '')];
  return redact(text, literals)
    .replace(ENTRA_SECRET, '[redacted secret]')
    .replace(QUOTED, (m, q: string, v: string) => {
      // '--flag=value' (commander's unknown-option message): judge the value alone.
      const kv = /^(--?[A-Za-z][\w-]*=)(.+)$/.exec(v);
      if (kv) return secretShaped(kv[2]!) ? `${q}${kv[1]}[redacted]${q}` : m;
      return secretShaped(v) ? `${q}[redacted]${q}` : m;
    });
}
