// The MCP gateway through real processes: the official SDK's Client over stdio against
// `approvals-mcp-gateway` (sdk/src/mcp/gateway-cli.ts, run by tsx), itself in front of two
// upstream MCP servers it starts (sdk/test/fixtures/mcp-files-server.ts, one per folder, with the
// same tools), and the approvals API in this process; and once over Streamable HTTP on both sides.
// A rule gates write_file of the "files" (and "web") server only; the reviewer decides through the API.
import { spawn, type ChildProcess } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js'
import { Agent, MCPServerStdio, run, setTracingDisabled } from '@openai/agents'
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, createRule, startServer, type TestServer } from '../../server/test/harness.js'
import { createAgent, createOwner, deferred, readRequest, type Principal } from './helpers.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const GATEWAY = fileURLToPath(new URL('../src/mcp/gateway-cli.ts', import.meta.url))
const UPSTREAM = fileURLToPath(new URL('./fixtures/mcp-files-server.ts', import.meta.url))
const MODULE = 'mcp-gateway'

let server: TestServer
let owner: Principal, reviewer: Principal, agent: Principal
let folder: string, filesDir: string, notesDir: string, configFile: string
let gateway: Gateway

/** A gateway process and the official Client connected to it. */
interface Gateway {
  client: Client
  transport: StdioClientTransport
  stderr: string[]
  /** What the Client could not read from the gateway's stdout (anything but JSON-RPC). */
  protocolErrors: Error[]
}

const gatewayEnv = (overrides: Record<string, string> = {}) => ({
  ...(process.env as Record<string, string>),
  APPROVALS_URL: server.url,
  APPROVALS_TOKEN: agent.token,
  APPROVALS_MODULE: MODULE,
  APPROVALS_LOG_LEVEL: 'debug',
  ...overrides,
})

async function startGateway(): Promise<Gateway> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', GATEWAY, '--config', configFile],
    env: gatewayEnv(),
    cwd: ROOT,
    stderr: 'pipe',
  })
  const stderr: string[] = []
  createInterface({ input: transport.stderr as unknown as NodeJS.ReadableStream }).on('line', (line) => stderr.push(line))
  const client = new Client({ name: 'gateway-test', version: '1.0.0' })
  const protocolErrors: Error[] = []
  client.onerror = (error) => protocolErrors.push(error)
  await client.connect(transport)
  return { client, transport, stderr, protocolErrors }
}

beforeAll(async () => {
  server = await startServer()
  owner = await createOwner(server, 'Gus Owner')
  reviewer = await createOwner(server, 'Rita Reviewer')
  agent = await createAgent(server, owner.id, 'Desktop assistant')
  await createRule(server, {
    name: 'Writing files needs Rita',
    resourceType: 'AGENT_ACTION',
    actionType: 'call_tool',
    module: MODULE,
    conditions: { and: [{ in: [{ var: 'params.server' }, ['files', 'web']] }, { '==': [{ var: 'params.tool' }, 'write_file'] }] },
    primaryResolver: { type: 'NAMED_USER', userId: reviewer.id },
  })
  folder = mkdtempSync(join(tmpdir(), 'approvals-mcp-'))
  filesDir = join(folder, 'files')
  notesDir = join(folder, 'notes')
  mkdirSync(filesDir)
  mkdirSync(notesDir)
  const upstream = (dir: string, name: string) => ({ command: process.execPath, args: ['--import', 'tsx', UPSTREAM], env: { DIR: dir, SERVER_NAME: name } })
  configFile = join(folder, 'mcp.json')
  writeFileSync(configFile, JSON.stringify({ mcpServers: { files: upstream(filesDir, 'files'), notes: upstream(notesDir, 'notes') } }, null, 2))
  gateway = await startGateway()
})

const processes: ChildProcess[] = []
afterAll(async () => {
  for (const child of processes) child.kill('SIGKILL')
  await gateway?.client.close()
  await server?.destroy()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

const text = (result: unknown) => ((result as CallToolResult).content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n')
const calls = (dir: string) => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [])

/** Starts a process (node with tsx) and resolves once one line of `stream` matches `pattern`. */
async function startProcess(args: string[], env: Record<string, string>, stream: 'stdout' | 'stderr', pattern: RegExp) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  processes.push(child)
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const lines: string[] = []
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    createInterface({ input: child[stream] }).on('line', (line) => {
      lines.push(line)
      const found = line.match(pattern)
      if (found) resolve(found)
    })
    if (stream === 'stdout') createInterface({ input: child.stderr }).on('line', (line) => lines.push(line))
    void exited.then((code) => reject(new Error(`exited (${code}) first:\n${lines.join('\n')}`)))
  })
  return { child, match, exited }
}

