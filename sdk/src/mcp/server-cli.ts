#!/usr/bin/env node
// approvals-mcp: the approvals service's own MCP server, for agents that ask for approval
// explicitly (request_approval, get_approval, list_action_types).
import { createApprovalsMcpServer } from './approvals-server.js'
import { commandLog, connectApprovals, httpPort, inboxUrlOf, parseCommandLine, readApprovalsEnv, runCommand, serveUntilStopped } from './cli.js'

const NAME = 'approvals-mcp'

const USAGE = `Usage: ${NAME} [--http <port>] [--host <address>]

An MCP server with the tools request_approval, get_approval and list_action_types, which ask
the approvals service as the agent whose token it holds.

  --http <port>       serve Streamable HTTP at http://<host>:<port>/mcp instead of stdio
  --host <address>    the address to listen on with --http (default 127.0.0.1)

Environment:
  APPROVALS_URL         the approvals API, e.g. http://localhost:4000/graphql (required)
  APPROVALS_TOKEN       an agent's API token (required)
  APPROVALS_LOG_LEVEL   debug, info (default), warn, error or silent; the log goes to stderr`

runCommand(NAME, async () => {
  const args = parseCommandLine(USAGE, { http: { type: 'string' }, host: { type: 'string' } })
  const port = httpPort(args.http)
  const env = readApprovalsEnv()
  const log = commandLog(NAME)
  const { approvals, principal } = await connectApprovals(env)
  log.info(`asking the approvals service at ${env.url} as ${principal.name}`)
  const inboxUrl = inboxUrlOf(env.url)
  await serveUntilStopped(() => createApprovalsMcpServer({ approvals, inboxUrl, log }), {
    port,
    host: args.host,
    log,
    stop: () => approvals.close(),
  })
})
