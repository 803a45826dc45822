// reviewer(): an AI reviewer. Decides, through `decide`, the requests its rules hand to it (the
// AGENT resolver): those pending when it starts, then each as the inbox subscription adds it.
import { ApprovalsError } from './errors.js'
import {
  APPROVAL_INBOX_QUERY,
  APPROVAL_INBOX_SUBSCRIPTION,
  APPROVE_REQUEST,
  ESCALATE_REQUEST,
  REJECT_REQUEST,
} from './operations.js'
import { backoffMs, isTransient, type Transport } from './transport.js'

/** A request for the reviewer to decide: the whole action as it will run. */
export interface ReviewRequest {
  id: string
  status: string
  resourceType: 'AGENT_ACTION' | 'RECORD_MUTATION'
  actionType: string
  module: string | null
  recordId: string | null
  params: any
  /**
   * Set while pending when a reviewer of an earlier stage approved an edited version: that
   * version is what this stage reviews and what runs (`edited` is then true).
   */
  approvedParams: any
  edited: boolean
  /** The stage being decided (from 1), of `stageCount`; an approval is one of `requiredApprovals` this stage needs. */
  stage: number
  stageCount: number
  requiredApprovals: number
  summary: string | null
  context: unknown
  createdAt: string
  expiresAt: string | null
  escalated: boolean
  requester: { __typename: 'User' | 'Agent'; id: string; name: string }
  onBehalfOf: { id: string; name: string } | null
  rule: { id: string; name: string; description: string | null } | null
}

/** What `decide` returns: approve or reject (with an optional comment), or hand it on (escalate, with a reason). */
export type ReviewDecision =
  | { decision: 'approve'; comment?: string }
  | { decision: 'reject'; comment?: string }
  | { decision: 'escalate'; reason?: string }

/** Options of {@link Approvals.reviewer}. */
export interface ReviewerOptions {
  /** Only these action types; others are left alone (to the fallback, or a human). Default: all. */
  actionTypes?: string[]
  /** Decides one request. If it throws, the request is left pending (to a person, or its escalation deadline) and the error goes to onError. */
  decide: (request: ReviewRequest) => ReviewDecision | Promise<ReviewDecision>
  /** Errors that do not stop the reviewer; a fatal one (a refused token) also stops it. */
  onError?: (error: unknown, context: { requestId?: string }) => void
  /** Called after a decision was applied (not when someone else decided first). */
  onDecided?: (request: ReviewRequest, decision: ReviewDecision) => void
}

/** A running reviewer. */
export interface Reviewer {
  /** Stops taking requests, waits for the decisions in progress, then resolves. */
  stop(): Promise<void>
  /** Resolves once the reviewer has stopped. Never rejects. */
  done: Promise<void>
}

/** @internal */
export function startReviewer(transport: Transport, options: ReviewerOptions): Reviewer {
  let stopping = false
  const handled = new Set<string>() // requests decide() was asked about
  const tasks = new Set<Promise<void>>()
  let unsubscribe = () => {}
  let retries = 0
  let retryTimer: NodeJS.Timeout | undefined
  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => (resolveDone = resolve))

  const report = (error: unknown, context: { requestId?: string } = {}) => {
    try {
      options.onError?.(error, context)
    } catch {
      // an onError that throws must not take the reviewer down
    }
  }
  const track = (task: Promise<void>) => {
    const safe = task.catch((error) => report(error))
    tasks.add(safe)
    void safe.finally(() => tasks.delete(safe))
  }

  async function review(request: ReviewRequest) {
    const requestId = request.id
    const decision = await options.decide(request)
    try {
      if (decision.decision === 'approve') await transport.request(APPROVE_REQUEST, { id: requestId, comment: decision.comment ?? null })
      else if (decision.decision === 'reject') await transport.request(REJECT_REQUEST, { id: requestId, comment: decision.comment ?? null })
      else if (decision.decision === 'escalate') {
        const reason = decision.reason?.trim() || 'Escalated by the reviewer agent.'
        await transport.request(ESCALATE_REQUEST, { id: requestId, reason })
      } else throw new ApprovalsError(`decide() returned an unknown decision: ${JSON.stringify(decision)}`, { code: 'BAD_USER_INPUT', requestId })
    } catch (error) {
      // decided meanwhile (by a person, a deadline, a cancellation): nothing to do
      if (error instanceof ApprovalsError && error.code === 'CONFLICT') return
      throw error
    }
    options.onDecided?.(request, decision)
  }

  function consider(request: ReviewRequest) {
    if (stopping || handled.has(request.id) || request.status !== 'PENDING') return
    if (options.actionTypes && !options.actionTypes.includes(request.actionType)) return
    handled.add(request.id)
    track(review(request).catch((error) => report(error, { requestId: request.id })))
  }

  /** The requests pending for this reviewer now (those added while it was away). */
  function catchUp() {
    track(
      (async () => {
        let after: string | null = null
        for (let page = 0; page < 100 && !stopping; page++) {
          type Page = { approvalInbox: { edges: { node: ReviewRequest }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }
          const data: Page = await transport.request<Page>(APPROVAL_INBOX_QUERY, { after })
          for (const edge of data.approvalInbox.edges) consider(edge.node)
          if (!data.approvalInbox.pageInfo.hasNextPage) return
          after = data.approvalInbox.pageInfo.endCursor
        }
      })(),
    )
  }

  function subscribe() {
    if (stopping) return
    unsubscribe = transport.subscribe<{ approvalInbox: { type: 'ADDED' | 'UPDATED' | 'REMOVED'; request: ReviewRequest } }>(
      APPROVAL_INBOX_SUBSCRIPTION,
      {},
      {
        next: ({ approvalInbox }) => {
          retries = 0
          if (approvalInbox.type === 'ADDED') consider(approvalInbox.request)
        },
        error: (error) => {
          if (stopping) return
          if (isTransient(error)) {
            report(error)
            retryTimer = setTimeout(subscribe, backoffMs(retries++))
            return
          }
          if (error.code !== 'CLOSED') report(error)
          void stop()
        },
        complete: () => {
          if (!stopping) retryTimer = setTimeout(subscribe, backoffMs(retries++))
        },
      },
    )
  }

  const offConnected = transport.onConnected(() => catchUp())
  const onClosed = () => void stop()
  transport.closed.addEventListener('abort', onClosed, { once: true })

  let stopped: Promise<void> | undefined
  function stop(): Promise<void> {
    stopped ??= (async () => {
      stopping = true
      clearTimeout(retryTimer)
      unsubscribe()
      offConnected()
      transport.closed.removeEventListener('abort', onClosed)
      while (tasks.size) await Promise.all([...tasks])
      resolveDone()
    })()
    return stopped
  }

  subscribe()
  catchUp()
  return { stop, done }
}
