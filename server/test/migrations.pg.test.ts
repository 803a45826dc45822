// PostgreSQL only: several instances starting at once against one database.
import { describe, expect, it } from 'vitest'
import { readMigrations } from '../src/migrations.js'
import { freshDatabase, openAt } from './harness.js'
import { bootstrapOwner } from '../src/directory/directory.js'

describe('concurrent start on PostgreSQL', () => {
  it('applies each migration once and bootstraps one owner when four instances start together', async () => {
    const location = await freshDatabase()
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openAt(location)))
    try {
      const applied = await Promise.all(dbs.map((db) => db.migrate()))
      const all = (await readMigrations()).map((m) => m.name)
      expect(applied.flat().sort()).toEqual(all.sort())
      const created = await Promise.all(dbs.map((db) => bootstrapOwner(db.prisma, { token: 'concurrent-owner-token', email: 'o@example.com', name: 'O' })))
      expect(created.filter(Boolean)).toHaveLength(1)
      expect(await dbs[0]!.prisma.user.count()).toBe(1)
      const rows = await dbs[0]!.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM "_prisma_migrations"`
      expect(Number(rows[0]!.n)).toBe(all.length)
    } finally {
      await Promise.all(dbs.map((db) => db.close()))
      await location.drop()
    }
  })
})
