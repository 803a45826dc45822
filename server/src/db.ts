import { mkdir } from 'node:fs/promises'
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

async function openPglite(dataDir: string | undefined, onQuery?: (sql: string) => void): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true })
  const pglite = new PGlite(dataDir)
  await pglite.waitReady
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
    },
  }
}
