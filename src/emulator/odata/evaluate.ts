// Interpreter: applies a parsed $filter to one directory object (a user, group, service
// principal…) held as plain JSON. It follows the Microsoft Graph directory's semantics rather than
// plain OData's: property names and string comparisons are case-insensitive, GUIDs compare
// case-insensitively, and a DateTimeOffset literal compares with an ISO 8601 string property by
// instant. Values are first lifted into a small tagged union so each operator handles types
// explicitly and reports mismatches the way Graph does (a 400, as ODataEvaluationError).
import { collect, type ComparisonOperator, type FilterNode, type FunctionCallNode, type LambdaNode, type PropertyPathNode } from './ast.js';
import { ODataEvaluationError } from './errors.js';
import { parseDateTimeOffset } from './lexer.js';

export { ODataEvaluationError } from './errors.js';
export { collect } from './ast.js';

export interface EvaluateOptions {
  /**
   * The entity type's top-level property names (any case). When given, a path whose first
   * segment is not listed is an error and a listed property missing from an entity reads as null.
   * When omitted, a property is unknown when the entity itself has no such key.
   */
  allowedProperties?: Iterable<string>;
  /** Used in error messages; defaults to `microsoft.graph.directoryObject`. */
  entityType?: string;
}

type Value =
  | { t: 'null' }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'boolean'; v: boolean }
  | { t: 'guid'; v: string }
  | { t: 'dateTimeOffset'; v: number }
  | { t: 'collection'; v: unknown[] }
  | { t: 'object'; v: unknown };

const NULL: Value = { t: 'null' };

const OPERATOR_KIND: Record<ComparisonOperator, string> = {
  eq: 'Equal',
  ne: 'NotEqual',
  gt: 'GreaterThan',
  ge: 'GreaterThanOrEqual',
  lt: 'LessThan',
  le: 'LessThanOrEqual',
};

interface Context {
  allowed: ReadonlySet<string> | undefined;
  entityType: string;
  /** Lambda variables in scope, innermost last. */
  scope: Array<{ name: string; value: unknown }>;
}

const allowedCache = new WeakMap<object, ReadonlySet<string>>();

function contextFor(options: EvaluateOptions | undefined): Context {
  let allowed: ReadonlySet<string> | undefined;
  const list = options?.allowedProperties;
  if (list !== undefined) {
    allowed = allowedCache.get(list);
    if (!allowed) {
      allowed = new Set([...list].map((p) => p.toLowerCase()));
      allowedCache.set(list, allowed);
    }
  }
  return { allowed, entityType: options?.entityType ?? 'microsoft.graph.directoryObject', scope: [] };
}

function unknownProperty(name: string, ctx: Context): ODataEvaluationError {
  return new ODataEvaluationError(`Property '${name}' does not exist on type '${ctx.entityType}'.`);
}

function edmType(v: Value): string {
  switch (v.t) {
    case 'null':
      return 'null';
    case 'string':
      return 'Edm.String';
    case 'number':
      return Number.isInteger(v.v) ? 'Edm.Int64' : 'Edm.Double';
    case 'boolean':
      return 'Edm.Boolean';
    case 'guid':
      return 'Edm.Guid';
    case 'dateTimeOffset':
      return 'Edm.DateTimeOffset';
    case 'collection':
      return 'Collection';
    case 'object':
      return 'Edm.ComplexType';
  }
}

function lift(x: unknown): Value {
  if (x === null || x === undefined) return NULL;
  if (typeof x === 'string') return { t: 'string', v: x };
  if (typeof x === 'number') return { t: 'number', v: x };
  if (typeof x === 'bigint') return { t: 'number', v: Number(x) };
  if (typeof x === 'boolean') return { t: 'boolean', v: x };
  if (x instanceof Date) return { t: 'dateTimeOffset', v: x.getTime() };
  if (Array.isArray(x)) return { t: 'collection', v: x };
  return { t: 'object', v: x };
}

/** Reads `key` from a plain object, exactly first and then ignoring case, as Graph does. */
function getMember(obj: unknown, key: string): { found: boolean; value: unknown } {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return { found: false, value: undefined };
  const rec = obj as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(rec, key)) return { found: true, value: rec[key] };
  const lower = key.toLowerCase();
  for (const k of Object.keys(rec)) {
    if (k.toLowerCase() === lower) return { found: true, value: rec[k] };
  }
  return { found: false, value: undefined };
}

