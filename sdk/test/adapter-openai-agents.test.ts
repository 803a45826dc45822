// @approvals/sdk/openai-agents against a real server and the real framework (`@openai/agents`),
// on the framework's own test model (ScriptedModel: scripted responses, no network, no API key).
// The model calls send_email; the tool is gated by approvalTool(); the run is interrupted, the
// service decides, resolveInterruptions() applies the decision and the run resumes, also in
// another process (sdk/test/fixtures/openai-agent.ts) from the saved state.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, run, RunState, setTracingDisabled, type AgentInputItem } from '@openai/agents'
import { assistantMessage, functionCall, ScriptedModel, type ScriptedModelInput } from '@openai/agents/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { startServer, type TestServer } from '../../server/test/harness.js'
import { approvalContext, approvalTool, createApprovals, resolveInterruptions } from '../src/adapters/openai-agents.js'
import { createApprovals as createPlainApprovals, type Approvals } from '../src/index.js'
import { createAgent, createOwner, decideOk, email, gatedModule, readRequest, type Principal } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/openai-agent.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

let server: TestServer
let reviewer: Principal, bot: Principal
let approvals: Approvals
let folder: string

beforeAll(async () => {
  setTracingDisabled(true)
  server = await startServer()
  reviewer = await createOwner(server, 'Rita Reviewer')
  const boss = await createOwner(server, 'Boss')
  bot = await createAgent(server, boss.id)
  approvals = createApprovals({ url: server.url, token: bot.token })
  folder = mkdtempSync(join(tmpdir(), 'approvals-openai-agents-'))
})
afterAll(async () => {
  await approvals?.close()
  await server?.destroy()
  if (folder) rmSync(folder, { recursive: true, force: true })
})

const Email = z.object({ to: z.string(), subject: z.string(), body: z.string() })

/** A Mailer agent on a scripted model, whose gated send_email tool records each time it really ran. */
function mailer(module: string, script: ScriptedModelInput[]) {
  const sent: { email: unknown; requestId: string | null | undefined }[] = []
  const sendEmail = approvalTool(
    approvals,
    'send_email',
    {
      name: 'send_email',
      description: 'Sends an email.',
      parameters: Email,
      execute: (input, _runContext, details) => {
        sent.push({ email: input, requestId: approvalContext(details)?.requestId })
        return { messageId: `msg-${sent.length}` }
      },
    },
    { module, summary: (input) => `Email ${input.to}` },
  )
  const model = new ScriptedModel(script)
  const agent = new Agent({ name: 'Mailer', instructions: 'Send the emails asked for.', model, tools: [sendEmail] })
  return { agent, model, sent }
}

/** The model calls send_email (call id `callId`) with email(n); after the tool's result it says "Sent.". */
const script = (n: number | string, callId: string): ScriptedModelInput[] => [
  [functionCall('send_email', email(n), { callId })],
  [assistantMessage('Sent.')],
]

/** What the model received as the tool's result in its last call: the input's last item. */
function toolResultSeen(model: ScriptedModel): AgentInputItem | undefined {
  const input = model.lastCall?.request.input
  return Array.isArray(input) ? input.at(-1) : undefined
}

/** The pending requests of `module` in the reviewer's inbox, through the API. */
async function inbox(module: string): Promise<{ id: string; status: string; params: unknown; summary: string }[]> {
  const res = await server.gql(`{ approvalInbox(first: 100) { edges { node { id status module params summary } } } }`, {}, reviewer.token)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.approvalInbox.edges.map((e: { node: { module: string } }) => e.node).filter((n: { module: string }) => n.module === module)
}

/** resolveInterruptions() started; resolves `requestId` once it subscribed to the decision (the wait started). */
function resolving(run: Parameters<typeof resolveInterruptions>[1]) {
  const listening = server.subscribed('approvalDecision')
  let requestId!: string
  const resolved = resolveInterruptions(approvals, run, { onRequest: (request) => (requestId = request.id) })
  resolved.catch(() => {})
  return { resolved, waiting: listening.then(() => requestId) }
}

