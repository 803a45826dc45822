// The rule editor's conditions: react-querybuilder's query, read from and written to JSONLogic.
// The facts and the operators for each come from the server (ActionType.conditionFacts), so the
// builder offers exactly what the server accepts; this file says how each operator is written
// in JSONLogic and read back, and in words.
import { defaultRuleProcessorJsonLogic, formatQuery, isRuleGroup, type Field, type RuleGroupType, type RuleProcessor, type RuleType } from 'react-querybuilder'
import { parseJsonLogic } from 'react-querybuilder/parseJsonLogic'

/** A fact the server offers for a rule's action type (ActionType.conditionFacts). */
export interface ConditionFact {
  path: string
  label: string
  kind: string
  operators: readonly string[]
  choices?: readonly string[] | null
}

/** Each builder operator in words; an operator missing here is one the client cannot write (a test checks every offered one is here). */
export const OPERATOR_LABELS: Record<string, string> = {
  '=': 'is',
  '!=': 'is not',
  '<': 'is less than',
  '<=': 'is at most',
  '>': 'is greater than',
  '>=': 'is at least',
  between: 'is between',
  notBetween: 'is not between',
  contains: 'contains',
  doesNotContain: 'does not contain',
  beginsWith: 'starts with',
  doesNotBeginWith: 'does not start with',
  endsWith: 'ends with',
  doesNotEndWith: 'does not end with',
  in: 'is one of',
  notIn: 'is not one of',
  null: 'is not given',
  notNull: 'is given',
  matches: 'matches the pattern',
  doesNotMatch: 'does not match the pattern',
  domainIs: "has the domain",
  domainIsNot: 'does not have the domain',
  hostIs: 'has the host',
  hostIsNot: 'does not have the host',
  hostUnder: 'has a host under',
  hostNotUnder: 'has no host under',
  includes: 'includes',
  doesNotInclude: 'does not include',
  someIs: 'has one that is',
  noneIs: 'has none that is',
  someContains: 'has one that contains',
  noneContains: 'has none that contains',
  someBeginsWith: 'has one that starts with',
  someEndsWith: 'has one that ends with',
  someDomainIs: 'has one with the domain',
  noneDomainIs: 'has none with the domain',
  someDomainIsNot: 'has one outside the domain',
  someHostIs: 'has one with the host',
  someHostUnder: 'has one with a host under',
  noneHostUnder: 'has none with a host under',
}

/** Operators written as one of our JSONLogic operators over the fact (and their negations). */
const PLAIN: Record<string, { op: string; not?: boolean }> = {
  matches: { op: 'matches' },
  doesNotMatch: { op: 'matches', not: true },
  domainIs: { op: 'domainIs' },
  domainIsNot: { op: 'domainIs', not: true },
  hostIs: { op: 'hostIs' },
  hostIsNot: { op: 'hostIs', not: true },
  hostUnder: { op: 'hostUnder' },
  hostNotUnder: { op: 'hostUnder', not: true },
}

/** Operators over a list, written as JSONLogic's some/none over its items. */
const OVER_ITEMS: Record<string, { mode: 'some' | 'none'; test: (value: unknown) => object }> = {
  someIs: { mode: 'some', test: (v) => ({ '==': [{ var: '' }, v] }) },
  noneIs: { mode: 'none', test: (v) => ({ '==': [{ var: '' }, v] }) },
  someContains: { mode: 'some', test: (v) => ({ in: [v, { var: '' }] }) },
  noneContains: { mode: 'none', test: (v) => ({ in: [v, { var: '' }] }) },
  someBeginsWith: { mode: 'some', test: (v) => ({ startsWith: [{ var: '' }, v] }) },
  someEndsWith: { mode: 'some', test: (v) => ({ endsWith: [{ var: '' }, v] }) },
  someDomainIs: { mode: 'some', test: (v) => ({ domainIs: [{ var: '' }, v] }) },
  noneDomainIs: { mode: 'none', test: (v) => ({ domainIs: [{ var: '' }, v] }) },
  someDomainIsNot: { mode: 'some', test: (v) => ({ '!': { domainIs: [{ var: '' }, v] } }) },
  someHostIs: { mode: 'some', test: (v) => ({ hostIs: [{ var: '' }, v] }) },
  someHostUnder: { mode: 'some', test: (v) => ({ hostUnder: [{ var: '' }, v] }) },
  noneHostUnder: { mode: 'none', test: (v) => ({ hostUnder: [{ var: '' }, v] }) },
}

