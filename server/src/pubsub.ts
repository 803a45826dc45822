import { createRedisEventTarget } from '@graphql-yoga/redis-event-target'
import { createPubSub } from 'graphql-yoga'
import type { Redis } from 'ioredis'

export type InboxEventType = 'ADDED' | 'UPDATED' | 'REMOVED'

/**
 * The events, scoped by id. Payloads carry ids only: subscribers reload the request and check
 * that the viewer may still see it before sending anything.
 */
export type PubSubEvents = {
  /**
   * A request (by database id) changed: one event per change, unscoped. Each instance's inbox hub
   * (approvals/inbox-hub.ts) loads the request once and tells its inbox subscribers what they may
   * see. `principals`: the users and agents (database ids) who review or reviewed it, when there
   * are not too many to name; an instance with none of them subscribed skips the change.
   */
  requestChanged: [payload: { requestId: string; principals?: string[] }]
  /** A request (by database id) reached a final status. */
  decision: [requestId: string, payload: { requestId: string }]
  /** An approved action of a requester (user or agent, by database id) is ready to run. */
  executionReady: [requesterKey: string, payload: { requestId: string }]
  /**
   * A token was revoked (tokenId) or a principal lost access (principalId: an agent disabled);
   * every instance closes the WebSockets opened with it. Unscoped: each instance has one listener.
   */
  accessRevoked: [payload: { tokenId?: string; principalId?: string }]
  /**
   * What a principal may do changed (a user's roles, an agent's owner or the people it acts for,
   * an agent enabled again): every instance drops the principals it has cached. Unscoped.
   */
  principalChanged: [payload: { principalId: string }]
  /** A rule was created, changed or deleted: every instance drops the rules it has cached. Unscoped. */
  rulesChanged: [payload: { ruleId: string }]
  /** A custom action type was created, changed or deleted: every instance drops the ones it has cached. Unscoped. */
  actionTypesChanged: [payload: { key: string }]
  /** A module's record visibility was set: every instance drops the PRIVATE modules it has cached. Unscoped. */
  moduleSettingsChanged: [payload: { module: string }]
}

/** The app's pub/sub: yoga's, plus what the subscriptions need to know about the transport. */
export type PubSub = ReturnType<typeof createPubSub<PubSubEvents>> & {
  /**
   * Resolves once this instance receives the events of `channel` (e.g. `decision:<id>`): at once
   * in-process; through Redis, once Redis acknowledged the SUBSCRIBE (or after `timeoutMs`).
   */
  listening(channel: string, timeoutMs?: number): Promise<void>
  /** Calls `listener` each time Redis is reachable again after an outage, during which events were lost. */
  onReconnect(listener: () => void): () => void
  /** Whether events reach this instance now: always in-process; through Redis, while the subscribing client is ready. */
  connected(): boolean
}

/**
 * In-process pub/sub for a single instance; through Redis (one client publishing, one
 * subscribed) when several instances must see each other's events.
 *
 * The Redis event target fires PUBLISH without awaiting it; a failed publish (Redis down) is
 * logged here instead of surfacing as an unhandled rejection. Nothing is lost by it: state lives
 * in the database, and waiting subscribers re-read it; inbox subscribers catch up when Redis is
 * back (onReconnect).
 */
export function createAppPubSub(redis?: { publish: Redis; subscribe: Redis; onPublishError: (err: unknown) => void }): PubSub {
  if (!redis) {
    return Object.assign(createPubSub<PubSubEvents>(), { listening: async () => {}, onReconnect: () => () => {}, connected: () => true })
  }
  const publishClient = {
    publish: (channel: string, message: string) => redis.publish.publish(channel, message).catch(redis.onPublishError),
  } as unknown as Redis
  // the event target subscribes without awaiting; keep each channel's acknowledgement
  const acknowledged = new Map<string, Promise<unknown>>()
  const subscribeClient = Object.create(redis.subscribe, {
    subscribe: {
      value: (channel: string) => {
        const ack = redis.subscribe.subscribe(channel).catch(() => {})
        acknowledged.set(channel, ack)
        return ack
      },
    },
    unsubscribe: {
      value: (channel: string) => {
        acknowledged.delete(channel)
        return redis.subscribe.unsubscribe(channel).catch(() => {})
      },
    },
  }) as Redis
  const reconnectListeners = new Set<() => void>()
  let lost = false
  redis.subscribe.on('close', () => void (lost = true))
  redis.subscribe.on('ready', () => {
    if (!lost) return
    lost = false
    for (const listener of reconnectListeners) listener()
  })
  const pubsub = createPubSub<PubSubEvents>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) })
  return Object.assign(pubsub, {
    async listening(channel: string, timeoutMs = 2000) {
      const ack = acknowledged.get(channel)
      if (!ack) return
      let timer: NodeJS.Timeout | undefined
      await Promise.race([ack, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
      clearTimeout(timer)
    },
    onReconnect(listener: () => void) {
      reconnectListeners.add(listener)
      return () => void reconnectListeners.delete(listener)
    },
    connected: () => !lost && redis.subscribe.status === 'ready',
  })
}
