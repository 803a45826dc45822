// Rule conditions are JSONLogic (json-logic-js), typed against the facts of the rule's action
// type when the rule is saved, and evaluated against the facts of an action.
//
// The save-time check gives each condition the meaning its author wrote, one behaviour per case
// (the README's "Conditions" lists them):
// - rewritten: text "contains" (`in`) over a list of addresses or URLs means "some item
//   contains"; a literal compared with a canonical fact is put in its form (addresses
//   lower-cased, URLs as the facts are); numbers and true/false written as text become numbers
//   and booleans;
// - refused (BAD_USER_INPUT, naming the condition's path and the form to use): a fact no rule of
//   this action type can see; equality, text operators or ordering applied to a list, an object,
//   or a fact of another type; ordering of text; an invalid pattern, domain or host.
// At evaluation a fact whose value has a type the operator cannot use makes the conditions
// "cannot be evaluated": the rule gates (fail closed) and says why.
import jsonLogic from 'json-logic-js'
import { badInput } from '../errors.js'
import { canonicalUrl } from './catalogue.js'
import type { FactType } from './condition-facts.js'
import { itemKind } from './condition-facts.js'
import { ConditionTypeError, OPERATORS, TEXT_OPERATORS, canonicalHost, compilePattern, hostOf, registerOperators, typeName, type TextOperator } from './condition-operators.js'

registerOperators()

/** The facts a condition sees (see the contract header). */
export interface ActionFacts {
  resourceType: string
  actionType: string
  module: string | null
  recordId: string | null
  params: unknown
  context: unknown
  requester: { id: string; name: string; kind: 'USER' | 'AGENT' }
  onBehalfOf: { id: string; email: string; roleKeys: string[] } | null
}

type Logic = unknown
type Op = Record<string, unknown>
/** The type of a fact path for the rule's action type; undefined when no such fact exists. */
export type FactTypes = (path: string) => FactType | undefined

function checkShape(node: unknown, path: string): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkShape(item, `${path}[${i}]`))
    return
  }
  if (node === null || typeof node !== 'object') return
  const keys = Object.keys(node)
  if (keys.length !== 1) {
    throw badInput(`Invalid condition at ${path}: an operation is an object with exactly one operator key, found ${keys.length}.`, 'input.conditions')
  }
  const op = keys[0]!
  if (!OPERATORS.has(op)) {
    throw badInput(`Unknown operator "${op}" in condition at ${path}; the operators are ${[...OPERATORS].join(', ')}.`, 'input.conditions')
  }
  checkShape((node as Record<string, unknown>)[op], `${path}.${op}`)
}

/**
 * Parses (when given as a JSON string) and checks the shape of a rule's conditions: JSON, and
 * operations of known operators. Returns the JSONLogic, or null for "no conditions". Throws
 * BAD_USER_INPUT otherwise. Types are checked by typeConditions.
 */
export function parseConditions(value: unknown): object | null {
  if (value === null || value === undefined) return null
  let logic = value
  if (typeof value === 'string') {
    if (value.trim() === '') return null
    try {
      logic = JSON.parse(value)
    } catch (err) {
      throw badInput(`Conditions are not valid JSON: ${(err as Error).message}`, 'input.conditions')
    }
  }
  if (logic === null || typeof logic !== 'object' || Array.isArray(logic)) {
    throw badInput('Conditions must be a JSONLogic operation: an object such as {"==": [{"var": "params.subject"}, "Hello"]}.', 'input.conditions')
  }
  checkShape(logic, 'conditions')
  return logic
}

/** What the save-time check made of conditions. */
export interface TypedConditions {
  /** The conditions to store: as given, but for the rewrites. */
  logic: object
  /** Each rewrite, in words ("conditions.and[0]: ... now reads ..."). */
  rewrites: string[]
  /** Each condition refused, with the form to use. */
  problems: string[]
}

const isVar = (node: unknown): node is { var: unknown } => node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length === 1 && 'var' in node
const varPath = (node: { var: unknown }): string | undefined => {
  const v = Array.isArray(node.var) ? node.var[0] : node.var
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined
}
const json = (value: unknown) => JSON.stringify(value)
const TEXT_KINDS = new Set(['TEXT', 'ADDRESS', 'URL', 'DATETIME', 'ID'])
const LIST_KINDS = new Set(['TEXT_LIST', 'ADDRESS_LIST', 'URL_LIST', 'NUMBER_LIST'])
const kindWords: Record<string, string> = {
  TEXT: 'text', ADDRESS: 'an email address', URL: 'a URL', DATETIME: 'a date and time (text)', ID: 'an ID', NUMBER: 'a number',
  BOOLEAN: 'true or false', TEXT_LIST: 'a list of text', ADDRESS_LIST: 'a list of email addresses', URL_LIST: 'a list of URLs',
  NUMBER_LIST: 'a list of numbers', OBJECT: 'an object', ANY: 'untyped JSON',
}
const itemWords: Record<string, string> = { ADDRESS_LIST: 'recipient', URL_LIST: 'URL', TEXT_LIST: 'item', NUMBER_LIST: 'item' }

