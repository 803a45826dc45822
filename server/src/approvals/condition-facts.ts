// The facts a rule's conditions may test for one action type, and their types: what the
// save-time check (conditions.ts) types a condition against, and what the rule builder offers.
// Params facts come from the action type's params schema as normalized for conditions
// (catalogue.ts: recipients are lists of lower-cased addresses, URLs canonical); the facts about
// the request itself (requester, onBehalfOf, module, ...) are the same for every action type;
// context is the agent's own JSON and has no type.
import type { ActionType, JsonSchema } from './catalogue.js'

/** What a fact holds, as the condition operators see it. */
export type FactKind =
  | 'TEXT'
  /** An email address. */
  | 'ADDRESS'
  /** An absolute http(s) URL. */
  | 'URL'
  /** An ISO 8601 date and time, as text. */
  | 'DATETIME'
  /** A global ID, chosen among people in the builder. */
  | 'ID'
  | 'NUMBER'
  | 'BOOLEAN'
  | 'TEXT_LIST'
  | 'ADDRESS_LIST'
  | 'URL_LIST'
  | 'NUMBER_LIST'
  /** An object without declared fields: any path below it is an untyped fact. */
  | 'OBJECT'
  /** Untyped JSON (context, tool arguments): checked at evaluation time only. */
  | 'ANY'

export interface FactType {
  kind: FactKind
  /**
   * The fact's values are canonical (addresses lower-cased; URLs as WHATWG URL serializes them),
   * so a literal compared with it is put in the same form when the rule is saved.
   */
  canonical?: boolean
  /** The values an enum fact takes. */
  choices?: string[]
  /** Whether an action may lack it (an optional param, no person acted for): the builder then offers "is (not) given". */
  optional?: boolean
}

export interface Fact extends FactType {
  /** The path a condition's `var` names: `params.to`, `requester.kind`. */
  path: string
  /** What the builder calls it: "Email: to". */
  label: string
}

/** The items' kind of a list kind, or undefined. */
export const itemKind = (kind: FactKind): FactKind | undefined =>
  kind === 'TEXT_LIST' ? 'TEXT' : kind === 'ADDRESS_LIST' ? 'ADDRESS' : kind === 'URL_LIST' ? 'URL' : kind === 'NUMBER_LIST' ? 'NUMBER' : undefined
const listOf = (kind: FactKind): FactKind | undefined =>
  kind === 'TEXT' || kind === 'ID' || kind === 'DATETIME' ? 'TEXT_LIST' : kind === 'ADDRESS' ? 'ADDRESS_LIST' : kind === 'URL' ? 'URL_LIST' : kind === 'NUMBER' ? 'NUMBER_LIST' : undefined

/** The facts every action has, whatever its type. */
const REQUEST_FACTS: Fact[] = [
  { path: 'requester.id', label: 'Requester', kind: 'ID' },
  { path: 'requester.name', label: 'Requester name', kind: 'TEXT' },
  { path: 'requester.kind', label: 'Requester kind', kind: 'TEXT', choices: ['AGENT', 'USER'] },
  { path: 'onBehalfOf.id', label: 'On behalf of', kind: 'ID', optional: true },
  { path: 'onBehalfOf.email', label: 'On behalf of (email)', kind: 'ADDRESS', canonical: true, optional: true },
  { path: 'onBehalfOf.roleKeys', label: 'On behalf of (roles)', kind: 'TEXT_LIST', optional: true },
  { path: 'module', label: 'Module', kind: 'TEXT', optional: true },
  { path: 'recordId', label: 'Record ID', kind: 'TEXT', optional: true },
]

/** Roots of the request facts that are objects with known fields. */
const ROOTS = new Set(['requester', 'onBehalfOf'])
/** Facts that are only there for completeness: a rule is already for one resource and action type. */
const FIXED_FACTS: Fact[] = [
  { path: 'resourceType', label: 'Resource type', kind: 'TEXT' },
  { path: 'actionType', label: 'Action type', kind: 'TEXT' },
]

/** The normalized built-in params (catalogue.ts, paramsForConditions): their types after normalization. */
const NORMALIZED: Record<string, Record<string, FactType>> = {
  send_email: {
    to: { kind: 'ADDRESS_LIST', canonical: true },
    cc: { kind: 'ADDRESS_LIST', canonical: true },
    bcc: { kind: 'ADDRESS_LIST', canonical: true },
  },
  browse_website: { url: { kind: 'URL', canonical: true } },
  post_to_social: { mediaUrls: { kind: 'URL_LIST', canonical: true } },
  // a user's global ID, chosen among people in the builder
  create_record: { ownerId: { kind: 'ID' } },
  update_record: { ownerId: { kind: 'ID' } },
}

