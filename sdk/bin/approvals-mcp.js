#!/usr/bin/env node
// The approvals-mcp command. It is a file of the source tree, so that npm links it on install, before
// anything is built; the command itself is the built SDK (npm run build:sdk, or npm run build).
import { existsSync } from 'node:fs'

const built = new URL('../dist/mcp/server-cli.js', import.meta.url)
if (!existsSync(built)) {
  console.error('approvals-mcp: the SDK is not built yet. Run `npm run build:sdk` in the project, then try again.')
  process.exit(1)
}
await import(built.href)
