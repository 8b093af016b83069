// Parser: recursive descent from tokens to the AST. One function per precedence level keeps the
// grammar readable and makes precedence explicit:
//
//   filter     := or EOF
//   or         := and ('or' and)*
//   and        := comparison ('and' comparison)*
//   comparison := unary (('eq'|'ne'|'gt'|'ge'|'lt'|'le') unary)?
//   unary      := 'not' unary | primary
//   primary    := literal | '(' or ')' | IDENT '(' [or (',' or)*] ')' | path
//   path       := IDENT ('/' IDENT)* ['/' ('any'|'all') '(' [IDENT ':' or] ')']
//
// As in OData v4, `not` binds tighter than comparisons (`not a eq b` is `(not a) eq b`; write
// `not (a eq b)`), comparisons do not chain, and `and` binds tighter than `or`. The input length
// and nesting depth are capped so hostile input cannot exhaust the stack; every failure, whatever
// the input, is an ODataSyntaxError.
import type { FilterNode, FunctionCallNode, LambdaNode, LiteralNode, PropertyPathNode } from './ast.js';
import { ODataSyntaxError } from './errors.js';
import { syntaxError, tokenize, type ComparisonOperator, type Token } from './lexer.js';

export { ODataSyntaxError } from './errors.js';

/** Longest $filter text accepted, in characters. */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of parentheses, `not`, function arguments and lambda bodies accepted. */
export const MAX_FILTER_DEPTH = 50;

/** Built-in functions and the argument counts they accept. */
const FUNCTIONS: ReadonlyMap<string, readonly number[]> = new Map([
  ['startswith', [2]],
  ['endswith', [2]],
  ['contains', [2]],
  ['indexof', [2]],
  ['concat', [2]],
  ['substring', [2, 3]],
  ['tolower', [1]],
  ['toupper', [1]],
  ['trim', [1]],
  ['length', [1]],
]);

