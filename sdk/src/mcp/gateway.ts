// The MCP gateway: an MCP server that offers the tools of other MCP servers (its upstreams) and
// puts every call through the approvals service first, as the `call_tool` action of the agent
// whose token it holds. The client (Claude Desktop, Cursor, an agent SDK) talks to the gateway
// instead of the upstreams and changes nothing else.
//
// tools/call is gate(): requestApproval (idempotency key from the call's id), no rule matched:
// the call goes through at once; otherwise it waits for the decision (progress notifications
// meanwhile), and once approved claims the execution, calls the upstream tool with the approved
// arguments, and completes the execution with its result. Rejected, expired and cancelled calls
// come back as tool errors the model can read. A client that cancels the call, or goes away,
// cancels the pending request.
import { randomUUID } from 'node:crypto'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
  type CompleteRequest,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv'
import type { JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js'
import { ApprovalCancelledError, ApprovalExpiredError, ApprovalRejectedError, ApprovalsError } from '../errors.js'
import { requestApproval } from '../gate.js'
import type { Approvals } from '../index.js'
import { transportOf } from '../transport.js'
import type { UpstreamConfig } from './config.js'
import { silentLog, type Log } from './log.js'
import { callIdempotencyKey, DEFAULT_PROGRESS_INTERVAL_MS, duration, progressOf, type CallExtra } from './calls.js'
import { connectUpstream, type ListKind, type Upstream } from './upstreams.js'
import { packageVersion } from './version.js'

/** The action type the gateway asks for: a built-in of the service. */
export const CALL_TOOL = 'call_tool'

/** The params of a `call_tool` request: which tool of which server, with what. */
export interface CallToolParams {
  server: string
  tool: string
  arguments: Record<string, unknown>
}

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** The upstream MCP servers by name: a configuration's `mcpServers` (see `loadGatewayConfig`). */
  servers: Record<string, UpstreamConfig>
  /** A client of the approvals service made with an agent's token: the gateway asks as that agent. */
  approvals: Approvals
  /** The inbox's address (`http://host:4000/`), for the progress messages that say where a reviewer decides. */
  inboxUrl?: string
  /** Narrows rule matching to one module (say, one per team or per MCP client). */
  module?: string
  /** The person whose task the agent runs; defaults to the agent's owner. The service checks the agent may act for them. */
  onBehalfOfUserId?: string
  /** How often a waiting call sends a progress notification (when its client asked for them). Default 15 s. */
  progressIntervalMs?: number
  /** The longest an upstream tool call may take (reset by the upstream's progress). Default 10 minutes. */
  toolTimeoutMs?: number
  /** Where the gateway says what it does; stderr under the commands. Default: nothing. */
  log?: Log
}

/** A running gateway: its upstreams, and MCP servers made for its clients. */
export interface Gateway {
  /** The connected upstreams, by name. */
  readonly upstreams: ReadonlyMap<string, Upstream>
  /**
   * A new MCP server for one client connection (stdio has one; Streamable HTTP one per session).
   * Connect it to a transport; closing the transport cancels the calls still waiting.
   */
  createServer(): Server
  /** Closes every client's server (cancelling the requests still pending), then the upstreams. */
  close(): Promise<void>
}

/** A tool as the gateway offers it. */
interface GatewayTool {
  upstream: Upstream
  tool: Tool
}

/**
 * A tool the gateway can offer: not one that runs only as a task (`execution.taskSupport:
 * "required"`), since the gateway offers no tasks and a plain call of it is refused.
 */
const callable = (tool: Tool) => tool.execution?.taskSupport !== 'required'

/**
 * What the gateway declares to its clients: tools always (its list changes when an upstream's
 * does, or when one goes away); resources, prompts and completions only when an upstream
 * declares them, since it passes them through; never logging, resource subscriptions or tasks,
 * which it does not pass through. The SDK refuses a handler for anything undeclared.
 */
