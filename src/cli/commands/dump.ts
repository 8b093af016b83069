// copilog dump: the store's interactions as JSON Lines, CSV or Parquet for Power BI, DuckDB,
// Fabric or Excel. Reads only through the Store interface, opened read-only; streams, so a store
// of millions never sits in memory. Exit 0 done, 1 failed while writing, 2 usage error, 130 Ctrl-C.
import { Command } from 'commander';
import type { Format } from '../../formats/index.js';
import { openSink, SinkOpenError, type Sink } from '../../formats/sink.js';
import type { InteractionFilter, Store } from '../../store/index.js';
import { pseudonymizerFrom, UsageError } from '../usage.js';
import { appClassName, parseInstant } from './export.js';

interface DumpFlags {
  store?: string;
  tenant?: string;
  format?: string;
  out?: string;
  user: string[];
  since?: string;
  until?: string;
  appClass: string[];
  pseudonymize?: string;
  bodies: boolean;
}

// No default value: commander would print it beside the one the description names.
const collect = (v: string, all: string[] = []) => [...all, ...v.split(',').map((x) => x.trim()).filter(Boolean)];
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function dumpCommand(): Command {
  return new Command('dump')
    .description('Write the store\'s interactions as JSON Lines, CSV or Parquet (for Power BI, DuckDB, Fabric, Excel); docs/dump.md.')
    .option('--store <path|url>', 'the store: a SQLite file or a postgres:// URL (default COPILOG_STORE, else ./copilog.db); opened read-only')
    .option('--tenant <id>', 'only this tenant (a store written by the fleet holds many)')
    .option('--format <jsonl|csv|parquet>', 'output format (default: from the --out extension)')
    .option('--out <file|->', 'output file (written beside it, then renamed into place), or - for stdout')
    .option('--user <id|upn>', 'only this user (object id or UPN as the store knows it); repeatable or comma-separated', collect)
    .option('--since <iso>', 'only interactions created at or after this instant')
    .option('--until <iso>', 'only interactions created before this instant')
    .option('--app-class <name>', 'only this appClass (Teams, BizChat, … or the full IPM.… name); repeatable', collect)
    .option('--pseudonymize <keyfile>', 'replace user ids, UPNs and display names by keyed hashes (make a key: openssl rand -hex 32 > copilog.key)')
    .option('--no-bodies', 'leave out prompt and response text (body content, card and attachment content)')
    .action(async (o: DumpFlags) => {
      // Loaded when the command runs, so that copilog --help stays fast.
      const formats = await import('../../formats/index.js');
      const { DumpInterrupted, writeDump } = formats;
      const { openStore, storeTarget, StoreOpenError } = await import('../../store/index.js');
      o.user ??= [];
      o.appClass ??= [];
      // Every flag is checked before the store or the output is opened.
      if (o.out === undefined || o.out === '') throw new UsageError('--out is required: a file path, or - for stdout');
      const format = resolveFormat(formats, o.format, o.out);
      if (o.out === '-' && format === 'parquet' && process.stdout.isTTY) throw new UsageError('Parquet is binary: pass --out FILE, or redirect stdout to a file');
      const sinceMs = o.since !== undefined ? parseInstant('--since', o.since) : undefined;
      const untilMs = o.until !== undefined ? parseInstant('--until', o.until) : undefined;
      if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) throw new UsageError(`--since (${o.since}) must be before --until (${o.until})`);
      const pseudonymizer = await pseudonymizerFrom(o.pseudonymize);

      let store: Store;
      try {
        store = await openStore(storeTarget(o.store), { readonly: true });
      } catch (e) {
        if (e instanceof StoreOpenError) throw new UsageError(e.message);
        throw e;
      }
      let sink: Sink | undefined;
      // First Ctrl-C: stop at the next row, remove the partial file, exit 130. Second: stop now.
      const stop = new AbortController();
      const onSignal = () => {
        if (stop.signal.aborted) void (sink?.abort() ?? Promise.resolve()).finally(() => process.exit(130));
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const started = Date.now();
      try {
        const filter: InteractionFilter = { sinceMs, untilMs, ...(o.appClass.length ? { appClasses: o.appClass.map(appClassName) } : {}) };
        if (o.tenant !== undefined) {
          const want = o.tenant.toLowerCase();
          const known = [...new Set((await store.users()).map((u) => u.tenantId))];
          filter.tenantId = known.find((t) => t.toLowerCase() === want);
          if (filter.tenantId === undefined) throw new UsageError(`--tenant ${o.tenant}: the store holds no such tenant (it holds ${known.join(', ') || 'none'})`);
        }
        const users = await store.users(filter.tenantId);
        if (o.user.length) filter.userIds = resolveUsers(o.user, users);
        if (pseudonymizer) {
          for (const u of users) pseudonymizer.learn(u);
          // People named only in mentions are learned first, so a name in an earlier body is caught too.
          for await (const r of store.interactions(filter)) {
            if (stop.signal.aborted) break;
            if (!r.json.includes('"mentions":[]')) pseudonymizer.learnFrom(JSON.parse(r.json));
          }
        }
        if (stop.signal.aborted) return interrupted();
        try {
          sink = await openSink(o.out);
        } catch (e) {
          if (e instanceof SinkOpenError) throw new UsageError(e.message);
          throw e;
        }
        let rows: number;
        try {
          rows = await writeDump({ rows: store.interactions(filter), format, sink, pseudonymizer, noBodies: o.bodies === false, signal: stop.signal });
          await sink.commit();
        } catch (e) {
          await sink.abort();
          if (e instanceof DumpInterrupted) return interrupted();
          if ((e as NodeJS.ErrnoException).code === 'EPIPE') return; // stdout's reader went away (| head): not an error
          throw new Error(`dump to ${sink.location} failed, nothing was written there: ${(e as Error).message}`);
        }
        if (o.out !== '-') {
          const secs = (Date.now() - started) / 1000;
          process.stdout.write(`copilog dump: ${rows} interactions as ${format} to ${sink.location} (${sink.bytes} bytes) in ${secs.toFixed(1)} s\n`);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await store.close();
      }
    });
}

function interrupted(): void {
  process.stderr.write('copilog dump: interrupted; nothing was written (the output file, if any, is as it was)\n');
  process.exitCode = 130;
}

function resolveFormat({ FORMATS, formatOfPath, isFormat }: typeof import('../../formats/index.js'), flag: string | undefined, out: string): Format {
  if (flag !== undefined) {
    const f = flag.toLowerCase();
    if (!isFormat(f)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${flag}'`);
    return f;
  }
  const f = out === '-' ? undefined : formatOfPath(out);
  if (!f) throw new UsageError(`--format is required (${FORMATS.join(', ')}) when --out ${out === '-' ? 'is stdout' : `(${out}) has no .jsonl, .csv or .parquet extension`}`);
  return f;
}

/** Object ids as given; a UPN through the store's users (case-insensitive). Unknown names are a usage error. */
function resolveUsers(given: string[], users: { id: string; userPrincipalName?: string | null }[]): string[] {
  const ids = new Set<string>();
  for (const g of given) {
    if (GUID_RE.test(g)) {
      ids.add(users.find((u) => u.id.toLowerCase() === g.toLowerCase())?.id ?? g);
      continue;
    }
    const matches = users.filter((u) => u.userPrincipalName?.toLowerCase() === g.toLowerCase());
    if (matches.length === 0) throw new UsageError(`--user ${g}: no user with that UPN in the store (pass an object id, or export the user first)`);
    for (const m of matches) ids.add(m.id);
  }
  return [...ids];
}
