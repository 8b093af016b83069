// The typed columns every store keeps beside an item's raw JSON: what people filter and order on.
import type { AiInteraction } from '../client/models.js';

export function columnsOf(item: AiInteraction): { createdMs: number; appClass: string | null; interactionType: string | null; sessionId: string | null; requestId: string | null; conversationType: string | null } {
  const createdMs = Date.parse(item.createdDateTime);
  return {
    createdMs: Number.isFinite(createdMs) ? createdMs : 0,
    appClass: item.appClass ?? null,
    interactionType: item.interactionType ?? null,
    sessionId: item.sessionId ?? null,
    requestId: item.requestId ?? null,
    conversationType: item.conversationType ?? null,
  };
}
