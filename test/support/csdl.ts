// JSON Schemas derived, in code, from Microsoft's Graph v1.0 CSDL (../shared/graph-reference), and
// ajv validation of JSON payloads against them. Tests only: nothing here is a hand-written copy of
// a Graph type; every property, nullability, enum member and base type comes from the CSDL.
//
// Mapping (OData JSON format, as Graph emits it):
// - entity/complex types → objects with every property declared on the type and its base types;
//   undeclared properties are rejected unless the type itself is OpenType="true";
//   Nullable="false" structural properties are required and non-null (except Edm.Stream, which is
//   never inlined); other properties are optional and accept null. With { partial: true } the
//   top-level object may omit properties ($select, default property sets);
// - navigation properties are optional and, when present, validated as their target type (which,
//   like a $expand result, may omit properties);
// - annotations (keys starting with "@" or containing "@odata.") are allowed anywhere;
// - "@odata.type" (case-insensitive, "#" optional) selects a derived type, which must be the declared
//   type or derive from it, and must not be abstract;
// - Collection(T) → array of T (items nullable unless Nullable="false");
// - enum types → the member names (IsFlags enums: comma-separated member names);
// - Edm primitives → JSON types with patterns for Guid, DateTimeOffset, Date, TimeOfDay, Duration,
//   Binary; Double/Single/Decimal also accept 'INF', '-INF', 'NaN'; Int64 also a string of digits.
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ref } from './reference.js';

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

export interface CsdlProperty {
  name: string;
  /** Fully qualified element type (alias resolved), e.g. "microsoft.graph.identitySet" or "Edm.String". */
  type: string;
  collection: boolean;
  nullable: boolean;
  navigation: boolean;
  /** The type that declares the property. */
  declaredOn: string;
}

export interface CsdlStructuredType {
  kind: 'entity' | 'complex';
  fullName: string;
  namespace: string;
  name: string;
  baseType?: string;
  abstract: boolean;
  /** OpenType="true" on this type. */
  open: boolean;
  /** Properties declared on this type itself, in document order. */
  ownProperties: CsdlProperty[];
}

export interface CsdlEnumType {
  kind: 'enum';
  fullName: string;
  namespace: string;
  name: string;
  flags: boolean;
  members: string[];
}

export type CsdlType = CsdlStructuredType | CsdlEnumType;

export interface CsdlModel {
  /** Full name → type. */
  types: Map<string, CsdlType>;
  /** Namespaces and aliases → namespace. */
  namespaces: Map<string, string>;
  /** Full name → full names of the types deriving from it directly. */
  derived: Map<string, string[]>;
  /** Resolve a type name: "user", "graph.user", "microsoft.graph.user", "#microsoft.graph.user", "security.alert"… */
  resolve(name: string): string | undefined;
  structured(name: string): CsdlStructuredType;
  enumType(name: string): CsdlEnumType;
  /** Properties of a structured type, inherited ones first (base type order), then its own. */
  properties(name: string): CsdlProperty[];
  /** The type and all its base types, most derived first. */
  lineage(name: string): CsdlStructuredType[];
  /** All types deriving from a type, directly or not (not the type itself). */
  descendants(name: string): string[];
  /**
   * Whether the type accepts undeclared (dynamic) properties: its own OpenType attribute. Graph
   * declares it type by type (user, servicePrincipal, organization… are open; appRoleAssignment,
   * though derived from the open directoryObject, is not), so it is not inherited here.
   */
  isOpen(name: string): boolean;
}

interface XmlProperty { Name: string; Type: string; Nullable?: string }
interface XmlStructured {
  Name: string; BaseType?: string; Abstract?: string; OpenType?: string;
  Property?: XmlProperty[]; NavigationProperty?: XmlProperty[];
}
interface XmlEnum { Name: string; IsFlags?: string; Member?: { Name: string }[] }
interface XmlSchema {
  Namespace: string; Alias?: string;
  EntityType?: XmlStructured[]; ComplexType?: XmlStructured[]; EnumType?: XmlEnum[];
}

