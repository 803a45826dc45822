// The event streams behind the two subscriptions. Both read the database before trusting an
// event: events carry ids, and what a viewer may see is decided at the moment of sending.
//
// Each stream is a Repeater (graphql-yoga's), not an async generator: a generator parked on an
// `await` does not see return() until it yields, so the work of a subscription whose client has
// left (complete, socket close, socket drop) would go on until the next event, or forever. A
// Repeater's `stop` settles the moment its consumer returns, and every wait below races it.
import { Repeater } from 'graphql-yoga'
import type { Context } from '../context.js'
import { notFound } from '../errors.js'
import type { InboxEventType } from '../pubsub.js'
import { readyActions, type ExecutionSettings } from './executions.js'
import { decidableBy, visibleTo } from './requests.js'

/** A promise with its resolve function (Promise.withResolvers is Node 22). */
function signal<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Resolves after `ms`, or as soon as `stopped` settles; leaves no timer behind. */
function pause(ms: number, stopped: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), stopped.then(() => {})]).finally(() =>
    clearTimeout(timer),
  )
}

/**
 * Yields the request id once the request is final, then ends. It starts listening before it
 * reads the state, so a decision made between requestApproval returning and the subscription
 * starting is not missed; and it re-reads the state every `catchUpIntervalMs` while it waits,
 * so a decision whose event was lost (a Redis outage) still arrives.
 */
export function decisionStream(ctx: Context, requestId: string): AsyncIterable<{ requestId: string }> {
  const viewer = ctx.viewer!
  return new Repeater<{ requestId: string }>(async (push, stop) => {
    const events = ctx.pubsub.subscribe('decision', requestId)[Symbol.asyncIterator]()
    const stopped = stop.then(() => 'stopped' as const)
    try {
      // the first next() is what registers the listener
      let event = events.next().then(() => 'event' as const)
      await ctx.pubsub.listening(`decision:${requestId}`)
      ctx.onSubscribed?.('approvalDecision')
      for (;;) {
        const request = await ctx.prisma.approvalRequest.findFirst({ where: { AND: [{ id: requestId }, visibleTo(viewer)] }, select: { status: true } })
        if (!request) throw notFound('Approval request')
        if (request.status !== 'PENDING') {
          await push({ requestId })
          return stop()
        }
        const woke = await Promise.race([event, stopped, pause(ctx.catchUpIntervalMs, stopped).then(() => 'timer' as const)])
        if (woke === 'stopped') return
        if (woke === 'event') event = events.next().then(() => 'event' as const)
      }
    } finally {
      await events.return?.()
    }
  })
}

/**
 * The viewer's inbox changes, each checked against what the viewer may see when it is sent.
 * When Redis comes back after an outage (events were lost meanwhile), it compares the requests
 * the viewer may decide now with those it has told the client about, and sends the difference.
 */
export function inboxStream(ctx: Context): AsyncIterable<{ requestId: string; type: InboxEventType }> {
  const viewer = ctx.viewer!
  return new Repeater<{ requestId: string; type: InboxEventType }>(async (push, stop) => {
    const events = ctx.pubsub.subscribe('inbox', viewer.id)[Symbol.asyncIterator]()
    const stopped = stop.then(() => 'stopped' as const)
    let resync = signal<'resync'>()
    const stopListening = ctx.pubsub.onReconnect(() => resync.resolve('resync'))
    const decidableNow = async () =>
      new Set(
        (await ctx.prisma.approvalRequest.findMany({ where: decidableBy(viewer, ctx.clock.now()), select: { id: true }, take: 10_000 })).map((r) => r.id),
      )
    try {
      let event = events.next()
      await ctx.pubsub.listening(`inbox:${viewer.id}`)
      // what the client is told about from here on: the requests it may decide
      const known = await decidableNow()
      ctx.onSubscribed?.('approvalInbox')
      for (;;) {
        const woke = await Promise.race([event, stopped, resync.promise])
        if (woke === 'stopped') return
        if (woke === 'resync') {
          resync = signal<'resync'>()
          const now = await decidableNow()
          for (const id of now) if (!known.has(id)) await push({ requestId: id, type: 'ADDED' })
          for (const id of known) if (!now.has(id)) await push({ requestId: id, type: 'REMOVED' })
          known.clear()
          for (const id of now) known.add(id)
          continue
        }
        event = events.next()
        if (woke.done) return
        const change = woke.value
        const visible = await ctx.prisma.approvalRequest.count({ where: { AND: [{ id: change.requestId }, visibleTo(viewer)] } })
        if (!visible) continue
        if (change.type === 'REMOVED') known.delete(change.requestId)
        else known.add(change.requestId)
        await push(change)
      }
    } finally {
      stopListening()
      await events.return?.()
    }
  })
}

/**
 * The requester's approved actions as they become ready to run: those ready when it starts
 * first, then each as it is approved or its lease runs out. It re-reads what is ready on every
 * event, every `catchUpIntervalMs` and when Redis is back after an outage, so that nothing
 * approved meanwhile is missed; an action is sent once per time it becomes ready (a worker that
 * claims it too late gets CONFLICT, and claims the next).
 */
export function approvedActionsStream(ctx: Context, actionTypes: string[] | null, settings: ExecutionSettings): AsyncIterable<{ requestId: string }> {
  const viewer = ctx.viewer!
  return new Repeater<{ requestId: string }>(async (push, stop) => {
    const events = ctx.pubsub.subscribe('executionReady', viewer.id)[Symbol.asyncIterator]()
    const stopped = stop.then(() => 'stopped' as const)
    let resync = signal<'resync'>()
    const stopListening = ctx.pubsub.onReconnect(() => resync.resolve('resync'))
    // the attempt count each action had when it was sent: sent again only once it is ready anew
    const sent = new Map<string, number>()
    const sendReady = async () => {
      const ready = await readyActions(ctx.prisma, viewer.id, actionTypes, ctx.clock.now(), settings)
      const now = new Set(ready.map((r) => r.requestId))
      for (const id of sent.keys()) if (!now.has(id)) sent.delete(id)
      for (const { requestId, attempts } of ready) {
        if (sent.get(requestId) === attempts) continue
        sent.set(requestId, attempts)
        await push({ requestId })
      }
    }
    try {
      let event = events.next().then(() => 'event' as const)
      await ctx.pubsub.listening(`executionReady:${viewer.id}`)
      await sendReady()
      ctx.onSubscribed?.('approvedActions')
      for (;;) {
        const woke = await Promise.race([event, stopped, resync.promise, pause(ctx.catchUpIntervalMs, stopped).then(() => 'timer' as const)])
        if (woke === 'stopped') return
        if (woke === 'event') event = events.next().then(() => 'event' as const)
        if (woke === 'resync') resync = signal<'resync'>()
        await sendReady()
      }
    } finally {
      stopListening()
      await events.return?.()
    }
  })
}
