// The gateway's side as a client: one MCP Client per upstream server of the configuration, over
// stdio (a process the gateway starts) or Streamable HTTP, and what each offers (tools,
// resources, prompts), listed in full and listed again when the server says it changed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js'
import { isStdioUpstream, type UpstreamConfig } from './config.js'
import type { Log } from './log.js'

/** What an upstream says it changed (`notifications/<kind>/list_changed`). */
export type ListKind = 'tools' | 'resources' | 'prompts'

/** One upstream server, connected. */
export interface Upstream {
  /** Its name in the configuration: the prefix of its tools. */
  readonly name: string
  readonly client: Client
  /** What it answered to `initialize`. */
  readonly capabilities: ServerCapabilities
  /** Its tools, as last listed. */
  tools: Tool[]
  /** False once its connection closed (its process exited, say); its tools are then left out. */
  connected: boolean
  /** Lists its tools again (every page). */
  refreshTools(): Promise<Tool[]>
  /**
   * Its resources, templates and prompts (every page), asked each time: the gateway passes them
   * through. Ask only an upstream whose capabilities declare them.
   */
  listResources(): Promise<Resource[]>
  listResourceTemplates(): Promise<ResourceTemplate[]>
  listPrompts(): Promise<Prompt[]>
  close(): Promise<void>
}

/** Pages a listing may take before the gateway stops following cursors (a server that loops). */
const MAX_PAGES = 100

/** Every page of a paginated listing. */
export async function listAll<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[]> {
  const all: T[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const { items, nextCursor } = await page(cursor)
    all.push(...items)
    if (!nextCursor) break
    cursor = nextCursor
  }
  return all
}

function transportFor(config: UpstreamConfig): Transport {
  if (isStdioUpstream(config)) {
    // the child gets the SDK's few safe variables (PATH, HOME, ...) and its own `env`, never the
    // gateway's environment, which holds the agent's token; its stderr is the gateway's
    return new StdioClientTransport({ command: config.command, args: config.args, env: config.env, cwd: config.cwd, stderr: 'inherit' })
  }
  return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: config.headers ? { headers: config.headers } : undefined })
}

/**
 * Connects to one upstream (starting its process, for stdio) and lists its tools. `onChanged`
 * hears its list_changed notifications once the gateway has caught up (its tools listed anew);
 * `onClosed`, that its connection ended.
 */
export async function connectUpstream(
  name: string,
  config: UpstreamConfig,
  options: { log: Log; clientInfo: { name: string; version: string }; onChanged(kind: ListKind): void; onClosed(): void },
): Promise<Upstream> {
  const { log } = options
  const client = new Client(options.clientInfo, { capabilities: {} })
  client.onerror = (error) => log.warn(`${name}: ${error.message}`)
  await client.connect(transportFor(config))
  const upstream: Upstream = {
    name,
    client,
    capabilities: client.getServerCapabilities() ?? {},
    tools: [],
    connected: true,
    async refreshTools() {
      if (!upstream.capabilities.tools) return (upstream.tools = [])
      upstream.tools = await listAll(async (cursor) => {
        const page = await client.listTools(cursor ? { cursor } : undefined)
        return { items: page.tools, nextCursor: page.nextCursor }
      })
      return upstream.tools
    },
    listResources: () =>
      listAll(async (cursor) => {
        const page = await client.listResources(cursor ? { cursor } : undefined)
        return { items: page.resources, nextCursor: page.nextCursor }
      }),
    async listResourceTemplates() {
      try {
        return await listAll(async (cursor) => {
          const page = await client.listResourceTemplates(cursor ? { cursor } : undefined)
          return { items: page.resourceTemplates, nextCursor: page.nextCursor }
        })
      } catch (error) {
        // templates belong to the resources capability, yet servers with resources and no
        // templates often leave the method out: they have none
        if (error instanceof McpError && error.code === ErrorCode.MethodNotFound) return []
        throw error
      }
    },
    listPrompts: () =>
      listAll(async (cursor) => {
        const page = await client.listPrompts(cursor ? { cursor } : undefined)
        return { items: page.prompts, nextCursor: page.nextCursor }
      }),
    async close() {
      upstream.connected = false
      await client.close().catch(() => {})
    },
  }
  client.onclose = () => {
    if (!upstream.connected) return
    upstream.connected = false
    log.error(`${name}: the connection to this MCP server closed; its tools are no longer offered`)
    options.onClosed()
  }
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    try {
      await upstream.refreshTools()
    } catch (error) {
      log.warn(`${name}: listing its tools again failed: ${(error as Error).message}`)
    }
    options.onChanged('tools')
  })
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => options.onChanged('resources'))
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => options.onChanged('prompts'))
  await upstream.refreshTools()
  return upstream
}
