// The operators rule conditions may use: json-logic-js's own, made strict about types (a fact of
// a type the operator cannot use throws, so the rule gates: fail closed), and the ones people
// need, named plainly and added with add_operation. One table says what each needs of its
// operands; the save-time check (conditions.ts) and the builder's offer follow it.
import jsonLogic from 'json-logic-js'
import { RE2JS } from 're2js'

/** The longest pattern `matches` accepts. RE2 matches in time linear in the text, so no pattern can run away. */
export const MAX_PATTERN_LENGTH = 200

/** Operators that take a text fact first and a text literal second. */
export const TEXT_OPERATORS = ['startsWith', 'endsWith', 'matches', 'domainIs', 'hostIs', 'hostUnder'] as const
export type TextOperator = (typeof TEXT_OPERATORS)[number]

/** Every operator a condition may use. */
export const OPERATORS = new Set<string>([
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!', '!!', '%', 'and', 'or', 'if', '?:', 'in', 'cat',
  'substr', '+', '-', '*', '/', 'min', 'max', 'merge', 'var', 'missing', 'missing_some', 'map', 'filter',
  'reduce', 'all', 'none', 'some', ...TEXT_OPERATORS,
])

/** A value's type in words, for the messages of a condition that cannot be evaluated. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return 'text'
  return `a ${typeof value}`
}

export class ConditionTypeError extends Error {}
const wrongType = (op: string, needs: string, value: unknown) => new ConditionTypeError(`"${op}" needs ${needs}, got ${typeName(value)}`)
const isComposite = (v: unknown) => v !== null && typeof v === 'object'

/** The domain of an email address, lower-cased; undefined for text that is no address. */
export function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@')
  return at > 0 && at < address.length - 1 ? address.slice(at + 1).toLowerCase().replace(/\.$/, '') : undefined
}

/** The host of an absolute URL (lower-cased, punycode, no trailing dot); undefined for text that is no URL. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/\.$/, '') || undefined
  } catch {
    return undefined
  }
}

/** A host name as hosts are compared: lower-cased, punycode; undefined when it is none. */
export function canonicalHost(host: string): string | undefined {
  if (!host || /[/:@?#\s]/.test(host)) return undefined
  try {
    return new URL(`http://${host}`).hostname.replace(/\.$/, '') || undefined
  } catch {
    return undefined
  }
}

const patterns = new Map<string, RE2JS>()
/** A compiled `matches` pattern (case-insensitive), kept for the next evaluation. Throws on an invalid or too long one. */
export function compilePattern(pattern: string): RE2JS {
  let compiled = patterns.get(pattern)
  if (compiled) return compiled
  if (pattern.length > MAX_PATTERN_LENGTH) throw new ConditionTypeError(`a pattern is at most ${MAX_PATTERN_LENGTH} characters`)
  compiled = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE)
  if (patterns.size >= 500) patterns.delete(patterns.keys().next().value!)
  patterns.set(pattern, compiled)
  return compiled
}

/** A text operator: absent text (no such fact) never matches; text of another type cannot be evaluated. */
function textOperator(op: TextOperator, test: (text: string, arg: string) => boolean) {
  return (text: unknown, arg: unknown) => {
    if (typeof arg !== 'string') throw wrongType(op, 'text to compare with', arg)
    if (text === null || text === undefined) return false
    if (typeof text !== 'string') throw wrongType(op, 'text', text)
    return test(text, arg)
  }
}

const TEXT_IMPLEMENTATIONS: Record<TextOperator, (text: string, arg: string) => boolean> = {
  startsWith: (text, prefix) => text.startsWith(prefix),
  endsWith: (text, suffix) => text.endsWith(suffix),
  matches: (text, pattern) => compilePattern(pattern).matcher(text).find(),
  domainIs: (address, domain) => domainOf(address) === domain.replace(/^@/, '').toLowerCase(),
  hostIs: (url, host) => hostOf(url) !== undefined && hostOf(url) === canonicalHost(host),
  hostUnder: (url, host) => {
    const [h, under] = [hostOf(url), canonicalHost(host)]
    return h !== undefined && under !== undefined && (h === under || h.endsWith(`.${under}`))
  },
}

const builtIn = {
  '==': (a: unknown, b: unknown) => a == b,
  '===': (a: unknown, b: unknown) => a === b,
  '!=': (a: unknown, b: unknown) => a != b,
  '!==': (a: unknown, b: unknown) => a !== b,
}

/** Equality between a list or object and a value other than null means nothing a person meant. */
function equality(op: keyof typeof builtIn) {
  return (a: unknown, b: unknown) => {
    if ((isComposite(a) && b !== null && b !== undefined) || (isComposite(b) && a !== null && a !== undefined)) {
      throw wrongType(op, 'text, a number or true/false', isComposite(a) ? a : b)
    }
    return builtIn[op](a, b)
  }
}

/** Ordering compares numbers: absent values never compare; text, lists and objects cannot be evaluated. */
function ordering(op: '<' | '<=' | '>' | '>=', holds: (x: number, y: number) => boolean) {
  return (...args: unknown[]) => {
    const values = args.slice(0, 3)
    if (values.some((v) => v === null || v === undefined)) return false
    for (const v of values) if (typeof v !== 'number') throw wrongType(op, 'numbers', v)
    const [a, b, c] = values as number[]
    return holds(a!, b!) && (c === undefined || holds(b!, c))
  }
}

let registered = false
/** Puts the strict and the added operators in json-logic-js (once per process). */
export function registerOperators(): void {
  if (registered) return
  registered = true
  for (const op of TEXT_OPERATORS) jsonLogic.add_operation(op, textOperator(op, TEXT_IMPLEMENTATIONS[op]))
  for (const op of ['==', '===', '!=', '!=='] as const) jsonLogic.add_operation(op, equality(op))
  jsonLogic.add_operation('<', ordering('<', (x, y) => x < y))
  jsonLogic.add_operation('<=', ordering('<=', (x, y) => x <= y))
  jsonLogic.add_operation('>', ordering('>', (x, y) => x > y))
  jsonLogic.add_operation('>=', ordering('>=', (x, y) => x >= y))
  // "in": a text's substring, or a list's element; anything else (a number, an object) cannot be evaluated
  jsonLogic.add_operation('in', (needle: unknown, haystack: unknown) => {
    if (haystack === null || haystack === undefined) return false
    if (typeof haystack === 'string') {
      if (typeof needle !== 'string' && typeof needle !== 'number') throw wrongType('in', 'text to look for', needle)
      return haystack.includes(String(needle))
    }
    if (Array.isArray(haystack)) return haystack.includes(needle)
    throw wrongType('in', 'text or a list to look in', haystack)
  })
}