const COMPARISON_OPERATORS: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parse(): FilterNode {
    const node = this.parseOr();
    this.expectEnd();
    return node;
  }

  private peek(offset = 0): Token {
    // The token list always ends with `eof`, so clamping keeps every lookahead in range.
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.index++;
    return t;
  }

  private fail(token: Token, detail: string): never {
    throw syntaxError(this.text, token.type === 'eof' ? this.text.length : token.position, detail);
  }

  private isPunct(t: Token, p: string): boolean {
    return t.type === 'punctuation' && t.text === p;
  }

  private isOperator(t: Token, op: string): boolean {
    return t.type === 'operator' && t.op === op;
  }

  private expectPunct(p: string, what: string): Token {
    const t = this.next();
    if (!this.isPunct(t, p)) this.fail(t, `expected '${p}' ${what}`);
    return t;
  }

  private expectEnd(): void {
    const t = this.peek();
    if (t.type !== 'eof') this.fail(t, `unexpected '${t.text}' (expected 'and', 'or' or the end of the filter)`);
  }

  /** Runs `fn` one nesting level deeper, enforcing MAX_FILTER_DEPTH. */
  private nested<T>(at: Token, fn: () => T): T {
    if (this.depth >= MAX_FILTER_DEPTH) {
      throw new ODataSyntaxError(
        `Invalid filter clause: the recursion limit of ${MAX_FILTER_DEPTH} nested expressions was exceeded at position ${at.position}.`,
        at.position,
        'nesting too deep',
      );
    }
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.isOperator(this.peek(), 'or')) {
      this.next();
      const right = this.parseAnd();
      left = { type: 'logical', op: 'or', left, right, position: left.position };
    }
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseComparison();
    while (this.isOperator(this.peek(), 'and')) {
      this.next();
      const right = this.parseComparison();
      left = { type: 'logical', op: 'and', left, right, position: left.position };
    }
    return left;
  }

  private parseComparison(): FilterNode {
    const left = this.parseUnary();
    const t = this.peek();
    if (t.type === 'operator' && COMPARISON_OPERATORS.has(t.op)) {
      this.next();
      const right = this.parseUnary();
      return { type: 'comparison', op: t.op as ComparisonOperator, left, right, position: left.position };
    }
    return left;
  }

  private parseUnary(): FilterNode {
    const t = this.peek();
    if (this.isOperator(t, 'not')) {
      this.next();
      const operand = this.nested(t, () => this.parseUnary());
      return { type: 'not', operand, position: t.position };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): FilterNode {
    const t = this.next();
    switch (t.type) {
      case 'string':
        return { type: 'literal', kind: 'string', value: t.value, position: t.position };
      case 'number':
        return { type: 'literal', kind: 'number', value: t.value, raw: t.text, position: t.position };
      case 'boolean':
        return { type: 'literal', kind: 'boolean', value: t.value, position: t.position };
      case 'null':
        return { type: 'literal', kind: 'null', value: null, position: t.position };
      case 'guid':
        return { type: 'literal', kind: 'guid', value: t.text, position: t.position };
      case 'dateTimeOffset': {
        const lit: LiteralNode = {
          type: 'literal',
          kind: 'dateTimeOffset',
          value: t.text,
          epochMs: t.epochMs,
          subSecond: t.subSecond,
          position: t.position,
        };
        return lit;
      }
      case 'identifier':
        if (this.isPunct(this.peek(), '(')) return this.parseFunctionCall(t);
        return this.parsePath(t);
      case 'punctuation':
        if (t.text === '(') {
          const inner = this.nested(t, () => this.parseOr());
          this.expectPunct(')', 'to close the parenthesis');
          return inner;
        }
        return this.fail(t, `unexpected '${t.text}' (expected a property, a literal or '(')`);
      case 'operator':
        return this.fail(t, `unexpected operator '${t.text}' (expected a property, a literal or '(')`);
      case 'eof':
        return this.fail(t, 'the filter ends where a property, a literal or \'(\' was expected');
    }
  }

  private parseFunctionCall(nameToken: Token): FunctionCallNode {
    const name = nameToken.text.toLowerCase();
    const arities = FUNCTIONS.get(name);
    if (!arities) {
      throw new ODataSyntaxError(
        `Invalid filter clause: An unknown function with name '${nameToken.text}' was found. ` +
          'This may also be a function import or a key lookup on a navigation property, which is not allowed.',
        nameToken.position,
        `unknown function '${nameToken.text}'`,
      );
    }
    const open = this.expectPunct('(', `after '${nameToken.text}'`);
    const args: FilterNode[] = [];
    if (!this.isPunct(this.peek(), ')')) {
      for (;;) {
        args.push(this.nested(open, () => this.parseOr()));
        const sep = this.next();
        if (this.isPunct(sep, ')')) break;
        if (!this.isPunct(sep, ',')) this.fail(sep, `expected ',' or ')' in the arguments of '${nameToken.text}'`);
      }
    } else {
      this.next();
    }
    if (!arities.includes(args.length)) {
      throw new ODataSyntaxError(
        `Invalid filter clause: No function signature for the function with name '${nameToken.text}' matches the specified arguments.`,
        nameToken.position,
        `'${name}' takes ${arities.join(' or ')} argument(s), not ${args.length}`,
      );
    }
    return { type: 'function', name, args, position: nameToken.position };
  }

  private parsePath(first: Token): PropertyPathNode | LambdaNode {
    const path: PropertyPathNode = { type: 'property', segments: [first.text], position: first.position };
    while (this.isPunct(this.peek(), '/')) {
      this.next();
      const seg = this.next();
      if (seg.type !== 'identifier') this.fail(seg, "expected a property name after '/'");
      const lower = seg.text.toLowerCase();
      if ((lower === 'any' || lower === 'all') && this.isPunct(this.peek(), '(')) {
        return this.parseLambda(path, lower, seg);
      }
      path.segments.push(seg.text);
    }
    return path;
  }

  private parseLambda(collection: PropertyPathNode, op: 'any' | 'all', opToken: Token): LambdaNode {
    const open = this.expectPunct('(', `after '${opToken.text}'`);
    if (this.isPunct(this.peek(), ')')) {
      const close = this.next();
      if (op === 'all') this.fail(close, "'all' needs a lambda expression, e.g. all(x: x eq 'value')");
      return { type: 'lambda', op, collection, position: collection.position };
    }
    const variable = this.next();
    if (variable.type !== 'identifier') this.fail(variable, `expected a lambda variable name after '${opToken.text}('`);
    this.expectPunct(':', 'after the lambda variable');
    const body = this.nested(open, () => this.parseOr());
    this.expectPunct(')', `to close '${opToken.text}('`);
    return { type: 'lambda', op, collection, variable: variable.text, body, position: collection.position };
  }
}

/**
 * Parses an OData v4 $filter expression. Throws ODataSyntaxError (and nothing else) for any
 * malformed, empty, over-long or over-nested input.
 */
export function parseFilter(text: string): FilterNode {
  if (typeof text !== 'string') {
    throw new ODataSyntaxError('Invalid filter clause: the filter must be a string.', 0);
  }
  if (text.length > MAX_FILTER_LENGTH) {
    throw new ODataSyntaxError(
      `Invalid filter clause: the filter is ${text.length} characters long; the maximum is ${MAX_FILTER_LENGTH}.`,
      MAX_FILTER_LENGTH,
      'filter too long',
    );
  }
  // No catch-all here on purpose: the fuzz tests prove only ODataSyntaxError escapes, and a
  // wrapper would hide the bugs they exist to find.
  return new Parser(text, tokenize(text)).parse();
}
