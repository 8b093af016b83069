// copilog demo: the embedded emulator with the demo tenant, and how to point tools at it.
import { Command } from 'commander';
import { resolveConfig } from '../../client/config.js';
import { builtinCatalog } from '../../graph/licensing.js';
import { runDoctor } from '../doctor/run.js';
import { runEmulator } from './emulator.js';

/** Demo users whose diagnosis shows the common outcomes, one doctor run each. */
const SHOWCASE = ['adele.vance', 'miriam.graham', 'patti.fernandez', 'enrico.cattaneo', 'partner_fabrikam.com#EXT#', 'no.such.person'];

export function demoCommand(): Command {
  return new Command('demo')
    .description('Start the emulator with the demo tenant (26 users in mixed states) and show how to use it.')
    .option('--port <n>', 'HTTPS port (0 picks a free one)', (v) => Number(v), 0)
    .option('--data-dir <dir>', 'where the CA and certificates live (default ~/.copilog/emulator)')
    .option('--exit', 'print the instructions and stop instead of serving')
    .action(async (o: { port: number; dataDir?: string; exit?: boolean }) => {
      const emu = await runEmulator({ scenario: 'demo', port: o.port, host: '127.0.0.1', dataDir: o.dataDir, logLevel: 'warn' });
      const tenants = (await (await fetch(`${emu.url}/_emulator/tenants`, { dispatcher: await caAgent(emu.ca) } as RequestInit)).json()) as {
        tenants: { id: string; domain: string; default: { appId: string; userId: string }; apps: { appId: string; secrets: { value: string }[] }[]; userCount: number }[];
      };
      const t = tenants.tenants[0]!;
      const app = t.apps.find((a) => a.appId === t.default.appId)!;
      process.stdout.write([
        `copilog demo: emulator for tenant ${t.domain} (${t.userCount} users) on ${emu.url}`,
        '',
        'Point any Graph client at it (these are emulator test credentials):',
        `  export NODE_EXTRA_CA_CERTS=${emu.ca}`,
        `  export AZURE_TENANT_ID=${t.id} AZURE_CLIENT_ID=${app.appId} AZURE_CLIENT_SECRET=${app.secrets[0]?.value ?? ''}`,
        `  authority: ${emu.authority}   graph: ${emu.graph}`,
        '',
        'Try:',
        `  curl --cacert ${emu.ca} ${emu.url}/_emulator/tenants`,
        `  TOKEN=$(curl -s --cacert ${emu.ca} ${emu.authority}/oauth2/v2.0/token -d grant_type=client_credentials -d client_id=$AZURE_CLIENT_ID -d client_secret=$AZURE_CLIENT_SECRET -d scope=https://graph.microsoft.com/.default | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
        `  curl --cacert ${emu.ca} -H "Authorization: Bearer $TOKEN" '${emu.graph}/copilot/users/${t.default.userId}/interactionHistory/getAllEnterpriseInteractions?$top=2'`,
        '',
        'copilog doctor on a few demo users (the same run as `copilog doctor --emulator URL --user UPN`):',
      ].join('\n') + '\n');
      const config = await resolveConfig({ emulator: emu.url, ca: emu.ca }, {});
      for (const name of SHOWCASE) {
        const upn = `${name}@${t.domain}`;
        const report = await runDoctor({ config, catalog: builtinCatalog(), users: [upn], timeoutSeconds: 10 });
        const p = report.verdict.primary;
        process.stdout.write(`  ${upn.padEnd(50)} ${p.code.padEnd(22)} ${p.title}\n`);
      }
      process.stdout.write(['', `Full report: node bin/copilog.js doctor --emulator ${emu.url} --ca ${emu.ca} --user miriam.graham@${t.domain}`, '', o.exit ? 'Stopping (--exit).' : 'Ctrl-C stops it.', ''].join('\n'));
      if (o.exit) {
        await emu.close();
        process.exit(0);
      }
    });
}

async function caAgent(caPath: string) {
  const { Agent } = await import('undici');
  const { readFileSync } = await import('node:fs');
  return new Agent({ connect: { ca: readFileSync(caPath) } });
}
