// The event streams behind the two subscriptions. Both read the database before trusting an
// event: events carry ids, and what a viewer may see is decided at the moment of sending.
import type { Context } from '../context.js'
import { notFound, unauthenticated } from '../errors.js'
import type { InboxEventType } from '../pubsub.js'
import { visibleTo } from './requests.js'

/** Resolves after `ms`, or at once when `signal` aborts; leaves no timer or listener behind. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * A checker that says whether the viewer's token still stands (not revoked, agent not
 * disabled), querying at most once per catch-up interval.
 */
function tokenCheck(ctx: Context): () => Promise<boolean> {
  let checkedAt = Date.now()
  return async () => {
    if (Date.now() - checkedAt < ctx.catchUpIntervalMs) return true
    checkedAt = Date.now()
    const token = await ctx.prisma.apiToken.findUnique({
      where: { id: ctx.viewer!.tokenId },
      select: { revokedAt: true, agent: { select: { enabled: true } } },
    })
    return !!token && !token.revokedAt && token.agent?.enabled !== false
  }
}

/**
 * Yields the request id once the request is final, then ends. It starts listening before it
 * reads the state, so a decision made between requestApproval returning and the subscription
 * starting is not missed; and it re-reads the state every `catchUpIntervalMs` while it waits,
 * so a decision whose event was lost (a Redis outage) still arrives.
 */
export async function* decisionStream(ctx: Context, requestId: string): AsyncGenerator<{ requestId: string }> {
  const viewer = ctx.viewer
  if (!viewer) throw unauthenticated()
  const stillAuthorized = tokenCheck(ctx)
  const events = ctx.pubsub.subscribe('decision', requestId)[Symbol.asyncIterator]()
  const stop = new AbortController()
  // the first next() is what registers the listener; one handler per awaited event, however
  // many catch-up rounds pass while it is awaited
  let event = events.next().then(() => true)
  try {
    for (;;) {
      if (!(await stillAuthorized())) return
      const request = await ctx.prisma.approvalRequest.findFirst({ where: { AND: [{ id: requestId }, visibleTo(viewer)] }, select: { status: true } })
      if (!request) throw notFound('Approval request')
      if (request.status !== 'PENDING') {
        yield { requestId }
        return
      }
      const arrived = await Promise.race([event, pause(ctx.catchUpIntervalMs, stop.signal).then(() => false)])
      if (arrived) event = events.next().then(() => true)
    }
  } finally {
    stop.abort()
    await events.return?.()
  }
}

/** The viewer's inbox changes, each checked against what the viewer may see when it is sent. */
export async function* inboxStream(ctx: Context): AsyncGenerator<{ requestId: string; type: InboxEventType }> {
  const viewer = ctx.viewer
  if (!viewer) throw unauthenticated()
  const stillAuthorized = tokenCheck(ctx)
  for await (const event of ctx.pubsub.subscribe('inbox', viewer.id)) {
    if (!(await stillAuthorized())) return
    const visible = await ctx.prisma.approvalRequest.count({ where: { AND: [{ id: event.requestId }, visibleTo(viewer)] } })
    if (visible) yield event
  }
}
