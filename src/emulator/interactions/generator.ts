// Deterministic generator of realistic Copilot interaction history (graph-facts.md §4).
//
// - A user's history is a set of sessions (`19:…@thread.v2`) placed in [start, end), biased towards
//   weekday working hours (UTC). A session holds one or more turns: a userPrompt and one aiResponse
//   (sometimes two) a few seconds later, sharing a requestId.
// - BizChat answers are an html body `<attachment id="…"></attachment>` plus an adaptive card
//   attachment whose `content` is the card JSON as a string; other apps answer in the body.
// - Teams meetings come from tenant-wide slots derived from (seed, tenantId, day), never from the
//   user: users who "attend" the same slot share its sessionId, and its recap aiResponse is the
//   same record (same id, same content) in each attendee's history.
// - id = etag = epoch ms of createdDateTime; collisions within a user are bumped by 1 ms (shared
//   meeting records are never bumped; the user's own items move instead).
import { Rng, hash128, type Seed128 } from './prng.js';
import * as C from './content.js';
import {
  ADAPTIVE_CARD_CONTENT_TYPE, APP_CLASS_PREFIX, BOT_NAME_CHAT, BOT_NAME_TEAMS, DEFAULT_APPS,
  TEAMS_MEETING_CONTEXT_NAME, TEAMS_MEETING_CONTEXT_TYPE, appClassOf, fromBot, fromUser, isoMs,
  type AiInteraction, type AiInteractionAttachment, type AiInteractionContext, type AiInteractionLink,
  type AiInteractionMention, type AiInteractionType, type CopilotApp, type ItemBody,
} from './model.js';

/** App names (`BizChat`) or full appClass values: a list (equal weights) or a name → weight map. */
export type AppClassSpec = readonly string[] | Readonly<Record<string, number>>;

export interface HistoryOptions {
  /** Scenario seed. Combined with tenantId for tenant-wide data (meetings, colleagues) and with userId for the user's own items. */
  seed: string;
  tenantId: string;
  userId: string;
  count: number;
  start: Date;
  /** Exclusive. */
  end: Date;
  locale?: string;
  appClasses?: AppClassSpec;
}

export interface NewInteractionsOptions {
  seed: string;
  tenantId: string;
  userId: string;
  count: number;
  /** The newest item is stamped at `now` (later only if `afterMs` forces it). */
  now: Date;
  /** Every generated createdDateTime (and id) is strictly greater than this, e.g. the user's newest existing item. */
  afterMs?: number;
  locale?: string;
  appClasses?: AppClassSpec;
}

/** Default share of sessions per app. */
export const DEFAULT_APP_WEIGHTS: Readonly<Record<CopilotApp, number>> = {
  BizChat: 30, Teams: 24, WebChat: 10, Word: 9, Outlook: 9, Excel: 7, PowerPoint: 6, Loop: 5,
};

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
const B64ISH = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Share of Teams sessions that are meeting sessions (when the window allows). */
const MEETING_SHARE = 0.45;

// ---------------------------------------------------------------------------------------------
// Apps

interface AppSpec {
  appClass: string;
  /** Template family; unknown apps borrow BizChat's prompts and answer in plain text. */
  kind: CopilotApp;
  known: boolean;
  conversationType: string | null;
  bot: string;
}

const KNOWN_APPS = new Map<string, CopilotApp>(DEFAULT_APPS.map((a) => [a.toLowerCase(), a]));

function appSpec(name: string): AppSpec {
  const appClass = appClassOf(name);
  const suffix = appClass.startsWith(APP_CLASS_PREFIX) ? appClass.slice(APP_CLASS_PREFIX.length) : appClass;
  const kind = KNOWN_APPS.get(suffix.toLowerCase());
  return {
    appClass,
    kind: kind ?? 'BizChat',
    known: kind !== undefined,
    conversationType: kind === 'BizChat' || kind === 'WebChat' ? 'bizchat' : 'appchat',
    bot: kind === 'Teams' ? BOT_NAME_TEAMS : BOT_NAME_CHAT,
  };
}

