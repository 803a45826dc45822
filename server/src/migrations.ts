import { createHash, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A single database session able to run multi-statement SQL (migrations need one session for the lock). */
export interface SqlSession {
  exec(sql: string): Promise<void>
  query<T>(sql: string, params?: unknown[]): Promise<T[]>
}

export interface Migration {
  name: string
  sql: string
  checksum: string
}

/** Arbitrary, fixed key of the advisory lock that serialises migration runs across instances. */
const MIGRATION_LOCK_KEY = 7_260_013_371

/** The folder of committed migrations, found from this module whether it runs from source or from dist/. */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'prisma', 'migrations')
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error('prisma/migrations not found above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
}

export async function readMigrations(dir = defaultMigrationsDir()): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort()
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8')
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    }),
  )
}

// The same table `prisma migrate deploy` keeps, so that Prisma's CLI agrees with what ran here.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`

type AppliedRow = { migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }

/**
 * Applies the committed migrations that this database has not run yet, each in its own
 * transaction, and returns their names. Several instances may call this at once: an advisory
 * lock lets one apply while the others wait and then find nothing left to do.
 */
export async function applyMigrations(
  session: SqlSession,
  migrations: Migration[],
  log: (message: string) => void = () => {},
): Promise<string[]> {
  await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
  try {
    await session.exec(CREATE_MIGRATIONS_TABLE)
    const rows = await session.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    )
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null)
    if (failed) {
      throw new Error(
        `Migration ${failed.migration_name} failed earlier and was left half-applied; resolve it by hand before starting.`,
      )
    }
    const done = new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r.checksum]))
    const applied: string[] = []
    for (const m of migrations) {
      const checksum = done.get(m.name)
      if (checksum !== undefined) {
        if (checksum !== m.checksum) log(`migration ${m.name} was changed after it was applied; the database keeps the old version`)
        continue
      }
      await session.exec('BEGIN')
      try {
        await session.exec(m.sql)
        await session.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        )
        await session.exec('COMMIT')
      } catch (err) {
        await session.exec('ROLLBACK')
        throw new Error(`Migration ${m.name} failed and was rolled back: ${(err as Error).message}`, { cause: err })
      }
      log(`applied migration ${m.name}`)
      applied.push(m.name)
    }
    return applied
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
  }
}
