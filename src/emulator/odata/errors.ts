// Error types shared by every layer of the OData query-option parser. They live in their own
// module so the lexer, parser, evaluator and query-option readers can throw the same classes and
// the HTTP layer can map them to Graph's 400 responses with a single `instanceof` check.

/**
 * A malformed query option ($filter, $top, $select, $count). `position` is the 0-based character
 * offset in the option's text where the problem was found (the text's length for "unexpected end
 * of input"). `message` reads like Graph's; `detail` is a longer explanation for logs and tests.
 */
export class ODataSyntaxError extends Error {
  readonly position: number;
  readonly detail: string | undefined;

  constructor(message: string, position: number, detail?: string) {
    super(message);
    this.name = 'ODataSyntaxError';
    this.position = position;
    this.detail = detail;
  }
}

/**
 * A well-formed filter that cannot be applied: an unknown property, or operands whose types do
 * not fit the operator. Graph reports both as 400 Bad Request.
 */
export class ODataEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ODataEvaluationError';
  }
}
