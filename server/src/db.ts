import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readFile, realpath, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from './generated/prisma/client.js'
import { applyMigrations, readMigrations, type SqlSession } from './migrations.js'

export type { PrismaClient }
export { Prisma } from './generated/prisma/client.js'

export interface Database {
  prisma: PrismaClient
  kind: 'postgres' | 'pglite'
  /** Applies pending migrations; returns the names it applied. */
  migrate(log?: (message: string) => void): Promise<string[]>
  /** Throws when the database cannot answer. */
  ping(): Promise<void>
  /**
   * Refreshes the planner's statistics where nothing else does: PGlite has no autovacuum, so
   * without this it plans every query with the statistics of its first, empty tables (an inbox
   * query then takes twice as long). PostgreSQL's autovacuum does it there: a no-op.
   */
  analyze(): Promise<void>
  close(): Promise<void>
}

// Interactive transactions queue for a connection (PGlite has one); let them wait rather than fail.
const transactionOptions = { maxWait: 15_000, timeout: 20_000 }

export type DatabaseOptions = (
  | { url: string }
  /** `dataDir` undefined means in memory (tests). */
  | { dataDir: string | undefined }
) & {
  /** Called with each SQL statement Prisma sends (tests count queries with it). */
  onQuery?: (sql: string) => void
}

/** Opens Prisma over PostgreSQL (`url`) or over embedded PGlite persisted in `dataDir`. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return 'url' in options ? openPostgres(options.url, options.onQuery) : openPglite(options.dataDir, options.onQuery)
}

function createClient(adapter: PrismaPg | PrismaPGlite, onQuery?: (sql: string) => void) {
  if (!onQuery) return new PrismaClient({ adapter, transactionOptions })
  const prisma = new PrismaClient({ adapter, transactionOptions, log: [{ emit: 'event', level: 'query' }] })
  prisma.$on('query', (e) => onQuery(e.query))
  return prisma
}

async function openPostgres(url: string, onQuery?: (sql: string) => void): Promise<Database> {
  const prisma = createClient(new PrismaPg({ connectionString: url }), onQuery)
  return {
    prisma,
    kind: 'postgres',
    async migrate(log) {
      // a session of its own: the advisory lock belongs to the connection that took it
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        const session: SqlSession = {
          exec: async (sql) => void (await client.query(sql)),
          query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
        }
        return await applyMigrations(session, await readMigrations(), log)
      } finally {
        await client.end()
      }
    },
    async ping() {
      await prisma.$queryRaw`SELECT 1`
    },
    async analyze() {},
    async close() {
      await prisma.$disconnect()
    },
  }
}

/** Data folders this process has open (real paths): a second open of one is refused here, not by the lock file. */
const openDataDirs = new Set<string>()

/**
 * Who holds a data folder's lock. `startTime` (clock ticks after boot, field 22 of
 * `/proc/<pid>/stat`) and `bootId` tell the holder apart from a later process that was given the
 * same pid: after a crash in a container the restarted server is PID 1 again, and elsewhere pids
 * are recycled. Both are absent where there is no /proc, and in old lock files (a bare pid).
 */
interface LockHolder {
  pid: number
  startTime?: string
  bootId?: string
}

/**
 * Claims a PGlite data folder for this process: PGlite is one process's database, and a second
 * server on the same folder would corrupt it. A lock left by a process that no longer runs is
 * taken over. Returns the release function.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  // the real path, so that two spellings of one folder are one entry
  const key = await realpath(dataDir)
  if (openDataDirs.has(key)) throw new Error(`The data folder ${dataDir} is already open in this process.`)
  // taken before any await, so that two opens racing in this process cannot both pass the check
  openDataDirs.add(key)
  try {
    const lockPath = join(dataDir, 'approvals.lock')
    const mine = JSON.stringify({ pid: process.pid, ...(await processIdentity(process.pid)) } satisfies LockHolder)
    const release = async () => {
      // only our own lock: one taken over by mistake is somebody else's now
      if ((await readFile(lockPath, 'utf8').catch(() => undefined)) === mine) await rm(lockPath, { force: true })
      openDataDirs.delete(key)
    }
    const refuseIfHeld = async () => {
      const handle = await open(lockPath, 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined
        throw err
      })
      if (!handle) return false
      try {
        const holder = await readHolder(handle)
        if (holder && (await isHeld(holder))) {
          throw new Error(`The data folder ${dataDir} is in use by another server (process ${holder.pid}). PGlite serves one process; use PostgreSQL (DATABASE_URL) to run several.`)
        }
        return true // a stale lock
      } finally {
        await handle.close()
      }
    }
    // written whole under a name of our own, then linked into place: link() fails with EEXIST
    // when the lock exists, so of two servers one wins, and nobody reads a lock not yet written
    const draft = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}`
    await writeFile(draft, mine, { flag: 'wx' })
    // A stale lock is replaced by one server at a time: the one that creates the takeover folder
    // (mkdir is atomic). It checks the lock again under it, then renames its own over it, which
    // replaces the file in one step, so that no other server ever finds the path free meanwhile.
    const takeover = `${lockPath}.takeover`
    try {
      for (let attempt = 0; attempt < 200; attempt++) {
        try {
          await link(draft, lockPath)
          return release
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        }
        if (!(await refuseIfHeld())) continue // released meanwhile: try again
        try {
          await mkdir(takeover)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
          // another server is taking over; a takeover folder left by a crash is cleared after 10 s
          const since = await stat(takeover).then((s) => Date.now() - s.mtimeMs, () => 0)
          if (since > 10_000) await rm(takeover, { recursive: true, force: true })
          await new Promise((resolve) => setTimeout(resolve, 20))
          continue
        }
        try {
          if (await refuseIfHeld()) {
            await rename(draft, lockPath)
            return release
          }
        } finally {
          await rm(takeover, { recursive: true, force: true })
        }
      }
    } finally {
      await rm(draft, { force: true })
    }
    throw new Error(`Could not lock the data folder ${dataDir}: other servers are starting on it at the same time.`)
  } catch (err) {
    openDataDirs.delete(key)
    throw err
  }
}

/**
 * Reads a lock file: JSON as written by {@link lockDataDir}, or a bare pid (lock files of earlier
 * versions). Undefined when it holds neither, as a process that died between creating the file
 * and writing it leaves it.
 */