/** A literal put in the form of a canonical fact's values; the literal itself when it has no such form. */
function canonicalLiteral(kind: string, literal: unknown): unknown {
  if (typeof literal !== 'string') return literal
  if (kind === 'ADDRESS' || kind === 'ADDRESS_LIST') return literal.trim().toLowerCase()
  if ((kind === 'URL' || kind === 'URL_LIST') && /^https?:\/\//i.test(literal.trim())) return canonicalUrl(literal.trim())
  return literal
}

/**
 * Types `logic` against the facts of a rule's action type (see the file's header for what is
 * rewritten and what refused). Never throws: saving refuses on `problems`, a stored rule shows
 * them and its rewrites as warnings.
 */
export function typeConditions(logic: object, factTypes: FactTypes): TypedConditions {
  const rewrites: string[] = []
  const problems: string[] = []
  /** The type of a `var` operand at `path` (the item's inside some/all/none), or undefined for other operands. */
  type Scope = { item?: FactType }
  const typeOfVar = (node: unknown, scope: Scope, at: string): { fact: string; type: FactType } | undefined => {
    if (!isVar(node)) return undefined
    const path = varPath(node)
    if (path === undefined) return undefined
    if (scope.item) {
      // inside some/all/none: "" is the item; a field of it is untyped
      return { fact: path === '' ? 'the item' : path, type: path === '' ? scope.item : { kind: 'ANY' } }
    }
    const type = factTypes(path)
    if (!type) {
      problems.push(`${at}: there is no fact "${path}" for this action type; see the rule builder's list, or the action type's paramsSchema, for the facts it has.`)
      return undefined
    }
    return { fact: path, type }
  }

  const visit = (node: Logic, at: string, scope: Scope): Logic => {
    if (Array.isArray(node)) return node.map((item, i) => visit(item, `${at}[${i}]`, scope))
    if (node === null || typeof node !== 'object') return node
    const [op, raw] = Object.entries(node as Op)[0]!
    const here = `${at}.${op}`
    if (op === 'var') {
      typeOfVar(node, scope, at)
      return node
    }
    const args = Array.isArray(raw) ? raw : [raw]
    const rewrite = (to: Logic, why: string) => {
      rewrites.push(`${at}: ${why}; ${json(node)} now reads ${json(to)}`)
      return to
    }

    if (op === '!') {
      // the builder's "does not contain" over what was text before recipients became lists: of
      // the readings a list allows, the one that gates more (some recipient does not contain it),
      // so that an email with one outside recipient among inside ones is still gated
      const inner = args[0]
      const [innerOp, innerArgs] = inner && typeof inner === 'object' && !Array.isArray(inner) ? (Object.entries(inner)[0] ?? []) : []
      if (innerOp === 'in' && Array.isArray(innerArgs) && typeof innerArgs[0] === 'string') {
        const hay = typeOfVar(innerArgs[1], scope, `${here}.in[1]`)
        if (hay && (hay.type.kind === 'ADDRESS_LIST' || hay.type.kind === 'URL_LIST')) {
          const literal = hay.type.canonical ? canonicalLiteral(hay.type.kind, innerArgs[0]) : innerArgs[0]
          return rewrite(
            { some: [innerArgs[1], { '!': { in: [literal, { var: '' }] } }] },
            `${hay.fact} is ${kindWords[hay.type.kind]}, so "does not contain" means "some ${itemWords[hay.type.kind]} does not contain"`,
          )
        }
      }
    }

    if (op === 'some' || op === 'all' || op === 'none' || op === 'filter' || op === 'map') {
      const list = typeOfVar(args[0], scope, `${here}[0]`)
      let item: FactType = { kind: 'ANY' }
      if (list) {
        const k = itemKind(list.type.kind)
        if (k) item = { kind: k, canonical: list.type.canonical }
        else if (list.type.kind !== 'ANY') problems.push(`${here}: "${op}" goes through a list, and ${list.fact} is ${kindWords[list.type.kind]}.`)
      } else if (!isVar(args[0])) {
        args[0] = visit(args[0], `${here}[0]`, scope)
      }
      const inner = args.slice(1).map((a, i) => visit(a, `${here}[${i + 1}]`, { item }))
      return { [op]: [args[0], ...inner] }
    }

    if (op === 'in') {
      const [needle, haystack] = args
      const hay = typeOfVar(haystack, scope, `${here}[1]`)
      const item = typeOfVar(needle, scope, `${here}[0]`)
      if (hay && !isVar(needle)) {
        const { kind, canonical } = hay.type
        if ((kind === 'ADDRESS_LIST' || kind === 'URL_LIST') && typeof needle === 'string') {
          // the builder's "contains" over what was text before recipients became lists: some recipient contains it
          const literal = canonical ? canonicalLiteral(kind, needle) : needle
          return rewrite({ some: [haystack, { in: [literal, { var: '' }] }] }, `${hay.fact} is ${kindWords[kind]}, so "contains" means "some ${itemWords[kind]} contains"`)
        }
        if (kind === 'NUMBER' || kind === 'BOOLEAN' || kind === 'OBJECT') {
          problems.push(`${here}: "in" (contains) looks in text or a list, and ${hay.fact} is ${kindWords[kind]}.${kind === 'OBJECT' ? ` Test one of its fields, such as {"in": [${json(needle)}, {"var": "${hay.fact}.<field>"}]}.` : ''}`)
          return node
        }
        if (LIST_KINDS.has(kind)) {
          if (kind === 'NUMBER_LIST' && typeof needle === 'string' && Number.isFinite(Number(needle)) && needle.trim() !== '') {
            return rewrite({ in: [Number(needle), haystack] }, `${hay.fact} is a list of numbers`)
          }
          return node
        }
        if (TEXT_KINDS.has(kind)) {
          if (typeof needle !== 'string') {
            problems.push(`${here}: ${hay.fact} is ${kindWords[kind]}; "in" (contains) looks for text in it, and ${json(needle)} is not text.`)
            return node
          }
          const literal = canonical ? canonicalLiteral(kind, needle) : needle
          if (literal !== needle) return rewrite({ in: [literal, haystack] }, `${hay.fact} is compared in its canonical form`)
          return node
        }
        return node
      }
      if (item && Array.isArray(haystack)) {
        // "is one of" a literal list
        const { kind, canonical } = item.type
        if (LIST_KINDS.has(kind) || kind === 'OBJECT') {
          problems.push(`${here}: ${item.fact} is ${kindWords[kind]}, not one value: "is one of" compares one value. ${LIST_KINDS.has(kind) ? `For "some ${itemWords[kind]} is one of", write {"some": [{"var": "${item.fact}"}, {"in": [{"var": ""}, ${json(haystack)}]}]}.` : ''}`)
          return node
        }
        if (kind === 'NUMBER' && haystack.every((v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))) && haystack.some((v) => typeof v === 'string')) {
          return rewrite({ in: [needle, haystack.map(Number)] }, `${item.fact} is a number`)
        }
        if (canonical) {
          const forms = haystack.map((v) => canonicalLiteral(kind, v))
          if (forms.some((v, i) => v !== haystack[i])) return rewrite({ in: [needle, forms] }, `${item.fact} is compared in its canonical form`)
        }
        return node
      }
      return { in: args.map((a, i) => visit(a, `${here}[${i}]`, scope)) }
    }

    if (op === '==' || op === '!=' || op === '===' || op === '!==') {
      const [a, b] = args
      const left = typeOfVar(a, scope, `${here}[0]`)
      const right = typeOfVar(b, scope, `${here}[1]`)
      const fact = left && !isVar(b) ? { ...left, literal: b, side: 1 } : right && !isVar(a) ? { ...right, literal: a, side: 0 } : undefined
      if (!fact || fact.literal === null || (fact.literal !== null && typeof fact.literal === 'object')) {
        if (fact && fact.literal !== null && typeof fact.literal === 'object') problems.push(`${here}: compare a fact with text, a number or true/false, not ${typeName(fact.literal)}.`)
        return fact ? node : { [op]: args.map((x, i) => visit(x, `${here}[${i}]`, scope)) }
      }
      const { kind, canonical } = fact.type
      const put = (literal: unknown, why: string) => {
        const next = [...args]
        next[fact.side] = literal
        return rewrite({ [op]: next }, why)
      }
      if (LIST_KINDS.has(kind)) {
        const words = itemWords[kind]
        const negated = op.startsWith('!')
        problems.push(
          `${here}: ${fact.fact} is ${kindWords[kind]}, so it never equals one value. For "${negated ? 'no' : 'some'} ${words} is ${json(fact.literal)}", write {"${negated ? 'none' : 'some'}": [{"var": "${fact.fact}"}, {"==": [{"var": ""}, ${json(canonicalLiteral(kind, fact.literal))}]}]}.`,
        )
        return node
      }
      if (kind === 'OBJECT') {
        problems.push(`${here}: ${fact.fact} is an object; compare one of its fields, such as {"var": "${fact.fact}.<field>"}.`)
        return node
      }
      if (kind === 'NUMBER' && typeof fact.literal !== 'number') {
        const n = typeof fact.literal === 'string' && fact.literal.trim() !== '' ? Number(fact.literal) : NaN
        if (Number.isFinite(n)) return put(n, `${fact.fact} is a number`)
        problems.push(`${here}: ${fact.fact} is a number, and ${json(fact.literal)} is not.`)
        return node
      }
      if (kind === 'BOOLEAN' && typeof fact.literal !== 'boolean') {
        if (fact.literal === 'true' || fact.literal === 'false') return put(fact.literal === 'true', `${fact.fact} is true or false`)
        problems.push(`${here}: ${fact.fact} is true or false, and ${json(fact.literal)} is not.`)
        return node
      }
      if (TEXT_KINDS.has(kind) && typeof fact.literal !== 'string') {
        problems.push(`${here}: ${fact.fact} is ${kindWords[kind]}; compare it with text, such as ${json(String(fact.literal))}.`)
        return node
      }
      if (canonical) {
        const literal = canonicalLiteral(kind, fact.literal)
        if (literal !== fact.literal) return put(literal, `${fact.fact} is ${kind === 'URL' ? 'a canonical URL' : 'lower-cased'}, so the value is compared in that form`)
      }
      return node
    }

    if (op === '<' || op === '<=' || op === '>' || op === '>=') {
      let changed = false
      const next = args.map((x, i) => {
        const fact = typeOfVar(x, scope, `${here}[${i}]`)
        if (fact) {
          if (fact.type.kind !== 'NUMBER' && fact.type.kind !== 'ANY') {
            problems.push(`${here}: "${op}" compares numbers, and ${fact.fact} is ${kindWords[fact.type.kind]}.`)
          }
          return x
        }
        if (typeof x === 'string') {
          const n = x.trim() === '' ? NaN : Number(x)
          if (Number.isFinite(n)) {
            changed = true
            return n
          }
          problems.push(`${here}: "${op}" compares numbers, and ${json(x)} is not one.`)
          return x
        }
        return visit(x, `${here}[${i}]`, scope)
      })
      return changed ? rewrite({ [op]: next }, 'numbers written as text are compared as numbers') : { [op]: next }
    }

    if ((TEXT_OPERATORS as readonly string[]).includes(op)) {
      const textOp = op as TextOperator
      const [subject, arg] = args
      const fact = typeOfVar(subject, scope, `${here}[0]`)
      if (typeof arg !== 'string') {
        problems.push(`${here}: "${op}" takes a fact and text, such as {"${op}": [{"var": "params.subject"}, "..."]}.`)
        return node
      }
      if (textOp === 'matches') {
        try {
          compilePattern(arg)
        } catch (err) {
          problems.push(`${here}: the pattern ${json(arg)} cannot be used: ${err instanceof Error ? err.message : String(err)}. Patterns use RE2 syntax (no look-around or back-references), at most 200 characters.`)
          return node
        }
      }
      let literal: string = arg
      if (textOp === 'domainIs') {
        literal = arg.trim().replace(/^@/, '').toLowerCase()
        if (!canonicalHost(literal)) problems.push(`${here}: ${json(arg)} is not a domain, such as "example.com".`)
      }
      if (textOp === 'hostIs' || textOp === 'hostUnder') {
        const host = /^https?:\/\//i.test(arg.trim()) ? (hostOf(arg.trim()) ?? '') : canonicalHost(arg.trim())
        if (!host) problems.push(`${here}: ${json(arg)} is not a host name, such as "shop.example.com".`)
        else literal = host
      }
      if (!fact) return literal !== arg ? rewrite({ [op]: [visit(subject, `${here}[0]`, scope), literal] }, 'the value is compared in its canonical form') : { [op]: [visit(subject, `${here}[0]`, scope), arg] }
      const { kind, canonical } = fact.type
      if (LIST_KINDS.has(kind)) {
        problems.push(
          `${here}: ${fact.fact} is ${kindWords[kind]}; "${op}" tests one text. For "some ${itemWords[kind]} …", write {"some": [{"var": "${fact.fact}"}, {"${op}": [{"var": ""}, ${json(canonical ? canonicalLiteral(kind, literal) : literal)}]}]}.`,
        )
        return node
      }
      if (kind !== 'ANY' && !TEXT_KINDS.has(kind)) {
        problems.push(`${here}: "${op}" tests text, and ${fact.fact} is ${kindWords[kind]}.`)
        return node
      }
      if (canonical && (textOp === 'startsWith' || textOp === 'endsWith')) literal = canonicalLiteral(kind, literal) as string
      if (literal !== arg) return rewrite({ [op]: [subject, literal] }, `${fact.fact} is compared in its canonical form`)
      return node
    }

    return { [op]: Array.isArray(raw) ? args.map((x, i) => visit(x, `${here}[${i}]`, scope)) : visit(raw, here, scope) }
  }

  const out = visit(logic, 'conditions', {}) as object
  return { logic: out, rewrites: [...new Set(rewrites)], problems: [...new Set(problems)] }
}

