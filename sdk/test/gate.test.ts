// gate(): what an agent sees when it calls a gated function, against a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRule, ManualClock, startServer, type TestServer } from '../../server/test/harness.js'
import {
  ApprovalAbortedError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  ApprovalsError,
  ApprovalTimeoutError,
  createApprovals,
  type Approvals,
} from '../src/index.js'
import { createAgent, createOwner, decideOk, email, gatedModule, readRequest, type Principal } from './helpers.js'

/** The idempotency key a request was made with (as the agent would have kept it). */
const readKey = async (server: TestServer, id: string) =>
  (await server.db.prisma.approvalRequest.findUniqueOrThrow({ where: { id: Buffer.from(id, 'base64').toString().split(':')[1]! } })).idempotencyKey


const clock = new ManualClock()
let server: TestServer
let reviewer: Principal, agent: Principal
let approvals: Approvals

beforeAll(async () => {
  server = await startServer({ clock })
  reviewer = await createOwner(server, 'Rita Reviewer')
  const boss = await createOwner(server, 'Boss')
  agent = await createAgent(server, boss.id)
  approvals = createApprovals({ url: server.url, token: agent.token })
})
afterAll(async () => {
  await approvals?.close()
  await server?.destroy()
})

/** Calls the gated function; resolves `requestId` once the request exists and the wait has started. */
function call<R>(gated: (p: any, o?: any) => Promise<R>, params: unknown, options: Record<string, unknown> = {}) {
  const listening = server.subscribed('approvalDecision')
  let requestId!: string
  const result = gated(params, { ...options, onRequest: (r: { id: string }) => (requestId = r.id) })
  result.catch(() => {})
  return { result, waiting: listening.then(() => requestId) }
}

