// Readers for the simple query options ($top, $select, $count). Each takes the raw, already
// URL-decoded value (undefined when the option is absent) and either returns it typed or throws
// ODataSyntaxError with a message naming the option and the offending value, as Graph does.
import { ODataSyntaxError } from './errors.js';

/** Largest $top accepted (OData's Edm.Int32 range); endpoints clamp to their own page size. */
export const MAX_TOP = 2_147_483_647;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `$top`: a positive integer, or undefined when absent. */
export function parseTop(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_TOP)) {
    throw new ODataSyntaxError(
      `Invalid value for $top: '${raw}'. It must be a positive integer` + (value > MAX_TOP ? ` no greater than ${MAX_TOP}.` : '.'),
      0,
    );
  }
  return value;
}

/** `$select`: comma-separated property names (whitespace around each is ignored), duplicates removed. */
export function parseSelect(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const names: string[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const part of raw.split(',')) {
    const name = part.trim();
    if (!IDENTIFIER.test(name)) {
      const what = name === '' ? 'an empty property name' : `'${name}', which is not a property name`;
      throw new ODataSyntaxError(
        `Invalid value for $select: '${raw}'. It contains ${what}; use comma-separated property names such as 'id,displayName'.`,
        offset + (part.length - part.trimStart().length),
      );
    }
    if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      names.push(name);
    }
    offset += part.length + 1;
  }
  return names;
}

/** `$count`: `true` or `false`; false when absent. */
export function parseCount(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ODataSyntaxError(`Invalid value for $count: '${raw}'. It must be 'true' or 'false'.`, 0);
}