const LIST_KINDS = new Set(['TEXT_LIST', 'ADDRESS_LIST', 'URL_LIST', 'NUMBER_LIST'])

/** A builder field for each fact: its operators (labelled), its value editor, its choices. */
export function fieldsOf(facts: readonly ConditionFact[], people?: { agents: Person[]; users: Person[] }): Field[] {
  return facts.map((fact) => {
    const field: Field = {
      name: fact.path,
      label: fact.label,
      operators: fact.operators.filter((op) => op in OPERATOR_LABELS).map((op) => ({ name: op, label: OPERATOR_LABELS[op]! })),
      kind: fact.kind,
    }
    if (fact.kind === 'NUMBER' || fact.kind === 'NUMBER_LIST') field.inputType = 'number'
    if (fact.choices) Object.assign(field, { valueEditorType: 'select', values: fact.choices.map((c) => ({ name: c, label: c })) })
    if (fact.kind === 'BOOLEAN') Object.assign(field, { valueEditorType: 'select', values: [{ name: 'true', label: 'yes' }, { name: 'false', label: 'no' }], defaultValue: 'true' })
    if (fact.kind === 'ID' && people) {
      const choices = fact.path.startsWith('requester') ? [...people.agents, ...people.users] : people.users
      Object.assign(field, { valueEditorType: 'select', values: choices.map((p) => ({ name: p.id, label: p.name })) })
    }
    return field
  })
}

const kindOf = (fields: Field[], name: string): string | undefined => fields.find((f) => f.name === name)?.kind as string | undefined

export const EMPTY_QUERY: RuleGroupType = { combinator: 'and', rules: [] }

/** A rule's value as its fact takes it: true/false for a yes/no fact. */
function valueFor(rule: RuleType, kind: string | undefined): unknown {
  if (kind === 'BOOLEAN' && (rule.value === 'true' || rule.value === 'false')) return rule.value === 'true'
  if ((kind === 'NUMBER' || kind === 'NUMBER_LIST') && typeof rule.value === 'string' && rule.value.trim() !== '' && Number.isFinite(Number(rule.value))) return Number(rule.value)
  return rule.value
}

/** The builder's query to JSONLogic, with our operators; null when it has no rules (the rule then has no conditions). */
export function jsonLogicFromQuery(query: RuleGroupType, fields: Field[] = []): object | null {
  if (query.rules.length === 0) return null
  const ruleProcessor: RuleProcessor = (rule, options) => {
    const fact = { var: rule.field }
    const kind = kindOf(fields, rule.field)
    const value = valueFor(rule, kind)
    const plain = PLAIN[rule.operator]
    if (plain) {
      const test = { [plain.op]: [fact, value] }
      return plain.not ? { '!': test } : test
    }
    const items = OVER_ITEMS[rule.operator]
    if (items) return { [items.mode]: [fact, items.test(value)] }
    if (rule.operator === 'includes') return { in: [value, fact] }
    if (rule.operator === 'doesNotInclude') return { '!': { in: [value, fact] } }
    return defaultRuleProcessorJsonLogic({ ...rule, value }, options)
  }
  const logic = formatQuery(query, { format: 'jsonlogic', fields, ruleProcessor, parseNumbers: 'strict-limited' })
  return logic && typeof logic === 'object' && Object.keys(logic).length > 0 ? (logic as object) : null
}

const isVarOf = (node: unknown, path?: string): node is { var: string } =>
  !!node && typeof node === 'object' && !Array.isArray(node) && typeof (node as { var?: unknown }).var === 'string' && (path === undefined || (node as { var: string }).var === path)

/** JSONLogic read as one of our operators' rules, where it is one. */
function readOurs(key: string, value: unknown): RuleType | false {
  const args = Array.isArray(value) ? value : [value]
  if (key === 'some' || key === 'none') {
    const [list, test] = args
    if (!isVarOf(list)) return false
    for (const [operator, form] of Object.entries(OVER_ITEMS)) {
      if (form.mode !== key) continue
      const probe = JSON.stringify(form.test('\u0000'))
      const [before, after] = probe.split('"\\u0000"') as [string, string]
      const written = JSON.stringify(test)
      if (written.startsWith(before) && written.endsWith(after)) {
        const inner = written.slice(before.length, written.length - after.length)
        try {
          return { field: list.var, operator, value: JSON.parse(inner) }
        } catch {
          continue
        }
      }
    }
    return false
  }
  const [fact, arg] = args
  const operator = Object.entries(PLAIN).find(([, form]) => form.op === key && !form.not)?.[0]
  return operator && isVarOf(fact) ? { field: fact.var, operator, value: arg } : false
}