/**
 * A rule's conditions as they will be stored: parsed, shape-checked and typed against its action
 * type's facts, rewritten to the meaning its author wrote. Throws BAD_USER_INPUT naming each
 * refused condition and the form to use.
 */
export function checkConditions(value: unknown, factTypes: FactTypes): object | null {
  const logic = parseConditions(value)
  if (logic === null) return null
  const typed = typeConditions(logic, factTypes)
  if (typed.problems.length > 0) throw badInput(`The conditions cannot be saved. ${typed.problems.join(' ')}`, 'input.conditions')
  return typed.logic
}

/** Why stored conditions would be refused or rewritten if saved today (empty when they are fine). */
export function conditionWarnings(logic: unknown, factTypes: FactTypes | undefined): string[] {
  if (logic === null || logic === undefined) return []
  if (!factTypes) return ["The rule's action type no longer exists."]
  try {
    const parsed = parseConditions(logic)
    if (parsed === null) return []
    const typed = typeConditions(parsed, factTypes)
    return [...typed.problems.map((p) => `Refused if saved today (evaluated as stored until then): ${p}`), ...typed.rewrites.map((r) => `Read as its author meant, and rewritten so when saved: ${r}`)]
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)]
  }
}

/** The value at a `var` path in `data`, as json-logic-js finds it. */
const valueAt = (data: unknown, path: string): unknown => jsonLogic.apply({ var: path }, data as Record<string, unknown>)

