// The search index's second column (schema v4): tokens for what serve filters on and for when an
// interaction happened, so a search with filters narrows inside the FTS index, and a common word
// can be searched a few days at a time, newest first, instead of sorting all of its matches.
//
// - tenant, user, appClass, interactionType: a letter and the value's UTF-8 bytes in hex (exact;
//   appClass lowered in ASCII first, as SQLite's NOCASE compares it). An absent value has no token.
// - time: the UTC day of createdDateTime in aligned blocks of 2^k days for each k in TIME_LEVELS
//   (`t3p2530` is the 8-day block 2530 since 1970-01-01).
// The tokens are letters and digits only, so the unicode61 tokenizer keeps each one whole.

export const DAY_MS = 86_400_000;
/** Block sizes of the time tokens, as powers of two days: 1, 8, 64 and 512 days. */
export const TIME_LEVELS = [0, 3, 6, 9] as const;

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

export const tenantTag = (v: string): string => `n${hex(v)}`;
export const userTag = (v: string): string => `u${hex(v)}`;
export const appTag = (v: string): string => `a${hex(asciiLower(v))}`;
export const typeTag = (v: string): string => `y${hex(v)}`;
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);
/** The token of the block of 2^level days holding `day`. */
export const blockTag = (level: number, block: number): string => `t${level}${block < 0 ? 'm' : 'p'}${Math.abs(block)}`;
export const blockOf = (level: number, day: number): number => Math.floor(day / 2 ** level);

export interface TagColumns {
  tenantId: string;
  userId: string;
  appClass: string | null;
  interactionType: string | null;
  createdMs: number;
}

/** The tags column of one interaction. */
export function searchTags(c: TagColumns): string {
  const day = dayOf(c.createdMs);
  const out = [tenantTag(c.tenantId), userTag(c.userId)];
  if (c.appClass !== null) out.push(appTag(c.appClass));
  if (c.interactionType !== null) out.push(typeTag(c.interactionType));
  for (const k of TIME_LEVELS) out.push(blockTag(k, blockOf(k, day)));
  return out.join(' ');
}

/**
 * The fewest aligned blocks that cover the days from `first` to `last` (inclusive), as tokens:
 * at most a few per level, whatever the span.
 */
export function coverTags(first: number, last: number): string[] {
  const out: string[] = [];
  let d = first;
  while (d <= last) {
    // The largest block that starts at d and ends by `last`.
    let level: number = TIME_LEVELS[0];
    for (const k of TIME_LEVELS) {
      const size = 2 ** k;
      if (d % size === 0 && d + size - 1 <= last) level = k;
    }
    out.push(blockTag(level, blockOf(level, d)));
    d += 2 ** level;
  }
  return out;
}
