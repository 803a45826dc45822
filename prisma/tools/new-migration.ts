// Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that brings the
// committed migrations up to schema.prisma. Usage: npm run db:migration -- <name>
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { diffMigrationsToSchema, MIGRATIONS_DIR } from './schema-engine.js'

const name = process.argv[2]
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: npm run db:migration -- <name in snake_case>')
  process.exit(2)
}
const sql = await diffMigrationsToSchema()
if (!sql) {
  console.log('schema.prisma and the migrations agree: nothing to write')
  process.exit(0)
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`)
await mkdir(dir, { recursive: true })
await writeFile(join(dir, 'migration.sql'), sql)
console.log(`wrote ${join(dir, 'migration.sql')}`)
