import { getOperationAST, Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Context } from '../context.js'
import { rateLimited } from '../errors.js'
import type { Logger } from '../logger.js'

/**
 * The root mutations held to APPROVALS_RATE_LIMIT: those that create or decide requests (decideRequests
 * by its prefix, one point per request it names). A later
 * mutation whose name starts with one of the prefixes is held to it without being listed.
 */
export const RATE_LIMITED_MUTATIONS = {
  names: new Set(['requestApproval', 'approveRequest', 'rejectRequest', 'cancelApprovalRequest', 'createRecord', 'updateRecord']),
  prefixes: ['approve', 'reject', 'decide', 'bulkDecide', 'claim'],
}

export const isRateLimitedMutation = (field: string) =>
  RATE_LIMITED_MUTATIONS.names.has(field) || RATE_LIMITED_MUTATIONS.prefixes.some((p) => field.startsWith(p))

/**
 * How many rate-limited root mutation fields an operation selects: one point each, aliases
 * included, and through fragments too (`mutation { ...on Mutation { requestApproval } }`); a
 * field that acts on a list of `ids` (decideRequests) counts one point per id.
 */
export function rateLimitedFieldCount(document: DocumentNode, operationName?: string | null, variables: Record<string, unknown> = {}): number {
  const operation = getOperationAST(document, operationName)
  if (operation?.operation !== 'mutation') return 0
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d)
  const seen = new Set<string>()
  const pointsOf = (field: FieldNode) => {
    const ids = field.arguments?.find((a) => a.name.value === 'ids')?.value
    if (ids?.kind === Kind.LIST) return Math.max(1, ids.values.length)
    const given = ids?.kind === Kind.VARIABLE ? variables[ids.name.value] : undefined
    return Array.isArray(given) ? Math.max(1, given.length) : 1
  }
  const count = (selectionSet: SelectionSetNode): number => {
    let n = 0
    for (const s of selectionSet.selections) {
      if (s.kind === Kind.FIELD) n += isRateLimitedMutation(s.name.value) ? pointsOf(s) : 0
      else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet)
      else {
        const fragment = fragments.get(s.name.value)
        // a fragment spread twice selects its fields once (fields merge); cycles are invalid anyway
        if (fragment && !seen.has(s.name.value)) {
          seen.add(s.name.value)
          n += count(fragment.selectionSet)
        }
      }
    }
    return n
  }
  return count(operation.selectionSet)
}

export interface RateLimitOptions {
  /** Calls per principal per minute; 0 turns the limit off. */
  perMinute: number
  /** Counts in this Redis, shared by every instance; in this process's memory when not given. */
  redis?: Redis
}

/** Redis keys: `approvals:rate:<principal id>`. */
const KEY_PREFIX = 'approvals:rate'
const WARN_EVERY_MS = 60_000

/**
 * Holds each principal to `perMinute` calls a minute of the mutations that create or decide
 * requests, over HTTP and WebSocket alike (both run through envelop's execute). It runs before
 * execution, once the viewer is known: a refused operation runs no resolver and stores nothing,
 * and answers RATE_LIMITED (HTTP 429 with Retry-After).
 *
 * With Redis, the count is shared by all instances; while Redis is unreachable each instance
 * counts in its own memory instead (logged), so that an outage of Redis never refuses calls.
 */
export function useMutationRateLimit(options: RateLimitOptions & { log: Logger }): Plugin<Context> {
  const { perMinute, redis, log } = options
  if (perMinute <= 0) return {}
  const limiter = createLimiter(perMinute, redis, log)
  return {
    onExecute: async ({ args, setResultAndStopExecution }) => {
      const viewer = args.contextValue.viewer
      // anonymous calls to these mutations are refused by their permissions anyway
      if (!viewer) return
      const points = rateLimitedFieldCount(args.document, args.operationName, args.variableValues ?? {})
      if (points === 0) return
      try {
        await limiter.consume(viewer.id, points)
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) {
          // neither Redis nor the fallback answered: let the call through rather than refuse everyone
          args.contextValue.log.warn({ err: refusal }, 'rate limiter failed; call allowed')
          return
        }
        const retryAfter = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000))
        args.contextValue.log.info({ principalId: viewer.id, retryAfter }, 'rate limited')
        setResultAndStopExecution({
          errors: [rateLimited(`Rate limit reached: at most ${perMinute} requests and decisions a minute per principal. Retry in ${retryAfter} s.`, retryAfter)],
        })
      }
    },
  }
}

function createLimiter(perMinute: number, redis: Redis | undefined, log: Logger): RateLimiterAbstract {
  const memory = { points: perMinute, duration: 60, keyPrefix: KEY_PREFIX }
  if (!redis) return new RateLimiterMemory(memory)
  let lastWarning = -Infinity
  class LoggedFallback extends RateLimiterMemory {
    override consume(...args: Parameters<RateLimiterMemory['consume']>) {
      if (performance.now() - lastWarning > WARN_EVERY_MS) {
        lastWarning = performance.now()
        log.warn('Redis unreachable: rate limits are counted per instance until it is back')
      }
      return super.consume(...args)
    }
  }
  return new RateLimiterRedis({
    storeClient: redis,
    ...memory,
    // while Redis is down, go straight to the fallback instead of waiting on a dead connection
    rejectIfRedisNotReady: true,
    insuranceLimiter: new LoggedFallback(memory),
  })
}
