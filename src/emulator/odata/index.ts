// Public API of the OData query-option parser: lexer → parser → AST → interpreter, plus the
// Copilot interaction-export allow-list and the simple query options. Import from here.
export { ODataSyntaxError, ODataEvaluationError } from './errors.js';
export { tokenize, parseDateTimeOffset } from './lexer.js';
export type { Token, ComparisonOperator, KeywordOperator } from './lexer.js';
export { collect, formatFilter } from './ast.js';
export type {
  FilterNode,
  LiteralNode,
  LiteralKind,
  StringLiteral,
  NumberLiteral,
  BooleanLiteral,
  NullLiteral,
  GuidLiteral,
  DateTimeOffsetLiteral,
  PropertyPathNode,
  ComparisonNode,
  LogicalNode,
  NotNode,
  FunctionCallNode,
  LambdaNode,
  PropertyReference,
  FilterSummary,
} from './ast.js';
export { parseFilter, MAX_FILTER_LENGTH, MAX_FILTER_DEPTH } from './parser.js';
export { evaluate, checkProperties, createFilterPredicate } from './evaluate.js';
export type { EvaluateOptions } from './evaluate.js';
export { analyzeInteractionFilter } from './interactions.js';
export type { InteractionFilterAnalysis, InteractionTimeBound } from './interactions.js';
export { parseTop, parseSelect, parseCount, MAX_TOP } from './query.js';