function gatewayCapabilities(upstreams: Iterable<{ capabilities: ServerCapabilities }>): ServerCapabilities {
  const all = [...upstreams].map((u) => u.capabilities)
  const resources = all.some((c) => c.resources)
  const prompts = all.some((c) => c.prompts)
  // completions are of prompts' arguments and resource templates' variables
  const completions = all.some((c) => c.completions && (c.prompts || c.resources))
  return {
    tools: { listChanged: true },
    ...(resources ? { resources: { listChanged: true } } : {}),
    ...(prompts ? { prompts: { listChanged: true } } : {}),
    ...(completions ? { completions: {} } : {}),
  }
}

/** Which upstream has each resource, resource template and prompt a client's listings found. */
interface Owners {
  resources: Map<string, Upstream>
  templates: Map<string, Upstream>
  prompts: Map<string, Upstream>
}

/** Why an approved call was not run. */
class ApprovedCallRefused extends Error {}

const CANCEL = `mutation CancelApprovalRequest($id: ID!, $reason: String) { cancelApprovalRequest(id: $id, reason: $reason) { id status } }`

/** The separator of a gateway tool's name: `<server>__<tool>`. */
export const TOOL_SEPARATOR = '__'

/** A tool's name at the gateway: its server's name, `__`, its own name; two servers never collide. */
export const gatewayToolName = (server: string, tool: string) => `${server}${TOOL_SEPARATOR}${tool}`

/** The largest result kept with the execution, in bytes of JSON; the client always gets it all. */
const MAX_RECORDED_RESULT = 64 * 1024
/** Context sent to the reviewer is bounded: a tool's description and schema come from its server. */
const MAX_DESCRIPTION = 4000
const MAX_SCHEMA_BYTES = 64 * 1024
const MAX_SUMMARY = 300

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? 'null')
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** What the execution keeps of a result: all of it, or its text when it is large (images, files). */
function recordOf(result: CallToolResult): unknown {
  if (jsonBytes(result) <= MAX_RECORDED_RESULT) return result
  const text = result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n')
  return { isError: result.isError ?? false, truncated: true, text: clip(text, 8000) }
}

/** A tool error the model reads, about a call that did not run. */
function refusal(text: string, requestId?: string, status?: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }], ...(requestId ? { _meta: { 'approvals/requestId': requestId, ...(status ? { 'approvals/status': status } : {}) } } : {}) }
}

/** The words for why a call did not run. */
function outcomeOf(error: unknown, requestId: string | undefined): CallToolResult {
  if (error instanceof ApprovalRejectedError) {
    const text = error.comment ? `A reviewer rejected this call: ${error.comment}` : 'A reviewer rejected this call without giving a reason.'
    return refusal(`${text}\nThe tool did not run.`, requestId, 'REJECTED')
  }
  if (error instanceof ApprovalExpiredError) return refusal('Nobody approved this call in time, so it expired; the tool did not run.', requestId, 'EXPIRED')
  if (error instanceof ApprovalCancelledError) {
    return refusal(`The approval request for this call was cancelled${error.reason ? `: ${error.reason}` : ''}; the tool did not run.`, requestId, 'CANCELLED')
  }
  if (error instanceof ApprovedCallRefused) return refusal(error.message, requestId, 'APPROVED')
  if (error instanceof ApprovalsError) {
    return refusal(`The call could not be put to the approvals service (${error.code}: ${error.message}); the tool did not run.`, requestId)
  }
  return refusal(`The call failed: ${error instanceof Error ? error.message : String(error)}`, requestId)
}