interface AppTable { apps: AppSpec[]; cumulative: number[]; teams: AppSpec }

const appTableCache = new Map<string, AppTable>();

function appTable(spec: AppClassSpec | undefined): AppTable {
  const entries: [string, number][] = spec === undefined
    ? Object.entries(DEFAULT_APP_WEIGHTS)
    : Array.isArray(spec)
      ? (spec as readonly string[]).map((a) => [a, 1])
      : Object.entries(spec as Record<string, number>);
  const key = JSON.stringify(entries);
  let table = appTableCache.get(key);
  if (table) return table;
  const apps: AppSpec[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [name, weight] of entries) {
    if (typeof name !== 'string' || name.trim() === '') throw new TypeError('appClasses entries must be non-empty strings');
    if (!(Number.isFinite(weight) && weight >= 0)) throw new RangeError(`appClasses weight for ${name} must be a non-negative number`);
    if (weight === 0) continue;
    total += weight;
    apps.push(appSpec(name));
    cumulative.push(total);
  }
  if (apps.length === 0) throw new RangeError('appClasses must name at least one app with a positive weight');
  table = { apps, cumulative, teams: appSpec('Teams') };
  if (appTableCache.size > 32) appTableCache.clear();
  appTableCache.set(key, table);
  return table;
}

// ---------------------------------------------------------------------------------------------
// Tenant-wide data: colleagues and meeting slots

interface Person { id: string; name: string }

interface MeetingSlot {
  threadId: string;
  subject: string;
  startMs: number;
  durationMs: number;
  /** When the shared recap aiResponse is stamped; unique across the tenant's slots. */
  recapMs: number;
  joinUrl: string;
  recapUrl: string;
  recapAttachmentId: string;
  recapText: string;
}

interface TenantProfile {
  tenantId: string;
  seed: Seed128;
  domain: string;
  people: Person[];
  slots: Map<number, MeetingSlot[]>;
}

const tenantCache = new Map<string, TenantProfile>();

function tenantProfile(seed: string, tenantId: string): TenantProfile {
  const key = `${seed}\u001f${tenantId}`;
  let profile = tenantCache.get(key);
  if (profile) return profile;
  const hashed = hash128(`tenant\u001f${key}`);
  const rng = new Rng(hashed);
  const people: Person[] = [];
  const lastOffset = rng.int(C.LAST_NAMES.length);
  for (let i = 0; i < C.FIRST_NAMES.length; i++) {
    people.push({
      id: rng.guid(),
      name: `${C.FIRST_NAMES[i]} ${C.LAST_NAMES[(i * 7 + lastOffset) % C.LAST_NAMES.length]}`,
    });
  }
  profile = { tenantId, seed: hashed, domain: rng.pick(C.TENANT_DOMAINS), people, slots: new Map() };
  if (tenantCache.size >= 64) tenantCache.delete(tenantCache.keys().next().value!);
  tenantCache.set(key, profile);
  return profile;
}

const mod = (x: number, n: number): number => ((x % n) + n) % n;

