// copilog's command line: one file per command under commands/, wired here.
import { Command, CommanderError } from 'commander';
import { emulatorCommand } from './commands/emulator.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { exportCommand } from './commands/export.js';
import { dumpCommand } from './commands/dump.js';
import { fleetCommand, workerCommand } from './commands/fleet.js';
import { UsageError } from './usage.js';
import { redactMessage } from './redact.js';
import { ScenarioError } from '../emulator/scenario/load.js';

const program = new Command('copilog')
  .description('Diagnose, export and watch Microsoft 365 Copilot interaction history through Microsoft Graph.')
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(redactMessage(s)) });

program.addCommand(emulatorCommand());
program.addCommand(demoCommand());
program.addCommand(doctorCommand());
program.addCommand(exportCommand());
program.addCommand(dumpCommand());
program.addCommand(fleetCommand());
program.addCommand(workerCommand());
for (const c of program.commands) c.configureOutput({ writeErr: (s) => process.stderr.write(redactMessage(s)) });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; every other parse problem is a usage error (2).
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  // A scenario that does not validate is the caller's input, like a bad flag.
  if (e instanceof UsageError || e instanceof ScenarioError) {
    process.stderr.write(redactMessage(`copilog: ${e.message}\n`));
    process.exit(2);
  }
  process.stderr.write(redactMessage(`copilog: ${(e as Error).message}\n`));
  process.exit(1);
}