/** What the builder offers for a call_tool rule besides its params: the tool's annotations, as the MCP gateway sends them in the context. */
const TOOL_ANNOTATIONS: Fact[] = [
  { path: 'context.tool.annotations.destructiveHint', label: 'Tool: marked destructive', kind: 'BOOLEAN', optional: true },
  { path: 'context.tool.annotations.readOnlyHint', label: 'Tool: marked read-only', kind: 'BOOLEAN', optional: true },
  { path: 'context.tool.annotations.idempotentHint', label: 'Tool: marked idempotent', kind: 'BOOLEAN', optional: true },
  { path: 'context.tool.annotations.openWorldHint', label: 'Tool: reaches the outside world', kind: 'BOOLEAN', optional: true },
]

const LABEL_PREFIX: Record<string, string> = {
  send_email: 'Email',
  post_to_social: 'Post',
  create_landing_page: 'Page',
  browse_website: 'Browse',
  call_tool: 'Tool',
  create_record: 'Record',
  update_record: 'Record',
}

const humanize = (key: string) => key.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()

/** The type of one JSON Schema node, as far as conditions care. */
function typeOfSchema(schema: unknown): FactType {
  if (!schema || typeof schema !== 'object') return { kind: 'ANY' }
  const s = schema as JsonSchema
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string')) return { kind: 'TEXT', choices: s.enum as string[] }
  const types = (Array.isArray(s.type) ? s.type : [s.type]).filter((t) => t !== 'null' && t !== undefined) as string[]
  if (types.length !== 1) return { kind: types.length === 0 && s.properties ? 'OBJECT' : 'ANY' }
  switch (types[0]) {
    case 'string':
      return { kind: s.format === 'email' ? 'ADDRESS' : s.format === 'uri' ? 'URL' : s.format === 'date-time' ? 'DATETIME' : 'TEXT' }
    case 'number':
    case 'integer':
      return { kind: 'NUMBER' }
    case 'boolean':
      return { kind: 'BOOLEAN' }
    case 'array': {
      const items = typeOfSchema(s.items).kind
      // a list of objects (attachments): only whether it is given; a list of anything else: untyped
      return { kind: listOf(items) ?? (items === 'OBJECT' ? 'OBJECT' : 'ANY') }
    }
    case 'object':
      return { kind: 'OBJECT' }
    default:
      return { kind: 'ANY' }
  }
}

/** Whether an object schema allows fields it does not declare (JSON Schema's default). */
const openObject = (schema: JsonSchema) => schema.additionalProperties !== false

/**
 * The params facts of an action type: one per declared property (nested objects' properties
 * too), typed by its schema as normalized for conditions.
 */
function paramsFacts(action: Pick<ActionType, 'key' | 'paramsSchema'>): Fact[] {
  const prefix = LABEL_PREFIX[action.key] ?? humanize(action.key).replace(/^./, (c) => c.toUpperCase())
  const out: Fact[] = []
  const visit = (schema: JsonSchema, path: string, label: string, depth: number, optional: boolean) => {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
    for (const [name, property] of Object.entries(properties)) {
      const mayLack = optional || !required.has(name) || (Array.isArray(property?.type) && (property.type as unknown[]).includes('null'))
      const factPath = `${path}.${name}`
      const factLabel = `${label}${label.endsWith(':') ? ' ' : ' › '}${humanize(name)}`
      const normalized = depth === 0 ? NORMALIZED[action.key]?.[name] : undefined
      const type = normalized ?? typeOfSchema(property)
      if (type.kind === 'OBJECT' && property && typeof property === 'object' && property.properties && depth < 3) {
        visit(property, factPath, factLabel, depth + 1, mayLack)
      } else {
        out.push({ path: factPath, label: factLabel, ...type, ...(mayLack ? { optional: true } : {}) })
      }
    }
  }
  visit(action.paramsSchema, 'params', `${prefix}:`, 0, false)
  return out
}

/**
 * The facts a condition of a rule for `action` may test, in the order the builder offers them:
 * the action's params, then (call_tool) the tool's annotations, then the facts of every request.
 */
export function factsFor(action: Pick<ActionType, 'key' | 'paramsSchema'>): Fact[] {
  // a record being created has no ID yet
  const request = action.key === 'create_record' ? REQUEST_FACTS.filter((f) => f.path !== 'recordId') : REQUEST_FACTS
  return [...paramsFacts(action), ...(action.key === 'call_tool' ? TOOL_ANNOTATIONS : []), ...request]
}