/** The tenant's meetings on a UTC day (none at weekends). At most 8 per day. */
function meetingSlots(tenant: TenantProfile, day: number): MeetingSlot[] {
  let slots = tenant.slots.get(day);
  if (slots) return slots;
  slots = [];
  const weekday = mod(day + 4, 7); // 1970-01-01 was a Thursday; 0 = Sunday
  if (weekday !== 0 && weekday !== 6) {
    const rng = Rng.derive(tenant.seed, day, 0x6d656574);
    const n = 1 + rng.int(3);
    for (let j = 0; j < n; j++) {
      const startMs = day * DAY + 8 * HOUR + rng.int(17) * 30 * MINUTE; // 08:00–16:00 UTC
      const durationMs = rng.pick([30, 30, 45, 60]) * MINUTE;
      // The low three bits of the millisecond carry j, so two slots never share a recap time.
      const recapMs = startMs + durationMs + rng.range(2, 20) * MINUTE + ((rng.int(60 * SECOND) & ~7) | j);
      const threadId = `19:meeting_${rng.chars(B64ISH, 48)}@thread.v2`;
      const subject = rng.pick(C.MEETINGS);
      const organizer = rng.pick(tenant.people);
      const callId = rng.guid();
      const vars = turnVars(rng, tenant);
      vars.meeting = subject;
      const encThread = encodeURIComponent(threadId);
      slots.push({
        threadId,
        subject,
        startMs,
        durationMs,
        recapMs,
        joinUrl: `https://teams.microsoft.com/l/meetup-join/${encThread}/0?context=${encodeURIComponent(
          JSON.stringify({ Tid: tenant.tenantId, Oid: organizer.id }))}`,
        recapUrl: `https://teams.microsoft.com/l/meetingrecap?threadId=${encThread}&callId=${callId}`
          + `&organizerId=${organizer.id}&tenantId=${tenant.tenantId}&subject=${encodeURIComponent(subject)}`,
        recapAttachmentId: callId,
        recapText: fill(rng.pick(C.RECAP_SUMMARIES), vars),
      });
    }
  }
  if (tenant.slots.size > 4000) tenant.slots.clear();
  tenant.slots.set(day, slots);
  return slots;
}

// ---------------------------------------------------------------------------------------------
// Content

interface TurnVars extends Record<string, string> {}

function turnVars(rng: Rng, tenant: TenantProfile): TurnVars {
  return {
    person: rng.pick(tenant.people).name,
    person2: rng.pick(tenant.people).name,
    project: rng.pick(C.PROJECTS),
    topic: rng.pick(C.TOPICS),
    customer: rng.pick(C.CUSTOMERS),
    doc: rng.pick(C.DOCS),
    channel: rng.pick(C.CHANNELS),
    meeting: rng.pick(C.MEETINGS),
    metric: rng.pick(C.METRICS),
    region: rng.pick(C.REGIONS),
    weekday: rng.pick(C.WEEKDAYS),
    n: String(rng.range(2, 10)),
  };
}

const PLACEHOLDER = /\{(\w+)\}/g;
const SENTENCE_START = /(^|[.!?:]\s+|\n)([a-z])/g;
/** Fill placeholders, then capitalise sentence starts ("the Q3 launch is…" → "The Q3 launch is…"). */
const fill = (template: string, vars: TurnVars): string =>
  template.replace(PLACEHOLDER, (_, k: string) => vars[k] ?? k).replace(SENTENCE_START, (_, p: string, c: string) => p + c.toUpperCase());

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function adaptiveCard(text: string): string {
  return JSON.stringify({
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: text.split('\n\n').map((p) => ({ type: 'TextBlock', text: p, wrap: true })),
    msteams: { width: 'Full' },
  });
}

const fileUrl = (tenant: TenantProfile, doc: string): string =>
  `https://${tenant.domain}.sharepoint.com/sites/Team/Shared%20Documents/${encodeURIComponent(doc)}`;

// Meeting items follow Microsoft's Teams-meeting example (getAllEnterpriseInteractions, beta
// doc, Example 1): the context and the reference attachment both point at the meeting thread
// (https://microsoft.teams.com/threads/19:meeting_…@thread.v2), the attachment's id is the thread
// id, and a text body ends with <attachment id="19:meeting_…"></attachment>.
const threadUrl = (slot: MeetingSlot): string => `https://microsoft.teams.com/threads/${slot.threadId}`;

function meetingContext(slot: MeetingSlot): AiInteractionContext {
  return { contextReference: threadUrl(slot), contextType: TEAMS_MEETING_CONTEXT_TYPE, displayName: TEAMS_MEETING_CONTEXT_NAME };
}

function threadAttachment(slot: MeetingSlot): AiInteractionAttachment {
  return { attachmentId: slot.threadId, content: null, contentType: 'reference', contentUrl: threadUrl(slot), name: TEAMS_MEETING_CONTEXT_NAME };
}