async function readHolder(handle: FileHandle): Promise<LockHolder | undefined> {
  // a server that has just created the file may not have written it yet: give it a moment
  for (let tries = 0; tries < 10; tries++) {
    const buffer = Buffer.alloc(1024)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    const holder = parseHolder(buffer.subarray(0, bytesRead).toString('utf8').trim())
    if (holder) return holder
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return undefined
}

function parseHolder(text: string): LockHolder | undefined {
  if (/^\d+$/.test(text)) return { pid: Number(text) }
  try {
    const value = JSON.parse(text) as Partial<Record<keyof LockHolder, unknown>>
    if (!Number.isSafeInteger(value.pid) || (value.pid as number) <= 0) return undefined
    return {
      pid: value.pid as number,
      startTime: typeof value.startTime === 'string' ? value.startTime : undefined,
      bootId: typeof value.bootId === 'string' ? value.bootId : undefined,
    }
  } catch {
    return undefined
  }
}

/** Whether the process a lock names still runs: the pid, and where /proc tells, the same process under it. */
async function isHeld(holder: LockHolder): Promise<boolean> {
  // Our own pid is never another server's, and this process does not hold the folder (the
  // registry said so): the lock is a previous process's that had our pid, as PID 1 in a container.
  if (holder.pid === process.pid) return false
  if (!isRunning(holder.pid)) return false
  // an old lock file, or one written where there is no /proc: the pid is all there is to go by
  if (holder.startTime === undefined) return true
  const current = await processIdentity(holder.pid)
  if (current.startTime === undefined) return true // no /proc here
  // start times count from boot: after a reboot the same numbers name other processes
  if (holder.bootId && current.bootId && holder.bootId !== current.bootId) return false
  return current.startTime === holder.startTime
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The boot id does not change while this process runs; read it once. */
let bootId: Promise<string | undefined> | undefined

/** A process's start time and the boot id, from /proc; both undefined where there is no /proc. */
async function processIdentity(pid: number): Promise<Pick<LockHolder, 'startTime' | 'bootId'>> {
  bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  )
  const procStat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count fields after the
  // last ')'; the first there is field 3, so starttime, field 22, is the 20th
  const startTime = procStat?.slice(procStat.lastIndexOf(')') + 1).trim().split(/\s+/)[19]
  return { startTime: startTime && /^\d+$/.test(startTime) ? startTime : undefined, bootId: await bootId }
}

async function openPglite(dataDir: string | undefined, onQuery?: (sql: string) => void): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true })
  const unlock = dataDir ? await lockDataDir(dataDir) : async () => {}
  const pglite = new PGlite(dataDir)
  await pglite.waitReady.catch(async (err: unknown) => {
    await unlock()
    throw err
  })
  // One session, one transaction at a time: events commit in the order they are written, and the
  // chain trigger numbers them for the audit feed as they are (see the events_numbered_on_insert migration).
  await pglite.exec(`SET approvals.single_session = 'on'`)
  const prisma = createClient(new PrismaPGlite(pglite), onQuery)
  return {
    prisma,
    kind: 'pglite',
    async migrate(log) {
      const session: SqlSession = {
        exec: async (sql) => void (await pglite.exec(sql)),
        query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
      }
      return applyMigrations(session, await readMigrations(), log)
    },
    async ping() {
      await pglite.query('SELECT 1')
    },
    async analyze() {
      // through Prisma, so that it queues behind transactions on PGlite's one connection
      await prisma.$executeRawUnsafe('ANALYZE')
    },
    async close() {
      await prisma.$disconnect()
      await pglite.close()
      await unlock()
    },
  }
}