const NEGATED: Record<string, string> = { matches: 'doesNotMatch', domainIs: 'domainIsNot', hostIs: 'hostIsNot', hostUnder: 'hostNotUnder', includes: 'doesNotInclude' }

/** Our operators where react-querybuilder reads them otherwise: a negated one of ours, "contains" over a list. */
function adapt(group: RuleGroupType, fields: Field[]): RuleGroupType {
  const rules = group.rules.map((rule) => {
    if (typeof rule === 'string') return rule
    if (isRuleGroup(rule)) {
      const inner = adapt(rule as RuleGroupType, fields)
      const only = inner.rules[0]
      // "!" over one of ours reads as a negated group of one rule
      if (inner.not && inner.rules.length === 1 && only && typeof only !== 'string' && !isRuleGroup(only) && NEGATED[only.operator]) {
        return { ...only, operator: NEGATED[only.operator]! }
      }
      return inner
    }
    const kind = kindOf(fields, rule.field)
    if (kind && LIST_KINDS.has(kind)) {
      // {"in": [v, list]}: membership of a list of keys; over addresses or URLs the server reads it as "some item contains"
      const itemwise = kind === 'ADDRESS_LIST' || kind === 'URL_LIST'
      if (rule.operator === 'contains') return { ...rule, operator: itemwise ? 'someContains' : 'includes' }
      if (rule.operator === 'doesNotContain') return { ...rule, operator: itemwise ? 'noneContains' : 'doesNotInclude' }
    }
    if (kind === 'BOOLEAN' && typeof rule.value === 'boolean') return { ...rule, value: String(rule.value) }
    return rule
  })
  return { ...group, rules }
}

/** JSONLogic (as stored on a rule) to the builder's query; what the builder cannot show is left out (see readsBack). */
export function queryFromJsonLogic(logic: unknown, fields: Field[] = []): RuleGroupType {
  if (!logic || typeof logic !== 'object') return EMPTY_QUERY
  const ours = Object.fromEntries(['some', 'none', 'matches', 'domainIs', 'hostIs', 'hostUnder'].map((key) => [key, (value: unknown) => readOurs(key, value)]))
  return adapt(parseJsonLogic(logic as Parameters<typeof parseJsonLogic>[0], { jsonLogicOperations: ours }), fields)
}

/** JSONLogic in one form for comparison: one-operand and/or unwrapped, numbers written as text read as numbers. */
function normalized(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalized)
  if (typeof node === 'string' && node.trim() !== '' && Number.isFinite(Number(node))) return Number(node)
  if (!node || typeof node !== 'object') return node
  const [key, value] = Object.entries(node)[0] ?? []
  if (key === undefined) return node
  if ((key === 'and' || key === 'or') && Array.isArray(value) && value.length === 1) return normalized(value[0])
  return { [key]: normalized(value) }
}

/** Whether the builder shows `logic` whole: read into the builder and written back, it means the same. */
export function readsBack(logic: unknown, fields: Field[]): boolean {
  if (!logic) return true
  const again = jsonLogicFromQuery(queryFromJsonLogic(logic, fields), fields)
  return JSON.stringify(normalized(again)) === JSON.stringify(normalized(logic))
}

/**
 * The builder's fields for a query: `fields`, and every other fact the query tests (a rule written
 * through the API) under its own name, as untyped, so that the builder shows it as it is instead
 * of the first field of the list.
 */
export function fieldsFor(query: RuleGroupType, fields: Field[]): Field[] {
  const known = new Set(fields.map((f) => f.name))
  const extra: ConditionFact[] = []
  const visit = (group: RuleGroupType) => {
    for (const rule of group.rules) {
      if (typeof rule === 'string') continue
      if (isRuleGroup(rule)) visit(rule as RuleGroupType)
      else if (!known.has(rule.field)) {
        known.add(rule.field)
        extra.push({ path: rule.field, label: labelOfPath(rule.field), kind: 'ANY', operators: ANY_OPERATORS })
      }
    }
  }
  visit(query)
  return [...fields, ...fieldsOf(extra)]
}

/** A name for a fact the server did not offer: "Context: campaign", "Parameter: network"; its path otherwise. */
function labelOfPath(path: string): string {
  const [root, ...rest] = path.split('.')
  const prefix = root === 'context' ? 'Context' : root === 'params' ? 'Parameter' : undefined
  return prefix && rest.length > 0 ? `${prefix}: ${rest.join(' › ')}` : path
}