function resolvePath(node: PropertyPathNode, entity: Record<string, unknown>, ctx: Context): unknown {
  const [first, ...rest] = node.segments as [string, ...string[]];
  let current: unknown;
  const bound = findVariable(ctx, first);
  if (bound) {
    current = bound.value;
  } else {
    if (ctx.allowed && !ctx.allowed.has(first.toLowerCase())) throw unknownProperty(first, ctx);
    const m = getMember(entity, first);
    if (!m.found && !ctx.allowed) throw unknownProperty(first, ctx);
    current = m.value;
  }
  for (const seg of rest) {
    current = getMember(current, seg).value;
    if (current === undefined || current === null) return null;
  }
  return current;
}

function findVariable(ctx: Context, name: string): { value: unknown } | undefined {
  for (let i = ctx.scope.length - 1; i >= 0; i--) {
    const b = ctx.scope[i] as { name: string; value: unknown };
    if (b.name === name) return b;
  }
  return undefined;
}

function incompatible(op: string, a: Value, b: Value): ODataEvaluationError {
  return new ODataEvaluationError(
    `A binary operator with incompatible types was detected. Found operand types '${edmType(a)}' and '${edmType(b)}' for operator kind '${op}'.`,
  );
}

function order(a: number | string | boolean, b: number | string | boolean, op: ComparisonOperator): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
  }
}

function compare(op: ComparisonOperator, a: Value, b: Value): boolean {
  if (a.t === 'null' || b.t === 'null') {
    const bothNull = a.t === 'null' && b.t === 'null';
    if (op === 'eq') return bothNull;
    if (op === 'ne') return !bothNull;
    return false;
  }
  // A DateTimeOffset literal against a stored ISO 8601 string: compare instants.
  if (a.t === 'dateTimeOffset' && b.t === 'string') return compare(op, a, asDate(b, a, op));
  if (a.t === 'string' && b.t === 'dateTimeOffset') return compare(op, asDate(a, b, op), b);
  // A GUID literal against a stored id string: compare case-insensitively.
  if ((a.t === 'guid' || a.t === 'string') && (b.t === 'guid' || b.t === 'string')) {
    return order(a.v.toLowerCase(), b.v.toLowerCase(), op);
  }
  if (a.t === 'number' && b.t === 'number') return order(a.v, b.v, op);
  if (a.t === 'dateTimeOffset' && b.t === 'dateTimeOffset') return order(a.v, b.v, op);
  if (a.t === 'boolean' && b.t === 'boolean') return order(a.v, b.v, op);
  throw incompatible(OPERATOR_KIND[op], a, b);
}

function asDate(s: { t: 'string'; v: string }, other: Value, op: ComparisonOperator): Value {
  const d = parseDateTimeOffset(s.v);
  if (!d) throw incompatible(OPERATOR_KIND[op], s, other);
  return { t: 'dateTimeOffset', v: d.epochMs };
}

function truthy(v: Value, op: string, other: Value): boolean {
  if (v.t === 'null') return false;
  if (v.t === 'boolean') return v.v;
  throw incompatible(op, v, other);
}

function noSignature(node: FunctionCallNode): ODataEvaluationError {
  return new ODataEvaluationError(
    `No function signature for the function with name '${node.name}' matches the specified arguments.`,
  );
}

function evalFunction(node: FunctionCallNode, entity: Record<string, unknown>, ctx: Context): Value {
  const args = node.args.map((a) => valueOf(a, entity, ctx));
  if (args.some((a) => a.t === 'null')) return NULL;
  const str = (i: number): string => {
    const a = args[i] as Value;
    if (a.t === 'string' || a.t === 'guid') return a.v;
    throw noSignature(node);
  };
  const int = (i: number): number => {
    const a = args[i] as Value;
    if (a.t === 'number' && Number.isInteger(a.v)) return a.v;
    throw noSignature(node);
  };
  switch (node.name) {
    case 'startswith':
      return { t: 'boolean', v: str(0).toLowerCase().startsWith(str(1).toLowerCase()) };
    case 'endswith':
      return { t: 'boolean', v: str(0).toLowerCase().endsWith(str(1).toLowerCase()) };
    case 'contains':
      return { t: 'boolean', v: str(0).toLowerCase().includes(str(1).toLowerCase()) };
    case 'indexof':
      return { t: 'number', v: str(0).toLowerCase().indexOf(str(1).toLowerCase()) };
    case 'concat':
      return { t: 'string', v: str(0) + str(1) };
    case 'substring': {
      const s = str(0);
      const start = Math.max(0, int(1));
      return { t: 'string', v: args.length > 2 ? s.slice(start, start + Math.max(0, int(2))) : s.slice(start) };
    }
    case 'tolower':
      return { t: 'string', v: str(0).toLowerCase() };
    case 'toupper':
      return { t: 'string', v: str(0).toUpperCase() };
    case 'trim':
      return { t: 'string', v: str(0).trim() };
    case 'length':
      return { t: 'number', v: str(0).length };
    default:
      throw new ODataEvaluationError(`An unknown function with name '${node.name}' was found.`);
  }
}