const ARRAY_TAGS = new Set([
  'Schema', 'EntityType', 'ComplexType', 'EnumType', 'Property', 'NavigationProperty', 'Member',
  'Key', 'PropertyRef', 'Annotation', 'Annotations', 'Action', 'Function', 'Parameter', 'Term',
  'EntitySet', 'Singleton', 'NavigationPropertyBinding', 'Record', 'PropertyValue', 'Collection', 'String',
]);

const COLLECTION_RE = /^Collection\((.+)\)$/;

let modelCache: CsdlModel | undefined;

/** The parsed Graph v1.0 CSDL (parsed once per process). */
export function csdlModel(): CsdlModel {
  modelCache ??= parseCsdl(readFileSync(ref('graph-v1.0-csdl.xml'), 'utf8'));
  return modelCache;
}

export function parseCsdl(xml: string): CsdlModel {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    removeNSPrefix: true,
    parseAttributeValue: false,
    parseTagValue: false,
    ignoreDeclaration: true,
    isArray: (tagName) => ARRAY_TAGS.has(tagName),
  });
  const doc = parser.parse(xml.replace(/^\uFEFF/, '')) as { Edmx?: { DataServices?: { Schema?: XmlSchema[] } } };
  const schemas = doc.Edmx?.DataServices?.Schema;
  if (!schemas?.length) throw new Error('CSDL: no <Schema> under <edmx:Edmx>/<edmx:DataServices>');

  const namespaces = new Map<string, string>();
  for (const s of schemas) {
    namespaces.set(s.Namespace, s.Namespace);
    if (s.Alias) namespaces.set(s.Alias, s.Namespace);
  }

  /** "graph.identitySet" / "self.alert" / "microsoft.graph.search.identity" → full name. */
  const qualify = (qname: string): string => {
    if (qname.startsWith('Edm.')) return qname;
    const dot = qname.lastIndexOf('.');
    if (dot < 0) throw new Error(`CSDL: unqualified type name ${qname}`);
    const ns = namespaces.get(qname.slice(0, dot));
    if (!ns) throw new Error(`CSDL: unknown namespace or alias in ${qname}`);
    return `${ns}.${qname.slice(dot + 1)}`;
  };

  const types = new Map<string, CsdlType>();
  const add = (t: CsdlType): void => {
    if (types.has(t.fullName)) throw new Error(`CSDL: type ${t.fullName} declared twice`);
    types.set(t.fullName, t);
  };
  const toProperty = (p: XmlProperty, navigation: boolean, declaredOn: string): CsdlProperty => {
    const m = COLLECTION_RE.exec(p.Type);
    return {
      name: p.Name,
      type: qualify(m ? m[1]! : p.Type),
      collection: Boolean(m),
      nullable: p.Nullable !== 'false',
      navigation,
      declaredOn,
    };
  };
  for (const s of schemas) {
    for (const [kind, list] of [['entity', s.EntityType], ['complex', s.ComplexType]] as const) {
      for (const t of list ?? []) {
        const fullName = `${s.Namespace}.${t.Name}`;
        add({
          kind,
          fullName,
          namespace: s.Namespace,
          name: t.Name,
          baseType: t.BaseType ? qualify(t.BaseType) : undefined,
          abstract: t.Abstract === 'true',
          open: t.OpenType === 'true',
          ownProperties: [
            ...(t.Property ?? []).map((p) => toProperty(p, false, fullName)),
            ...(t.NavigationProperty ?? []).map((p) => toProperty(p, true, fullName)),
          ],
        });
      }
    }
    for (const e of s.EnumType ?? []) {
      add({
        kind: 'enum',
        fullName: `${s.Namespace}.${e.Name}`,
        namespace: s.Namespace,
        name: e.Name,
        flags: e.IsFlags === 'true',
        members: (e.Member ?? []).map((m) => m.Name),
      });
    }
  }

  const derived = new Map<string, string[]>();
  for (const t of types.values()) {
    if (t.kind === 'enum' || !t.baseType) continue;
    const base = types.get(t.baseType);
    if (!base || base.kind === 'enum' || base.kind !== t.kind) {
      throw new Error(`CSDL: ${t.fullName} has base type ${t.baseType}, which is not a ${t.kind} type`);
    }
    const list = derived.get(t.baseType) ?? [];
    list.push(t.fullName);
    derived.set(t.baseType, list);
  }
  // Every referenced type must exist.
  for (const t of types.values()) {
    if (t.kind === 'enum') continue;
    for (const p of t.ownProperties) {
      if (!p.type.startsWith('Edm.') && !types.has(p.type)) throw new Error(`CSDL: ${t.fullName}.${p.name} has unknown type ${p.type}`);
    }
  }

  // Case-insensitive lookup ("@odata.type" values are matched case-insensitively).
  const lower = new Map<string, string | null>();
  for (const name of types.keys()) {
    const k = name.toLowerCase();
    lower.set(k, lower.has(k) ? null : name);
  }

  const resolve = (input: string): string | undefined => {
    const name = input.trim().replace(/^#/, '');
    if (types.has(name)) return name;
    const dot = name.lastIndexOf('.');
    const candidates: string[] = [];
    if (dot < 0) candidates.push(`microsoft.graph.${name}`);
    else {
      const prefix = name.slice(0, dot);
      const ns = namespaces.get(prefix) ?? namespaces.get(`microsoft.graph.${prefix}`);
      if (ns) candidates.push(`${ns}.${name.slice(dot + 1)}`);
    }
    for (const c of candidates) if (types.has(c)) return c;
    for (const c of [name, ...candidates]) {
      const hit = lower.get(c.toLowerCase());
      if (hit) return hit;
    }
    return undefined;
  };

  const mustResolve = (name: string): CsdlType => {
    const full = resolve(name);
    if (!full) throw new Error(`CSDL: no type named ${name}`);
    return types.get(full)!;
  };
  const structured = (name: string): CsdlStructuredType => {
    const t = mustResolve(name);
    if (t.kind === 'enum') throw new Error(`CSDL: ${t.fullName} is an enum type, not a structured type`);
    return t;
  };
  const lineage = (name: string): CsdlStructuredType[] => {
    const out: CsdlStructuredType[] = [];
    for (let t: CsdlStructuredType | undefined = structured(name); t; t = t.baseType ? structured(t.baseType) : undefined) {
      if (out.includes(t)) throw new Error(`CSDL: inheritance cycle at ${t.fullName}`);
      out.push(t);
    }
    return out;
  };
  const propertiesCache = new Map<string, CsdlProperty[]>();
  const properties = (name: string): CsdlProperty[] => {
    const full = structured(name).fullName;
    let list = propertiesCache.get(full);
    if (!list) {
      const byName = new Map<string, CsdlProperty>();
      for (const t of lineage(full).reverse()) for (const p of t.ownProperties) byName.set(p.name, p);
      list = [...byName.values()];
      propertiesCache.set(full, list);
    }
    return list;
  };
  const descendants = (name: string): string[] => {
    const out: string[] = [];
    const walk = (n: string): void => {
      for (const d of derived.get(n) ?? []) {
        out.push(d);
        walk(d);
      }
    };
    walk(structured(name).fullName);
    return out;
  };

  return {
    types,
    namespaces,
    derived,
    resolve,
    structured,
    enumType(name) {
      const t = mustResolve(name);
      if (t.kind !== 'enum') throw new Error(`CSDL: ${t.fullName} is not an enum type`);
      return t;
    },
    properties,
    lineage,
    descendants,
    isOpen: (name) => structured(name).open,
  };
}