/** What the builder offers for a fact of no known type (the server's ANY). */
export const ANY_OPERATORS = ['=', '!=', 'contains', 'doesNotContain', 'beginsWith', 'endsWith', 'matches', '<', '>', 'null', 'notNull']

const quoted = (v: unknown) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : `'${String(v)}'`)

/**
 * A rule's conditions in the builder's words ("Email: to has one with the domain 'evil.com', and
 * Parameter: amount is greater than 1000"), for reviewers; null when there are none, or when the
 * builder cannot read them whole (then the JSONLogic is all there is to show).
 */
export function conditionsInWords(logic: unknown, fields: Field[] = []): string | null {
  if (!logic || typeof logic !== 'object') return null
  let query: RuleGroupType
  try {
    query = queryFromJsonLogic(logic, fields)
  } catch {
    return null
  }
  if (query.rules.length === 0 || !readsBack(logic, fieldsFor(query, fields))) return null
  const labelOf = (name: string) => fields.find((f) => f.name === name)?.label ?? labelOfPath(name)
  const words = (group: RuleGroupType, outer: boolean): string => {
    const parts = group.rules
      .filter((r): r is RuleType | RuleGroupType => typeof r !== 'string')
      .map((r) => {
        if (isRuleGroup(r)) return words(r as RuleGroupType, false)
        const op = OPERATOR_LABELS[r.operator] ?? r.operator
        if (r.operator === 'null' || r.operator === 'notNull') return `${labelOf(r.field)} ${op}`
        const value = Array.isArray(r.value) ? r.value.map(quoted).join(' and ') : r.operator.includes('etween') ? String(r.value).split(',').map(quoted).join(' and ') : quoted(r.value)
        return `${labelOf(r.field)} ${op} ${value}`
      })
    const joined = parts.join(`, ${group.combinator} `)
    const text = group.not ? `not (${joined})` : joined
    return outer || parts.length === 1 ? text : `(${text})`
  }
  return words(query, true) || null
}

type Person = { id: string; name: string }

/** Values longer than this say what this request is, not what requests like it share. */
const MAX_SIMILAR_TEXT = 120
/** The prose of an action (a post's text, an email's body), which differs from one request to the next. */
const PROSE = new Set(['text', 'body', 'html', 'message', 'content', 'instructions', 'description', 'notes'])

/**
 * Conditions that hold for requests like this one: the same requester, for the same person, with
 * the same short parameters (a recipient, a subject, a platform, an amount). Prose (a post's text,
 * an email's body), long values and nested objects are left out: they differ from one request to
 * the next. `facts` (the action type's) says which lists hold addresses or URLs.
 */
export function similarQuery(request: { requester: Person; onBehalfOf?: Person | null; params: unknown }, facts: readonly ConditionFact[] = []): RuleGroupType {
  const rules: RuleGroupType['rules'] = [{ field: 'requester.id', operator: '=', value: request.requester.id }]
  if (request.onBehalfOf) rules.push({ field: 'onBehalfOf.id', operator: '=', value: request.onBehalfOf.id })
  const params = request.params !== null && typeof request.params === 'object' && !Array.isArray(request.params) ? (request.params as Record<string, unknown>) : {}
  for (const [key, value] of Object.entries(params)) {
    if (PROSE.has(key)) continue
    const field = `params.${key}`
    const fact = facts.find((f) => f.path === field)
    if ((typeof value === 'string' && value.length > 0 && value.length <= MAX_SIMILAR_TEXT && !value.includes('\n')) || typeof value === 'number' || typeof value === 'boolean') {
      // one recipient given as text is a list of one in the facts
      if (fact?.kind === 'ADDRESS_LIST' || fact?.kind === 'URL_LIST') rules.push({ field, operator: 'someIs', value: typeof value === 'string' && fact.kind === 'ADDRESS_LIST' ? value.toLowerCase() : value })
      else rules.push({ field, operator: '=', value: typeof value === 'boolean' ? String(value) : value })
    } else if (Array.isArray(value) && value.length > 0 && value.length <= 5 && value.every((v) => typeof v === 'string' && v.length <= MAX_SIMILAR_TEXT)) {
      // each of the list's items, wherever it stands in the list
      const itemwise = !fact || fact.kind === 'ADDRESS_LIST' || fact.kind === 'URL_LIST'
      for (const item of value) rules.push({ field, operator: itemwise ? 'someIs' : 'includes', value: fact?.kind === 'ADDRESS_LIST' ? item.toLowerCase() : item })
    }
  }
  return { combinator: 'and', rules }
}
