// Tests for the emulator's OData query-option parser (src/emulator/odata): exact ASTs for the
// filters Graph clients send, evaluation against sample users, the Copilot interaction-export
// allow-list, Graph-style syntax errors with positions, and fuzzing (random strings, mutated
// valid filters, grammar-generated filters) holding the parser to "an AST or ODataSyntaxError,
// quickly, for any input".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import {
  analyzeInteractionFilter,
  checkProperties,
  collect,
  createFilterPredicate,
  evaluate,
  formatFilter,
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  ODataEvaluationError,
  ODataSyntaxError,
  parseCount,
  parseFilter,
  parseSelect,
  parseTop,
  tokenize,
  type FilterNode,
} from '../src/emulator/odata/index.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** The AST without positions, for comparing structure. */
function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) if (k !== 'position') out[k] = strip(v);
    return out;
  }
  return node;
}

function syntaxErrorOf(text: string): ODataSyntaxError {
  try {
    parseFilter(text);
  } catch (err) {
    assert.ok(err instanceof ODataSyntaxError, `expected ODataSyntaxError for ${JSON.stringify(text)}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

const GUID = '639dec6b-bb19-468b-871c-c5c441c4b0cb';

const USERS: Record<string, Record<string, unknown>> = {
  adele: {
    id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
    displayName: "Adele O'Vance",
    userPrincipalName: 'AdeleV@contoso.onmicrosoft.com',
    userType: 'Member',
    accountEnabled: true,
    mail: null,
    createdDateTime: '2026-01-15T10:00:00Z',
    manager: { displayName: 'Megan Bowen' },
    assignedLicenses: [{ skuId: GUID.toUpperCase(), disabledPlans: [] }],
  },
  alex: {
    id: '5a0f9b2c-0000-4000-8000-00000000000a',
    displayName: 'Alex Wilber',
    userPrincipalName: 'alexw_fabrikam.com#EXT#@contoso.onmicrosoft.com',
    userType: 'Guest',
    accountEnabled: false,
    mail: 'alexw@fabrikam.com',
    createdDateTime: '2025-12-31T23:59:59.9999999Z',
    manager: null,
    assignedLicenses: [],
  },
  megan: {
    id: '0b9c3d1e-1111-4111-8111-111111111111',
    displayName: 'Megan Bowen',
    userPrincipalName: 'MeganB@contoso.onmicrosoft.com',
    userType: 'Member',
    accountEnabled: true,
    mail: 'MeganB@contoso.com',
    createdDateTime: '2026-01-01T00:00:00+02:00',
    manager: { displayName: 'Adele Vance' },
    assignedLicenses: [
      { skuId: '00000000-0000-0000-0000-000000000000', disabledPlans: ['x'] },
      { skuId: GUID, disabledPlans: [] },
    ],
  },
};

const USER_PROPERTIES = [
  'id',
  'displayName',
  'userPrincipalName',
  'userType',
  'accountEnabled',
  'mail',
  'createdDateTime',
  'manager',
  'assignedLicenses',
];

const USER_OPTIONS = { allowedProperties: USER_PROPERTIES, entityType: 'microsoft.graph.user' };

/** The names of the sample users matching the filter. */
function matching(filter: string): string[] {
  const predicate = createFilterPredicate(parseFilter(filter), USER_OPTIONS);
  return Object.entries(USERS)
    .filter(([, u]) => predicate(u))
    .map(([name]) => name);
}

// ---------------------------------------------------------------------------------------------
// Lexer

describe('tokenize', () => {
  it('produces typed tokens with their positions', () => {
    const tokens = tokenize("a/b eq 'it''s' AND x ne -1.5 or(y:z,)");
    assert.deepEqual(
      tokens.map((t) => [t.type, t.text, t.position]),
      [
        ['identifier', 'a', 0],
        ['punctuation', '/', 1],
        ['identifier', 'b', 2],
        ['operator', 'eq', 4],
        ['string', "'it''s'", 7],
        ['operator', 'AND', 15],
        ['identifier', 'x', 19],
        ['operator', 'ne', 21],
        ['number', '-1.5', 24],
        ['operator', 'or', 29],
        ['punctuation', '(', 31],
        ['identifier', 'y', 32],
        ['punctuation', ':', 33],
        ['identifier', 'z', 34],
        ['punctuation', ',', 35],
        ['punctuation', ')', 36],
        ['eof', '', 37],
      ],
    );
    const str = tokens[4];
    assert.ok(str?.type === 'string');
    assert.equal(str.value, "it's");
    const and = tokens[5];
    assert.ok(and?.type === 'operator');
    assert.equal(and.op, 'and');
  });

  it('recognises GUIDs (any case) before numbers and identifiers', () => {
    const [a, b, c] = tokenize(`${GUID} 00000000-0000-0000-0000-000000000000 ABCDEF01-2345-6789-ABCD-EF0123456789`);
    assert.deepEqual([a?.type, b?.type, c?.type], ['guid', 'guid', 'guid']);
    assert.equal(c?.text, 'ABCDEF01-2345-6789-ABCD-EF0123456789');
  });

  it('recognises DateTimeOffsets with Z, fractions and offsets, and computes the instant', () => {
    const cases: Array<[string, number, boolean]> = [
      ['2026-01-01T00:00:00Z', Date.UTC(2026, 0, 1), false],
      ['2026-01-01T00:00:00.123Z', Date.UTC(2026, 0, 1, 0, 0, 0, 123), true],
      ['2026-01-01T00:00:00+02:00', Date.UTC(2025, 11, 31, 22), false],
      ['2026-01-01T00:00:00.5-05:30', Date.UTC(2026, 0, 1, 5, 30, 0, 500), true],
      ['2024-02-29T23:59:59.9999999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999), true],
      ['0099-06-01T00:00Z', Date.parse('0099-06-01T00:00:00Z'), false],
    ];
    for (const [text, epochMs, subSecond] of cases) {
      const [t, end] = tokenize(text);
      assert.ok(t?.type === 'dateTimeOffset', text);
      assert.deepEqual({ text: t.text, epochMs: t.epochMs, subSecond: t.subSecond }, { text, epochMs, subSecond }, text);
      assert.equal(end?.type, 'eof');
    }
  });

  it('treats true/false/null and operators as keywords in any case', () => {
    assert.deepEqual(
      tokenize('TRUE False null NOT Or').map((t) => t.type),
      ['boolean', 'boolean', 'null', 'operator', 'operator', 'eof'],
    );
  });

  it('rejects impossible dates and malformed numbers at their position', () => {
    for (const [text, position] of [
      ['d eq 2026-02-29T00:00:00Z', 5],
      ['d eq 2026-13-01T00:00:00Z', 5],
      ['d eq 2026-01-01T24:00:00Z', 5],
      ['d eq 2026-01-01T00:00:00', 5],
      ['d eq 2026-01-01', 5],
      ['n eq 12abc', 5],
      ['n eq 1.', 5],
      ['n eq 1.5.2', 5],
    ] as const) {
      assert.equal(syntaxErrorOf(text).position, position, text);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Parser

describe('parseFilter', () => {
  it("parses userType eq 'Member'", () => {
    assert.deepEqual(parseFilter("userType eq 'Member'"), {
      type: 'comparison',
      op: 'eq',
      position: 0,
      left: { type: 'property', segments: ['userType'], position: 0 },
      right: { type: 'literal', kind: 'string', value: 'Member', position: 12 },
    });
  });

  it('parses accountEnabled eq true', () => {
    assert.deepEqual(parseFilter('accountEnabled eq true'), {
      type: 'comparison',
      op: 'eq',
      position: 0,
      left: { type: 'property', segments: ['accountEnabled'], position: 0 },
      right: { type: 'literal', kind: 'boolean', value: true, position: 18 },
    });
  });

  it('parses an any() lambda over assignedLicenses with a GUID literal', () => {
    assert.deepEqual(parseFilter(`assignedLicenses/any(x:x/skuId eq ${GUID})`), {
      type: 'lambda',
      op: 'any',
      position: 0,
      collection: { type: 'property', segments: ['assignedLicenses'], position: 0 },
      variable: 'x',
      body: {
        type: 'comparison',
        op: 'eq',
        position: 23,
        left: { type: 'property', segments: ['x', 'skuId'], position: 23 },
        right: { type: 'literal', kind: 'guid', value: GUID, position: 34 },
      },
    });
  });

  it('parses all(), and any() without a body', () => {
    assert.deepEqual(strip(parseFilter('assignedLicenses/any()')), {
      type: 'lambda',
      op: 'any',
      collection: { type: 'property', segments: ['assignedLicenses'] },
    });
    assert.deepEqual(strip(parseFilter("memberOf/ALL(g: g/displayName ne 'x')")), {
      type: 'lambda',
      op: 'all',
      collection: { type: 'property', segments: ['memberOf'] },
      variable: 'g',
      body: {
        type: 'comparison',
        op: 'ne',
        left: { type: 'property', segments: ['g', 'displayName'] },
        right: { type: 'literal', kind: 'string', value: 'x' },
      },
    });
  });

  it("parses startsWith(userPrincipalName,'adele') with a lower-cased function name", () => {
    assert.deepEqual(parseFilter("startsWith(userPrincipalName,'adele')"), {
      type: 'function',
      name: 'startswith',
      position: 0,
      args: [
        { type: 'property', segments: ['userPrincipalName'], position: 11 },
        { type: 'literal', kind: 'string', value: 'adele', position: 29 },
      ],
    });
  });

  it('parses the interaction-export filter with a DateTimeOffset window and an appClass group', () => {
    const text =
      "createdDateTime gt 2026-01-01T00:00:00Z and createdDateTime lt 2026-02-01T00:00:00.123Z and (appClass eq 'A' or appClass eq 'B')";
    const cdt = { type: 'property', segments: ['createdDateTime'] };
    const app = (v: string) => ({
      type: 'comparison',
      op: 'eq',
      left: { type: 'property', segments: ['appClass'] },
      right: { type: 'literal', kind: 'string', value: v },
    });
    assert.deepEqual(strip(parseFilter(text)), {
      type: 'logical',
      op: 'and',
      left: {
        type: 'logical',
        op: 'and',
        left: {
          type: 'comparison',
          op: 'gt',
          left: cdt,
          right: { type: 'literal', kind: 'dateTimeOffset', value: '2026-01-01T00:00:00Z', epochMs: Date.UTC(2026, 0, 1), subSecond: false },
        },
        right: {
          type: 'comparison',
          op: 'lt',
          left: cdt,
          right: {
            type: 'literal',
            kind: 'dateTimeOffset',
            value: '2026-02-01T00:00:00.123Z',
            epochMs: Date.UTC(2026, 1, 1, 0, 0, 0, 123),
            subSecond: true,
          },
        },
      },
      right: { type: 'logical', op: 'or', left: app('A'), right: app('B') },
    });
  });

  it('gives and precedence over or, and groups left to right', () => {
    const shape = (n: FilterNode): unknown =>
      n.type === 'logical' ? [shape(n.left), n.op, shape(n.right)] : n.type === 'comparison' && n.left.type === 'property' ? n.left.segments[0] : '?';
    assert.deepEqual(shape(parseFilter('a eq 1 or b eq 2 and c eq 3')), ['a', 'or', ['b', 'and', 'c']]);
    assert.deepEqual(shape(parseFilter('a eq 1 and b eq 2 or c eq 3')), [['a', 'and', 'b'], 'or', 'c']);
    assert.deepEqual(shape(parseFilter('(a eq 1 or b eq 2) and c eq 3')), [['a', 'or', 'b'], 'and', 'c']);
    assert.deepEqual(shape(parseFilter('a eq 1 and b eq 2 and c eq 3')), [['a', 'and', 'b'], 'and', 'c']);
    assert.deepEqual(shape(parseFilter('a eq 1 or (b eq 2 or c eq 3)')), ['a', 'or', ['b', 'or', 'c']]);
  });

  it('binds not tighter than comparisons, as OData does', () => {
    assert.deepEqual(strip(parseFilter('not a eq b')), {
      type: 'comparison',
      op: 'eq',
      left: { type: 'not', operand: { type: 'property', segments: ['a'] } },
      right: { type: 'property', segments: ['b'] },
    });
    assert.deepEqual(strip(parseFilter('NOT (a eq b)')), {
      type: 'not',
      operand: {
        type: 'comparison',
        op: 'eq',
        left: { type: 'property', segments: ['a'] },
        right: { type: 'property', segments: ['b'] },
      },
    });
  });

  it('reads keywords case-insensitively, escaped quotes, numbers, null and nested paths', () => {
    assert.deepEqual(
      strip(parseFilter("displayName EQ 'O''Brien' Or from/user/id Ne null And n gE -3.25")),
      strip(parseFilter("displayName eq 'O''Brien' or from/user/id ne null and n ge -3.25")),
    );
    const n = parseFilter("displayName eq 'O''Brien' or from/user/id ne null and n ge -3.25");
    assert.equal(formatFilter(n), "displayName eq 'O''Brien' or from/user/id ne null and n ge -3.25");
    const summary = collect(n);
    assert.deepEqual(
      summary.properties.map((p) => p.path),
      ['displayName', 'from/user/id', 'n'],
    );
    assert.deepEqual(
      summary.comparisons.map((c) => (c.right.type === 'literal' ? [c.op, c.right.kind, c.right.value] : undefined)),
      [
        ['eq', 'string', "O'Brien"],
        ['ne', 'null', null],
        ['ge', 'number', -3.25],
      ],
    );
  });

  it('collect marks lambda-relative paths', () => {
    const refs = collect(parseFilter(`assignedLicenses/any(x:x/skuId eq ${GUID} and x/disabledPlans/any())`)).properties;
    assert.deepEqual(
      refs.map((r) => [r.path, r.lambdaVariable]),
      [
        ['assignedLicenses', undefined],
        ['x/skuId', 'x'],
        ['x/disabledPlans', 'x'],
      ],
    );
  });

  it('accepts up to the maximum depth and length', () => {
    const depth = MAX_FILTER_DEPTH;
    assert.deepEqual(strip(parseFilter(`${'('.repeat(depth)}a${')'.repeat(depth)}`)), { type: 'property', segments: ['a'] });
    const chain = Array.from({ length: 250 }, (_, i) => `p${i} eq 1`).join(' and ');
    assert.ok(chain.length <= MAX_FILTER_LENGTH);
    assert.equal(collect(parseFilter(chain)).comparisons.length, 250);
    const padded = `a eq 1${' '.repeat(MAX_FILTER_LENGTH - 6)}`;
    assert.equal(padded.length, MAX_FILTER_LENGTH);
    assert.equal(parseFilter(padded).type, 'comparison');
  });
});

describe('parseFilter syntax errors', () => {
  const cases: Array<[string, number, string]> = [
    ['createdDateTime gt', 18, 'Invalid filter clause: unexpected end of input.'],
    ["userType eq 'Member' and", 24, 'Invalid filter clause: unexpected end of input.'],
    ['', 0, 'Invalid filter clause: unexpected end of input.'],
    ['   ', 3, 'Invalid filter clause: unexpected end of input.'],
    ['(a eq 1', 7, 'Invalid filter clause: unexpected end of input.'],
    ["userType eq 'Member' foo", 21, "Invalid filter clause: syntax error at position 21 in 'userType eq 'Member' foo'."],
    ['createdDateTime gt and', 19, "Invalid filter clause: syntax error at position 19 in 'createdDateTime gt and'."],
    ['a eq 1)', 6, "Invalid filter clause: syntax error at position 6 in 'a eq 1)'."],
    ['x eq y eq z', 7, "Invalid filter clause: syntax error at position 7 in 'x eq y eq z'."],
    ['a eq #', 5, "Invalid filter clause: syntax error at position 5 in 'a eq #'."],
    ['a/ eq 1', 3, "Invalid filter clause: syntax error at position 3 in 'a/ eq 1'."],
    ['a/all()', 6, "Invalid filter clause: syntax error at position 6 in 'a/all()'."],
    ['a/any(x x eq 1)', 8, "Invalid filter clause: syntax error at position 8 in 'a/any(x x eq 1)'."],
    ['a/any(x:)', 8, "Invalid filter clause: syntax error at position 8 in 'a/any(x:)'."],
    ["startswith(a 'b')", 13, "Invalid filter clause: syntax error at position 13 in 'startswith(a 'b')'."],
    ['a/b(1)', 3, "Invalid filter clause: syntax error at position 3 in 'a/b(1)'."],
    ["a eq 'x", 5, "Invalid filter clause: There is an unterminated string literal at position 5 in 'a eq 'x'."],
    ["a eq 'it''", 5, "Invalid filter clause: There is an unterminated string literal at position 5 in 'a eq 'it'''."],
    [
      "foo(a, 'b')",
      0,
      "Invalid filter clause: An unknown function with name 'foo' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.",
    ],
    [
      "x eq 1 and startsWith(a)",
      11,
      "Invalid filter clause: No function signature for the function with name 'startsWith' matches the specified arguments.",
    ],
  ];
  for (const [text, position, message] of cases) {
    it(`rejects ${JSON.stringify(text)} at ${position}`, () => {
      const err = syntaxErrorOf(text);
      assert.equal(err.message, message);
      assert.equal(err.position, position);
      assert.equal(err.name, 'ODataSyntaxError');
      assert.ok(err instanceof Error);
    });
  }

  it('rejects input beyond the maximum length before lexing it', () => {
    const err = syntaxErrorOf(`a eq '${'x'.repeat(MAX_FILTER_LENGTH)}'`);
    assert.equal(err.position, MAX_FILTER_LENGTH);
    assert.match(err.message, /maximum is 4096/);
  });

  it('rejects nesting beyond the maximum depth, for parentheses, not, functions and lambdas', () => {
    const d = MAX_FILTER_DEPTH + 1;
    const parens = syntaxErrorOf(`${'('.repeat(d)}a${')'.repeat(d)}`);
    assert.equal(parens.position, MAX_FILTER_DEPTH);
    assert.match(parens.message, /recursion limit of 50/);
    assert.match(syntaxErrorOf(`${'not '.repeat(d)}a`).message, /recursion limit/);
    assert.match(syntaxErrorOf(`${'tolower('.repeat(d)}a${')'.repeat(d)}`).message, /recursion limit/);
    assert.match(syntaxErrorOf(`${'a/any(x:x/b/any(y:'.repeat(d)}true${'))'.repeat(d)}`).message, /recursion limit/);
    // Deep-but-short hostile input stays an ODataSyntaxError, never a RangeError.
    assert.match(syntaxErrorOf('('.repeat(MAX_FILTER_LENGTH)).message, /recursion limit/);
  });

  it('rejects non-string input with ODataSyntaxError', () => {
    assert.throws(() => parseFilter(42 as unknown as string), ODataSyntaxError);
    assert.throws(() => parseFilter(undefined as unknown as string), ODataSyntaxError);
  });
});

// ---------------------------------------------------------------------------------------------
// Evaluation

describe('evaluate', () => {
  it('filters sample users by the common directory filters', () => {
    assert.deepEqual(matching("userType eq 'Member'"), ['adele', 'megan']);
    assert.deepEqual(matching('accountEnabled eq true'), ['adele', 'megan']);
    assert.deepEqual(matching('accountEnabled eq false'), ['alex']);
    assert.deepEqual(matching(`assignedLicenses/any(x:x/skuId eq ${GUID})`), ['adele', 'megan']);
    assert.deepEqual(matching("startsWith(userPrincipalName,'adele')"), ['adele']);
  });

  it('compares strings, property names, GUIDs and function arguments case-insensitively', () => {
    assert.deepEqual(matching("USERTYPE eq 'member'"), ['adele', 'megan']);
    assert.deepEqual(matching("userType ne 'MEMBER'"), ['alex']);
    assert.deepEqual(matching(`assignedLicenses/any(x:x/SKUID eq ${GUID.toUpperCase()})`), ['adele', 'megan']);
    assert.deepEqual(matching("id eq '5A0F9B2C-0000-4000-8000-00000000000A'"), ['alex']);
    assert.deepEqual(matching('id eq 5A0F9B2C-0000-4000-8000-00000000000A'), ['alex']);
    assert.deepEqual(matching("endswith(mail,'@CONTOSO.COM')"), ['megan']);
    assert.deepEqual(matching("contains(displayName,'o''v')"), ['adele']);
    assert.deepEqual(matching("tolower(displayName) eq 'megan bowen'"), ['megan']);
  });

  it('handles null, missing optional properties, nested paths, not and logic', () => {
    assert.deepEqual(matching('mail eq null'), ['adele']);
    assert.deepEqual(matching('mail ne null'), ['alex', 'megan']);
    assert.deepEqual(matching("manager/displayName eq 'megan bowen'"), ['adele']);
    assert.deepEqual(matching('manager/displayName eq null'), ['alex']);
    assert.deepEqual(matching("not (userType eq 'Guest')"), ['adele', 'megan']);
    assert.deepEqual(matching("not startswith(mail,'m')"), ['alex']);
    assert.deepEqual(matching("userType eq 'Guest' or accountEnabled eq true and startswith(displayName,'M')"), ['alex', 'megan']);
    assert.deepEqual(matching("(userType eq 'Guest' or accountEnabled eq true) and startswith(displayName,'A')"), ['adele', 'alex']);
    // An allowed property absent from an entity reads as null.
    assert.equal(evaluate(parseFilter('mail eq null'), { id: '1' }, USER_OPTIONS), true);
  });

  it('compares DateTimeOffset literals with ISO strings by instant', () => {
    assert.deepEqual(matching('createdDateTime ge 2026-01-01T00:00:00Z'), ['adele']);
    assert.deepEqual(matching('createdDateTime lt 2026-01-01T00:00:00Z'), ['alex', 'megan']);
    assert.deepEqual(matching('createdDateTime eq 2025-12-31T22:00:00Z'), ['megan']);
    assert.deepEqual(matching('createdDateTime gt 2025-12-31T23:59:59.998Z'), ['adele', 'alex']);
    assert.deepEqual(matching('2026-01-10T00:00:00+02:00 lt createdDateTime'), ['adele']);
  });

  it('evaluates any() and all() with and without bodies', () => {
    assert.deepEqual(matching('assignedLicenses/any()'), ['adele', 'megan']);
    assert.deepEqual(matching(`assignedLicenses/all(l: l/skuId eq ${GUID})`), ['adele', 'alex']);
    assert.deepEqual(matching('assignedLicenses/any(l: l/disabledPlans/any())'), ['megan']);
    assert.deepEqual(matching("assignedLicenses/any(l: l/disabledPlans/any(p: p eq 'X'))"), ['megan']);
    assert.deepEqual(matching('not assignedLicenses/any()'), ['alex']);
  });

  it('compares numbers and booleans when no allow-list is given', () => {
    const item = { Count: 3, ratio: 0.5, flag: false };
    assert.equal(evaluate(parseFilter('count gt 2 and count le 3 and ratio lt 0.75'), item), true);
    assert.equal(evaluate(parseFilter('count eq -3 or flag eq true'), item), false);
    assert.equal(evaluate(parseFilter('length(concat(\'ab\',\'c\')) eq count'), item), true);
  });

  it('reports unknown properties like Graph, before and during evaluation', () => {
    const filter = parseFilter("foo eq 'x' or userType eq 'Member'");
    assert.throws(() => evaluate(filter, USERS.adele ?? {}, USER_OPTIONS), {
      name: 'ODataEvaluationError',
      message: "Property 'foo' does not exist on type 'microsoft.graph.user'.",
    });
    assert.throws(() => checkProperties(filter, USER_OPTIONS), ODataEvaluationError);
    // The up-front check also rejects on an empty collection, and ignores lambda variables.
    assert.throws(() => createFilterPredicate(filter, USER_OPTIONS), ODataEvaluationError);
    assert.doesNotThrow(() => checkProperties(parseFilter(`assignedLicenses/any(x:x/skuId eq ${GUID})`), USER_OPTIONS));
    assert.throws(() => checkProperties(parseFilter(`licenses/any(x:x/skuId eq ${GUID})`), USER_OPTIONS), /'licenses'/);
    // Without an allow-list, a key missing from the entity is unknown; the type name defaults.
    assert.throws(() => evaluate(parseFilter("foo eq 'x'"), { id: '1' }), {
      message: "Property 'foo' does not exist on type 'microsoft.graph.directoryObject'.",
    });
  });

  it('reports incompatible operand types as ODataEvaluationError', () => {
    const adele = USERS.adele ?? {};
    assert.throws(() => evaluate(parseFilter("accountEnabled eq 'true'"), adele, USER_OPTIONS), {
      name: 'ODataEvaluationError',
      message:
        "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'.",
    });
    assert.throws(() => evaluate(parseFilter('displayName gt 2026-01-01T00:00:00Z'), adele, USER_OPTIONS), ODataEvaluationError);
    assert.throws(() => evaluate(parseFilter('startswith(accountEnabled, \'t\')'), adele, USER_OPTIONS), ODataEvaluationError);
    assert.throws(() => evaluate(parseFilter("not userType eq 'Member'"), adele, USER_OPTIONS), ODataEvaluationError);
    assert.throws(() => evaluate(parseFilter('displayName/any()'), adele, USER_OPTIONS), ODataEvaluationError);
    assert.throws(() => evaluate(parseFilter('displayName'), adele, USER_OPTIONS), /single boolean/);
  });
});

// ---------------------------------------------------------------------------------------------
// Interaction-export allow-list

describe('analyzeInteractionFilter', () => {
  const analyze = (text: string) => analyzeInteractionFilter(parseFilter(text));

  it('accepts a window with an appClass group and returns the bounds', () => {
    assert.deepEqual(
      analyze(
        "createdDateTime gt 2026-01-01T00:00:00Z and createdDateTime lt 2026-02-01T00:00:00.123Z and (appClass eq 'A' or appClass eq 'B')",
      ),
      {
        ok: true,
        from: { ms: Date.UTC(2026, 0, 1), inclusive: false, subSecond: false },
        to: { ms: Date.UTC(2026, 1, 1, 0, 0, 0, 123), inclusive: false, subSecond: true },
        appClasses: ['A', 'B'],
      },
    );
  });

  it('accepts each part alone, inclusive bounds, any order and any case', () => {
    assert.deepEqual(analyze('CreatedDateTime GE 2026-01-01T00:00:00+02:00'), {
      ok: true,
      from: { ms: Date.UTC(2025, 11, 31, 22), inclusive: true, subSecond: false },
    });
    assert.deepEqual(analyze('createdDateTime le 2026-03-01T00:00:00.5Z'), {
      ok: true,
      to: { ms: Date.UTC(2026, 2, 1, 0, 0, 0, 500), inclusive: true, subSecond: true },
    });
    assert.deepEqual(analyze("APPCLASS eq 'IPM.SkypeTeams.Message.Copilot.Teams'"), {
      ok: true,
      appClasses: ['IPM.SkypeTeams.Message.Copilot.Teams'],
    });
    assert.deepEqual(analyze("appClass eq 'A' or appClass eq 'B' or appClass eq 'A'"), { ok: true, appClasses: ['A', 'B'] });
    assert.deepEqual(analyze("(appClass eq 'A') and createdDateTime lt 2026-01-02T00:00:00Z and (createdDateTime gt 2026-01-01T00:00:00Z)"), {
      ok: true,
      from: { ms: Date.UTC(2026, 0, 1), inclusive: false, subSecond: false },
      to: { ms: Date.UTC(2026, 0, 2), inclusive: false, subSecond: false },
      appClasses: ['A'],
    });
  });

  it('rejects other properties as unsupportedProperty, naming them', () => {
    const r = analyze("sessionId eq 'abc'");
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.reason, 'unsupportedProperty');
    assert.match(r.detail, /'sessionId'/);
    const r2 = analyze("createdDateTime gt 2026-01-01T00:00:00Z and (appClass eq 'A' or locale eq 'en')");
    assert.ok(!r2.ok && r2.reason === 'unsupportedProperty' && r2.detail.includes("'locale'"));
    const r3 = analyze(`contexts/any(c: c/id eq ${GUID})`);
    assert.ok(!r3.ok && r3.reason === 'unsupportedProperty' && r3.detail.includes("'contexts'"));
  });

  it('rejects nested paths as nestedPath, naming them', () => {
    const r = analyze("from/user/id eq '5a0f9b2c-0000-4000-8000-00000000000a'");
    assert.ok(!r.ok);
    assert.equal(r.reason, 'nestedPath');
    assert.match(r.detail, /'from\/user\/id'/);
  });

  it('rejects other shapes as unsupportedShape, naming the property', () => {
    const rejected: Array<[string, RegExp]> = [
      ["appClass eq 'A' or createdDateTime gt 2026-01-01T00:00:00Z", /'createdDateTime'/],
      ["createdDateTime gt 2026-01-01T00:00:00Z and appClass eq 'A' or appClass eq 'B'", /'createdDateTime'/],
      ["appClass eq 'A' and appClass eq 'B'", /'appClass'/],
      ["appClass ne 'A'", /'appClass'/],
      ['appClass eq 5', /'appClass'/],
      ["'A' eq appClass", /'appClass'/],
      ['createdDateTime eq 2026-01-01T00:00:00Z', /'createdDateTime'.*'eq'/],
      ["createdDateTime gt '2026-01-01T00:00:00Z'", /'createdDateTime'.*DateTimeOffset/],
      ['2026-01-01T00:00:00Z lt createdDateTime', /'createdDateTime'/],
      ['createdDateTime gt 2026-01-01T00:00:00Z and createdDateTime ge 2026-01-02T00:00:00Z', /'createdDateTime'.*lower/],
      ['createdDateTime lt 2026-01-01T00:00:00Z and createdDateTime le 2026-01-02T00:00:00Z', /'createdDateTime'.*upper/],
      ["not (appClass eq 'A')", /'appClass'/],
      ["startswith(appClass, 'IPM')", /'appClass'/],
      ['createdDateTime', /'createdDateTime'/],
      ['appClass/any()', /'appClass'/],
    ];
    for (const [text, detail] of rejected) {
      const r = analyze(text);
      assert.ok(!r.ok, text);
      assert.equal(r.reason, 'unsupportedShape', text);
      assert.match(r.detail, detail, text);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Other query options

describe('parseTop / parseSelect / parseCount', () => {
  it('parses $top', () => {
    assert.equal(parseTop(undefined), undefined);
    assert.equal(parseTop('1'), 1);
    assert.equal(parseTop('999'), 999);
    for (const raw of ['0', '-1', '1.5', 'abc', '', ' 5', '1e3', '0x10', '99999999999']) {
      assert.throws(() => parseTop(raw), (err: unknown) => {
        assert.ok(err instanceof ODataSyntaxError);
        assert.ok(err.message.startsWith(`Invalid value for $top: '${raw}'. It must be a positive integer`), err.message);
        return true;
      });
    }
    assert.throws(() => parseTop('abc'), { message: "Invalid value for $top: 'abc'. It must be a positive integer." });
  });

  it('parses $select', () => {
    assert.equal(parseSelect(undefined), undefined);
    assert.deepEqual(parseSelect('id'), ['id']);
    assert.deepEqual(parseSelect(' id , displayName,mail ,ID'), ['id', 'displayName', 'mail']);
    for (const [raw, position] of [
      ['', 0],
      ['id,', 3],
      ['id,,mail', 3],
      ['id, display name', 4],
      ['id,from/user', 3],
      ["id,'x'", 3],
    ] as const) {
      assert.throws(() => parseSelect(raw), (err: unknown) => {
        assert.ok(err instanceof ODataSyntaxError, raw);
        assert.ok(err.message.startsWith(`Invalid value for $select: '${raw}'.`), err.message);
        assert.equal(err.position, position, raw);
        return true;
      });
    }
  });

  it('parses $count', () => {
    assert.equal(parseCount(undefined), false);
    assert.equal(parseCount('true'), true);
    assert.equal(parseCount('false'), false);
    for (const raw of ['', 'TRUE', '1', 'yes', 'true ']) {
      assert.throws(() => parseCount(raw), { name: 'ODataSyntaxError', message: `Invalid value for $count: '${raw}'. It must be 'true' or 'false'.` });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzzing

/** Per-call time budget: the parser is linear, so even 4 KiB of input takes well under this. */
// Not a speed test: a bound that only catastrophic backtracking crosses, even on a loaded machine.
const BUDGET_MS = 5000;

/**
 * Parses `text`, asserting the only possible outcomes: an AST that round-trips through
 * formatFilter and evaluates to a boolean or ODataEvaluationError, or an ODataSyntaxError with a
 * Graph-style message and an in-range position; and either within the time budget.
 */
function checkParse(text: string): FilterNode | ODataSyntaxError {
  const started = performance.now();
  let outcome: FilterNode | ODataSyntaxError;
  try {
    outcome = parseFilter(text);
  } catch (err) {
    if (!(err instanceof ODataSyntaxError)) {
      assert.fail(`parseFilter(${JSON.stringify(text)}) threw ${String(err)}, not ODataSyntaxError`);
    }
    assert.ok(err.message.startsWith('Invalid filter clause: '), err.message);
    assert.ok(Number.isInteger(err.position) && err.position >= 0 && err.position <= text.length, `position ${err.position}`);
    outcome = err;
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < BUDGET_MS, `parseFilter(${JSON.stringify(text)}) took ${elapsed} ms`);
  if (!(outcome instanceof ODataSyntaxError)) {
    const formatted = formatFilter(outcome);
    if (formatted.length <= MAX_FILTER_LENGTH) {
      assert.deepEqual(strip(parseFilter(formatted)), strip(outcome), `round trip of ${JSON.stringify(text)} via ${JSON.stringify(formatted)}`);
    }
    try {
      assert.equal(typeof evaluate(outcome, USERS.megan ?? {}, USER_OPTIONS), 'boolean');
    } catch (err) {
      if (!(err instanceof ODataEvaluationError)) {
        assert.fail(`evaluate(${JSON.stringify(text)}) threw ${String(err)}, not ODataEvaluationError`);
      }
    }
  }
  return outcome;
}

const SEEDS = [
  "userType eq 'Member'",
  'accountEnabled eq true',
  `assignedLicenses/any(x:x/skuId eq ${GUID})`,
  "startsWith(userPrincipalName,'adele')",
  "createdDateTime gt 2026-01-01T00:00:00Z and createdDateTime lt 2026-02-01T00:00:00.123Z and (appClass eq 'A' or appClass eq 'B')",
  "not (mail eq null) or displayName ne 'O''Brien'",
  'assignedLicenses/all(l: l/disabledPlans/any())',
  'createdDateTime ge 2026-01-01T00:00:00+02:00',
  "contains(tolower(displayName), 'ad') and endswith(mail,'.com')",
  "from/user/id eq '5a0f9b2c-0000-4000-8000-00000000000a'",
  'n gt -3.5 or n le 42',
];

const FRAGMENTS = [
  ' ', '(', ')', "'", "''", ',', ':', '/', '-', '.', '0', '9', 'T', 'Z', '+02:00', ' eq ', ' ne ', ' and ', ' or ',
  'not ', 'any(', 'all(', 'x:', 'x/', '()', 'null', 'true', 'FALSE', 'startswith(', 'substring(', 'foo(', GUID,
  '2026-01-01T00:00:00Z', '2026-13-45T99:99:99Z', '2026-01-01', '00000000-', ')))', '((((', '\u0000', '\uD800', 'é', '💥',
  '('.repeat(60), 'not '.repeat(60), 'a/any(x:'.repeat(30),
];

type Mutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'replace'; at: number; length: number; text: string }
  | { kind: 'duplicate'; at: number; length: number };

const fragment = fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 2 }));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fragment }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 6 }), text: fragment }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
);

function mutate(text: string, m: Mutation): string {
  const at = m.at % (text.length + 1);
  switch (m.kind) {
    case 'insert':
      return text.slice(0, at) + m.text + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + m.length);
    case 'replace':
      return text.slice(0, at) + m.text + text.slice(at + m.length);
    case 'duplicate':
      return text.slice(0, at + m.length) + text.slice(at, at + m.length) + text.slice(at + m.length);
  }
}

/** Replaces whole tokens of a valid filter (delete / swap in another token / duplicate). */
function mutateTokens(text: string, ops: Array<{ index: number; action: 'delete' | 'swap' | 'repeat'; other: number }>): string {
  const tokens = tokenize(text).filter((t) => t.type !== 'eof');
  let pieces = tokens.map((t) => t.text);
  for (const op of ops) {
    if (pieces.length === 0) break;
    const i = op.index % pieces.length;
    const other = pieces[op.other % pieces.length] as string;
    if (op.action === 'delete') pieces = [...pieces.slice(0, i), ...pieces.slice(i + 1)];
    else if (op.action === 'swap') pieces = [...pieces.slice(0, i), other, ...pieces.slice(i + 1)];
    else pieces = [...pieces.slice(0, i), other, ...pieces.slice(i)];
  }
  return pieces.join(' ');
}

// A generator of valid filters, written independently of formatFilter: it builds the expected
// AST (without positions) and its text, with random whitespace, keyword case and parentheses.
interface Generated {
  node: unknown;
  text: string;
  /** Whether the text is a primary (needs no parentheses as an operand). */
  primary: boolean;
}

const NAMES = ['userType', 'accountEnabled', 'displayName', 'mail', 'assignedLicenses', 'skuId', 'from', 'user', 'id', 'createdDateTime', 'appClass', 'a', 'b9', '_c'];
const space = fc.constantFrom('', ' ', '  ', '\t');
const anyCase = (word: string) => fc.constantFrom(word, word.toUpperCase(), word[0]?.toUpperCase() + word.slice(1));
const operand = (g: Generated, pad: string) => (g.primary ? g.text : `(${pad}${g.text}${pad})`);

const literalArb: fc.Arbitrary<Generated> = fc.oneof(
  fc.string().map((s) => ({ node: { type: 'literal', kind: 'string', value: s }, text: `'${s.replace(/'/g, "''")}'`, primary: true })),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => ({
    node: { type: 'literal', kind: 'number', value: Number(String(n)), raw: String(n) },
    text: String(n),
    primary: true,
  })),
  fc.tuple(fc.integer({ min: -999, max: 999 }), fc.nat(99_999)).map(([i, f]) => {
    const raw = `${i}.${f}`;
    return { node: { type: 'literal', kind: 'number', value: Number(raw), raw }, text: raw, primary: true };
  }),
  fc.tuple(fc.boolean(), fc.constantFrom('lower', 'upper')).map(([b, c]) => ({
    node: { type: 'literal', kind: 'boolean', value: b },
    text: c === 'upper' ? String(b).toUpperCase() : String(b),
    primary: true,
  })),
  fc.constant({ node: { type: 'literal', kind: 'null', value: null }, text: 'null', primary: true }),
  fc.tuple(fc.uuid(), fc.boolean()).map(([u, upper]) => {
    const text = upper ? u.toUpperCase() : u;
    return { node: { type: 'literal', kind: 'guid', value: text }, text, primary: true };
  }),
  fc
    .tuple(
      fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
      fc.constantFrom('ms', 'seconds', 'offset'),
    )
    .map(([d, style]) => {
      const t = d.getTime();
      const wholeSeconds = Math.floor(t / 1000) * 1000;
      let text: string;
      let epochMs: number;
      if (style === 'ms') {
        text = d.toISOString();
        epochMs = t;
      } else if (style === 'seconds') {
        text = `${d.toISOString().slice(0, 19)}Z`;
        epochMs = wholeSeconds;
      } else {
        text = `${new Date(wholeSeconds + 330 * 60_000).toISOString().slice(0, 19)}+05:30`;
        epochMs = wholeSeconds;
      }
      return {
        node: { type: 'literal', kind: 'dateTimeOffset', value: text, epochMs, subSecond: style === 'ms' },
        text,
        primary: true,
      };
    }),
);

