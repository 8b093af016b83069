// What every dump format is fed: one stored interaction (already stripped or pseudonymized when
// asked) and, for the tabular formats, the flat row people load into Power BI, DuckDB or Excel.
import type { AiInteraction } from '../client/models.js';

export interface DumpRecord {
  tenantId: string;
  userId: string;
  createdMs: number;
  /** The interaction's JSON text: verbatim from the store unless it was stripped or pseudonymized. */
  json: string;
  /** The parsed interaction, when a step before the writer already parsed it. */
  item?: AiInteraction;
}

/** A format's writer: rows in store order, then finish (footer, flush). */
export interface FormatWriter {
  write(r: DumpRecord): Promise<void>;
  finish(): Promise<void>;
}

export interface FlatRow {
  tenantId: string;
  userId: string;
  id: string;
  createdDateTime: string;
  createdMs: number;
  app: string | null;
  appClass: string | null;
  interactionType: string | null;
  conversationType: string | null;
  sessionId: string | null;
  requestId: string | null;
  locale: string | null;
  fromUserId: string | null;
  fromApplicationId: string | null;
  fromDisplayName: string | null;
  bodyContentType: string | null;
  bodyText: string | null;
  bodyContent: string | null;
  attachmentCount: number;
  linkCount: number;
  mentionCount: number;
  contextCount: number;
}

/** Column order of the CSV and Parquet outputs (docs/dump.md describes each). */
export const FLAT_COLUMNS = [
  'tenantId', 'userId', 'id', 'createdDateTime', 'app', 'appClass', 'interactionType', 'conversationType', 'sessionId', 'requestId', 'locale',
  'fromUserId', 'fromApplicationId', 'fromDisplayName', 'bodyContentType', 'bodyText', 'attachmentCount', 'linkCount', 'mentionCount', 'contextCount', 'bodyContent',
] as const satisfies readonly (keyof FlatRow)[];

const APP_CLASS_PREFIX = 'IPM.SkypeTeams.Message.Copilot.';
const CARD_TYPE = 'application/vnd.microsoft.card.adaptive';

export const parseItem = (r: DumpRecord): AiInteraction => (r.item ??= JSON.parse(r.json) as AiInteraction);

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

export function flatten(r: DumpRecord): FlatRow {
  const item = parseItem(r);
  const from = (item.from ?? {}) as { user?: { id?: unknown; displayName?: unknown } | null; application?: { id?: unknown; displayName?: unknown } | null };
  const appClass = str(item.appClass);
  return {
    tenantId: r.tenantId,
    userId: r.userId,
    id: item.id,
    createdDateTime: item.createdDateTime,
    createdMs: r.createdMs,
    app: appClass === null ? null : appClass.startsWith(APP_CLASS_PREFIX) ? appClass.slice(APP_CLASS_PREFIX.length) : appClass,
    appClass,
    interactionType: str(item.interactionType),
    conversationType: str(item.conversationType),
    sessionId: str(item.sessionId),
    requestId: str(item.requestId),
    locale: str(item.locale),
    fromUserId: str(from.user?.id),
    fromApplicationId: str(from.application?.id),
    fromDisplayName: str(from.application?.displayName) ?? str(from.user?.displayName),
    bodyContentType: str(item.body?.contentType),
    bodyText: bodyText(item),
    bodyContent: str(item.body?.content),
    attachmentCount: count(item.attachments),
    linkCount: count(item.links),
    mentionCount: count(item.mentions),
    contextCount: count(item.contexts),
  };
}

/**
 * The text a person reads: an html body stripped to text, with each `<attachment id>` that points
 * at an adaptive card replaced by the card's text (BizChat answers live in the card, not the body).
 */
export function bodyText(item: AiInteraction): string | null {
  const content = item.body?.content;
  if (typeof content !== 'string') return null;
  if (item.body?.contentType !== 'html') return content;
  const cards: string[] = [];
  const marked = content.replace(/<attachment\b[^>]*\bid\s*=\s*"([^"]*)"[^>]*>(?:\s*<\/attachment>)?/gi, (_, id: string) => {
    const a = item.attachments?.find((x) => x.attachmentId === id);
    if (!a || a.contentType !== CARD_TYPE || typeof a.content !== 'string') return '';
    cards.push(cardText(a.content));
    return `\u0000${cards.length - 1}\u0000`;
  });
  // Substituted after stripping: a card's text may itself hold '<'.
  return htmlToText(marked).replace(/\u0000(\d+)\u0000/g, (_, i: string) => cards[Number(i)] ?? '').trim();
}

/** TextBlock and TextRun texts of an adaptive card, in order, one paragraph each. */
export function cardText(json: string): string {
  let card: unknown;
  try {
    card = JSON.parse(json);
  } catch {
    return json;
  }
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ((o.type === 'TextBlock' || o.type === 'TextRun') && typeof o.text === 'string') out.push(o.text);
      for (const [k, x] of Object.entries(o)) if (k !== 'text') walk(x);
    }
  };
  walk(card);
  return out.join('\n\n');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Enough HTML to text for chat messages: block ends become line breaks, tags go, entities decode. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h[1-6]|tr|blockquote|pre)>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
