// Runs `prisma generate` (client and Pothos types) without the native schema engine.
// Prisma's CLI insists on locating that engine even though `generate` never runs it, and its
// download is not reachable from every machine that installs this project; pointing the
// variable at any existing file satisfies the lookup (see ARCHITECTURE.md, environment facts).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { delimiter, join } from 'node:path'

const require = createRequire(import.meta.url)
const cli = require.resolve('prisma/build/index.js')
const result = spawnSync(process.execPath, [cli, 'generate', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: {
    PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    ...process.env,
    // the Pothos generator is found as a binary on PATH, as under `npx`
    PATH: [join(process.cwd(), 'node_modules', '.bin'), process.env.PATH].join(delimiter),
  },
})
process.exit(result.status ?? 1)