/** A meeting turn's text body: the text, then the marker of the thread attachment. */
const meetingBody = (slot: MeetingSlot, text: string): ItemBody =>
  ({ contentType: 'text', content: `${text}<attachment id="${slot.threadId}"></attachment>` });

function recapAttachment(slot: MeetingSlot): AiInteractionAttachment {
  return { attachmentId: slot.recapAttachmentId, content: null, contentType: 'reference', contentUrl: slot.recapUrl, name: slot.subject };
}

function make(
  sessionId: string, requestId: string | null, appClass: string, interactionType: AiInteractionType,
  conversationType: string | null, locale: string, body: ItemBody, attachments: AiInteractionAttachment[],
  links: AiInteractionLink[], mentions: AiInteractionMention[], contexts: AiInteractionContext[],
  from: AiInteraction['from'],
): AiInteraction {
  return {
    id: '', sessionId, requestId, appClass, interactionType, conversationType, etag: '', createdDateTime: '',
    locale, body, attachments, links, mentions, contexts, from,
  };
}

// ---------------------------------------------------------------------------------------------
// Sessions

interface Draft { ms: number; pinned: boolean; item: AiInteraction }

interface Gen {
  rng: Rng;
  tenant: TenantProfile;
  tenantId: string;
  userId: string;
  locale: string;
  /** Meeting slots (by recap time) this user already has a session in. */
  attended: Set<number>;
}

/** One prompt and its response(s), the prompt at t0. Returns the time of the last response. */
function turn(g: Gen, app: AppSpec, sessionId: string, t0: number, out: Draft[], slot?: MeetingSlot): number {
  const { rng, tenant } = g;
  const kind = slot ? 'TeamsMeeting' : app.kind;
  const vars = turnVars(rng, tenant);
  const requestId = rng.guid();

  // Prompt
  const promptText = fill(rng.pick(C.PROMPTS[kind]), vars);
  const mentions: AiInteractionMention[] = [];
  if (rng.chance(0.3) && promptText.includes(vars.person!)) {
    const person = tenant.people.find((p) => p.name === vars.person)!;
    mentions.push({
      mentionId: 0,
      mentionText: person.name,
      mentioned: {
        '@odata.type': '#microsoft.graph.aiInteractionMentionedIdentitySet',
        user: {
          '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: person.id, displayName: person.name,
          userIdentityType: 'aadUser', tenantId: g.tenantId,
        },
        application: null, device: null, conversation: null, tag: null,
      },
    });
  }
  const promptAttachments: AiInteractionAttachment[] = slot ? [threadAttachment(slot)] : [];
  if (!slot && app.known && kind !== 'WebChat' && kind !== 'Teams' && rng.chance(0.08)) {
    promptAttachments.push({
      attachmentId: rng.guid(), content: null, contentType: 'reference', contentUrl: fileUrl(tenant, vars.doc!), name: vars.doc!,
    });
  }
  out.push({
    ms: t0,
    pinned: false,
    item: make(sessionId, requestId, app.appClass, 'userPrompt', app.conversationType, g.locale,
      slot ? meetingBody(slot, promptText) : { contentType: 'text', content: promptText }, promptAttachments, [], mentions,
      slot ? [meetingContext(slot)] : [], fromUser(g.tenantId, g.userId)),
  });

  // Response(s)
  const answer = fill(rng.pick(C.ANSWERS[kind]), vars);
  let parts = [answer];
  if (rng.chance(0.12)) {
    const cut = answer.indexOf('\n\n');
    parts = cut > 0
      ? [answer.slice(0, cut), answer.slice(cut + 2)]
      : [answer, 'Would you like me to turn this into a short summary you can share?'];
  }
  let t = t0 + rng.range(2 * SECOND, 12 * SECOND);
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) t += rng.range(800, 6 * SECOND);
    const text = parts[i]!;
    const links: AiInteractionLink[] = [];
    let body: ItemBody;
    const attachments: AiInteractionAttachment[] = slot ? [threadAttachment(slot)] : [];
    if (slot) {
      body = meetingBody(slot, text.replace(/\n\n/g, ' '));
    } else if (app.known && kind === 'BizChat') {
      const cardId = rng.guid();
      body = { contentType: 'html', content: `<attachment id="${cardId}"></attachment>` };
      attachments.push({ attachmentId: cardId, content: adaptiveCard(text), contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, name: null });
    } else if (kind === 'Teams') {
      body = { contentType: 'html', content: text.split('\n\n').map((p) => `<p>${escapeHtml(p)}</p>`).join('') };
    } else {
      body = { contentType: 'text', content: text };
    }
    if (!slot && i === parts.length - 1) {
      const r = rng.float();
      if (kind === 'BizChat' || kind === 'Word' || kind === 'PowerPoint' || kind === 'Excel' || kind === 'Loop') {
        if (r < 0.35) links.push({ displayName: vars.doc!, linkType: 'File', linkUrl: fileUrl(tenant, vars.doc!) });
      }
      if ((kind === 'BizChat' || kind === 'Outlook') && r >= 0.7) {
        const meetingLink = r >= 0.88;
        links.push(meetingLink
          ? { displayName: vars.meeting!, linkType: 'Meeting', linkUrl: `https://teams.microsoft.com/l/meetup-join/19%3Ameeting_${rng.chars(B64ISH, 48)}%40thread.v2/0` }
          : { displayName: vars.meeting!, linkType: 'Event', linkUrl: `https://outlook.office365.com/owa/?itemid=${rng.chars(B64ISH, 64)}&exvsurl=1&path=/calendar/item` });
      }
    }
    const contexts = slot && rng.chance(0.75) ? [meetingContext(slot)] : [];
    out.push({
      ms: t,
      pinned: false,
      item: make(sessionId, requestId, app.appClass, 'aiResponse', app.conversationType, g.locale, body,
        attachments, links, [], contexts, fromBot(app.bot)),
    });
  }
  return t;
}

