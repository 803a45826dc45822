// @approvals/sdk/openai-agents: the OpenAI Agents SDK (`@openai/agents`) adapter.
//
// approvalTool() builds a function tool whose `needsApproval` asks the service: no rule matches,
// or the request is already approved, and the tool runs at once; otherwise the run stops with the
// framework's tool approval item (an interruption). resolveInterruptions() finds each
// interruption's request again (same idempotency key, same input: the service returns the same
// request), waits for its decision and approves or rejects the item in the run state; the caller
// then runs the state again, in this process or, from `state.toString()`, in another one. The
// tool's `execute` goes through gate(), so an approved call runs once (claimed, digest-checked,
// reported), a second resume of the same state gets the stored result, and nothing runs
// unless the service approved it, whatever the run state says.
import { createHash } from 'node:crypto'
import {
  tool,
  type RunContext,
  type RunState,
  type RunToolApprovalItem,
  type ToolExecuteArgument,
  type ToolInputParameters,
  type ToolOptions,
  type ToolOutputSchema,
  type UnknownContext,
} from '@openai/agents'
import { defaultIdempotencyKey } from '../digest.js'
import { ApprovalCancelledError, ApprovalExpiredError, ApprovalRejectedError, ApprovalsError } from '../errors.js'
import type { ExecutionContext } from '../execution.js'
import { requestApproval, waitForDecision, type AskPayload, type GateOptions } from '../gate.js'
import type { Approvals } from '../index.js'
import type { DecidedRequest } from '../operations.js'
import { transportOf } from '../transport.js'

/** The SDK's client; the one `@approvals/sdk` makes, re-exported for convenience. */
export { createApprovals } from '../index.js'

/** Options of {@link approvalTool}, besides `gate()`'s (`module`, `onBehalfOfUserId`, `timeoutMs`, `leaseSeconds`). */
export interface ApprovalToolOptions<INPUT, Context = UnknownContext> extends GateOptions<INPUT> {
  /**
   * One line for the reviewer, e.g. `(input) => \`Email ${input.to}\``. Like `context`, it is
   * sent again with the same idempotency key when the run resumes (the service checks that the
   * input is the same), so it must depend on the input only.
   */
  summary?: (input: INPUT) => string
  /** Anything that helps the reviewer decide, shown next to the params; depends on the input only (see `summary`). */
  context?: (input: INPUT) => unknown
  /**
   * The request's idempotency key, at most 200 characters. By default
   * `openai-agents:<callId>` (the model's tool call id), so that the interruption, its
   * resolution and the execution, in this process or after a restart, all find the same
   * request, and once the action ran, its stored result. Return something else when your
   * model's call ids are not unique across runs, e.g.
   * `(input, { callId, runContext }) => \`${runContext.context.taskId}:${callId}\``; it must give
   * the same key for the same call when the run resumes.
   */
  idempotencyKey?: (input: INPUT, call: { callId: string; runContext: RunContext<Context> }) => string
}

/** What {@link approvalTool} keeps about its tool, for {@link resolveInterruptions}. */
interface GatedTool {
  /** Asks for approval of a tool call (its raw arguments), exactly as `needsApproval` and `execute` do. */
  ask(rawArguments: string, callId: string, runContext: RunContext<any>, signal?: AbortSignal): Promise<AskPayload>
}

// keyed by the tool's invoke function: the tool object may be copied (agent.clone(), a spread)
const gatedTools = new WeakMap<object, GatedTool>()
const executionContexts = new WeakMap<object, ExecutionContext>()

const MAX_KEY_LENGTH = 200

/** `openai-agents:<callId>`, or a digest of it when that would be longer than the API accepts. */
function toolCallKey(callId: string): string {
  const key = `openai-agents:${callId}`
  return key.length <= MAX_KEY_LENGTH ? key : `openai-agents:sha256:${createHash('sha256').update(callId).digest('hex')}`
}

/** What the model is told when the service declined a call: the errors' own words ("Rejected by Rita: ..."). */
function declineMessage(request: DecidedRequest): string {
  switch (request.status) {
    case 'REJECTED':
      return new ApprovalRejectedError(request.id, request.decidedBy?.name ?? null, request.decisionComment).message
    case 'EXPIRED':
      return new ApprovalExpiredError(request.id).message
    default:
      return new ApprovalCancelledError(request.id, request.decisionComment).message
  }
}

const isDecline = (error: unknown): error is ApprovalsError =>
  error instanceof ApprovalRejectedError || error instanceof ApprovalExpiredError || error instanceof ApprovalCancelledError