/**
 * Connects to the upstreams and returns the gateway. An upstream that cannot be reached is left
 * out (and logged); when none can, it throws.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? silentLog
  const { approvals } = options
  const transport = transportOf(approvals)
  const progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS
  const toolTimeoutMs = options.toolTimeoutMs ?? 10 * 60_000
  const servers = new Set<Server>()
  const calls = new Set<Promise<unknown>>()
  const validator = new AjvJsonSchemaValidator()
  const validators = new WeakMap<Tool, JsonSchemaValidator<unknown> | null>()
  const clientInfo = { name: 'approvals-mcp-gateway', version: packageVersion }

  // known once the upstreams are connected, before any client can be told of a change
  let offered: ServerCapabilities = {}
  const broadcast = (kind: ListKind) => {
    if (!offered[kind]) return
    for (const server of servers) {
      const sent = kind === 'tools' ? server.sendToolListChanged() : kind === 'resources' ? server.sendResourceListChanged() : server.sendPromptListChanged()
      sent.catch(() => {})
    }
  }

  const upstreams = new Map<string, Upstream>()
  const connecting = Object.entries(options.servers).map(async ([name, config]) => {
    try {
      const onClosed = () => {
        broadcast('tools')
        if (upstreams.get(name)?.capabilities.resources) broadcast('resources')
        if (upstreams.get(name)?.capabilities.prompts) broadcast('prompts')
      }
      const upstream = await connectUpstream(name, config, { log, clientInfo, onChanged: broadcast, onClosed })
      upstreams.set(name, upstream)
      const tools = upstream.tools.filter(callable)
      log.info(`${name}: connected, ${tools.length} tool${tools.length === 1 ? '' : 's'}`)
      const tasksOnly = upstream.tools.filter((t) => !callable(t)).map((t) => t.name)
      if (tasksOnly.length) log.info(`${name}: left out ${tasksOnly.join(', ')}, which run${tasksOnly.length === 1 ? 's' : ''} only as tasks (the gateway offers no tasks)`)
    } catch (error) {
      log.error(`${name}: could not connect to this MCP server, left out: ${(error as Error).message}`)
    }
  })
  await Promise.all(connecting)
  if (upstreams.size === 0) throw new Error('No MCP server of the configuration could be reached.')
  offered = gatewayCapabilities(upstreams.values())
  // the configuration's order, whichever connected first
  const ordered = () => Object.keys(options.servers).flatMap((name) => (upstreams.get(name)?.connected ? [upstreams.get(name)!] : []))

  function toolsByName(): Map<string, GatewayTool> {
    const tools = new Map<string, GatewayTool>()
    for (const upstream of ordered()) for (const tool of upstream.tools.filter(callable)) tools.set(gatewayToolName(upstream.name, tool.name), { upstream, tool })
    return tools
  }

  async function findTool(name: string): Promise<GatewayTool | undefined> {
    const found = toolsByName().get(name)
    if (found) return found
    // a tool added since the last listing: list again once
    await Promise.all(ordered().map((u) => u.refreshTools().catch((error) => log.warn(`${u.name}: listing its tools failed: ${(error as Error).message}`))))
    return toolsByName().get(name)
  }

  /** The arguments' problem with the tool's input schema, or null (also when the schema cannot be compiled: the upstream checks them too). */
  function argumentsProblem(tool: Tool, args: unknown): string | null {
    let validate = validators.get(tool)
    if (validate === undefined) {
      try {
        validate = validator.getValidator(tool.inputSchema as never)
      } catch (error) {
        log.warn(`${tool.name}: its input schema does not compile (${(error as Error).message}); approved arguments are left to the server to check`)
        validate = null
      }
      validators.set(tool, validate)
    }
    if (!validate) return null
    const checked = validate(args)
    return checked.valid ? null : checked.errorMessage
  }

  function reviewContext(found: GatewayTool, server: Server) {
    const { tool, upstream } = found
    return {
      tool: {
        server: upstream.name,
        name: tool.name,
        title: tool.title ?? tool.annotations?.title ?? null,
        description: tool.description ? clip(tool.description, MAX_DESCRIPTION) : null,
        inputSchema: jsonBytes(tool.inputSchema) <= MAX_SCHEMA_BYTES ? tool.inputSchema : null,
        annotations: tool.annotations ?? null,
      },
      client: server.getClientVersion() ? { name: server.getClientVersion()!.name, version: server.getClientVersion()!.version } : null,
    }
  }

  function reviewSummary(found: GatewayTool, args: Record<string, unknown>) {
    const { tool, upstream } = found
    const title = tool.title ?? tool.annotations?.title ?? tool.name
    return clip(`${upstream.name}: ${title} ${JSON.stringify(args)}`, MAX_SUMMARY)
  }

  /** Cancels the call's request if it still waits: by its id, or found again by its idempotency key. */
  async function cancelPending(requestId: string | undefined, ask: () => Promise<string | undefined>) {
    try {
      const id = requestId ?? (await ask())
      if (!id) return
      await approvals.request(CANCEL, { id, reason: 'The MCP client cancelled the tool call.' })
      log.info(`request ${id}: cancelled, its client cancelled the call`)
    } catch (error) {
      // decided meanwhile, or the service cannot be reached: nothing more to do here
      log.debug(`cancelling the request ${requestId ?? '(not yet known)'} failed: ${(error as Error).message}`)
    }
  }

  async function callTool(server: Server, session: string, name: string, args: Record<string, unknown>, extra: CallExtra): Promise<CallToolResult> {
    const found = await findTool(name)
    if (!found) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`)
    const { upstream, tool } = found
    const params: CallToolParams = { server: upstream.name, tool: tool.name, arguments: args }
    const ask = {
      summary: () => reviewSummary(found, args),
      context: () => reviewContext(found, server),
      module: options.module,
      onBehalfOfUserId: options.onBehalfOfUserId,
      idempotencyKey: callIdempotencyKey(session, extra.requestId),
    }
    const progress = progressOf(extra, progressIntervalMs)
    let requestId: string | undefined
    let ran: { result: CallToolResult; edited: boolean; arguments: unknown } | undefined

    const gated = approvals.gate<CallToolParams, unknown>(
      CALL_TOOL,
      async (approved, execution) => {
        progress.stop()
        if (execution.requestId) {
          // what a reviewer approved must still be this call, with arguments the tool accepts
          if (approved.server !== params.server || approved.tool !== params.tool) {
            throw new ApprovedCallRefused(
              `The approved call names another tool (${gatewayToolName(approved.server, approved.tool)}) than the one called; nothing ran. Call that tool yourself if it is what you need.`,
            )
          }
          const problem = argumentsProblem(tool, approved.arguments)
          if (problem) throw new ApprovedCallRefused(`A reviewer approved arguments that do not satisfy the tool's input schema (${problem}); the tool did not run.`)
          progress.send(`Approved; calling ${name}`)
          log.info(`request ${execution.requestId}: approved${execution.edited ? ' with edited arguments' : ''}, calling ${name}`)
        }
        const result = (await upstream.client.callTool({ name: tool.name, arguments: approved.arguments }, undefined, {
          signal: execution.signal,
          timeout: toolTimeoutMs,
          resetTimeoutOnProgress: true,
          onprogress: (p) => progress.send(p.message ?? `${name}: ${p.progress}${p.total ? ` of ${p.total}` : ''}`),
        })) as CallToolResult
        ran = { result, edited: execution.edited, arguments: approved.arguments }
        return recordOf(result)
      },
      // nobody runs a failed call again: its client had its answer, and the key dies with the connection
      { summary: ask.summary, context: ask.context, module: ask.module, onBehalfOfUserId: ask.onBehalfOfUserId, retryFailures: false },
    )

    try {
      const value = await gated(params, {
        idempotencyKey: ask.idempotencyKey,
        signal: extra.signal,
        onRequest: (request) => {
          requestId = request.id
          if (request.status !== 'PENDING') return
          log.info(`request ${request.id}: ${name} waits for approval`)
          const where = options.inboxUrl ? ` (${new URL(`#/inbox/${encodeURIComponent(request.id)}`, options.inboxUrl)})` : ''
          progress.every((elapsed) => `Waiting for a reviewer to approve this call${where}${elapsed ? `: ${duration(elapsed)} so far` : ''}`)
        },
      })
      const result = ran?.result ?? (value as CallToolResult)
      return withOutcome(result, requestId, ran)
    } catch (error) {
      if (ran) {
        // it ran, but the report did not reach the service: the client still gets its result
        log.error(`request ${requestId}: ${name} ran, but reporting it failed: ${(error as Error).message}`)
        return withOutcome(ran.result, requestId, ran)
      }
      if (extra.signal.aborted) {
        await cancelPending(requestId, async () => {
          const again = await requestApproval(transport, CALL_TOOL, params, ask)
          return again.request?.status === 'PENDING' ? again.request.id : undefined
        })
        throw error // the protocol sends nothing for a cancelled request
      }
      if (error instanceof McpError) throw error // the upstream's own answer, passed on as it came
      if (!(error instanceof ApprovalRejectedError || error instanceof ApprovalExpiredError || error instanceof ApprovalCancelledError)) {
        log.warn(`${name}: ${(error as Error).message}`)
      } else log.info(`request ${requestId}: ${name} ${error.code.toLowerCase()}`)
      return outcomeOf(error, requestId)
    } finally {
      progress.stop()
    }

    function withOutcome(result: CallToolResult, id: string | undefined, call: typeof ran): CallToolResult {
      if (!id) return result
      const content = [...(result.content ?? [])]
      if (call?.edited) {
        content.push({ type: 'text', text: `Note: a reviewer changed the arguments before approving; the tool ran with ${JSON.stringify(call.arguments)}` })
      }
      return { ...result, content, _meta: { ...result._meta, 'approvals/requestId': id, 'approvals/status': 'APPROVED' } }
    }
  }

  function instructions(): string {
    const own =
      'The tools here are those of several MCP servers, named <server>__<tool>. Some calls wait for a person to approve them first; ' +
      'a rejected call returns an error with the reviewer\'s reason: read it and adapt, rather than calling again unchanged.'
    const theirs = ordered().flatMap((u) => {
      const text = u.client.getInstructions()
      return text ? [`${u.name}: ${clip(text, 2000)}`] : []
    })
    return [own, ...theirs].join('\n\n')
  }

  function createServer(): Server {
    const session = randomUUID()
    const server = new Server({ name: 'approvals-mcp-gateway', version: packageVersion }, { capabilities: offered, instructions: instructions() })
    servers.add(server)
    const previousOnClose = server.onclose
    server.onclose = () => {
      servers.delete(server)
      previousOnClose?.()
    }
    server.onerror = (error) => log.warn(`client connection: ${error.message}`)

    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [...toolsByName()].map(([name, { tool }]) => {
        // tasks are the gateway's to offer, and it does not
        const { execution: _execution, ...rest } = tool
        return { ...rest, name }
      }),
    }))

    server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
      const call = callTool(server, session, request.params.name, request.params.arguments ?? {}, extra)
      calls.add(call)
      void call.catch(() => {}).finally(() => calls.delete(call))
      return call
    })

    const owners: Owners = { resources: new Map(), templates: new Map(), prompts: new Map() }
    if (offered.resources) passResources(server, owners)
    if (offered.prompts) passPrompts(server, owners)
    if (offered.completions) passCompletions(server, owners)
    return server
  }

  // Resources, prompts and completions pass through to the upstreams that declare them, and only
  // to those: an upstream is never asked for what it does not offer. What a client's listings
  // found (its Owners) sends its reads, prompts and completions to the upstream that has them.
  const offering = (kind: 'resources' | 'prompts') => ordered().filter((u) => u.capabilities[kind])

  /** Each upstream's answer to a listing; one that fails is logged and left out of it. */
  async function fromEach<T>(what: string, those: Upstream[], list: (u: Upstream) => Promise<T[]>): Promise<{ u: Upstream; items: T[] }[]> {
    return Promise.all(
      those.map(async (u) => {
        try {
          return { u, items: await list(u) }
        } catch (error) {
          log.warn(`${u.name}: listing its ${what} failed, left out: ${(error as Error).message}`)
          return { u, items: [] }
        }
      }),
    )
  }

  async function listResources({ resources }: Owners) {
    const lists = await fromEach('resources', offering('resources'), (u) => u.listResources())
    for (const { u, items } of lists) for (const r of items) if (!resources.has(r.uri)) resources.set(r.uri, u)
    return lists.flatMap((l) => l.items)
  }

  async function listResourceTemplates({ templates }: Owners) {
    const lists = await fromEach('resource templates', offering('resources'), (u) => u.listResourceTemplates())
    for (const { u, items } of lists) for (const t of items) if (!templates.has(t.uriTemplate)) templates.set(t.uriTemplate, u)
    return lists.flatMap((l) => l.items)
  }

  async function listPrompts(owners: Owners) {
    const lists = await fromEach('prompts', offering('prompts'), (u) => u.listPrompts())
    const owned = owners.prompts
    const prompts = []
    for (const { u, items } of lists) {
      for (const p of items) {
        const taken = owned.get(p.name)
        if (taken && taken !== u && taken.connected) {
          log.warn(`prompt ${p.name} of ${u.name} is hidden by ${taken.name}'s, which has the same name`)
          continue
        }
        owned.set(p.name, u)
        prompts.push(p)
      }
    }
    return prompts
  }

  /** The upstream of a prompt (or resource template) by name, listing them first if this client has not. */
  async function ownerOf(owners: Owners, ref: CompleteRequest['params']['ref']): Promise<Upstream | undefined> {
    const known = () => (ref.type === 'ref/prompt' ? owners.prompts.get(ref.name) : owners.templates.get(ref.uri))
    let owner = known()
    if (!owner?.connected) {
      await (ref.type === 'ref/prompt' ? listPrompts(owners) : listResourceTemplates(owners))
      owner = known()
    }
    return owner?.connected ? owner : undefined
  }

  function passResources(server: Server, owners: Owners) {
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: await listResources(owners) }))
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: await listResourceTemplates(owners) }))
    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      const owner = owners.resources.get(request.params.uri)
      const candidates = owner?.connected ? [owner] : offering('resources')
      let last: unknown = new McpError(ErrorCode.InvalidParams, `Unknown resource: ${request.params.uri}`)
      // a URI no listing named (from a template): the first server that can read it
      for (const u of candidates) {
        try {
          return await u.client.readResource(request.params, { signal: extra.signal })
        } catch (error) {
          last = error
        }
      }
      throw last
    })
  }

  function passPrompts(server: Server, owners: Owners) {
    server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: await listPrompts(owners) }))
    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
      const owner = await ownerOf(owners, { type: 'ref/prompt', name: request.params.name })
      if (!owner) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${request.params.name}`)
      return owner.client.getPrompt(request.params, { signal: extra.signal })
    })
  }

  function passCompletions(server: Server, owners: Owners) {
    server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
      const { ref } = request.params
      const owner = await ownerOf(owners, ref)
      if (!owner) throw new McpError(ErrorCode.InvalidParams, ref.type === 'ref/prompt' ? `Unknown prompt: ${ref.name}` : `Unknown resource template: ${ref.uri}`)
      // an upstream that offers no completions has none to give
      if (!owner.capabilities.completions) return { completion: { values: [] } }
      return owner.client.complete(request.params, { signal: extra.signal })
    })
  }

  let closing: Promise<void> | undefined
  return {
    upstreams,
    createServer,
    close() {
      closing ??= (async () => {
        // closing a server aborts its calls, which cancel their pending requests
        await Promise.all([...servers].map((s) => s.close().catch(() => {})))
        await Promise.all([...calls].map((c) => c.catch(() => {})))
        await Promise.all([...upstreams.values()].map((u) => u.close()))
      })()
      return closing
    },
  }
}
