// Tells subscribers what changed, after the change has committed: one `requestChanged` event per
// change for the inboxes (each instance's inbox hub decides who is told what, see inbox-hub.ts),
// and the final state to whoever waits for the decision.
import type { PrismaClient } from '../db.js'
import type { ApprovalStatus } from '../generated/prisma/client.js'
import type { Logger } from '../logger.js'
import type { PubSub } from '../pubsub.js'

/** What subscribers are told of a committed change of a request. */
export interface RequestChange {
  requestId: string
  status: ApprovalStatus
  requesterKey: string
  /** Approved and waiting, READY, for its requester's workers. */
  executionReady: boolean
  /** Its reviewers, past and present (user or agent ids), at most MAX_NAMED_PRINCIPALS + 1 of them. */
  principals: string[]
}

export interface Notifier {
  /** Publishes the consequences of the request's current state, read afresh; call after each committed change. */
  changed(requestId: string): Promise<void>
  /** The same, from what the change wrote (no read): for the hot paths that know it. */
  publish(change: RequestChange): void
  /** Tells the requester's workers that an approved action is ready to run again (its lease ran out). */
  readyToRun(requestId: string): Promise<void>
}

/** The most reviewers a `requestChanged` event names (see PubSubEvents); it names none past that. */
export const MAX_NAMED_PRINCIPALS = 100

export function createNotifier(prisma: PrismaClient, pubsub: PubSub, log: Logger): Notifier {
  const publish = (change: RequestChange) => {
    const { requestId, principals } = change
    // one event, whoever it concerns: each instance's inbox hub works out who is told what.
    // Only reviewers, past and present, are told anything; naming them lets an instance none
    // of whose subscribers is among them skip the load (past a bound, the event names nobody
    // and every instance with inbox subscribers loads the request)
    if (principals.length > MAX_NAMED_PRINCIPALS) pubsub.publish('requestChanged', { requestId })
    else if (principals.length > 0) pubsub.publish('requestChanged', { requestId, principals: [...new Set(principals)] })
    if (change.status !== 'PENDING') {
      pubsub.publish('decision', requestId, { requestId })
      // approved and waiting to run: the requester's workers take it
      if (change.executionReady) pubsub.publish('executionReady', change.requesterKey, { requestId })
    }
  }
  return {
    publish,
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
        publish({
          requestId,
          status: request.status,
          requesterKey: request.requesterKey,
          executionReady: request.execution?.status === 'READY',
          principals: request.reviewers.map((r) => (r.userId ?? r.agentId)!),
        })
      } catch (err) {
        // the change itself is committed; subscribers catch up by re-reading the state
        log.warn({ err, requestId }, 'could not publish a request change')
      }
    },
  }
}
