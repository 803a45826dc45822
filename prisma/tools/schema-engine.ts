// Prisma's schema engine, as WebAssembly, over a PGlite driver adapter: it writes our migrations
// and checks them against schema.prisma without the native engine, which cannot be downloaded
// everywhere this project is built. Development tooling only; the server applies the committed
// SQL itself (server/src/migrations.ts).
//
// @prisma/schema-engine-wasm is internal to Prisma and its API is unstable: it is pinned exactly
// in package.json. It is instantiated by hand rather than through an ESM wasm import so that it
// loads under plain Node 20 and under vitest alike.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils'
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { readMigrations } from '../../server/src/migrations.js'

export const SCHEMA_PATH = resolve('prisma/schema.prisma')
export const MIGRATIONS_DIR = resolve('prisma/migrations')

let loaded: Promise<void> | undefined
function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url)
    const wasmPath = join(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/[^/]+$/, ''), 'schema_engine_bg.wasm')
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': bg as never })
    const exports = instance.exports as { __wbindgen_start: () => void }
    ;(bg as unknown as { __wbg_set_wasm: (w: unknown) => void }).__wbg_set_wasm(exports)
    exports.__wbindgen_start()
  })()
  return loaded
}

const noFilters = { externalTables: [], externalEnums: [] }

/**
 * The SQL that takes a database from the committed migrations to what schema.prisma describes;
 * an empty string when they agree. The engine replays the migrations on a throwaway PGlite.
 */
export async function diffMigrationsToSchema(): Promise<string> {
  await loadWasm()
  const schema = await readFile(SCHEMA_PATH, 'utf8')
  const migrations = await readMigrations(MIGRATIONS_DIR)
  const pglite = new PGlite()
  try {
    const factory = bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(pglite))
    const engine = await bg.SchemaEngine.new({ datamodels: [[SCHEMA_PATH, schema]] }, () => {}, factory)
    const result = await engine.diff({
      from: {
        tag: 'migrations',
        baseDir: MIGRATIONS_DIR,
        lockfile: { path: 'migration_lock.toml', content: await readFile(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8') },
        shadowDbInitScript: '',
        migrationDirectories: migrations.map((m) => ({
          path: m.name,
          migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } as never },
        })),
      },
      to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_PATH, content: schema }] },
      script: true,
      exitCode: null,
      filters: noFilters,
    })
    engine.free()
    const sql = (result as { stdout?: string }).stdout ?? ''
    return /^\s*(-- This is an empty migration\.)?\s*$/.test(sql) ? '' : sql
  } finally {
    await pglite.close()
  }
}
