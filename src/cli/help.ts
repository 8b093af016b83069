// The EXAMPLES, ENVIRONMENT and EXIT CODES sections under each command's options (gh and az
// print the same three). Plain text, kept here so the commands' files stay about behaviour.

interface Sections { examples: [string, string][]; environment: [string, string][]; exitCodes: [string, string][] }

const TENANT_ENV: [string, string][] = [
  ['AZURE_TENANT_ID', 'the tenant; when set, a command without --emulator targets the real tenant'],
  ['AZURE_CLIENT_ID', 'the application (client) id'],
  ['AZURE_CLIENT_SECRET', 'its client secret (or AZURE_CLIENT_CERTIFICATE_PATH and _PASSWORD)'],
  ['COPILOG_EMULATOR_URL', 'the emulator when no tenant is configured (default https://127.0.0.1:8443)'],
  ['COPILOG_EMULATOR_CA', "the emulator's CA (else NODE_EXTRA_CA_CERTS, else ~/.copilog/emulator/pki/ca.crt)"],
  ['NODE_EXTRA_CA_CERTS', 'a CA file Node trusts: the emulator\'s, or a TLS-inspecting proxy\'s'],
  ['HTTPS_PROXY', 'the proxy for Entra ID and Graph (http://[user:password@]host:port)'],
  ['NO_PROXY', 'hosts that bypass it (unset: localhost, 127.0.0.1 and ::1)'],
  ['COPILOG_HOME', 'replaces ~/.copilog'],
];

const SECTIONS: Record<string, Sections> = {
  doctor: {
    examples: [
      ['copilog doctor', "the emulator's default user (or the tenant in AZURE_*)"],
      ['copilog doctor --user megan@contoso.com --bundle ./support', 'one user, and a support bundle to attach to a ticket'],
      ['copilog doctor --emulator https://127.0.0.1:8443 --json', 'a running emulator, as one JSON document'],
    ],
    environment: [...TENANT_ENV, ['NO_COLOR', 'no colour in the report']],
    exitCodes: [['0', 'the export works'], ['1', 'a diagnosed failure (the report says why)'], ['2', 'a usage error, or no tenant and no emulator']],
  },
  export: {
    examples: [
      ['copilog export --store contoso.db', 'every licensed user; run it again for only what is new'],
      ['copilog export --users users.txt --since 2026-01-01 --json', 'the users in a file, from a date, with a JSON summary'],
      ['copilog export --emulator https://127.0.0.1:8443 --store demo.db', 'a running emulator'],
    ],
    environment: [...TENANT_ENV, ['COPILOG_STORE', 'the store (default ./copilog.db)']],
    exitCodes: [['0', 'every user exported (or refused for a known per-user reason)'], ['1', 'some users failed, or Graph refused the tenant'], ['2', 'a usage error'], ['130', 'interrupted (run it again to resume)']],
  },
  dump: {
    examples: [
      ['copilog dump --out interactions.parquet', 'the whole store as Parquet'],
      ['copilog dump --format csv --out - --no-bodies | head', 'CSV on stdout, without prompt and response text'],
      ['copilog dump --user megan@contoso.com --since 2026-01-01 --out megan.jsonl', 'one user from a date'],
    ],
    environment: [['COPILOG_STORE', 'the store (default ./copilog.db)']],
    exitCodes: [['0', 'written'], ['1', 'failed while writing (nothing is left at --out)'], ['2', 'a usage error'], ['130', 'interrupted']],
  },
  emulator: {
    examples: [
      ['copilog emulator', 'the demo tenant on https://127.0.0.1:8443'],
      ['copilog emulator --scenario doctor/user.guest --port 0 --json', 'a shipped scenario on a free port; one JSON line when ready'],
      ['copilog emulator --list-scenarios', 'the shipped scenarios'],
    ],
    environment: [['COPILOG_HOME', 'replaces ~/.copilog (the default data dir is ~/.copilog/emulator)']],
    exitCodes: [['0', 'stopped by Ctrl-C or SIGTERM'], ['1', 'failed while starting'], ['2', 'a usage error: a bad flag or scenario, the port in use']],
  },
  demo: {
    examples: [
      ['copilog demo', 'the doctor and an export on the demo tenant; the emulator serves on'],
      ['copilog demo --exit', 'the same, then stop'],
    ],
    environment: [['COPILOG_HOME', 'replaces ~/.copilog (the demo store is ~/.copilog/demo/copilog.db)']],
    exitCodes: [['0', 'the export completed'], ['1', 'it did not'], ['2', 'a usage error']],
  },
};

const table = (rows: [string, string][]): string => {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
};

/** The text commander prints after a command's options ('' for a command without sections). */
export function helpSections(command: string): string {
  const s = SECTIONS[command];
  if (!s) return '';
  return `\nExamples:\n${s.examples.map(([c, d]) => `  ${c}\n      ${d}`).join('\n')}\n\nEnvironment:\n${table(s.environment)}\n\nExit codes:\n${table(s.exitCodes)}\n`;
}