/** The call_tool requests pending in Rita's inbox. */
async function pendingCalls() {
  const res = await server.gql(`{ approvalInbox(first: 50) { edges { node { id actionType params summary context } } } }`, {}, reviewer.token)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return (res.data.approvalInbox.edges as { node: { id: string; actionType: string; params: any; summary: string; context: any } }[])
    .map((e) => e.node)
    .filter((n) => n.actionType === 'call_tool')
}

/**
 * Calls `name` through the gateway and returns once its request waits for a decision (the
 * gateway's approvalDecision subscription is listening), with the request and the call.
 */
async function callAndWait(client: Client, name: string, args: Record<string, unknown>, options: { signal?: AbortSignal; onprogress?: (p: Progress) => void } = {}) {
  const before = new Set((await pendingCalls()).map((r) => r.id))
  const listening = server.subscribed('approvalDecision')
  const call = client.callTool({ name, arguments: args }, undefined, { ...options, timeout: 60_000 })
  // a call that fails early fails the test here, not as an unhandled rejection
  call.catch(() => {})
  await listening
  const request = (await pendingCalls()).find((r) => !before.has(r.id))
  if (!request) throw new Error('no new request in the inbox')
  return { request, call }
}

const approve = (id: string, params?: unknown, comment?: string) =>
  server.gql(`mutation($id: ID!, $p: JSON, $c: String) { approveRequest(id: $id, params: $p, comment: $c) { status } }`, { id, p: params, c: comment }, reviewer.token)
const reject = (id: string, comment: string) => server.gql(`mutation($id: ID!, $c: String) { rejectRequest(id: $id, comment: $c) { status } }`, { id, c: comment }, reviewer.token)

