// Lexer: turns an OData v4 $filter expression into a flat list of tokens, each with its character
// position. Literal recognition (strings, GUIDs, DateTimeOffsets, numbers) happens here, once, so
// the parser only deals with token types and every error can point at an exact offset. The lexer
// is a single forward pass with anchored regular expressions: linear in the input, no backtracking
// across tokens, and it throws nothing but ODataSyntaxError.
import { ODataSyntaxError } from './errors.js';

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type KeywordOperator = ComparisonOperator | 'and' | 'or' | 'not';
export type Punctuation = '(' | ')' | ',' | ':' | '/';

interface TokenBase {
  /** 0-based offset of the token's first character. */
  position: number;
  /** The token's source text, exactly as written. */
  text: string;
}

export interface IdentifierToken extends TokenBase { type: 'identifier' }
export interface StringToken extends TokenBase { type: 'string'; value: string }
export interface NumberToken extends TokenBase { type: 'number'; value: number }
export interface GuidToken extends TokenBase { type: 'guid' }
export interface DateTimeOffsetToken extends TokenBase {
  type: 'dateTimeOffset';
  epochMs: number;
  subSecond: boolean;
}
export interface BooleanToken extends TokenBase { type: 'boolean'; value: boolean }
export interface NullToken extends TokenBase { type: 'null' }
export interface OperatorToken extends TokenBase { type: 'operator'; op: KeywordOperator }
export interface PunctuationToken extends TokenBase { type: 'punctuation'; text: Punctuation }
export interface EndToken extends TokenBase { type: 'eof' }

export type Token =
  | IdentifierToken
  | StringToken
  | NumberToken
  | GuidToken
  | DateTimeOffsetToken
  | BooleanToken
  | NullToken
  | OperatorToken
  | PunctuationToken
  | EndToken;

const KEYWORDS: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or', 'not']);

const GUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/iy;
// yyyy-mm-ddThh:mm[:ss[.fffffff]](Z|±hh:mm). "T" and "Z" are case-insensitive in OData's ABNF.
const DATE_TIME_RE = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(Z|[+-]\d{2}:\d{2})/iy;
const DATE_PREFIX_RE = /\d{4}-\d{2}-\d{2}/y;
const NUMBER_RE = /-?\d+(?:\.\d+)?/y;
const IDENTIFIER_RE = /[A-Za-z_][A-Za-z0-9_]*/y;

const isIdentifierChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);
const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** The Graph-style message for a syntax error at `position` in `text`. */
export function syntaxError(text: string, position: number, detail?: string): ODataSyntaxError {
  if (position >= text.length) {
    return new ODataSyntaxError('Invalid filter clause: unexpected end of input.', text.length, detail);
  }
  return new ODataSyntaxError(`Invalid filter clause: syntax error at position ${position} in '${text}'.`, position, detail);
}

function matchAt(re: RegExp, text: string, position: number): RegExpExecArray | null {
  re.lastIndex = position;
  return re.exec(text);
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

/** Validates the parts of a DateTimeOffset literal and returns its instant, or undefined if invalid. */
function dateTimeToEpochMs(m: RegExpExecArray): number | undefined {
  const num = (i: number): number => Number(m[i] ?? '0');
  const year = num(1), month = num(2), day = num(3), hour = num(4), minute = num(5), second = num(6);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = m[7] ?? '';
  const millis = fraction === '' ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  let offsetMinutes = 0;
  const zone = m[8] ?? 'Z';
  if (zone.toUpperCase() !== 'Z') {
    const oh = Number(zone.slice(1, 3)), om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0-99 literal (Date.UTC would not)
  d.setUTCHours(hour, minute, second, millis);
  return d.getTime() - offsetMinutes * 60_000;
}

/** Splits a $filter expression into tokens; the last token is always `eof`. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (isWhitespace(c)) {
      i++;
      continue;
    }
    const start = i;

    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) {
          throw new ODataSyntaxError(
            `Invalid filter clause: There is an unterminated string literal at position ${start} in '${text}'.`,
            start,
            'unterminated string literal',
          );
        }
        const ch = text[i] as string;
        if (ch === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      tokens.push({ type: 'string', value, text: text.slice(start, i), position: start });
      continue;
    }

    if (c === '(' || c === ')' || c === ',' || c === ':' || c === '/') {
      tokens.push({ type: 'punctuation', text: c, position: start });
      i++;
      continue;
    }

    if (/[0-9A-Fa-f]/.test(c)) {
      const g = matchAt(GUID_RE, text, i);
      if (g && !isIdentifierChar(text[i + g[0].length])) {
        tokens.push({ type: 'guid', text: g[0], position: start });
        i += g[0].length;
        continue;
      }
    }

    if (/[0-9]/.test(c) && matchAt(DATE_PREFIX_RE, text, i)) {
      const m = matchAt(DATE_TIME_RE, text, i);
      const epochMs = m ? dateTimeToEpochMs(m) : undefined;
      if (!m || epochMs === undefined || isIdentifierChar(text[i + m[0].length])) {
        throw syntaxError(text, start, 'malformed DateTimeOffset literal (expected e.g. 2026-01-01T00:00:00Z)');
      }
      tokens.push({ type: 'dateTimeOffset', text: m[0], epochMs, subSecond: m[7] !== undefined, position: start });
      i += m[0].length;
      continue;
    }

    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = matchAt(NUMBER_RE, text, i) as RegExpExecArray; // cannot fail: a digit is at i or i+1
      const next = text[i + m[0].length];
      const value = Number(m[0]);
      if (isIdentifierChar(next) || next === '.' || !Number.isFinite(value)) {
        throw syntaxError(text, start, `malformed numeric literal '${m[0]}${next ?? ''}'`);
      }
      tokens.push({ type: 'number', value, text: m[0], position: start });
      i += m[0].length;
      continue;
    }

    const id = matchAt(IDENTIFIER_RE, text, i);
    if (id) {
      const word = id[0];
      const lower = word.toLowerCase();
      if (KEYWORDS.has(lower)) {
        tokens.push({ type: 'operator', op: lower as KeywordOperator, text: word, position: start });
      } else if (lower === 'true' || lower === 'false') {
        tokens.push({ type: 'boolean', value: lower === 'true', text: word, position: start });
      } else if (lower === 'null') {
        tokens.push({ type: 'null', text: word, position: start });
      } else {
        tokens.push({ type: 'identifier', text: word, position: start });
      }
      i += word.length;
      continue;
    }

    throw syntaxError(text, start, `unexpected character '${c}'`);
  }
  tokens.push({ type: 'eof', text: '', position: text.length });
  return tokens;
}

const FULL_DATE_TIME_RE = new RegExp(`^(?:${DATE_TIME_RE.source})$`, 'i');

/**
 * Parses a whole string as an OData DateTimeOffset (the same syntax the lexer accepts), e.g. a
 * stored `createdDateTime`. Returns undefined when the string is not one.
 */
export function parseDateTimeOffset(text: string): { epochMs: number; subSecond: boolean } | undefined {
  const m = FULL_DATE_TIME_RE.exec(text);
  if (!m) return undefined;
  const epochMs = dateTimeToEpochMs(m);
  return epochMs === undefined ? undefined : { epochMs, subSecond: m[7] !== undefined };
}
