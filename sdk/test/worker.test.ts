// worker(): the agent's approved actions run exactly once each, across approvals made before
// and after it starts, retries, stop(), and a worker that dies mid-action.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, startServer, type TestServer } from '../../server/test/harness.js'
import { createApprovals, type Approvals, type ExecutionContext } from '../src/index.js'
import { ask, createAgent, createOwner, decideOk, deferred, email, gatedModule, readRequest, type Principal } from './helpers.js'

const clock = new ManualClock()
let server: TestServer
let reviewer: Principal, boss: Principal
const clients: Approvals[] = []

beforeAll(async () => {
  server = await startServer({ clock })
  reviewer = await createOwner(server, 'Rita Reviewer')
  boss = await createOwner(server, 'Boss')
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await server?.destroy()
})

const connect = (agent: Principal) => {
  const approvals = createApprovals({ url: server.url, token: agent.token })
  clients.push(approvals)
  return approvals
}

/** Resolves once `count` calls were recorded. */
function counter() {
  const calls: { params: any; context: ExecutionContext }[] = []
  const waiters: { count: number; resolve: () => void }[] = []
  return {
    calls,
    record(params: any, context: ExecutionContext) {
      calls.push({ params, context })
      for (const w of waiters.filter((w) => calls.length >= w.count)) w.resolve()
    },
    reached(count: number) {
      return new Promise<void>((resolve) => (calls.length >= count ? resolve() : waiters.push({ count, resolve })))
    },
  }
}

describe('worker()', () => {
  it('runs 20 approved actions, approved before and after it starts, each exactly once; all SUCCEEDED', async () => {
    const agent = await createAgent(server, boss.id)
    const module = await gatedModule(server, reviewer.id)
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push(await ask(server, agent, module, i))
    for (const id of ids.slice(0, 8)) await decideOk(server, reviewer, id, 'approveRequest')

    const seen = counter()
    const errors: unknown[] = []
    const listening = server.subscribed('approvedActions')
    const worker = connect(agent).worker({
      handlers: {
        send_email: async (params, context) => {
          seen.record(params, context)
          await new Promise((r) => setTimeout(r, 5))
          return { messageId: `msg-${context.requestId}` }
        },
      },
      concurrency: 3,
      onError: (e) => errors.push(e),
    })
    await listening
    for (const id of ids.slice(8)) await decideOk(server, reviewer, id, 'approveRequest')
    await seen.reached(20)
    await worker.stop()
    await worker.done

    expect(seen.calls.map((c) => c.context.requestId).sort()).toEqual([...ids].sort())
    expect(seen.calls.every((c) => c.context.attempt === 1)).toBe(true)
    for (const [i, id] of ids.entries()) {
      const call = seen.calls.find((c) => c.context.requestId === id)!
      expect(call.params).toEqual(email(i))
      expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { messageId: `msg-${id}` } })
    }
    expect(errors).toEqual([])
  })

  it('a handler that throws once then succeeds: the action runs again and ends SUCCEEDED after 2 attempts', async () => {
    const agent = await createAgent(server, boss.id)
    const module = await gatedModule(server, reviewer.id)
    const seen = counter()
    const errors: unknown[] = []
    const listening = server.subscribed('approvedActions')
    const worker = connect(agent).worker({
      handlers: {
        send_email: (params, context) => {
          seen.record(params, context)
          if (context.attempt === 1) throw new Error('SMTP hiccup')
          return 'sent'
        },
      },
      onError: (e) => errors.push(e),
    })
    await listening
    const id = await ask(server, agent, module, 'retry')
    await decideOk(server, reviewer, id, 'approveRequest')
    await seen.reached(2)
    await worker.stop()
    expect(seen.calls.map((c) => [c.context.requestId, c.context.attempt])).toEqual([
      [id, 1],
      [id, 2],
    ])
    expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: 'sent' })
    expect(errors.map((e) => (e as Error).message)).toEqual(['SMTP hiccup'])
  })

  it('stop() waits for the running handler to finish and report', async () => {
    const agent = await createAgent(server, boss.id)
    const module = await gatedModule(server, reviewer.id)
    const started = deferred()
    const release = deferred()
    const worker = connect(agent).worker({
      handlers: {
        send_email: async () => {
          started.resolve()
          await release.promise
          return 'finished'
        },
      },
    })
    const id = await ask(server, agent, module, 'stop')
    await decideOk(server, reviewer, id, 'approveRequest')
    await started.promise
    let stopped = false
    const stopping = worker.stop().then(() => (stopped = true))
    await new Promise((r) => setTimeout(r, 50))
    expect(stopped).toBe(false)
    expect((await readRequest(server, agent.token, id)).execution.status).toBe('RUNNING')
    release.resolve()
    await stopping
    expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'SUCCEEDED', result: 'finished' })
  })

  it('a worker that dies mid-action: once the lease runs out a new worker runs it again, with the same request id', async () => {
    const agent = await createAgent(server, boss.id)
    const module = await gatedModule(server, reviewer.id)
    const contexts: ExecutionContext[] = []
    const started = deferred()
    const release = deferred()
    const firstErrors: unknown[] = []
    const reportRefused = deferred()
    const first = connect(agent)
    first.worker({
      leaseSeconds: 30,
      handlers: {
        send_email: async (_params, context) => {
          contexts.push(context)
          started.resolve()
          await release.promise // it never gets to report
          return 'from the dead worker'
        },
      },
      onError: (e) => {
        firstErrors.push(e)
        if ((e as { code?: string }).code === 'REPORT_FAILED') reportRefused.resolve()
      },
    })
    const id = await ask(server, agent, module, 'crash')
    await decideOk(server, reviewer, id, 'approveRequest')
    await started.promise
    // the process dies: its connection goes, and its lease is never extended again
    await first.close()
    expect(contexts[0]!.signal.aborted).toBe(true)
    clock.advance(31)
    await server.app.scheduler.runOnce()
    expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'READY', attempts: 1 })

    const ranAgain = deferred()
    const second = connect(agent).worker({
      handlers: {
        send_email: (_params, context) => {
          contexts.push(context)
          ranAgain.resolve()
          return 'from the new worker'
        },
      },
    })
    await ranAgain.promise
    await second.stop()
    expect(contexts.map((c) => [c.requestId, c.attempt])).toEqual([
      [id, 1],
      [id, 2],
    ])
    expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: 'from the new worker' })

    // the old handler finally returns: its report is refused, and nothing changes
    release.resolve()
    await reportRefused.promise
    expect((await readRequest(server, agent.token, id)).execution).toMatchObject({ status: 'SUCCEEDED', attempts: 2, result: 'from the new worker' })
  })
})

