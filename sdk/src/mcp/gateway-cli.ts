#!/usr/bin/env node
// approvals-mcp-gateway: the MCP gateway as a command. Point an MCP client at it instead of its
// servers; every tool call passes the approvals service's rules first.
import { commandLog, connectApprovals, httpPort, inboxUrlOf, parseCommandLine, readApprovalsEnv, runCommand, serveUntilStopped, UsageError } from './cli.js'
import { loadGatewayConfig } from './config.js'
import { startGateway } from './gateway.js'

const NAME = 'approvals-mcp-gateway'

const USAGE = `Usage: ${NAME} --config <file> [--http <port>] [--host <address>]

Puts the approvals service's rules in front of the tools of the MCP servers in <file>, the
usual MCP client configuration: { "mcpServers": { "<name>": { "command", "args", "env" } | { "url" } } }.
Tools are offered as <name>__<tool>; resources and prompts pass through.

  --config <file>     the MCP servers to put behind the gateway (required)
  --http <port>       serve Streamable HTTP at http://<host>:<port>/mcp instead of stdio
  --host <address>    the address to listen on with --http (default 127.0.0.1)

Environment:
  APPROVALS_URL           the approvals API, e.g. http://localhost:4000/graphql (required)
  APPROVALS_TOKEN         an agent's API token: calls are asked for as that agent (required)
  APPROVALS_MODULE        a module, to match only the rules of that module
  APPROVALS_ON_BEHALF_OF  the ID of the user whose task the agent runs (default: its owner)
  APPROVALS_LOG_LEVEL     debug, info (default), warn, error or silent; the log goes to stderr`

runCommand(NAME, async () => {
  const args = parseCommandLine(USAGE, { config: { type: 'string' }, http: { type: 'string' }, host: { type: 'string' } })
  if (!args.config) throw new UsageError(`--config <file> is required.\n\n${USAGE}`)
  const port = httpPort(args.http)
  const env = readApprovalsEnv()
  const log = commandLog(NAME)
  const config = await loadGatewayConfig(args.config)
  const { approvals, principal } = await connectApprovals(env)
  log.info(`asking the approvals service at ${env.url} as ${principal.kind === 'Agent' ? 'agent' : principal.kind.toLowerCase()} ${principal.name}`)
  if (principal.kind !== 'Agent') log.warn("the token is not an agent's: calls are asked for as this user; give the gateway an agent's token so that reviewers see which agent calls")
  let gateway
  try {
    gateway = await startGateway({
      servers: config.servers,
      approvals,
      inboxUrl: inboxUrlOf(env.url),
      module: env.module,
      onBehalfOfUserId: env.onBehalfOfUserId,
      log,
    })
  } catch (error) {
    await approvals.close()
    throw new UsageError((error as Error).message)
  }
  const started = gateway
  await serveUntilStopped(() => started.createServer(), {
    port,
    host: args.host,
    log,
    async stop() {
      await started.close()
      await approvals.close()
    },
  })
})
