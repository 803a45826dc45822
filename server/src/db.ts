import { mkdir, open, readFile, rm } from 'node:fs/promises'
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
    async close() {
      await prisma.$disconnect()
    },
  }
}

/**
 * Claims a PGlite data folder for this process: PGlite is one process's database, and a second
 * server on the same folder would corrupt it. A lock left by a process that no longer runs is
 * taken over. Returns the release function.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = join(dataDir, 'approvals.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      return () => rm(lockPath, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number(await readFile(lockPath, 'utf8').catch(() => ''))
      if (holder && holder !== process.pid && isRunning(holder)) {
        throw new Error(`The data folder ${dataDir} is in use by another server (process ${holder}). PGlite serves one process; use PostgreSQL (DATABASE_URL) to run several.`)
      }
      if (holder === process.pid) throw new Error(`The data folder ${dataDir} is already open in this process.`)
      await rm(lockPath, { force: true }) // left by a process that has gone
    }
  }
  throw new Error(`Could not lock the data folder ${dataDir}.`)
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function openPglite(dataDir: string | undefined, onQuery?: (sql: string) => void): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true })
  const unlock = dataDir ? await lockDataDir(dataDir) : async () => {}
  const pglite = new PGlite(dataDir)
  await pglite.waitReady.catch(async (err: unknown) => {
    await unlock()
    throw err
  })
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
    async close() {
      await prisma.$disconnect()
      await pglite.close()
      await unlock()
    },
  }
}
