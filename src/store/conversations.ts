// Conversation reconstruction, shared by every store implementation: a session's interactions
// (in time order) become turns, each prompt with the responses that carry its requestId.
// requestId may be null (meeting recaps, graph-facts §4): such an item stands as its own turn.
import type { AiInteraction } from '../client/models.js';
import type { Conversation, StoredInteraction, Turn } from './types.js';

/** Turns of one session; `items` must be ordered by createdDateTime, then id. */
export function pairTurns(items: AiInteraction[]): Turn[] {
  const turns: Turn[] = [];
  const open = new Map<string, Turn>();
  for (const item of items) {
    const rid = item.requestId ?? null;
    const isPrompt = item.interactionType === 'userPrompt';
    let turn = rid !== null ? open.get(rid) : undefined;
    // A second prompt with the same requestId starts a new turn (an edited prompt is a new interaction).
    if (!turn || (isPrompt && turn.prompt !== null)) {
      turn = { requestId: rid, prompt: null, responses: [] };
      turns.push(turn);
      if (rid !== null) open.set(rid, turn);
    }
    if (isPrompt) turn.prompt = item;
    else turn.responses.push(item);
  }
  return turns;
}

/**
 * Group a stream ordered by (tenant, user, session, time) into conversations. Stores feed it rows
 * in that order so only one session is held in memory at a time.
 */
export async function* groupConversations(rows: AsyncIterable<StoredInteraction & { sessionId: string }>): AsyncGenerator<Conversation> {
  let key = '';
  let current: { tenantId: string; userId: string; sessionId: string; items: AiInteraction[] } | undefined;
  const flush = (): Conversation | undefined => {
    if (!current || current.items.length === 0) return undefined;
    const items = current.items;
    return {
      tenantId: current.tenantId, userId: current.userId, sessionId: current.sessionId,
      startedAt: items[0]!.createdDateTime, lastAt: items[items.length - 1]!.createdDateTime,
      turns: pairTurns(items),
    };
  };
  for await (const r of rows) {
    const k = `${r.tenantId}\u0000${r.userId}\u0000${r.sessionId}`;
    if (k !== key) {
      const done = flush();
      if (done) yield done;
      key = k;
      current = { tenantId: r.tenantId, userId: r.userId, sessionId: r.sessionId, items: [] };
    }
    current!.items.push(JSON.parse(r.json) as AiInteraction);
  }
  const done = flush();
  if (done) yield done;
}