/** The request's CANCELLED event, as its audit trail shows it. */
async function cancellation(id: string) {
  const res = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { events { type comment actor { name } } } }`, { id }, server.ownerToken)
  return (res.data.approvalRequest.events as { type: string }[]).find((e) => e.type === 'CANCELLED')
}

/** The agent's requests so far, through the API. */
async function agentRequestCount() {
  const res = await server.gql(`query($a: ID!) { approvalHistory(first: 100, filter: { requesterId: $a }) { edges { node { id } } } }`, { a: agent.id }, server.ownerToken)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.approvalHistory.edges.length as number
}

describe('the MCP gateway', () => {
  it('lists the tools of both servers as <server>__<tool> with their own schemas; resources and prompts pass through', async () => {
    const { tools } = await gateway.client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(['files__read_file', 'files__write_file', 'notes__read_file', 'notes__write_file'])
    const write = tools.find((t) => t.name === 'files__write_file')!
    expect(write).toMatchObject({ title: 'Write a file', description: 'Writes text to a file of the files folder, replacing what it held.', annotations: { destructiveHint: true } })
    expect(write.inputSchema).toMatchObject({ type: 'object', required: ['path', 'content'], properties: { path: { type: 'string', pattern: '^[\\w.-]+$' }, content: { type: 'string', maxLength: 10000 } } })

    const { resources } = await gateway.client.listResources()
    expect(resources.map((r) => r.uri).sort()).toEqual(['notes://files/readme', 'notes://notes/readme'])
    const readme = await gateway.client.readResource({ uri: 'notes://notes/readme' })
    expect(readme.contents).toEqual([{ uri: 'notes://notes/readme', text: 'The notes folder.' }])
    const { prompts } = await gateway.client.listPrompts()
    expect(prompts.map((p) => p.name).sort()).toEqual(['files_summary', 'notes_summary'])
    const prompt = await gateway.client.getPrompt({ name: 'notes_summary', arguments: { topic: 'plans' } })
    expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Summarise the notes folder about plans.' } }])
  })

  it('an ungated call runs at once: the same-named tool of the other server, which the rule does not gate, writes only its own folder', async () => {
    const requests = await agentRequestCount()
    const result = await gateway.client.callTool({ name: 'notes__write_file', arguments: { path: 'todo.txt', content: 'buy milk' } })
    expect(result.isError).toBeFalsy()
    expect(text(result)).toBe('Wrote 8 characters to todo.txt in notes.')
    expect(readFileSync(join(notesDir, 'todo.txt'), 'utf8')).toBe('buy milk')
    expect(existsSync(join(filesDir, 'todo.txt'))).toBe(false)
    expect(result._meta?.['approvals/requestId']).toBeUndefined()
    // no rule matched: nothing was recorded
    expect(await agentRequestCount()).toBe(requests)
  })

  it('a gated call waits, with progress notifications; approved with edited arguments, it runs once with them and the execution has its result', async () => {
    const progress: Progress[] = []
    const heard = deferred()
    const { request, call } = await callAndWait(gateway.client, 'files__write_file', { path: 'plan.txt', content: 'draft' }, {
      onprogress: (p) => {
        progress.push(p)
        heard.resolve()
      },
    })
    await heard.promise
    expect(progress[0]!.message).toMatch(/^Waiting for a reviewer to approve this call \(http:\/\/127\.0\.0\.1:\d+\/#\/inbox\/.+\)$/)
    expect(existsSync(join(filesDir, 'plan.txt'))).toBe(false)

    // what the reviewer sees: the call, and the tool as its server describes it
    expect(request.params).toEqual({ server: 'files', tool: 'write_file', arguments: { path: 'plan.txt', content: 'draft' } })
    expect(request.summary).toBe('files: Write a file {"path":"plan.txt","content":"draft"}')
    expect(request.context).toMatchObject({
      tool: {
        server: 'files',
        name: 'write_file',
        title: 'Write a file',
        description: 'Writes text to a file of the files folder, replacing what it held.',
        inputSchema: { type: 'object', required: ['path', 'content'] },
        annotations: { destructiveHint: true },
      },
      client: { name: 'gateway-test', version: '1.0.0' },
    })

    const edited = { server: 'files', tool: 'write_file', arguments: { path: 'plan.txt', content: 'final plan' } }
    expect((await approve(request.id, edited, 'Say final')).errors).toBeUndefined()
    const result = await call
    expect(result.isError).toBeFalsy()
    expect(text(result)).toBe(
      'Wrote 10 characters to plan.txt in files.\nNote: a reviewer changed the arguments before approving; the tool ran with {"path":"plan.txt","content":"final plan"}',
    )
    expect(result._meta).toMatchObject({ 'approvals/requestId': request.id, 'approvals/status': 'APPROVED' })
    expect(readFileSync(join(filesDir, 'plan.txt'), 'utf8')).toBe('final plan')
    expect(calls(filesDir)).toEqual([{ path: 'plan.txt', content: 'final plan' }])
    expect(progress.map((p) => p.progress)).toEqual(progress.map((_, i) => i + 1))
    expect(progress.at(-1)!.message).toBe('Approved; calling files__write_file')

    const done = await readRequest(server, owner.token, request.id)
    expect(done.execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { content: [{ type: 'text', text: 'Wrote 10 characters to plan.txt in files.' }] } })
  })

  it("a rejected call returns isError with the reviewer's comment, and the file is untouched", async () => {
    const { request, call } = await callAndWait(gateway.client, 'files__write_file', { path: 'secrets.txt', content: 'x' })
    expect((await reject(request.id, 'Not in that folder')).errors).toBeUndefined()
    const result = await call
    expect(result).toMatchObject({ isError: true, _meta: { 'approvals/requestId': request.id, 'approvals/status': 'REJECTED' } })
    expect(text(result)).toBe('A reviewer rejected this call: Not in that folder\nThe tool did not run.')
    expect(existsSync(join(filesDir, 'secrets.txt'))).toBe(false)
    expect((await readRequest(server, owner.token, request.id)).execution).toBeNull()
  })

  it("approved arguments that break the tool's input schema fail the execution, and nothing runs", async () => {
    const before = calls(filesDir).length
    const { request, call } = await callAndWait(gateway.client, 'files__write_file', { path: 'ok.txt', content: 'fine' })
    // the service cannot know the tool's schema: `arguments` is any object to it
    expect((await approve(request.id, { server: 'files', tool: 'write_file', arguments: { path: '../outside.txt', content: 'fine' } })).errors).toBeUndefined()
    const result = await call
    expect(result.isError).toBe(true)
    expect(text(result)).toMatch(/^A reviewer approved arguments that do not satisfy the tool's input schema \(data\/path must match pattern .*\); the tool did not run\.$/)
    expect(calls(filesDir)).toHaveLength(before)
    expect(existsSync(join(folder, 'outside.txt'))).toBe(false)
    const failed = await readRequest(server, owner.token, request.id)
    expect(failed.execution).toMatchObject({ status: 'FAILED', attempts: 1, error: text(result) })
  })

  it('an approval that names another tool than the one called runs nothing', async () => {
    const before = calls(filesDir).length
    const { request, call } = await callAndWait(gateway.client, 'files__write_file', { path: 'swap.txt', content: 'x' })
    expect((await approve(request.id, { server: 'notes', tool: 'write_file', arguments: { path: 'swap.txt', content: 'x' } })).errors).toBeUndefined()
    const result = await call
    expect(result.isError).toBe(true)
    expect(text(result)).toMatch(/^The approved call names another tool \(notes__write_file\) than the one called; nothing ran\./)
    expect(calls(filesDir)).toHaveLength(before)
    expect(calls(notesDir).filter((c: { path: string }) => c.path === 'swap.txt')).toEqual([])
    expect((await readRequest(server, owner.token, request.id)).execution).toMatchObject({ status: 'FAILED' })
  })

  it('cancelling the call cancels its request', async () => {
    const abort = new AbortController()
    const { request, call } = await callAndWait(gateway.client, 'files__write_file', { path: 'maybe.txt', content: 'x' }, { signal: abort.signal })
    const decision = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status decisionComment } }`, { id: request.id })
    abort.abort('changed my mind')
    await expect(call).rejects.toThrow()
    await decision.completed
    expect(decision.events.map((e) => e.data?.approvalDecision?.status)).toEqual(['CANCELLED'])
    expect(await cancellation(request.id)).toEqual({ type: 'CANCELLED', comment: 'The MCP client cancelled the tool call.', actor: { name: 'Desktop assistant' } })
    expect(existsSync(join(filesDir, 'maybe.txt'))).toBe(false)
  })

  it('a client that disconnects cancels its pending calls, and the gateway exits', async () => {
    const other = await startGateway()
    const { request, call } = await callAndWait(other.client, 'files__write_file', { path: 'later.txt', content: 'x' })
    const decision = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status decisionComment } }`, { id: request.id })
    const pid = other.transport.pid!
    await other.client.close()
    await expect(call).rejects.toThrow()
    await decision.completed
    expect(decision.events.map((e) => e.data?.approvalDecision?.status)).toEqual(['CANCELLED'])
    expect(await cancellation(request.id)).toMatchObject({ comment: 'The MCP client cancelled the tool call.' })
    // the Client's close waits for the process to exit (it would have sent SIGTERM after 2 s: the log says which)
    expect(() => process.kill(pid, 0)).toThrow()
    expect(other.stderr.join('\n')).toMatch(/stopping: the client closed the connection/)
    expect(other.protocolErrors).toEqual([])
  })

  it('writes only protocol messages to stdout, and its log to stderr', async () => {
    writeFileSync(join(notesDir, 'hello.txt'), 'hello')
    const child = spawn(process.execPath, ['--import', 'tsx', GATEWAY, '--config', configFile], { cwd: ROOT, env: gatewayEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    const stdout: string[] = []
    const stderr: string[] = []
    const answered = new Map([1, 2, 3].map((id) => [id, deferred<void>()]))
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout.push(line)
      try {
        const id = (JSON.parse(line) as { id?: number }).id
        if (id !== undefined) answered.get(id)?.resolve()
      } catch {
        // asserted below
      }
    })
    createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line))
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
    const send = (message: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`)
    send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } })
    await answered.get(1)!.promise
    send({ method: 'notifications/initialized' })
    send({ id: 2, method: 'tools/list' })
    send({ id: 3, method: 'tools/call', params: { name: 'notes__read_file', arguments: { path: 'hello.txt' } } })
    await Promise.all([answered.get(2)!.promise, answered.get(3)!.promise])
    child.stdin.end()
    expect(await closed).toBe(0)

    const messages = stdout.map((line) => JSON.parse(line) as { jsonrpc: string; id?: number; result?: any })
    expect(messages.every((m) => m.jsonrpc === '2.0')).toBe(true)
    expect(messages.map((m) => m.id)).toEqual([1, 2, 3])
    expect(messages[2]!.result.content).toEqual([{ type: 'text', text: 'hello' }])
    const log = stderr.join('\n')
    expect(log).toMatch(/info \[approvals-mcp-gateway\] asking the approvals service at .* as agent Desktop assistant/)
    expect(log).toMatch(/files: connected, 2 tools/)
    expect(log).toMatch(/notes: MCP files server ready/)
    expect(log).toMatch(/serving over stdio/)
  })

  it('refuses to start with a token the service refuses, saying so on stderr', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', GATEWAY, '--config', configFile], {
      cwd: ROOT,
      env: gatewayEnv({ APPROVALS_TOKEN: 'apv_not-a-token' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^approvals-mcp-gateway: The approvals service at http:\/\/127\.0\.0\.1:\d+\/graphql refused the token or cannot be reached: .+/)
  })

  it('works over Streamable HTTP on both sides: a client of the gateway at --http, an upstream reached by its URL', async () => {
    const webDir = join(folder, 'web')
    mkdirSync(webDir)
    const upstream = await startProcess([UPSTREAM], { ...(process.env as Record<string, string>), HTTP: '1', DIR: webDir, SERVER_NAME: 'web' }, 'stdout', /^listening (\S+)$/)
    const webConfig = join(folder, 'web.json')
    writeFileSync(webConfig, JSON.stringify({ mcpServers: { web: { type: 'http', url: upstream.match[1] } } }))
    const gatewayProcess = await startProcess([GATEWAY, '--config', webConfig, '--http', '0'], gatewayEnv(), 'stderr', /serving Streamable HTTP at (\S+)$/)
    const url = new URL(gatewayProcess.match[1]!)
    expect(url.hostname).toBe('127.0.0.1')

    const client = new Client({ name: 'http-test', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(url))
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['web__read_file', 'web__write_file'])
    const { request, call } = await callAndWait(client, 'web__write_file', { path: 'page.html', content: '<h1>Hi</h1>' })
    expect(request.params).toEqual({ server: 'web', tool: 'write_file', arguments: { path: 'page.html', content: '<h1>Hi</h1>' } })
    expect((await approve(request.id)).errors).toBeUndefined()
    expect(text(await call)).toBe('Wrote 11 characters to page.html in web.')
    expect(readFileSync(join(webDir, 'page.html'), 'utf8')).toBe('<h1>Hi</h1>')
    await client.close()

    // a web page cannot reach the endpoint through a name of its own (DNS rebinding)
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (res) => {
        res.resume()
        resolve(res.statusCode)
      })
      req.on('error', reject)
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'evil', version: '0' } } }))
    })
    expect(status).toBe(403)

    gatewayProcess.child.kill('SIGTERM')
    expect(await gatewayProcess.exited).toBe(0)
  })

  it('an OpenAI Agents SDK agent uses the gateway as it would any MCP server: its gated call waits, and a rejection reaches the model with the reason', async () => {
    setTracingDisabled(true)
    // as the README configures it, with the framework's own test model (no network, no API key)
    const tools = new MCPServerStdio({ command: process.execPath, args: ['--import', 'tsx', GATEWAY, '--config', configFile], env: gatewayEnv({ APPROVALS_LOG_LEVEL: 'warn' }), cwd: ROOT, timeout: 60 * 60_000, clientSessionTimeoutSeconds: 60 })
    await tools.connect()
    try {
      const model = new ScriptedModel([[functionCall('files__write_file', { path: 'poem.txt', content: 'Roses are red' }, { callId: 'call_poem' })], [assistantMessage('Understood.')]])
      const agent = new Agent({ name: 'Writer', model, mcpServers: [tools] })
      const listening = server.subscribed('approvalDecision')
      const running = run(agent, 'Write a poem to poem.txt')
      running.catch(() => {})
      await listening
      const request = (await pendingCalls()).find((r) => r.params.arguments.path === 'poem.txt')!
      expect((await reject(request.id, 'No poems in the shared folder')).errors).toBeUndefined()
      expect((await running).finalOutput).toBe('Understood.')
      const input = model.lastCall?.request.input
      const seen = Array.isArray(input) ? input.at(-1) : undefined
      expect(seen).toMatchObject({ type: 'function_call_result', callId: 'call_poem' })
      expect(JSON.stringify(seen)).toContain('A reviewer rejected this call: No poems in the shared folder')
      expect(existsSync(join(filesDir, 'poem.txt'))).toBe(false)
      model.assertComplete()
    } finally {
      await tools.close()
    }
    // it starts a gateway and its two servers, each through tsx: on a busy machine that alone passes 30 s
  }, 90_000)
})
