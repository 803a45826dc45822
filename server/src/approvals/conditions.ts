// Rule conditions are JSONLogic (json-logic-js), evaluated against the facts of an action.
import jsonLogic from 'json-logic-js'
import { badInput } from '../errors.js'

/** The operators of json-logic-js; anything else in a condition is refused when the rule is saved. */
const OPERATORS = new Set([
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!', '!!', '%', 'and', 'or', 'if', '?:', 'in', 'cat',
  'substr', '+', '-', '*', '/', 'min', 'max', 'merge', 'var', 'missing', 'missing_some', 'map', 'filter',
  'reduce', 'all', 'none', 'some',
])

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

function check(node: unknown, path: string): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => check(item, `${path}[${i}]`))
    return
  }
  if (node === null || typeof node !== 'object') return
  const keys = Object.keys(node)
  if (keys.length !== 1) {
    throw badInput(`Invalid condition at ${path}: an operation is an object with exactly one operator key, found ${keys.length}.`, 'input.conditions')
  }
  const op = keys[0]!
  if (!OPERATORS.has(op)) throw badInput(`Unknown operator "${op}" in condition at ${path}.`, 'input.conditions')
  check((node as Record<string, unknown>)[op], `${path}.${op}`)
}

/**
 * Parses (when given as a JSON string) and validates a rule's conditions; returns the JSONLogic
 * value to store, or null for "no conditions". Throws BAD_USER_INPUT for malformed JSON or an
 * unknown operator.
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
    throw badInput('Conditions must be a JSONLogic operation: an object such as {"==": [{"var": "params.to"}, "x@example.com"]}.', 'input.conditions')
  }
  check(logic, 'conditions')
  return logic
}

/**
 * Whether `conditions` hold for `facts`; no conditions always hold. A condition whose evaluation
 * throws counts as holding (fail closed: a rule that cannot tell gates the action), and the
 * error is returned so that the request can record why.
 */
export function evaluateConditions(conditions: unknown, facts: ActionFacts): { holds: boolean; error: string | null } {
  if (conditions === null || conditions === undefined) return { holds: true, error: null }
  try {
    return { holds: jsonLogic.truthy(jsonLogic.apply(conditions as jsonLogic.RulesLogic, facts as unknown as Record<string, unknown>)), error: null }
  } catch (err) {
    return { holds: true, error: `The rule's conditions could not be evaluated: ${err instanceof Error ? err.message : String(err)}` }
  }
}
