// copilog serve and copilog report: the store in a browser, and the dashboard as one HTML file.
// Heavy modules (fastify, sanitize-html, the store) load inside the actions so `copilog --help` stays fast.
import { Command } from 'commander';
import { parsePort, pseudonymizerFrom, UsageError } from '../usage.js';

interface ServeFlags { store?: string; port: string; host: string; token?: string }
interface ReportFlags { store?: string; out?: string; pseudonymize?: string; tenant?: string; since?: string; until?: string; top: string }

async function openForReading(flag: string | undefined) {
  const { StoreOpenError } = await import('../../store/index.js');
  const { openCommandStore } = await import('../open-store.js');
  try {
    // Opened for writing once so an older store gets its search index (schema v2, tags since v4); never created.
    return await openCommandStore(flag, { mustExist: true });
  } catch (e) {
    if (e instanceof StoreOpenError) throw new UsageError(e.message);
    throw e;
  }
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('Browse, search and chart the store in a local web app (docs/serve.md).')
    .option('--store <path>', 'the store: a SQLite file (default COPILOG_STORE, else ./copilog.db); never created')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on; beyond loopback an access token is required', '127.0.0.1')
    .option('--token <token>', 'access token for every request (default COPILOG_SERVE_TOKEN); required beyond loopback')
    .action(async (o: ServeFlags) => {
      const port = parsePort(o.port);
      const token = o.token ?? (process.env.COPILOG_SERVE_TOKEN?.trim() || undefined);
      const { startServer, ServeConfigError, MIN_TOKEN_CHARS } = await import('../../serve/server.js');
      if (token !== undefined && token.length < MIN_TOKEN_CHARS) throw new UsageError(`the access token must be at least ${MIN_TOKEN_CHARS} characters (make one: openssl rand -hex 24)`);
      const store = await openForReading(o.store);
      let server;
      try {
        server = await startServer({ store, host: o.host, port, token });
      } catch (e) {
        await store.close();
        if (e instanceof ServeConfigError) throw new UsageError(e.message);
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new UsageError(`cannot listen on ${o.host}:${port} (${code}); pass another --port or --host`);
        throw e;
      }
      process.stdout.write(`copilog serve: ${store.location}\n  open ${server.url}/${server.tokenRequired ? '?token=<your access token>' : ''}\n  Ctrl-C to stop\n`);
      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await store.close();
    });
}

export function reportCommand(): Command {
  return new Command('report')
    .description('Write the usage dashboard as one self-contained HTML file (no network needed to view it; docs/serve.md).')
    .option('--store <path>', 'the store: a SQLite file (default COPILOG_STORE, else ./copilog.db); never created')
    .option('--out <file>', 'the HTML file to write')
    .option('--pseudonymize <keyfile>', 'replace user ids, UPNs and display names by keyed hashes (make a key: openssl rand -hex 32 > copilog.key)')
    .option('--tenant <id>', 'only this tenant')
    .option('--since <iso>', 'only interactions created at or after this instant')
    .option('--until <iso>', 'only interactions created before this instant')
    .option('--top <n>', 'users in the top list', '10')
    .action(async (o: ReportFlags) => {
      if (!o.out) throw new UsageError('--out is required: the HTML file to write, e.g. --out report.html');
      const { parseInstant } = await import('./export.js');
      const sinceMs = o.since !== undefined ? parseInstant('--since', o.since) : undefined;
      const untilMs = o.until !== undefined ? parseInstant('--until', o.until) : undefined;
      if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) throw new UsageError(`--since (${o.since}) must be before --until (${o.until})`);
      const top = Number(o.top);
      if (!Number.isInteger(top) || top < 1 || top > 100) throw new UsageError(`--top must be a whole number from 1 to 100, not '${o.top}'`);
      const pseudonymizer = await pseudonymizerFrom(o.pseudonymize);
      const { isStoreReader } = await import('../../store/index.js');
      const { renderReport, reportData } = await import('../../serve/report.js');
      const { openSink, SinkOpenError } = await import('../../formats/sink.js');
      const store = await openForReading(o.store);
      try {
        if (!isStoreReader(store)) throw new UsageError(`copilog report cannot read aggregates from ${store.location} yet; use a SQLite store`);
        const html = renderReport(await reportData(store, { tenantId: o.tenant, sinceMs, untilMs, top, pseudonymizer }));
        let sink;
        try {
          sink = await openSink(o.out);
        } catch (e) {
          if (e instanceof SinkOpenError) throw new UsageError(e.message);
          throw e;
        }
        try {
          await sink.write(html);
          await sink.commit();
        } catch (e) {
          await sink.abort();
          throw e;
        }
        process.stdout.write(`copilog report: ${sink.location} (${sink.bytes} bytes)\n`);
      } finally {
        await store.close();
      }
    });
}