// ---------------------------------------------------------------------------------------------
// JSON Schema derivation
// ---------------------------------------------------------------------------------------------

type Schema = Record<string, unknown>;

const MODEL_ID = 'urn:copilog:graph-v1.0-csdl';
/** Annotation keyword naming the CSDL type a (sub)schema stands for; used in error messages. */
const TYPE_KEYWORD = 'x-odata-type';

/** Keys that are OData annotations rather than properties. */
const ANNOTATION_PATTERNS = { '^@': {}, '@odata\\.': {} } as const;

const INTEGER_RANGES: Record<string, [number, number]> = {
  'Edm.Byte': [0, 255],
  'Edm.SByte': [-128, 127],
  'Edm.Int16': [-32768, 32767],
  'Edm.Int32': [-2147483648, 2147483647],
};

const GUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const DATE = '\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])';
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,12})?)?';
/** Patterns of string-encoded primitives, with the Edm type they encode (for error messages). */
const PRIMITIVE_PATTERNS: Record<string, string> = {
  'Edm.Guid': GUID,
  'Edm.DateTimeOffset': `^${DATE}T${TIME}(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)$`,
  'Edm.Date': `^${DATE}$`,
  'Edm.TimeOfDay': `^${TIME}$`,
  'Edm.Duration': '^-?P(?=\\d|T\\d)(?:\\d+Y)?(?:\\d+M)?(?:\\d+W)?(?:\\d+D)?(?:T(?=\\d)(?:\\d+H)?(?:\\d+M)?(?:\\d+(?:\\.\\d+)?S)?)?$',
  // OData JSON uses base64url; Graph mostly emits standard base64. Accept both alphabets.
  'Edm.Binary': '^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$',
  'Edm.Double': '^(?:INF|-INF|NaN)$',
  'Edm.Single': '^(?:INF|-INF|NaN)$',
  'Edm.Decimal': '^(?:INF|-INF|NaN|-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)$',
  'Edm.Int64': '^-?\\d+$',
};
const PATTERN_TYPES = new Map<string, string>();
for (const [edm, pattern] of Object.entries(PRIMITIVE_PATTERNS)) if (!PATTERN_TYPES.has(pattern)) PATTERN_TYPES.set(pattern, edm);

