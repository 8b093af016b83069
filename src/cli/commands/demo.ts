// copilog demo: the main job end to end on the embedded emulator. The doctor on a healthy user,
// an unlicensed one and the seed's tenant-gated case; then the export of the demo tenant with
// its progress; then what was stored, where, and the commands to go on with.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { copilogHome, resolveConfig } from '../../client/config.js';
import { resolveScenario } from '../scenarios.js';
import { parsePort, UsageError } from '../usage.js';
import { renderSummary, exportToStore } from './export.js';
import { runEmulator } from './emulator.js';

interface DemoFlags { port: number; dataDir?: string; store?: string; exit?: boolean }

/** Shell-quote a path for a command line the user may copy. */
const q = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

export function demoCommand(): Command {
  return new Command('demo')
    .description('Run the main job on the embedded emulator: the doctor on three cases, then an export of the demo tenant into a store.')
    .option('--port <n>', 'HTTPS port of the emulator (0 picks a free one)', parsePort, 0)
    .option('--data-dir <dir>', 'where the emulator keeps its CA and certificates (default ~/.copilog/emulator)')
    .option('--store <path>', 'where the export goes (default ~/.copilog/demo/copilog.db, made new each run)')
    .option('--exit', 'stop the emulator when the demo is done instead of serving on')
    .action(async (o: DemoFlags) => {
      // Loaded when the command runs, so that copilog --help stays fast.
      const { startEmulator } = await import('../../emulator/server.js');
      const { builtinCatalog } = await import('../../graph/licensing.js');
      const { openStore, StoreOpenError } = await import('../../store/index.js');
      const { runDoctor } = await import('../doctor/run.js');
      const storePath = o.store ?? join(copilogHome(), 'demo', 'copilog.db');
      // The demo tenant's history moves with the clock, so the demo's own store starts empty each run.
      if (o.store === undefined) for (const f of ['', '-wal', '-shm']) rmSync(storePath + f, { force: true });
      let store;
      try {
        store = await openStore(storePath);
      } catch (e) {
        if (e instanceof StoreOpenError) throw new UsageError(e.message);
        throw e;
      }
      const emu = await runEmulator({ scenario: 'demo', port: o.port, host: '127.0.0.1', dataDir: o.dataDir, logLevel: 'warn' });
      const out = (lines: string[]) => process.stdout.write(lines.join('\n') + '\n');
      const config = await resolveConfig({ emulator: emu.url, ca: emu.ca }, {});
      const domain = config.emulator?.defaultUser?.split('@')[1] ?? 'contoso.onmicrosoft.com';
      const target = `--emulator ${emu.url} --ca ${q(emu.ca)}`;
      out([
        `copilog demo: the embedded emulator serves the demo tenant ${domain} on ${emu.url}`,
        '',
        '1. copilog doctor: why would the export fail for a user?',
      ]);
      const catalog = builtinCatalog();
      const diagnose = async (cfg: typeof config, user: string, note: string) => {
        const report = await runDoctor({ config: cfg, catalog, users: [user], timeoutSeconds: 15 });
        const p = report.verdict.primary;
        out([`   ${user.padEnd(46)} ${p.code.padEnd(20)} ${note}`]);
      };
      await diagnose(config, `adele.vance@${domain}`, 'a healthy Copilot user');
      await diagnose(config, `enrico.cattaneo@${domain}`, 'no licence at all');
      // The seed case: role, consent and licence in order, and still 403 Forbidden/UnknownError.
      const seed = await startEmulator({ scenario: resolveScenario('seed-403'), port: 0, dataDir: o.dataDir, logLevel: 'silent' });
      try {
        const seedConfig = await resolveConfig({ emulator: seed.url, ca: seed.ca }, {});
        await diagnose(seedConfig, seedConfig.emulator?.defaultUser ?? '', 'everything in order, still 403 UnknownError');
      } finally {
        await seed.close();
      }
      out(['', `2. copilog export: every licensed user's interactions into ${storePath}`]);
      const { summary, storeInteractions, storeUsers, storeBytes } = await exportToStore({
        config, store, selection: { kind: 'licensed' }, progress: true, engine: { rate: 30, concurrency: 'auto' },
      });
      out([renderSummary(summary, storePath, storeInteractions).replace(/^/gm, '   ').trimEnd()]);
      out([
        '',
        `3. Stored: ${storeInteractions} interactions of ${storeUsers} users, ${(storeBytes / 1_048_576).toFixed(1)} MB in ${storePath}`,
        '   Go on with:',
        `     copilog dump --store ${q(storePath)} --format jsonl --out interactions.jsonl`,
        ...(o.exit ? [] : [
          `     copilog export ${target} --store ${q(storePath)}      (again: only what is new)`,
          `     copilog doctor ${target} --user miriam.graham@${domain}`,
          '',
          `   The emulator keeps serving on ${emu.url} until Ctrl-C. Its test credentials: ${emu.url}/_emulator/tenants`,
          `   Other Graph clients trust it with NODE_EXTRA_CA_CERTS=${q(emu.ca)}. Pass the tenant, app and secret to them as`,
          '   options, not as exported AZURE_* variables: in a shell with AZURE_TENANT_ID set, a plain `copilog doctor` or',
          '   `copilog export` targets that tenant at login.microsoftonline.com, with whatever secret the variables hold.',
        ]),
      ]);
      if (o.exit) {
        await emu.close();
        out(['', '   The emulator has stopped (--exit); run copilog demo without --exit to keep it serving.']);
        process.exit(summary.status === 'completed' ? 0 : 1);
      }
    });
}
