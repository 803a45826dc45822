// @approvals/sdk/ai: a gated AI SDK tool called by the AI SDK's own mock model through
// generateText, against a real server. No network, no API key.
import { generateText, stepCountIs, tool } from 'ai'
import { MockLanguageModelV4 } from 'ai/test'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { startServer, type TestServer } from '../../server/test/harness.js'
import { approvalContext, gateTool, type ToolInputOf } from '../src/adapters/ai.js'
import { ApprovalAbortedError, ApprovalRejectedError, createApprovals, type Approvals } from '../src/index.js'
import { createAgent, createOwner, decideOk, email, gatedModule, readRequest, type Principal } from './helpers.js'

let server: TestServer
let reviewer: Principal, agent: Principal
let approvals: Approvals

beforeAll(async () => {
  server = await startServer()
  reviewer = await createOwner(server, 'Rita Reviewer')
  const boss = await createOwner(server, 'Boss')
  agent = await createAgent(server, boss.id)
  approvals = createApprovals({ url: server.url, token: agent.token })
})
afterAll(async () => {
  await approvals?.close()
  await server?.destroy()
})

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
}

/** The AI SDK's mock model, scripted: first a call of `toolName` with `input`, then a text answer. */
function scriptedModel(toolCallId: string, toolName: string, input: unknown) {
  return new MockLanguageModelV4({
    doGenerate: [
      {
        content: [{ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      },
      {
        content: [{ type: 'text', text: 'Done.' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage,
        warnings: [],
      },
    ],
  })
}

/** A send_email tool recording each run of its execute (params and the approval it ran under). */
function emailTool() {
  const runs: { input: unknown; requestId: string | null | undefined; attempt: number | undefined }[] = []
  const sendEmail = tool({
    description: 'Send an email',
    inputSchema: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
    execute: async (input, options) => {
      const approval = approvalContext(options)
      runs.push({ input, requestId: approval?.requestId, attempt: approval?.attempt })
      return { messageId: `msg-${runs.length}`, to: input.to }
    },
  })
  return { sendEmail, runs }
}

/** The tool message of the model's `call`-th prompt (0-based): what the model got back. */
function toolResultsSeen(model: MockLanguageModelV4, call: number) {
  const prompt = model.doGenerateCalls[call]?.prompt ?? []
  return prompt.flatMap((message) => (message.role === 'tool' ? message.content : []))
}

describe('gateTool() with generateText', () => {
  it('approved: the tool runs once with the params after approval; the model and the result get its output', async () => {
    const module = await gatedModule(server, reviewer.id)
    const { sendEmail, runs } = emailTool()
    let requestId: string | undefined
    const gated = gateTool(approvals, 'send_email', sendEmail, {
      module,
      summary: (input) => `Email ${input.to}`,
      onRequest: (request) => (requestId = request.id),
    })
    // typed: the gated tool has the tool's own type; its options (summary...) get the tool's input type
    expectTypeOf(gated).toEqualTypeOf<typeof sendEmail>()
    expectTypeOf<ToolInputOf<typeof sendEmail>>().toEqualTypeOf<{ to: string; subject: string; body: string }>()
    const model = scriptedModel('call-approved', 'sendEmail', email(1))
    const waiting = server.subscribed('approvalDecision')
    const generation = generateText({ model, tools: { sendEmail: gated }, prompt: 'Send the quote', stopWhen: stepCountIs(3) })
    generation.catch(() => {})

    await waiting
    expect(runs).toEqual([])
    expect(model.doGenerateCalls).toHaveLength(1)
    await decideOk(server, reviewer, requestId!, 'approveRequest')
    const result = await generation

    expect(runs).toEqual([{ input: email(1), requestId, attempt: 1 }])
    expect(result.text).toBe('Done.')
    expect(result.steps[0]!.toolResults).toMatchObject([
      { toolCallId: 'call-approved', toolName: 'sendEmail', input: email(1), output: { messageId: 'msg-1', to: 'ceo@client.test' } },
    ])
    expect(toolResultsSeen(model, 1)).toMatchObject([
      { type: 'tool-result', toolCallId: 'call-approved', output: { type: 'json', value: { messageId: 'msg-1' } } },
    ])
    expect(await readRequest(server, agent.token, requestId!)).toMatchObject({
      status: 'APPROVED',
      execution: { status: 'SUCCEEDED', attempts: 1, result: { messageId: 'msg-1', to: 'ceo@client.test' } },
    })
    const stored = await server.db.prisma.approvalRequest.findFirstOrThrow({ where: { idempotencyKey: 'ai-sdk:call-approved' } })
    expect(stored.summary).toBe('Email ceo@client.test')

    // the same tool call executed again (a retried step) finds the request and its result: nothing runs twice
    const again = await gated.execute(email(1), { toolCallId: 'call-approved', messages: [], context: {} })
    expect(again).toEqual({ messageId: 'msg-1', to: 'ceo@client.test' })
    expect(runs).toHaveLength(1)
  })

  it('rejected with a comment: the tool never runs; the model is told who rejected it and why', async () => {
    const module = await gatedModule(server, reviewer.id)
    const { sendEmail, runs } = emailTool()
    let requestId: string | undefined
    const gated = gateTool(approvals, 'send_email', sendEmail, { module, onRequest: (request) => (requestId = request.id) })
    const model = scriptedModel('call-rejected', 'sendEmail', email(2))
    const waiting = server.subscribed('approvalDecision')
    const generation = generateText({ model, tools: { sendEmail: gated }, prompt: 'Send the quote', stopWhen: stepCountIs(3) })
    generation.catch(() => {})

    await waiting
    await decideOk(server, reviewer, requestId!, 'rejectRequest', 'Not to the CEO')
    const result = await generation

    expect(runs).toEqual([])
    const errors = result.steps[0]!.content.filter((part) => part.type === 'tool-error')
    expect(errors).toHaveLength(1)
    expect(errors[0]!.error).toBeInstanceOf(ApprovalRejectedError)
    expect(errors[0]!.error).toMatchObject({ reviewer: 'Rita Reviewer', comment: 'Not to the CEO', requestId })
    // the model's next prompt carries the rejection as the tool's result
    const seen = toolResultsSeen(model, 1)
    expect(seen).toMatchObject([{ type: 'tool-result', toolCallId: 'call-rejected', output: { type: 'error-text' } }])
    const output = (seen[0] as { output: { value: string } }).output.value
    expect(output).toContain('Rejected by Rita Reviewer: Not to the CEO')
    expect(result.text).toBe('Done.')
    expect(await readRequest(server, agent.token, requestId!)).toMatchObject({ status: 'REJECTED', execution: null })
  })

  it('no rule gates the action: the tool runs at once, without a request', async () => {
    const { sendEmail, runs } = emailTool()
    let asked = false
    const gated = gateTool(approvals, 'send_email', sendEmail, { module: 'ungated-ai', onRequest: () => (asked = true) })
    const model = scriptedModel('call-ungated', 'sendEmail', email(3))
    const result = await generateText({ model, tools: { sendEmail: gated }, prompt: 'Send the quote', stopWhen: stepCountIs(3) })

    expect(asked).toBe(false)
    expect(runs).toEqual([{ input: email(3), requestId: null, attempt: 1 }])
    expect(result.steps[0]!.toolResults).toMatchObject([{ toolCallId: 'call-ungated', output: { messageId: 'msg-1' } }])
    expect(await server.db.prisma.approvalRequest.count({ where: { idempotencyKey: 'ai-sdk:call-ungated' } })).toBe(0)
  })

  it("the AI SDK's abortSignal stops the wait: ApprovalAbortedError, the subscription is closed, nothing ran", async () => {
    const module = await gatedModule(server, reviewer.id)
    const { sendEmail, runs } = emailTool()
    const gated = gateTool(approvals, 'send_email', sendEmail, { module })
    const controller = new AbortController()
    const waiting = server.subscribed('approvalDecision')
    const execution = Promise.resolve(gated.execute(email(4), { toolCallId: 'call-aborted', messages: [], context: {}, abortSignal: controller.signal }))
    execution.catch(() => {})
    await waiting
    controller.abort(new Error('the user closed the chat'))
    await expect(execution).rejects.toBeInstanceOf(ApprovalAbortedError)
    await server.waitForSubscriptionCount(0)
    expect(runs).toEqual([])
  })
})