describe('worker().submit()', () => {
  it('asks and returns at once; the worker runs the action once approved; submitting again with the key asks nothing twice', async () => {
    const agent = await createAgent(server, boss.id)
    const module = await gatedModule(server, reviewer.id)
    const seen = counter()
    const listening = server.subscribed('approvedActions')
    const worker = connect(agent).worker({ handlers: { send_email: (params, context) => (seen.record(params, context), { messageId: `m-${context.requestId}` }) } })
    await listening

    const submitted = await worker.submit('send_email', email('lead-1'), { idempotencyKey: 'outreach:lead-1', module, summary: 'Email lead 1' })
    expect(submitted).toMatchObject({ approvalRequired: true, request: { status: 'PENDING', execution: null } })
    const id = submitted.approvalRequired ? submitted.request.id : ''
    expect(seen.calls).toEqual([])
    const again = await worker.submit('send_email', email('lead-1'), { idempotencyKey: 'outreach:lead-1', module, summary: 'Email lead 1' })
    expect(again.approvalRequired && again.request.id).toBe(id)

    await decideOk(server, reviewer, id, 'approveRequest')
    await seen.reached(1)
    await worker.stop()
    expect(seen.calls.map((c) => [c.params, c.context.requestId])).toEqual([[email('lead-1'), id]])
    const after = await readRequest(server, agent.token, id)
    expect(after.execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { messageId: `m-${id}` } })
    // a restarted agent going through its plan again: the same request, already run
    const resubmitted = await connect(agent).worker({ handlers: { send_email: () => seen.record('again', {} as ExecutionContext) } }).submit('send_email', email('lead-1'), {
      idempotencyKey: 'outreach:lead-1',
      module,
      summary: 'Email lead 1',
    })
    expect(resubmitted).toMatchObject({ approvalRequired: true, request: { id, status: 'APPROVED', execution: { status: 'SUCCEEDED' } } })
    expect(seen.calls).toHaveLength(1)
  })

  it('no rule gates the action: the handler runs at once and submit returns its value; a rejected one never runs', async () => {
    const agent = await createAgent(server, boss.id)
    const module = await gatedModule(server, reviewer.id)
    const seen = counter()
    const worker = connect(agent).worker({ handlers: { send_email: (params, context) => (seen.record(params, context), 'sent now') } })
    expect(await worker.submit('send_email', email('free'), { module: 'ungated-submit' })).toEqual({ approvalRequired: false, result: 'sent now' })
    expect(seen.calls.map((c) => [c.params, c.context.requestId])).toEqual([[email('free'), null]])

    const submitted = await worker.submit('send_email', email('no'), { module })
    const id = submitted.approvalRequired ? submitted.request.id : ''
    await decideOk(server, reviewer, id, 'rejectRequest', 'Not this one')
    expect(await readRequest(server, agent.token, id)).toMatchObject({ status: 'REJECTED', execution: null })
    await worker.stop()
    expect(seen.calls).toHaveLength(1)
    await expect(worker.submit('send_email', email('late'), { module })).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(connect(agent).worker({ handlers: { other: () => 1 } }).submit('send_email', email('x'))).rejects.toMatchObject({ code: 'BAD_USER_INPUT' })
  })
})