function newSessionId(rng: Rng, app: AppSpec): string {
  return app.kind === 'Teams' ? `19:${rng.chars(B64ISH, 43)}@thread.v2` : `19:${rng.hex(32)}@thread.v2`;
}

/** A non-meeting session with times relative to its start (0). */
function chatSession(g: Gen, app: AppSpec): Draft[] {
  const { rng } = g;
  const sessionId = newSessionId(rng, app);
  const turns = rng.chance(0.5) ? 1 : rng.chance(0.5) ? 2 : rng.range(3, 6);
  const out: Draft[] = [];
  let t = 0;
  for (let i = 0; i < turns; i++) t = turn(g, app, sessionId, t, out) + rng.range(20 * SECOND, 4 * MINUTE);
  return out;
}

/** Relative weight of activity at an instant: weekday working hours (UTC) dominate. */
function activity(ms: number): number {
  const day = Math.floor(ms / DAY);
  const weekday = mod(day + 4, 7);
  const hour = Math.floor(mod(ms, DAY) / HOUR);
  if (weekday === 0 || weekday === 6) return 0.06;
  if (hour >= 8 && hour < 18) return 1;
  if (hour === 7 || (hour >= 18 && hour < 21)) return 0.3;
  return 0.04;
}

function sampleTime(rng: Rng, lo: number, hi: number): number {
  let t = lo;
  for (let i = 0; i < 6; i++) {
    t = lo + Math.floor(rng.float() * (hi - lo));
    if (rng.float() < activity(t)) break;
  }
  return t;
}

