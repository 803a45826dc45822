// A cache that every instance empties when a change is announced on the pub/sub, for what is read
// on every request and changes rarely (who a token stands for, the approval rules).
//
// Correct across instances because every change that could make an entry wrong is announced on
// one of `topics`, and each instance drops everything on any of them. While announcements cannot
// arrive (Redis down, or not subscribed yet) an entry serves for a short time only
// (offlineTtlMs), so a change made elsewhere applies everywhere within that time even then; after
// an outage the cache starts empty (announcements were lost).
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { PubSub, PubSubEvents } from '../pubsub.js'

/** Topics of the pub/sub that carry one unscoped payload. */
export type AnnouncementTopic = { [K in keyof PubSubEvents]: PubSubEvents[K] extends [unknown] ? K : never }[keyof PubSubEvents]

export interface AnnouncedCacheOptions {
  pubsub: PubSub
  /** Any event on these empties the cache. */
  topics: readonly AnnouncementTopic[]
  clock: Clock
  log: Logger
  /** How long an entry serves while announcements arrive. 0 turns the cache off. */
  ttlMs: number
  /** How long an entry serves while they do not. Default 1 s. */
  offlineTtlMs?: number
  /** Entries kept at most (the least recently stored go first). Default 10,000. */
  maxEntries?: number
}

export interface AnnouncedCache<V> {
  /**
   * The entry under `key` if it still serves, else `load()`'s value, stored unless it is
   * undefined or the cache was emptied meanwhile.
   */
  get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined>
  /** The entry under `key` if it still serves. */
  peek(key: string): V | undefined
  /** Drops every entry (a change was announced, or may have been missed). */
  invalidate(): void
  /** Whether announcements reach this instance now. */
  online(): boolean
  /** Stops listening. */
  stop(): void
}

export function createAnnouncedCache<V>(options: AnnouncedCacheOptions): AnnouncedCache<V> {
  const { pubsub, topics, clock, log, ttlMs } = options
  const offlineTtlMs = options.offlineTtlMs ?? 1000
  const maxEntries = options.maxEntries ?? 10_000
  const entries = new Map<string, { value: V; storedAt: number }>()
  // bumped by every invalidation: a load that started before one must not store what it read
  let generation = 0
  let subscribed = false

  const invalidate = () => {
    generation++
    entries.clear()
  }
  const streams = topics.map((topic) => pubsub.subscribe(topic))
  for (const stream of streams) {
    void (async () => {
      for await (const _event of stream) invalidate()
    })().catch((err) => log.error({ err }, 'cache listener failed'))
  }
  void Promise.all(topics.map((topic) => pubsub.listening(topic))).then(() => (subscribed = true))
  const offReconnect = pubsub.onReconnect(invalidate)
  const online = () => subscribed && pubsub.connected()

  function peek(key: string): V | undefined {
    const entry = entries.get(key)
    if (!entry) return undefined
    if (clock.now().getTime() - entry.storedAt < (online() ? ttlMs : offlineTtlMs)) return entry.value
    entries.delete(key)
    return undefined
  }

  return {
    peek,
    async get(key, load) {
      const cached = peek(key)
      if (cached !== undefined) return cached
      const started = generation
      const storedAt = clock.now().getTime()
      const value = await load()
      if (value !== undefined && ttlMs > 0 && generation === started) {
        entries.delete(key) // re-inserted last: the oldest entries go first when full
        entries.set(key, { value, storedAt })
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!)
      }
      return value
    },
    invalidate,
    online,
    stop() {
      offReconnect()
      for (const stream of streams) void stream.return?.()
    },
  }
}
