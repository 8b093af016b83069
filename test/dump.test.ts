// copilog dump, end to end: a real emulator, a store made by the REAL export command, and the
// REAL dump command run as a child process. Each format is read back by an independent reader:
// JSONL against the emulator's ground truth, CSV with csv-parse, Parquet with parquet-wasm
// (arrow-rs compiled to wasm) + apache-arrow, never hyparquet (which the writer is built on).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parse as parseCsv } from 'csv-parse/sync';
import { readParquet } from 'parquet-wasm';
import { tableFromIPC, type Table } from 'apache-arrow';
import { cleanDir, tempDir, withEmulator, type TestEmulator } from './support/emulator.js';
import { demoWithoutThrottling, type Truth } from './support/interactions.js';
import { bodyText, cardText, FLAT_COLUMNS, htmlToText } from '../src/formats/row.js';
import { Pseudonymizer } from '../src/formats/pseudonymize.js';
import { openStore } from '../src/store/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'copilog.js');

interface Run { code: number | null; stdout: string; stderr: string; raw: Buffer }

/** The real CLI with a clean environment (no AZURE_ or COPILOG_ variables from the developer's shell). */
function copilog(args: string[]): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(AZURE_|COPILOG_|NO_COLOR|FORCE_COLOR)/.test(k)) env[k] = v;
  env.COPILOG_HOME = join(ROOT, '.no-such-copilog-home');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: ROOT });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const raw = Buffer.concat(out);
      resolve({ code, stdout: raw.toString('utf8'), stderr, raw });
    });
    child.stdin.end();
  });
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

let emu: TestEmulator;
let dir: string;
let store: string;
let tid: string;
/** Ground truth lines of the users the export read (the refused guest has none in the store). */
let truthLines: string[];
let truth: Truth[];
const byKey = new Map<string, Truth>();
/** Every directory user: id, UPN, display name (from Graph, as the export saw them). */
let directory: { id: string; userPrincipalName: string; displayName: string }[];
let adele: string;
let key: string;

const TRICKY_TEXT = 'Budget, "Q3" review;\nsecond line, with ü, 🎉 and =SUM(A1)\r\nthird';
const TRICKY_HTML = '<p>Ann &amp; Bob, &quot;hi&quot; &lt;team&gt;</p><p>second, para</p>';

function dump(args: string[]): Promise<Run> {
  return copilog(['dump', '--store', store, ...args]);
}

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

function readTable(file: string): Table {
  return tableFromIPC(readParquet(readFileSync(file)).intoIPCStream());
}

before(async () => {
  emu = await withEmulator(demoWithoutThrottling());
  const t = (await emu.tenantList()).tenants[0];
  tid = t.id;
  adele = t.default.userId;
  // Bodies that test the quoting: commas, quotes, CR/LF, non-ASCII, a formula-looking start, HTML entities.
  const past = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
  await emu.control(`/tenants/${tid}/users/${adele}/interactions`, 'POST', {
    interactions: [
      { appClass: 'Word', interactionType: 'userPrompt', createdDateTime: past(30), body: { contentType: 'text', content: TRICKY_TEXT } },
      { appClass: 'Teams', interactionType: 'aiResponse', createdDateTime: past(29), body: { contentType: 'html', content: TRICKY_HTML } },
    ],
  });
  dir = tempDir('copilog-dump-');
  store = join(dir, 'copilog.db');
  const ex = await copilog(['export', '--emulator', emu.url, '--ca', emu.ca, '--store', store, '--json', '--no-progress']);
  assert.equal(ex.code, 0, ex.stderr);
  const summary = JSON.parse(ex.stdout);
  const refused = new Set<string>(summary.failures.map((f: { userId: string }) => f.userId));
  assert.ok(summary.exported > 1000);

  const token = await emu.token();
  const r = await emu.fetch('/v1.0/users?$select=id,userPrincipalName,displayName&$top=999', { headers: { authorization: `Bearer ${token}` } });
  directory = (await r.json()).value;
  assert.ok(directory.length >= 20);

  // The users the export targeted (licensed for the export), less the ones Graph refused.
  const s = await openStore(store, { readonly: true });
  const targeted = new Set((await s.users(tid)).map((u) => u.id));
  await s.close();
  const text = await (await emu.fetch(`/_emulator/tenants/${tid}/interactions`)).text();
  truthLines = lines(text).filter((l) => {
    const u = JSON.parse(l).userId;
    return targeted.has(u) && !refused.has(u);
  });
  truth = truthLines.map((l) => JSON.parse(l));
  for (const x of truth) byKey.set(`${x.userId}/${x.interaction.id}`, x);
  assert.equal(truth.length, summary.store.interactions);

  key = join(dir, 'copilog.key');
  writeFileSync(key, `${createHash('sha256').update('dump test key').digest('hex')}\n`);
});