const pathArb = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 });

const { expr: validFilterArb } = fc.letrec<{ expr: Generated }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    literalArb,
    pathArb.map((segments) => ({ node: { type: 'property', segments }, text: segments.join('/'), primary: true })),
    fc
      .tuple(tie('expr'), fc.constantFrom('eq', 'ne', 'gt', 'ge', 'lt', 'le'), tie('expr'), fc.boolean(), space)
      .chain(([l, op, r, upper, pad]) =>
        fc.constant({
          node: { type: 'comparison', op, left: l.node, right: r.node },
          text: `${operand(l, pad)} ${upper ? op.toUpperCase() : op} ${operand(r, pad)}`,
          primary: false,
        }),
      ),
    fc.tuple(tie('expr'), fc.constantFrom('and', 'or'), tie('expr'), space).chain(([l, op, r, pad]) =>
      anyCase(op).map((word) => ({
        node: { type: 'logical', op, left: l.node, right: r.node },
        text: `${operand(l, pad)} ${word} ${operand(r, pad)}`,
        primary: false,
      })),
    ),
    fc.tuple(tie('expr'), anyCase('not'), space).map(([x, word, pad]) => ({
      node: { type: 'not', operand: x.node },
      text: `${word} ${operand(x, pad)}`,
      primary: false,
    })),
    fc
      .tuple(fc.constantFrom('startswith', 'endswith', 'contains', 'indexof', 'concat'), tie('expr'), tie('expr'), space)
      .chain(([name, a, b, pad]) =>
        fc.constantFrom(name, name.toUpperCase(), name.replace('with', 'With')).map((written) => ({
          node: { type: 'function', name, args: [a.node, b.node] },
          text: `${written}(${pad}${a.text},${pad}${b.text}${pad})`,
          primary: true,
        })),
      ),
    fc.tuple(fc.constantFrom('tolower', 'toupper', 'trim', 'length'), tie('expr')).map(([name, a]) => ({
      node: { type: 'function', name, args: [a.node] },
      text: `${name}(${a.text})`,
      primary: true,
    })),
    fc
      .tuple(pathArb, fc.constantFrom('any', 'all', 'Any', 'ALL'), fc.constantFrom('x', 'l', 'item'), tie('expr'), space)
      .map(([segments, written, variable, body, pad]) => ({
        node: {
          type: 'lambda',
          op: written.toLowerCase(),
          collection: { type: 'property', segments },
          variable,
          body: body.node,
        },
        text: `${segments.join('/')}/${written}(${pad}${variable}${pad}:${pad}${body.text}${pad})`,
        primary: true,
      })),
    pathArb.map((segments) => ({
      node: { type: 'lambda', op: 'any', collection: { type: 'property', segments } },
      text: `${segments.join('/')}/any()`,
      primary: true,
    })),
  ),
}));

