// @approvals/sdk/ai: the Vercel AI SDK (`ai` v7) adapter. gateTool() wraps a tool's execute in
// gate(), so that when the model calls the tool its execution waits for the service's decision,
// then runs once with the approved params. Only types come from `ai`: nothing of it is loaded.
import { createHash } from 'node:crypto'
import type { Tool, ToolExecuteFunction, ToolExecutionOptions } from 'ai'
import type { Approvals, ExecutionContext, GateOptions } from '../index.js'

/**
 * A tool the AI SDK runs itself: one with an `execute` function (what `tool({ ..., execute })`
 * returns). Provider-executed tools cannot be gated: the provider runs them, not your code.
 */
export type GateableTool = Tool<any, any, any> & { execute: ToolExecuteFunction<any, any, any> }

/** The input `execute` of tool `T` receives (after the AI SDK validated it against `inputSchema`). */
export type ToolInputOf<T extends GateableTool> = Parameters<T['execute']>[0]

/** The options `execute` of tool `T` receives: `toolCallId`, `messages`, `abortSignal`, `context`. */
export type ToolOptionsOf<T extends GateableTool> = Parameters<T['execute']>[1]

/**
 * Options of {@link gateTool}. Besides these, those of `gate()` apply: `module`,
 * `onBehalfOfUserId`, `timeoutMs`, `leaseSeconds`.
 */
export interface GateToolOptions<INPUT, OPTIONS = ToolExecutionOptions<unknown>> extends Omit<GateOptions<INPUT>, 'summary' | 'context'> {
  /** One line for the reviewer, e.g. `(input) => \`Email ${input.to}\``. */
  summary?: (input: INPUT, options: OPTIONS) => string
  /**
   * Anything that helps the reviewer decide, shown next to the params; e.g. the conversation:
   * `(input, { messages }) => ({ messages })`. Nothing is sent unless you say so.
   */
  context?: (input: INPUT, options: OPTIONS) => unknown
  /**
   * The request's idempotency key, at most 200 characters. By default `ai-sdk:<toolCallId>`, so
   * that executing the same tool call again (a retried step, a resumed workflow) finds the
   * request it made before, and once the action ran, returns its result without running it
   * again. Return something else when your provider's tool call ids are not unique across
   * conversations, e.g. `(input, { toolCallId }) => \`${chatId}:${toolCallId}\``.
   */
  idempotencyKey?: (input: INPUT, options: OPTIONS) => string
  /** Called once the request exists and the wait starts, e.g. to tell the user where a human decides. */
  onRequest?: (request: { id: string; status: string }, toolCall: { toolCallId: string; input: INPUT }) => void
}

const MAX_KEY_LENGTH = 200

/** `ai-sdk:<toolCallId>`, or a digest of it when that would be longer than the API accepts. */
function toolCallKey(toolCallId: string): string {
  const key = `ai-sdk:${toolCallId}`
  return key.length <= MAX_KEY_LENGTH ? key : `ai-sdk:sha256:${createHash('sha256').update(toolCallId).digest('hex')}`
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  value != null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'

/** The last value of a streaming execute: what the AI SDK itself takes as the tool's output. */
async function lastValue(values: AsyncIterable<unknown>): Promise<unknown> {
  let last: unknown
  for await (const value of values) last = value
  return last
}

const contexts = new WeakMap<object, ExecutionContext>()

/**
 * The approval under which a gated tool's `execute` runs: call it with the `options` that
 * `execute` received. `requestId` is the same for every attempt at the action (null when no
 * rule gated it), so pass it to the outside system as its idempotency key; `attempt` counts
 * the attempts. Undefined when `execute` was not called through {@link gateTool}.
 *
 * @example
 * ```ts
 * execute: async (input, options) => mailer.send(input, { idempotencyKey: approvalContext(options)?.requestId })
 * ```
 */
export function approvalContext(options: object): ExecutionContext | undefined {
  return contexts.get(options)
}

/**
 * Gates an AI SDK tool: returns the same tool (same schema, description, input and output
 * types) whose `execute` asks the approvals service for approval of `actionType` with the
 * model's input as params, waits for the decision, and once approved runs the original
 * `execute` exactly once with the params as approved (a reviewer may have edited them). When no
 * rule gates the action it runs at once.
 *
 * A decision other than approval throws, and the AI SDK hands the error to the model as the
 * tool's result (a `tool-error` part; the next step's prompt holds its text):
 * `ApprovalRejectedError` reads "Rejected by <reviewer>: <comment>", so the model learns
 * who said no and why; expired, cancelled and timed-out waits throw their own errors (a timed
 * out request stays pending). The AI SDK's `abortSignal` (and tool timeout) stops the wait, and
 * is passed on to the original `execute`, aborted also when the execution's lease is lost.
 *
 * The request's idempotency key defaults to `ai-sdk:<toolCallId>` (see
 * {@link GateToolOptions.idempotencyKey}). A streaming `execute` (an async generator) is run to
 * its end and its last value is the result; no preliminary results are streamed. The result is
 * stored as JSON.
 *
 * @example
 * ```ts
 * const sendEmail = gateTool(approvals, 'send_email', tool({ inputSchema: emailSchema, execute: (email) => mailer.send(email) }))
 * await generateText({ model, tools: { sendEmail }, prompt, stopWhen: stepCountIs(5) })
 * ```
 */
export function gateTool<T extends GateableTool>(
  approvals: Approvals,
  actionType: string,
  tool: T,
  options: GateToolOptions<ToolInputOf<T>, ToolOptionsOf<T>> = {},
): T {
  type Input = ToolInputOf<T>
  type Options = ToolOptionsOf<T>
  const original = tool.execute
  const { summary, context, idempotencyKey, onRequest, ...gateOptions } = options

  const execute = (input: Input, toolOptions: Options): Promise<unknown> => {
    const gated = approvals.gate<Input, unknown>(
      actionType,
      (params, execution) => {
        const runOptions: Options = { ...toolOptions, abortSignal: execution.signal }
        contexts.set(runOptions, execution)
        const output: unknown = original(params, runOptions)
        return isAsyncIterable(output) ? lastValue(output) : output
      },
      {
        ...gateOptions,
        ...(summary && { summary: (params: Input) => summary(params, toolOptions) }),
        ...(context && { context: (params: Input) => context(params, toolOptions) }),
      },
    )
    return gated(input, {
      idempotencyKey: idempotencyKey ? idempotencyKey(input, toolOptions) : toolCallKey(toolOptions.toolCallId),
      signal: toolOptions.abortSignal,
      onRequest: onRequest && ((request) => onRequest(request, { toolCallId: toolOptions.toolCallId, input })),
    })
  }
  return { ...tool, execute } as T
}
