// The durable re-queue: an approved action runs exactly once, leased by its requester's workers,
// with fencing lease tokens; leases that run out make it ready again; rejected requests never run.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, collect, createAgentWithToken, createRule, createUserWithToken, decide, ManualClock, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
const clock = new ManualClock()
let server: TestServer
let reviewer: Principal, fallback: Principal, agent: Principal, other: Principal
let moduleSeq = 0

beforeAll(async () => {
  server = await startServer({ clock, maxExecutionAttempts: 3 })
  reviewer = await createUserWithToken(server, { email: 'rev@example.com', name: 'Reviewer', roleKeys: ['member'] })
  fallback = await createUserWithToken(server, { email: 'fb@example.com', name: 'Fallback', roleKeys: ['member'] })
  // owned by a member, so that the approval managers (the bootstrap owner) may review as a last resort
  const boss = await createUserWithToken(server, { email: 'boss@example.com', name: 'Boss', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Worker agent', ownerId: boss.id })
  other = await createAgentWithToken(server, { name: 'Other agent', ownerId: boss.id })
})
afterAll(() => server?.destroy())

const EXECUTION = `execution { status params paramsDigest attempts leaseExpiresAt result error }`
const LEASE = `leaseToken attempt leaseExpiresAt request { id status ${EXECUTION} }`
const CLAIM = `mutation($id: ID!, $s: Int) { claimExecution(requestId: $id, leaseSeconds: $s) { ${LEASE} } }`
const CLAIM_MANY = `mutation($n: Int, $types: [String!]) { claimApprovedActions(limit: $n, actionTypes: $types) { ${LEASE} } }`
const COMPLETE = `mutation($t: String!, $r: JSON) { completeExecution(leaseToken: $t, result: $r) { id ${EXECUTION} events { type comment details } } }`
const FAIL = `mutation($t: String!, $e: String!, $retry: Boolean) { failExecution(leaseToken: $t, error: $e, retryable: $retry) { id ${EXECUTION} } }`
const EXTEND = `mutation($t: String!, $s: Int) { extendExecutionLease(leaseToken: $t, leaseSeconds: $s) { leaseExpiresAt attempt } }`

/** A new gated module whose rule names `reviewer` (and `fallback`, when asked). */
async function gate(rule: Record<string, unknown> = {}) {
  const module = `x${++moduleSeq}`
  await createRule(server, { name: module, resourceType: 'AGENT_ACTION', actionType: 'send_email', module, primaryResolver: { type: 'NAMED_USER', userId: reviewer.id }, ...rule })
  return module
}

async function ask(module: string, n = 0, token = agent.token): Promise<string> {
  const res = await server.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: { to: 'x@corp.test', subject: `Quote ${n}`, body: 'Hello' } } },
    token,
  )
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

async function approved(module: string, n = 0) {
  const id = await ask(module, n)
  expect((await decide(server, reviewer.token, id, 'approveRequest')).errors).toBeUndefined()
  return id
}