describe('parseFilter fuzzing', () => {
  it('returns an AST or throws ODataSyntaxError for arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (s) => void checkParse(s)), { numRuns: 3000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => void checkParse(s)), { numRuns: 1000 });
  });

  it('returns an AST or throws ODataSyntaxError for strings over the filter alphabet', () => {
    const unit = fc.constantFrom(...'abxyz09-.:/(),\' TZeqnotandrl'.split(''), ' eq ', ' and ', ' or ', 'not ', 'any(', 'all(', GUID);
    let parsed = 0;
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (s) => {
        if (!(checkParse(s) instanceof ODataSyntaxError)) parsed++;
      }),
      { numRuns: 3000 },
    );
    assert.ok(parsed > 0, 'the alphabet fuzzing should hit some valid filters too');
  });

  it('returns an AST or throws ODataSyntaxError for mutated valid filters', () => {
    const seed = fc.oneof(fc.constantFrom(...SEEDS), validFilterArb.map((g) => g.text));
    fc.assert(
      fc.property(seed, fc.array(mutation, { minLength: 1, maxLength: 5 }), (text, ms) => {
        void checkParse(ms.reduce(mutate, text));
      }),
      { numRuns: 3000 },
    );
    const tokenOp = fc.record({ index: fc.nat(), action: fc.constantFrom('delete' as const, 'swap' as const, 'repeat' as const), other: fc.nat() });
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS), fc.array(tokenOp, { minLength: 1, maxLength: 4 }), (text, ops) => {
        void checkParse(mutateTokens(text, ops));
      }),
      { numRuns: 2000 },
    );
  });

  it('parses every grammar-generated filter to the expected AST', () => {
    fc.assert(
      fc.property(validFilterArb, space, (g, pad) => {
        const text = `${pad}${g.text}${pad}`;
        const outcome = checkParse(text);
        if (outcome instanceof ODataSyntaxError) {
          assert.fail(`rejected valid filter ${JSON.stringify(text)}: ${outcome.message} (${outcome.detail})`);
        }
        assert.deepEqual(strip(outcome), g.node);
      }),
      { numRuns: 2000 },
    );
  });

  it('stays fast on hostile input at the length limit', () => {
    const n = MAX_FILTER_LENGTH;
    const hostile = [
      '('.repeat(n),
      ')'.repeat(n),
      "'".repeat(n),
      `'${"''".repeat((n - 2) / 2)}'`,
      'not '.repeat(n / 4),
      'a/'.repeat(n / 2),
      '1'.repeat(n),
      `a eq ${'9'.repeat(n - 5)}`,
      '2026-01-01T00:00:00'.repeat(Math.floor(n / 19)),
      `${'a eq 1 and '.repeat(Math.floor((n - 6) / 11))}a eq 1`,
      `${'startswith(a,'.repeat(40)}'b'${')'.repeat(40)}`,
      'x'.repeat(n + 1),
    ];
    for (const text of hostile) void checkParse(text);
    assert.ok(checkParse(hostile[9] as string) instanceof ODataSyntaxError === false, 'the long and-chain is valid');
  });
});