describe('approvalTool() and resolveInterruptions() (OpenAI Agents SDK)', () => {
  it('approved: the run is interrupted while the request is pending; once approved, the resumed run runs the tool once with the params', async () => {
    const module = await gatedModule(server, reviewer.id)
    const { agent, model, sent } = mailer(module, [...script(1, 'call_ok'), [assistantMessage('Sent again.')]])

    const result = await run(agent, 'Send the quote to the CEO')
    expect(result.interruptions).toHaveLength(1)
    expect(result.interruptions[0]).toMatchObject({ name: 'send_email', rawItem: { callId: 'call_ok' } })
    expect(sent).toEqual([])
    const [pending, ...others] = await inbox(module)
    expect(others).toEqual([])
    expect(pending).toMatchObject({ status: 'PENDING', params: email(1), summary: 'Email ceo@client.test' })
    const saved = result.state.toString()

    const { resolved, waiting } = resolving(result)
    expect(await waiting).toBe(pending!.id)
    await decideOk(server, reviewer, pending!.id, 'approveRequest')
    expect(await resolved).toEqual([{ item: result.interruptions[0], requestId: pending!.id, status: 'APPROVED', message: null }])

    const resumed = await run(agent, result.state)
    expect(resumed.interruptions).toEqual([])
    expect(resumed.finalOutput).toBe('Sent.')
    expect(sent).toEqual([{ email: email(1), requestId: pending!.id }])
    expect(toolResultSeen(model)).toMatchObject({ type: 'function_call_result', callId: 'call_ok', output: { type: 'text', text: '{"messageId":"msg-1"}' } })
    expect(await readRequest(server, bot.token, pending!.id)).toMatchObject({
      status: 'APPROVED',
      execution: { status: 'SUCCEEDED', attempts: 1, result: { messageId: 'msg-1' } },
    })

    // the same interrupted state resumed again (a second process with the saved state): the stored result, nothing runs
    const again = await RunState.fromString(agent, saved)
    expect(await resolveInterruptions(approvals, again)).toMatchObject([{ requestId: pending!.id, status: 'APPROVED' }])
    expect((await run(agent, again)).finalOutput).toBe('Sent again.')
    expect(sent).toHaveLength(1)
    expect(toolResultSeen(model)).toMatchObject({ callId: 'call_ok', output: { type: 'text', text: '{"messageId":"msg-1"}' } })
    expect((await readRequest(server, bot.token, pending!.id)).execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1 })
    model.assertComplete()
  })

  it('rejected with a comment: the tool never runs; the model is told who rejected it and why', async () => {
    const module = await gatedModule(server, reviewer.id)
    const { agent, model, sent } = mailer(module, script(2, 'call_no'))
    const result = await run(agent, 'Send the quote to the CEO')
    expect(result.interruptions).toHaveLength(1)

    const { resolved, waiting } = resolving(result)
    const id = await waiting
    await decideOk(server, reviewer, id, 'rejectRequest', 'Not to the CEO')
    const message = 'Rejected by Rita Reviewer: Not to the CEO'
    expect(await resolved).toEqual([{ item: result.interruptions[0], requestId: id, status: 'REJECTED', message }])

    const resumed = await run(agent, result.state)
    expect(resumed.finalOutput).toBe('Sent.')
    expect(sent).toEqual([])
    expect(toolResultSeen(model)).toEqual({ type: 'function_call_result', name: 'send_email', callId: 'call_no', status: 'completed', output: { type: 'text', text: message } })
    expect(await readRequest(server, bot.token, id)).toMatchObject({ status: 'REJECTED', decisionComment: 'Not to the CEO', execution: null })
    model.assertComplete()
  })

  it('two calls in one turn: each interruption gets its own request\'s decision, and only the approved call runs', async () => {
    const module = await gatedModule(server, reviewer.id)
    const { agent, model, sent } = mailer(module, [
      [functionCall('send_email', email('a'), { callId: 'call_a' }), functionCall('send_email', email('b'), { callId: 'call_b' })],
      [assistantMessage('Done.')],
    ])
    const result = await run(agent, 'Send both quotes')
    expect(result.interruptions.map((item) => item.rawItem)).toMatchObject([{ callId: 'call_a' }, { callId: 'call_b' }])
    const pending = await inbox(module)
    const idOf = (n: string) => pending.find((r) => (r.params as { subject: string }).subject === `Quote ${n}`)!.id
    // decided before the resolution: nothing to wait for
    await decideOk(server, reviewer, idOf('a'), 'rejectRequest', 'Not this one')
    await decideOk(server, reviewer, idOf('b'), 'approveRequest')
    expect(await resolveInterruptions(approvals, result)).toMatchObject([
      { requestId: idOf('a'), status: 'REJECTED', message: 'Rejected by Rita Reviewer: Not this one' },
      { requestId: idOf('b'), status: 'APPROVED', message: null },
    ])
    expect((await run(agent, result.state)).finalOutput).toBe('Done.')
    expect(sent).toEqual([{ email: email('b'), requestId: idOf('b') }])
    const input = model.lastCall!.request.input as AgentInputItem[]
    expect(input.filter((i) => i.type === 'function_call_result')).toMatchObject([
      { callId: 'call_a', output: { type: 'text', text: 'Rejected by Rita Reviewer: Not this one' } },
      { callId: 'call_b', output: { type: 'text', text: '{"messageId":"msg-1"}' } },
    ])
  })

  it('no rule matches: no interruption, the tool runs at once', async () => {
    const { agent, model, sent } = mailer('ungated-openai-agents', script(3, 'call_free'))
    const result = await run(agent, 'Send the quote to the CEO')
    expect(result.interruptions).toEqual([])
    expect(result.finalOutput).toBe('Sent.')
    expect(sent).toEqual([{ email: email(3), requestId: null }])
    expect(toolResultSeen(model)).toMatchObject({ callId: 'call_free', output: { type: 'text', text: '{"messageId":"msg-1"}' } })
    model.assertComplete()
  })

  it('approved in the run state only: the tool waits for the service, and declined there, never runs', async () => {
    const module = await gatedModule(server, reviewer.id)
    const { agent, model, sent } = mailer(module, script(4, 'call_early'))
    const result = await run(agent, 'Send the quote to the CEO')
    const [item] = result.interruptions
    result.state.approve(item!) // the application's own approval, not the service's

    const listening = server.subscribed('approvalDecision')
    const resuming = run(agent, result.state)
    resuming.catch(() => {})
    await listening // the tool's execute waits for the service's decision
    const [pending] = await inbox(module)
    await decideOk(server, reviewer, pending!.id, 'rejectRequest', 'Wrong recipient')
    expect((await resuming).finalOutput).toBe('Sent.')
    expect(sent).toEqual([])
    expect(toolResultSeen(model)).toMatchObject({ callId: 'call_early', output: { type: 'text', text: 'Rejected by Rita Reviewer: Wrong recipient' } })
    expect((await readRequest(server, bot.token, pending!.id)).execution).toBeNull()
  })

  it('refuses a needsApproval of its own, and an object that is not a client', async () => {
    expect(() =>
      approvalTool(approvals, 'send_email', {
        name: 'send_email',
        description: 'Sends an email.',
        parameters: Email,
        execute: () => 'sent',
        // @ts-expect-error the rules decide
        needsApproval: true,
      }),
    ).toThrow(/needsApproval/)
    // anything but a client made by createApprovals() is refused at once, not when a run is to resume
    const fake = { ...approvals } as Approvals
    const refused = { code: 'BAD_USER_INPUT', message: expect.stringMatching(/createApprovals\(\)/) }
    expect(() => approvalTool(fake, 'send_email', { name: 'send_email', description: 'Sends an email.', parameters: Email, execute: () => 'sent' })).toThrow(
      expect.objectContaining(refused),
    )
    const { agent } = mailer('ungated-openai-agents', script(5, 'call_plain'))
    const result = await run(agent, 'Send the quote to the CEO')
    await expect(resolveInterruptions(fake, result)).rejects.toMatchObject(refused)
    // the client of '@approvals/sdk' itself is the same client
    const plain = createPlainApprovals({ url: server.url, token: bot.token })
    expect(() => approvalTool(plain, 'send_email', { name: 'send_email', description: 'Sends an email.', parameters: Email, execute: () => 'sent' })).not.toThrow()
    await plain.close()
  })

  it('after a process restart: one process is interrupted and saves the state; another resolves and resumes it; the tool runs once', { timeout: 60_000 }, async () => {
    const module = await gatedModule(server, reviewer.id)
    const files = { STATE: join(folder, 'state.json'), OUTBOX: join(folder, 'outbox.jsonl') }
    const agentEnv = { URL: server.url, TOKEN: bot.token, MODULE: module, ...files }

    const a = startAgent({ ...agentEnv, PHASE: 'start' })
    expect(await a.exit).toBe(0)
    expect(a.lines).toEqual(['interrupted 1'])
    expect(existsSync(files.OUTBOX)).toBe(false)
    const [pending] = await inbox(module)
    expect(pending).toMatchObject({ status: 'PENDING', params: { to: 'ceo@client.test', subject: 'Quote restart', body: 'Hello' } })

    // a new process picks the saved state up and waits for the decision
    const listening = server.subscribed('approvalDecision')
    const b = startAgent({ ...agentEnv, PHASE: 'resume' })
    await listening
    await decideOk(server, reviewer, pending!.id, 'approveRequest')
    expect(await b.exit).toBe(0)
    const output = `output ${JSON.stringify({ type: 'text', text: `{"messageId":"msg-${b.pid}"}` })}`
    expect(b.lines).toEqual([`waiting ${pending!.id} PENDING`, `resolved APPROVED ${pending!.id}`, output, 'final Sent.'])
    const outbox = () => readFileSync(files.OUTBOX, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
    expect(outbox()).toEqual([{ requestId: pending!.id, email: { to: 'ceo@client.test', subject: 'Quote restart', body: 'Hello' }, pid: b.pid }])

    // the same saved state resumed once more: the stored result, the tool does not run again
    const c = startAgent({ ...agentEnv, PHASE: 'resume' })
    expect(await c.exit).toBe(0)
    expect(c.lines).toEqual([`waiting ${pending!.id} APPROVED`, `resolved APPROVED ${pending!.id}`, output, 'final Sent.'])
    expect(outbox()).toHaveLength(1)
    expect(await readRequest(server, bot.token, pending!.id)).toMatchObject({
      status: 'APPROVED',
      execution: { status: 'SUCCEEDED', attempts: 1, result: { messageId: `msg-${b.pid}` } },
    })
  })
})

/** Runs the fixture in a child process; `exit` resolves with its exit code (its output is shown if it is not 0). */
function startAgent(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    const parts = stdout.split('\n')
    stdout = parts.pop()!
    lines.push(...parts)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (code !== 0) console.error(`--- ${env.PHASE} (exit ${code}) ---\n${lines.join('\n')}\n${stderr}`)
      resolve(code)
    }),
  )
  return { pid: child.pid, lines, exit }
}