/** The user's part in a tenant meeting: Q&A turns during it and/or the shared recap. Empty if nothing fits the window. */
function meetingSession(g: Gen, teams: AppSpec, startMs: number, endMs: number): Draft[] {
  const { rng } = g;
  const slots = meetingSlots(g.tenant, Math.floor(sampleTime(rng, startMs, endMs) / DAY));
  if (slots.length === 0) return [];
  const slot = rng.pick(slots);
  if (g.attended.has(slot.recapMs)) return [];
  g.attended.add(slot.recapMs);
  const out: Draft[] = [];
  const questions = rng.chance(0.75) ? rng.range(1, 4) : 0;
  let t = slot.startMs + rng.int(Math.floor(slot.durationMs / 3));
  for (let i = 0; i < questions; i++) t = turn(g, teams, slot.threadId, t, out, slot) + rng.range(MINUTE, 8 * MINUTE);
  if (questions === 0 || rng.chance(0.8)) {
    // Built from the slot only, so every attendee stores an identical record.
    out.push({
      ms: slot.recapMs,
      pinned: true,
      // requestId null is an observed variant (graph-facts §4); conversationType is the one
      // Microsoft's Teams-meeting example gives meeting items: appchat.
      item: make(slot.threadId, null, teams.appClass, 'aiResponse', teams.conversationType, g.locale,
        { contentType: 'html', content: `<p>${escapeHtml(slot.recapText)}</p>` },
        [recapAttachment(slot)], [], [], [meetingContext(slot)], fromBot(BOT_NAME_TEAMS)),
    });
  }
  return out.filter((d) => d.ms >= startMs && d.ms < endMs);
}

function stamp(item: AiInteraction, ms: number): AiInteraction {
  item.id = String(ms);
  item.etag = item.id;
  item.createdDateTime = isoMs(ms);
  return item;
}

function checkCommon(opts: { seed: unknown; tenantId: unknown; userId: unknown; count: unknown; locale?: unknown }): void {
  for (const k of ['seed', 'tenantId', 'userId'] as const) {
    if (typeof opts[k] !== 'string') throw new TypeError(`${k} must be a string`);
  }
  if (!Number.isSafeInteger(opts.count) || (opts.count as number) < 0) throw new RangeError('count must be a non-negative integer');
  if (opts.locale !== undefined && (typeof opts.locale !== 'string' || opts.locale === '')) throw new TypeError('locale must be a non-empty string');
}

const validMs = (d: unknown, name: string): number => {
  const ms = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`${name} must be a valid Date`);
  return ms;
};

// ---------------------------------------------------------------------------------------------
// Public API


/** The generator's state for one user, from its own random stream. */
function newGen(opts: { seed: string; tenantId: string; userId: string; locale?: string }, rng: Rng): Gen {
  return { rng, tenant: tenantProfile(opts.seed, opts.tenantId), tenantId: opts.tenantId, userId: opts.userId, locale: opts.locale ?? 'en-us', attended: new Set() };
}
/**
 * A user's history of `count` interactions in [start, end), sorted by createdDateTime then id.
 * Deterministic in (seed, tenantId, userId, count, start, end, locale, appClasses).
 */
export function generateHistory(opts: HistoryOptions): AiInteraction[] {
  checkCommon(opts);
  const startMs = validMs(opts.start, 'start');
  const endMs = validMs(opts.end, 'end');
  if (endMs <= startMs) throw new RangeError('end must be after start');
  if (opts.count > endMs - startMs) throw new RangeError('count exceeds the number of distinct milliseconds in [start, end)');
  const table = appTable(opts.appClasses);
  const g = newGen(opts, Rng.of('history', opts.seed, opts.tenantId, opts.userId));
  const { rng } = g;
  const window = endMs - startMs;
  const drafts: Draft[] = [];
  while (drafts.length < opts.count) {
    const app = table.apps[rng.weighted(table.cumulative)]!;
    if (app.kind === 'Teams' && app.known && rng.chance(MEETING_SHARE)) {
      const meeting = meetingSession(g, app, startMs, endMs);
      if (meeting.length > 0) {
        for (const d of meeting) drafts.push(d);
        continue;
      }
    }
    const session = chatSession(g, app);
    let span = session[session.length - 1]!.ms + 1;
    if (span > window / 2) {
      // Tiny window: squeeze the session (collisions are resolved below).
      const f = window / 2 / span;
      for (const d of session) d.ms = Math.floor(d.ms * f);
      span = session[session.length - 1]!.ms + 1;
    }
    const base = sampleTime(rng, startMs, endMs - span + 1);
    for (const d of session) {
      d.ms += base;
      drafts.push(d);
    }
  }
  drafts.length = opts.count;

  // Unique ids: shared (pinned) records keep their time; the user's own items are bumped by 1 ms.
  drafts.sort((a, b) => a.ms - b.ms || Number(b.pinned) - Number(a.pinned));
  const used = new Set<number>();
  for (const d of drafts) if (d.pinned) used.add(d.ms);
  for (const d of drafts) {
    if (d.pinned) continue;
    let ms = d.ms;
    while (used.has(ms)) ms++;
    if (ms >= endMs) {
      ms = d.ms;
      while (used.has(ms)) ms--;
    }
    used.add(ms);
    d.ms = ms;
  }
  drafts.sort((a, b) => a.ms - b.ms);
  return drafts.map((d) => stamp(d.item, d.ms));
}

