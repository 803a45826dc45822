// The enabled rules of each action, kept in memory: every request matches against them, and they
// change rarely. A rule change is announced (rulesChanged) and every instance drops them all;
// while announcements cannot arrive they serve for 1 s at most (cache/announced.ts). A request
// relies on a cached match only after checking the rule set's version under a lock
// (requests.ts findMatchingRule), so a stale entry can cost a re-read, never a wrong match.
import { createAnnouncedCache } from '../cache/announced.js'
import type { Clock } from '../clock.js'
import type { ResourceType } from '../generated/prisma/client.js'
import type { Logger } from '../logger.js'
import type { PubSub } from '../pubsub.js'
import type { ActionRules } from './rules.js'

export interface RuleCache {
  /** The enabled rules of an action, from memory, or from `read` (stored for the next request). */
  rulesFor(resourceType: ResourceType, actionType: string, read: () => Promise<ActionRules>): Promise<ActionRules>
  /** The enabled rules of an action if they are in memory. */
  peek(resourceType: ResourceType, actionType: string): ActionRules | undefined
  /** Drops every entry (a stale one was found). */
  invalidate(): void
  /** Stops listening. */
  stop(): void
}

export function createRuleCache(options: { pubsub: PubSub; clock: Clock; log: Logger; ttlMs?: number }): RuleCache {
  const cache = createAnnouncedCache<ActionRules>({ ...options, topics: ['rulesChanged'], ttlMs: options.ttlMs ?? 5 * 60_000, maxEntries: 1000 })
  return {
    rulesFor: async (resourceType, actionType, read) => (await cache.get(`${resourceType}:${actionType}`, read))!,
    peek: (resourceType, actionType) => cache.peek(`${resourceType}:${actionType}`),
    invalidate: cache.invalidate,
    stop: cache.stop,
  }
}
