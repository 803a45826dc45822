// Who a token stands for, kept in memory: every request starts with this, and the directory
// rarely changes. Every change that could make a cached principal wrong is announced
// (accessRevoked: a token revoked, an agent disabled; principalChanged: roles, the people an
// agent acts for, an agent enabled again), and each instance then drops its whole cache; while
// announcements cannot arrive an entry serves for 1 s at most (cache/announced.ts).
import type { PrismaClient } from '../db.js'
import type { Logger } from '../logger.js'
import type { PubSub } from '../pubsub.js'
import type { Clock } from '../clock.js'
import { createAnnouncedCache } from '../cache/announced.js'
import { hashToken } from './tokens.js'
import { lastUsedIsStale, readViewer, touchToken, type Viewer } from './viewer.js'

export interface ViewerCache {
  /** The viewer a bearer token stands for, or null (unknown, revoked, a disabled agent's). */
  viewerFor(token: string): Promise<Viewer | null>
  /** Drops every cached principal (a change was announced, or may have been missed). */
  invalidate(): void
  /** Whether changes reach this cache now (its entries then serve for ttlMs, otherwise offlineTtlMs). */
  online(): boolean
  /** Stops listening. */
  stop(): void
}

export interface ViewerCacheOptions {
  prisma: PrismaClient
  pubsub: PubSub
  clock: Clock
  log: Logger
  /** How long an entry serves while the pub/sub is connected (changes are announced). Default 5 minutes; 0 disables the cache. */
  ttlMs?: number
  /** How long an entry serves while it is not. Default 1 s. */
  offlineTtlMs?: number
  /** Entries kept at most (the least recently stored go first). Default 10,000. */
  maxEntries?: number
}

export function createViewerCache(options: ViewerCacheOptions): ViewerCache {
  const { prisma, clock } = options
  // by token hash; a token that does not authenticate is not kept (it is read again each time)
  const cache = createAnnouncedCache<{ viewer: Viewer; lastUsedAt: Date | null }>({
    pubsub: options.pubsub,
    topics: ['accessRevoked', 'principalChanged'],
    clock,
    log: options.log,
    ttlMs: options.ttlMs ?? 5 * 60_000,
    offlineTtlMs: options.offlineTtlMs,
    maxEntries: options.maxEntries,
  })
  async function viewerFor(token: string): Promise<Viewer | null> {
    const now = clock.now()
    const tokenHash = hashToken(token)
    const entry = await cache.get(tokenHash, async () => (await readViewer(prisma, tokenHash)) ?? undefined)
    if (!entry) return null
    // lastUsedAt: written once a minute per token, whether the principal came from the cache or not
    if (lastUsedIsStale(entry.lastUsedAt, now)) {
      entry.lastUsedAt = now
      await touchToken(prisma, entry.viewer.tokenId, now)
    }
    return entry.viewer
  }

  return { viewerFor, invalidate: cache.invalidate, online: cache.online, stop: cache.stop }
}
