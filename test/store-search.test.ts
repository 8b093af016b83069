// Serve's search on the SQLite store gives the same pages whichever way it finds them: every
// query shape (words, phrases, prefixes, users, apps, types, dates, tenants), paged to the end
// with keyset cursors, is compared with a plain SQL answer (the text column of the index for the
// words, the table's columns for everything else, sorted newest first). The reader runs twice:
// as shipped (a small store: matches are collected and sorted at once) and with collectMax lowered
// so that nearly every query walks the index's time blocks instead.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import type { AiInteraction } from '../src/client/models.js';
import { generateHistory } from '../src/emulator/interactions/generator.js';
import { COUNT_CAP, ftsQuery, type SearchQuery } from '../src/store/read.js';
import { SqliteReader } from '../src/store/sqlite-read.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite.js';
import { coverTags, DAY_MS } from '../src/store/tags.js';
import { cleanDir, tempDir } from './support/emulator.js';

const dir = tempDir('copilog-store-search-');
const TENANTS = ['6a1f0c2e-5b7d-4e21-9c3a-1d2e3f405162', '0b6e2f41-7d3c-4a59-8e10-2f3a4b5c6d7e'];
const userId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
let store: SqliteStore;
let words: string[] = [];
let phrases: string[] = [];

before(async () => {
  store = await openSqliteStore(join(dir, 'search.db'));
  const runId = await store.beginRun(TENANTS[0]!, 'test', {});
  for (const [t, tenantId] of TENANTS.entries()) {
    for (let u = 0; u < 12; u++) {
      const items = generateHistory({ seed: 'store-search', tenantId, userId: userId(u), count: 150, start: new Date('2025-07-01T00:00:00Z'), end: new Date('2025-10-01T00:00:00Z') }) as unknown as AiInteraction[];
      // Ties on createdDateTime across users (the seq breaks them) and an appClass in another case.
      if (u % 3 === 0) for (const it of items.slice(0, 5)) it.createdDateTime = '2025-08-15T12:00:00.000Z';
      if (u === 1 && t === 0) for (const it of items.slice(0, 20)) it.appClass = it.appClass.toUpperCase();
      await store.upsertPage({ tenantId, userId: userId(u), scope: '', runId, items, cursor: { watermarkMs: null, window: null } });
    }
  }
  // A changed item is re-indexed with its new time and words.
  const [first] = generateHistory({ seed: 'store-search', tenantId: TENANTS[0]!, userId: userId(0), count: 150, start: new Date('2025-07-01T00:00:00Z'), end: new Date('2025-10-01T00:00:00Z') }) as unknown as AiInteraction[];
  await store.upsertPage({ tenantId: TENANTS[0]!, userId: userId(0), scope: '', runId, cursor: { watermarkMs: null, window: null },
    items: [{ ...first!, createdDateTime: '2025-09-30T23:59:59.999Z', body: { contentType: 'text', content: 'quokka zebra' } } as AiInteraction] });
  await store.finishRun(runId, 'completed', {});
  const texts = (store.db.prepare('SELECT json FROM interactions WHERE seq % 41 = 0').pluck().all() as string[])
    .map((j) => String((JSON.parse(j) as AiInteraction).body?.content ?? '').replace(/<[^>]*>/g, ' '));
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of t.toLowerCase().match(/[a-z]{4,}/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  const byCount = [...counts].sort((a, b) => b[1] - a[1]).map(([w]) => w);
  // The commonest, some from the middle and the rarest.
  words = [...byCount.slice(0, 4), ...byCount.slice(Math.floor(byCount.length / 2), Math.floor(byCount.length / 2) + 3), ...byCount.slice(-3)];
  phrases = [...new Set(texts.flatMap((t) => [...t.matchAll(/(?=\b([A-Za-z]{3,} [A-Za-z]{3,})\b)/g)].map((m) => m[1]!)))].slice(0, 3);
});

after(async () => {
  await store.close();
  cleanDir(dir);
});

/** The answer by plain SQL: every match, newest first. */
function reference(q: SearchQuery): string[] {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (q.text) {
    const m = ftsQuery(q.text);
    if (m === null) return [];
    clauses.push('seq IN (SELECT rowid FROM interaction_text WHERE interaction_text MATCH ?)');
    params.push(`{text} : (${m})`);
  }
  if (q.tenantId !== undefined) { clauses.push('tenant_id = ?'); params.push(q.tenantId); }
  if (q.userIds?.length) { clauses.push(`user_id IN (${q.userIds.map(() => '?').join(',')})`); params.push(...q.userIds); }
  if (q.appClasses?.length) { clauses.push(`app_class COLLATE NOCASE IN (${q.appClasses.map(() => '?').join(',')})`); params.push(...q.appClasses); }
  if (q.interactionTypes?.length) { clauses.push(`interaction_type IN (${q.interactionTypes.map(() => '?').join(',')})`); params.push(...q.interactionTypes); }
  if (q.sinceMs !== undefined) { clauses.push('created_ms >= ?'); params.push(q.sinceMs); }
  if (q.untilMs !== undefined) { clauses.push('created_ms < ?'); params.push(q.untilMs); }
  return (store.db.prepare(`SELECT tenant_id || '/' || user_id || '/' || id FROM interactions ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY created_ms DESC, seq DESC`)
    .pluck().all(...params) as string[]);
}

async function pages(reader: SqliteReader, q: SearchQuery): Promise<{ ids: string[]; totals: { total: number; totalCapped: boolean }[] }> {
  const ids: string[] = [];
  const totals: { total: number; totalCapped: boolean }[] = [];
  let after: string | undefined;
  for (let n = 0; n < 10_000; n++) {
    const p = reader.search({ ...q, after });
    ids.push(...p.hits.map((h) => `${h.tenantId}/${h.userId}/${h.id}`));
    totals.push({ total: p.total, totalCapped: p.totalCapped });
    if (p.hits.length > q.limit) throw new Error('a page longer than its limit');
    if (!p.next) return { ids, totals };
    assert.equal(p.hits.length, q.limit, 'only the last page is short');
    after = p.next;
  }
  throw new Error('no last page');
}

function shapes(): { name: string; q: SearchQuery }[] {
  const d = (s: string) => Date.parse(s);
  const teams = 'IPM.SkypeTeams.Message.Copilot.Teams';
  const out: { name: string; q: SearchQuery }[] = [
    { name: 'everything', q: { limit: 97 } },
    { name: 'one tenant, a date range', q: { tenantId: TENANTS[1], sinceMs: d('2025-08-03T06:30:00Z'), untilMs: d('2025-09-11T00:00:00Z'), limit: 40 } },
    { name: 'one user', q: { userIds: [userId(3)], limit: 25 } },
    { name: 'two users, one tenant', q: { userIds: [userId(3), userId(7)], tenantId: TENANTS[0], limit: 25 } },
    { name: 'appClass in another case + type', q: { appClasses: [teams.toLowerCase()], interactionTypes: ['userPrompt'], limit: 25 } },
    { name: 'appClass + type + range cutting days', q: { appClasses: [teams, 'IPM.SkypeTeams.Message.Copilot.Word'], interactionTypes: ['aiResponse'], sinceMs: d('2025-07-20T13:14:15.123Z'), untilMs: d('2025-08-16T01:00:00Z'), limit: 25 } },
    { name: 'a word that is not there', q: { text: 'zzyzxqv', limit: 25 } },
    { name: 'the re-indexed word', q: { text: 'quokka', limit: 25 } },
    { name: 'punctuation only', q: { text: '!!', limit: 25 } },
    { name: 'an app that is not there', q: { appClasses: ['IPM.Nothing'], limit: 25 } },
    { name: 'a range before the store', q: { text: words[0]!, untilMs: d('2025-01-01T00:00:00Z'), limit: 25 } },
    { name: 'a range after the store', q: { userIds: [userId(2)], sinceMs: d('2026-03-01T00:00:00Z'), limit: 25 } },
  ];
  for (const [i, w] of words.entries()) {
    out.push({ name: `word ${w}`, q: { text: w, limit: i % 2 ? 25 : 7 } });
    out.push({ name: `word ${w} + user`, q: { text: w, userIds: [userId(i % 12)], limit: 5 } });
    out.push({ name: `word ${w} + appClass`, q: { text: w, appClasses: [teams], limit: 25 } });
    out.push({ name: `word ${w} + one month`, q: { text: w, sinceMs: d('2025-08-01'), untilMs: d('2025-09-01'), limit: 25 } });
    out.push({ name: `word ${w} + since only`, q: { text: w, sinceMs: d('2025-09-10T10:00:00Z'), limit: 25 } });
    out.push({ name: `word ${w} + until only + tenant`, q: { text: w, untilMs: d('2025-07-09T18:00:00Z'), tenantId: TENANTS[i % 2], limit: 25 } });
  }
  out.push({ name: 'two words', q: { text: `${words[0]} ${words[5]}`, limit: 25 } });
  out.push({ name: 'three words', q: { text: `${words[1]} ${words[2]} ${words[3]}`, limit: 10 } });
  out.push({ name: 'prefix', q: { text: `${words[4]!.slice(0, 3)}*`, limit: 25 } });
  for (const p of phrases) out.push({ name: `phrase "${p}"`, q: { text: `"${p}"`, limit: 25 } });
  return out;
}

describe('search on the SQLite store gives the plain SQL answer, paged', () => {
  for (const [plan, collectMax] of [['as shipped', undefined], ['walking time blocks', 3]] as const) {
    test(plan, async () => {
      const reader = new SqliteReader(store.db, { collectMax });
      assert.ok(words.length >= 8 && phrases.length >= 1, 'the generated store has a vocabulary');
      let matched = 0;
      for (const { name, q } of shapes()) {
        const want = reference(q);
        const got = await pages(reader, q);
        assert.deepEqual(got.ids, want, name);
        for (const t of got.totals) assert.deepEqual(t, { total: Math.min(want.length, COUNT_CAP), totalCapped: want.length > COUNT_CAP }, `${name}: total`);
        matched += want.length;
      }
      assert.ok(matched > 10_000, `the shapes find something (${matched} hits)`);
    });
  }

  test('a bad cursor is refused', () => {
    assert.throws(() => new SqliteReader(store.db).search({ text: words[0], limit: 5, after: 'zz' }), /not a page cursor/);
  });
});

test('coverTags: the fewest aligned blocks, each day once', () => {
  const days = (tags: string[]) => tags.flatMap((t) => {
    const m = /^t(\d)p(\d+)$/.exec(t)!;
    const size = 2 ** Number(m[1]);
    return Array.from({ length: size }, (_, i) => Number(m[2]) * size + i);
  });
  const first = Math.floor(Date.parse('2025-07-03') / DAY_MS);
  for (const [a, b] of [[first, first], [first, first + 1], [first, first + 100], [first - 7, first + 1500]]) {
    const tags = coverTags(a!, b!);
    assert.deepEqual(days(tags), Array.from({ length: b! - a! + 1 }, (_, i) => a! + i));
    assert.ok(tags.length <= 3 * 7 + 2 + Math.ceil((b! - a!) / 512), `${tags.length} blocks for ${b! - a! + 1} days`);
  }
});
