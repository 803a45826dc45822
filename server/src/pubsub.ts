import { createRedisEventTarget } from '@graphql-yoga/redis-event-target'
import { createPubSub } from 'graphql-yoga'
import type { Redis } from 'ioredis'

export type InboxEventType = 'ADDED' | 'UPDATED' | 'REMOVED'

/**
 * The events, scoped by id. Payloads carry ids only: subscribers reload the request and check
 * that the viewer may still see it before sending anything.
 */
export type PubSubEvents = {
  /** A change to the inbox of one user or agent (by database id). */
  inbox: [principalId: string, payload: { requestId: string; type: InboxEventType }]
  /** A request (by database id) reached a final status. */
  decision: [requestId: string, payload: { requestId: string }]
}

export type PubSub = ReturnType<typeof createPubSub<PubSubEvents>>

/**
 * In-process pub/sub for a single instance; through Redis (one client publishing, one
 * subscribed) when several instances must see each other's events.
 *
 * The Redis event target fires PUBLISH without awaiting it; a failed publish (Redis down) is
 * logged here instead of surfacing as an unhandled rejection. Nothing is lost by it: state lives
 * in the database, and waiting subscribers re-read it.
 */
export function createAppPubSub(redis?: { publish: Redis; subscribe: Redis; onPublishError: (err: unknown) => void }): PubSub {
  if (!redis) return createPubSub<PubSubEvents>()
  const publishClient = {
    publish: (channel: string, message: string) => redis.publish.publish(channel, message).catch(redis.onPublishError),
  } as unknown as Redis
  return createPubSub<PubSubEvents>({
    eventTarget: createRedisEventTarget({ publishClient, subscribeClient: redis.subscribe }),
  })
}