/** Throws when some/all/none is given a fact that is no list (json-logic-js would answer false or true). */
function checkListOperands(node: unknown, facts: ActionFacts, inItem: boolean): void {
  if (Array.isArray(node)) return node.forEach((n) => checkListOperands(n, facts, inItem))
  if (node === null || typeof node !== 'object') return
  const [op, raw] = Object.entries(node as Op)[0] ?? []
  if (!op) return
  const args = Array.isArray(raw) ? raw : [raw]
  if (op === 'some' || op === 'all' || op === 'none') {
    const [list, ...rest] = args
    if (!inItem && isVar(list)) {
      const path = varPath(list)
      const value = path === undefined ? undefined : valueAt(facts, path)
      if (value !== null && value !== undefined && !Array.isArray(value)) throw new ConditionTypeError(`"${op}" needs a list, and ${path} is ${typeName(value)}`)
    }
    rest.forEach((n) => checkListOperands(n, facts, true))
    return
  }
  args.forEach((n) => checkListOperands(n, facts, inItem))
}

/**
 * Whether `conditions` hold for `facts`; no conditions always hold. Conditions that cannot be
 * evaluated (a fact of a type the operator cannot use, say a list where text was meant) count as
 * holding: a rule that cannot tell gates the action (fail closed). The error says why.
 */
export function evaluateConditions(conditions: unknown, facts: ActionFacts): { holds: boolean; error: string | null } {
  if (conditions === null || conditions === undefined) return { holds: true, error: null }
  try {
    checkListOperands(conditions, facts, false)
    return { holds: jsonLogic.truthy(jsonLogic.apply(conditions as jsonLogic.RulesLogic, facts as unknown as Record<string, unknown>)), error: null }
  } catch (err) {
    return { holds: true, error: `The rule's conditions could not be evaluated: ${err instanceof Error ? err.message : String(err)}` }
  }
}
