// copilog emulator: serve a local Entra ID + Microsoft Graph slice over HTTPS from a scenario.
import { Command } from 'commander';
import type { RunningEmulator } from '../../emulator/server.js';
import { listScenarios, resolveScenario } from '../scenarios.js';
import { parseLogLevel, parsePort, UsageError, type LogLevel } from '../usage.js';

export interface EmulatorFlags { scenario: string; port: number; host: string; dataDir?: string; json?: boolean; licensingCsv?: string; logLevel: LogLevel; listScenarios?: boolean }

export async function runEmulator(o: EmulatorFlags): Promise<RunningEmulator> {
  const { startEmulator } = await import('../../emulator/server.js');
  let emu: RunningEmulator;
  try {
    emu = await startEmulator({
      scenario: resolveScenario(o.scenario), port: o.port, host: o.host, dataDir: o.dataDir, licensingCsv: o.licensingCsv,
      logLevel: o.logLevel,
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`port ${o.port} on ${o.host} is in use: another emulator may be running there (its URL is https://${o.host}:${o.port}). Use that one, stop it, or pass --port 0 to pick a free port`);
    }
    throw e;
  }
  const stop = async () => {
    await emu.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return emu;
}

export function emulatorCommand(): Command {
  return new Command('emulator')
    .description('Serve a local Microsoft Entra ID + Microsoft Graph emulator over HTTPS from a scenario file.')
    .option('--scenario <file|name>', 'scenario YAML/JSON file, or the name of a shipped one (doctor/ok; see --list-scenarios)', 'demo')
    .option('--list-scenarios', 'print the names of the shipped scenarios and stop')
    .option('--port <n>', 'HTTPS port (0 picks a free one)', parsePort, 8443)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where the CA, certificates and file stores live (default ~/.copilog/emulator)')
    .option('--licensing-csv <path>', "Microsoft's current licensing CSV instead of the built-in SKU table")
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (logs go to stderr)', parseLogLevel, 'info' as LogLevel)
    .option('--json', 'print one JSON line when ready, for scripts')
    .action(async (o: EmulatorFlags) => {
      if (o.listScenarios) {
        process.stdout.write(listScenarios().join('\n') + '\n');
        return;
      }
      const emu = await runEmulator(o);
      if (o.json) {
        process.stdout.write(JSON.stringify({ ready: true, url: emu.url, authority: emu.authority, graph: emu.graph, ca: emu.ca, tenants: emu.tenants }) + '\n');
        return;
      }
      process.stdout.write([
        `copilog emulator ready on ${emu.url}`,
        `  authority  ${emu.authority}`,
        `  graph      ${emu.graph}`,
        `  CA         ${emu.ca}   (NODE_EXTRA_CA_CERTS=${emu.ca})`,
        `  tenants    ${emu.tenants.join(', ')}`,
        `  test credentials: GET ${emu.url}/_emulator/tenants`,
        'Ctrl-C stops it.',
        '',
      ].join('\n'));
    });
}
