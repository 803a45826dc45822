// The gateway's configuration file: the usual MCP client configuration (Claude Desktop's
// `claude_desktop_config.json`, Cursor's `mcp.json`), whose `mcpServers` become the gateway's
// upstreams. Checked once, with messages that name the server and field at fault.
import { readFile } from 'node:fs/promises'
import { z } from 'zod'

/**
 * A server name becomes the prefix of its tools' names (`<server>__<tool>`), and MCP tool names
 * are letters, digits, `_`, `-` and `.`; no `__` inside, so that the prefix always reads back.
 */
function serverNameProblem(name: string): string | null {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) return 'a server name is 1 to 64 letters, digits, "_", "-" or "."'
  if (name.includes('__')) return 'a server name may not contain "__", which separates it from tool names'
  return null
}

const stdioServer = z.looseObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  disabled: z.boolean().optional(),
})

const httpServer = z.looseObject({
  type: z.enum(['http', 'streamable-http', 'streamableHttp']).optional(),
  url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }),
  headers: z.record(z.string(), z.string()).optional(),
  disabled: z.boolean().optional(),
})

const upstream = z.union([stdioServer, httpServer], { error: 'an MCP server is { "command", "args", "env" } (stdio) or { "url" } (Streamable HTTP)' })

const configFile = z.looseObject({
  mcpServers: z.record(z.string(), upstream).superRefine((servers, context) => {
    if (Object.keys(servers).length === 0) context.addIssue({ code: 'custom', message: 'names no server' })
    for (const name of Object.keys(servers)) {
      const problem = serverNameProblem(name)
      if (problem) context.addIssue({ code: 'custom', path: [name], message: problem })
    }
  }),
})

/** An upstream started as a process, spoken to over its stdin and stdout. */
export type StdioUpstream = z.infer<typeof stdioServer>
/** An upstream reached over Streamable HTTP. */
export type HttpUpstream = z.infer<typeof httpServer>
/** One entry of `mcpServers`. */
export type UpstreamConfig = StdioUpstream | HttpUpstream

/** The gateway's upstreams by name, in the file's order (servers marked `disabled` left out). */
export interface GatewayConfig {
  servers: Record<string, UpstreamConfig>
}

/** A configuration the gateway cannot use; the message says where and why. */
export class GatewayConfigError extends Error {
  override name = 'GatewayConfigError'
}

export const isStdioUpstream = (config: UpstreamConfig): config is StdioUpstream => 'command' in config

/** Checks a parsed configuration file's content; throws {@link GatewayConfigError}. */
export function parseGatewayConfig(content: unknown, source = 'the configuration'): GatewayConfig {
  const parsed = configFile.safeParse(content)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(top)'}: ${issue.message}`)
    throw new GatewayConfigError(`${source} is not an MCP client configuration: ${problems.join('; ')}`)
  }
  const servers = Object.fromEntries(Object.entries(parsed.data.mcpServers).filter(([, server]) => !server.disabled))
  if (Object.keys(servers).length === 0) throw new GatewayConfigError(`${source}: every server in mcpServers is disabled`)
  return { servers }
}

/** Reads and checks the configuration file at `path`; throws {@link GatewayConfigError}. */
export async function loadGatewayConfig(path: string): Promise<GatewayConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new GatewayConfigError(`Cannot read the configuration file ${path}: ${(error as Error).message}`)
  }
  let content: unknown
  try {
    content = JSON.parse(text)
  } catch (error) {
    throw new GatewayConfigError(`${path} is not JSON: ${(error as Error).message}`)
  }
  return parseGatewayConfig(content, path)
}
