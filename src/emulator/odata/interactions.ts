// Allow-list for the Copilot interaction export (getAllEnterpriseInteractions). That API accepts
// far less than general OData: a time window on createdDateTime and a choice of appClass values.
// Rather than evaluating arbitrary filters, the endpoint asks this module to recognise that one
// shape in the AST and turn it into query bounds, or to say precisely why the filter is refused.
import { collect, formatFilter, type ComparisonNode, type FilterNode } from './ast.js';

export interface InteractionTimeBound {
  /** The bound's instant, in milliseconds since the Unix epoch. */
  ms: number;
  /** true for `ge`/`le`, false for `gt`/`lt`. */
  inclusive: boolean;
  /** Whether the literal was written with fractional seconds. */
  subSecond: boolean;
}

export type InteractionFilterAnalysis =
  | {
      ok: true;
      /** Lower bound on createdDateTime (`gt`/`ge`). */
      from?: InteractionTimeBound;
      /** Upper bound on createdDateTime (`lt`/`le`). */
      to?: InteractionTimeBound;
      /** Accepted appClass values (deduplicated, in source order); absent means no restriction. */
      appClasses?: string[];
    }
  | {
      ok: false;
      reason: 'unsupportedProperty' | 'nestedPath' | 'unsupportedShape';
      detail: string;
    };

type Rejection = Extract<InteractionFilterAnalysis, { ok: false }>;

const CREATED = 'createddatetime';
const APP_CLASS = 'appclass';
const SUPPORTED = "only 'createdDateTime' and 'appClass' can be used in $filter on getAllEnterpriseInteractions";

const shape = (detail: string): Rejection => ({ ok: false, reason: 'unsupportedShape', detail });

function flatten(node: FilterNode, op: 'and' | 'or'): FilterNode[] {
  if (node.type === 'logical' && node.op === op) return [...flatten(node.left, op), ...flatten(node.right, op)];
  return [node];
}

/** The single-segment property a comparison tests, lower-cased, if it has one on the left. */
function comparedProperty(n: FilterNode): { name: string; lower: string } | undefined {
  if (n.type !== 'comparison' || n.left.type !== 'property') return undefined;
  const name = n.left.segments[0] as string;
  return { name, lower: name.toLowerCase() };
}

function isAppClassTerm(n: FilterNode): n is ComparisonNode {
  return (
    n.type === 'comparison' &&
    comparedProperty(n)?.lower === APP_CLASS &&
    n.op === 'eq' &&
    n.right.type === 'literal' &&
    n.right.kind === 'string'
  );
}

/** Names the properties a node mentions, for messages: `'appClass'`, or `'a', 'b'`. */
function mentions(n: FilterNode): string {
  const names = [...new Set(collect(n).properties.map((p) => p.path))];
  return names.length === 0 ? `'${formatFilter(n)}'` : names.map((p) => `'${p}'`).join(', ');
}

/**
 * Checks a parsed $filter against what getAllEnterpriseInteractions accepts:
 * `createdDateTime gt|ge|lt|le <DateTimeOffset>` (at most one lower and one upper bound) and
 * `appClass eq '<string>'` terms joined by `or` (one group, parenthesised when combined with
 * `and`), all joined by `and`. Property names match case-insensitively.
 */
export function analyzeInteractionFilter(node: FilterNode): InteractionFilterAnalysis {
  // Property checks come first so a filter on an unsupported property is reported as such even
  // when its shape is also wrong.
  for (const ref of collect(node).properties) {
    if (ref.lambdaVariable !== undefined) continue; // lambdas are rejected below, as a shape
    if (ref.segments.length > 1) {
      return {
        ok: false,
        reason: 'nestedPath',
        detail: `The nested property path '${ref.path}' is not supported: ${SUPPORTED}.`,
      };
    }
    const lower = ref.path.toLowerCase();
    if (lower !== CREATED && lower !== APP_CLASS) {
      return {
        ok: false,
        reason: 'unsupportedProperty',
        detail: `The property '${ref.path}' is not supported: ${SUPPORTED}.`,
      };
    }
  }

  let from: InteractionTimeBound | undefined;
  let to: InteractionTimeBound | undefined;
  let appClasses: string[] | undefined;

  for (const term of flatten(node, 'and')) {
    if (term.type === 'logical') {
      // An `or` group: every alternative must be `appClass eq '…'`.
      const alternatives = flatten(term, 'or');
      const bad = alternatives.find((a) => !isAppClassTerm(a));
      if (bad) {
        return shape(
          `'or' may only join conditions of the form appClass eq '<value>', but it also joins ${mentions(bad)} ('${formatFilter(bad)}').`,
        );
      }
      if (appClasses) return shape("'appClass' conditions must form a single group joined by 'or'.");
      appClasses = alternatives.map((a) => ((a as ComparisonNode).right as { value: string }).value);
      continue;
    }

    const prop = comparedProperty(term);
    if (term.type !== 'comparison' || !prop || term.right.type !== 'literal') {
      return shape(
        `Unsupported condition '${formatFilter(term)}' on ${mentions(term)}: conditions must compare 'createdDateTime' or 'appClass' (on the left) with a literal (on the right).`,
      );
    }

    if (prop.lower === APP_CLASS) {
      if (!isAppClassTerm(term)) {
        return shape(`'${prop.name}' can only be compared with 'eq' and a string literal, as in appClass eq 'IPM.SkypeTeams.Message.Copilot.Teams'.`);
      }
      if (appClasses) return shape("'appClass' conditions must form a single group joined by 'or'.");
      appClasses = [(term.right as { value: string }).value];
      continue;
    }

    // createdDateTime
    const lit = term.right;
    if (lit.kind !== 'dateTimeOffset') {
      return shape(`'${prop.name}' must be compared with a DateTimeOffset literal such as 2026-01-01T00:00:00Z (unquoted).`);
    }
    const bound: InteractionTimeBound = { ms: lit.epochMs, inclusive: term.op === 'ge' || term.op === 'le', subSecond: lit.subSecond };
    if (term.op === 'gt' || term.op === 'ge') {
      if (from) return shape(`'${prop.name}' has more than one lower bound (gt/ge).`);
      from = bound;
    } else if (term.op === 'lt' || term.op === 'le') {
      if (to) return shape(`'${prop.name}' has more than one upper bound (lt/le).`);
      to = bound;
    } else {
      return shape(`'${prop.name}' supports only the operators gt, ge, lt and le, not '${term.op}'.`);
    }
  }

  const result: InteractionFilterAnalysis = { ok: true };
  if (from) result.from = from;
  if (to) result.to = to;
  if (appClasses) result.appClasses = [...new Set(appClasses)];
  return result;
}
