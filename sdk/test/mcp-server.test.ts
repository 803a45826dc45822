// approvals-mcp, the service's own MCP server, through a real process: the official SDK's Client
// over stdio against sdk/src/mcp/server-cli.ts (run by tsx), and the approvals API in this
// process. The agent asks explicitly: list_action_types, request_approval, get_approval.
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type TestServer } from '../../server/test/harness.js'
import { createAgent, createOwner, deferred, email, gatedModule, type Principal } from './helpers.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SERVER = fileURLToPath(new URL('../src/mcp/server-cli.ts', import.meta.url))

let server: TestServer
let owner: Principal, reviewer: Principal, stranger: Principal, agent: Principal
let module: string
let client: Client

beforeAll(async () => {
  server = await startServer()
  owner = await createOwner(server, 'Gus Owner')
  reviewer = await createOwner(server, 'Rita Reviewer')
  stranger = await createOwner(server, 'Sam Stranger')
  agent = await createAgent(server, owner.id, 'Explicit agent')
  module = await gatedModule(server, reviewer.id)
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', SERVER],
    env: { ...(process.env as Record<string, string>), APPROVALS_URL: server.url, APPROVALS_TOKEN: agent.token, APPROVALS_LOG_LEVEL: 'warn' },
    cwd: ROOT,
  })
  client = new Client({ name: 'explicit-test', version: '1.0.0' })
  await client.connect(transport)
})

afterAll(async () => {
  await client?.close()
  await server?.destroy()
})

type Approval = { approvalRequired: boolean; requestId: string | null; status: string; decidedBy: string | null; comment: string | null; approvedParams: unknown; edited: boolean; inboxUrl: string | null }

async function call(name: string, args: Record<string, unknown>, options: { onprogress?: (p: Progress) => void } = {}) {
  return (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult
}
const text = (result: CallToolResult) => (result.content as { text: string }[]).map((c) => c.text).join('\n')
const approval = (result: CallToolResult) => {
  expect(result.isError, text(result)).toBeFalsy()
  return result.structuredContent as unknown as Approval
}

describe('approvals-mcp', () => {
  it('offers three tools; list_action_types lists the agent actions with their params schemas', async () => {
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['get_approval', 'list_action_types', 'request_approval'])
    const listed = (await call('list_action_types', {})).structuredContent as { actionTypes: { key: string; paramsSchema: { required: string[] } }[] }
    const keys = listed.actionTypes.map((a) => a.key)
    expect(keys).toEqual(expect.arrayContaining(['send_email', 'call_tool']))
    expect(keys).not.toContain('create_record')
    expect(listed.actionTypes.find((a) => a.key === 'call_tool')!.paramsSchema.required).toEqual(['server', 'tool', 'arguments'])
  })

  it('request_approval: NOT_REQUIRED when no rule gates the action, with the params to run as asked', async () => {
    const result = await call('request_approval', { actionType: 'send_email', params: email('ungated'), module: 'no-rule-here' })
    expect(approval(result)).toEqual({ approvalRequired: false, status: 'NOT_REQUIRED', requestId: null, decidedBy: null, comment: null, approvedParams: email('ungated'), edited: false, inboxUrl: null })
    expect(text(result)).toMatch(/^No rule gates this action: go ahead with it\./)
  })

  it('request_approval without waiting answers PENDING, with no params to run; get_approval then tells the decision and the params as approved', async () => {
    const asked = approval(await call('request_approval', { actionType: 'send_email', params: email(1), module, summary: 'Quote 1', waitSeconds: 0, idempotencyKey: 'quote-1' }))
    // nothing is approved yet: nothing in the answer reads as params to run
    expect(asked).toEqual({
      approvalRequired: true,
      requestId: expect.any(String),
      status: 'PENDING',
      decidedBy: null,
      comment: null,
      approvedParams: null,
      edited: false,
      inboxUrl: `${new URL('/', server.url)}#/inbox/${encodeURIComponent(asked.requestId!)}`,
    })
    // the same key finds the same request, still PENDING
    const again = approval(await call('request_approval', { actionType: 'send_email', params: email(1), module, summary: 'Quote 1', waitSeconds: 0, idempotencyKey: 'quote-1' }))
    expect(again).toMatchObject({ requestId: asked.requestId, status: 'PENDING', approvedParams: null })
    expect(approval(await call('get_approval', { requestId: asked.requestId }))).toEqual(asked)

    const edited = { ...email(1), subject: 'Quote 1 (revised)' }
    const res = await server.gql(`mutation($id: ID!, $p: JSON) { approveRequest(id: $id, params: $p, comment: "Revised the subject") { status } }`, { id: asked.requestId, p: edited }, reviewer.token)
    expect(res.errors).toBeUndefined()
    const got = await call('get_approval', { requestId: asked.requestId })
    expect(approval(got)).toEqual({ approvalRequired: true, requestId: asked.requestId, status: 'APPROVED', decidedBy: 'Rita Reviewer', comment: 'Revised the subject', approvedParams: edited, edited: true, inboxUrl: null })
    expect(text(got)).toMatch(/^Approved by Rita Reviewer: Revised the subject\. Run the action with approvedParams, which a reviewer changed from what you asked\./)
  })

  it('request_approval waits for the decision, with progress notifications, and tells a rejection with its comment', async () => {
    const listening = server.subscribed('approvalDecision')
    const heard = deferred<Progress>()
    const result = call('request_approval', { actionType: 'send_email', params: email(2), module, waitSeconds: 600 }, { onprogress: (p) => heard.resolve(p) })
    await listening
    expect((await heard.promise).message).toMatch(/^Waiting for a reviewer \(http:\/\/127\.0\.0\.1:\d+\/#\/inbox\/.+\)$/)
    const inbox = await server.gql(`{ approvalInbox(first: 50) { edges { node { id params } } } }`, {}, reviewer.token)
    const id = (inbox.data.approvalInbox.edges as { node: { id: string; params: { subject: string } } }[]).find((e) => e.node.params.subject === 'Quote 2')!.node.id
    expect((await server.gql(`mutation($id: ID!) { rejectRequest(id: $id, comment: "Not this week") { status } }`, { id }, reviewer.token)).errors).toBeUndefined()
    const rejected = await result
    expect(approval(rejected)).toEqual({ approvalRequired: true, requestId: id, status: 'REJECTED', decidedBy: 'Rita Reviewer', comment: 'Not this week', approvedParams: null, edited: false, inboxUrl: null })
    expect(text(rejected)).toMatch(/^Rejected by Rita Reviewer: Not this week\. Do not run the action\./)
  })

  it("surfaces the service's refusals as tool errors: a person the agent may not act for, params off the schema, an unknown request", async () => {
    const forbidden = await call('request_approval', { actionType: 'send_email', params: email(3), module, onBehalfOfUserId: stranger.id })
    expect(forbidden.isError).toBe(true)
    expect(text(forbidden)).toMatch(/^The approvals service refused: FORBIDDEN: This agent may not act for that user/)
    const bad = await call('request_approval', { actionType: 'send_email', params: { to: 'ceo@client.test', subject: 'x' }, module })
    expect(bad.isError).toBe(true)
    expect(text(bad)).toMatch(/^The approvals service refused: BAD_USER_INPUT at params\/body: /)
    const unknown = await call('get_approval', { requestId: 'QXBwcm92YWxSZXF1ZXN0OjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA==' })
    expect(unknown.isError).toBe(true)
  })
})
