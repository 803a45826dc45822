import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { diffMigrationsToSchema } from '../../prisma/tools/schema-engine.js'
import { openDatabase } from '../src/db.js'
import { readMigrations } from '../src/migrations.js'
import { codes, createUserWithToken, freshDatabase, openAt, startServer, TEST_DATABASE_URL } from './harness.js'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

describe('migrations', () => {
  it('produce exactly what schema.prisma describes (no drift)', async () => {
    // Prisma's schema engine replays prisma/migrations and diffs the result with schema.prisma
    expect(await diffMigrationsToSchema()).toBe('')
  })

  it('apply once, record themselves as Prisma does, and are a no-op the second time', async () => {
    const location = await freshDatabase()
    const db = await openAt(location)
    try {
      const all = (await readMigrations()).map((m) => m.name)
      expect(await db.migrate()).toEqual(all)
      expect(await db.migrate()).toEqual([])
      const rows = await db.prisma.$queryRaw<{ migration_name: string; finished_at: Date | null }[]>`
        SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name`
      expect(rows.map((r) => r.migration_name)).toEqual(all)
      expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true)
    } finally {
      await db.close()
      await location.drop()
    }
  })
})

describe('restart', () => {
  it('keeps users and tokens, and bootstraps the owner only once', async () => {
    const dataDir = TEST_DATABASE_URL ? undefined : await mkdtemp(join(tmpdir(), 'approvals-restart-'))
    if (dataDir) dirs.push(dataDir)
    const location = await freshDatabase(dataDir)
    const first = await startServer({ location, ownerToken: 'restart-owner-token-0001' })
    const user = await createUserWithToken(first, { email: 'stay@example.com', name: 'Stay', roleKeys: ['member'] })
    await first.stop()

    const second = await startServer({ location, ownerToken: 'restart-owner-token-0001' })
    try {
      const viewer = await second.gql(`{ viewer { principal { id name } } }`, {}, user.token)
      expect(viewer.data.viewer.principal).toEqual({ id: user.id, name: 'Stay' })
      const owners = await second.gql(`{ users { email roles { key } } }`, {}, second.ownerToken)
      expect(owners.data.users.filter((u: { roles: { key: string }[] }) => u.roles.some((r) => r.key === 'owner'))).toHaveLength(1)
      // a different bootstrap token on a non-empty directory is ignored, not added
      await second.stop()
      const third = await startServer({ location, ownerToken: 'another-owner-token-0002' })
      expect(codes(await third.gql(`{ viewer { permissions } }`, {}, 'another-owner-token-0002'))).toEqual(['UNAUTHENTICATED'])
      await third.stop()
    } finally {
      await second.stop()
      await location.drop()
    }
  })
})

describe('the PGlite data folder', () => {
  it('is held by one server at a time; a lock left by a process that has gone is taken over', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'approvals-lock-'))
    dirs.push(dataDir)
    const first = await openDatabase({ dataDir })
    await expect(openDatabase({ dataDir })).rejects.toThrow(/already open in this process/)
    await first.close()

    // another running process holds it: refused, naming the process
    await writeFile(join(dataDir, 'approvals.lock'), String(process.ppid))
    await expect(openDatabase({ dataDir })).rejects.toThrow(new RegExp(`in use by another server \\(process ${process.ppid}\\)`))

    // a process that has gone: its lock is taken over
    await writeFile(join(dataDir, 'approvals.lock'), '2147483646')
    const again = await openDatabase({ dataDir })
    await again.migrate()
    await again.close()
    await expect(readFile(join(dataDir, 'approvals.lock'), 'utf8')).rejects.toThrow(/ENOENT/)
  })
})
