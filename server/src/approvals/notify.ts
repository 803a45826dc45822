// Tells subscribers what changed, after the change has committed: one `requestChanged` event per
// change for the inboxes (each instance's inbox hub decides who is told what, see inbox-hub.ts),
// and the final state to whoever waits for the decision.
import type { PrismaClient } from '../db.js'
import type { Logger } from '../logger.js'
import type { PubSub } from '../pubsub.js'

export interface Notifier {
  /** Publishes the consequences of the request's current state; call after each committed change. */
  changed(requestId: string): Promise<void>
  /** Tells the requester's workers that an approved action is ready to run again (its lease ran out). */
  readyToRun(requestId: string): Promise<void>
}

/** The most reviewers a `requestChanged` event names (see PubSubEvents); it names none past that. */
export const MAX_NAMED_PRINCIPALS = 100

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
            // one past the bound: enough to know whether to name them
            reviewers: { select: { userId: true, agentId: true }, take: MAX_NAMED_PRINCIPALS + 1 },
          },
        })
        if (!request) return
        // one event, whoever it concerns: each instance's inbox hub works out who is told what.
        // Only reviewers, past and present, are told anything; naming them lets an instance none
        // of whose subscribers is among them skip the load (past a bound, the event names nobody
        // and every instance with inbox subscribers loads the request)
        const { reviewers } = request
        if (reviewers.length > MAX_NAMED_PRINCIPALS) pubsub.publish('requestChanged', { requestId })
        else if (reviewers.length > 0) pubsub.publish('requestChanged', { requestId, principals: [...new Set(reviewers.map((r) => (r.userId ?? r.agentId)!))] })
        if (request.status !== 'PENDING') {
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
