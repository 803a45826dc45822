// Input that PostgreSQL cannot store faithfully, or that would exhaust the stack of code that
// walks it, is refused up front with BAD_USER_INPUT instead of failing deep inside as a masked
// 500: NUL characters (text and jsonb cannot hold U+0000), lone UTF-16 surrogates (not Unicode:
// jsonb refuses them, text would store a replacement character), and JSON nested too deeply.
import { Kind, visit, type DocumentNode } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { badInput } from '../errors.js'

/** How deeply a JSON input value (params, context, conditions, data) may nest. */
export const MAX_JSON_DEPTH = 32
/** Variables nest a few levels of input objects and lists around their JSON values. */
const MAX_VARIABLES_DEPTH = MAX_JSON_DEPTH + 8

const badText = (s: string) => s.includes('\0') || !(s as string & { isWellFormed(): boolean }).isWellFormed()

/**
 * The first problem in a value: a string with a NUL or a lone surrogate (in a value or a key),
 * or nesting deeper than `maxDepth`. Iterative, so that any depth is safe to inspect.
 */
export function inputProblem(value: unknown, maxDepth: number): string | null {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length) {
    const [node, depth] = stack.pop()!
    if (typeof node === 'string') {
      if (badText(node)) return 'Text may not contain NUL characters or unpaired UTF-16 surrogates.'
    } else if (node !== null && typeof node === 'object') {
      if (depth >= maxDepth) return `JSON may nest at most ${MAX_JSON_DEPTH} levels deep.`
      if (Array.isArray(node)) for (const item of node) stack.push([item, depth + 1])
      else
        for (const [key, item] of Object.entries(node)) {
          if (badText(key)) return 'Text may not contain NUL characters or unpaired UTF-16 surrogates.'
          stack.push([item, depth + 1])
        }
    }
  }
  return null
}

function documentProblem(document: DocumentNode): string | null {
  let problem: string | null = null
  visit(document, {
    [Kind.STRING]: (node) => {
      if (!problem && badText(node.value)) problem = 'Text may not contain NUL characters or unpaired UTF-16 surrogates.'
    },
  })
  return problem
}

/** Refuses operations whose variables or inline strings PostgreSQL could not store faithfully. */
export function useInputTextChecks(): Plugin {
  const check = (document: DocumentNode, variables: unknown) => {
    const problem = inputProblem(variables ?? null, MAX_VARIABLES_DEPTH) ?? documentProblem(document)
    return problem ? { errors: [badInput(problem)] } : null
  }
  return {
    onExecute: ({ args, setResultAndStopExecution }) => {
      const refused = check(args.document, args.variableValues)
      if (refused) setResultAndStopExecution(refused)
    },
    onSubscribe: ({ args, setResultAndStopExecution }) => {
      const refused = check(args.document, args.variableValues)
      if (refused) setResultAndStopExecution(refused)
    },
  }
}