function evalLambda(node: LambdaNode, entity: Record<string, unknown>, ctx: Context): Value {
  const coll = lift(resolvePath(node.collection, entity, ctx));
  let items: unknown[];
  if (coll.t === 'null') items = [];
  else if (coll.t === 'collection') items = coll.v;
  else {
    throw new ODataEvaluationError(
      `The '${node.op}' lambda requires a collection, but '${node.collection.segments.join('/')}' is of type '${edmType(coll)}'.`,
    );
  }
  const { body, variable } = node;
  if (body === undefined || variable === undefined) return { t: 'boolean', v: items.length > 0 };
  const test = (item: unknown): boolean => {
    ctx.scope.push({ name: variable, value: item });
    try {
      const v = valueOf(body, entity, ctx);
      return truthy(v, node.op === 'any' ? 'Any' : 'All', { t: 'boolean', v: true });
    } finally {
      ctx.scope.pop();
    }
  };
  return { t: 'boolean', v: node.op === 'any' ? items.some(test) : items.every(test) };
}

function valueOf(node: FilterNode, entity: Record<string, unknown>, ctx: Context): Value {
  switch (node.type) {
    case 'literal':
      switch (node.kind) {
        case 'string':
          return { t: 'string', v: node.value };
        case 'number':
          return { t: 'number', v: node.value };
        case 'boolean':
          return { t: 'boolean', v: node.value };
        case 'null':
          return NULL;
        case 'guid':
          return { t: 'guid', v: node.value.toLowerCase() };
        case 'dateTimeOffset':
          return { t: 'dateTimeOffset', v: node.epochMs };
      }
      break;
    case 'property':
      return lift(resolvePath(node, entity, ctx));
    case 'comparison':
      return { t: 'boolean', v: compare(node.op, valueOf(node.left, entity, ctx), valueOf(node.right, entity, ctx)) };
    case 'logical': {
      const kind = node.op === 'and' ? 'And' : 'Or';
      const left = valueOf(node.left, entity, ctx);
      const right = valueOf(node.right, entity, ctx);
      const l = truthy(left, kind, right);
      const r = truthy(right, kind, left);
      return { t: 'boolean', v: node.op === 'and' ? l && r : l || r };
    }
    case 'not': {
      const v = valueOf(node.operand, entity, ctx);
      if (v.t === 'null') return NULL;
      if (v.t === 'boolean') return { t: 'boolean', v: !v.v };
      throw new ODataEvaluationError(
        `A unary operator with an incompatible type was detected. Found operand type '${edmType(v)}' for operator kind 'Not'.`,
      );
    }
    case 'function':
      return evalFunction(node, entity, ctx);
    case 'lambda':
      return evalLambda(node, entity, ctx);
  }
}

/**
 * Whether `entity` matches the filter. Throws ODataEvaluationError for an unknown property or
 * operands of incompatible types.
 */
export function evaluate(node: FilterNode, entity: Record<string, unknown>, options?: EvaluateOptions): boolean {
  const v = valueOf(node, entity, contextFor(options));
  if (v.t === 'null') return false;
  if (v.t === 'boolean') return v.v;
  throw new ODataEvaluationError(
    `The $filter expression must evaluate to a single boolean value, not '${edmType(v)}'.`,
  );
}

/**
 * Checks every top-level property path of the filter against `options.allowedProperties` without
 * needing an entity, so an endpoint can reject an unknown property even when the collection is
 * empty. Does nothing when no allow-list is given.
 */
export function checkProperties(node: FilterNode, options: EvaluateOptions): void {
  const ctx = contextFor(options);
  if (!ctx.allowed) return;
  for (const ref of collect(node).properties) {
    const first = ref.segments[0] as string;
    if (ref.lambdaVariable === undefined && !ctx.allowed.has(first.toLowerCase())) throw unknownProperty(first, ctx);
  }
}

/** Validates the filter's properties once, then returns a predicate for Array.prototype.filter. */
export function createFilterPredicate(
  node: FilterNode,
  options?: EvaluateOptions,
): (entity: Record<string, unknown>) => boolean {
  if (options) checkProperties(node, options);
  return (entity) => evaluate(node, entity, options);
}
