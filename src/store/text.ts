// The words a person searches an interaction by: its body (HTML reduced to text), the text of its
// adaptive cards and attachments, and the names of its links, contexts and mentions. Shared by
// every store implementation so a query finds the same items whichever store holds them.
import type { AiInteraction } from '../client/models.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** HTML to plain text for indexing only (never for display): tags become spaces, common entities decode. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : ' ';
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}

/** Card properties that hold words a reader sees (Adaptive Cards: TextBlock.text, TextRun.text, Fact title/value, Action.title, Image.altText, Input placeholders). */
const CARD_TEXT_KEYS = new Set(['text', 'title', 'value', 'altText', 'placeholder', 'label', 'speak', 'fallbackText']);

/** The readable text of an adaptive card (or any JSON), in document order. */
export function cardText(json: unknown, out: string[] = []): string[] {
  if (Array.isArray(json)) for (const x of json) cardText(x, out);
  else if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json)) {
      if (typeof v === 'string') {
        if (CARD_TEXT_KEYS.has(k) && v.trim()) out.push(v);
      } else cardText(v, out);
    }
  }
  return out;
}

/** An attachment's content as text: a JSON card's text, else the string itself. */
export function attachmentText(content: string | null | undefined): string {
  if (!content) return '';
  const t = content.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return cardText(JSON.parse(content)).join('\n');
    } catch {
      // Not JSON after all: index it as it is.
    }
  }
  return content;
}

/** Everything searchable in one interaction, one part a line. */
export function searchText(item: AiInteraction): string {
  const parts: string[] = [];
  const body = item.body?.content;
  if (body) parts.push(item.body?.contentType === 'html' ? htmlToText(body) : body);
  for (const a of item.attachments ?? []) {
    if (a?.name) parts.push(a.name);
    const t = attachmentText(a?.content);
    if (t) parts.push(t);
  }
  for (const l of item.links ?? []) if (l?.displayName) parts.push(l.displayName);
  for (const c of item.contexts ?? []) if (c?.displayName) parts.push(c.displayName);
  for (const m of (item.mentions ?? []) as { mentionText?: string }[]) if (m?.mentionText) parts.push(m.mentionText);
  return parts.join('\n');
}
