// A stored conversation as the browser shows it. Stored HTML goes through sanitize-html here, on
// the server, so the page only ever receives markup with no script, handler or remote resource;
// everything else travels as plain strings the page writes with textContent.
import sanitizeHtml from 'sanitize-html';
import type { AiInteraction } from '../client/models.js';
import { attachmentText } from '../store/text.js';
import type { Conversation } from '../store/index.js';

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'hr', 'div', 'span', 'b', 'strong', 'i', 'em', 'u', 's', 'sub', 'sup', 'code', 'pre', 'blockquote',
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'a',
    'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption',
  ],
  allowedAttributes: { a: ['href', 'title'], td: ['colspan', 'rowspan'], th: ['colspan', 'rowspan'] },
  allowedSchemes: ['https', 'http', 'mailto'],
  allowProtocolRelative: false,
  // Whatever else stands in the HTML (Copilot's <attachment> markers, unknown tags) keeps its text only.
  disallowedTagsMode: 'discard',
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }) },
};

export function sanitize(html: string): string {
  return sanitizeHtml(html, SANITIZE);
}

export interface InteractionView {
  id: string;
  createdDateTime: string;
  interactionType: string;
  appClass: string;
  conversationType: string | null;
  locale: string | null;
  from: string;
  /** Exactly one of text (plain) and html (sanitized). */
  body: { text?: string; html?: string } | null;
  attachments: { name: string | null; contentType: string | null; contentUrl: string | null; text: string }[];
  links: { displayName: string | null; linkType: string | null; linkUrl: string | null }[];
  mentions: { mentionText: string | null; name: string | null }[];
  contexts: { displayName: string | null; contextType: string | null; contextReference: string | null }[];
}

export interface ConversationView {
  id: string;
  tenantId: string;
  userId: string;
  sessionId: string;
  startedAt: string;
  lastAt: string;
  turns: { requestId: string | null; prompt: InteractionView | null; responses: InteractionView[] }[];
}

function who(from: Record<string, unknown> | undefined): string {
  if (!from) return '';
  for (const k of ['user', 'application', 'device']) {
    const v = from[k] as { displayName?: string | null; id?: string | null } | null | undefined;
    if (v) return v.displayName || v.id || k;
  }
  return '';
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const safeUrl = (v: unknown): string | null => (typeof v === 'string' && /^(https?:|mailto:)/i.test(v) ? v : null);

export function interactionView(item: AiInteraction): InteractionView {
  const content = item.body?.content;
  const body = typeof content === 'string' && content !== ''
    ? (item.body?.contentType === 'html' ? { html: sanitize(content) } : { text: content })
    : null;
  return {
    id: item.id,
    createdDateTime: item.createdDateTime,
    interactionType: item.interactionType,
    appClass: item.appClass,
    conversationType: item.conversationType ?? null,
    locale: item.locale ?? null,
    from: who(item.from),
    body,
    attachments: (item.attachments ?? []).map((a) => ({
      name: str(a?.name), contentType: str(a?.contentType), contentUrl: safeUrl(a?.contentUrl), text: attachmentText(a?.content),
    })),
    links: (item.links ?? []).map((l) => ({ displayName: str(l?.displayName), linkType: str(l?.linkType), linkUrl: safeUrl(l?.linkUrl) })),
    mentions: ((item.mentions ?? []) as { mentionText?: unknown; mentioned?: { user?: { displayName?: unknown } | null } }[]).map((m) => ({
      mentionText: str(m?.mentionText), name: str(m?.mentioned?.user?.displayName),
    })),
    contexts: (item.contexts ?? []).map((c) => ({ displayName: str(c?.displayName), contextType: str(c?.contextType), contextReference: str(c?.contextReference) })),
  };
}

/** A conversation's id in URLs: its tenant, user and session, base64url-encoded. */
export function conversationId(tenantId: string, userId: string, sessionId: string): string {
  return Buffer.from(JSON.stringify([tenantId, userId, sessionId]), 'utf8').toString('base64url');
}

export function parseConversationId(id: string): { tenantId: string; userId: string; sessionId: string } | null {
  if (!/^[A-Za-z0-9_-]{1,4000}$/.test(id)) return null;
  try {
    const v = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'string' && x.length > 0)) return { tenantId: v[0], userId: v[1], sessionId: v[2] };
  } catch {
    // fall through
  }
  return null;
}

export function conversationView(c: Conversation): ConversationView {
  return {
    id: conversationId(c.tenantId, c.userId, c.sessionId),
    tenantId: c.tenantId, userId: c.userId, sessionId: c.sessionId, startedAt: c.startedAt, lastAt: c.lastAt,
    turns: c.turns.map((t) => ({ requestId: t.requestId, prompt: t.prompt ? interactionView(t.prompt) : null, responses: t.responses.map(interactionView) })),
  };
}
