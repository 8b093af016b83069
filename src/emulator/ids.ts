// Deterministic identifiers: the same scenario always yields the same ids, so scenario files,
// tests and support bundles can refer to them.
import { createHash, randomUUID } from 'node:crypto';

/** A GUID derived from the parts (name-based, like a v5 UUID). */
export function guidFrom(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const newGuid = (): string => randomUUID();

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