describe('executions', () => {
  it('approval creates the execution READY with its params and their digest; rejection creates none and cannot be claimed', async () => {
    const module = await gate()
    const id = await approved(module)
    const res = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { ${EXECUTION} } }`, { id }, agent.token)
    const params = { to: 'x@corp.test', subject: 'Quote 0', body: 'Hello' }
    // RFC 8785: keys sorted, no whitespace
    const digest = createHash('sha256').update(JSON.stringify({ body: 'Hello', subject: 'Quote 0', to: 'x@corp.test' })).digest('hex')
    expect(res.data.approvalRequest.execution).toEqual({ status: 'READY', params, paramsDigest: digest, attempts: 0, leaseExpiresAt: null, result: null, error: null })

    const rejected = await ask(module, 1)
    await decide(server, reviewer.token, rejected, 'rejectRequest', 'No')
    expect((await server.gql(`query($id: ID!) { approvalRequest(id: $id) { execution { status } } }`, { id: rejected }, agent.token)).data.approvalRequest.execution).toBeNull()
    expect(codes(await server.gql(CLAIM, { id: rejected }, agent.token))).toEqual(['CONFLICT'])
    const pending = await ask(module, 2)
    expect(codes(await server.gql(CLAIM, { id: pending }, agent.token))).toEqual(['CONFLICT'])
  })

  it('of 20 concurrent claims exactly one wins; the others get CONFLICT', async () => {
    const id = await approved(await gate())
    const results = await Promise.all(Array.from({ length: 20 }, () => server.gql(CLAIM, { id }, agent.token)))
    const won = results.filter((r) => !r.errors)
    expect(won).toHaveLength(1)
    expect(results.flatMap(codes).filter((c) => c === 'CONFLICT')).toHaveLength(19)
    expect(won[0]!.data.claimExecution).toMatchObject({ attempt: 1, request: { execution: { status: 'RUNNING', attempts: 1 } } })
    const events = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { events { type comment } } }`, { id }, agent.token)
    expect(events.data.approvalRequest.events.filter((e: { type: string }) => e.type === 'EXECUTION_STARTED')).toEqual([{ type: 'EXECUTION_STARTED', comment: 'Attempt 1' }])
  })

  it('only the requester may claim: another agent is refused and the action stays ready', async () => {
    const id = await approved(await gate())
    expect(codes(await server.gql(CLAIM, { id }, other.token))).toEqual(['NOT_FOUND'])
    expect(codes(await server.gql(CLAIM, { id }, reviewer.token))).toEqual(['FORBIDDEN'])
    expect((await server.gql(CLAIM, { id }, agent.token)).errors).toBeUndefined()
  })

  it('three workers claiming batches at once take each of 30 approved actions exactly once', async () => {
    const module = await gate()
    const ids = new Set<string>()
    for (let i = 0; i < 30; i++) ids.add(await approved(module, i))
    const claimed: string[] = []
    for (let round = 0; round < 10 && claimed.filter((id) => ids.has(id)).length < 30; round++) {
      const batches = await Promise.all(Array.from({ length: 3 }, () => server.gql(CLAIM_MANY, { n: 7 }, agent.token)))
      for (const b of batches) {
        expect(b.errors).toBeUndefined()
        claimed.push(...b.data.claimApprovedActions.map((l: { request: { id: string } }) => l.request.id))
      }
    }
    const mine = claimed.filter((id) => ids.has(id))
    expect(mine.sort()).toEqual([...ids].sort())
    expect(new Set(claimed).size).toBe(claimed.length)
  })

  it('a lease that runs out makes the action ready again; the stale token then changes nothing', async () => {
    const id = await approved(await gate())
    const first = (await server.gql(CLAIM, { id, s: 30 }, agent.token)).data.claimExecution
    expect((await server.gql(EXTEND, { t: first.leaseToken, s: 30 }, agent.token)).data.extendExecutionLease.attempt).toBe(1)
    clock.advance(31)
    const pass = await server.app.scheduler.runOnce()
    expect(pass.requeued).toContain(Buffer.from(id, 'base64').toString().split(':')[1])
    const second = (await server.gql(CLAIM, { id, s: 30 }, agent.token)).data.claimExecution
    expect(second.attempt).toBe(2)
    // the first worker comes back from a pause: everything it presents is CONFLICT
    expect(codes(await server.gql(COMPLETE, { t: first.leaseToken, r: { messageId: 'stale' } }, agent.token))).toEqual(['CONFLICT'])
    expect(codes(await server.gql(FAIL, { t: first.leaseToken, e: 'boom' }, agent.token))).toEqual(['CONFLICT'])
    expect(codes(await server.gql(EXTEND, { t: first.leaseToken }, agent.token))).toEqual(['CONFLICT'])
    const done = await server.gql(COMPLETE, { t: second.leaseToken, r: { messageId: 'm-42' } }, agent.token)
    expect(done.data.completeExecution.execution).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: { messageId: 'm-42' } })
    const types = done.data.completeExecution.events.map((e: { type: string }) => e.type)
    expect(types).toEqual(['REQUESTED', 'APPROVED', 'EXECUTION_STARTED', 'EXECUTION_RETRYING', 'EXECUTION_STARTED', 'EXECUTED'])
    expect(done.data.completeExecution.events.at(-1).details).toEqual({ messageId: 'm-42' })
    // completed: nothing more to claim or report
    expect(codes(await server.gql(COMPLETE, { t: second.leaseToken }, agent.token))).toEqual(['CONFLICT'])
    expect(codes(await server.gql(CLAIM, { id }, agent.token))).toEqual(['CONFLICT'])
  })

  it('retryable failures make it ready again until the last attempt; a final failure is FAILED at once', async () => {
    const module = await gate()
    const id = await approved(module)
    for (let attempt = 1; attempt <= 3; attempt++) {
      const lease = (await server.gql(CLAIM, { id }, agent.token)).data.claimExecution
      expect(lease.attempt).toBe(attempt)
      const failed = await server.gql(FAIL, { t: lease.leaseToken, e: `SMTP 451 (${attempt})` }, agent.token)
      expect(failed.data.failExecution.execution.status).toBe(attempt < 3 ? 'READY' : 'FAILED')
    }
    const final = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { ${EXECUTION} events { type comment } } }`, { id }, agent.token)
    expect(final.data.approvalRequest.execution).toMatchObject({ status: 'FAILED', attempts: 3, error: 'SMTP 451 (3)' })
    expect(final.data.approvalRequest.events.at(-1)).toEqual({ type: 'EXECUTION_FAILED', comment: 'Failed 3 times: SMTP 451 (3)' })
    expect(codes(await server.gql(CLAIM, { id }, agent.token))).toEqual(['CONFLICT'])

    const once = await approved(module, 1)
    const lease = (await server.gql(CLAIM, { id: once }, agent.token)).data.claimExecution
    expect((await server.gql(FAIL, { t: lease.leaseToken, e: 'Address rejected', retry: false }, agent.token)).data.failExecution.execution).toMatchObject({ status: 'FAILED', attempts: 1 })
  })

  it('a 1.9 MB result to completeExecution is BAD_USER_INPUT, as params past the size limit are: nothing stored, the lease still holds', async () => {
    const id = await approved(await gate())
    const lease = (await server.gql(CLAIM, { id }, agent.token)).data.claimExecution
    const huge = { log: 'x'.repeat(1_900_000) }
    const refused = await server.gql(COMPLETE, { t: lease.leaseToken, r: huge }, agent.token)
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'result' })
    expect(refused.errors?.[0]?.message).toBe(`result must be at most ${256 * 1024} bytes as JSON.`)
    const dbId = Buffer.from(id, 'base64').toString().split(':')[1]!
    expect(await server.db.prisma.execution.findUniqueOrThrow({ where: { requestId: dbId } })).toMatchObject({ status: 'RUNNING', result: null })
    expect(await server.db.prisma.approvalEvent.count({ where: { requestId: dbId, type: 'EXECUTED' } })).toBe(0)
    // just within the limit, with the same lease: stored
    const within = { log: 'x'.repeat(256 * 1024 - 20) }
    const done = await server.gql(COMPLETE, { t: lease.leaseToken, r: within }, agent.token)
    expect(done.errors).toBeUndefined()
    expect(done.data.completeExecution.execution).toMatchObject({ status: 'SUCCEEDED', result: within })
  })

  it('an approved record mutation shows the execution the server ran', async () => {
    await createRule(server, { name: 'records', resourceType: 'RECORD_MUTATION', actionType: 'create_record', module: 'deals', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const res = await server.gql(`mutation { createRecord(input: { module: "deals", data: { name: "Acme" } }) { approvalRequest { id } } }`, {}, agent.token)
    const id = res.data.createRecord.approvalRequest.id
    const done = await decide(server, reviewer.token, id, 'approveRequest')
    expect(done.errors).toBeUndefined()
    const read = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { execution { status attempts } } }`, { id }, agent.token)
    expect(read.data.approvalRequest.execution).toEqual({ status: 'SUCCEEDED', attempts: 1 })
  })
})

