// Applies the committed migrations to DATABASE_URL (or the PGlite data folder) and exits.
// The server does the same at start; this is for deploy pipelines that migrate first.
import { loadConfig } from '../server/src/config.js'
import { openDatabase } from '../server/src/db.js'

const config = loadConfig()
const db = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir })
try {
  const applied = await db.migrate((message) => console.log(message))
  console.log(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date')
} finally {
  await db.close()
}
