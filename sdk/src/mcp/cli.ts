// What the two MCP commands share: the environment they read, the check of the agent's token
// before anything is served, serving over stdio or HTTP, and a clean stop.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Server } from '@modelcontextprotocol/sdk/server/index.js'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createApprovals, type Approvals } from '../index.js'
import { GatewayConfigError } from './config.js'
import { createLog, isLogLevel, type Log } from './log.js'
import { serveHttp, serveStdio } from './serve.js'
import { packageVersion } from './version.js'

/** The environment of both commands. */
export interface ApprovalsEnv {
  /** APPROVALS_URL: the API's GraphQL endpoint. */
  url: string
  /** APPROVALS_TOKEN: an agent's token. */
  token: string
  /** APPROVALS_MODULE: narrows rule matching to one module. */
  module?: string
  /** APPROVALS_ON_BEHALF_OF: the person whose task the agent runs (a user's ID). */
  onBehalfOfUserId?: string
}

/** A mistake of the command line or environment: its message is all the user needs. */
export class UsageError extends Error {}

/** Reads the environment; throws {@link UsageError} naming what is missing. */
export function readApprovalsEnv(env: NodeJS.ProcessEnv = process.env): ApprovalsEnv {
  const url = env.APPROVALS_URL?.trim()
  const token = env.APPROVALS_TOKEN?.trim()
  if (!url) throw new UsageError('APPROVALS_URL is not set: the approvals API endpoint, e.g. http://localhost:4000/graphql')
  try {
    if (!/^https?:$/.test(new URL(url).protocol)) throw new Error()
  } catch {
    throw new UsageError(`APPROVALS_URL is not an http(s) URL: ${url}`)
  }
  if (!token) throw new UsageError("APPROVALS_TOKEN is not set: an agent's API token (createApiToken for the agent)")
  return { url, token, module: env.APPROVALS_MODULE?.trim() || undefined, onBehalfOfUserId: env.APPROVALS_ON_BEHALF_OF?.trim() || undefined }
}

/** The log the commands write to stderr, at APPROVALS_LOG_LEVEL (default info). */
export function commandLog(name: string, env: NodeJS.ProcessEnv = process.env): Log {
  const level = env.APPROVALS_LOG_LEVEL?.trim().toLowerCase() || 'info'
  if (!isLogLevel(level)) throw new UsageError(`APPROVALS_LOG_LEVEL is one of debug, info, warn, error, silent; not ${level}`)
  return createLog(name, level)
}

/**
 * Connects to the service and checks the token at once, so that a wrong URL or token is said
 * on start rather than on the first tool call. Returns the client and who it acts as.
 */
export async function connectApprovals(env: ApprovalsEnv): Promise<{ approvals: Approvals; principal: { kind: string; name: string } }> {
  const approvals = createApprovals({ url: env.url, token: env.token })
  try {
    const data = await approvals.request<{ viewer: { principal: { __typename: string; name: string } } }>(`{ viewer { principal { __typename name } } }`)
    return { approvals, principal: { kind: data.viewer.principal.__typename, name: data.viewer.principal.name } }
  } catch (error) {
    await approvals.close()
    throw new UsageError(`The approvals service at ${env.url} refused the token or cannot be reached: ${(error as Error).message}`)
  }
}

/** The inbox's address for an API endpoint: the server serves both (`/graphql` and `/`). */
export const inboxUrlOf = (apiUrl: string) => new URL('/', apiUrl).toString()

/** Parses the command line; `--help` and `--version` print and exit. */
export function parseCommandLine<K extends string>(usage: string, options: Record<K, { type: 'string' }>, argv = process.argv.slice(2)): Partial<Record<K, string>> {
  let values: Record<string, string | boolean | undefined>
  try {
    const all: ParseArgsConfig['options'] = { ...options, help: { type: 'boolean' }, version: { type: 'boolean' } }
    values = parseArgs({ args: argv, options: all, strict: true, allowPositionals: false }).values as typeof values
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`)
  }
  if (values.help) {
    process.stderr.write(`${usage}\n`)
    process.exit(0)
  }
  if (values.version) {
    process.stderr.write(`${packageVersion}\n`)
    process.exit(0)
  }
  return values as Partial<Record<K, string>>
}

/** `--http <port>`: a port number, or undefined for stdio. */
export function httpPort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--http takes a port number (0 to 65535), not ${value}`)
  return port
}

/**
 * Serves until the client leaves (stdio: stdin ends) or the process is told to stop (SIGINT,
 * SIGTERM), then runs `stop` and exits. Over HTTP, each session gets a server of its own.
 */
export async function serveUntilStopped(
  createServer: () => Server | McpServer,
  options: { port?: number; host?: string; log: Log; stop(): Promise<void> },
): Promise<never> {
  const { log } = options
  let endpoint: Awaited<ReturnType<typeof serveHttp>> | undefined
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
  let reason: string
  if (options.port === undefined) {
    log.info('serving over stdio')
    reason = await Promise.race([serveStdio(createServer()).then(() => 'the client closed the connection'), stopped])
  } else {
    endpoint = await serveHttp(createServer, { port: options.port, host: options.host, log })
    log.info(`serving Streamable HTTP at ${endpoint.url}`)
    reason = await stopped
  }
  log.info(`stopping: ${reason}`)
  await endpoint?.close()
  await options.stop()
  process.exit(0)
}

/** Runs a command's main: a {@link UsageError} or any other failure is one line on stderr and exit code 1. */
export function runCommand(name: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    const message = error instanceof UsageError || error instanceof GatewayConfigError ? error.message : `${(error as Error)?.stack ?? String(error)}`
    process.stderr.write(`${name}: ${message}\n`)
    process.exit(1)
  })
}