describe('approvedActions', () => {
  const SUB = `subscription($types: [String!]) { approvedActions(actionTypes: $types) { id status execution { status attempts } } }`

  it('sends what is ready first, then each action as it is approved or its lease runs out', async () => {
    const module = await gate()
    const readyBefore = await approved(module, 1)
    // drain anything earlier tests left ready, so that this subscription's first events are ours
    for (;;) {
      const batch = await server.gql(CLAIM_MANY, { n: 100 }, agent.token)
      const leases = batch.data.claimApprovedActions as { leaseToken: string; request: { id: string } }[]
      const others = leases.filter((l) => l.request.id !== readyBefore)
      await Promise.all(others.map((l) => server.gql(FAIL, { t: l.leaseToken, e: 'not this test', retry: false }, agent.token)))
      const mine = leases.find((l) => l.request.id === readyBefore)
      if (mine) {
        // give it back as a retryable failure: ready again, attempt 1 spent
        await server.gql(FAIL, { t: mine.leaseToken, e: 'later' }, agent.token)
      }
      if (leases.length === 0 || leases.every((l) => l.request.id === readyBefore)) break
    }
    const listening = server.subscribed('approvedActions')
    const sub = collect(server.ws(agent.token), SUB)
    await listening
    const [first] = await sub.waitFor(1)
    expect(first!.data!.approvedActions).toMatchObject({ id: readyBefore, status: 'APPROVED', execution: { status: 'READY' } })

    const fresh = await approved(module, 2)
    const [, second] = await sub.waitFor(2, 1500)
    expect(second!.data!.approvedActions.id).toBe(fresh)

    const lease = (await server.gql(CLAIM, { id: fresh, s: 10 }, agent.token)).data.claimExecution
    expect(lease.attempt).toBe(1)
    clock.advance(11)
    await server.app.scheduler.runOnce()
    const [, , third] = await sub.waitFor(3, 1500)
    expect(third!.data!.approvedActions).toMatchObject({ id: fresh, execution: { status: 'READY', attempts: 1 } })
    sub.dispose()
  })

  it("sends only the caller's own actions, of the action types asked for", async () => {
    const module = await gate()
    const listening = server.subscribed('approvedActions')
    const sub = collect(server.ws(other.token), SUB, { types: ['send_email'] })
    await listening
    await approved(module, 9) // the other agent's request: not for this subscription
    const theirs = await ask(module, 10, other.token)
    await decide(server, reviewer.token, theirs, 'approveRequest')
    const [event] = await sub.waitFor(1, 1500)
    expect(event!.data!.approvedActions.id).toBe(theirs)
    sub.dispose()
  })

  it('approvalDecision carries the execution', async () => {
    const id = await ask(await gate())
    const listening = server.subscribed('approvalDecision')
    const sub = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { status execution { status } } }`, { id })
    await listening
    await decide(server, reviewer.token, id, 'approveRequest')
    await sub.completed
    expect(sub.events[0]!.data!.approvalDecision).toEqual({ status: 'APPROVED', execution: { status: 'READY' } })
  })
})

describe('escalateRequest', () => {
  const ESCALATE = `mutation($id: ID!, $why: String!) { escalateRequest(id: $id, reason: $why) { status escalated reviewers { id } events { type comment actor { id } } } }`

  it("a current reviewer hands the request to the rule's fallback, then to the approval managers", async () => {
    const module = await gate({ fallbackResolver: { type: 'NAMED_USER', userId: fallback.id } })
    const id = await ask(module)
    // the fallback cannot even see it yet; an approval manager who is not a reviewer may not hand it on
    expect(codes(await server.gql(ESCALATE, { id, why: 'not mine' }, fallback.token))).toEqual(['NOT_FOUND'])
    expect(codes(await server.gql(ESCALATE, { id, why: 'not mine' }, server.ownerToken))).toEqual(['FORBIDDEN'])
    const handed = await server.gql(ESCALATE, { id, why: 'Unsure about the price' }, reviewer.token)
    expect(handed.data.escalateRequest).toMatchObject({ status: 'PENDING', escalated: true, reviewers: [{ id: fallback.id }] })
    expect(handed.data.escalateRequest.events.at(-1)).toEqual({ type: 'ESCALATED', comment: 'Unsure about the price', actor: { id: reviewer.id } })
    // the previous reviewer can no longer decide
    expect(codes(await decide(server, reviewer.token, id, 'approveRequest'))).toEqual(['FORBIDDEN'])
    const again = await server.gql(ESCALATE, { id, why: 'Needs an admin' }, fallback.token)
    const olivia = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    expect(again.data.escalateRequest.reviewers.map((r: { id: string }) => r.id)).toEqual([olivia])
  })
})
