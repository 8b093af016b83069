// copilog's command line: one file per command under commands/, wired here.
import { Command, CommanderError } from 'commander';
import { emulatorCommand } from './commands/emulator.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { exportCommand } from './commands/export.js';
import { dumpCommand } from './commands/dump.js';
import { UsageError, usageHint } from './usage.js';
import { redactMessage } from './redact.js';
import { helpSections } from './help.js';
import { ScenarioError } from '../emulator/scenario/load.js';

// commander's complaints read like copilog's own ("copilog: unknown option …"), redacted.
const output = {
  writeErr: (s: string) => process.stderr.write(redactMessage(s)),
  outputError: (s: string, write: (s: string) => void) => write(s.replace(/^error: /, 'copilog: ')),
};

const program = new Command('copilog')
  .description('Diagnose, export and watch Microsoft 365 Copilot interaction history through Microsoft Graph.')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError(usageHint())
  .configureOutput(output);

program.addCommand(emulatorCommand());
program.addCommand(demoCommand());
program.addCommand(doctorCommand());
program.addCommand(exportCommand());
program.addCommand(dumpCommand());
// Subcommands made with new Command() inherit nothing from the program: each needs its own
// exitOverride (else commander exits 1 on a bad flag), redaction, hint and help sections.
for (const c of program.commands) {
  c.exitOverride().showHelpAfterError(usageHint(c.name())).configureOutput(output).addHelpText('after', helpSections(c.name()));
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; every other parse problem is a usage error (2).
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  // A scenario that does not validate is the caller's input, like a bad flag.
  if (e instanceof UsageError || e instanceof ScenarioError) {
    const sub = program.commands.find((c) => c.name() === process.argv.slice(2).find((a) => !a.startsWith('-')));
    process.stderr.write(redactMessage(`copilog: ${e.message}\n${e instanceof UsageError ? `${usageHint(sub?.name())}\n` : ''}`));
    process.exit(2);
  }
  process.stderr.write(redactMessage(`copilog: ${(e as Error).message}\n`));
  process.exit(1);
}
