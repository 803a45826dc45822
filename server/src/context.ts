import type { Viewer } from './auth/viewer.js'
import type { Clock } from './clock.js'
import type { PrismaClient } from './db.js'
import type { Logger } from './logger.js'

/**
 * What a resolver knows about the request it serves: who is calling, a request id and a logger
 * bound to it, and the app's services.
 *
 * The services sit here rather than being imported (as STYLE.md prefers) because buildApp takes
 * them as arguments: tests run several apps over different databases and clocks in one process,
 * and Pothos's Prisma plugin reads the client from the context for exactly that case.
 */
export interface Context {
  viewer: Viewer | null
  requestId: string
  log: Logger
  prisma: PrismaClient
  clock: Clock
}
