import { createRequire } from 'node:module'

// sdk/package.json, from src/mcp as from dist/mcp
const manifest = createRequire(import.meta.url)('../../package.json') as { version: string }

/** The SDK's version, which the MCP commands give as theirs. */
export const packageVersion: string = manifest.version
