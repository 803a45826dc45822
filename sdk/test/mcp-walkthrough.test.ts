// The README's five-minute walkthrough of the MCP gateway, run as written, in front of real MCP
// servers from npm: its shell commands (the agent, its token, the rule) are read out of README.md
// and sent as they are; its mcp.json starts `@modelcontextprotocol/server-filesystem` with npx; its
// client configuration starts the built gateway (`node .../sdk/dist/mcp/gateway-cli.js`) over
// stdio, driven by the official SDK's Client as an MCP client would. Then the same gateway, started
// by its bin, in front of `@modelcontextprotocol/server-everything` (tools, resources, templates,
// prompts, completions, logging, tasks) and server-filesystem together.
//
// The SDK is built as `npm run build:sdk` builds it, into a temporary copy of the package (its bin,
// package.json and dist; node_modules the project's), so that the project's own sdk/dist, which
// other tests' processes may be loading, is never rewritten under them. The gateway runs from the
// project's folder ("From the project, ..."), where npx finds both servers among the SDK's
// devDependencies instead of downloading them.
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { ErrorCode, type CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type TestServer } from '../../server/test/harness.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** A fenced block of the README: its language and its text, out of the list item's indentation. */
interface Block {
  lang: string
  text: string
}

/** The fenced blocks of the README's "In five minutes" walkthrough, in order. */
function walkthroughBlocks(): Block[] {
  const start = README.indexOf('**In five minutes**')
  const end = README.indexOf('**What the client sees.**')
  if (start < 0 || end < start) throw new Error('README.md has no "In five minutes" walkthrough before "What the client sees."')
  const blocks: Block[] = []
  for (const [, indent, lang, body] of README.slice(start, end).matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```$/gm)) {
    blocks.push({ lang: lang!, text: body!.split('\n').map((line) => (line.startsWith(indent!) ? line.slice(indent!.length) : line)).join('\n') })
  }
  return blocks
}

/**
 * The walkthrough's API calls, in order, as JSON bodies: what its shell blocks send with its `gql`
 * function (`gql '<json>'`), and any GraphQL block as a query of its own.
 */
const apiCalls = (blocks: Block[]) =>
  blocks.flatMap((b) =>
    b.lang === 'sh' ? [...b.text.matchAll(/^gql '([^']*)'$/gm)].map((m) => m[1]!) : b.lang === 'graphql' ? [JSON.stringify({ query: b.text })] : [],
  )

const text = (result: unknown) => ((result as CallToolResult).content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n')

/**
 * Builds the SDK as `npm run build:sdk` does, into `<dir>/sdk` beside a copy of its bin and
 * package.json, with the project's node_modules: a stand-in for /path/to/approvals.
 */
async function buildSdkInto(dir: string) {
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
  await promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'sdk', 'tsconfig.build.json'), '--outDir', join(dir, 'sdk', 'dist')], { cwd: ROOT })
  mkdirSync(join(dir, 'sdk', 'bin'), { recursive: true })
  copyFileSync(join(ROOT, 'sdk', 'package.json'), join(dir, 'sdk', 'package.json'))
  copyFileSync(join(ROOT, 'sdk', 'bin', 'approvals-mcp-gateway.js'), join(dir, 'sdk', 'bin', 'approvals-mcp-gateway.js'))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
}

/** An MCP client connected to a gateway process it started, as Claude Desktop starts one. */
interface Connected {
  client: Client
  stderr: string[]
  /** What the Client could not read from the gateway's stdout. */
  protocolErrors: Error[]
}

async function connect(command: string, args: string[], env: Record<string, string>): Promise<Connected> {
  const transport = new StdioClientTransport({ command, args, env, cwd: ROOT, stderr: 'pipe' })
  const stderr: string[] = []
  createInterface({ input: transport.stderr as unknown as NodeJS.ReadableStream }).on('line', (line) => stderr.push(line))
  const client = new Client({ name: 'walkthrough', version: '1.0.0' })
  const protocolErrors: Error[] = []
  client.onerror = (error) => protocolErrors.push(error)
  try {
    await client.connect(transport)
  } catch (error) {
    throw new Error(`${(error as Error).message}\nthe gateway said:\n${stderr.join('\n')}`)
  }
  return { client, stderr, protocolErrors }
}

let server: TestServer
let folder: string, approvalsDir: string, notesDir: string, mcpJson: string
const connections: Connected[] = []
/** What the walkthrough's API calls answered: the agent's id and token, the owner's id, the rule's id. */
const made: { agentId?: string; agentToken?: string; ownerId?: string; ruleId?: string } = {}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'approvals-walkthrough-'))
  approvalsDir = join(folder, 'approvals')
  notesDir = join(folder, 'Notes')
  mkdirSync(notesDir)
  ;[server] = await Promise.all([startServer(), buildSdkInto(approvalsDir)])
}, 180_000)

afterAll(async () => {
  await Promise.all(connections.map((c) => c.client.close()))
  await server?.destroy()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

/** Calls `name` and returns once its request waits in the owner's inbox (they review the agent they own, as the rule allows), with the request and the call. */
async function callAndWait(client: Client, name: string, args: Record<string, unknown>) {
  const pending = async () => {
    const res = await server.gql(`{ approvalInbox(first: 50) { edges { node { id actionType params } } } }`, {}, server.ownerToken)
    if (res.errors) throw new Error(JSON.stringify(res.errors))
    return (res.data.approvalInbox.edges as { node: { id: string; actionType: string; params: any } }[]).map((e) => e.node).filter((n) => n.actionType === 'call_tool')
  }
  const before = new Set((await pending()).map((r) => r.id))
  const listening = server.subscribed('approvalDecision')
  const call = client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })
  call.catch(() => {})
  await Promise.race([listening, call.then((result) => Promise.reject(new Error(`the call was answered without waiting: ${JSON.stringify(result)}`)))])
  const request = (await pending()).find((r) => !before.has(r.id))
  if (!request) throw new Error('no new request in the inbox')
  return { request, call }
}

const approve = (id: string, params?: unknown) =>
  server.gql(`mutation($id: ID!, $p: JSON) { approveRequest(id: $id, params: $p) { status } }`, { id, p: params }, server.ownerToken)
const reject = (id: string, comment: string) =>
  server.gql(`mutation($id: ID!, $c: String) { rejectRequest(id: $id, comment: $c) { status } }`, { id, c: comment }, server.ownerToken)

/** The agent's requests so far. */
async function agentRequestCount() {
  const res = await server.gql(`query($a: ID!) { approvalHistory(first: 100, filter: { requesterId: $a }) { edges { node { id } } } }`, { a: made.agentId }, server.ownerToken)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.approvalHistory.edges.length as number
}

describe("the README's five-minute walkthrough of the MCP gateway, as written", () => {
  let gateway: Connected

  it('has the blocks the walkthrough is made of: the API calls, mcp.json, the client configuration, the agent', () => {
    expect(walkthroughBlocks().map((b) => b.lang)).toEqual(['sh', 'sh', 'json', 'json', 'ts'])
  })

  it("steps 1 and 2: its API calls run as they are (the rule's JSONLogic goes in variables) and make an agent, its token and the rule", async () => {
    const bodies = apiCalls(walkthroughBlocks())
    const placeholders = (): Record<string, string | undefined> => ({ '<the agent id>': made.agentId, '<your user id>': made.ownerId })
    for (const raw of bodies) {
      let body = raw
      for (const [placeholder, value] of Object.entries(placeholders())) if (body.includes(placeholder)) body = body.replaceAll(placeholder, value!)
      const { query, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> }
      const res = await server.gql(query, variables, server.ownerToken)
      expect(res.errors, `${raw}\nanswered ${JSON.stringify(res.errors)}`).toBeUndefined()
      made.agentId ??= res.data.createAgent?.id
      made.agentToken ??= res.data.createApiToken?.token
      made.ownerId ??= res.data.viewer?.principal?.id
      made.ruleId ??= res.data.createApprovalRule?.id
    }
    expect(bodies).toHaveLength(4)
    expect(made).toEqual({ agentId: expect.any(String), agentToken: expect.stringMatching(/^apv_/), ownerId: expect.any(String), ruleId: expect.any(String) })
    const rule = await server.gql(`query($id: ID!) { approvalRule(id: $id) { name actionType allowSelfApproval conditions primaryResolver { type user { id } } } }`, { id: made.ruleId }, server.ownerToken)
    expect(rule.data.approvalRule).toEqual({
      name: 'Writing files',
      actionType: 'call_tool',
      allowSelfApproval: true,
      conditions: { and: [{ '==': [{ var: 'params.server' }, 'filesystem'] }, { in: [{ var: 'params.tool' }, ['write_file', 'edit_file', 'move_file']] }] },
      primaryResolver: { type: 'NAMED_USER', user: { id: made.ownerId } },
    })
  })

  it("steps 3 and 4: the MCP client starts the gateway from its configuration, and the gateway starts server-filesystem from mcp.json; tools are listed, and only tools are offered", async () => {
    const [servers, clientConfig] = walkthroughBlocks().filter((b) => b.lang === 'json')
    mcpJson = join(folder, 'mcp.json')
    expect(servers!.text).toContain('"/Users/me/Notes"')
    writeFileSync(mcpJson, servers!.text.replace('"/Users/me/Notes"', JSON.stringify(notesDir)))
    const { approvals } = JSON.parse(clientConfig!.text).mcpServers as Record<string, { command: string; args: string[]; env: Record<string, string> }>
    expect(approvals!.env).toEqual({ APPROVALS_URL: 'http://localhost:4000/graphql', APPROVALS_TOKEN: 'apv_...' })
    const args = approvals!.args.map((arg) => arg.replace(/^\/path\/to\/approvals\//, `${approvalsDir}/`).replace(/^\/path\/to\/mcp\.json$/, mcpJson))
    expect(existsSync(args[0]!)).toBe(true)
    gateway = await connect(approvals!.command, args, { APPROVALS_URL: server.url, APPROVALS_TOKEN: made.agentToken! })
    connections.push(gateway)

    // the gateway declares what its one upstream offers: tools, nothing else
    expect(gateway.client.getServerCapabilities()).toEqual({ tools: { listChanged: true } })
    const { tools } = await gateway.client.listTools()
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['filesystem__read_text_file', 'filesystem__write_file', 'filesystem__edit_file', 'filesystem__move_file', 'filesystem__list_directory']))
    expect(tools.find((t) => t.name === 'filesystem__write_file')).toMatchObject({ title: 'Write File', annotations: { destructiveHint: true }, inputSchema: { required: ['path', 'content'] } })
    // what a client of a tools-only server may still ask: refused as not offered, and the gateway carries on
    await expect(gateway.client.listResources()).rejects.toMatchObject({ code: ErrorCode.MethodNotFound })
    await expect(gateway.client.listPrompts()).rejects.toMatchObject({ code: ErrorCode.MethodNotFound })
    expect((await gateway.client.listTools()).tools).toHaveLength(tools.length)
  }, 90_000)

  it('an ungated read runs at once, and nothing is recorded', async () => {
    writeFileSync(join(notesDir, 'ideas.md'), 'Ship the gateway')
    const requests = await agentRequestCount()
    const result = await gateway.client.callTool({ name: 'filesystem__read_text_file', arguments: { path: join(notesDir, 'ideas.md') } })
    expect(result.isError).toBeFalsy()
    expect(text(result)).toBe('Ship the gateway')
    expect(result._meta?.['approvals/requestId']).toBeUndefined()
    expect(await agentRequestCount()).toBe(requests)
    expect(readFileSync(join(notesDir, 'ideas.md'), 'utf8')).toBe('Ship the gateway')
  })

  it('a gated write waits for the owner, and runs once approved', async () => {
    const path = join(notesDir, 'todo.md')
    const { request, call } = await callAndWait(gateway.client, 'filesystem__write_file', { path, content: 'Buy milk' })
    expect(request.params).toEqual({ server: 'filesystem', tool: 'write_file', arguments: { path, content: 'Buy milk' } })
    expect(existsSync(path)).toBe(false)
    expect((await approve(request.id)).errors).toBeUndefined()
    const result = await call
    expect(result.isError).toBeFalsy()
    expect(text(result)).toBe(`Successfully wrote to ${path}`)
    expect(result._meta).toMatchObject({ 'approvals/requestId': request.id, 'approvals/status': 'APPROVED' })
    expect(readFileSync(path, 'utf8')).toBe('Buy milk')
  })

  it("a gated write approved with the reviewer's edit writes what the reviewer approved", async () => {
    const path = join(notesDir, 'plan.md')
    const { request, call } = await callAndWait(gateway.client, 'filesystem__write_file', { path, content: 'draft' })
    expect(existsSync(path)).toBe(false)
    expect((await approve(request.id, { server: 'filesystem', tool: 'write_file', arguments: { path, content: 'final plan' } })).errors).toBeUndefined()
    const result = await call
    expect(result.isError).toBeFalsy()
    expect(text(result)).toBe(`Successfully wrote to ${path}\nNote: a reviewer changed the arguments before approving; the tool ran with ${JSON.stringify({ path, content: 'final plan' })}`)
    expect(readFileSync(path, 'utf8')).toBe('final plan')
  })

  it("a rejected move does not run: the model reads the reviewer's reason, and the files stay where they were", async () => {
    const source = join(notesDir, 'ideas.md')
    const destination = join(notesDir, 'archive.md')
    const { request, call } = await callAndWait(gateway.client, 'filesystem__move_file', { source, destination })
    expect((await reject(request.id, 'Keep it where it is')).errors).toBeUndefined()
    const result = await call
    expect(result).toMatchObject({ isError: true, _meta: { 'approvals/requestId': request.id, 'approvals/status': 'REJECTED' } })
    expect(text(result)).toBe('A reviewer rejected this call: Keep it where it is\nThe tool did not run.')
    expect(readFileSync(source, 'utf8')).toBe('Ship the gateway')
    expect(existsSync(destination)).toBe(false)
    expect(gateway.protocolErrors).toEqual([])
  })
})

describe('the gateway, started by its bin, in front of server-everything and server-filesystem', () => {
  let gateway: Connected

  beforeAll(async () => {
    if (!made.agentToken || !mcpJson) throw new Error('the walkthrough above made the agent, its rule and mcp.json')
    const config = join(folder, 'everything.json')
    const { mcpServers } = JSON.parse(readFileSync(mcpJson, 'utf8')) as { mcpServers: Record<string, unknown> }
    writeFileSync(config, JSON.stringify({ mcpServers: { everything: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'] }, ...mcpServers } }))
    gateway = await connect(process.execPath, [join(approvalsDir, 'sdk', 'bin', 'approvals-mcp-gateway.js'), '--config', config], {
      APPROVALS_URL: server.url,
      APPROVALS_TOKEN: made.agentToken,
    })
    connections.push(gateway)
  }, 90_000)

  it('declares what its upstreams declare and it passes through (not logging, subscriptions or tasks, which it does not)', () => {
    expect(gateway.client.getServerCapabilities()).toEqual({ tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true }, completions: {} })
  })

  it("lists both servers' tools, but not a tool that only runs as a task; an ungated call passes through", async () => {
    const names = (await gateway.client.listTools()).tools.map((t) => t.name)
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'everything__get-sum', 'filesystem__write_file']))
    expect(names).not.toContain('everything__simulate-research-query')
    const echoed = await gateway.client.callTool({ name: 'everything__echo', arguments: { message: 'hello' } })
    expect(text(echoed)).toBe('Echo: hello')
    const sum = await gateway.client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 3 } })
    expect(text(sum)).toBe('The sum of 2 and 3 is 5.')
  })

  it("passes resources, templates, prompts and completions through to server-everything, never asking server-filesystem, which offers none", async () => {
    const { resources } = await gateway.client.listResources()
    expect(resources.map((r) => r.uri)).toContain('demo://resource/static/document/architecture.md')
    const doc = await gateway.client.readResource({ uri: 'demo://resource/static/document/architecture.md' })
    expect(doc.contents[0]).toMatchObject({ uri: 'demo://resource/static/document/architecture.md', mimeType: 'text/markdown' })

    const { resourceTemplates } = await gateway.client.listResourceTemplates()
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('demo://resource/dynamic/text/{resourceId}')
    const fromTemplate = await gateway.client.readResource({ uri: 'demo://resource/dynamic/text/7' })
    expect(fromTemplate.contents[0]).toMatchObject({ uri: 'demo://resource/dynamic/text/7' })

    const { prompts } = await gateway.client.listPrompts()
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['simple-prompt', 'args-prompt', 'completable-prompt']))
    const prompt = await gateway.client.getPrompt({ name: 'completable-prompt', arguments: { department: 'Sales', name: 'Eve' } })
    expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Please promote Eve to the head of the Sales team.' } }])

    const completed = await gateway.client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'Sa' } })
    expect(completed.completion.values).toEqual(['Sales'])
    const person = await gateway.client.complete({
      ref: { type: 'ref/prompt', name: 'completable-prompt' },
      argument: { name: 'name', value: '' },
      context: { arguments: { department: 'Engineering' } },
    })
    expect(person.completion.values).toEqual(['Alice', 'Bob', 'Charlie'])
    // no listing failed, no upstream was asked what it does not offer
    expect(gateway.stderr.filter((line) => / (warn|error) \[approvals-mcp-gateway\]/.test(line))).toEqual([])
    expect(gateway.protocolErrors).toEqual([])
  })

  it("the README's rule still gates server-filesystem's writes behind the same gateway", async () => {
    const path = join(notesDir, 'everything.md')
    const { request, call } = await callAndWait(gateway.client, 'filesystem__write_file', { path, content: 'both servers' })
    expect(existsSync(path)).toBe(false)
    expect((await approve(request.id)).errors).toBeUndefined()
    expect(text(await call)).toBe(`Successfully wrote to ${path}`)
    expect(readFileSync(path, 'utf8')).toBe('both servers')
  })
})
