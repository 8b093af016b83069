// copilog's command line: one file per command under commands/, wired here. Each command file
// imports only commander and small helpers at the top and loads its real work inside its action,
// so that `copilog --help` and `--version` stay fast (bench/cli-startup.ts measures them).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { emulatorCommand } from './commands/emulator.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { exportCommand } from './commands/export.js';
import { dumpCommand } from './commands/dump.js';
import { UsageError, usageHint } from './usage.js';
import { reportCommand, serveCommand } from './commands/serve.js';
import { watchCommand } from './commands/watch.js';
import { fleetCommand, workerCommand } from './commands/fleet.js';
import { redactMessage } from './redact.js';

// package.json sits two levels up from both src/cli/ and dist/cli/.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
import { helpSections } from './help.js';

// commander's complaints read like copilog's own ("copilog: unknown option …"), redacted.
const output = {
  writeErr: (s: string) => process.stderr.write(redactMessage(s)),
  outputError: (s: string, write: (s: string) => void) => write(s.replace(/^error: /, 'copilog: ')),
};

const program = new Command('copilog')
  .description('Find out why the Microsoft 365 Copilot interaction export fails for a tenant, export the interactions into a store, dump them, browse or report them in a browser, watch for new ones, and run a fleet of tenants on PostgreSQL, through Microsoft Graph; with a local emulator of Entra ID and Graph.')
  .version(version, '-v, --version', 'print the version')
  .exitOverride()
  .showHelpAfterError(usageHint())
  .configureOutput(output);

program.addCommand(emulatorCommand());
program.addCommand(demoCommand());
program.addCommand(doctorCommand());
program.addCommand(exportCommand());
program.addCommand(dumpCommand());
program.addCommand(watchCommand());
program.addCommand(fleetCommand());
program.addCommand(workerCommand());
program.addCommand(serveCommand());
program.addCommand(reportCommand());
program.addCommand(new Command('version').description('Print the version.').action(() => {
  process.stdout.write(`${version}\n`);
}));
// Subcommands made with new Command() inherit nothing from the program: each needs its own
// exitOverride (else commander exits 1 on a bad flag), redaction, hint and help sections.
for (const c of program.commands) {
  c.exitOverride().showHelpAfterError(usageHint(c.name())).configureOutput(output).addHelpText('after', helpSections(c.name()));
}

try {
  // copilog alone: the help on stdout, exit 0 (as gh and az do).
  if (process.argv.length <= 2) {
    program.outputHelp();
    process.exit(0);
  }
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; every other parse problem is a usage error (2).
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  // A scenario that does not validate is the caller's input, like a bad flag. Its class is
  // loaded only here, on the error path: the scenario loader pulls in yaml and zod.
  const { ScenarioError } = await import('../emulator/scenario/load.js');
  if (e instanceof UsageError || e instanceof ScenarioError) {
    const sub = program.commands.find((c) => c.name() === process.argv.slice(2).find((a) => !a.startsWith('-')));
    process.stderr.write(redactMessage(`copilog: ${e.message}\n${e instanceof UsageError ? `${usageHint(sub?.name())}\n` : ''}`));
    process.exit(2);
  }
  process.stderr.write(redactMessage(`copilog: ${(e as Error).message}\n`));
  process.exit(1);
}