after(async () => {
  await emu?.close();
  if (dir) cleanDir(dir);
});

describe('JSONL', () => {
  test('equals the emulator ground truth line for line, verbatim, and the store is untouched', async () => {
    const before = sha(store);
    const out = join(dir, 'all.jsonl');
    const r = await dump(['--format', 'jsonl', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${truth.length} interactions as jsonl`));
    const got = lines(readFileSync(out, 'utf8'));
    assert.equal(got.length, truthLines.length);
    assert.deepEqual(new Set(got), new Set(truthLines));
    assert.equal(sha(store), before);
    // Nothing of the temp file is left beside the output.
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.partial')), []);
  });

  test('--out - writes the same bytes to stdout; the format follows the extension when --format is absent', async () => {
    const file = join(dir, 'ext.jsonl');
    const [a, b] = await Promise.all([dump(['--format', 'jsonl', '--out', '-']), dump(['--out', file])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stderr, '');
    assert.ok(a.raw.equals(readFileSync(file)));
  });

  test('--user (UPN or id), --since/--until and --app-class select the same rows as the truth', async () => {
    const upn = directory.find((u) => u.id === adele)!.userPrincipalName;
    const mine = truthLines.filter((l) => JSON.parse(l).userId === adele);
    for (const who of [upn.toUpperCase(), adele]) {
      const r = await dump(['--format', 'jsonl', '--out', '-', '--user', who]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(new Set(lines(r.stdout)), new Set(mine));
    }
    const times = truth.map((x) => Date.parse(x.interaction.createdDateTime)).sort((a, b) => a - b);
    const since = times[Math.floor(times.length / 3)]!;
    const until = times[Math.floor((2 * times.length) / 3)]!;
    const r = await dump(['--format', 'jsonl', '--out', '-', '--since', new Date(since).toISOString(), '--until', new Date(until).toISOString(), '--app-class', 'Teams']);
    assert.equal(r.code, 0, r.stderr);
    const want = truthLines.filter((l) => {
      const i = JSON.parse(l).interaction;
      const t = Date.parse(i.createdDateTime);
      return t >= since && t < until && i.appClass === 'IPM.SkypeTeams.Message.Copilot.Teams';
    });
    assert.ok(want.length > 10);
    assert.deepEqual(new Set(lines(r.stdout)), new Set(want));
  });
});

describe('CSV', () => {
  test('one row per interaction with the right fields; commas, quotes, newlines and non-ASCII survive', async () => {
    const out = join(dir, 'all.csv');
    const r = await dump(['--format', 'csv', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const bytes = readFileSync(out);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with a BOM for Excel');
    const rows: Record<string, string>[] = parseCsv(bytes, { bom: true, columns: true });
    assert.equal(rows.length, truth.length);
    assert.deepEqual(Object.keys(rows[0]!), [...FLAT_COLUMNS]);
    const seen = new Set<string>();
    for (const row of rows) {
      const k = `${row.userId}/${row.id}`;
      const t = byKey.get(k);
      assert.ok(t, k);
      seen.add(k);
      const i = t.interaction;
      assert.equal(row.tenantId, tid);
      assert.equal(row.createdDateTime, i.createdDateTime);
      assert.equal(row.appClass, i.appClass);
      assert.equal(row.app, i.appClass.replace('IPM.SkypeTeams.Message.Copilot.', ''));
      assert.equal(row.interactionType, i.interactionType);
      assert.equal(row.conversationType, i.conversationType ?? '');
      assert.equal(row.sessionId, i.sessionId);
      assert.equal(row.requestId, i.requestId ?? '');
      assert.equal(row.locale, i.locale);
      assert.equal(row.fromUserId, i.from.user?.id ?? '');
      assert.equal(row.fromApplicationId, i.from.application?.id ?? '');
      assert.equal(row.fromDisplayName, i.from.application?.displayName ?? i.from.user?.displayName ?? '');
      assert.equal(row.bodyContentType, i.body.contentType);
      assert.equal(row.bodyContent, i.body.content);
      assert.equal(row.bodyText, bodyText(i) ?? '');
      assert.equal(Number(row.attachmentCount), i.attachments.length);
      assert.equal(Number(row.linkCount), i.links.length);
      assert.equal(Number(row.mentionCount), i.mentions.length);
      assert.equal(Number(row.contextCount), i.contexts.length);
    }
    assert.equal(seen.size, truth.length);
    const tricky = rows.find((x) => x.bodyContent === TRICKY_TEXT);
    assert.ok(tricky, 'the body with commas, quotes and CR/LF round-trips exactly');
    assert.equal(tricky.bodyText, TRICKY_TEXT);
    const html = rows.find((x) => x.bodyContent === TRICKY_HTML)!;
    assert.equal(html.bodyText, 'Ann & Bob, "hi" <team>\n\nsecond, para');
    // A BizChat answer's text lives in its adaptive card: bodyText carries it.
    const card = rows.find((x) => x.app === 'BizChat' && x.interactionType === 'aiResponse' && /^<attachment id=/.test(x.bodyContent!))!;
    const item = byKey.get(`${card.userId}/${card.id}`)!.interaction;
    assert.ok(card.bodyText!.length > 20);
    assert.equal(card.bodyText, cardText(item.attachments.find((a: any) => a.contentType === 'application/vnd.microsoft.card.adaptive').content));
  });
});

describe('Parquet', () => {
  test('an independent reader (arrow-rs via parquet-wasm) sees every row with typed columns and the right values', async () => {
    const out = join(dir, 'all.parquet');
    const r = await dump(['--format', 'parquet', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const t = readTable(out);
    assert.equal(t.numRows, truth.length);
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
    assert.deepEqual(Object.keys(types), [...FLAT_COLUMNS]);
    assert.equal(types.createdDateTime, 'Timestamp<MILLISECOND, UTC>');
    for (const c of ['attachmentCount', 'linkCount', 'mentionCount', 'contextCount']) assert.equal(types[c], 'Int32', c);
    for (const c of ['tenantId', 'userId', 'id', 'appClass', 'sessionId', 'bodyText', 'bodyContent']) assert.equal(types[c], 'Utf8', c);
    const nullable = Object.fromEntries(t.schema.fields.map((f) => [f.name, f.nullable]));
    assert.equal(nullable.id, false);
    assert.equal(nullable.requestId, true);
    let n = 0;
    for (const row of t) {
      const o = row.toJSON() as Record<string, any>;
      const i = byKey.get(`${o.userId}/${o.id}`)!.interaction;
      assert.ok(i);
      assert.equal(Number(o.createdDateTime), Date.parse(i.createdDateTime));
      assert.equal(o.tenantId, tid);
      assert.equal(o.appClass, i.appClass);
      assert.equal(o.requestId, i.requestId);
      assert.equal(o.bodyContent, i.body.content);
      assert.equal(o.bodyText, bodyText(i));
      assert.equal(o.attachmentCount, i.attachments.length);
      assert.equal(o.mentionCount, i.mentions.length);
      n++;
    }
    assert.equal(n, truth.length);
    const tricky = t.toArray().find((x) => x.bodyContent === TRICKY_TEXT);
    assert.ok(tricky, 'non-ASCII and control characters survive in Parquet too');
  });

  test('an empty selection is a valid file with the schema and no rows', async () => {
    const out = join(dir, 'empty.parquet');
    const r = await dump(['--out', out, '--since', '2001-01-01', '--until', '2001-01-02']);
    assert.equal(r.code, 0, r.stderr);
    const t = readTable(out);
    assert.equal(t.numRows, 0);
    assert.equal(t.schema.fields.length, FLAT_COLUMNS.length);
  });
});

describe('--pseudonymize', () => {
  /** Every id, UPN and display name of the directory that appears in a text (case-insensitive). */
  function leaks(text: string): string[] {
    const hay = text.toLowerCase();
    const found: string[] = [];
    for (const u of directory) {
      for (const v of [u.id, u.userPrincipalName, u.displayName]) if (v && hay.includes(v.toLowerCase())) found.push(v);
    }
    return found;
  }

  test('no user id, UPN or display name is left in any format, and the pseudonyms are stable across runs and formats', async () => {
    // The unpseudonymized dump does name them: the check below can fail.
    assert.ok(leaks(readFileSync(join(dir, 'all.jsonl'), 'utf8')).length > 10);
    const [j1, j2, c, p] = await Promise.all([
      dump(['--format', 'jsonl', '--out', '-', '--pseudonymize', key]),
      dump(['--format', 'jsonl', '--out', '-', '--pseudonymize', key]),
      dump(['--format', 'csv', '--out', join(dir, 'p.csv'), '--pseudonymize', key]),
      dump(['--format', 'parquet', '--out', join(dir, 'p.parquet'), '--pseudonymize', key]),
    ]);
    for (const r of [j1, j2, c, p]) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(leaks(j1.stdout), []);
    assert.ok(j1.raw.equals(j2.raw), 'same key, same store → same bytes');
    const csv = readFileSync(join(dir, 'p.csv'), 'utf8');
    assert.deepEqual(leaks(csv), []);
    const table = readTable(join(dir, 'p.parquet'));
    assert.deepEqual(leaks(JSON.stringify(table.toArray())), []);
    assert.equal(table.numRows, truth.length);

    // The same person has the same pseudonym in every format and field.
    const pj = lines(j1.stdout).map((l) => JSON.parse(l));
    assert.equal(pj.length, truth.length);
    const pseudoUsers = new Set(pj.map((x) => x.userId));
    assert.equal(pseudoUsers.size, new Set(truth.map((x) => x.userId)).size);
    for (const x of pj) if (x.interaction.from.user) assert.equal(x.interaction.from.user.id, x.userId);
    const rows: Record<string, string>[] = parseCsv(csv, { bom: true, columns: true });
    assert.deepEqual(new Set(rows.map((x) => x.userId)), pseudoUsers);
    assert.deepEqual(new Set(table.toArray().map((x) => x.userId)), pseudoUsers);
    // Only identities changed: the structure, the times and the rest of the text stay.
    const shape = (i: any) => `${i.createdDateTime}|${i.appClass}|${i.interactionType}|${i.sessionId}|${i.attachments.length}|${i.mentions.length}`;
    assert.deepEqual(pj.map((x) => shape(x.interaction)).sort(), truth.map((x) => shape(x.interaction)).sort());
    assert.ok(pj.some((x) => x.interaction.body.content === TRICKY_TEXT));

    // Another key, other pseudonyms.
    const other = join(dir, 'other.key');
    writeFileSync(other, 'f'.repeat(64));
    const o = await dump(['--format', 'jsonl', '--out', '-', '--user', adele, '--pseudonymize', other]);
    assert.equal(o.code, 0, o.stderr);
    const otherIds = new Set(lines(o.stdout).map((l) => JSON.parse(l).userId));
    assert.equal(otherIds.size, 1);
    assert.ok(!pseudoUsers.has([...otherIds][0]));
  });

  test('names in text are replaced whole, case-insensitively; Teams thread ids are not addresses', () => {
    const p = new Pseudonymizer(Buffer.from('k'.repeat(40)));
    p.learn({ id: '0b7a3c52-1111-4222-8333-944455556666', userPrincipalName: 'lee.gu@contoso.com', displayName: 'Lee Gu' });
    const s = p.text('Ask LEE GU (lee.gu@Contoso.com, 8:orgid:0B7A3C52-1111-4222-8333-944455556666) in 19:abc@thread.v2 and 19:x@thread.skype; Leeds and Gustav stay.');
    assert.doesNotMatch(s, /lee gu|lee\.gu|0b7a3c52/i);
    assert.match(s, /Person [0-9a-f]{12}/);
    assert.match(s, /user-[0-9a-f]{16}@pseudonymized\.invalid/);
    assert.match(s, /8:orgid:[0-9a-f-]{36}/);
    assert.match(s, /19:abc@thread\.v2 and 19:x@thread\.skype; Leeds and Gustav stay\./);
    assert.equal(p.id('0B7A3C52-1111-4222-8333-944455556666'), p.userId('0b7a3c52-1111-4222-8333-944455556666'));
  });
});

describe('--no-bodies', () => {
  test('no prompt or response text in any format; ids, times and counts stay', async () => {
    const [j, c, p] = await Promise.all([
      dump(['--format', 'jsonl', '--out', '-', '--no-bodies']),
      dump(['--format', 'csv', '--out', '-', '--no-bodies']),
      dump(['--format', 'parquet', '--out', join(dir, 'nb.parquet'), '--no-bodies']),
    ]);
    for (const r of [j, c, p]) assert.equal(r.code, 0, r.stderr);
    const items = lines(j.stdout).map((l) => JSON.parse(l));
    assert.equal(items.length, truth.length);
    for (const x of items) {
      assert.equal(x.interaction.body.content, null);
      for (const a of x.interaction.attachments) assert.equal(a.content, null);
    }
    const rows: Record<string, string>[] = parseCsv(c.raw, { bom: true, columns: true });
    assert.equal(rows.length, truth.length);
    for (const row of rows) {
      assert.equal(row.bodyText, '');
      assert.equal(row.bodyContent, '');
      assert.equal(Number(row.attachmentCount), byKey.get(`${row.userId}/${row.id}`)!.interaction.attachments.length);
    }
    const table = readTable(join(dir, 'nb.parquet'));
    assert.equal(table.numRows, truth.length);
    for (const row of table) assert.equal(row.bodyText, null);
    // No body or card text anywhere, checked on a sample of the truth's texts (and the tricky ones).
    const texts = new Set<string>([TRICKY_TEXT, htmlToText(TRICKY_HTML)]);
    for (const x of truth.filter((_, n) => n % 25 === 0)) {
      const t = bodyText(x.interaction);
      if (t && t.length > 12) texts.add(t);
    }
    const all = j.stdout + c.stdout + JSON.stringify(table.toArray());
    for (const t of texts) assert.ok(!all.includes(t), `body text left: ${t.slice(0, 40)}…`);
  });
});

describe('Ctrl-C', () => {
  test('an interrupted dump exits 130, removes its partial file and leaves the old output as it was', async () => {
    const out = join(dir, 'interrupted.jsonl');
    writeFileSync(out, 'the previous dump\n');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(AZURE_|COPILOG_)/.test(k)) env[k] = v;
    const child = spawn(process.execPath, [BIN, 'dump', '--store', store, '--out', out, '--pseudonymize', key], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    // The partial file appears once the store is read and the output opened: interrupt then.
    let sent = false;
    for (let i = 0; i < 1000 && !sent && child.exitCode === null; i++) {
      if (readdirSync(dir).some((f) => f.startsWith('.interrupted.jsonl.') && f.endsWith('.partial'))) {
        child.kill('SIGINT');
        sent = true;
      } else await new Promise((r) => setTimeout(r, 5));
    }
    const code = await closed;
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.partial')), []);
    if (code === 130) {
      assert.match(stderr, /interrupted/);
      assert.equal(readFileSync(out, 'utf8'), 'the previous dump\n');
    } else {
      // The machine was faster than the poll: then the dump is complete, never half.
      assert.equal(code, 0, stderr);
      assert.equal(lines(readFileSync(out, 'utf8')).length, truth.length);
    }
  });
});

describe('bad input: exit 2, a clear message, the store byte-identical and no output', () => {
  test('each case', async () => {
    const foreign = join(dir, 'notes.txt');
    writeFileSync(foreign, 'just some notes, not a database\n');
    const corrupt = join(dir, 'corrupt.db');
    writeFileSync(corrupt, Buffer.concat([Buffer.from('SQLite format 3\u0000'), Buffer.alloc(4096, 0x5a)]));
    const otherApp = join(dir, 'other-app.db');
    const db = new Database(otherApp);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const empty = join(dir, 'empty.key');
    writeFileSync(empty, '\n');
    const short = join(dir, 'short.key');
    writeFileSync(short, 'abc123\n');
    const out = join(dir, 'bad-out.csv');
    const missing = join(dir, 'no-such-store.db');
    const cases: [string, string[], RegExp, string?][] = [
      ['unknown format', ['--format', 'xml', '--out', out], /--format must be one of jsonl, csv, parquet, not 'xml'/],
      ['no format and no extension', ['--out', join(dir, 'x.out')], /--format is required/],
      ['no --out', ['--format', 'csv'], /--out is required/],
      ['--since after --until', ['--format', 'csv', '--out', out, '--since', '2026-03-01', '--until', '2026-02-01'], /--since .* must be before --until/],
      ['a bad date', ['--format', 'csv', '--out', out, '--since', 'yesterday'], /--since must be an ISO 8601 date/],
      ['output folder missing', ['--format', 'csv', '--out', join(dir, 'no', 'such', 'dir', 'x.csv')], /cannot write --out .*does not exist/],
      ['output is a directory', ['--format', 'csv', '--out', dir], /is a directory/],
      ['missing store', ['--format', 'csv', '--out', out, '--store', missing], /no copilog store at/, missing],
      ['foreign store', ['--format', 'csv', '--out', out, '--store', foreign], /not a copilog store/, foreign],
      ['corrupt store', ['--format', 'csv', '--out', out, '--store', corrupt], /corrupt|not a copilog store|cannot open/, corrupt],
      ['another application\'s SQLite', ['--format', 'csv', '--out', out, '--store', otherApp], /another application/, otherApp],
      ['missing key file', ['--format', 'csv', '--out', out, '--pseudonymize', join(dir, 'nokey')], /cannot read the key file .*openssl rand -hex 32/],
      ['empty key file', ['--format', 'csv', '--out', out, '--pseudonymize', empty], /is empty.*openssl rand -hex 32/],
      ['short key', ['--format', 'csv', '--out', out, '--pseudonymize', short], /at least 32 are needed/],
      ['unknown UPN', ['--format', 'csv', '--out', out, '--user', 'nobody@contoso.onmicrosoft.com'], /--user nobody@contoso.onmicrosoft.com: no user with that UPN/],
    ];
    const hashes = new Map<string, string>([[store, sha(store)]]);
    for (const f of [foreign, corrupt, otherApp]) hashes.set(f, sha(f));
    // Three at a time: each is a CLI start-up, and none of them writes anything.
    const runs: Run[] = [];
    for (let i = 0; i < cases.length; i += 3) {
      runs.push(...await Promise.all(cases.slice(i, i + 3).map(([, args, , storeArg]) => copilog(['dump', ...(storeArg ? [] : ['--store', store]), ...args]))));
    }
    for (const [n, [name, , message, storeArg]] of cases.entries()) {
      const r = runs[n]!;
      assert.equal(r.code, 2, `${name}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.equal(r.stdout, '', name);
      assert.ok(!existsSync(out), `${name}: no output file`);
      if (storeArg === missing) assert.ok(!existsSync(missing), 'a missing store is not created');
    }
    for (const [f, h] of hashes) assert.equal(sha(f), h, `${f} unchanged`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.partial')), []);
  });
});
