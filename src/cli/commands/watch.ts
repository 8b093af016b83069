// copilog watch: change notifications into the store (src/watch/watch.ts). Runs until Ctrl-C;
// subscriptions are kept for the next start unless --cleanup. Exit 0 after Ctrl-C, 2 for a usage
// error, 1 when it cannot start (no token, no users, the port taken).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { UserSelection } from '../../export/users.js';
import { addTargetOptions, resolveTarget, type TargetFlags } from '../target.js';
import { UsageError } from '../usage.js';

interface WatchFlags extends TargetFlags {
  store?: string;
  users: string;
  group?: string;
  tenantWide?: boolean;
  publicUrl?: string;
  listen: string;
  cert?: string;
  key?: string;
  lifetime: string;
  catchUp: string;
  cleanup?: boolean;
  rich?: boolean;
  json?: boolean;
}

export function watchCommand(): Command {
  const cmd = new Command('watch')
    .description('Receive Graph change notifications for new Copilot interactions and write them into the store as export does; runs until Ctrl-C.')
    .option('--store <path>', 'the store: a SQLite file (default COPILOG_STORE, else ./copilog.db)')
    .option('--users <all|file>', 'per-user subscriptions for every licensed user, or those a file names', 'all')
    .option('--group <id>', "per-user subscriptions for a group's transitive members")
    .option('--tenant-wide', 'one tenant-wide subscription instead of one per user')
    .option('--public-url <url>', 'the https URL Graph reaches this receiver at (a tunnel or proxy); default: the listener itself')
    .option('--listen <host:port>', 'where the receiver listens', '127.0.0.1:0')
    .option('--cert <pem>', 'serve HTTPS with this certificate (with --key)')
    .option('--key <pem>', 'private key of --cert')
    .option('--lifetime <minutes>', 'subscription lifetime asked for (Graph allows up to 4320)', '4200')
    .option('--catch-up <minutes>', 'an incremental export of every target this often, besides notifications', '60')
    .option('--cleanup', 'delete the subscriptions on Ctrl-C (default: keep them for the next start)')
    .option('--rich', 'rich notifications: Graph sends each interaction encrypted to our certificate (--cert/--key, else one generated and kept beside the store); stored at once when the batch\'s validationTokens are valid')
    .option('--json', 'one JSON line per event');
  return addTargetOptions(cmd).action(async (o: WatchFlags) => {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(o.listen);
    if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be HOST:PORT such as 127.0.0.1:8080, not '${o.listen}'`);
    const listen = { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    if ((o.cert === undefined) !== (o.key === undefined)) throw new UsageError('--cert and --key go together: pass both to serve HTTPS');
    if (o.publicUrl !== undefined && !/^https:\/\/[^/]+/i.test(o.publicUrl)) throw new UsageError(`--public-url must be an https:// URL (Graph delivers to HTTPS only), not '${o.publicUrl}'`);
    const lifetime = Number(o.lifetime);
    if (!Number.isInteger(lifetime) || lifetime < 45 || lifetime > 4320) throw new UsageError(`--lifetime must be whole minutes from 45 to 4320, not '${o.lifetime}'`);
    const catchUp = Number(o.catchUp);
    if (!Number.isFinite(catchUp) || catchUp <= 0) throw new UsageError(`--catch-up must be minutes above 0, not '${o.catchUp}'`);
    if (o.tenantWide && (o.group !== undefined || o.users !== 'all')) throw new UsageError('--tenant-wide covers every user: drop --users/--group');
    if (o.group !== undefined && o.users !== 'all') throw new UsageError('--group and --users FILE name the users two ways: pass one');
    let tls: { cert: string; key: string } | undefined;
    if (o.cert && o.key) {
      try {
        tls = { cert: readFileSync(o.cert, 'utf8'), key: readFileSync(o.key, 'utf8') };
      } catch (e) {
        throw new UsageError(`cannot read --cert/--key: ${(e as Error).message}`);
      }
    }
    const selection: UserSelection = o.group !== undefined ? { kind: 'group', groupId: o.group } : o.users !== 'all' ? { kind: 'file', path: o.users } : { kind: 'licensed' };

    const { createClient } = await import('../../client/index.js');
    const { resolveTargets, DirectoryReadError, UsersFileError, readUsersFile } = await import('../../export/users.js');
    const { storeTarget, StoreOpenError } = await import('../../store/index.js');
    const { openCommandStore } = await import('../open-store.js');
    const { startWatch } = await import('../../watch/watch.js');
    const { encryptionKeyFrom, encryptionKeyPath, ensureEncryptionKey } = await import('../../watch/rich.js');
    const { request } = await import('undici');
    if (selection.kind === 'file') {
      try {
        readUsersFile(selection.path);
      } catch (e) {
        if (e instanceof UsersFileError) throw new UsageError(e.message);
        throw e;
      }
    }
    const config = await resolveTarget(o);
    // Against the emulator with no certificate and no public URL: serve HTTPS with the
    // certificate its control API hands out (issued by its CA, which the emulator trusts).
    if (!tls && !o.publicUrl && config.mode === 'emulator' && config.emulator?.url) {
      const { Agent } = await import('undici');
      const agent = new Agent({ connect: { ca: config.ca } });
      try {
        const r = await request(`${config.emulator.url}/_emulator/receiver-certificate`, { dispatcher: agent });
        const c = (await r.body.json()) as { certPem: string; keyPem: string };
        tls = { cert: c.certPem, key: c.keyPem };
      } finally {
        await agent.close();
      }
    }
    if (!tls && !o.publicUrl) throw new UsageError('Graph delivers to https URLs only: pass --public-url (a tunnel or proxy in front of --listen) or --cert/--key');
    // --rich: Graph encrypts to --cert when given (it must be RSA 2048–4096), else to a key pair made
    // once and kept beside the store (0600). Its private key is never printed.
    let rich: { key: import('../../watch/rich.js').EncryptionKey; appId: string; authority: string } | undefined;
    if (o.rich) {
      let key;
      try {
        key = o.cert && o.key ? encryptionKeyFrom(readFileSync(o.cert, 'utf8'), readFileSync(o.key, 'utf8')) : await ensureEncryptionKey(encryptionKeyPath(storeTarget(o.store), config.tenantId));
      } catch (e) {
        throw new UsageError(`--rich: ${(e as Error).message}`);
      }
      rich = { key, appId: config.clientId, authority: config.authority };
    }
    let store;
    try {
      store = await openCommandStore(o.store);
    } catch (e) {
      if (e instanceof StoreOpenError) throw new UsageError(e.message);
      throw e;
    }
    const client = createClient(config, { ...(o.accessToken ? { accessToken: o.accessToken } : {}), transport: { keepTrace: false } });
    const print = (e: Record<string, unknown>) => process.stderr.write(o.json ? JSON.stringify({ at: new Date().toISOString(), ...e }) + '\n' : `copilog watch: ${describe(e)}\n`);
    let watcher;
    try {
      await client.credential.getToken(config.scope);
      const users = await resolveTargets(client.graph, selection);
      watcher = await startWatch({
        tenantId: config.tenantId, store, graph: client.graph, graphBaseUrl: config.graphBaseUrl, credential: client.credential, scope: config.scope,
        transport: client.transport, users, tenantWide: o.tenantWide === true, publicUrl: o.publicUrl, listen, tls, lifetimeMinutes: lifetime,
        catchUpMs: catchUp * 60_000, rich, onEvent: (e) => print(e as unknown as Record<string, unknown>),
      });
    } catch (e) {
      await store.close();
      await client.close();
      if (e instanceof DirectoryReadError) throw new Error(e.message);
      throw e;
    }
    await new Promise<void>((resolve) => {
      const onSignal = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    print({ type: 'stopping', cleanup: o.cleanup === true });
    await watcher.stop({ cleanup: o.cleanup === true });
    await store.close();
    await client.close();
  });
}

function describe(e: Record<string, unknown>): string {
  switch (e.type) {
    case 'listening': return `listening on ${String(e.url)}; Graph delivers to ${String(e.publicUrl)}/notifications`;
    case 'subscription': return `subscription ${String(e.action)}${e.id ? ` ${String(e.id)}` : ''} (${e.userId ? `user ${String(e.userId)}` : 'tenant-wide'})${e.message ? `: ${String(e.message)}` : ''}${e.verdict ? ` — verdict ${String(e.verdict)}; fix: ${String(e.fix)}` : ''}`;
    case 'received': return e.status !== undefined && e.accepted === 0 && !e.refused
      ? `refused a request (${String(e.status)} ${String(e.reason)})`
      : `received ${String(e.accepted)} notification(s)${typeof e.stored === 'number' ? ` (${e.stored} stored from rich data)` : ''}${e.refused ? `, refused ${String(e.refused)} (${String(e.reason)})` : ''}`;
    case 'processed': return `${String(e.reason)}: read ${String(e.users)} user(s), ${String(e.added)} new interaction(s)`;
    case 'lifecycle': return `lifecycle ${String(e.event)} for ${String(e.subscriptionId)}`;
    default: return Object.entries(e).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  }
}
