// The typed columns every store keeps beside an item's raw JSON: what people filter and order on.
import type { AiInteraction } from '../client/models.js';
import type { UserCursor, UserOutcome } from './types.js';

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

/** A user_outcomes row as a UserOutcome: the optional fields only where the row has them. */
export function outcomeFromRow(row: Record<string, unknown>): UserOutcome {
  const o: UserOutcome = {
    userId: row.user_id as string, userPrincipalName: (row.user_principal_name as string | null) ?? null, outcome: row.outcome as UserOutcome['outcome'],
    interactions: row.interactions as number, added: row.added as number, pages: row.pages as number,
  };
  for (const [k, col] of [['status', 'status'], ['code', 'code'], ['message', 'message'], ['requestId', 'request_id'], ['clientRequestId', 'client_request_id'], ['date', 'date'], ['verdict', 'verdict']] as const) {
    if (row[col] !== null && row[col] !== undefined) (o as unknown as Record<string, unknown>)[k] = row[col];
  }
  return o;
}

/** A cursors row as a UserCursor (the same columns in every store). */
export const cursorFromRow = (r: Record<string, unknown>): UserCursor => ({
  userId: r.user_id as string,
  scope: r.scope as string,
  watermarkMs: (r.watermark_ms as number | null) ?? null,
  window: r.window_from_ms === null ? null : {
    fromMs: r.window_from_ms as number, toMs: r.window_to_ms as number, nextLink: (r.next_link as string | null) ?? null, pages: (r.window_pages as number) ?? 0,
  },
  updatedAt: r.updated_at as string,
});