/** JSON Schema of an Edm primitive; nullable adds null. */
function primitiveSchema(edm: string, nullable: boolean): Schema {
  const withNull = (types: string[]): string | string[] => {
    const all = nullable ? [...types, 'null'] : types;
    return all.length === 1 ? all[0]! : all;
  };
  switch (edm) {
    case 'Edm.String':
    case 'Edm.Stream':
      return { type: withNull(['string']) };
    case 'Edm.Boolean':
      return { type: withNull(['boolean']) };
    case 'Edm.Byte':
    case 'Edm.SByte':
    case 'Edm.Int16':
    case 'Edm.Int32': {
      const [minimum, maximum] = INTEGER_RANGES[edm]!;
      return { type: withNull(['integer']), minimum, maximum };
    }
    case 'Edm.Int64':
      return { type: withNull(['integer', 'string']), pattern: PRIMITIVE_PATTERNS[edm] };
    case 'Edm.Double':
    case 'Edm.Single':
    case 'Edm.Decimal':
      return { type: withNull(['number', 'string']), pattern: PRIMITIVE_PATTERNS[edm] };
    case 'Edm.Guid':
    case 'Edm.DateTimeOffset':
    case 'Edm.Date':
    case 'Edm.TimeOfDay':
    case 'Edm.Duration':
    case 'Edm.Binary':
      return { type: withNull(['string']), pattern: PRIMITIVE_PATTERNS[edm] };
    case 'Edm.Untyped':
      return {};
    default:
      throw new Error(`CSDL: unsupported primitive type ${edm}`);
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A regular expression source matching s case-insensitively, without flags. */
function caseInsensitive(s: string): string {
  let out = '';
  for (const ch of s) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    out += lo !== up ? `[${lo}${up}]` : escapeRegExp(ch);
  }
  return out;
}
/** Pattern for "@odata.type" values naming one of the given types ("#" optional, any case). */
function odataTypePattern(fullNames: readonly string[]): string {
  return `^#?(?:${fullNames.map(caseInsensitive).join('|')})$`;
}

/**
 * $defs keys. A structured type T has up to four entries:
 * - "T": a complete value declared as T (dispatching on "@odata.type" when T has derived types);
 * - "T:exact": a complete object of exactly T (only when T has derived types; otherwise "T" is it);
 * - "T:partial" / "T:partial:exact": the same without the required list. Navigation properties
 *   point to these, because an expanded entity ($expand, or its default property set) carries only
 *   some of its properties; structural (complex) values are always checked complete.
 */
type Variant = 'full' | 'partial';
const typeKey = (fullName: string, variant: Variant): string => (variant === 'full' ? fullName : `${fullName}:partial`);
const exactKey = (model: CsdlModel, fullName: string, variant: Variant): string =>
  model.derived.has(fullName) ? `${typeKey(fullName, variant)}:exact` : typeKey(fullName, variant);
const defRef = (key: string): Schema => ({ $ref: `#/$defs/${key}` });
const nullableRef = (key: string, nullable: boolean): Schema =>
  nullable ? { if: { type: 'null' }, else: defRef(key) } : defRef(key);

function propertySchema(model: CsdlModel, p: CsdlProperty): Schema {
  const target = (): string => {
    const t = model.types.get(p.type)!;
    return t.kind === 'enum' ? t.fullName : typeKey(t.fullName, p.navigation ? 'partial' : 'full');
  };
  const item = (nullable: boolean): Schema =>
    p.type.startsWith('Edm.') ? primitiveSchema(p.type, nullable) : nullableRef(target(), nullable);
  if (!p.collection) return item(p.nullable);
  // The collection itself: Graph emits [] rather than null, but nullable collections may be null.
  return { type: p.nullable ? ['array', 'null'] : 'array', items: item(p.nullable) };
}

/** Names of the properties a complete object of the type must carry. */
function requiredProperties(model: CsdlModel, fullName: string): string[] {
  return model
    .properties(fullName)
    .filter((p) => !p.nullable && !p.navigation && p.type !== 'Edm.Stream')
    .map((p) => p.name);
}

/** Schema of an object of exactly this type. */
function exactSchema(model: CsdlModel, fullName: string, variant: Variant): Schema {
  const properties: Schema = { '@odata.type': { [TYPE_KEYWORD]: fullName, type: 'string', pattern: odataTypePattern([fullName]) } };
  for (const p of model.properties(fullName)) properties[p.name] = propertySchema(model, p);
  const schema: Schema = { [TYPE_KEYWORD]: fullName, type: 'object', properties, patternProperties: ANNOTATION_PATTERNS };
  const required = variant === 'partial' ? [] : requiredProperties(model, fullName);
  if (required.length > 0) schema.required = required;
  if (!model.isOpen(fullName)) schema.additionalProperties = false;
  return schema;
}

/** Schema of a value declared as this type: dispatches on "@odata.type" to the derived types. */
function polymorphicSchema(model: CsdlModel, fullName: string, variant: Variant): Schema {
  const family = [fullName, ...model.descendants(fullName)];
  const concrete = family.filter((n) => !model.structured(n).abstract);
  return {
    if: { type: 'object', required: ['@odata.type'] },
    then: {
      properties: {
        '@odata.type': { [TYPE_KEYWORD]: fullName, type: 'string', pattern: odataTypePattern(concrete.length ? concrete : [fullName]) },
      },
      allOf: family.map((n) => ({
        if: { properties: { '@odata.type': { type: 'string', pattern: odataTypePattern([n]) } } },
        then: defRef(exactKey(model, n, variant)),
      })),
    },
    else: defRef(exactKey(model, fullName, variant)),
  };
}

let defsCache: Record<string, Schema> | undefined;

/** $defs for every type of the model (see typeKey/exactKey). Built once; compiled only as reached. */
function modelDefs(): Record<string, Schema> {
  if (defsCache) return defsCache;
  const model = csdlModel();
  const defs: Record<string, Schema> = {};
  for (const t of model.types.values()) {
    if (t.kind === 'enum') {
      const alternatives = t.members.map(escapeRegExp).join('|');
      defs[t.fullName] = t.flags
        ? { [TYPE_KEYWORD]: t.fullName, type: 'string', pattern: `^(?:${alternatives})(?:,(?:${alternatives}))*$` }
        : { [TYPE_KEYWORD]: t.fullName, type: 'string', enum: t.members };
      continue;
    }
    for (const variant of ['full', 'partial'] as const) {
      defs[exactKey(model, t.fullName, variant)] = exactSchema(model, t.fullName, variant);
      if (model.derived.has(t.fullName)) defs[typeKey(t.fullName, variant)] = polymorphicSchema(model, t.fullName, variant);
    }
  }
  defsCache = defs;
  return defs;
}

/** The root schema for a value of typeName (partial: its own required list is dropped). */
const rootSchema = (fullName: string, partial: boolean): Schema => defRef(typeKey(fullName, partial ? 'partial' : 'full'));

/** All $defs keys a schema reaches through "#/$defs/…" references. */
function closure(start: unknown, defs: Record<string, Schema>): string[] {
  const seen = new Set<string>();
  const stack: unknown[] = [start];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
          const key = v.slice('#/$defs/'.length);
          if (!seen.has(key)) {
            seen.add(key);
            stack.push(defs[key]);
          }
        } else stack.push(v);
      }
    }
  }
  return [...seen].sort();
}

