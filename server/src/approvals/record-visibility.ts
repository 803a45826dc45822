// Who reads a module's records, as CRMs set it org-wide: ORG (the default: every signed-in user and
// agent reads them and may propose changes, which go through the rules) or PRIVATE (the owner,
// record:manage holders, and agents acting for someone who may read it). What each may then do
// with a record is in record-access.ts.
//
// Every access to a record needs the PRIVATE modules, and they change rarely: they are kept in
// memory like the rules (cache/announced.ts). A change is announced (moduleSettingsChanged) and
// every instance drops what it holds; while announcements cannot arrive an entry serves for 1 s at
// most. So a record read costs no query of its own for the settings, and a module made PRIVATE is
// private everywhere within that time even while Redis is down.
import { createAnnouncedCache } from '../cache/announced.js'
import type { Clock } from '../clock.js'
import type { Prisma, PrismaClient } from '../db.js'
import type { ModuleSettings, RecordVisibility } from '../generated/prisma/client.js'
import type { Logger } from '../logger.js'
import type { PubSub } from '../pubsub.js'

type Db = Prisma.TransactionClient | PrismaClient

/** The names of the PRIVATE modules; every other module is ORG. */
export type PrivateModules = ReadonlySet<string>

export interface ModuleVisibilityCache {
  /** The PRIVATE modules, from memory, or read from `db` (and kept). */
  privateModules(db: Db): Promise<PrivateModules>
  /** Drops what is held (this instance changed a setting: its next request must see it). */
  invalidate(): void
  /** Stops listening. */
  stop(): void
}

const readPrivateModules = async (db: Db): Promise<PrivateModules> =>
  new Set((await db.moduleSettings.findMany({ where: { visibility: 'PRIVATE' }, select: { module: true } })).map((m) => m.module))

export function createModuleVisibilityCache(options: { pubsub: PubSub; clock: Clock; log: Logger; ttlMs?: number }): ModuleVisibilityCache {
  const cache = createAnnouncedCache<PrivateModules>({ ...options, topics: ['moduleSettingsChanged'], ttlMs: options.ttlMs ?? 5 * 60_000, maxEntries: 1 })
  return {
    privateModules: async (db) => (await cache.get('private', () => readPrivateModules(db)))!,
    invalidate: cache.invalidate,
    stop: cache.stop,
  }
}

/** The PRIVATE modules: through `cache` when given, else read from `db`. */
export function privateModules(db: Db, cache?: ModuleVisibilityCache): Promise<PrivateModules> {
  return cache ? cache.privateModules(db) : readPrivateModules(db)
}

/** The modules with settings of their own, by name. */
export function listModuleSettings(db: Db): Promise<ModuleSettings[]> {
  return db.moduleSettings.findMany({ orderBy: { module: 'asc' } })
}

/**
 * Sets who reads a module's records, recording who set it (as rules record who changed them). The
 * module need not hold records yet. The caller announces the change once this has committed.
 */
export function setModuleVisibility(db: Db, actorId: string, module: string, visibility: RecordVisibility): Promise<ModuleSettings> {
  return db.moduleSettings.upsert({
    where: { module },
    create: { module, visibility, updatedById: actorId },
    update: { visibility, updatedById: actorId },
  })
}