/**
 * The approval under which an {@link approvalTool}'s `execute` runs: call it with the `details`
 * (third argument) that `execute` received. `requestId` is the same for every attempt at the
 * action (null when no rule gated it), so pass it to the outside system as its idempotency key;
 * `attempt` counts the attempts; `signal` aborts when the execution's lease is lost, the client
 * closes, or the run is cancelled. Undefined when `execute` was not called through
 * {@link approvalTool}.
 *
 * @example
 * ```ts
 * execute: (email, _runContext, details) => mailer.send(email, { idempotencyKey: approvalContext(details)?.requestId })
 * ```
 */
export function approvalContext(details: object | undefined): ExecutionContext | undefined {
  return details ? executionContexts.get(details) : undefined
}

/**
 * Builds a function tool, exactly as the framework's `tool(toolOptions)` does, gated by the
 * approvals service as action `actionType` with the tool's input as params:
 *
 * - `needsApproval` asks the service (`requestApproval`, idempotency key from the tool call id,
 *   see {@link ApprovalToolOptions.idempotencyKey}). No rule matches, or the request is
 *   already approved: false, the tool runs at once. Otherwise true: the run is interrupted with
 *   the framework's tool approval item, for {@link resolveInterruptions}.
 * - `execute` runs your `execute` through `gate()` with the same key: once approved, exactly
 *   once (claimed, params checked against their digest, its result reported), with the params
 *   as approved; when the action already ran (a second resume of the same state), its stored
 *   result is returned and nothing runs again. A call approved in the run state but not by the
 *   service is not run: the wait happens here (a decline is told to the model as the tool's
 *   result, unless the tool has an `outputSchema`, when the error is thrown).
 *
 * `toolOptions` must not have `needsApproval`: the rules decide. The result is stored as JSON.
 * `approvals` is a client from `createApprovals()`. If the service cannot be reached,
 * `needsApproval` throws and the run fails; nothing runs.
 *
 * @example
 * ```ts
 * const sendEmail = approvalTool(approvals, 'send_email', { name: 'send_email', description: 'Sends an email', parameters: Email, execute: (e) => mailer.send(e) })
 * ```
 */
export function approvalTool<
  TParameters extends ToolInputParameters = undefined,
  Context = UnknownContext,
  Result = string,
  TOutputSchema extends ToolOutputSchema | undefined = undefined,
>(
  approvals: Approvals,
  actionType: string,
  toolOptions: ToolOptions<TParameters, Context, TOutputSchema> & { needsApproval?: never },
  options: ApprovalToolOptions<ToolExecuteArgument<TParameters>, Context> = {},
): ReturnType<typeof tool<TParameters, Context, Result, TOutputSchema>> {
  type Input = ToolExecuteArgument<TParameters>
  const transport = transportOf(approvals)
  if ((toolOptions as { needsApproval?: unknown }).needsApproval !== undefined) {
    throw new ApprovalsError('approvalTool() sets needsApproval itself (the rules decide); remove it from the tool options.', { code: 'BAD_USER_INPUT' })
  }
  const { idempotencyKey, ...gateOptions } = options
  const original = toolOptions.execute as (input: Input, runContext: RunContext<Context>, details?: object) => unknown
  const hasOutputSchema = toolOptions.outputSchema !== undefined

  const keyOf = (input: Input, callId: string | undefined, runContext: RunContext<Context>): string =>
    callId === undefined ? defaultIdempotencyKey() : idempotencyKey ? idempotencyKey(input, { callId, runContext }) : toolCallKey(callId)

  /** Asks as gate() does, with the same options (the service compares the input under one key). */
  const ask = (input: Input, callId: string | undefined, runContext: RunContext<Context>, signal?: AbortSignal): Promise<AskPayload> =>
    requestApproval(transport, actionType, input, { ...gateOptions, idempotencyKey: keyOf(input, callId, runContext) }, signal)

  const needsApproval = async (runContext: RunContext<Context>, input: Input, callId?: string): Promise<boolean> => {
    const { approvalRequired, request } = await ask(input, callId, runContext)
    return approvalRequired && request?.status !== 'APPROVED'
  }

  const execute = async (input: Input, runContext: RunContext<Context>, details?: { toolCall?: { callId?: string }; signal?: AbortSignal }) => {
    const callDetails: object = details ?? {}
    const gated = approvals.gate<Input, unknown>(
      actionType,
      (params, execution) => {
        executionContexts.set(callDetails, execution)
        return original(params, runContext, callDetails)
      },
      gateOptions,
    )
    try {
      return await gated(input, { idempotencyKey: keyOf(input, details?.toolCall?.callId, runContext), signal: details?.signal })
    } catch (error) {
      // declined while it waited here (approved in the run state only): tell the model, as a rejected interruption would
      if (isDecline(error) && !hasOutputSchema) return error.message
      throw error
    }
  }

  const created = tool<TParameters, Context, Result, TOutputSchema>({ ...toolOptions, needsApproval, execute } as ToolOptions<TParameters, Context, TOutputSchema>)

  // the framework's own parser, for resolveInterruptions(): the model's raw arguments to the
  // input needsApproval received (validated and normalised, e.g. strict mode's nulls dropped)
  const parser = tool({
    name: created.name,
    description: created.description,
    parameters: toolOptions.parameters,
    strict: toolOptions.strict,
    execute: (input: unknown) => input,
    errorFunction: null,
  } as ToolOptions<TParameters, Context, undefined>)
  gatedTools.set(created.invoke, {
    async ask(rawArguments, callId, runContext, signal) {
      return ask((await parser.invoke(runContext, rawArguments)) as Input, callId, runContext, signal)
    },
  })
  return created
}

