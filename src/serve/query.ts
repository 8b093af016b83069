// Query parameters of serve's JSON API, checked before the store sees them: an unknown name, a
// bad date or a number out of range is a 400 that says what was wrong and what is accepted.

export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

export type Query = Record<string, string | string[] | undefined>;

export function checkKnown(q: Query, known: readonly string[]): void {
  for (const k of Object.keys(q)) {
    if (!known.includes(k)) throw new BadRequest(`unknown query parameter '${k}'; this endpoint takes ${known.length ? known.join(', ') : 'none'}`);
  }
}

/** One value (a repeated single-valued parameter is an error, not a silent pick). */
export function one(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw new BadRequest(`'${name}' was given ${v.length} times; give it once`);
  return v === undefined || v === '' ? undefined : v;
}

/** Repeatable and comma-separated: user=a&user=b or user=a,b. */
export function many(q: Query, name: string): string[] | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  const all = (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  if (all.length > 100) throw new BadRequest(`'${name}' has ${all.length} values; at most 100`);
  return all.length ? all : undefined;
}

export function integer(q: Query, name: string, min: number, max: number, dflt: number): number {
  const v = one(q, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new BadRequest(`'${name}' must be a whole number from ${min} to ${max}, not '${v}'`);
  return Number(v);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An ISO 8601 date or instant, in ms. A date is a UTC day: `since` takes its start, `until` its
 * end (until=2025-09-30 includes the 30th), as a person reading a date range means it.
 */
export function instant(q: Query, name: 'since' | 'until'): number | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  if (DATE.test(v)) {
    const ms = Date.parse(`${v}T00:00:00Z`);
    if (Number.isFinite(ms) && new Date(ms).toISOString().startsWith(v)) return name === 'until' ? ms + 86_400_000 : ms;
  } else if (INSTANT.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new BadRequest(`'${name}' must be a date (2025-09-30) or an ISO 8601 instant with its offset (2025-09-30T12:00:00Z), not '${v}'`);
}

export function range(q: Query): { sinceMs?: number; untilMs?: number } {
  const sinceMs = instant(q, 'since');
  const untilMs = instant(q, 'until');
  if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) throw new BadRequest(`'since' (${one(q, 'since')}) must be before 'until' (${one(q, 'until')})`);
  return { sinceMs, untilMs };
}

export const INTERACTION_TYPES = ['userPrompt', 'aiResponse', 'unknownFutureValue'] as const;

export function interactionTypes(q: Query): string[] | undefined {
  const v = many(q, 'type');
  for (const t of v ?? []) {
    if (!(INTERACTION_TYPES as readonly string[]).includes(t)) throw new BadRequest(`'type' must be one of ${INTERACTION_TYPES.join(', ')}, not '${t}'`);
  }
  return v;
}
