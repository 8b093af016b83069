// AST: the parsed form of a $filter expression, as a discriminated union on `type`. The parser
// produces it, the evaluator interprets it against an entity, and endpoint code inspects it
// (`collect`, interactions.ts) to enforce the narrower filters some Graph APIs accept. Every node
// keeps the 0-based position of its first character so later checks can point at the source.
import type { ComparisonOperator } from './lexer.js';

export type { ComparisonOperator } from './lexer.js';

interface NodeBase {
  /** 0-based offset in the filter text where this node starts. */
  position: number;
}

export interface StringLiteral extends NodeBase { type: 'literal'; kind: 'string'; value: string }
export interface NumberLiteral extends NodeBase { type: 'literal'; kind: 'number'; value: number; raw: string }
export interface BooleanLiteral extends NodeBase { type: 'literal'; kind: 'boolean'; value: boolean }
export interface NullLiteral extends NodeBase { type: 'literal'; kind: 'null'; value: null }
/** A bare GUID such as 639dec6b-bb19-468b-871c-c5c441c4b0cb; `value` is the text as written. */
export interface GuidLiteral extends NodeBase { type: 'literal'; kind: 'guid'; value: string }
/** A bare ISO 8601 instant with an offset; `value` is the text as written. */
export interface DateTimeOffsetLiteral extends NodeBase {
  type: 'literal';
  kind: 'dateTimeOffset';
  value: string;
  /** The instant, in milliseconds since the Unix epoch (digits beyond milliseconds are truncated). */
  epochMs: number;
  /** Whether the literal was written with fractional seconds (e.g. `.123`). */
  subSecond: boolean;
}

export type LiteralNode =
  | StringLiteral
  | NumberLiteral
  | BooleanLiteral
  | NullLiteral
  | GuidLiteral
  | DateTimeOffsetLiteral;

export type LiteralKind = LiteralNode['kind'];

/**
 * A member path such as `userType` or `from/user/id`. Inside a lambda body the first segment may
 * be the lambda variable (`x/skuId`).
 */
export interface PropertyPathNode extends NodeBase { type: 'property'; segments: string[] }

export interface ComparisonNode extends NodeBase {
  type: 'comparison';
  op: ComparisonOperator;
  left: FilterNode;
  right: FilterNode;
}

export interface LogicalNode extends NodeBase {
  type: 'logical';
  op: 'and' | 'or';
  left: FilterNode;
  right: FilterNode;
}

export interface NotNode extends NodeBase { type: 'not'; operand: FilterNode }

/** A built-in function call; `name` is lower-cased (`startsWith(...)` gives `startswith`). */
export interface FunctionCallNode extends NodeBase { type: 'function'; name: string; args: FilterNode[] }

/**
 * `collection/any(x: body)`, `collection/all(x: body)` or `collection/any()`. `variable` and
 * `body` are both present or both absent (only `any` may omit them).
 */
export interface LambdaNode extends NodeBase {
  type: 'lambda';
  op: 'any' | 'all';
  collection: PropertyPathNode;
  variable?: string;
  body?: FilterNode;
}

export type FilterNode =
  | LiteralNode
  | PropertyPathNode
  | ComparisonNode
  | LogicalNode
  | NotNode
  | FunctionCallNode
  | LambdaNode;

/** A property path found by `collect`, with the lambda variable it is relative to, if any. */
export interface PropertyReference {
  /** The segments joined with '/', e.g. `from/user/id` or `x/skuId`. */
  path: string;
  segments: string[];
  position: number;
  /** Set when the path starts with an enclosing lambda's variable (`x` in `any(x: x/skuId eq …)`). */
  lambdaVariable?: string;
}

export interface FilterSummary {
  /** Every property path, in source order, including lambda collections and lambda-relative paths. */
  properties: PropertyReference[];
  comparisons: ComparisonNode[];
  functions: FunctionCallNode[];
  lambdas: LambdaNode[];
  logical: LogicalNode[];
  nots: NotNode[];
}

/** Lists the property paths, comparisons, function calls, lambdas and logical nodes of a filter. */
export function collect(node: FilterNode): FilterSummary {
  const summary: FilterSummary = { properties: [], comparisons: [], functions: [], lambdas: [], logical: [], nots: [] };
  const visit = (n: FilterNode, scope: readonly string[]): void => {
    switch (n.type) {
      case 'literal':
        return;
      case 'property': {
        const first = n.segments[0] as string;
        const ref: PropertyReference = { path: n.segments.join('/'), segments: [...n.segments], position: n.position };
        if (scope.includes(first)) ref.lambdaVariable = first;
        summary.properties.push(ref);
        return;
      }
      case 'comparison':
        summary.comparisons.push(n);
        visit(n.left, scope);
        visit(n.right, scope);
        return;
      case 'logical':
        summary.logical.push(n);
        visit(n.left, scope);
        visit(n.right, scope);
        return;
      case 'not':
        summary.nots.push(n);
        visit(n.operand, scope);
        return;
      case 'function':
        summary.functions.push(n);
        for (const a of n.args) visit(a, scope);
        return;
      case 'lambda':
        summary.lambdas.push(n);
        visit(n.collection, scope);
        if (n.body) visit(n.body, n.variable === undefined ? scope : [...scope, n.variable]);
        return;
    }
  };
  visit(node, []);
  return summary;
}

/** Binding strength: or < and < comparison < not < primaries. */
function precedence(n: FilterNode): number {
  switch (n.type) {
    case 'logical':
      return n.op === 'or' ? 1 : 2;
    case 'comparison':
      return 3;
    case 'not':
      return 4;
    default:
      return 5;
  }
}

function formatLiteral(n: LiteralNode): string {
  switch (n.kind) {
    case 'string':
      return `'${n.value.replace(/'/g, "''")}'`;
    case 'number':
      return n.raw;
    case 'boolean':
      return String(n.value);
    case 'null':
      return 'null';
    case 'guid':
    case 'dateTimeOffset':
      return n.value;
  }
}

/**
 * Writes a filter back as OData text that parses to the same AST (positions aside). Parentheses
 * are added only where precedence or associativity needs them.
 */
export function formatFilter(node: FilterNode): string {
  // Parenthesise a child that binds less tightly than `min`.
  const child = (n: FilterNode, min: number): string => (precedence(n) >= min ? formatFilter(n) : `(${formatFilter(n)})`);
  switch (node.type) {
    case 'literal':
      return formatLiteral(node);
    case 'property':
      return node.segments.join('/');
    case 'comparison':
      // Comparisons do not chain, so both operands must bind tighter.
      return `${child(node.left, 4)} ${node.op} ${child(node.right, 4)}`;
    case 'logical': {
      // and/or are left-associative: the left operand may be at the same level, the right not.
      const p = precedence(node);
      return `${child(node.left, p)} ${node.op} ${child(node.right, p + 1)}`;
    }
    case 'not':
      return `not ${child(node.operand, 4)}`;
    case 'function':
      return `${node.name}(${node.args.map(formatFilter).join(', ')})`;
    case 'lambda': {
      const head = `${formatFilter(node.collection)}/${node.op}`;
      return node.body === undefined || node.variable === undefined
        ? `${head}()`
        : `${head}(${node.variable}: ${formatFilter(node.body)})`;
    }
  }
}
