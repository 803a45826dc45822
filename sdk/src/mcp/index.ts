// @approvals/sdk/mcp: the MCP gateway and the approvals MCP server as a library, for those who
// run them inside their own process rather than as the commands (approvals-mcp-gateway,
// approvals-mcp).
export { startGateway, gatewayToolName, CALL_TOOL, type CallToolParams, type Gateway, type GatewayOptions } from './gateway.js'
export { loadGatewayConfig, parseGatewayConfig, GatewayConfigError, type GatewayConfig, type UpstreamConfig, type StdioUpstream, type HttpUpstream } from './config.js'
export { createApprovalsMcpServer, type ApprovalsMcpOptions } from './approvals-server.js'
export { serveHttp, serveStdio, type HttpEndpoint, type HttpOptions } from './serve.js'
export { createLog, type Log, type LogLevel } from './log.js'
export type { Upstream } from './upstreams.js'
