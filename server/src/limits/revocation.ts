import type { PrismaClient } from '../db.js'
import type { Logger } from '../logger.js'
import { startPeriodicTask } from '../periodic.js'
import type { PubSub } from '../pubsub.js'
import type { ConnectionRegistry } from './connections.js'

export interface AccessWatch {
  /** One sweep now; resolves when it is done. */
  sweep(): Promise<void>
  /** Stops listening and sweeping; resolves once a running sweep is done. */
  stop(): Promise<void>
}

/**
 * Closes the WebSockets of revoked tokens and disabled agents on this instance: at once when an
 * `accessRevoked` event arrives (through Redis from any instance), and every `sweepIntervalMs`
 * (0: never) by asking the database, in one query, which of the open connections' tokens no
 * longer authenticate: the safety net for events lost while Redis was down.
 */
export function watchAccess(options: {
  pubsub: PubSub
  prisma: PrismaClient
  registry: ConnectionRegistry
  sweepIntervalMs: number
  log: Logger
  /** Called when a sweep finds access revoked that no event announced (the caches drop what they hold). */
  onMissedRevocation?: () => void
}): AccessWatch {
  const { pubsub, prisma, registry, log } = options

  const events = pubsub.subscribe('accessRevoked')
  const listening = (async () => {
    for await (const event of events) {
      // from Redis: trust only the shape we expect
      const tokenId = typeof event?.tokenId === 'string' ? event.tokenId : undefined
      const principalId = typeof event?.principalId === 'string' ? event.principalId : undefined
      if (!tokenId && !principalId) continue
      const closed = registry.revoke({ tokenId, principalId })
      if (closed > 0) log.info({ tokenId, principalId, closed }, 'closed the connections of revoked access')
    }
  })().catch((err) => log.error({ err }, 'accessRevoked listener failed'))

  /** One sweep; a failure is logged here (a warning: the next sweep tries again), never thrown. */
  async function sweepOnce(): Promise<void> {
    try {
      const tokenIds = registry.tokenIds()
      if (tokenIds.length === 0) return
      // the same conditions as readViewer (auth/viewer.ts): unknown, revoked, or neither a user's nor an enabled agent's
      const rows = await prisma.apiToken.findMany({
        where: { id: { in: tokenIds } },
        select: { id: true, revokedAt: true, userId: true, agent: { select: { id: true, enabled: true } } },
      })
      const found = new Map(rows.map((r) => [r.id, r]))
      for (const tokenId of tokenIds) {
        const row = found.get(tokenId)
        if (!row || row.revokedAt || (!row.userId && !row.agent)) registry.revoke({ tokenId })
        else if (!row.userId && row.agent && !row.agent.enabled) registry.revoke({ principalId: row.agent.id })
        else continue
        options.onMissedRevocation?.()
        log.info({ tokenId }, 'closed the connections of a token that no longer authenticates')
      }
    } catch (err) {
      log.warn({ err }, 'access sweep failed; retrying at the next interval')
    }
  }
  // one sweep at a time; sweep() shares the one under way
  const sweeping = startPeriodicTask({ name: 'access sweep', log, intervalMs: options.sweepIntervalMs, runAtStart: false, pass: sweepOnce })

  return {
    sweep: sweeping.joinOrRun,
    async stop() {
      await sweeping.stop()
      await events.return()
      await listening
    },
  }
}