/** How {@link resolveInterruptions} resolved one interruption. */
export interface ResolvedInterruption {
  /** The framework's approval item, now approved or rejected in the run state (or left as it was, when `status` is null). */
  item: RunToolApprovalItem
  /** The approval request it was resolved from; null when no rule gates the call (any more), or when it is not an approvalTool's. */
  requestId: string | null
  /**
   * The service's decision: APPROVED (also when no rule gates the call: it runs at once),
   * REJECTED, EXPIRED or CANCELLED (rejected in the run state; the model is told why). Null:
   * not the call of an {@link approvalTool}, left for you to approve or reject.
   */
  status: 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED' | null
  /** For a decline, what the model is told as the tool's result, e.g. "Rejected by Rita Reviewer: Not to the CEO". */
  message: string | null
}

/** Options of {@link resolveInterruptions}. */
export interface ResolveInterruptionsOptions {
  /** Stops waiting and rejects with `ApprovalAbortedError`; decisions already applied stay applied. */
  signal?: AbortSignal
  /** How long to wait for each decision before rejecting with `ApprovalTimeoutError` (the request stays pending; call again). No limit by default. */
  timeoutMs?: number
  /** Called for each interruption once its request is known, before the wait (e.g. to tell the user where a human decides). */
  onRequest?: (request: { id: string; status: string }, item: RunToolApprovalItem) => void
}

/**
 * Resolves a run's interruptions from the service's decisions: for each approval item of an
 * {@link approvalTool}, finds its request (the same idempotency key and input give the same
 * request), waits for the decision if there is none yet (the `approvalDecision` subscription),
 * and calls `state.approve(item)`, or `state.reject(item, { message })` with the reviewer's
 * name and comment as the message the model receives. Then run the state again:
 * `run(agent, state)`. Other interruptions are left as they are (status null).
 *
 * After a process restart, rebuild the state from `result.state.toString()` with
 * `RunState.fromString(agent, saved)` (the same agent and tools) and call this on it.
 * Decisions are applied as they arrive; if a wait fails (timeout, abort), the first error is
 * thrown once the others are settled.
 *
 * @example
 * ```ts
 * let result = await run(agent, 'Send the quote to the CEO')
 * while (result.interruptions.length > 0) {
 *   await resolveInterruptions(approvals, result)
 *   result = await run(agent, result.state)
 * }
 * ```
 */
export async function resolveInterruptions(
  approvals: Approvals,
  run: RunState<any, any> | { state: RunState<any, any> },
  options: ResolveInterruptionsOptions = {},
): Promise<ResolvedInterruption[]> {
  const transport = transportOf(approvals)
  const state: RunState<any, any> = 'state' in run ? run.state : run
  const { signal, timeoutMs, onRequest } = options

  const resolveOne = async (item: RunToolApprovalItem): Promise<ResolvedInterruption> => {
    const raw = item.rawItem
    const gated =
      raw.type === 'function_call'
        ? item.agent.tools.map((t) => (t.type === 'function' && t.name === raw.name ? gatedTools.get(t.invoke) : undefined)).find(Boolean)
        : undefined
    if (raw.type !== 'function_call' || !gated) return { item, requestId: null, status: null, message: null }

    const { approvalRequired, request } = await gated.ask(raw.arguments, raw.callId, state._context, signal)
    if (!approvalRequired || !request) {
      state.approve(item)
      return { item, requestId: null, status: 'APPROVED', message: null }
    }
    onRequest?.({ id: request.id, status: request.status }, item)
    const decided = request.status === 'PENDING' ? await waitForDecision(transport, request.id, { signal, timeoutMs }) : request
    if (decided.status === 'APPROVED') {
      state.approve(item)
      return { item, requestId: decided.id, status: 'APPROVED', message: null }
    }
    if (decided.status === 'PENDING') throw new ApprovalsError(`Unexpected request status ${decided.status}.`, { code: 'INVALID_RESPONSE', requestId: decided.id })
    const message = declineMessage(decided)
    state.reject(item, { message })
    return { item, requestId: decided.id, status: decided.status, message }
  }

  const settled = await Promise.allSettled(state.getInterruptions().map(resolveOne))
  const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<ResolvedInterruption>).value)
}