/** Looks up the type of a `var` path for a rule of `action`: a fact's type, ANY under untyped JSON, or undefined when no such fact can exist. */
export function createFactTypes(action: Pick<ActionType, 'key' | 'paramsSchema'>): (path: string) => FactType | undefined {
  const facts = new Map<string, FactType>([...factsFor(action), ...FIXED_FACTS].map((f) => [f.path, f]))
  const schema = action.paramsSchema
  return (path) => {
    const known = facts.get(path)
    if (known) return known
    const [root, ...rest] = path.split('.')
    if (root === 'context') return { kind: 'ANY' }
    if (path === 'params') return { kind: 'OBJECT' }
    if (path === 'requester' || path === 'onBehalfOf') return { kind: 'OBJECT' }
    if (ROOTS.has(root!) || root !== 'params') return undefined
    // a path below a declared object: typed by the schema, or untyped below an object without declared fields
    let node: JsonSchema | undefined = schema
    for (let i = 0; i < rest.length; i++) {
      const properties = node?.properties as Record<string, JsonSchema> | undefined
      const next: JsonSchema | undefined = properties && Object.hasOwn(properties, rest[i]!) ? properties[rest[i]!] : undefined
      if (!next) {
        // an object that declares no fields (tool arguments, record data): whatever is below is untyped
        if (node && !node.properties && typeOfSchema(node).kind === 'OBJECT') return { kind: 'ANY' }
        // a field the schema does not declare, where it allows others (the built-ins do, so that
        // agents that send more keep working): untyped, checked when the rule is evaluated
        return node && openObject(node) ? { kind: 'ANY' } : undefined
      }
      node = next
    }
    return typeOfSchema(node)
  }
}

const TEXT_OPS = ['=', '!=', 'contains', 'doesNotContain', 'beginsWith', 'doesNotBeginWith', 'endsWith', 'doesNotEndWith', 'in', 'notIn', 'matches', 'doesNotMatch']
const OPTIONAL = ['null', 'notNull']

/**
 * The rule builder's operators for each kind of fact, by the builder's names (react-querybuilder's
 * where it has one; the client's lib/conditions.ts writes each as JSONLogic). The builder offers
 * exactly these, and the save-time check accepts what each writes: a test saves every one.
 */
export const BUILDER_OPERATORS: Record<FactKind, string[]> = {
  TEXT: [...TEXT_OPS, ...OPTIONAL],
  DATETIME: ['=', '!=', 'beginsWith', 'matches', ...OPTIONAL],
  ADDRESS: [...TEXT_OPS, 'domainIs', 'domainIsNot', ...OPTIONAL],
  URL: ['=', '!=', 'contains', 'doesNotContain', 'beginsWith', 'doesNotBeginWith', 'hostIs', 'hostIsNot', 'hostUnder', 'hostNotUnder', 'matches', 'doesNotMatch', ...OPTIONAL],
  ID: ['=', '!='],
  NUMBER: ['=', '!=', '<', '<=', '>', '>=', 'between', 'notBetween', ...OPTIONAL],
  BOOLEAN: ['=', '!='],
  TEXT_LIST: ['includes', 'doesNotInclude', 'someBeginsWith', 'someEndsWith', 'someContains', 'noneContains', ...OPTIONAL],
  ADDRESS_LIST: ['someIs', 'noneIs', 'someContains', 'noneContains', 'someEndsWith', 'someDomainIs', 'noneDomainIs', 'someDomainIsNot', ...OPTIONAL],
  URL_LIST: ['someIs', 'someContains', 'noneContains', 'someHostIs', 'someHostUnder', 'noneHostUnder', ...OPTIONAL],
  NUMBER_LIST: ['includes', 'doesNotInclude', ...OPTIONAL],
  OBJECT: ['null', 'notNull'],
  ANY: ['=', '!=', 'contains', 'doesNotContain', 'beginsWith', 'endsWith', 'matches', '<', '>', ...OPTIONAL],
}

/** A fact as the builder offers it: its operators, and the choices of an enum fact. */
export interface BuilderFact extends Fact {
  operators: string[]
}

/** The facts the builder offers for a rule of `action`, each with its operators. */
export function builderFacts(action: Pick<ActionType, 'key' | 'paramsSchema'>): BuilderFact[] {
  return factsFor(action).map((fact) => {
    const operators = fact.choices || fact.kind === 'ID' ? ['=', '!=', ...OPTIONAL] : BUILDER_OPERATORS[fact.kind]
    // "is (not) given" only where an action may lack the fact
    return { ...fact, operators: fact.optional ? operators : operators.filter((op) => !OPTIONAL.includes(op)) }
  }).filter((fact) => fact.operators.length > 0)
}