/**
 * `count` new interactions for ingestion: the newest at `now`, the others shortly before, with ids
 * strictly increasing and all greater than `afterMs` (even if that pushes them past `now`).
 * No meetings: these are fresh chat sessions.
 */
export function generateInteractions(opts: NewInteractionsOptions): AiInteraction[] {
  checkCommon(opts);
  const nowMs = validMs(opts.now, 'now');
  if (opts.afterMs !== undefined && !Number.isSafeInteger(opts.afterMs)) throw new TypeError('afterMs must be an integer');
  const table = appTable(opts.appClasses);
  const g = newGen(opts, Rng.of('ingest', opts.seed, opts.tenantId, opts.userId, nowMs, opts.afterMs ?? ''));
  const { rng } = g;
  const drafts: Draft[] = [];
  let t = 0;
  while (drafts.length < opts.count) {
    const session = chatSession(g, table.apps[rng.weighted(table.cumulative)]!);
    for (const d of session) {
      d.ms += t;
      drafts.push(d);
    }
    t = drafts[drafts.length - 1]!.ms + rng.range(MINUTE, 10 * MINUTE);
  }
  drafts.length = opts.count;
  if (drafts.length === 0) return [];
  const base = nowMs - drafts[drafts.length - 1]!.ms;
  let prev = opts.afterMs ?? -Infinity;
  return drafts.map((d) => {
    const ms = Math.max(base + d.ms, prev + 1);
    prev = ms;
    return stamp(d.item, ms);
  });
}

// ---------------------------------------------------------------------------------------------
// Defaults for explicitly ingested items (used by the store)

/** `bizchat` for BizChat/WebChat, `appchat` otherwise. */
export const conversationTypeFor = (appClass: string): string => appSpec(appClass).conversationType ?? 'appchat';

/** The bot display name answering in an app: `Copilot in Teams` for Teams, `Microsoft 365 Chat` otherwise. */
export const botNameFor = (appClass: string): string => appSpec(appClass).bot;

/**
 * Realistic filler for an item given without a body: a prompt or an answer for its app. BizChat
 * answers come as Graph sends them: an html body pointing at an adaptive card attachment.
 */
export function defaultContent(
  rng: Rng, seed: string, tenantId: string, appClass: string, interactionType: AiInteractionType,
): { body: ItemBody; attachments: AiInteractionAttachment[] } {
  const app = appSpec(appClass);
  const vars = turnVars(rng, tenantProfile(seed, tenantId));
  if (interactionType === 'userPrompt') {
    return { body: { contentType: 'text', content: fill(rng.pick(C.PROMPTS[app.kind]), vars) }, attachments: [] };
  }
  const text = fill(rng.pick(C.ANSWERS[app.kind]), vars);
  if (app.known && app.kind === 'BizChat') {
    const cardId = rng.guid();
    return {
      body: { contentType: 'html', content: `<attachment id="${cardId}"></attachment>` },
      attachments: [{ attachmentId: cardId, content: adaptiveCard(text), contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, name: null }],
    };
  }
  return { body: { contentType: 'text', content: text }, attachments: [] };
}
