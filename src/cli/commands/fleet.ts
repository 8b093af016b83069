// copilog fleet add|list|remove|status|run and copilog worker: many tenants exported by many
// workers through one PostgreSQL store (docs/fleet.md). Heavy modules load inside the actions.
import { Command } from 'commander';
import { storeTarget } from '../../store/index.js';
import { UsageError } from '../usage.js';

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDENTITY_KINDS = ['default', 'managed-identity', 'workload-identity', 'environment', 'azure-cli'];

function storeUrl(flag: string | undefined): string {
  const s = storeTarget(flag);
  if (!/^postgres(ql)?:\/\//i.test(s)) throw new UsageError(`the fleet needs a PostgreSQL store: pass --store postgres://user@host/db (or set COPILOG_STORE), not '${s}'`);
  return s;
}

async function openFleet(flag: string | undefined) {
  const url = storeUrl(flag);
  const { FleetDb } = await import('../../store/fleet.js');
  const { StoreOpenError } = await import('../../store/types.js');
  try {
    return { url, db: await FleetDb.open(url) };
  } catch (e) {
    if (e instanceof StoreOpenError) throw new UsageError(e.message);
    throw e;
  }
}

export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag} must be a duration such as 30s, 15m, 24h or 7d, not '${v}'`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms']!;
  if (ms <= 0) throw new UsageError(`${flag} must be above 0`);
  return ms;
}

const rateOf = (flag: string, v: string, max: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`${flag} must be a number above 0 and at most ${max}, not '${v}'`);
  return n;
};

const out = (s: string) => new Promise<void>((res) => process.stdout.write(s, () => res()));

export function fleetCommand(): Command {
  const fleet = new Command('fleet').description('Many tenants, many workers, one PostgreSQL store: register tenants, queue their exports, see how they stand (docs/fleet.md).');

  fleet.command('add')
    .description('Register a tenant (or every tenant of an emulator) for fleet exports; credentials are named, never stored.')
    .option('--store <url>', 'the PostgreSQL store (default COPILOG_STORE)')
    .option('--tenant <id>', 'the customer tenant id (GUID)')
    .option('--client-id <id>', 'the multi-tenant app\'s client id')
    .option('--credential-env <VAR>', 'the environment variable that holds the client secret in every worker')
    .option('--cert <path>', 'a PEM with the app\'s certificate and private key, readable by every worker')
    .option('--identity <kind>', `an @azure/identity credential: ${IDENTITY_KINDS.join(', ')}`)
    .option('--emulator <url>', 'the tenants live on this copilog emulator')
    .option('--ca <path>', 'CA certificate of the emulator')
    .option('--all-tenants', 'with --emulator: every tenant where the app (--client-id, else the scenario default) has a service principal')
    .option('--json', 'print what was added as JSON')
    .action(async (o: { store?: string; tenant?: string; clientId?: string; credentialEnv?: string; cert?: string; identity?: string; emulator?: string; ca?: string; allTenants?: boolean; json?: boolean }) => {
      const kinds = [o.credentialEnv && 'env', o.cert && 'certificate', o.identity && 'azure-identity'].filter(Boolean) as ('env' | 'certificate' | 'azure-identity')[];
      if (kinds.length !== 1) throw new UsageError('name exactly one credential source: --credential-env VAR, --cert PATH or --identity KIND (the secret itself is never stored)');
      if (o.credentialEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.credentialEnv)) throw new UsageError(`--credential-env must be an environment variable name, not '${o.credentialEnv}' (pass the variable's name, not the secret)`);
      if (o.identity !== undefined && !IDENTITY_KINDS.includes(o.identity)) throw new UsageError(`--identity must be one of ${IDENTITY_KINDS.join(', ')}, not '${o.identity}'`);
      if (o.allTenants && !o.emulator) throw new UsageError('--all-tenants lists the tenants of an emulator: pass --emulator URL');
      if (!o.allTenants && (!o.tenant || !GUID_RE.test(o.tenant))) throw new UsageError(`--tenant must be the tenant id (GUID)${o.tenant ? `, not '${o.tenant}'` : ''}, or pass --emulator URL --all-tenants`);
      if (o.clientId !== undefined && !GUID_RE.test(o.clientId)) throw new UsageError(`--client-id must be the app's client id (GUID), not '${o.clientId}'`);
      let entries: { tenantId: string; displayName: string | null; clientId: string }[];
      if (o.allTenants) {
        const { readFileSync } = await import('node:fs');
        const { Agent, fetch } = await import('undici');
        const { defaultEmulatorCa } = await import('../../client/config.js');
        const ca = o.ca ?? process.env.COPILOG_EMULATOR_CA ?? defaultEmulatorCa();
        const agent = new Agent({ connect: { ca: readFileSync(ca) } });
        let list: { tenants: { id: string; displayName: string; default: { appId: string | null }; apps: { appId: string; homeTenantId?: string }[] }[] };
        try {
          list = await (await fetch(`${o.emulator!.replace(/\/+$/, '')}/_emulator/tenants`, { dispatcher: agent })).json() as typeof list;
        } catch (e) {
          throw new UsageError(`cannot list the tenants of the emulator at ${o.emulator}: ${(e as Error).message}`);
        } finally {
          await agent.close();
        }
        const appId = (o.clientId ?? list.tenants[0]?.default.appId ?? '').toLowerCase();
        entries = list.tenants.filter((t) => t.apps.some((a) => a.appId === appId)).map((t) => ({ tenantId: t.id, displayName: t.displayName, clientId: appId }));
        // The app's home tenant holds its registration; the fleet reads the customers that consented.
        if (entries.length > 1) entries = entries.filter((e) => !list.tenants.find((t) => t.id === e.tenantId)?.apps.some((a) => a.appId === appId && a.homeTenantId === e.tenantId));
      } else {
        if (!o.clientId) throw new UsageError('--client-id is required: the multi-tenant app\'s client id');
        entries = [{ tenantId: o.tenant!.toLowerCase(), displayName: null, clientId: o.clientId.toLowerCase() }];
      }
      const { db } = await openFleet(o.store);
      const { TenantExistsError } = await import('../../store/fleet.js');
      const added: string[] = [];
      try {
        for (const e of entries) {
          try {
            await db.add({
              ...e, credentialKind: kinds[0]!, credentialRef: o.credentialEnv ?? (o.cert ? (await import('node:path')).resolve(o.cert) : o.identity ?? null),
              emulatorUrl: o.emulator ?? null, caPath: o.ca ? (await import('node:path')).resolve(o.ca) : null, cloud: null,
            });
            added.push(e.tenantId);
          } catch (err) {
            if (err instanceof TenantExistsError && !o.allTenants) throw new UsageError(err.message);
            if (!(err instanceof TenantExistsError)) throw err;
          }
        }
      } finally {
        await db.close();
      }
      await out(o.json ? JSON.stringify({ added }) + '\n' : `copilog fleet: ${added.length} tenant${added.length === 1 ? '' : 's'} added${entries.length > added.length ? ` (${entries.length - added.length} already registered)` : ''}\n`);
    });

  fleet.command('list')
    .description('The registered tenants and where each one\'s credential comes from.')
    .option('--store <url>', 'the PostgreSQL store (default COPILOG_STORE)')
    .option('--json', 'JSON')
    .action(async (o: { store?: string; json?: boolean }) => {
      const { db } = await openFleet(o.store);
      try {
        const list = await db.list();
        if (o.json) return await out(JSON.stringify({ tenants: list }) + '\n');
        const lines = list.map((t) => `${t.tenantId}  ${(t.displayName ?? '').padEnd(20)} app ${t.clientId}  credential ${t.credentialKind}:${t.credentialRef ?? ''}${t.everyMs ? `  every ${t.everyMs / 3_600_000} h` : ''}`);
        await out(`${list.length} tenant${list.length === 1 ? '' : 's'}\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
      } finally {
        await db.close();
      }
    });

  fleet.command('remove')
    .description('Remove a tenant from the fleet (its exported data stays in the store).')
    .argument('<tenant>', 'tenant id')
    .option('--store <url>', 'the PostgreSQL store (default COPILOG_STORE)')
    .action(async (tenant: string, o: { store?: string }) => {
      const { db } = await openFleet(o.store);
      try {
        if (!(await db.remove(tenant))) throw new UsageError(`tenant ${tenant} is not in the fleet (copilog fleet list)`);
      } finally {
        await db.close();
      }
      await out(`copilog fleet: ${tenant} removed; its exported interactions stay in the store\n`);
    });

  fleet.command('status')
    .description('Per tenant: the last run, its outcome, users refused with their reasons, lag to now, who holds it.')
    .option('--store <url>', 'the PostgreSQL store (default COPILOG_STORE)')
    .option('--json', 'JSON')
    .action(async (o: { store?: string; json?: boolean }) => {
      const { db, url } = await openFleet(o.store);
      const { openPostgresStore } = await import('../../store/postgres.js');
      const store = await openPostgresStore(url);
      try {
        const leases = new Map((await db.leases()).map((l) => [l.tenantId, l]));
        const rows = [];
        for (const t of await db.list()) {
          const [last] = await store.runs(t.tenantId, 1);
          const refused = last ? (await store.outcomes(last.id)).filter((x) => x.outcome === 'refused' || x.outcome === 'notFound' || x.outcome === 'failed')
            .map((x) => ({ user: x.userPrincipalName ?? x.userId, outcome: x.outcome, status: x.status, code: x.code, verdict: x.verdict })) : [];
          const stats = await store.stats(t.tenantId);
          rows.push({
            tenantId: t.tenantId, displayName: t.displayName, lastRun: last ? { id: last.id, status: last.status, startedAt: last.startedAt, finishedAt: last.finishedAt } : null,
            lagSeconds: last?.finishedAt ? Math.round((Date.now() - Date.parse(last.finishedAt)) / 1000) : null, refused, interactions: stats.interactions,
            leasedBy: leases.get(t.tenantId)?.worker ?? null, nextRunAt: t.nextRunAt,
          });
        }
        if (o.json) return await out(JSON.stringify({ tenants: rows }) + '\n');
        await out(rows.map((r) => `${r.tenantId}  ${r.lastRun ? `run ${r.lastRun.id} ${r.lastRun.status}` : 'never run'}  ${r.interactions} interactions  lag ${r.lagSeconds ?? '-'} s${r.leasedBy ? `  running on ${r.leasedBy}` : ''}${r.refused.length ? `\n    ${r.refused.map((x) => `${x.user} ${x.outcome} ${x.status ?? ''} ${x.code ?? ''}${x.verdict ? ` (${x.verdict})` : ''}`).join('\n    ')}` : ''}`).join('\n') + '\n');
      } finally {
        await store.close();
        await db.close();
      }
    });

  fleet.command('run')
    .description('Queue an export of every registered tenant; --every also runs them again on that schedule (workers enqueue when due).')
    .option('--store <url>', 'the PostgreSQL store (default COPILOG_STORE)')
    .option('--every <duration>', 'run every tenant again this often (e.g. 24h)')
    .action(async (o: { store?: string; every?: string }) => {
      const everyMs = o.every !== undefined ? parseDuration('--every', o.every) : undefined;
      const { db, url } = await openFleet(o.store);
      const { startBoss, enqueue } = await import('../../fleet/worker.js');
      try {
        const tenants = (await db.list()).map((t) => t.tenantId);
        if (tenants.length === 0) throw new UsageError('no tenants in the fleet: copilog fleet add first');
        if (everyMs !== undefined) await db.schedule(everyMs);
        const boss = await startBoss(url);
        const queued = await enqueue(boss, tenants, 'fleet run');
        await boss.stop({ graceful: false, wait: true });
        await out(`copilog fleet: ${queued} export${queued === 1 ? '' : 's'} queued (${tenants.length - queued} already waiting)${everyMs ? `; every ${o.every} after that` : ''}\n`);
      } finally {
        await db.close();
      }
    });
  return fleet;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('Take fleet export jobs from the PostgreSQL queue; JSON lines on stderr (docs/fleet.md).')
    .option('--store <url>', 'the PostgreSQL store (default COPILOG_STORE)')
    .option('--concurrency <n>', 'tenants exported at once by this worker', '2')
    .option('--exit-when-idle', 'stop once no export is queued or running')
    .option('--lease <duration>', 'a tenant\'s lease; another worker takes over this long after a worker dies', '30s')
    .option('--tenant-rate <rps>', 'requests per second per tenant, across every worker (Graph: 30)', '30')
    .option('--app-rate <rps>', 'requests per second per app across every tenant and worker (Graph: 1500)', '1500')
    .option('--db-patience <duration>', 'how long to keep retrying a lost database before stopping (exit 2)', '10m')
    .action(async (o: { store?: string; concurrency: string; exitWhenIdle?: boolean; lease: string; tenantRate: string; appRate: string; dbPatience: string }) => {
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency must be a whole number from 1 to 64, not '${o.concurrency}'`);
      const leaseMs = parseDuration('--lease', o.lease);
      const dbPatienceMs = parseDuration('--db-patience', o.dbPatience);
      const limits = { tenantRate: rateOf('--tenant-rate', o.tenantRate, 1500), appRate: rateOf('--app-rate', o.appRate, 100_000) };
      const { db, url } = await openFleet(o.store);
      const { runWorker, jsonLog, DatabaseLostError } = await import('../../fleet/worker.js');
      const { openPostgresStore } = await import('../../store/postgres.js');
      const { resolveTarget } = await import('../target.js');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const r = await runWorker({
          db, storeUrl: url, openStore: () => openPostgresStore(url), resolveTarget: (f) => resolveTarget(f),
          azureCredential: async (kind) => {
            const id = await import('@azure/identity');
            if (kind === 'managed-identity') return new id.ManagedIdentityCredential();
            if (kind === 'workload-identity') return new id.WorkloadIdentityCredential();
            if (kind === 'environment') return new id.EnvironmentCredential();
            if (kind === 'azure-cli') return new id.AzureCliCredential();
            return new id.DefaultAzureCredential();
          },
          concurrency, exitWhenIdle: !!o.exitWhenIdle, leaseMs, limits, log: jsonLog(`${(await import('node:os')).hostname()}:${process.pid}`), stop: stop.signal, dbPatienceMs,
        });
        process.exitCode = r.failed > 0 ? 1 : 0;
      } catch (e) {
        if (!(e instanceof DatabaseLostError)) throw e;
        // Jobs and pools may still be waiting on the database: say why and stop now.
        process.stderr.write(`copilog: ${e.message}\n`);
        process.exit(2);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await db.close();
      }
    });
}