const fullNameOf = (typeName: string): string => {
  const model = csdlModel();
  const full = model.resolve(typeName);
  if (!full) throw new Error(`no Graph type named ${typeName} in the v1.0 CSDL`);
  if (model.types.get(full)!.kind === 'enum') throw new Error(`${full} is an enum type; validate an entity or complex type`);
  return full;
};

export interface ValidateOptions {
  /**
   * The top-level object may omit any property, as Graph does for $select and for its default
   * property sets (e.g. GET /users returns 11 of user's properties). Properties that are present,
   * and nested objects, are still checked in full.
   */
  partial?: boolean;
}

/**
 * The JSON Schema derived for a type (self-contained: `$ref` into `$defs` holding every type it
 * reaches, keyed by full type name; "name:exact" keys are the types' own shapes, the bare keys
 * dispatch on "@odata.type" to derived types).
 */
export function schemaFor(typeName: string, options: ValidateOptions = {}): Schema {
  const full = fullNameOf(typeName);
  const defs = modelDefs();
  const root = rootSchema(full, options.partial ?? false);
  const $defs: Record<string, Schema> = {};
  for (const key of closure(root, defs)) $defs[key] = defs[key]!;
  return structuredClone({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: full, ...root, $defs });
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

let ajvCache: Ajv | undefined;
function ajv(): Ajv {
  if (!ajvCache) {
    // verbose: errors carry their parentSchema, whose x-odata-type names the type for the message.
    ajvCache = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strictTypes: false, inlineRefs: false, validateSchema: false, code: { optimize: false } });
    ajvCache.addKeyword({ keyword: TYPE_KEYWORD, schemaType: 'string' });
    ajvCache.addSchema({ $id: MODEL_ID, $defs: modelDefs() });
  }
  return ajvCache;
}

