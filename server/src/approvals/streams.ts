// The event streams behind the subscriptions. Events carry ids, and what a viewer may see is
// decided from the database after the event: by each stream for decisions and approved actions,
// by the instance's inbox hub (one load per change for all its inbox subscribers) for inboxes.
//
// Each stream is a Repeater (graphql-yoga's), not an async generator: a generator parked on an
// `await` does not see return() until it yields, so the work of a subscription whose client has
// left (complete, socket close, socket drop) would go on until the next event, or forever. A
// Repeater's `stop` settles the moment its consumer returns, and every wait below races it.
import { Repeater } from 'graphql-yoga'
import type { Context } from '../context.js'
import { notFound } from '../errors.js'
import { readyActions, type ExecutionSettings } from './executions.js'
import type { InboxEvent, RequestQuery } from './inbox-hub.js'
import { decidableBy, visibleTo } from './requests.js'

/** A promise with its resolve function (Promise.withResolvers is Node 22). */
function signal<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/**
 * What a long-lived stream waits on between reads: its next pubsub event, a catch-up timer, a
 * poke (Redis back after an outage), or the client leaving. Each wait makes one promise and one
 * timer and leaves neither behind, so a stream that lives for days (a worker's) holds no more
 * than one that lives for seconds; racing `stop` on every wait would add a reaction to it each
 * time.
 */
function waker(events: AsyncIterator<unknown>, stop: Promise<unknown>) {
  let wake = signal<void>()
  let stopped = false
  let eventArrived = false
  let listening = false
  void stop.then(() => {
    stopped = true
    wake.resolve()
  })
  const listen = () => {
    if (listening || stopped) return
    listening = true
    events.next().then(
      (result) => {
        listening = false
        // an iterator that ended sends nothing more: the catch-up timer alone wakes the stream
        if (result.done) return
        eventArrived = true
        wake.resolve()
      },
      () => {
        listening = false
        wake.resolve()
      },
    )
  }
  return {
    /** Listens for the next event; the first call is what registers the subscription's listener. */
    listen,
    /** Wakes the current (or next) wait. */
    poke: () => wake.resolve(),
    /** Resolves when something happened, or after `ms`: 'stopped', 'event' (listening again), or 'other'. */
    async wait(ms: number): Promise<'stopped' | 'event' | 'other'> {
      if (!stopped && !eventArrived) {
        const timer = setTimeout(() => wake.resolve(), ms)
        await wake.promise
        clearTimeout(timer)
      }
      wake = signal<void>()
      if (stopped) return 'stopped'
      if (!eventArrived) return 'other'
      eventArrived = false
      listen()
      return 'event'
    },
  }
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
    const wakes = waker(events, stop)
    try {
      wakes.listen()
      await ctx.pubsub.listening(`decision:${requestId}`)
      ctx.onSubscribed?.('approvalDecision')
      for (;;) {
        const request = await ctx.prisma.approvalRequest.findFirst({ where: { AND: [{ id: requestId }, visibleTo(viewer)] }, select: { status: true } })
        if (!request) throw notFound('Approval request')
        if (request.status !== 'PENDING') {
          await push({ requestId })
          return stop()
        }
        if ((await wakes.wait(ctx.catchUpIntervalMs)) === 'stopped') return
      }
    } finally {
      await events.return?.()
    }
  })
}

/**
 * The viewer's inbox changes, as the instance's inbox hub decides them (approvals/inbox-hub.ts):
 * the hub loads each changed request once and tells every subscriber concerned, so a change costs
 * the same statements for one subscriber as for a thousand. `selection` is what the subscriber
 * selects of the request (the hub loads the most common selection along with its facts).
 * When Redis comes back after an outage (events were lost meanwhile), it compares the requests
 * the viewer may decide now with those it has told the client about, and sends the difference.
 */
export function inboxStream(ctx: Context, selection: RequestQuery | null): AsyncIterable<InboxEvent> {
  const viewer = ctx.viewer!
  return new Repeater<InboxEvent>(async (push, stop) => {
    // one wake-up for whatever comes first (an event, Redis back, the client gone), renewed after
    // each wait: a Promise.race against `stop` per event would leave one more reaction on it for
    // every event of the subscription's life
    let wake = signal<void>()
    let stopped = false
    let resyncDue = false
    // the hub's events wait here while the stream sends earlier ones (or reads the inbox first)
    const queue: InboxEvent[] = []
    void stop.then(() => {
      stopped = true
      wake.resolve()
    })
    const membership = ctx.inbox.join(viewer, selection, (event) => {
      queue.push(event)
      wake.resolve()
    })
    const stopListening = ctx.pubsub.onReconnect(() => {
      resyncDue = true
      wake.resolve()
    })
    const decidableNow = async () =>
      new Set(
        (await ctx.prisma.approvalRequest.findMany({ where: decidableBy(viewer, ctx.clock.now()), select: { id: true }, take: 10_000 })).map((r) => r.id),
      )
    try {
      await Promise.race([membership.ready, stop])
      if (stopped) return
      // what the client is told about from here on: the requests it may decide
      const known = await decidableNow()
      ctx.onSubscribed?.('approvalInbox')
      while (!stopped) {
        if (resyncDue) {
          resyncDue = false
          const now = await decidableNow()
          for (const id of now) if (!known.has(id)) await push({ requestId: id, type: 'ADDED' })
          for (const id of known) if (!now.has(id)) await push({ requestId: id, type: 'REMOVED' })
          known.clear()
          for (const id of now) known.add(id)
        } else if (queue.length > 0) {
          const change = queue.shift()!
          if (change.type === 'REMOVED') known.delete(change.requestId)
          else known.add(change.requestId)
          // settles once the client takes it, or at once when it is gone
          await push(change)
        } else {
          await wake.promise
          wake = signal<void>()
        }
      }
    } finally {
      stopListening()
      membership.leave()
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
    const wakes = waker(events, stop)
    const stopListening = ctx.pubsub.onReconnect(wakes.poke)
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
      wakes.listen()
      await ctx.pubsub.listening(`executionReady:${viewer.id}`)
      await sendReady()
      ctx.onSubscribed?.('approvedActions')
      // an event, the catch-up timer or Redis back: read what is ready again
      while ((await wakes.wait(ctx.catchUpIntervalMs)) !== 'stopped') await sendReady()
    } finally {
      stopListening()
      await events.return?.()
    }
  })
}