describe('gate()', () => {
  it('runs at once when no rule gates the action', async () => {
    const calls: unknown[] = []
    const send = approvals.gate('send_email', (p, ctx) => (calls.push([p, ctx.requestId]), 'sent'), { module: 'ungated' })
    expect(await send(email('free'))).toBe('sent')
    expect(calls).toEqual([[email('free'), null]])
  })

  it('approved: runs the function once with the params and returns its value; the execution is SUCCEEDED with it', async () => {
    const module = await gatedModule(server, reviewer.id)
    const calls: { params: unknown; requestId: string | null; attempt: number }[] = []
    const send = approvals.gate(
      'send_email',
      async (params, { requestId, attempt }) => {
        calls.push({ params, requestId, attempt })
        return { messageId: 'msg-1' }
      },
      { module, summary: (p) => `Email ${p.to}` },
    )
    const { result, waiting } = call(send, email(1))
    const id = await waiting
    expect(calls).toEqual([])
    await decideOk(server, reviewer, id, 'approveRequest')
    expect(await result).toEqual({ messageId: 'msg-1' })
    expect(calls).toEqual([{ params: email(1), requestId: id, attempt: 1 }])
    expect(await readRequest(server, agent.token, id)).toMatchObject({
      status: 'APPROVED',
      execution: { status: 'SUCCEEDED', attempts: 1, result: { messageId: 'msg-1' } },
    })
    // the same call again with the request's key (a restarted agent) returns the stored result, runs nothing
    const key = (await readKey(server, id))!
    expect(await send(email(1), { idempotencyKey: key })).toEqual({ messageId: 'msg-1' })
    expect(calls).toHaveLength(1)
  })

  it('approved with an edit: runs the edited params once and says so; the execution runs and digests those', async () => {
    const module = await gatedModule(server, reviewer.id)
    const calls: { params: unknown; edited: boolean; requestedParams: unknown }[] = []
    const send = approvals.gate('send_email', (params, { edited, requestedParams }) => void calls.push({ params, edited, requestedParams }), { module })
    const { result, waiting } = call(send, email(20))
    const id = await waiting
    const changed = { ...email(20), subject: 'Toned down' }
    const res = await server.gql(`mutation($id: ID!, $p: JSON) { approveRequest(id: $id, params: $p) { edited } }`, { id, p: changed }, reviewer.token)
    expect(res.errors).toBeUndefined()
    await result
    expect(calls).toEqual([{ params: changed, edited: true, requestedParams: email(20) }])
    const read = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { params approvedParams edited execution { params status } } }`, { id }, agent.token)
    expect(read.data.approvalRequest).toEqual({ params: email(20), approvedParams: changed, edited: true, execution: { params: changed, status: 'SUCCEEDED' } })
  })

  it('rejected: ApprovalRejectedError with the reviewer and comment; the function never ran', async () => {
    const module = await gatedModule(server, reviewer.id)
    let ran = false
    const send = approvals.gate('send_email', () => void (ran = true), { module })
    const { result, waiting } = call(send, email(2))
    await decideOk(server, reviewer, await waiting, 'rejectRequest', 'Not to the CEO')
    const error = await result.then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(ApprovalRejectedError)
    expect(error).toBeInstanceOf(ApprovalsError)
    expect(error).toMatchObject({ code: 'REJECTED', reviewer: 'Rita Reviewer', comment: 'Not to the CEO' })
    expect(ran).toBe(false)
  })

  it('expired: ApprovalExpiredError once the deadline passed; the function never ran', async () => {
    const module = await gatedModule(server, reviewer.id, { expiresAfterSeconds: 60 })
    let ran = false
    const send = approvals.gate('send_email', () => void (ran = true), { module })
    const { result, waiting } = call(send, email(3))
    await waiting
    clock.advance(61)
    await server.app.scheduler.runOnce()
    await expect(result).rejects.toBeInstanceOf(ApprovalExpiredError)
    expect(ran).toBe(false)
  })

  it('a function that throws: the error is rethrown and the execution is READY again (retryable)', async () => {
    const module = await gatedModule(server, reviewer.id)
    const send = approvals.gate('send_email', () => {
      throw new Error('SMTP is down')
    }, { module })
    const { result, waiting } = call(send, email(4))
    const id = await waiting
    await decideOk(server, reviewer, id, 'approveRequest')
    await expect(result).rejects.toThrow('SMTP is down')
    expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'READY', attempts: 1, error: 'SMTP is down' })
  })

  it('an abort signal rejects the wait promptly and closes its subscription', async () => {
    const module = await gatedModule(server, reviewer.id)
    const send = approvals.gate('send_email', () => 'never', { module })
    const controller = new AbortController()
    const { result, waiting } = call(send, email(5), { signal: controller.signal })
    await waiting
    const started = Date.now()
    controller.abort(new Error('user went away'))
    await expect(result).rejects.toBeInstanceOf(ApprovalAbortedError)
    expect(Date.now() - started).toBeLessThan(500)
    await server.waitForSubscriptionCount(0)
  })

  it('timeoutMs: ApprovalTimeoutError naming the request, which stays pending', async () => {
    const module = await gatedModule(server, reviewer.id)
    const send = approvals.gate('send_email', () => 'never', { module, timeoutMs: 300 })
    const error = await send(email(6)).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(ApprovalTimeoutError)
    expect((await readRequest(server, agent.token, (error as ApprovalTimeoutError).requestId!)).status).toBe('PENDING')
  })

  it('a custom action type (an MCP tool, say) is gated like a built-in: its schema checks the params, an approval runs it', async () => {
    const paramsSchema = {
      type: 'object',
      required: ['repo', 'title'],
      properties: { repo: { type: 'string', pattern: '^[\\w.-]+/[\\w.-]+$' }, title: { type: 'string', minLength: 1 }, body: { type: 'string' } },
    }
    const created = await server.gql(
      `mutation($i: ActionTypeInput!) { createActionType(input: $i) { key builtIn } }`,
      { i: { key: 'github_create_issue', description: 'GitHub MCP server: create an issue', paramsSchema } },
      server.ownerToken,
    )
    expect(created.data).toEqual({ createActionType: { key: 'github_create_issue', builtIn: false } })
    await createRule(server, { name: 'New issues', resourceType: 'AGENT_ACTION', actionType: 'github_create_issue', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const calls: unknown[] = []
    const createIssue = approvals.gate('github_create_issue', (params) => (calls.push(params), { number: 42 }))
    const refused = await createIssue({ repo: 'acme/web' }).then(() => null, (e: unknown) => e)
    expect(refused).toBeInstanceOf(ApprovalsError)
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', pointer: '/title' })
    const issue = { repo: 'acme/web', title: 'Checkout fails on Safari' }
    const { result, waiting } = call(createIssue, issue)
    const id = await waiting
    expect(calls).toEqual([])
    await decideOk(server, reviewer, id, 'approveRequest')
    expect(await result).toEqual({ number: 42 })
    expect(calls).toEqual([issue])
    expect(await readRequest(server, agent.token, id)).toMatchObject({ status: 'APPROVED', execution: { status: 'SUCCEEDED', attempts: 1, result: { number: 42 } } })
  })

  it('params that break the action schema: ApprovalsError BAD_USER_INPUT with the pointer', async () => {
    const module = await gatedModule(server, reviewer.id)
    const send = approvals.gate('send_email', () => 'never', { module })
    const error = await send({ to: 'not an address', subject: 'x', body: 'y' }).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(ApprovalsError)
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', pointer: '/to' })
  })
})