const validators = new Map<string, ValidateFunction>();
function validatorFor(key: string, build: () => Schema): ValidateFunction {
  let v = validators.get(key);
  if (!v) {
    // Root schemas live in the model document's base URI so "#/$defs/…" references resolve into it.
    const schema = build();
    v = ajv().compile({ $id: `${MODEL_ID}:${key}`, ...absolutize(schema) });
    validators.set(key, v);
  }
  return v;
}

/** Rewrites "#/$defs/x" references to point into the model document. */
function absolutize(node: unknown): Schema {
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (n && typeof n === 'object') {
      const out: Schema = {};
      for (const [k, v] of Object.entries(n)) {
        out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${MODEL_ID}${v}` : walk(v);
      }
      return out;
    }
    return n;
  };
  return walk(node) as Schema;
}

function entityValidator(full: string, partial: boolean): ValidateFunction {
  return validatorFor(`${partial ? 'partial' : 'full'}:${full}`, () => rootSchema(full, partial));
}

/** Errors (JSON path: message) of value as a typeName; empty when valid. */
export function validateEntity(typeName: string, value: unknown, options: ValidateOptions = {}): string[] {
  const full = fullNameOf(typeName);
  const validate = entityValidator(full, options.partial ?? false);
  return validate(value) ? [] : formatErrors(validate.errors ?? [], value);
}

/** Throws an Error listing every error of value as a typeName. */
export function assertValid(typeName: string, value: unknown, options: ValidateOptions = {}): void {
  const errors = validateEntity(typeName, value, options);
  if (errors.length > 0) {
    throw new Error(`not a valid ${fullNameOf(typeName)} (${errors.length} error${errors.length === 1 ? '' : 's'}):\n  ${errors.join('\n  ')}`);
  }
}

/**
 * Errors of an OData collection response `{ "@odata.context", value: [...], "@odata.nextLink"?,
 * "@odata.count"? }` whose items are typeName; empty when valid.
 */
export function validateCollectionResponse(typeName: string, body: unknown, options: ValidateOptions = {}): string[] {
  const full = fullNameOf(typeName);
  const partial = options.partial ?? false;
  const validate = validatorFor(`collection:${partial ? 'partial' : 'full'}:${full}`, () => ({
    type: 'object',
    required: ['@odata.context', 'value'],
    properties: {
      '@odata.context': { type: 'string', minLength: 1 },
      '@odata.nextLink': { type: 'string', pattern: '^https?://' },
      '@odata.deltaLink': { type: 'string', pattern: '^https?://' },
      '@odata.count': { type: 'integer', minimum: 0 },
      value: { type: 'array', items: rootSchema(full, partial) },
    },
    patternProperties: ANNOTATION_PATTERNS,
    additionalProperties: false,
  }));
  return validate(body) ? [] : formatErrors(validate.errors ?? [], body);
}

// ---------------------------------------------------------------------------------------------
// Error messages
// ---------------------------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** JSON pointer → '$.from.user["@odata.type"]', '$.value[3].id'. */
function jsonPath(segments: readonly string[], root: unknown): string {
  let out = '$';
  let node: unknown = root;
  for (const seg of segments) {
    if (Array.isArray(node)) {
      out += `[${seg}]`;
      node = node[Number(seg)];
    } else {
      out += IDENTIFIER.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function valueAt(segments: readonly string[], root: unknown): unknown {
  let node = root;
  for (const seg of segments) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
  return node;
}

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v) : typeof v === 'object' ? 'an object' : String(v);

/** The CSDL type the failing schema stands for (its x-odata-type annotation). */
function typeOf(e: ErrorObject): string | undefined {
  const t = (e.parentSchema as Schema | undefined)?.[TYPE_KEYWORD];
  return typeof t === 'string' ? t : undefined;
}

function formatErrors(errors: readonly ErrorObject[], root: unknown): string[] {
  const out = new Set<string>();
  for (const e of errors) {
    // Branching keywords only repeat the errors of their branches.
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'allOf') continue;
    const segments = pointerSegments(e.instancePath);
    const path = jsonPath(segments, root);
    const value = valueAt(segments, root);
    const owner = typeOf(e);
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        out.add(`${path}: missing required property '${String(params.missingProperty)}'${owner ? ` (non-nullable on ${owner})` : ''}`);
        break;
      case 'additionalProperties': {
        const name = String(params.additionalProperty);
        out.add(`${jsonPath([...segments, name], root)}: unknown property${owner ? ` (not declared on ${owner} or its base types)` : ''}`);
        break;
      }
      case 'enum': {
        const allowed = (params.allowedValues as unknown[]).map(String);
        const shown = allowed.length > 25 ? `${allowed.slice(0, 25).join(', ')}, … (${allowed.length} values)` : allowed.join(', ');
        out.add(`${path}: ${describe(value)} is not a member of ${owner ?? 'the enum'} (${shown})`);
        break;
      }
      case 'pattern': {
        const pattern = String(params.pattern);
        if (segments.at(-1) === '@odata.type' && pattern.startsWith('^#?')) {
          const model = csdlModel();
          const named = typeof value === 'string' ? model.resolve(value) : undefined;
          const declared = owner ?? 'the declared type';
          const why = !named
            ? 'names no type of the Graph v1.0 model'
            : model.types.get(named)!.kind !== 'enum' && model.structured(named).abstract && (named === owner || (owner !== undefined && model.descendants(owner).includes(named)))
              ? `names the abstract type ${named}, which has no instances`
              : `is not ${declared} or a type derived from it`;
          out.add(`${path}: ${describe(value)} ${why}`);
        } else {
          const edm = PATTERN_TYPES.get(pattern);
          const enumType = owner && csdlModel().types.get(owner)?.kind === 'enum' ? owner : undefined;
          out.add(`${path}: ${describe(value)} is not a valid ${edm ?? (enumType ? `${enumType} (flags) value` : `value (pattern ${pattern})`)}`);
        }
        break;
      }
      case 'type':
        out.add(`${path}: must be ${String(params.type).replace(/,/g, ' or ')}, not ${describe(value)}`);
        break;
      default:
        out.add(`${path}: ${e.message ?? e.keyword}${value === undefined ? '' : ` (value ${describe(value)})`}`);
    }
  }
  return [...out];
}
