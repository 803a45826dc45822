// Tells subscribers what changed, after the change has committed: inbox events to the reviewers
// a request concerns, and the final state to whoever waits for the decision.
import type { PrismaClient } from '../db.js'
import type { Logger } from '../logger.js'
import type { PubSub } from '../pubsub.js'

export interface Notifier {
  /** Publishes the consequences of the request's current state; call after each committed change. */
  changed(requestId: string): Promise<void>
  /** Tells the requester's workers that an approved action is ready to run again (its lease ran out). */
  readyToRun(requestId: string): Promise<void>
}

export function createNotifier(prisma: PrismaClient, pubsub: PubSub, log: Logger): Notifier {
  return {
    async readyToRun(requestId) {
      try {
        const execution = await prisma.execution.findUnique({ where: { requestId }, select: { requesterKey: true, status: true } })
        if (execution?.status === 'READY') pubsub.publish('executionReady', execution.requesterKey, { requestId })
      } catch (err) {
        log.warn({ err, requestId }, 'could not publish a requeued action')
      }
    },
    async changed(requestId) {
      try {
        const request = await prisma.approvalRequest.findUnique({
          where: { id: requestId },
          select: {
            status: true,
            requesterKey: true,
            execution: { select: { status: true } },
            reviewers: { select: { userId: true, agentId: true, active: true } },
          },
        })
        if (!request) return
        const principal = (r: { userId: string | null; agentId: string | null }) => (r.userId ?? r.agentId)!
        const active = new Set(request.reviewers.filter((r) => r.active).map(principal))
        const replaced = new Set(request.reviewers.filter((r) => !r.active).map(principal))
        if (request.status === 'PENDING') {
          for (const id of active) pubsub.publish('inbox', id, { requestId, type: replaced.has(id) ? 'UPDATED' : 'ADDED' })
          for (const id of replaced) if (!active.has(id)) pubsub.publish('inbox', id, { requestId, type: 'REMOVED' })
        } else {
          for (const id of active) pubsub.publish('inbox', id, { requestId, type: 'REMOVED' })
          pubsub.publish('decision', requestId, { requestId })
          // approved and waiting to run: the requester's workers take it
          if (request.execution?.status === 'READY') pubsub.publish('executionReady', request.requesterKey, { requestId })
        }
      } catch (err) {
        // the change itself is committed; subscribers catch up by re-reading the state
        log.warn({ err, requestId }, 'could not publish a request change')
      }
    },
  }
}
